/* test_effective.c - unit tests: effective = role ∩ owner ∩ cap (#17). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "access.h"
#include "harness.h"
#include "patd.h"
#include "store.h"

/*
 * A store of our own in a temporary directory, read by access.c as patd
 * reads it.  The owner is "root": it exists in the real NSS, so the test
 * process needs no nss_wrapper (and root's groups include "root").
 */
static char dir[128];
static struct patd d;
static MDB_txn *txn;

static void
setup(void)
{
	t_tmpname(dir, sizeof(dir), "effective");
	cr_assert_not_null(mkdtemp(dir));
	memset(&d, 0, sizeof(d));
	cr_assert_eq(store_open(&d.store, dir, (size_t)64 << 20), 0);
	cr_assert_eq(store_begin(d.store, true, &txn), 0);
}

static void
teardown(void)
{
	char cmd[160];

	if (txn != NULL)
		store_abort(txn);
	txn = NULL;
	if (d.store != NULL)
		store_close(d.store);
	d.store = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (strncmp(dir, "/tmp/pat-test.", 14) == 0 && system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

TestSuite(effective, .init = setup, .fini = teardown, .timeout = 30);

static void
role(const char *name, const char *perms)
{
	struct pat_permset s;

	pat_permset_init(&s);
	cr_assert_eq(pat_permset_add_list(&s, perms), 0, "%s", perms);
	cr_assert_eq(store_role_put(d.store, txn, name, &s), 0);
	pat_permset_free(&s);
}

static void
grant(char kind, const char *who, const char *r)
{
	cr_assert_eq(store_grant_put(d.store, txn, kind, who, r), 0);
}

static char *
joined(const struct pat_permset *s)
{
	static char out[4][1024];
	static int k;
	char *j = pat_permset_join(s);

	cr_assert_not_null(j);
	k = (k + 1) % 4;
	snprintf(out[k], sizeof(out[k]), "%s", j);
	free(j);
	return out[k];
}

/* A token of user's with this role and cap: the four sets access.c gives
 * (role now, owner now, cap, effective) must be exactly these. */
static void
check(const char *user, const char *rolename, const char *cap,
    const char *want_role, const char *want_owner, const char *want_cap,
    const char *want_eff)
{
	struct pat_permset sr, so, sc, se;
	struct tok_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.id = 1;
	snprintf(rec.user, sizeof(rec.user), "%s", user);
	snprintf(rec.role, sizeof(rec.role), "%s", rolename);
	snprintf(rec.cap, sizeof(rec.cap), "%s", cap);
	pat_permset_init(&sr);
	pat_permset_init(&so);
	pat_permset_init(&sc);
	pat_permset_init(&se);
	cr_assert_eq(access_effective(&d, txn, &rec, &sr, &so, &sc, &se), 0);
	cr_assert_str_eq(joined(&sr), want_role, "role %s", rolename);
	cr_assert_str_eq(joined(&so), want_owner, "owner %s", user);
	cr_assert_str_eq(joined(&sc), want_cap, "cap %s", cap);
	cr_assert_str_eq(joined(&se), want_eff, "effective: role %s, owner %s, "
	    "cap %s", rolename, user, cap);
	pat_permset_free(&sr);
	pat_permset_free(&so);
	pat_permset_free(&sc);
	pat_permset_free(&se);
}

static void
owner_is(const char *user, const char *want)
{
	struct pat_permset s;

	pat_permset_init(&s);
	cr_assert_eq(access_user_perms(&d, txn, user, &s), 0);
	cr_assert_str_eq(joined(&s), want, "%s's permissions", user);
	pat_permset_free(&s);
}

Test(effective, a_role_wider_than_its_owner_gives_only_what_the_owner_holds)
{
	role("wide", "pam.*,svc.*");
	role("ssh", "pam.sshd");
	role("billing", "svc.billing:*");
	grant('u', "root", "ssh");
	grant('u', "root", "billing");
	owner_is("root", "pam.sshd,svc.billing:*");
	check("root", "wide", "*", "pam.*,svc.*", "pam.sshd,svc.billing:*",
	    "*", "pam.sshd,svc.billing:*");
	/* and an owner wider than the role gives only the role */
	grant('u', "root", "wide");
	check("root", "ssh", "*", "pam.sshd", "pam.*,svc.*", "*", "pam.sshd");
}

Test(effective, a_cap_narrower_than_role_and_owner_narrows_them)
{
	role("wide", "pam.*,svc.*");
	grant('u', "root", "wide");
	check("root", "wide", "pam.sudo,svc.billing:read", "pam.*,svc.*",
	    "pam.*,svc.*", "pam.sudo,svc.billing:read",
	    "pam.sudo,svc.billing:read");
	/* a cap naming what the role lacks adds nothing */
	role("ssh", "pam.sshd");
	check("root", "ssh", "pam.sudo,pam.sshd", "pam.sshd", "pam.*,svc.*",
	    "pam.sshd,pam.sudo", "pam.sshd");
	/* an empty cap (a parent that held nothing) leaves nothing */
	check("root", "wide", "", "pam.*,svc.*", "pam.*,svc.*", "", "");
}

Test(effective, wildcards_meet_at_the_narrower_pattern)
{
	role("billing", "svc.billing:*");
	role("wide", "pam.*,svc.*");
	grant('u', "root", "wide");
	check("root", "billing", "svc.*", "svc.billing:*", "pam.*,svc.*",
	    "svc.*", "svc.billing:*");
	check("root", "billing", "svc.billing:read,svc.billingx:read,pam.sshd",
	    "svc.billing:*", "pam.*,svc.*",
	    "pam.sshd,svc.billing:read,svc.billingx:read", "svc.billing:read");
	check("root", "wide", "*", "pam.*,svc.*", "pam.*,svc.*", "*",
	    "pam.*,svc.*");
}

Test(effective, a_deleted_role_grants_nothing)
{
	role("ssh", "pam.sshd");
	role("temp", "pam.sshd,pam.sudo");
	grant('u', "root", "ssh");
	grant('u', "root", "temp");
	check("root", "temp", "*", "pam.sshd,pam.sudo", "pam.sshd,pam.sudo",
	    "*", "pam.sshd,pam.sudo");
	cr_assert_eq(store_role_del(d.store, txn, "temp"), 0);
	/* neither as the token's role nor through its (now dangling) grant */
	check("root", "temp", "*", "", "pam.sshd", "*", "");
	check("root", "never-was", "*", "", "pam.sshd", "*", "");
}

Test(effective, the_owner_holds_roles_through_groups_and_nothing_when_gone)
{
	struct pat_permset s;

	role("ssh", "pam.sshd");
	role("sudo", "pam.sudo");
	grant('u', "root", "ssh");
	grant('g', "root", "sudo");	/* root's primary group */
	owner_is("root", "pam.sshd,pam.sudo");
	check("root", "sudo", "*", "pam.sudo", "pam.sshd,pam.sudo", "*",
	    "pam.sudo");
	/* an owner NSS does not know holds nothing */
	pat_permset_init(&s);
	cr_assert_eq(access_user_perms(&d, txn, "pat-no-such-user-17", &s),
	    -ENOENT);
	cr_assert_eq(s.n, 0);
	check("pat-no-such-user-17", "ssh", "*", "pam.sshd", "", "*", "");
}
