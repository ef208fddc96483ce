/*
 * Issue 14, item 2: binding.  A token created with --from CIDR,... verifies
 * only when the verifier's rhost= is an address inside one of them (none
 * given, or a host name: refused); with --service NAME,... only when its
 * service= is one of them.  Children inherit the binding and may only
 * narrow it.  Through a real patd, patctl, and pam_pat.so under libpam.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <lmdb.h>

#include "bind.h"
#include "harness.h"

static struct tpatd t;

static void
setup(void)
{
	t_start(&t, NULL);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(binding, .init = setup, .fini = teardown, .timeout = 90);

/* Root creates a token for alice with the extra create arguments. */
static char *
bound(const char *args)
{
	char *out = NULL, *err = NULL;
	int rc = t_ctl(&t, 0, NULL, &out, &err, "create --user alice "
	    "--role ssh %s", args);

	cr_assert_eq(rc, 0, "create %s: %s", args, err);
	out[strcspn(out, "\n")] = '\0';
	free(err);
	return out;
}

/* VERIFY as root with the extra fields; "OK" or the code= (malloc'd). */
static char *
verify(const char *tok, const char *fields)
{
	char req[512], *line, *code;

	snprintf(req, sizeof(req), "VERIFY token=%s %s\n", tok, fields);
	line = t_ask(&t, req);
	cr_assert_not_null(line, "environment: patd is not there");
	if (strncmp(line, "OK", 2) == 0) {
		free(line);
		return strdup("OK");
	}
	code = t_field(line, "ERR", "code");
	cr_assert_not_null(code, "no code in %s", line);
	free(line);
	return code;
}

#define VERDICT(tok, fields, want) do {					\
	char *v_ = verify(tok, fields);					\
	cr_expect_str_eq(v_, want, "VERIFY %s: %s, expected %s",	\
	    fields, v_, want);						\
	free(v_);							\
} while (0)

Test(binding, from_ipv4_only_inside_the_networks)
{
	char *tok = bound("--from 10.0.0.0/8,192.0.2.7");

	VERDICT(tok, "rhost=10.1.2.3", "OK");
	VERDICT(tok, "rhost=192.0.2.7", "OK");
	VERDICT(tok, "rhost=[10.9.9.9]:22", "OK");
	VERDICT(tok, "rhost=::ffff:10.1.2.3", "OK");	/* mapped is IPv4 */
	VERDICT(tok, "rhost=11.0.0.1", "binding");
	VERDICT(tok, "rhost=192.0.2.8", "binding");
	VERDICT(tok, "rhost=::ffff:11.0.0.1", "binding");
	VERDICT(tok, "rhost=2001:db8::1", "binding");
	t_free(tok);
}

Test(binding, from_ipv6)
{
	char *tok = bound("--from 2001:db8:1::/48");

	VERDICT(tok, "rhost=2001:db8:1:ffff::5", "OK");
	VERDICT(tok, "rhost=[2001:db8:1::1]:443", "OK");
	VERDICT(tok, "rhost=2001:db8:2::1", "binding");
	VERDICT(tok, "rhost=10.0.0.1", "binding");
	t_free(tok);
}

Test(binding, an_unknown_address_is_refused)
{
	char *tok = bound("--from 10.0.0.0/8"), *free_tok = bound("");

	VERDICT(tok, "", "binding");			/* no rhost= */
	VERDICT(tok, "rhost=host.example.org", "binding");	/* a name */
	VERDICT(tok, "rhost=10.0.0.1.example.org", "binding");
	VERDICT(free_tok, "", "OK");			/* unbound: as before */
	VERDICT(free_tok, "rhost=host.example.org", "OK");
	t_free(tok);
	t_free(free_tok);
}

Test(binding, service_only_the_named_ones)
{
	char *tok = bound("--service sshd,http:api.example.org");

	VERDICT(tok, "service=sshd", "OK");
	VERDICT(tok, "service=http:api.example.org rhost=203.0.113.9", "OK");
	VERDICT(tok, "service=su", "binding");
	VERDICT(tok, "service=http:api.example.org.evil", "binding");
	VERDICT(tok, "", "binding");			/* no service= */
	t_free(tok);
}

Test(binding, both_must_hold)
{
	char *tok = bound("--from 10.0.0.0/8 --service sshd");

	VERDICT(tok, "service=sshd rhost=10.0.0.1", "OK");
	VERDICT(tok, "service=sshd rhost=11.0.0.1", "binding");
	VERDICT(tok, "service=su rhost=10.0.0.1", "binding");
	t_free(tok);
}

