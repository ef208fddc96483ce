/*
 * Integration tests: a real patd on a temporary socket and state directory,
 * driven by patctl and by a raw socket client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static struct tpatd t;

static void
setup(void)
{
	t_start(&t, NULL);
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(patd, .init = setup, .fini = teardown, .timeout = 60);

/* No secret part of `token` anywhere in patd's log. */
static void
assert_log_clean(const char *token)
{
	char *log = t_slurp(t.log);
	const char *secret = strstr(token, "|pat-");

	cr_assert_not_null(secret);
	cr_assert_null(strstr(log, secret + 5), "a token secret is in the log");
	cr_assert_gt(strlen(log), 0, "patd logged nothing at all");
	free(log);
}

static int
verify(uid_t uid, const char *token, const char *args)
{
	return t_ctl(&t, uid, token, NULL, NULL, "verify %s", args ? args : "");
}

Test(patd, create_verify_revoke_refuse_with_patctl)
{
	char *tok, *out = NULL, *err = NULL;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	cr_assert_eq(verify(0, tok, "--perm pam.sshd --user alice"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "list --user alice"), 0);
	cr_assert(strstr(out, "active") != NULL, "list shows the token active");
	free(out);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "revoke 1"), 0);
	cr_assert_eq(verify(0, tok, "--perm pam.sshd"), 1,
	    "a revoked token is refused with exit 1");
	cr_assert_eq(t_ctl(&t, 0, tok, NULL, &err, "verify"), 1);
	cr_assert(strstr(err, "revoked") != NULL, "says why: %s", err);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json list --user alice"),
	    0);
	cr_assert(strstr(out, "\"state\":\"revoked\"") != NULL);
	assert_log_clean(tok);
	free(out);
	free(err);
	t_free(tok);
}

Test(patd, raw_protocol_exchange)
{
	char *r, *tok, req[512];

	r = t_raw(&t, "HELLO proto=1\nROLE-SET name=web perms=svc.web:*\n"
	    "GRANT role=web user=bob\n", 3);
	cr_assert_eq(strncmp(r, "OK proto=1 server=patd/", 23), 0, "%s", r);
	cr_assert_eq(strstr(r, "ERR"), NULL, "%s", r);
	free(r);
	r = t_raw(&t, "CREATE role=web user=bob name=ci%20bot\n", 1);
	tok = t_field(r, "OK", "token");
	cr_assert_not_null(tok, "CREATE answered no token");
	t_free(r);
	snprintf(req, sizeof(req), "VERIFY token=%s perm=svc.web:read "
	    "service=billing\n", tok);
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, "OK id=1 user=bob uid=1002 role=web", 34), 0,
	    "%.60s", r);
	free(r);
	r = t_raw(&t, "REVOKE id=1\n", 1);
	cr_assert_str_eq(r, "OK revoked=1\n");
	free(r);
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, "ERR code=revoked", 16), 0, "%.60s", r);
	free(r);
	/* two requests on one connection, answered in order */
	r = t_raw(&t, "STATUS\nROLE-LIST\n", 2);
	cr_assert_eq(strncmp(r, "OK proto=1", 10), 0);
	cr_assert(strstr(r, "ITEM name=web perms=svc.web:* max_lifetime=0 "
	    "default_lifetime=0 max_idle=0\nOK count=1\n"), "%s", r);
	free(r);
	assert_log_clean(tok);
	t_free(tok);
}

