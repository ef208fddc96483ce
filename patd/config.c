/* config.c - patd.conf and defaults; see config.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conffile.h"
#include "config.h"
#include "proto.h"

enum kind { K_PATH, K_NAME, K_UINT, K_BOOL, K_TEXT };

static const struct key {
	const char	*name;
	enum kind	 kind;
	size_t		 off;
	size_t		 size;		/* strings: buffer size */
	unsigned	 min, max;	/* numbers */
} keys[] = {
#define S(n, k, f) { n, k, offsetof(struct patd_config, f), \
	sizeof(((struct patd_config *)0)->f), 0, 0 }
#define U(n, f, lo, hi) { n, K_UINT, offsetof(struct patd_config, f), 0, lo, hi }
#define B(n, f) { n, K_BOOL, offsetof(struct patd_config, f), 0, 0, 0 }
	S("socket", K_PATH, socket),
	S("state_dir", K_PATH, state_dir),
	S("verify_group", K_NAME, verify_group),
	U("max_conns", max_conns, 1, 65536),
	U("max_conns_per_uid", max_conns_per_uid, 1, 65536),
	U("reserved_conns", reserved_conns, 0, 65536),
	U("idle_timeout", idle_timeout, 1, 86400),
	U("idle_exit", idle_exit, 0, 86400 * 365),
	U("map_size_mb", map_size_mb, 1, 1u << 20),
	U("rate_limit_failures", rate_limit_failures, 1, 1000000),
	U("rate_limit_window", rate_limit_window, 1, 86400),
	U("rhost_failures", rhost_failures, 1, 1000000),
	U("rhost_window", rhost_window, 1, 86400),
	U("rhost_ipv6_prefix", rhost_ipv6_prefix, 1, 128),
	U("lastuse_flush", lastuse_flush, 1, 3600),
	S("login_service", K_NAME, login_service),
	S("login_pam_dir", K_PATH, login_pam_dir),
	B("login_allow_fallback", login_allow_fallback),
	U("session_lifetime", session_lifetime, 1, 7 * 86400),
	U("login_timeout", login_timeout, 5, 3600),
	U("login_failures", login_failures, 1, 1000),
	U("login_window", login_window, 1, 86400),
	U("max_token_depth", max_token_depth, 1, 1000),
	U("max_tokens_per_user", max_tokens_per_user, 1, 100000000),
	U("max_children_per_token", max_children_per_token, 1, 100000000),
	U("create_limit", create_limit, 1, 100000000),
	U("create_window", create_window, 1, 86400),
	U("retention_days", retention_days, 0, 36500),
	U("rotation_grace", rotation_grace, 0, 7 * 86400),
	U("store_reserve_mb", store_reserve_mb, 0, 1u << 19),
	U("log_refusals", log_refusals, 1, 1000000),
	S("fleet_uri", K_TEXT, fleet_uri),
	S("fleet_base", K_TEXT, fleet_base),
	S("fleet_bind_dn", K_TEXT, fleet_bind_dn),
	S("fleet_bind_password_file", K_PATH, fleet_bind_password_file),
	S("fleet_tls_cacert", K_PATH, fleet_tls_cacert),
	S("fleet_tls_cert", K_PATH, fleet_tls_cert),
	S("fleet_tls_key", K_PATH, fleet_tls_key),
	U("fleet_retry", fleet_retry, 1, 3600),
	S("fleet_lastuse_base", K_TEXT, fleet_lastuse_base),
	U("fleet_lastuse_interval", fleet_lastuse_interval, 1, 3600),
#undef S
#undef U
#undef B
};

void
config_defaults(struct patd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket, sizeof(c->socket), "/run/patd/patd.sock");
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/patd");
	snprintf(c->verify_group, sizeof(c->verify_group), "patd-verify");
	c->max_conns = 512;
	c->max_conns_per_uid = 32;
	c->reserved_conns = 64;
	c->idle_timeout = 30;
	c->idle_exit = 0;
	c->map_size_mb = 1024;
	c->rate_limit_failures = 10;
	c->rate_limit_window = 60;
	c->rhost_failures = 10;
	c->rhost_window = 60;
	c->rhost_ipv6_prefix = 64;
	c->lastuse_flush = 5;
	snprintf(c->login_service, sizeof(c->login_service), "patd-login");
	c->session_lifetime = 3600;
	c->login_timeout = 120;
	c->login_failures = 5;
	c->login_window = 300;
	c->max_token_depth = 16;
	c->max_tokens_per_user = 500;
	c->max_children_per_token = 200;
	c->create_limit = 120;
	c->create_window = 3600;
	c->retention_days = 90;
	c->store_reserve_mb = 16;
	c->log_refusals = 100;
	c->fleet_retry = 5;
	snprintf(c->fleet_lastuse_base, sizeof(c->fleet_lastuse_base),
	    "cn=pat-lastuse");
	c->fleet_lastuse_interval = 60;
}

static const struct key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

