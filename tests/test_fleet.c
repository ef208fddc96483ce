/*
 * Issue 16, phase 1: patd as an RFC 4533 consumer of a real slapd
 * (tests/fleet/slapd.sh) — tokens, revocations, roles and grants made in
 * the directory reach a real patd's store; it verifies with the directory
 * down; the cookie is durable with the data; a host that is not an
 * issuer may not mint, but a local REVOKE holds.  Phase 2 (suite fleet3):
 * three patd hosts write through the directory.  Token entries are built here
 * with patd's own hashing under the state's token.key and added with
 * ldapadd as the issuer identity.  Skips loudly without root or slapd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "fleetbox.h"
#include "harness.h"
#include "keyfile.h"
#include "store.h"
#include "token.h"

#define BASE	"dc=example,dc=org"
#define ldap(...)	fb_ldap(&t, __VA_ARGS__)
/* t's VERIFY for pam.sshd; any host's for a permission */
#define verify(tok)	fb_verify(&t, (tok), "pam.sshd")
#define until(tok, want, ms) fb_until(&t, (tok), "pam.sshd", (want), (ms))
#define verify_on	fb_verify
#define until_on	fb_until
#define ISSUER	"-x -H ldap://127.0.0.1:%d -D cn=issuer-1,ou=hosts," BASE \
		" -w issuer-1"
#define ADMIN	"-x -H ldap://127.0.0.1:%d -D cn=admin," BASE " -w admin"
#define HOST2	"-x -H ldap://127.0.0.1:%d -D cn=host-2,ou=hosts," BASE \
		" -w host-2"

static struct tpatd t;
static char sdir[128];	/* slapd's directory */
static int port;
static uint8_t key[PAT_HASH_KEY_LEN];
static int server_id;	/* slapd's olcServerID, 0 none (suite fleet_sid) */

static void
slapd_up(void)
{
	int tries;

	for (tries = 0; tries < 5; tries++) {
		/* below the kernel's ephemeral ports (32768 on): slapd is
		 * restarted on it, and meanwhile no outgoing connection may
		 * take it */
		port = 20000 + (int)((unsigned)getpid() * 7919u + tries * 131u) %
		    12000;
		t_tmpname(sdir, sizeof(sdir), "slapd");
		cr_assert_not_null(mkdtemp(sdir));
		if (t_sh(&t, 0, NULL, NULL, NULL, "PATH=$PATH:/usr/sbin "
		    "PAT_SLAPD_SERVER_ID=%.0d \"$PAT_SRC\"/tests/fleet/slapd.sh "
		    "start %s %d", server_id, sdir, port) == 0)
			return;
		t_sh(&t, 0, NULL, NULL, NULL, "\"$PAT_SRC\"/tests/fleet/slapd.sh "
		    "stop %s; rm -rf %s", sdir, sdir);
	}
	cr_assert_fail("slapd did not start (tests/fleet/slapd.sh)");
}

static void
slapd_stop(void)
{
	t_sh(&t, 0, NULL, NULL, NULL, "\"$PAT_SRC\"/tests/fleet/slapd.sh "
	    "stop %s", sdir);
}

/* slapd again on the same database and port (the session log is gone:
 * a consumer's cookie then gets a present phase) */
static void
slapd_again(void)
{
	char url[300], *p;
	size_t o = 0;

	for (p = sdir; *p && o + 4 < sizeof(url); p++) {
		if (*p == '/') {
			memcpy(url + o, "%2F", 3);
			o += 3;
		} else
			url[o++] = *p;
	}
	url[o] = '\0';
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "PATH=$PATH:/usr/sbin; "
	    "slapd -F %s/conf -h 'ldap://127.0.0.1:%d/ ldapi://%s%%2Fldapi' && "
	    "for i in $(seq 1 300); do ldapsearch -x -H ldap://127.0.0.1:%d "
	    "-b '' -s base >/dev/null 2>&1 && exit 0; sleep 0.01; done; exit 1",
	    sdir, port, url, port), 0, "slapd did not start again");
}

