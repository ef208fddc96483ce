/* Unit tests: patd.conf parsing (every key, bad values, unknown keys,
 * missing file). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"
#include "harness.h"

static char path[64];

static void
write_conf(const char *text)
{
	FILE *f;

	t_tmpname(path, sizeof(path), "conf.");
	close(mkstemp(path));
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void
cleanup(void)
{
	if (path[0])
		unlink(path);
}

TestSuite(config, .fini = cleanup);

Test(config, defaults_are_documented_values)
{
	struct patd_config c;

	config_defaults(&c);
	cr_assert_str_eq(c.socket, "/run/patd/patd.sock");
	cr_assert_str_eq(c.state_dir, "/var/lib/patd");
	cr_assert_str_eq(c.verify_group, "patd-verify");
	cr_assert_eq(c.max_conns, 512);
	cr_assert_eq(c.max_conns_per_uid, 32);
	cr_assert_eq(c.reserved_conns, 64);
	cr_assert_eq(c.idle_timeout, 30);
	cr_assert_eq(c.idle_exit, 0);
	cr_assert_eq(c.map_size_mb, 1024);
	cr_assert_eq(c.rate_limit_failures, 10);
	cr_assert_eq(c.rate_limit_window, 60);
	cr_assert_eq(c.rhost_failures, 10);
	cr_assert_eq(c.rhost_window, 60);
	cr_assert_eq(c.rhost_ipv6_prefix, 64);
	cr_assert_eq(c.lastuse_flush, 5);
	cr_assert_str_eq(c.login_service, "patd-login");
	cr_assert_str_eq(c.login_pam_dir, "");
	cr_assert(!c.login_allow_fallback, "2FA logins fall back by default");
	cr_assert_eq(c.session_lifetime, 3600);
	cr_assert_eq(c.login_timeout, 120);
	cr_assert_eq(c.login_failures, 5);
	cr_assert_eq(c.login_window, 300);
}

Test(config, every_key_is_read)
{
	struct patd_config c;
	char err[256];

	write_conf("# patd settings\n"
	    "socket = /run/x/p.sock\n"
	    "  state_dir=/srv/patd   # trailing comment\n"
	    "verify_group = web-services\n"
	    "max_conns = 100\n"
	    "max_conns_per_uid = 7\n"
	    "reserved_conns = 9\n"
	    "idle_timeout = 12\n"
	    "idle_exit = 300\n"
	    "map_size_mb = 64\n"
	    "rate_limit_failures = 3\n"
	    "rate_limit_window = 120\n"
	    "rhost_failures = 20\n"
	    "rhost_window = 30\n"
	    "rhost_ipv6_prefix = 56\n"
	    "lastuse_flush = 2\n"
	    "login_service = pat-2fa\n"
	    "login_pam_dir = /etc/patd/pam.d\n"
	    "login_allow_fallback = yes\n"
	    "session_lifetime = 900\n"
	    "login_timeout = 60\n"
	    "login_failures = 3\n"
	    "login_window = 600\n"
	    "\n");
	config_defaults(&c);
	cr_assert_eq(config_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.socket, "/run/x/p.sock");
	cr_assert_str_eq(c.state_dir, "/srv/patd");
	cr_assert_str_eq(c.verify_group, "web-services");
	cr_assert_eq(c.max_conns, 100);
	cr_assert_eq(c.max_conns_per_uid, 7);
	cr_assert_eq(c.reserved_conns, 9);
	cr_assert_eq(c.idle_timeout, 12);
	cr_assert_eq(c.idle_exit, 300);
	cr_assert_eq(c.map_size_mb, 64);
	cr_assert_eq(c.rate_limit_failures, 3);
	cr_assert_eq(c.rate_limit_window, 120);
	cr_assert_eq(c.rhost_failures, 20);
	cr_assert_eq(c.rhost_window, 30);
	cr_assert_eq(c.rhost_ipv6_prefix, 56);
	cr_assert_eq(c.lastuse_flush, 2);
	cr_assert_str_eq(c.login_service, "pat-2fa");
	cr_assert_str_eq(c.login_pam_dir, "/etc/patd/pam.d");
	cr_assert(c.login_allow_fallback);
	cr_assert_eq(c.session_lifetime, 900);
	cr_assert_eq(c.login_timeout, 60);
	cr_assert_eq(c.login_failures, 3);
	cr_assert_eq(c.login_window, 600);
}

static void
expect_bad(const char *text, const char *want)
{
	struct patd_config c, before;
	char err[256], loc[80];

	write_conf(text);
	config_defaults(&c);
	before = c;
	cr_assert_eq(config_load(&c, path, err, sizeof(err)), -EINVAL,
	    "accepted: %s", text);
	snprintf(loc, sizeof(loc), "%s:", path);
	cr_assert(strncmp(err, loc, strlen(loc)) == 0, "no FILE:LINE: %s", err);
	cr_assert(strstr(err, want) != NULL, "'%s' lacks '%s'", err, want);
	cr_assert_eq(memcmp(&c, &before, sizeof(c)), 0,
	    "a bad file changed the settings");
	unlink(path);
}

Test(config, bad_files_name_the_line_and_reason)
{
	expect_bad("max_conns = 10\nfrobnicate = 1\n", ":2: unknown key 'frobnicate'");
	expect_bad("max_conns = lots\n", ":1: max_conns must be a whole number");
	expect_bad("max_conns = 0\n", ":1: max_conns must be a whole number");
	expect_bad("max_conns = 99999999999\n", "max_conns must be");
	expect_bad("idle_timeout = -5\n", "idle_timeout must be");
	expect_bad("socket = relative/path\n", "socket must be an absolute path");
	expect_bad("verify_group = bad group!\n", "verify_group must be a name");
	expect_bad("just some words\n", ":1: expected 'key = value'");
	expect_bad("socket =\n", ":1: socket has no value");
	expect_bad("session_lifetime = 0\n", "session_lifetime must be");
	expect_bad("login_timeout = 1\n", "login_timeout must be");
	expect_bad("login_service = a/b\n", "login_service must be a name");
	expect_bad("login_allow_fallback = 1\n",
	    "login_allow_fallback must be yes or no");
	expect_bad("idle_exit = 1\nidle_exit = 2\n", ":2: idle_exit is set twice");
	expect_bad("rhost_ipv6_prefix = 0\n", "rhost_ipv6_prefix must be a "
	    "whole number from 1 to 128");
	expect_bad("rhost_ipv6_prefix = 129\n", "rhost_ipv6_prefix must be");
	expect_bad("rhost_failures = 0\n", "rhost_failures must be");
	{
		char big[CONFIG_LINE_MAX + 100];

		memset(big, 'a', sizeof(big) - 2);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		expect_bad(big, "line longer than");
	}
}

/* fleet_uri: ldap URIs of one scheme only.  TLS is decided once for the
 * connection, so "ldaps://a ldap://b" would reach b in clear text when a
 * is down. */