Test(patd, show_reports_the_last_use_of_a_token)
{
	char *r, *tok, req[512];

	t_role(&t, "web", "svc.web:*");
	t_grant(&t, "web", "--user bob");
	tok = t_token(&t, "bob", "web");
	r = t_raw(&t, "SHOW id=1\n", 1);
	cr_assert(strstr(r, " last_used=0") != NULL, "never used: %s", r);
	free(r);
	snprintf(req, sizeof(req), "VERIFY token=%s service=billing "
	    "rhost=10.1.2.3\n", tok);
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, "OK id=1", 7), 0, "%.40s", r);
	free(r);
	/* noted in memory, written before anything shows it */
	r = t_raw(&t, "SHOW id=1\n", 1);
	cr_assert(strstr(r, " last_used=0") == NULL, "%s", r);
	cr_assert(strstr(r, " last_service=billing last_rhost=10.1.2.3"),
	    "%s", r);
	free(r);
	t_kill9(&t);	/* SHOW wrote it: it is durable */
	t_restart(&t);
	r = t_raw(&t, "SHOW id=1\n", 1);
	cr_assert(strstr(r, " last_service=billing"), "%s", r);
	free(r);
	t_free(tok);
}

Test(patd, malformed_and_bad_checksum_tokens_are_refused)
{
	char *r;

	r = t_raw(&t, "VERIFY token=1|pat-ZuKpi3vjhgvLyy2ATp0Gyp0NPyPGXTPhpxpaMwnv\n",
	    1);
	cr_assert_eq(strncmp(r, "ERR code=malformed-token", 24), 0, "%s", r);
	free(r);
	r = t_raw(&t, "VERIFY token=hunter2\n", 1);
	cr_assert_eq(strncmp(r, "ERR code=malformed-token", 24), 0, "%s", r);
	free(r);
}

Test(patd, unknown_id_and_wrong_secret_look_the_same)
{
	char *tok, *r1, *r2, req[256];

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	/* same shape, valid checksum, wrong secret: make one with another id
	 * by asking patd for a second token and splicing ids */
	r1 = t_raw(&t, "VERIFY token=999|pat-000000000000000000000000000000000000000000\n", 1);
	cr_assert(strncmp(r1, "ERR code=", 9) == 0);
	free(r1);
	{
		char *tok2 = t_token(&t, "alice", "ssh");
		const char *body = strchr(tok2, '|');

		snprintf(req, sizeof(req), "VERIFY token=1%s\n", body);
		r1 = t_raw(&t, req, 1);		/* id 1, token 2's secret */
		snprintf(req, sizeof(req), "VERIFY token=77%s\n", body);
		r2 = t_raw(&t, req, 1);		/* id that does not exist */
		cr_assert_str_eq(r1, r2, "unknown id and wrong secret differ");
		cr_assert_eq(strncmp(r1, "ERR code=invalid-token", 22), 0, "%s",
		    r1);
		free(r1);
		free(r2);
		t_free(tok2);
	}
	t_free(tok);
}