static void
setup(void)
{
	char conf[1024], pw[200];
	const char *why = "";
	int dfd;

	t_need_root();
	if (access("/usr/sbin/slapd", X_OK) != 0 ||
	    access("/usr/bin/ldapadd", X_OK) != 0)
		cr_skip_test("SKIPPED (environment, not a verdict on pat): "
		    "slapd or ldap-utils missing; scripts/deps.sh test "
		    "installs them");
	t_start(&t, NULL);
	dfd = open(t.state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(keyfile_load(dfd, "token.key", key, &why), 0, "%s", why);
	close(dfd);
	slapd_up();
	/* what the tokens need: a role and a grant to alice */
	cr_assert_eq(ldap("dn: patRoleName=ops,ou=roles," BASE "\n"
	    "objectClass: patRole\npatRoleName: ops\npatPermission: pam.*\n\n"
	    "dn: patGrantUser=alice+patRoleName=ops,ou=grants," BASE "\n"
	    "objectClass: patGrant\npatGrantUser: alice\npatRoleName: ops\n",
	    "ldapadd " ISSUER, port), 0);
	snprintf(pw, sizeof(pw), "%s/fleet.pw", t.dir);
	t_write(pw, "host-2\n", 0600);
	snprintf(conf, sizeof(conf), "fleet_uri = ldap://127.0.0.1:%d\n"
	    "fleet_base = %s\nfleet_bind_dn = cn=host-2,ou=hosts,%s\n"
	    "fleet_bind_password_file = %s\nfleet_retry = 1\n", port, BASE,
	    BASE, pw);
	t_reconfigure(&t, conf);
}

static void
teardown(void)
{
	if (sdir[0]) {
		slapd_stop();
		t_sh(&t, 0, NULL, NULL, NULL, "rm -rf %s", sdir);
	}
	t_stop(&t);
}

TestSuite(fleet, .init = setup, .fini = teardown, .timeout = 60);

/* The same with a provider that has a server id: its cookies carry sid=,
 * and after a restart (its session log gone) it resends every entry in a
 * present phase. */
static void
setup_sid(void)
{
	server_id = 1;
	setup();
}

TestSuite(fleet_sid, .init = setup_sid, .fini = teardown, .timeout = 60);

/* A token for id (tok) and its directory entry, added as the issuer. */
static void
add_token(uint64_t id, const char *user, char tok[PAT_TOKEN_BUFSZ])
{
	fb_add_token(&t, key, BASE, id, user, tok, "ldapadd " ISSUER, port);
}

static void
revoke_in_directory(uint64_t id)
{
	char ldif[300];

	snprintf(ldif, sizeof(ldif), "dn: patId=%llu,ou=tokens," BASE "\n"
	    "changetype: modify\nadd: patRevoked\npatRevoked: %lld\n-\n"
	    "add: patRevokedReason\npatRevokedReason: reported\n-\n",
	    (unsigned long long)id, (long long)time(NULL));
	cr_assert_eq(ldap(ldif, "ldapmodify " HOST2, port), 0);
}

static long
status_num(const char *field)
{
	return fb_status_num(&t, field);
}

Test(fleet, refresh_then_persist_and_a_directory_revocation_applies)
{
	char a[PAT_TOKEN_BUFSZ], b[PAT_TOKEN_BUFSZ], *r, *st;
	long long ms;

	/* A before patd's refresh: kill -9 and restart, so A arrives in it */
	add_token(101, "alice", a);
	t_kill9(&t);
	t_restart(&t);
	ms = until(a, "OK", 3000);
	cr_assert_geq(ms, 0, "a token in the directory before patd started "
	    "does not verify after its refresh");
	add_token(102, "alice", b);
	ms = until(b, "OK", 1000);
	cr_assert_geq(ms, 0, "a token added while patd runs did not verify "
	    "within 1 s");
	t_figure("fleet: a token added in the directory verified after %lld ms",
	    ms);
	st = t_raw(&t, "STATUS\n", 1);
	cr_assert(strstr(st, " fleet=connected") != NULL, "%s", st);
	cr_assert(strstr(st, " fleet_entries=") != NULL, "%s", st);
	free(st);
	cr_assert_gt(status_num("fleet_last"), 0);
	/* patctl status shows them, human and JSON */
	cr_assert_eq(t_ctl(&t, 0, NULL, &st, NULL, "status"), 0);
	cr_assert(strstr(st, "fleet          connected, ") != NULL, "%s", st);
	free(st);
	cr_assert_eq(t_ctl(&t, 0, NULL, &st, NULL, "--json status"), 0);
	cr_assert(strstr(st, "\"fleet\":\"connected\",\"fleet_entries\":") !=
	    NULL && strstr(st, "\"fleet_last\":1") != NULL, "%s", st);
	free(st);
	revoke_in_directory(102);
	ms = until(b, "ERR", 1000);
	cr_assert_geq(ms, 0, "patRevoked in the directory did not refuse the "
	    "token within 1 s");
	t_figure("fleet: a directory revocation refused the token after %lld "
	    "ms", ms);
	r = verify(b);
	cr_assert(strstr(r, "revoked") != NULL, "%s", r);
	free(r);
	r = verify(a);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	free(r);
}

Test(fleet, slapd_down_verifies_and_catches_up_with_its_cookie)
{
	char a[PAT_TOKEN_BUFSZ], b[PAT_TOKEN_BUFSZ], g[PAT_TOKEN_BUFSZ], *r, *log;
	long long t0, ms;
	const char *p, *last;
	long before;

	add_token(201, "alice", a);
	add_token(202, "alice", b);
	add_token(203, "alice", g);
	cr_assert_geq(until(g, "OK", 1000), 0);
	cr_assert_geq(until(a, "OK", 1000), 0);
	cr_assert_geq(until(b, "OK", 1000), 0);
	slapd_stop();
	t0 = pat_monotonic_ms();
	r = verify(a);
	ms = pat_monotonic_ms() - t0;
	cr_assert_eq(strncmp(r, "OK", 2), 0, "slapd down: %s", r);
	free(r);
	cr_assert_lt(ms, 200, "VERIFY took %lld ms with slapd down", ms);
	t_figure("fleet: VERIFY with slapd down answered in %lld ms", ms);
	/* patd stopped; a revocation made meanwhile applies on its return */
	t_kill9(&t);
	slapd_again();
	revoke_in_directory(202);
	/* and one deleted: its record goes too */
	cr_assert_eq(ldap(NULL, "ldapdelete " ADMIN " patId=203,ou=tokens,"
	    BASE, port), 0);
	t_restart(&t);
	before = status_num("tokens");
	ms = until(b, "ERR", 3000);
	cr_assert_geq(ms, 0, "a revocation made while patd was down did not "
	    "apply after it came back");
	r = verify(a);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	free(r);
	cr_assert_geq(until(g, "ERR", 1000), 0, "a token deleted in the "
	    "directory while patd was down still verifies");
	cr_assert_eq(status_num("tokens"), 2, "tokens before the catch-up: "
	    "%ld", before);
	log = t_slurp(t.log);
	for (last = NULL, p = log; (p = strstr(p, "event=fleet result=connected"));
	    p++)
		last = p;
	cr_assert_not_null(last, "no fleet connected event: %s", log);
	cr_assert_eq(strncmp(last, "event=fleet result=connected cookie=resumed",
	    43), 0, "the restart did not resume with its cookie: %.200s", last);
	/* …and the provider took it: only the one change came again, not
	 * a full resend of every entry (a cookie it did not accept) */
	p = strstr(last, "event=fleet result=refresh-done entries=");
	cr_assert_not_null(p, "no refresh-done after the resume: %.300s", last);
	cr_assert_leq(strtoull(p + 40, NULL, 10), 1, "the resume was a full "
	    "reload: %.80s", p);
	free(log);
}

Test(fleet_sid, the_cookie_is_durable_with_the_data)
{
	char a[PAT_TOKEN_BUFSZ], c[PAT_TOKEN_BUFSZ], *r, *log;
	long before;

	add_token(301, "alice", a);
	cr_assert_geq(until(a, "OK", 1000), 0);
	before = status_num("tokens");
	add_token(302, "alice", c);
	cr_assert_geq(until(c, "OK", 1000), 0);
	t_kill9(&t);	/* right after the change applied */
	t_restart(&t);
	r = verify(c);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "the change was lost: %s", r);
	free(r);
	usleep(300000);	/* the catch-up, if any, is done */
	cr_assert_eq(status_num("tokens"), before + 1);
	log = t_slurp(t.log);
	cr_assert(strstr(log, "cookie=resumed") != NULL, "%s", log);
	free(log);
	{	/* the cookie kept: every csn=, no sid= */
		struct store *s;
		MDB_txn *txn;
		char ck[4097];
		size_t len = 0;

		t_kill9(&t);
		cr_assert_eq(store_open(&s, t.state, (size_t)1024 << 20), 0);
		cr_assert_eq(store_begin(s, false, &txn), 0);
		cr_assert_eq(store_meta_get(s, txn, "fleet_cookie", ck,
		    sizeof(ck) - 1, &len), 0);
		ck[len] = '\0';
		store_abort(txn);
		store_close(s);
		cr_assert(strstr(ck, "csn=") != NULL && strstr(ck, "sid=") ==
		    NULL, "the stored cookie: %s", ck);
		t_restart(&t);
	}
}

Test(fleet, a_role_change_and_an_ungrant_apply_at_the_next_verify)
{
	char a[PAT_TOKEN_BUFSZ], *r;

	add_token(401, "alice", a);
	cr_assert_geq(until(a, "OK", 1000), 0);
	cr_assert_eq(ldap("dn: patRoleName=ops,ou=roles," BASE "\n"
	    "changetype: modify\nreplace: patPermission\npatPermission: "
	    "sudo.*\n-\n", "ldapmodify " ISSUER, port), 0);
	cr_assert_geq(until(a, "ERR", 1000), 0, "a narrowed role still "
	    "allows pam.sshd");
	cr_assert_eq(ldap("dn: patRoleName=ops,ou=roles," BASE "\n"
	    "changetype: modify\nreplace: patPermission\npatPermission: "
	    "pam.*\n-\n", "ldapmodify " ISSUER, port), 0);
	cr_assert_geq(until(a, "OK", 1000), 0);
	cr_assert_eq(ldap(NULL, "ldapdelete " ADMIN
	    " 'patGrantUser=alice+patRoleName=ops,ou=grants," BASE "'", port),
	    0);
	cr_assert_geq(until(a, "ERR", 1000), 0, "an ungrant in the directory "
	    "did not apply");
	r = verify(a);
	cr_assert(strncmp(r, "ERR", 3) == 0, "%s", r);
	free(r);
}