Test(binding, bad_networks_are_refused_at_create)
{
	const char *bad[] = { "10.1.2.3/8", "2001:db8::1/32", "10.0.0.0/33",
		"10.0.0.0/", "nohost", "10.0.0.0/8,", ",10.0.0.0/8",
		"::ffff:10.0.0.0/104",
		"1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,6.0.0.0/8,"
		"7.0.0.0/8,8.0.0.0/8,9.0.0.0/8" };
	char *err = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_expect_eq(t_ctl(&t, 0, NULL, NULL, &err, "create --user "
		    "alice --role ssh --from '%s'", bad[i]), 2,
		    "--from %s was taken", bad[i]);
		t_free(err);
		err = NULL;
	}
	cr_expect_eq(t_ctl(&t, 0, NULL, NULL, &err, "create --user alice "
	    "--role ssh --from 10.1.2.3/8"), 2);
	cr_expect(strstr(err, "host bits") != NULL, "says why: %s", err);
	t_free(err);
	cr_expect_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create --user alice "
	    "--role ssh --service 'a b'"), 2);
	cr_expect_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create --user alice "
	    "--role ssh --service sshd,,su"), 2);
}

Test(binding, show_lists_it_and_json_too)
{
	char *tok = bound("--from 10.0.0.0/8,2001:db8::/32 --service sshd");
	char *out = NULL, *id;

	id = strndup(tok, strcspn(tok, "|"));
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "show %s", id), 0);
	cr_expect(strstr(out, "10.0.0.0/8,2001:db8::/32") != NULL, "%s", out);
	cr_expect(strstr(out, "sshd") != NULL, "%s", out);
	cr_expect(strstr(out, "pat-") == NULL, "no secret in show");
	free(out);
	out = NULL;
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json show %s", id), 0);
	cr_expect(strstr(out, "\"bind_from\":[\"10.0.0.0/8\","
	    "\"2001:db8::/32\"]") != NULL, "%s", out);
	cr_expect(strstr(out, "\"bind_service\":[\"sshd\"]") != NULL, "%s",
	    out);
	free(out);
	free(id);
	t_free(tok);
}

/* alice creates a child of parent with args; exit status, *out its token
 * (may be NULL). */
static int
child(const char *parent, const char *args, char **out, char **err)
{
	return t_ctl(&t, 1001, parent, out, err, "create --role ssh "
	    "--parent-from-stdin %s", args);
}

Test(binding, children_inherit_and_only_narrow)
{
	char *tok, *kid = NULL, *err = NULL;

	t_need_root();
	tok = bound("--from 10.0.0.0/8,2001:db8::/32 --service sshd,su");
	/* nothing given: inherited whole */
	cr_assert_eq(child(tok, "", &kid, &err), 0, "%s", err);
	kid[strcspn(kid, "\n")] = '\0';
	VERDICT(kid, "service=sshd rhost=10.1.1.1", "OK");
	VERDICT(kid, "service=sshd rhost=11.1.1.1", "binding");
	VERDICT(kid, "service=sudo rhost=10.1.1.1", "binding");
	t_free(kid);
	t_free(err);
	kid = err = NULL;
	/* narrower: taken */
	cr_assert_eq(child(tok, "--from 10.5.0.0/16,2001:db8:7::/48 "
	    "--service su", &kid, &err), 0, "%s", err);
	kid[strcspn(kid, "\n")] = '\0';
	VERDICT(kid, "service=su rhost=10.5.1.1", "OK");
	VERDICT(kid, "service=su rhost=10.6.1.1", "binding");
	VERDICT(kid, "service=sshd rhost=10.5.1.1", "binding");
	t_free(kid);
	t_free(err);
	kid = err = NULL;
	/* wider or elsewhere: refused */
	cr_expect_neq(child(tok, "--from 0.0.0.0/0", NULL, NULL), 0);
	cr_expect_neq(child(tok, "--from 10.0.0.0/7", NULL, NULL), 0);
	cr_expect_neq(child(tok, "--from 2001:db8::/31", NULL, NULL), 0);
	cr_expect_neq(child(tok, "--from 10.0.0.0/8,192.0.2.1", NULL, NULL), 0);
	cr_expect_neq(child(tok, "--service sshd,sudo", NULL, NULL), 0);
	cr_expect_eq(child(tok, "--service sshd --from 10.0.0.0/8", NULL, &err),
	    0, "the same binding is no widening: %s", err);
	t_free(err);
	err = NULL;
	/* and the refusal names the parent's networks, not a secret */
	cr_expect_neq(child(tok, "--from 11.0.0.0/8", NULL, &err), 0);
	cr_expect(strstr(err, "narrow") != NULL, "%s", err);
	cr_expect(strstr(err, "pat-") == NULL, "no secret: %s", err);
	t_free(err);
	t_free(tok);
}