Test(config, fleet_uri_is_ldap_of_one_scheme)
{
	struct patd_config c;
	char err[256];

	expect_bad("fleet_uri = ldap://a\n", "fleet_uri needs fleet_base");
	expect_bad("fleet_base = dc=x\nfleet_uri = ldaps://a ldap://b\n",
	    "fleet_uri mixes ldaps:// and ldap://");
	expect_bad("fleet_base = dc=x\nfleet_uri = ldap://a,LDAPS://b\n",
	    "fleet_uri mixes ldap:// and ldaps://");
	expect_bad("fleet_base = dc=x\nfleet_uri = http://a\n",
	    "'http://a' is not an ldap://, ldaps:// or ldapi:// URI");
	expect_bad("fleet_base = dc=x\nfleet_uri = ldap.example.org\n",
	    "'ldap.example.org' is not an ldap://");
	expect_bad("fleet_base = dc=x\nfleet_uri = ldaps://a b\n",
	    "'b' is not an ldap://");
	/* the control: one scheme, one or several providers */
	write_conf("fleet_base = dc=x\nfleet_uri = ldaps://a:636 "
	    "ldaps://b\n");
	config_defaults(&c);
	cr_assert_eq(config_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.fleet_uri, "ldaps://a:636 ldaps://b");
	unlink(path);
	write_conf("fleet_base = dc=x\nfleet_uri = ldap://a,ldap://b\n");
	config_defaults(&c);
	cr_assert_eq(config_load(&c, path, err, sizeof(err)), 0, "%s", err);
	unlink(path);
}

Test(config, a_missing_file_is_enoent)
{
	struct patd_config c;
	char err[256];

	config_defaults(&c);
	cr_assert_eq(config_load(&c, "/nonexistent/patd.conf", err,
	    sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/patd.conf") != NULL);
}

Test(config, flags_use_the_same_checks)
{
	struct patd_config c;
	char err[256];

	config_defaults(&c);
	cr_assert_eq(config_set(&c, "max_conns", "9", err, sizeof(err)), 0);
	cr_assert_eq(c.max_conns, 9);
	cr_assert_eq(config_set(&c, "max_conns", "x", err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_set(&c, "nope", "1", err, sizeof(err)), -ENOENT);
}