Test(fleet, a_host_not_an_issuer_is_refused_and_a_local_revoke_holds)
{
	char a[PAT_TOKEN_BUFSZ], b[PAT_TOKEN_BUFSZ], req[200], *r, b64[64];
	char ldif[1024];
	uint8_t h[PAT_HASH_LEN];
	long before;
	int i;

	/* host-2 is no issuer: the directory's ACLs say so, patd says where
	 * to go (the issuers group names issuer-1) — once it has the role
	 * and has asked for ids */
	cr_assert_geq(fb_until_status(&t, "fleet_issuer", "no", 3000), 0);
	cr_assert_geq(fb_until_status(&t, "roles", "1", 3000), 0);
	r = t_raw(&t, "CREATE user=alice role=ops\n", 1);
	cr_assert(strstr(r, "code=fleet-not-issuer") != NULL &&
	    strstr(r, "issuer-1") != NULL, "%s", r);
	free(r);
	r = t_raw(&t, "ROLE-SET name=x perms=pam.sshd\n", 1);
	cr_assert(strstr(r, "code=fleet-denied") != NULL &&
	    strstr(r, "issuer-1") != NULL, "%s", r);
	free(r);
	r = t_raw(&t, "STATUS\n", 1);
	cr_assert(strstr(r, " fleet_issuer=no") != NULL, "%s", r);
	free(r);
	add_token(501, "alice", a);
	cr_assert_geq(until(a, "OK", 1000), 0);
	snprintf(req, sizeof(req), "REVOKE id=501\n");
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "local REVOKE: %s", r);
	cr_assert(strstr(r, " fleet=sent") != NULL, "a REVOKE with the "
	    "provider up is sent before the answer: %s", r);
	free(r);
	r = verify(a);
	cr_assert_eq(strncmp(r, "ERR", 3), 0, "%s", r);
	free(r);
	/* a token the directory's admin keeps outside ou=tokens: hosts may
	 * not revoke it there, so the revocation stays here (queued) — and
	 * the directory changing that token (not revoked there) must not
	 * undo it */
	cr_assert_eq(ldap("dn: ou=elsewhere," BASE "\nobjectClass: "
	    "organizationalUnit\nou: elsewhere\n", "ldapadd " ADMIN, port), 0);
	cr_assert_eq(pat_token_generate(502, b), 0);
	pat_token_hash(key, b, strlen(b), h);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(ldif, sizeof(ldif), "dn: patId=502,ou=elsewhere," BASE "\n"
	    "objectClass: patToken\npatId: 502\npatHash:: %s\npatUid: 1001\n"
	    "patUser: alice\npatRoleName: ops\npatCap: pam.*\npatCreated: 1\n"
	    "patBy: root\n", b64);
	cr_assert_eq(ldap(ldif, "ldapadd " ADMIN, port), 0);
	cr_assert_geq(until(b, "OK", 1000), 0);
	r = t_raw(&t, "REVOKE id=502\n", 1);
	cr_assert(strncmp(r, "OK", 2) == 0 && strstr(r, " fleet=queued") !=
	    NULL, "%s", r);
	free(r);
	cr_assert_eq(status_num("fleet_outbox"), 1);
	before = status_num("fleet_entries");
	cr_assert_eq(ldap("dn: patId=502,ou=elsewhere," BASE "\nchangetype: "
	    "modify\nreplace: patName\npatName: renamed\n-\n",
	    "ldapmodify " ADMIN, port), 0);
	/* the change committed here (fleet_entries counts it a moment
	 * before its batch commits): SHOW reads the new name */
	for (i = 0; i < 200; i++) {
		r = t_raw(&t, "SHOW id=502\n", 1);
		bool renamed = strstr(r, " name=renamed ") != NULL;

		free(r);
		if (renamed)
			break;
		usleep(10000);
	}
	cr_assert_gt(status_num("fleet_entries"), before, "the change never "
	    "came");
	cr_assert_lt(i, 200, "the renamed entry never reached the store");
	r = verify(b);
	cr_assert_eq(strncmp(r, "ERR", 3), 0, "the stream un-revoked a local "
	    "revocation: %s", r);
	free(r);
	cr_assert_eq(status_num("fleet_outbox"), 1, "a revocation the "
	    "directory refused left the outbox");
	/* asking again and again (each REVOKE asks for a push) sends the
	 * refused one no more than once a minute: one refusal logged */
	for (i = 0; i < 30; i++)
		free(t_raw(&t, "REVOKE id=502\n", 1));
	r = t_slurp(t.log);
	cr_assert_not_null(strstr(r, "result=revoke-refused id=502"));
	cr_assert_null(strstr(strstr(r, "result=revoke-refused id=502") + 1,
	    "result=revoke-refused id=502"), "a refused revocation was sent "
	    "again at every REVOKE: %s", r);
	free(r);
}

/* More revocations refused by the directory than patd remembers (32):
 * a REVOKE that revokes nothing new sends at most one of them again, not
 * every one (they wait for the minute's retry) */
Test(fleet, refused_revocations_are_not_all_sent_again_at_every_revoke)
{
	char tok[PAT_TOKEN_BUFSZ], *r;
	int i, before, after;

	cr_assert_eq(ldap("dn: ou=elsewhere," BASE "\nobjectClass: "
	    "organizationalUnit\nou: elsewhere\n\ndn: ou=tokens,ou=elsewhere,"
	    BASE "\nobjectClass: organizationalUnit\nou: tokens\n",
	    "ldapadd " ADMIN, port), 0);
	for (i = 0; i < 40; i++)	/* where hosts may not revoke */
		fb_add_token(&t, key, "ou=elsewhere," BASE, 600 + i, "alice",
		    tok, "ldapadd " ADMIN, port);
	cr_assert_geq(until(tok, "OK", 2000), 0);
	for (i = 0; i < 40; i++) {
		char req[40];

		snprintf(req, sizeof(req), "REVOKE id=%d\n", 600 + i);
		r = t_raw(&t, req, 1);
		cr_assert(strncmp(r, "OK", 2) == 0 &&
		    strstr(r, " fleet=queued") != NULL, "%s", r);
		free(r);
	}
	cr_assert_eq(status_num("fleet_outbox"), 40);
	before = fb_log_count(&t, "result=revoke-refused");
	for (i = 0; i < 30; i++)
		free(t_raw(&t, "REVOKE id=600\n", 1));	/* revoked: a no-op */
	after = fb_log_count(&t, "result=revoke-refused");
	cr_assert_leq(after - before, 30, "30 REVOKEs that revoked nothing "
	    "sent %d refused revocations again (8 beyond the 32 remembered, "
	    "each time)", after - before);
	cr_assert_eq(status_num("fleet_outbox"), 40, "a refused revocation "
	    "left the outbox");
}

Test(fleet_sid, a_present_phase_removes_what_it_does_not_name)
{
	char a[PAT_TOKEN_BUFSZ], b[PAT_TOKEN_BUFSZ], *log;

	add_token(801, "alice", a);
	add_token(802, "alice", b);
	cr_assert_geq(until(b, "OK", 1000), 0);
	t_kill9(&t);
	/* deleted before the restart: the in-memory session log forgets
	 * it, so only a present phase can tell patd */
	cr_assert_eq(ldap(NULL, "ldapdelete " ADMIN " patId=802,ou=tokens,"
	    BASE, port), 0);
	slapd_stop();
	slapd_again();
	t_restart(&t);
	cr_assert_geq(until(b, "ERR", 3000), 0, "a token gone from the "
	    "directory still verifies after a present phase");
	cr_assert_eq(status_num("tokens"), 1);
	log = t_slurp(t.log);
	cr_assert(strstr(log, "event=fleet result=removed entries=1 "
	    "reason=not-present") != NULL, "%s", log);
	free(log);
	cr_assert_geq(until(a, "OK", 1000), 0);
}

Test(fleet, a_token_of_a_user_unknown_here_is_skipped)
{
	char m[PAT_TOKEN_BUFSZ], a[PAT_TOKEN_BUFSZ], *r, *log;
	long before;

	before = status_num("tokens");
	add_token(701, "mallory", m);	/* no such user on this host */
	add_token(702, "alice", a);	/* after it in the stream */
	cr_assert_geq(until(a, "OK", 1000), 0);
	cr_assert_eq(status_num("tokens"), before + 1, "a token of a user "
	    "unknown here was stored");
	r = verify(m);
	cr_assert_eq(strncmp(r, "ERR", 3), 0, "%s", r);
	free(r);
	/* logged alone, or counted by the refresh it arrived in (a patd
	 * just started may still be in it) */
	log = t_slurp(t.log);
	cr_assert(strstr(log, "result=skipped reason=unresolved id=701 "
	    "user=mallory") != NULL || strstr(log, " unresolved=1\n") != NULL, "%s", log);
	free(log);
}