Test(binding, through_pam_with_pam_rhost)
{
	char *tok, *res;

	t_need_root();
	tok = bound("--from 10.0.0.0/8,2001:db8::/32 --service sshd");
	res = t_pam_login(&t, "sshd", "alice", tok, "--rhost 10.2.3.4");
	cr_expect_str_eq(res, "PAM_SUCCESS");
	free(res);
	res = t_pam_login(&t, "sshd", "alice", tok, "--rhost 2001:db8::9");
	cr_expect_str_eq(res, "PAM_SUCCESS");
	free(res);
	res = t_pam_login(&t, "sshd", "alice", tok, "--rhost 198.51.100.1");
	cr_expect_str_eq(res, "PAM_AUTH_ERR", "a refusal, not unavailable");
	free(res);
	res = t_pam_login(&t, "sshd", "alice", tok, NULL);
	cr_expect_str_eq(res, "PAM_AUTH_ERR", "no PAM_RHOST: refused");
	free(res);
	res = t_pam_login(&t, "sshd", "alice", tok, "--rhost somehost");
	cr_expect_str_eq(res, "PAM_AUTH_ERR", "a host name: refused");
	free(res);
	res = t_pam_login(&t, "login", "alice", tok, "--rhost 10.2.3.4");
	cr_expect_str_eq(res, "PAM_AUTH_ERR", "another service: refused");
	free(res);
	t_free(tok);
}

/* A record written before issue 14 ends after cap: cut the binding off a
 * stored record, offline, and it loads as unbound (and verifies as
 * before); a record cut inside the binding is corrupt, not unbound. */
static void
cut_record(unsigned long long id, size_t strings_off)
{
	char path[300];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	unsigned char kb[8], rec[8192];
	MDB_val k = { 8, kb }, v;
	size_t i, n;

	for (i = 0; i < 8; i++)
		kb[i] = (unsigned char)(id >> (56 - 8 * i));
	snprintf(path, sizeof(path), "%s/pat.mdb", t.state);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 32), 0);
	cr_assert_eq(mdb_env_set_mapsize(env, (size_t)1024 << 20), 0);
	cr_assert_eq(mdb_env_open(env, path, MDB_NOSUBDIR, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "tokens", 0, &dbi), 0);
	cr_assert_eq(mdb_get(txn, dbi, &k, &v), 0);
	cr_assert(v.mv_size <= sizeof(rec));
	memcpy(rec, v.mv_data, v.mv_size);
	/* drop the last strings_off NUL-terminated strings */
	for (n = v.mv_size, i = 0; i < strings_off; i++)
		for (n--; n > 0 && rec[n - 1] != '\0'; n--)
			;
	v.mv_size = n;
	v.mv_data = rec;
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

Test(binding, records_from_before_still_load)
{
	char *old = bound("--from 10.0.0.0/8"), *half = bound("--from "
	    "10.0.0.0/8");
	char *out = NULL;

	t_kill9(&t);
	cut_record(1, 3);	/* as written before issue 14 */
	cut_record(2, 1);	/* bind_service gone: corrupt */
	t_restart(&t);
	VERDICT(old, "rhost=11.0.0.1", "OK");
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json show 1"), 0);
	cr_expect(strstr(out, "\"bind_from\":[]") != NULL, "%s", out);
	free(out);
	out = verify(half, "rhost=10.0.0.1");
	cr_expect_str_neq(out, "OK", "a cut record is no unbound token");
	free(out);
	t_free(old);
	t_free(half);
}

Test(binding, the_parsers_canonicalise)
{
	char out[BIND_FROM_MAX + 1], why[128], bad[72];

	cr_assert_eq(bind_from_parse("2001:DB8:0::/32,10.0.0.0/8", out,
	    sizeof(out), why, sizeof(why)), 0, "%s", why);
	cr_expect_str_eq(out, "2001:db8::/32,10.0.0.0/8");
	cr_expect(bind_from_within("10.1.0.0/16", "10.0.0.0/8", bad,
	    sizeof(bad)));
	cr_expect(!bind_from_within("10.0.0.0/8", "10.1.0.0/16", bad,
	    sizeof(bad)));
	cr_expect_str_eq(bad, "10.0.0.0/8");
	cr_expect(bind_from_within("10.0.0.0/8", "", bad, sizeof(bad)),
	    "an unbound parent allows any");
	cr_expect(!bind_from_allows("10.0.0.0/8", NULL));
	cr_expect(bind_from_allows("", NULL));
	cr_expect(bind_from_allows("0.0.0.0/0", "1.2.3.4"));
	cr_expect(!bind_from_allows("0.0.0.0/0", "::1"), "v4 is not v6");
	cr_expect(bind_service_allows("a,b", "b"));
	cr_expect(!bind_service_allows("a,b", "ab"));
	cr_expect(!bind_service_allows("a,b", NULL));
}