Test(patd, another_users_token_and_missing_permission_are_refused)
{
	char *tok, *err = NULL;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	cr_assert_eq(verify(0, tok, "--user bob"), 1, "alice's token for bob");
	cr_assert_eq(t_ctl(&t, 0, tok, NULL, &err, "verify --user bob"), 1);
	cr_assert(strstr(err, "wrong-user") != NULL, "%s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, tok, NULL, &err, "verify --perm pam.sudo"), 1);
	cr_assert(strstr(err, "permission-missing") != NULL, "%s", err);
	free(err);
	cr_assert_eq(verify(0, tok, "--user alice --perm pam.sshd"), 0);
	t_free(tok);
}

Test(patd, shrinking_a_role_takes_effect_at_next_verification)
{
	char *tok;

	t_role(&t, "ops", "pam.sshd pam.sudo");
	t_grant(&t, "ops", "--user alice");
	tok = t_token(&t, "alice", "ops");
	cr_assert_eq(verify(0, tok, "--perm pam.sudo"), 0);
	t_role(&t, "ops", "pam.sshd");
	cr_assert_eq(verify(0, tok, "--perm pam.sudo"), 1);
	cr_assert_eq(verify(0, tok, "--perm pam.sshd"), 0);
	/* deleting the role leaves the token with nothing */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role delete ops"), 0);
	cr_assert_eq(verify(0, tok, "--perm pam.sshd"), 1);
	t_free(tok);
}

Test(patd, ungranting_takes_effect_at_next_verification)
{
	char *tok;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	cr_assert_eq(verify(0, tok, "--perm pam.sshd"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL,
	    "ungrant ssh --user alice"), 0);
	cr_assert_eq(verify(0, tok, "--perm pam.sshd"), 1);
	/* granted back: the token is good again (it was never revoked) */
	t_grant(&t, "ssh", "--user alice");
	cr_assert_eq(verify(0, tok, "--perm pam.sshd"), 0);
	t_free(tok);
}

Test(patd, leaving_a_group_takes_effect_at_next_verification)
{
	char *tok;

	t_role(&t, "deploy", "svc.deploy:run");
	t_grant(&t, "deploy", "--group devs");
	tok = t_token(&t, "alice", "deploy");
	cr_assert_eq(verify(0, tok, "--perm svc.deploy:run"), 0);
	sleep(1);	/* nss_wrapper notices changes by mtime */
	t_write_groups(&t, "root:x:0:\nalice:x:1001:\nbob:x:1002:\n"
	    "carol:x:1003:\ndevs:x:2000:\npatd-verify:x:2001:carol\n");
	cr_assert_eq(verify(0, tok, "--perm svc.deploy:run"), 1,
	    "alice left devs but her token still works");
	t_free(tok);
}

Test(patd, revoking_a_parent_refuses_its_descendants)
{
	char *p, *c = NULL, *g = NULL, *out = NULL;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd pam.sudo");
	t_grant(&t, "ssh", "--user alice");
	p = t_token(&t, "alice", "ssh");
	/* alice herself makes a child from the parent, and a grandchild */
	cr_assert_eq(t_ctl(&t, ALICE, p, &c, NULL,
	    "create --role ssh --parent-from-stdin"), 0);
	c[strcspn(c, "\n")] = '\0';
	cr_assert_eq(t_ctl(&t, ALICE, c, &g, NULL,
	    "create --role ssh --parent-from-stdin"), 0);
	g[strcspn(g, "\n")] = '\0';
	cr_assert_eq(verify(0, g, "--perm pam.sshd"), 0);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, &out, NULL, "--json show 3"), 0);
	cr_assert(strstr(out, "\"by\":\"pat:2\"") && strstr(out, "\"parent\":2"),
	    "grandchild records its parent");
	free(out);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "revoke 1"), 0);
	cr_assert_eq(verify(0, c, NULL), 1, "child survives parent's revoke");
	cr_assert_eq(verify(0, g, NULL), 1, "grandchild survives");
	assert_log_clean(p);
	assert_log_clean(c);
	assert_log_clean(g);
	t_free(p);
	t_free(c);
	t_free(g);
}

Test(patd, a_child_is_capped_by_its_parent_and_stripping_is_reported)
{
	char *p, *c = NULL, *err = NULL;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_role(&t, "ops", "pam.sshd pam.sudo");
	t_grant(&t, "ops", "--user alice");
	p = t_token(&t, "alice", "ssh");
	cr_assert_eq(t_ctl(&t, ALICE, p, &c, &err,
	    "create --role ops --parent-from-stdin"), 0, "%s", err);
	cr_assert(strstr(err, "never in force: the creating token lacks "
	    "pam.sudo"), "the response lists what was stripped: %s", err);
	c[strcspn(c, "\n")] = '\0';
	cr_assert_eq(verify(0, c, "--perm pam.sshd"), 0);
	cr_assert_eq(verify(0, c, "--perm pam.sudo"), 1,
	    "never more than the creating token");
	free(err);
	/* a role granting nothing the user holds fails the create */
	t_role(&t, "db", "svc.db:admin");
	cr_assert_eq(t_ctl(&t, ALICE, p, NULL, &err,
	    "create --role db --parent-from-stdin"), 1);
	cr_assert(strstr(err, "empty-permissions") != NULL, "%s", err);
	free(err);
	t_free(p);
	t_free(c);
}