Test(fleet, a_directory_dump_holds_no_secret)
{
	char a[PAT_TOKEN_BUFSZ], *dump = NULL, *secret, line[PAT_TOKEN_BUFSZ + 2];

	add_token(601, "alice", a);
	cr_assert_geq(until(a, "OK", 1000), 0);
	cr_assert_eq(t_sh(&t, 0, NULL, &dump, NULL, "PATH=$PATH:/usr/sbin; "
	    "slapcat -F %s/conf -n1 -o ldif-wrap=no", sdir), 0);
	cr_assert(strstr(dump, "patId=601") != NULL, "the dump lacks the token");
	secret = strchr(a, '|') + 1;
	cr_assert_null(strstr(dump, secret), "the dump holds the secret");
	cr_assert_null(strstr(dump, secret + 4 + 10),
	    "the dump holds part of the secret");
	t_free(dump);
	/* and nothing in it verifies: every value (base64 ones decoded),
	 * alone and after "601|", tried as a token with patctl verify — the
	 * same command accepts the real token, so the check can fail */
	cr_assert_eq(t_ctl(&t, 0, a, NULL, NULL, "verify --perm pam.sshd"), 0,
	    "the real token does not verify: the check below would prove "
	    "nothing");
	snprintf(line, sizeof(line), "%s\n", a);
	cr_assert_eq(t_sh(&t, 0, line, &dump, NULL, "PATH=$PATH:/usr/sbin; "
	    "{ slapcat -F %s/conf -n1 -o ldif-wrap=no; printf 'control: '; "
	    "cat; } | "
	    "while IFS= read -r line; do "
	    "case $line in *::*) v=$(printf %%s \"${line#*:: }\" | "
	    "base64 -d 2>/dev/null | tr -d '\\0\\n') ;; *:*) "
	    "v=${line#*: } ;; *) continue ;; esac; "
	    "for c in \"$v\" \"601|$v\"; do n=$((n + 1)); "
	    "printf '%%s\\n' \"$c\" | \"$PATCTL\" verify --perm pam.sshd "
	    ">/dev/null 2>&1 && echo \"VERIFIED $line\"; done; "
	    "done; echo tried", sdir), 0);
	/* the control line (the real token, from stdin) is the one that
	 * verifies: the loop did try values */
	cr_assert(strstr(dump, "tried") != NULL &&
	    strstr(dump, "VERIFIED control: ") != NULL, "%s", dump);
	cr_assert_eq(strstr(dump, "VERIFIED control: "), strstr(dump,
	    "VERIFIED"), "a value of the dump verifies as a token: %s", dump);
	cr_assert_null(strstr(strstr(dump, "VERIFIED") + 1, "VERIFIED"),
	    "a value of the dump verifies as a token: %s", dump);
	t_free(dump);
}

Test(fleet, a_password_file_others_may_read_stops_patd)
{
	char conf[1024], cpath[200], pw[200], *err = NULL;
	int rc;

	snprintf(pw, sizeof(pw), "%s/open.pw", t.dir);
	t_write(pw, "host-2\n", 0640);
	snprintf(conf, sizeof(conf), "fleet_uri = ldap://127.0.0.1:%d\n"
	    "fleet_base = %s\nfleet_bind_dn = cn=host-2,ou=hosts,%s\n"
	    "fleet_bind_password_file = %s\n", port, BASE, BASE, pw);
	snprintf(cpath, sizeof(cpath), "%s/open.conf", t.dir);
	t_write(cpath, conf, 0644);
	t_kill9(&t);
	rc = t_sh(&t, 0, NULL, NULL, &err, "timeout 5 \"$PATD\" --socket %s "
	    "--state %s --config %s", t.sock, t.state, cpath);
	cr_assert_neq(rc, 0, "patd started with a group-readable password "
	    "file");
	cr_assert(strstr(err, "must be a regular file owned by root with "
	    "mode 0600") != NULL, "%s", err);
	free(err);
	err = NULL;
	/* the same for the TLS client key (libldap would read any) */
	snprintf(pw, sizeof(pw), "%s/host.key", t.dir);
	t_write(pw, "not really a key\n", 0644);
	snprintf(conf, sizeof(conf), "fleet_uri = ldaps://127.0.0.1:%d\n"
	    "fleet_base = %s\nfleet_tls_key = %s\n", port, BASE, pw);
	t_write(cpath, conf, 0644);
	rc = t_sh(&t, 0, NULL, NULL, &err, "timeout 5 \"$PATD\" --socket %s "
	    "--state %s --config %s", t.sock, t.state, cpath);
	cr_assert_neq(rc, 0, "patd started with a world-readable TLS key");
	cr_assert(strstr(err, "fleet_tls_key") != NULL && strstr(err,
	    "mode 0600") != NULL, "%s", err);
	free(err);
	t_restart(&t);	/* the good configuration still works */
}

Test(fleet_single, no_fleet_uri_no_fleet_fields)
{
	char *r;

	t_start(&t, NULL);
	r = t_raw(&t, "STATUS\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	cr_assert_null(strstr(r, "fleet"), "a single host's STATUS: %s", r);
	free(r);
	cr_assert_eq(t_ctl(&t, 0, NULL, &r, NULL, "status"), 0);
	cr_assert_null(strstr(r, "fleet"), "a single host's status: %s", r);
	free(r);
	t_stop(&t);
}

/* ---- issue 16, phase 2: three hosts writing through the directory */

static struct tpatd h2, h3;	/* suite fleet3: t is issuer-1 */

/* h as the directory identity `who` (password = who), sharing t's
 * token.key as a fleet's hosts do */
static void
host_as(struct tpatd *h, const char *who)
{
	char conf[1024], pw[200];

	if (h != &t)
		cr_assert_eq(t_sh(h, 0, NULL, NULL, NULL, "cp -p %s/token.key "
		    "%s/token.key", t.state, h->state), 0);
	snprintf(pw, sizeof(pw), "%s/fleet.pw", h->dir);
	snprintf(conf, sizeof(conf), "%s\n", who);
	t_write(pw, conf, 0600);
	snprintf(conf, sizeof(conf), "fleet_uri = ldap://127.0.0.1:%d\n"
	    "fleet_base = %s\nfleet_bind_dn = cn=%s,ou=hosts,%s\n"
	    "fleet_bind_password_file = %s\nfleet_retry = 1\n"
	    "fleet_lastuse_interval = 1\nlastuse_flush = 1\n", port, BASE,
	    who, BASE, pw);
	t_reconfigure(h, conf);
}

static void
setup3(void)
{
	setup();		/* slapd, the role ops granted to alice, t */
	host_as(&t, "issuer-1");
	t_start(&h2, NULL);
	host_as(&h2, "host-2");
	t_start(&h3, NULL);
	host_as(&h3, "host-3");
}

static void
teardown3(void)
{
	t_stop(&h3);
	t_stop(&h2);
	teardown();
}

TestSuite(fleet3, .init = setup3, .fini = teardown3, .timeout = 90);

/* A request to h whose first line must start with OK (malloc'd) */
static char *
ok_on(struct tpatd *h, const char *req)
{
	char *r = t_raw(h, req, 1);

	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s-> %s", req, r);
	return r;
}

#define status_on	fb_status_num

/* Wait until the issuer has token ids reserved (right after it connects) */
static void
issuer_ready(void)
{
	cr_assert_geq(fb_until_status(&t, "fleet_issuer", "yes", 3000), 0,
	    "issuer-1 never took token ids from the directory");
}

Test(fleet3, created_on_the_issuer_verifies_everywhere_revoked_anywhere_refused_everywhere)
{
	char *tok, *r, req[100];
	unsigned long long id;
	long long ms2, ms3, t0;

	issuer_ready();
	tok = t_token(&t, "alice", "ops");	/* patctl create on host 1 */
	id = strtoull(tok, NULL, 10);
	cr_assert_gt(id, 0, "%s", tok);
	/* the writer reads its own write: no polling on host 1 */
	r = verify_on(&t, tok, "pam.sshd");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "host 1 answered CREATE before "
	    "it had the token: %s", r);
	free(r);
	ms2 = until_on(&h2, tok, "pam.sshd", "OK", 2000);
	ms3 = until_on(&h3, tok, "pam.sshd", "OK", 2000);
	cr_assert(ms2 >= 0 && ms3 >= 0, "the token did not reach hosts 2 "
	    "and 3 (%lld, %lld ms)", ms2, ms3);
	/* the directory has it under the id host 1 printed */
	cr_assert_eq(ldap(NULL, "ldapsearch " HOST2 " -b patId=%llu,ou=tokens,"
	    BASE " -s base dn | grep -q patId=%llu", port, id, id), 0);
	/* revoked on host 3: refused on hosts 1 and 2 */
	snprintf(req, sizeof(req), "REVOKE id=%llu\n", id);
	t0 = pat_monotonic_ms();
	r = ok_on(&h3, req);
	cr_assert(strstr(r, " fleet=sent") != NULL, "%s", r);
	free(r);
	r = verify_on(&h3, tok, "pam.sshd");
	cr_assert_eq(strncmp(r, "ERR", 3), 0, "%s", r);
	free(r);
	ms2 = until_on(&h2, tok, "pam.sshd", "ERR", 1000);
	ms3 = until_on(&t, tok, "pam.sshd", "ERR", 1000);
	cr_assert(ms2 >= 0 && ms3 >= 0, "a revocation on host 3 did not "
	    "reach hosts 1 and 2 within 1 s");
	t_figure("fleet3: revoked on host 3, refused on hosts 1 and 2 after "
	    "%lld ms (from the REVOKE request)", pat_monotonic_ms() - t0);
	free(tok);
}