/* --uses N: counted durably, in the round that answers. */

#define PARALLEL	50

/* Send VERIFY of tok on n fresh connections at once, then read every
 * answer: the number of OKs; *unanswered those with no answer. */
static int
burst(const char *tok, int n, bool kill_first, int *unanswered)
{
	int fds[PARALLEL], i, ok = 0;
	char req[300], *line;

	cr_assert(n <= PARALLEL);
	snprintf(req, sizeof(req), "VERIFY token=%s\n", tok);
	for (i = 0; i < n; i++)
		cr_assert_geq(fds[i] = t_dial(&t), 0, "environment: dial");
	for (i = 0; i < n; i++)
		cr_assert_eq(write(fds[i], req, strlen(req)),
		    (ssize_t)strlen(req));
	if (kill_first)
		t_kill9(&t);
	*unanswered = 0;
	for (i = 0; i < n; i++) {
		line = t_line(fds[i]);
		if (strncmp(line, "OK", 2) == 0)
			ok++;
		else if (line[0] == '\0')
			(*unanswered)++;
		else
			cr_expect(strstr(line, "code=binding") != NULL, "%s",
			    line);
		free(line);
		close(fds[i]);
	}
	return ok;
}

Test(binding, single_use_exactly_one_of_fifty_parallel)
{
	char *tok = bound("--uses 1"), *out = NULL;
	int lost, ok = burst(tok, PARALLEL, false, &lost);

	cr_expect_eq(lost, 0, "every attempt answered");
	cr_expect_eq(ok, 1, "%d of %d parallel uses of a single-use token "
	    "succeeded", ok, PARALLEL);
	VERDICT(tok, "", "binding");
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json show 1"), 0);
	cr_expect(strstr(out, "\"bind_uses\":1") && strstr(out, "\"used\":1"),
	    "%s", out);
	free(out);
	t_figure("binding: %d parallel verifications of a single-use token, "
	    "%d succeeded", PARALLEL, ok);
	t_free(tok);
}

Test(binding, uses_are_counted_across_kill_9)
{
	char *tok = bound("--uses 30");
	int lost, before, after = 0, i;
	char *v;

	/* answered uses survive a crash exactly */
	before = burst(tok, 5, false, &lost);
	cr_assert_eq(before, 5);
	t_kill9(&t);
	t_restart(&t);
	/* a crash while 20 are in flight: what was answered OK stays
	 * counted; one reserved but never answered may be lost (the bound:
	 * the attempts left unanswered), never one granted extra */
	before += burst(tok, 20, true, &lost);
	t_restart(&t);
	for (i = 0; i < 40; i++) {
		v = verify(tok, "");
		if (strcmp(v, "OK") == 0)
			after++;
		free(v);
	}
	cr_expect_leq(before + after, 30, "%d + %d uses granted of 30", before,
	    after);
	cr_expect_geq(before + after, 30 - lost, "more lost (%d) than the "
	    "%d unanswered", 30 - before - after, lost);
	t_figure("binding: --uses 30 across kill -9 with 20 in flight: %d "
	    "granted, %d unanswered", before + after, lost);
	t_free(tok);
}

Test(binding, a_counted_token_cannot_make_or_become_another)
{
	char *tok, *err = NULL, *r, req[300];

	t_need_root();
	tok = bound("--uses 3");
	cr_expect_neq(child(tok, "", NULL, &err), 0, "a child would multiply "
	    "its uses");
	cr_expect(strstr(err, "cannot create") != NULL, "%s", err);
	t_free(err);
	snprintf(req, sizeof(req), "ROTATE token=%s\n", tok);
	r = t_ask_as(&t, 1001, req);
	cr_expect(strstr(r, "code=denied") != NULL, "rotate: %s", r);
	t_free(r);
	VERDICT(tok, "", "OK");		/* and it still works, counted */
	cr_expect_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create --user alice "
	    "--role ssh --uses 0"), 2);
	t_free(tok);
}