Test(patd, show_explains_what_removed_each_permission)
{
	char *out = NULL;

	t_role(&t, "ops", "pam.sshd pam.sudo svc.x:*");
	t_role(&t, "mine", "pam.sshd svc.x:read");
	t_grant(&t, "mine", "--user alice");
	t_free(t_token(&t, "alice", "ops"));
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "show 1"), 0);
	cr_assert(strstr(out, "pam.sshd") && strstr(out, "effective"), "%s", out);
	/* the table's columns: permission, status, removed by, in force */
	cr_assert(t_sh(&t, 0, out, NULL, NULL, "grep -Eq '^pam\\.sudo +removed "
	    "+owner +-$'") == 0, "%s", out);
	cr_assert(t_sh(&t, 0, out, NULL, NULL, "grep -Eq '^svc\\.x:\\* +narrowed "
	    "+owner +svc\\.x:read$'") == 0, "%s", out);
	free(out);
}

Test(patd, a_plain_user_cannot_act_as_admin_or_for_others)
{
	char *bobtok, *alicetok, *err = NULL;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	t_grant(&t, "ssh", "--user bob");
	bobtok = t_token(&t, "bob", "ssh");
	alicetok = t_token(&t, "alice", "ssh");
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, &err, "role set x pam.sshd"),
	    1);
	cr_assert(strstr(err, "denied"), "%s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "role delete ssh"), 1);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL,
	    "grant ssh --user alice"), 1);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL,
	    "ungrant ssh --user bob"), 1);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "list --user bob"), 1);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "list --all"), 1);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "revoke 1"), 1,
	    "alice revoked bob's token");
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "revoke --all --user bob"),
	    1);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "show 1"), 1);
	{
		/* refused, but --json still prints one whole document: the
		 * error's (tests/test_json.c checks every command's) */
		char *out = NULL;

		cr_assert_eq(t_ctl(&t, ALICE, NULL, &out, NULL, "--json list "
		    "--all"), 1);
		cr_assert(strstr(out, "{\"error\":{\"code\":\"denied\",") == out,
		    "%s", out);
		free(out);
		cr_assert_eq(t_ctl(&t, ALICE, NULL, &out, NULL, "--json show 1"),
		    1);
		cr_assert(strstr(out, "{\"error\":{\"code\":\"not-found\",") ==
		    out, "%s", out);
		free(out);
	}
	cr_assert_eq(t_ctl(&t, ALICE, alicetok, NULL, NULL,
	    "create --role ssh --user bob --parent-from-stdin"), 1);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, &err, "create --role ssh"
	    " </dev/null"), 1, "create without a token");
	free(err);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, &err, "create --role ssh"),
	    1);
	cr_assert(strstr(err, "auth-required"), "%s", err);
	free(err);
	/* and alice cannot verify bob's token (not in patd-verify) … */
	cr_assert_eq(verify(ALICE, bobtok, NULL), 1);
	/* … but carol, in patd-verify, can */
	cr_assert_eq(verify(CAROL, bobtok, "--user bob --perm pam.sshd"), 0);
	/* bob's token still works: nothing alice tried touched it */
	cr_assert_eq(verify(BOB, bobtok, "--perm pam.sshd"), 0);
	/* alice manages her own */
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "list"), 0);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "revoke 2"), 0);
	t_free(bobtok);
	t_free(alicetok);
}

Test(patd, a_token_holding_pat_admin_acts_as_admin)
{
	char *tok;

	t_need_root();
	t_role(&t, "admin", "pat.admin");
	t_grant(&t, "admin", "--user alice");
	tok = t_token(&t, "alice", "admin");
	cr_assert_eq(t_ctl(&t, ALICE, tok, NULL, NULL,
	    "--auth-from-stdin role set web svc.web:*"), 0);
	cr_assert_eq(t_ctl(&t, ALICE, tok, NULL, NULL,
	    "--auth-from-stdin list --all"), 0);
	/* bob cannot borrow alice's token: it acts only for its owner */
	cr_assert_eq(t_ctl(&t, BOB, tok, NULL, NULL,
	    "--auth-from-stdin role set web2 svc.web:*"), 1);
	t_free(tok);
}