Test(fleet3, a_host_that_is_not_an_issuer_names_the_issuers)
{
	char *out = NULL, *err = NULL, *r;
	int rc;

	issuer_ready();
	rc = t_ctl(&h2, 0, NULL, &out, &err, "create --user alice --role ops");
	cr_assert_neq(rc, 0, "a host that is not an issuer minted: %s", out);
	cr_assert(err != NULL && strstr(err, "issuer-1") != NULL, "patctl "
	    "create on a host that is not an issuer does not say where to "
	    "go: %s", err ? err : "");
	free(out);
	free(err);
	r = t_raw(&h2, "GRANT role=ops user=bob\n", 1);
	cr_assert(strstr(r, "code=fleet-denied") != NULL, "%s", r);
	free(r);
}

/* A token reported (REVOKE token=: whoever holds the secret) on host 3
 * reaches the directory with its reason, and the other hosts refuse it */
Test(fleet3, a_reported_token_carries_its_reason_to_the_directory)
{
	char *tok, *r, req[200];
	unsigned long long id;

	issuer_ready();
	tok = t_token(&t, "alice", "ops");
	id = strtoull(tok, NULL, 10);
	cr_assert_geq(until_on(&h3, tok, "pam.sshd", "OK", 2000), 0);
	snprintf(req, sizeof(req), "REVOKE token=%s\n", tok);
	r = ok_on(&h3, req);
	cr_assert(strstr(r, " fleet=sent") != NULL, "%s", r);
	free(r);
	cr_assert_eq(t_sh(&t, 0, NULL, &r, NULL, "ldapsearch -LLL " HOST2
	    " -b patId=%llu,ou=tokens," BASE " -s base patRevokedReason",
	    port, id), 0);
	cr_assert(strstr(r, "patRevokedReason: reported") != NULL, "the "
	    "directory does not say why the token was revoked: %s", r);
	free(r);
	cr_assert_geq(until_on(&h2, tok, "pam.sshd", "ERR", 1000), 0);
	cr_assert_geq(until_on(&t, tok, "pam.sshd", "ERR", 1000), 0);
	free(tok);
}

Test(fleet3, a_role_narrowed_or_a_grant_removed_on_the_issuer_applies_everywhere)
{
	char *tok, *bobs, *r, req[300];

	issuer_ready();
	tok = t_token(&t, "alice", "ops");
	cr_assert_geq(until_on(&h3, tok, "pam.sshd", "OK", 2000), 0);
	/* narrowed on host 1: read back there at once (a VERIFY pipelined
	 * behind the ROLE-SET, which patd takes only once the ROLE-SET is
	 * answered), and everywhere */
	snprintf(req, sizeof(req), "ROLE-SET name=ops perms=pam.sudo\n"
	    "VERIFY token=%s perm=pam.sshd\n", tok);
	r = t_raw(&t, req, 2);
	cr_assert(strncmp(r, "OK", 2) == 0 && strstr(r, "\nERR ") != NULL,
	    "the issuer answered ROLE-SET before its store had the change "
	    "(a VERIFY right behind it still used the old role): %s", r);
	free(r);
	cr_assert_geq(until_on(&h2, tok, "pam.sshd", "ERR", 1000), 0);
	cr_assert_geq(until_on(&h3, tok, "pam.sshd", "ERR", 1000), 0);
	r = verify_on(&h3, tok, "pam.sudo");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	free(r);
	/* a grant made on host 1 lets host 1 mint for bob at once */
	free(ok_on(&t, "GRANT role=ops user=bob\n"));
	bobs = t_token(&t, "bob", "ops");
	cr_assert_geq(until_on(&h2, bobs, "pam.sudo", "OK", 2000), 0);
	free(ok_on(&t, "UNGRANT role=ops user=bob\n"));
	cr_assert_geq(until_on(&h2, bobs, "pam.sudo", "ERR", 1000), 0,
	    "an ungrant on host 1 did not narrow bob's token on host 2");
	/* a deleted role takes its grants and its tokens' rights along */
	free(ok_on(&t, "ROLE-DELETE name=ops\n"));
	cr_assert_geq(until_on(&h3, tok, "pam.sudo", "ERR", 1000), 0);
	cr_assert_eq(t_sh(&t, 0, NULL, &r, NULL, "ldapsearch " HOST2
	    " -LLL -b ou=grants," BASE " '(patRoleName=ops)' dn; echo "
	    "searched", port), 0);
	cr_assert(strstr(r, "searched") != NULL && strstr(r, "dn:") == NULL,
	    "ROLE-DELETE left the role's grants in the directory: %s", r);
	free(r);
	free(bobs);
	free(tok);
}

Test(fleet3, rotate_on_the_issuer_replaces_the_token_everywhere)
{
	char *tok, *r, *nt, req[200];

	issuer_ready();
	tok = t_token(&t, "alice", "ops");
	cr_assert_geq(until_on(&h2, tok, "pam.sshd", "OK", 2000), 0);
	snprintf(req, sizeof(req), "ROTATE token=%s\n", tok);
	r = ok_on(&t, req);
	nt = t_field(r, "OK", "token");
	cr_assert_not_null(nt, "%s", r);
	free(r);
	cr_assert_geq(until_on(&h2, nt, "pam.sshd", "OK", 2000), 0);
	cr_assert_geq(until_on(&h2, tok, "pam.sshd", "ERR", 1000), 0,
	    "the rotated-away token still verifies on host 2");
	free(nt);
	free(tok);
}

