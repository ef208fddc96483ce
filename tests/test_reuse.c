/*
 * Issue 14, rotation reuse detection: a token rotated away and presented
 * again means two people hold it; the token that replaced it and every
 * token below that are revoked (GitLab's and OAuth refresh-token reuse
 * detection), unless it comes back within rotation_grace.
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
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(reuse, .init = setup, .fini = teardown, .timeout = 90);

/* The first word of VERIFY's answer as uid, or its error code. */
static char *
verdict_as(uid_t uid, const char *token)
{
	char req[256], *r;

	snprintf(req, sizeof(req), "VERIFY token=%s\n", token);
	r = t_ask_as(&t, uid, req);
	cr_assert(r != NULL && *r != '\0', "patd is not answering");
	if (strncmp(r, "ERR code=", 9) == 0)
		memmove(r, r + 9, strlen(r + 9) + 1);
	r[strcspn(r, " \n")] = '\0';
	return r;
}

static void
expect(const char *token, const char *want, const char *why)
{
	char *r = verdict_as(0, token);

	cr_assert_str_eq(r, want, "%s", why);
	t_free(r);
}

/* alice rotates tok; the replacement (malloc'd). */
static char *
rotate(const char *tok)
{
	char *out = NULL, *err = NULL;
	int rc = t_ctl(&t, ALICE, tok, &out, &err, "rotate");

	cr_assert_eq(rc, 0, "rotate: %s", err);
	t_free(err);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* A child of tok, made by alice with it. */
static char *
child_of(const char *tok)
{
	char *out = NULL, *err = NULL;
	int rc = t_ctl(&t, ALICE, tok, &out, &err, "create --role ssh "
	    "--parent-from-stdin");

	cr_assert_eq(rc, 0, "create a child: %s", err);
	t_free(err);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

Test(reuse, a_rotated_token_presented_again_revokes_its_family)
{
	char *old = t_token(&t, "alice", "ssh"), *other = t_token(&t, "alice",
	    "ssh"), *new, *kid, *log, *r;

	new = rotate(old);
	kid = child_of(new);
	expect(new, "OK", "the replacement works");
	expect(kid, "OK", "so does its child");
	/* the old one comes back: from alice's own uid, as a thief on her
	 * account would; the answer is sent once the family is revoked */
	r = verdict_as(ALICE, old);
	cr_assert_str_eq(r, "revoked", "the old one is refused");
	t_free(r);
	expect(new, "revoked", "and its replacement is revoked with it");
	expect(kid, "revoked", "and what was made from the replacement");
	expect(other, "OK", "another token of alice's is not family");
	log = t_slurp(t.log);
	cr_assert_not_null(strstr(log, "reason=rotated-token-reused"),
	    "logged with its reason");
	cr_assert_null(strstr(log, strstr(old, "|pat-") + 5), "no secret");
	t_free(log);
	t_free(kid);
	t_free(new);
	t_free(other);
	t_free(old);
}

Test(reuse, the_end_of_a_chain_of_rotations_is_the_head_revoked)
{
	char *a = t_token(&t, "alice", "ssh"), *b, *c;

	b = rotate(a);
	c = rotate(b);
	expect(c, "OK", "the newest works");
	expect(a, "revoked", "the first one, presented again");
	expect(c, "revoked", "revokes the newest: the family's head");
	t_free(c);
	t_free(b);
	t_free(a);
}

Test(reuse, a_token_revoked_not_rotated_changes_nothing)
{
	char *a = t_token(&t, "alice", "ssh"), *b = t_token(&t, "alice", "ssh");
	char *log;

	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "revoke 1"), 0);
	expect(a, "revoked", "revoked by its owner");
	expect(a, "revoked", "and again");
	expect(b, "OK", "nothing else moves");
	log = t_slurp(t.log);
	cr_assert_null(strstr(log, "rotated-token-reused"), "no reuse");
	t_free(log);
	t_free(b);
	t_free(a);
}

Test(reuse, within_the_grace_period_the_old_token_is_only_refused)
{
	char *old = t_token(&t, "alice", "ssh"), *new;

	t_reconfigure(&t, "rotation_grace = 3600\n");
	new = rotate(old);
	expect(old, "revoked", "the old one is refused");
	expect(new, "OK", "but within the grace period its family stays");
	t_free(new);
	t_free(old);
}

Test(reuse, a_reused_token_at_the_password_prompt)
{
	char *old = t_token(&t, "alice", "ssh"), *new, *res;

	new = rotate(old);
	res = t_pam_login(&t, "sshd", "alice", old, NULL);
	cr_assert_str_eq(res, "PAM_AUTH_ERR", "the old token is refused");
	free(res);
	res = t_pam_login(&t, "sshd", "alice", new, NULL);
	cr_assert_str_eq(res, "PAM_AUTH_ERR", "and so is its replacement");
	free(res);
	t_free(new);
	t_free(old);
}