int
config_set(struct patd_config *c, const char *key, const char *value,
    char *err, size_t errlen)
{
	const struct key *k = find_key(key);
	unsigned long long v;
	size_t i;
	char *dst;

	if (k == NULL) {
		snprintf(err, errlen, "unknown key '%.64s'", key);
		return -ENOENT;
	}
	dst = (char *)c + k->off;
	switch (k->kind) {
	case K_PATH:
		if (value[0] != '/' || strlen(value) >= k->size) {
			snprintf(err, errlen, "%s must be an absolute path "
			    "shorter than %zu bytes", key, k->size);
			return -EINVAL;
		}
		memcpy(dst, value, strlen(value) + 1);
		return 0;
	case K_NAME:
		if (strlen(value) >= k->size || strspn(value,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-") != strlen(value)) {
			snprintf(err, errlen, "%s must be a name (letters, "
			    "digits, '.', '_', '-')", key);
			return -EINVAL;
		}
		memcpy(dst, value, strlen(value) + 1);
		return 0;
	case K_TEXT:	/* a URI or DN: printable, no spaces at the ends */
		for (i = 0; value[i]; i++)
			if (value[i] < 0x20 || value[i] > 0x7e)
				break;
		if (value[i] || i == 0 || i >= k->size || value[0] == ' ' ||
		    value[i - 1] == ' ') {
			snprintf(err, errlen, "%s must be printable text "
			    "shorter than %zu bytes", key, k->size);
			return -EINVAL;
		}
		memcpy(dst, value, i + 1);
		return 0;
	case K_UINT:
		if (pat_parse_u64(value, k->max, &v) < 0 || v < k->min) {
			snprintf(err, errlen, "%s must be a whole number from "
			    "%u to %u", key, k->min, k->max);
			return -EINVAL;
		}
		*(unsigned *)(void *)dst = (unsigned)v;
		return 0;
	case K_BOOL:
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
			snprintf(err, errlen, "%s must be yes or no", key);
			return -EINVAL;
		}
		*(bool *)(void *)dst = strcmp(value, "yes") == 0;
		return 0;
	}
	return -EINVAL;
}

/* pat_conf_read's callback: one pair into the copy being filled. */
static int
set_pair(void *arg, const char *key, const char *value, char *why,
    size_t whylen)
{
	return config_set(arg, key, value, why, whylen);
}

/* fleet_uri: every URI ldap://, ldaps:// or ldapi://, all of one scheme.
 * TLS is set up once for the connection (StartTLS unless ldaps), so a
 * list mixing ldaps:// with ldap:// would bind in clear text whenever
 * libldap fell over to an ldap:// one.  0, or -EINVAL with why. */
static int
check_fleet_uri(const char *list, char *why, size_t whylen)
{
	char first[8] = "", scheme[8];
	const char *p = list, *e;
	size_t n;

	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		n = strcspn(p, " \t,");
		e = strstr(p, "://");
		if (e == NULL || e > p + n || (size_t)(e - p) >= sizeof(scheme)) {
			snprintf(why, whylen, "fleet_uri: '%.*s' is not an "
			    "ldap://, ldaps:// or ldapi:// URI", (int)(n > 80 ?
			    80 : n), p);
			return -EINVAL;
		}
		memcpy(scheme, p, (size_t)(e - p));
		scheme[e - p] = '\0';
		for (char *q = scheme; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		if (strcmp(scheme, "ldap") && strcmp(scheme, "ldaps") &&
		    strcmp(scheme, "ldapi")) {
			snprintf(why, whylen, "fleet_uri: '%.*s' is not an "
			    "ldap://, ldaps:// or ldapi:// URI", (int)(n > 80 ?
			    80 : n), p);
			return -EINVAL;
		}
		if (first[0] == '\0')
			memcpy(first, scheme, sizeof(first));
		else if (strcmp(first, scheme) != 0) {
			snprintf(why, whylen, "fleet_uri mixes %s:// and "
			    "%s://: use one scheme for every provider (TLS is "
			    "decided once, so an ldap:// one would be reached "
			    "without it)", first, scheme);
			return -EINVAL;
		}
		p += n;
	}
	return 0;
}

int
config_load(struct patd_config *c, const char *path, char *err, size_t errlen)
{
	struct patd_config next = *c;
	int r;

	r = pat_conf_read(path, CONFIG_LINE_MAX, set_pair, &next, err, errlen);
	if (r == 0 && next.fleet_uri[0] != '\0' && next.fleet_base[0] == '\0') {
		snprintf(err, errlen, "%s: fleet_uri needs fleet_base", path);
		return -EINVAL;
	}
	if (r == 0 && next.fleet_uri[0] != '\0') {
		char why[200];

		if (check_fleet_uri(next.fleet_uri, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", path, why);
			return -EINVAL;
		}
	}
	if (r == 0 && next.fleet_bind_dn[0] != '\0' &&
	    next.fleet_bind_password_file[0] == '\0') {
		snprintf(err, errlen, "%s: fleet_bind_dn needs "
		    "fleet_bind_password_file", path);
		return -EINVAL;
	}
	if (r == 0)
		*c = next;
	return r;
}
