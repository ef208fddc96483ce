/*
 * Review finding 3: failed verifications lock a user out only when they
 * come from a real login (a verifier peer: root, patd, the verify group).
 * A plain user's guesses count against that user alone, and malformed
 * input counts against no one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

TestSuite(lockout, .init = setup, .fini = teardown, .timeout = 90);

/* "OK", or "ERR code=…" of the answer (malloc'd). */
static char *
verify_as(uid_t uid, const char *token, const char *user)
{
	char req[512], *r;

	snprintf(req, sizeof(req), "VERIFY token=%s%s%s\n", token,
	    user ? " user=" : "", user ? user : "");
	r = t_ask_as(&t, uid, req);
	if (strncmp(r, "ERR code=", 9) == 0)
		r[9 + strcspn(r + 9, " \n")] = '\0';
	else
		r[strcspn(r, " \n")] = '\0';
	return r;
}

static void
expect(uid_t uid, const char *token, const char *user, const char *want,
    const char *why)
{
	char *r = verify_as(uid, token, user);

	cr_assert_str_eq(r, want, "%s", why);
	t_free(r);
}

static void
expect_login(const char *token, const char *want, const char *why)
{
	char *r = t_pam_login(&t, "sshd", "alice", token, NULL);

	cr_assert_str_eq(r, want, "%s: %s", why, r);
	free(r);
}

/* A well-formed token with the id of `id_from` and the secret of
 * `secret_from`: the right shape and checksum, the wrong secret. */
static void
forge(char *out, size_t n, const char *id_from, const char *secret_from)
{
	snprintf(out, n, "%.*s%s", (int)strcspn(id_from, "|"), id_from,
	    strchr(secret_from, '|'));
}

Test(lockout, a_plain_user_cannot_lock_anyone_out)
{
	char *tok, *bobtok, *roottok, bad[200], rootbad[200];
	int i;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	t_grant(&t, "ssh", "--user bob");
	t_grant(&t, "ssh", "--user root");
	tok = t_token(&t, "alice", "ssh");
	bobtok = t_token(&t, "bob", "ssh");
	roottok = t_token(&t, "root", "ssh");
	forge(bad, sizeof(bad), tok, bobtok);
	forge(rootbad, sizeof(rootbad), roottok, bobtok);
	/* bob, three times the limit, at alice and at root */
	for (i = 0; i < 30; i++) {
		expect(BOB, "junk", "alice", "ERR code=malformed-token",
		    "malformed, at alice");
		expect(BOB, "1|pat-notatoken", "root",
		    "ERR code=malformed-token", "malformed, at root");
	}
	/* malformed input counted against no one: bob is not limited yet */
	expect(BOB, bobtok, "bob", "OK", "malformed input counted against bob");
	for (i = 0; i < 30; i++) {
		char *r = verify_as(BOB, i % 2 ? bad : rootbad,
		    i % 2 ? "alice" : "root");

		cr_assert(strcmp(r, "ERR code=invalid-token") == 0 ||
		    strcmp(r, "ERR code=rate-limited") == 0, "%s", r);
		t_free(r);
	}
	/* alice and root still log in, by a real PAM stack and by VERIFY */
	expect_login(tok, "PAM_SUCCESS", "bob locked alice out of sshd");
	expect(0, tok, "alice", "OK", "bob locked alice out of root's VERIFY");
	expect(0, roottok, "root", "OK", "bob locked root out");
	expect(ALICE, tok, "alice", "OK", "bob locked alice out of her own");
	/* …while bob's guesses count against bob: even his own token waits */
	expect(BOB, bobtok, "bob", "ERR code=rate-limited",
	    "bob guessed 30 times and was not limited");
	t_free(tok);
	t_free(bobtok);
	t_free(roottok);
}

Test(lockout, a_brute_force_through_logins_still_blocks_the_target)
{
	char *tok, *tok2, bad[200];
	int i;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	tok2 = t_token(&t, "alice", "ssh");
	forge(bad, sizeof(bad), tok, tok2);
	/* malformed input through logins counts neither */
	for (i = 0; i < 20; i++)
		expect(0, "junk", "alice", "ERR code=malformed-token",
		    "malformed from root");
	expect(0, tok, "alice", "OK", "malformed input locked alice out");
	/* sshd (root) failing for alice ten times: the eleventh waits, even
	 * when right, through VERIFY and through a real PAM stack */
	for (i = 0; i < 10; i++) {
		expect_login(bad, "PAM_AUTH_ERR", "a wrong secret at sshd");
	}
	expect(0, tok, "alice", "ERR code=rate-limited",
	    "ten failed logins did not stop the eleventh");
	expect_login(tok, "PAM_AUTH_ERR", "the brute force is not slowed");
	expect(CAROL, tok, "alice", "ERR code=rate-limited",
	    "the verify group is a login path like root");
	/* the block is for logins: alice's own check still answers */
	expect(ALICE, tok, "alice", "OK", "alice's own verify is blocked");
	expect(0, tok2, "alice", "ERR code=rate-limited", "still blocked");
	t_free(tok);
	t_free(tok2);
}