Test(patd, a_token_survives_kill_9_and_restart)
{
	char *tok;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	t_kill9(&t);
	t_restart(&t);
	cr_assert_eq(verify(0, tok, "--perm pam.sshd"), 0,
	    "an acknowledged token was lost");
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "revoke 1"), 0);
	t_kill9(&t);
	t_restart(&t);
	cr_assert_eq(verify(0, tok, NULL), 1, "an acknowledged revoke was lost");
	t_free(tok);
}

Test(patd, rotate_replaces_a_token_and_keeps_its_children)
{
	char *p, *c = NULL, *n = NULL;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	p = t_token(&t, "alice", "ssh");
	cr_assert_eq(t_ctl(&t, ALICE, p, &c, NULL,
	    "create --role ssh --parent-from-stdin"), 0);
	c[strcspn(c, "\n")] = '\0';
	cr_assert_eq(t_ctl(&t, ALICE, p, &n, NULL, "rotate"), 0);
	n[strcspn(n, "\n")] = '\0';
	cr_assert_eq(verify(0, n, "--perm pam.sshd"), 0);
	cr_assert_eq(verify(0, c, NULL), 0, "rotation revoked the child");
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "revoke 3"), 0);
	cr_assert_eq(verify(0, c, NULL), 1,
	    "the child now hangs off the replacement");
	/* last: presenting the old token now revokes its family
	 * (tests/test_reuse.c) */
	cr_assert_eq(verify(0, p, NULL), 1, "the old token still works");
	t_free(p);
	t_free(c);
	t_free(n);
}

Test(patd, expiry_is_enforced)
{
	char *r, *tok, req[256];

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	snprintf(req, sizeof(req), "CREATE role=ssh user=alice expires=%lld\n",
	    (long long)time(NULL) + 2);
	r = t_raw(&t, req, 1);
	tok = t_field(r, "OK", "token");
	cr_assert_not_null(tok, "%.40s", r);
	t_free(r);
	cr_assert_eq(verify(0, tok, NULL), 0);
	sleep(3);
	cr_assert_eq(verify(0, tok, NULL), 1);
	r = t_raw(&t, "LIST user=alice\n", 1);
	cr_assert(strstr(r, "state=expired") != NULL, "%s", r);
	free(r);
	r = t_raw(&t, "CREATE role=ssh user=alice expires=1000\n", 1);
	cr_assert_eq(strncmp(r, "ERR code=bad-request", 20), 0, "past expiry");
	free(r);
	t_free(tok);
}

Test(patd, failed_verifications_are_rate_limited_per_peer_and_user)
{
	char *tok, *tok2, *bobtok, bad[128], *log;
	int i;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	t_grant(&t, "ssh", "--user bob");
	tok = t_token(&t, "alice", "ssh");
	tok2 = t_token(&t, "alice", "ssh");
	bobtok = t_token(&t, "bob", "ssh");
	/* carol (a verifier) guesses at alice's token 1 */
	snprintf(bad, sizeof(bad), "1%s", strchr(tok2, '|'));
	for (i = 0; i < 10; i++)
		cr_assert_eq(verify(CAROL, bad, NULL), 1);
	cr_assert_eq(verify(0, tok, NULL), 1,
	    "after 10 failures for alice, even root's right answer waits");
	cr_assert_eq(verify(0, bobtok, NULL), 0, "bob is not affected");
	/* bob, a plain peer, is limited per peer uid whatever he targets */
	snprintf(bad, sizeof(bad), "9%s", strchr(bobtok, '|'));
	for (i = 0; i < 10; i++)
		cr_assert_eq(verify(BOB, bad, NULL), 1);
	cr_assert_eq(verify(BOB, bobtok, NULL), 1,
	    "the 11th try in a minute is refused even when right");
	log = t_slurp(t.log);
	cr_assert(strstr(log, "reason=rate-limited") != NULL);
	free(log);
	t_free(tok);
	t_free(tok2);
	t_free(bobtok);
}