Test(fleet3, directory_down_writes_refused_a_revoke_holds_and_travels_later)
{
	char *tok, *r, req[100], *out = NULL, *err = NULL;
	unsigned long long id;
	int i;

	issuer_ready();
	tok = t_token(&t, "alice", "ops");
	id = strtoull(tok, NULL, 10);
	cr_assert_geq(until_on(&h3, tok, "pam.sshd", "OK", 2000), 0);
	slapd_stop();
	for (i = 0; i < 300; i++) {
		r = t_raw(&t, "STATUS\n", 1);
		bool down = strstr(r, " fleet=disconnected") != NULL;

		free(r);
		if (down)
			break;
		usleep(10000);
	}
	/* verification goes on; writes are refused, nothing half-made */
	r = verify_on(&t, tok, "pam.sshd");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	free(r);
	r = t_raw(&t, "CREATE user=alice role=ops\n", 1);
	cr_assert(strstr(r, "code=fleet-unavailable") != NULL &&
	    strstr(r, "|pat-") == NULL, "%s", r);
	free(r);
	r = t_raw(&t, "ROLE-SET name=ops perms=pam.sudo\n", 1);
	cr_assert(strstr(r, "code=fleet-unavailable") != NULL, "%s", r);
	free(r);
	r = verify_on(&t, tok, "pam.sshd");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "a ROLE-SET refused as "
	    "fleet-unavailable changed the role here all the same: %s", r);
	free(r);
	/* a REVOKE on host 2 holds there at once, queued for the provider,
	 * and patctl says so */
	cr_assert_eq(t_ctl(&h2, 0, NULL, &out, &err, "revoke %llu", id), 0,
	    "%s", err ? err : "");
	cr_assert(err != NULL && strstr(err, "fleet directory cannot be "
	    "reached") != NULL, "%s", err ? err : "");
	free(out);
	free(err);
	snprintf(req, sizeof(req), "REVOKE id=%llu\n", id);
	r = ok_on(&h2, req);
	cr_assert(strstr(r, "already=revoked") != NULL &&
	    strstr(r, " fleet=queued") != NULL, "%s", r);
	free(r);
	r = verify_on(&h2, tok, "pam.sshd");
	cr_assert_eq(strncmp(r, "ERR", 3), 0, "%s", r);
	free(r);
	cr_assert_eq(status_on(&h2, "fleet_outbox"), 1);
	/* kept across a crash of host 2 too */
	t_kill9(&h2);
	t_restart(&h2);
	r = verify_on(&h2, tok, "pam.sshd");
	cr_assert_eq(strncmp(r, "ERR", 3), 0, "%s", r);
	free(r);
	r = verify_on(&h3, tok, "pam.sshd");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "host 3 could not have heard: "
	    "%s", r);
	free(r);
	/* the directory returns: the revocation reaches hosts 1 and 3 */
	slapd_again();
	cr_assert_geq(until_on(&h3, tok, "pam.sshd", "ERR", 10000), 0,
	    "a revocation queued during the outage never reached host 3");
	cr_assert_geq(until_on(&t, tok, "pam.sshd", "ERR", 2000), 0);
	cr_assert_eq(status_on(&h2, "fleet_outbox"), 0);
	free(tok);
}

/* ---- many changes: catch-up, and a crash in the middle of a refresh */

/* n token entries (ids first…first+n-1, alice's) added in one ldapadd;
 * toks (n × PAT_TOKEN_BUFSZ, may be NULL) gets their secrets. */
static void
add_tokens_bulk(uint64_t first, size_t n, char *toks)
{
	char path[200];

	snprintf(path, sizeof(path), "%s/bulk.ldif", t.dir);
	fb_tokens_file(path, key, BASE, first, n, toks);
	cr_assert_eq(ldap(NULL, "ldapadd -c " ISSUER " -f %s >/dev/null",
	    port, path), 0);
}

Test(fleet, a_host_stopped_during_1000_changes_catches_up_with_its_cookie,
    .timeout = 120)
{
	char *toks = calloc(1000, PAT_TOKEN_BUFSZ), a[PAT_TOKEN_BUFSZ], *r;
	long before, after;
	long long t0, ms;
	size_t i;

	cr_assert_not_null(toks);
	add_token(3001, "alice", a);
	cr_assert_geq(until(a, "OK", 2000), 0);
	t_kill9(&t);
	add_tokens_bulk(4001, 1000, toks);
	revoke_in_directory(3001);
	before = 0;
	t0 = pat_monotonic_ms();
	t_restart(&t);
	/* the last change made is the first to check: then all of them */
	ms = until(toks + 999 * PAT_TOKEN_BUFSZ, "OK", 20000);
	cr_assert_geq(ms, 0, "patd did not catch up on 1,000 changes");
	cr_assert_geq(until(a, "ERR", 2000), 0, "a revocation made while "
	    "patd was down was not applied");
	t_figure("fleet: 1,000 changes missed while down applied %lld ms "
	    "after restart", pat_monotonic_ms() - t0);
	for (i = 0; i < 1000; i++) {
		r = verify(toks + i * PAT_TOKEN_BUFSZ);
		cr_assert_eq(strncmp(r, "OK", 2), 0, "token %zu: %s", i, r);
		free(r);
	}
	/* a resume, not a full resend: about the 1,001 changes */
	after = status_num("fleet_entries");
	cr_assert(after - before >= 1001 && after - before <= 1010,
	    "fleet_entries %ld: not the changes alone", after - before);
	cr_assert_eq(status_num("tokens"), 1001);
	free(toks);
}

Test(fleet, kill_9_during_a_refresh_loses_nothing_and_duplicates_nothing,
    .timeout = 120)
{
	char *toks = calloc(8000, PAT_TOKEN_BUFSZ), *r;
	long n = 0;
	int i, kills = 0;

	cr_assert_not_null(toks);
	t_kill9(&t);
	add_tokens_bulk(10001, 8000, toks);
	/* a fresh host's first refresh, killed as soon as it has applied
	 * some of it (batches of 256 commit with their cookie); a refresh
	 * that ends before the poll sees it midway is started again (up to
	 * three times): the test is about a kill in the middle */
	for (int attempt = 0; attempt < 3 && kills == 0; attempt++) {
		t_kill9(&t);
		t_sh(&t, 0, NULL, NULL, NULL, "rm -f %s/pat.mdb "
		    "%s/pat.mdb-lock", t.state, t.state);
		t_restart(&t);
		for (i = 0; i < 2000 && kills == 0; i++) {
			n = status_num("tokens");
			if (n > 0 && n < 8000) {
				t_kill9(&t);
				kills++;
			} else if (n >= 8000)
				break;
			usleep(1000);
		}
	}
	cr_assert_eq(kills, 1, "the environment, not pat: three refreshes "
	    "of 8000 tokens each ended before a poll saw one midway (%ld "
	    "tokens)", n);
	t_figure("fleet: killed -9 during the refresh at %ld of 8000 tokens",
	    n);
	t_restart(&t);
	cr_assert_geq(until(toks + 7999 * PAT_TOKEN_BUFSZ, "OK", 30000), 0);
	for (i = 0; i < 200 && status_num("tokens") < 8000; i++)
		usleep(50000);
	cr_assert_eq(status_num("tokens"), 8000, "after the crash the store "
	    "does not hold exactly the directory's 8000 tokens");
	for (i = 0; i < 8000; i += 97) {
		r = verify(toks + (size_t)i * PAT_TOKEN_BUFSZ);
		cr_assert_eq(strncmp(r, "OK", 2), 0, "token %d: %s", i, r);
		free(r);
	}
	free(toks);
}

