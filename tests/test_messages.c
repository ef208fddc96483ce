/*
 * Messages that tell the truth (issue 12, item 6): what a created token
 * left out and why, a second revocation, a pat.admin token asking for
 * another user's token, a duplicate grant, a revoked token's permissions,
 * and root's empty list.  Real patd and patctl; raw protocol where the
 * fields themselves are the contract.
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
	t_role(&t, "ops", "pam.sshd pam.sudo");
	t_grant(&t, "ssh", "--user alice");
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(messages, .init = setup, .fini = teardown, .timeout = 60);

Test(messages, a_permission_the_owner_lacks_is_not_blamed_on_the_creator)
{
	char *out = NULL, *err = NULL, *r;

	cr_assert_eq(t_ctl(&t, 0, NULL, &out, &err, "create --user alice "
	    "--role ops"), 0, "%s", err);
	cr_assert(strstr(err, "alice does not hold pam.sudo") &&
	    strstr(err, "as soon as alice is granted it"), "%s", err);
	cr_assert_null(strstr(err, "creating token"), "%s", err);
	t_free(out);
	free(err);
	r = t_raw(&t, "CREATE role=ops user=alice\n", 1);
	cr_assert(strstr(r, " stripped=pam.sudo stripped_owner=pam.sudo "
	    "stripped_cap=\n"), "%s", r);
	t_free(r);
}

Test(messages, a_permission_the_creating_token_lacks_is_never_in_force)
{
	char *parent, *out = NULL, *err = NULL;

	parent = t_token(&t, "alice", "ssh");	/* pam.sshd only */
	t_grant(&t, "ops", "--user alice");	/* now she holds both */
	cr_assert_eq(t_ctl(&t, ALICE, parent, &out, &err, "create "
	    "--parent-from-stdin --role ops"), 0, "%s", err);
	cr_assert(strstr(err, "never in force: the creating token lacks "
	    "pam.sudo"), "%s", err);
	cr_assert_null(strstr(err, "does not hold"), "%s", err);
	t_free(out);
	free(err);
	cr_assert_eq(t_ctl(&t, ALICE, parent, &out, NULL, "--json create "
	    "--parent-from-stdin --role ops"), 0);
	cr_assert(strstr(out, "\"stripped_owner\":[],\"stripped_cap\":"
	    "[\"pam.sudo\"]"), "%s", out);
	t_free(out);
	t_free(parent);
}

Test(messages, revoking_again_says_what_had_happened)
{
	char *tok, *out = NULL, *err = NULL;

	t_free(t_token(&t, "alice", "ssh"));	/* 1 */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "revoke 1"), 0);
	cr_assert(strstr(err, "revoked 1 token(s)"), "%s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "revoke 1"), 0,
	    "revoking twice is not an error");
	cr_assert(strstr(err, "token 1 was already revoked on "), "%s", err);
	cr_assert_null(strstr(err, "revoked 0"), "%s", err);
	free(err);
	/* 2 rotated into 3 */
	tok = t_token(&t, "alice", "ssh");
	cr_assert_eq(t_ctl(&t, ALICE, tok, &out, NULL, "rotate"), 0);
	t_free(out);
	t_free(tok);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "revoke 2"), 0);
	cr_assert(strstr(err, "token 2 was rotated into 3 on "), "%s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json revoke 2"), 0);
	cr_assert(strstr(out, "\"revoked\":0,") &&
	    strstr(out, "\"already\":\"rotated\",\"revoked_at\":") &&
	    strstr(out, "\"rotated_into\":3"), "%s", out);
	free(out);
	out = t_raw(&t, "REVOKE id=1\n", 1);
	cr_assert(strncmp(out, "OK revoked=0 already=revoked revoked_at=", 40)
	    == 0 && !strstr(out, "rotated_into"), "%s", out);
	free(out);
	/* the token it was rotated into is still good */
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "list --user alice"), 0);
	cr_assert(strstr(out, "active"), "%s", out);
	free(out);
}

Test(messages, a_pat_admin_token_is_told_the_rule_for_other_users)
{
	char *tok, *err = NULL;

	t_role(&t, "admin", "pat.admin pam.sshd");
	t_grant(&t, "admin", "--user alice");
	tok = t_token(&t, "alice", "admin");
	/* the token is an admin's: role changes work … */
	cr_assert_eq(t_ctl(&t, ALICE, tok, NULL, NULL, "--auth-from-stdin role "
	    "set web svc.web:read"), 0);
	/* … a token for bob does not, and the message says exactly that */
	cr_assert_eq(t_ctl(&t, ALICE, tok, NULL, &err, "--auth-from-stdin "
	    "create --user bob --role ssh"), 1);
	cr_assert(strstr(err, "created by root only") &&
	    strstr(err, "without --auth-from-stdin") &&
	    strstr(err, "pat.admin does not allow it"), "%s", err);
	cr_assert_null(strstr(err, "pass a token holding pat.admin"),
	    "advice that cannot work: %s", err);
	free(err);
	t_free(tok);
}

Test(messages, a_duplicate_grant_says_it_existed)
{
	char *err = NULL, *r;

	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "grant ssh --user alice"),
	    0);
	cr_assert(strstr(err, "alice already had role ssh"), "%s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "grant ops --user alice"),
	    0);
	cr_assert(strstr(err, "granted role ops to user alice"), "%s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "grant ops --group devs"),
	    0);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "grant ops --group devs"),
	    0);
	cr_assert(strstr(err, "group devs already had role ops"), "%s", err);
	free(err);
	r = t_raw(&t, "GRANT role=ssh user=alice\nGRANT role=ssh user=bob\n", 2);
	cr_assert_str_eq(r, "OK existed=1\nOK existed=0\n");
	free(r);
}

Test(messages, a_revoked_token_has_nothing_in_force)
{
	char *out = NULL, *r;

	t_free(t_token(&t, "alice", "ssh"));
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "revoke 1"), 0);
	r = t_raw(&t, "SHOW id=1\n", 1);
	cr_assert(strstr(r, "PERM perm=pam.sshd status=removed by=revoked "
	    "effective=\n"), "%s", r);
	cr_assert(strstr(r, " perms= "), "%s", r);
	free(r);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "show 1"), 0);
	cr_assert(strstr(out, "IN FORCE"), "%s", out);
	cr_assert_null(strstr(strstr(out, "IN FORCE"), "pam.sshd\n"),
	    "a revoked token shows pam.sshd in force: %s", out);
	free(out);
}

Test(messages, root_with_no_tokens_of_its_own_is_pointed_at_all)
{
	char *out = NULL, *err = NULL;

	t_free(t_token(&t, "alice", "ssh"));
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "list"), 0);
	cr_assert(strstr(err, "patctl list --all"), "%s", err);
	free(err);
	/* not in JSON, not for alice, not once root has a token */
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, &err, "--json list"), 0);
	cr_assert_str_eq(err, "");
	free(out);
	free(err);
	cr_assert_eq(t_ctl(&t, BOB, NULL, NULL, &err, "list"), 0);
	cr_assert_null(strstr(err, "--all"), "%s", err);
	free(err);
	t_grant(&t, "ssh", "--user root");
	t_free(t_token(&t, "root", "ssh"));
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "list"), 0);
	cr_assert_null(strstr(err, "--all"), "%s", err);
	free(err);
}