Test(patd, protocol_abuse_drops_only_the_abuser)
{
	char *r, big[6000];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	memset(big, 'A', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	r = t_raw(&t, big, 1);
	cr_assert_eq(strncmp(r, "ERR code=too-long", 17), 0, "%.40s", r);
	free(r);
	r = t_raw(&t, "\x01\x02\xff garbage\nSTATUS\n", 2);
	cr_assert_eq(strncmp(r, "ERR code=bad-request", 20), 0, "%.40s", r);
	cr_assert_null(strstr(r, "OK"), "answered after a protocol error");
	free(r);
	/* the log gets the parsed set, never a peer's text with spaces
	 * (the journal splits fields on them) */
	r = t_raw(&t, "ROLE-SET name=x perms=pam.b%20pam.a\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	free(r);
	r = t_slurp(t.log);
	cr_assert(strstr(r, "role=x perms=pam.a,pam.b peer_uid="), "%s", r);
	free(r);
	r = t_raw(&t, "FROBNICATE\n", 1);
	cr_assert_eq(strncmp(r, "ERR code=unknown-verb", 21), 0, "%.40s", r);
	free(r);
	/* a half-sent line stays pending without blocking anyone */
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t.sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(send(fd, "VERIFY tok", 10, 0), 10);
	r = t_raw(&t, "STATUS\n", 1);
	cr_assert_eq(strncmp(r, "OK proto=1", 10), 0);
	free(r);
	close(fd);
}

Test(patd, connections_per_uid_are_capped)
{
	int fds[3], i;
	char *r;

	/* a plain uid: root and the verify group have no per-uid cap */
	t_need_root();
	t_stop(&t);
	t_start(&t, "--max-conns-per-uid 3");
	for (i = 0; i < 3; i++)
		cr_assert_geq(fds[i] = t_dial_as(&t, BOB), 0);
	usleep(200000);	/* let patd accept them */
	r = t_ask_as(&t, BOB, "STATUS\n");
	cr_assert_eq(strncmp(r, "ERR code=busy", 13), 0, "%.40s", r);
	free(r);
	r = t_raw(&t, "STATUS\n", 1);
	cr_assert_eq(strncmp(r, "OK proto=1", 10), 0, "root: %.40s", r);
	free(r);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	usleep(200000);
	r = t_ask_as(&t, BOB, "STATUS\n");
	cr_assert_eq(strncmp(r, "OK proto=1", 10), 0, "%.40s", r);
	free(r);
}

Test(patd, bad_input_to_patctl_is_a_usage_error)
{
	char *err = NULL;

	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create"), 2);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create --role x "
	    "--expires tomorrowish"), 2);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "frobnicate"), 2);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "role set bad perm..x"), 2);
	/* in the user's words, not the protocol's (perms=) */
	cr_assert(strstr(err, "'perm..x' is not a permission"), "%s", err);
	cr_assert_null(strstr(err, "perms="), "%s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, "", NULL, NULL, "verify"), 2);
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL,
	    "PATD_SOCKET=%s/nope \"$PATCTL\" status", t.dir), 3);
}

Test(patd, the_key_file_is_private_and_checked)
{
	char path[256], *err = NULL;
	struct stat st;

	snprintf(path, sizeof(path), "%s/token.key", t.state);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_size, 32);
	t_stop(&t);	/* removes the dir: start over to test a bad mode */
	t_start(&t, NULL);
	snprintf(path, sizeof(path), "%s/token.key", t.state);
	t_kill9(&t);
	chmod(path, 0644);
	cr_assert_neq(t_sh(&t, 0, NULL, NULL, &err, "\"$PATD\" --socket %s/x "
	    "--state %s", t.dir, t.state), 0);
	cr_assert(strstr(err, "readable by others"), "%s", err);
	free(err);
}