Test(fleet3, an_id_counter_behind_the_directory_never_overwrites_a_token)
{
	char old[PAT_TOKEN_BUFSZ], *r, *tok;
	int i;

	/* id 1 exists already (a converted host, an old backup restored):
	 * the issuer's first reserved id is 1 */
	add_token(1, "alice", old);
	cr_assert_geq(until_on(&h2, old, "pam.sshd", "OK", 2000), 0);
	issuer_ready();
	r = t_raw(&t, "CREATE user=alice role=ops\n", 1);
	cr_assert(strstr(r, "code=fleet-failed") != NULL &&
	    strstr(r, "already") != NULL && strstr(r, "|pat-") == NULL,
	    "%s", r);
	free(r);
	r = verify_on(&h2, old, "pam.sshd");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "the token that held id 1 was "
	    "overwritten: %s", r);
	free(r);
	r = verify_on(&t, old, "pam.sshd");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	free(r);
	/* the issuer takes fresh ids after that (a moment: "no token id is
	 * reserved yet" until they come): the next one works */
	for (i = 0; i < 100; i++) {
		r = t_raw(&t, "CREATE user=alice role=ops\n", 1);
		if (strncmp(r, "OK", 2) == 0 ||
		    strstr(r, "reserved%20yet") == NULL)
			break;
		free(r);
		usleep(10000);
	}
	tok = t_field(r, "OK", "token");
	cr_assert_not_null(tok, "%s", r);
	free(r);
	cr_assert_gt(strtoull(tok, NULL, 10), 16, "%s", tok);
	cr_assert_geq(until_on(&h3, tok, "pam.sshd", "OK", 2000), 0);
	free(tok);
}

/* SHOW's final line (OK or ERR), asked by uid on a fresh connection */
static char *
show_as(struct tpatd *h, uid_t uid, const char *req)
{
	int fd = t_dial_as(h, uid);
	char *line = NULL;

	cr_assert_geq(fd, 0);
	cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL),
	    (ssize_t)strlen(req));
	do {
		free(line);
		line = t_line(fd);
	} while (line[0] != '\0' && strncmp(line, "OK", 2) != 0 &&
	    strncmp(line, "ERR", 3) != 0);
	close(fd);
	return line;
}

Test(fleet3, show_says_on_which_host_a_token_was_last_used)
{
	char *tok, *r, req[300], *v;
	long entries;
	int i;

	issuer_ready();
	tok = t_token(&t, "alice", "ops");
	cr_assert_geq(until_on(&h2, tok, "pam.sshd", "OK", 2000), 0);
	/* host 3 has it (SHOW, which is no use of the token) */
	snprintf(req, sizeof(req), "SHOW id=%llu\n",
	    strtoull(tok, NULL, 10));
	for (i = 0; i < 200; i++) {
		r = t_raw(&h3, req, 1);
		bool there = strstr(r, "\nOK ") != NULL;

		free(r);
		if (there)
			break;
		usleep(10000);
	}
	entries = status_on(&h3, "fleet_entries");
	/* used on host 2 (a login from 198.51.100.7): host 2 pushes it
	 * within its interval (1 s here, a minute by default) */
	snprintf(req, sizeof(req), "VERIFY token=%s perm=pam.sshd "
	    "service=sshd rhost=198.51.100.7\n", tok);
	free(ok_on(&h2, req));
	snprintf(req, sizeof(req), "SHOW id=%llu\n",
	    strtoull(tok, NULL, 10));
	for (i = 0; i < 100; i++) {
		r = t_raw(&h3, req, 1);
		if (strstr(r, " fleet_last_host=host-2") != NULL)
			break;
		free(r);
		r = NULL;
		usleep(100000);
	}
	if (r == NULL) {
		char *log2 = t_slurp(h2.log), *last = t_raw(&h3, req, 1);

		cr_assert_fail("SHOW on host 3 never said the token was last "
		    "used on host 2: %s\nhost 2's log:\n%s", last,
		    log2 ? (strlen(log2) > 3000 ? log2 + strlen(log2) - 3000 :
		    log2) : "");
	}
	v = t_field(strrchr(r, '\n') ? r : r, "OK", "fleet_last_rhost");
	cr_assert(v != NULL && strcmp(v, "198.51.100.7") == 0, "%s", r);
	free(v);
	cr_assert(strstr(r, " fleet_last_service=sshd") != NULL, "%s", r);
	free(r);
	/* patctl show says it in words */
	cr_assert_eq(t_ctl(&h3, 0, NULL, &r, NULL, "show %llu",
	    strtoull(tok, NULL, 10)), 0);
	cr_assert(strstr(r, "fleet: host    host-2\n") != NULL, "%s", r);
	free(r);
	/* a loop of SHOWs costs the directory one search per token every
	 * 5 s, not one each: with slapd frozen (SIGSTOP) just after that
	 * lookup, a SHOW is still answered with host 2, from the answer
	 * patd kept (asked, the frozen directory would have answered
	 * nothing within its 5 s) */
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "kill -STOP $(cat "
	    "%s/slapd.pid)", sdir), 0);
	r = t_raw(&h3, req, 1);
	t_sh(&t, 0, NULL, NULL, NULL, "kill -CONT $(cat %s/slapd.pid)", sdir);
	cr_assert(strstr(r, " fleet_last_host=host-2") != NULL, "SHOW asked "
	    "the directory again: %s", r);
	free(r);
	/* a user's lookups are bounded (LOOKUPS_A_MINUTE, 60, counted at
	 * every SHOW): alice's 61st SHOW this minute is this host's alone */
	for (i = 0; i < 60; i++) {
		r = show_as(&h3, 1001, req);
		cr_assert(strstr(r, " fleet_last_host=host-2") != NULL,
		    "alice's SHOW %d: %s", i + 1, r);
		free(r);
	}
	r = show_as(&h3, 1001, req);
	cr_assert_eq(strncmp(r, "OK ", 3), 0, "%s", r);
	cr_assert_null(strstr(r, "fleet_last_host"), "a 61st lookup in a "
	    "minute for one user: %s", r);
	free(r);
	r = t_raw(&h3, req, 1);		/* root's are not counted */
	cr_assert(strstr(r, " fleet_last_host=host-2") != NULL, "%s", r);
	free(r);
	/* it went to a database of its own: no host's stream carried it */
	cr_assert_eq(status_on(&h3, "fleet_entries"), entries,
	    "a last use was replicated to host 3 through the token stream");
	free(tok);
}

/* Host 1 (t) "forgets" that token id is revoked, behind a cookie that
 * already covers the revocation: the stale copy of a host that has not
 * heard yet.  patd is stopped for it and started again. */
static void
stale_copy(uint64_t id)
{
	struct store *s;
	struct tok_rec rec;
	MDB_txn *txn;

	t_kill9(&t);
	cr_assert_eq(store_open(&s, t.state, (size_t)1024 << 20), 0);
	cr_assert_eq(store_begin(s, true, &txn), 0);
	cr_assert_eq(store_token_get(s, txn, id, &rec), 0);
	cr_assert_neq(rec.revoked, 0);
	rec.revoked = 0;
	cr_assert_eq(store_token_put(s, txn, &rec, rec.parent), 0);
	cr_assert_eq(store_commit(txn), 0);
	store_close(s);
	t_restart(&t);
}

/*
 * Revocations only grow.  Host 1 (the issuer) holds a stale copy: a child
 * token revoked in the directory is not revoked in host 1's store (made so
 * by hand, behind a cookie that already covers the revocation, as a host
 * that has not heard yet would be).  ROTATE of the parent on host 1 moves
 * the child to the new token: the directory must keep the child revoked,
 * and every host must still refuse it.
 */
Test(fleet3, a_host_with_a_stale_copy_never_unrevokes_in_the_directory)
{
	char *par, *kid = NULL, *err = NULL, *r, req[300];
	unsigned long long kid_id;

	issuer_ready();
	par = t_token(&t, "alice", "ops");
	cr_assert_eq(t_ctl(&t, 1001, par, &kid, &err, "--auth-from-stdin "
	    "create --role ops"), 0, "%s", err ? err : "");
	kid[strcspn(kid, "\n")] = '\0';
	kid_id = strtoull(kid, NULL, 10);
	cr_assert_geq(until_on(&h2, kid, "pam.sshd", "OK", 2000), 0);
	revoke_in_directory(kid_id);
	cr_assert_geq(until_on(&t, kid, "pam.sshd", "ERR", 2000), 0);
	/* host 1 forgets it (its cookie still covers the revocation) */
	stale_copy(kid_id);
	issuer_ready();
	r = verify_on(&t, kid, "pam.sshd");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "the stale copy is not stale: %s",
	    r);
	free(r);
	/* the rotation moves the (here live) child to the new token */
	snprintf(req, sizeof(req), "ROTATE token=%s\n", par);
	free(ok_on(&t, req));
	cr_assert_eq(ldap(NULL, "ldapsearch -LLL " HOST2 " -b patId=%llu,"
	    "ou=tokens," BASE " -s base patRevoked | grep -q '^patRevoked: '",
	    port, kid_id), 0, "host 1's rotation removed the child's "
	    "revocation from the directory");
	r = verify_on(&h2, kid, "pam.sshd");
	cr_assert_eq(strncmp(r, "ERR", 3), 0, "host 2 accepts a revoked "
	    "token after host 1's rotation: %s", r);
	free(r);
	/* and host 1 learns it again from the stream */
	cr_assert_geq(until_on(&t, kid, "pam.sshd", "ERR", 2000), 0);
	free(kid);
	free(err);
	free(par);
}

/* Cascades and quotas are fleet-wide: every host holds every token. */
Test(fleet3, cascade_and_quota_hold_across_the_fleet)
{
	char *par, *kid = NULL, *err = NULL, *r, req[200], a[PAT_TOKEN_BUFSZ];
	char conf[1024], path[200], *old;

	issuer_ready();
	par = t_token(&t, "alice", "ops");
	cr_assert_eq(t_ctl(&t, 1001, par, &kid, &err, "--auth-from-stdin "
	    "create --role ops"), 0, "%s", err ? err : "");
	kid[strcspn(kid, "\n")] = '\0';
	cr_assert_geq(until_on(&h2, kid, "pam.sshd", "OK", 2000), 0);
	/* the parent revoked on host 3: its child refused on hosts 1, 2 */
	snprintf(req, sizeof(req), "REVOKE id=%llu\n", strtoull(par, NULL,
	    10));
	free(ok_on(&h3, req));
	cr_assert_geq(until_on(&h2, kid, "pam.sshd", "ERR", 1000), 0,
	    "a child stays valid on host 2 after its parent was revoked on "
	    "host 3");
	cr_assert_geq(until_on(&t, kid, "pam.sshd", "ERR", 1000), 0);
	/* alice's quota on host 1 counts tokens made anywhere: two more in
	 * the directory (another issuer's) fill a quota of 2 live ones */
	snprintf(path, sizeof(path), "%s/patd.conf", t.dir);
	old = t_slurp(path);
	cr_assert_not_null(old);
	snprintf(conf, sizeof(conf), "%smax_tokens_per_user = 2\n", old);
	t_reconfigure(&t, conf);
	free(old);
	add_token(900001, "alice", a);
	add_token(900002, "alice", a);
	cr_assert_geq(until_on(&t, a, "pam.sshd", "OK", 2000), 0);
	issuer_ready();
	r = t_raw(&t, "CREATE user=alice role=ops\n", 1);
	cr_assert(strstr(r, "code=quota-exceeded") != NULL &&
	    strstr(r, "|pat-") == NULL, "a quota of 2 did not count the "
	    "tokens made elsewhere: %s", r);
	free(r);
	free(kid);
	free(err);
	free(par);
}

/* Host 1's stale copy says a token revoked elsewhere is live: rotating it
 * there must fail, not revive the family with a replacement. */
Test(fleet3, rotating_a_token_revoked_elsewhere_fails_on_a_stale_host)
{
	char *par, *r, req[300];
	unsigned long long id;
	long tokens;

	issuer_ready();
	par = t_token(&t, "alice", "ops");
	id = strtoull(par, NULL, 10);
	revoke_in_directory(id);
	cr_assert_geq(until_on(&t, par, "pam.sshd", "ERR", 2000), 0);
	stale_copy(id);
	issuer_ready();
	tokens = status_on(&h2, "tokens");
	snprintf(req, sizeof(req), "ROTATE token=%s\n", par);
	r = t_raw(&t, req, 1);
	cr_assert(strstr(r, "code=fleet-failed") != NULL &&
	    strstr(r, "revoked") != NULL && strstr(r, "|pat-") == NULL,
	    "a stale host rotated a token revoked elsewhere: %s", r);
	free(r);
	usleep(200000);
	cr_assert_eq(status_on(&h2, "tokens"), tokens, "a replacement "
	    "reached host 2");
	r = verify_on(&h2, par, "pam.sshd");
	cr_assert_eq(strncmp(r, "ERR", 3), 0, "%s", r);
	free(r);
	free(par);
}

/* A patRevoked the hosts cannot read as a time ("0", from an admin's
 * hand) is a revocation all the same. */
Test(fleet, any_patrevoked_value_is_a_revocation)
{
	char a[PAT_TOKEN_BUFSZ];

	add_token(701, "alice", a);
	cr_assert_geq(until(a, "OK", 1000), 0);
	cr_assert_eq(ldap("dn: patId=701,ou=tokens," BASE "\nchangetype: "
	    "modify\nadd: patRevoked\npatRevoked: 0\n-\n", "ldapmodify "
	    ADMIN, port), 0);
	cr_assert_geq(until(a, "ERR", 1000), 0, "patRevoked: 0 left the "
	    "token valid");
}

/* An older dump restored on the provider: patd's cookie is newer than the
 * directory (slapd says unwillingToPerform), so it reloads everything and
 * removes what the restored directory no longer has. */
Test(fleet, an_older_dump_restored_reloads_and_removes_what_it_lost)
{
	char a[PAT_TOKEN_BUFSZ], b[PAT_TOKEN_BUFSZ], *log;

	add_token(1101, "alice", a);
	cr_assert_geq(until(a, "OK", 1000), 0);
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "PATH=$PATH:/usr/sbin; "
	    "slapcat -F %s/conf -n1 -l %s/old.ldif", sdir, sdir), 0);
	add_token(1102, "alice", b);
	cr_assert_geq(until(b, "OK", 1000), 0);
	slapd_stop();
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "PATH=$PATH:/usr/sbin; "
	    "rm -f %s/db/*.mdb && slapadd -q -w -F %s/conf -n1 -l %s/old.ldif",
	    sdir, sdir, sdir), 0);
	slapd_again();
	cr_assert_geq(until(b, "ERR", 10000), 0, "a token the restored "
	    "directory does not hold still verifies");
	cr_assert_geq(until(a, "OK", 1000), 0);
	cr_assert_eq(status_num("tokens"), 1);
	log = t_slurp(t.log);
	cr_assert(strstr(log, "reason=refresh-required") != NULL, "%s", log);
	free(log);
}

/* SIGTERM stops a fleet patd as it stops any: the consumer thread takes
 * no signal (one delivered to it killed patd on the spot). */
Test(fleet, sigterm_stops_a_fleet_patd_cleanly)
{
	char *log;
	int st;

	cr_assert_eq(status_num("tokens"), 0);	/* up and answering */
	cr_assert_eq(kill(t.pid, SIGTERM), 0);
	cr_assert_eq(waitpid(t.pid, &st, 0), t.pid);
	t.pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "patd did not exit "
	    "0 on SIGTERM (status 0x%x: %s)", st, WIFSIGNALED(st) ?
	    "killed by a signal" : "an exit code");
	log = t_slurp(t.log);
	cr_assert(strstr(log, "finishing answers and stopping") != NULL,
	    "%s", log);
	free(log);
	t_restart(&t);
}
