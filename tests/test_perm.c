/* Unit tests: permission patterns, covering, sets and intersection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "perm.h"

static char *
joined(const struct pat_permset *s)
{
	static char out[4096];
	char *j = pat_permset_join(s);

	cr_assert_not_null(j);
	snprintf(out, sizeof(out), "%s", j);
	free(j);
	return out;
}

Test(perm, validity)
{
	static const char *good[] = { "pam.sshd", "svc.billing:read", "*",
		"pam.*", "svc.billing:*", "a", "a-b_c.D9" };
	static const char *bad[] = { "", ".", "pam.", ".pam", "pam..sshd",
		"pam.*.x", "pam*", "pam.s*", "**", "pam sshd", "pam,sshd",
		"pam/sshd", "pam.ß", "*.pam" };
	char longp[PAT_PERM_MAX_LEN + 2];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		cr_assert(pat_perm_valid(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_not(pat_perm_valid(bad[i]), "%s", bad[i]);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	cr_assert_not(pat_perm_valid(longp));
	longp[PAT_PERM_MAX_LEN] = '\0';
	cr_assert(pat_perm_valid(longp));
}

Test(perm, covering)
{
	cr_assert(pat_perm_covers("pam.sshd", "pam.sshd"));
	cr_assert(pat_perm_covers("pam.*", "pam.sshd"));
	cr_assert(pat_perm_covers("pam.*", "pam.x.y"));
	cr_assert(pat_perm_covers("*", "pam.sshd"));
	cr_assert(pat_perm_covers("*", "pam.*"));
	cr_assert(pat_perm_covers("svc.billing:*", "svc.billing:read"));
	cr_assert(pat_perm_covers("svc.*", "svc.billing:*"));
	cr_assert_not(pat_perm_covers("pam.sshd", "pam.sudo"));
	cr_assert_not(pat_perm_covers("pam.sshd", "pam.*"));
	cr_assert_not(pat_perm_covers("pam.*", "pam"));
	cr_assert_not(pat_perm_covers("pam.*", "pamx.sshd"));
	cr_assert_not(pat_perm_covers("svc.billing:*", "svc.billingx:read"));
	cr_assert_not(pat_perm_covers("svc.billing:*", "svc.*"));
}

Test(perm, sets_stay_normalised)
{
	struct pat_permset s;

	pat_permset_init(&s);
	cr_assert_eq(pat_permset_add_list(&s, "pam.sudo, pam.sshd,svc.a:read"), 0);
	cr_assert_str_eq(joined(&s), "pam.sshd,pam.sudo,svc.a:read");
	cr_assert_eq(pat_permset_add(&s, "pam.*"), 0);
	cr_assert_str_eq(joined(&s), "pam.*,svc.a:read");
	cr_assert_eq(pat_permset_add(&s, "pam.sshd"), 0);
	cr_assert_str_eq(joined(&s), "pam.*,svc.a:read");
	cr_assert_eq(pat_permset_add(&s, "bad perm"), -EINVAL);
	cr_assert_eq(pat_permset_add_list(&s, "x,,y..z"), -EINVAL);
	cr_assert(pat_permset_covers(&s, "pam.login"));
	cr_assert_not(pat_permset_covers(&s, "svc.a:write"));
	pat_permset_free(&s);
	cr_assert_str_eq(joined(&s), "");
}

Test(perm, set_size_is_bounded)
{
	struct pat_permset s;
	char p[32];
	int i, r = 0;

	pat_permset_init(&s);
	for (i = 0; i <= PAT_PERMSET_MAX && r == 0; i++) {
		snprintf(p, sizeof(p), "p.%d", i);
		r = pat_permset_add(&s, p);
	}
	cr_assert_eq(r, -E2BIG);
	cr_assert_eq(s.n, PAT_PERMSET_MAX);
	pat_permset_free(&s);
}

static void
check_intersection(const char *a, const char *b, const char *want)
{
	struct pat_permset sa, sb, out;

	pat_permset_init(&sa);
	pat_permset_init(&sb);
	pat_permset_init(&out);
	cr_assert_eq(pat_permset_add_list(&sa, a), 0);
	cr_assert_eq(pat_permset_add_list(&sb, b), 0);
	cr_assert_eq(pat_permset_intersect(&sa, &sb, &out), 0);
	cr_assert_str_eq(joined(&out), want, "%s ∩ %s", a, b);
	cr_assert_eq(pat_permset_intersect(&sb, &sa, &out), 0);
	cr_assert_str_eq(joined(&out), want, "%s ∩ %s (swapped)", b, a);
	pat_permset_free(&sa);
	pat_permset_free(&sb);
	pat_permset_free(&out);
}

/*
 * Issue 17: the wildcard boundary.  A pattern's "*" stands for whole
 * segments after its separator, and '.' and ':' are not interchangeable.
 */
Test(perm, the_wildcard_boundary)
{
	static const char *under_pam[] = { "pam.sshd", "pam.a", "pam.a.b",
		"pam.a:b", "pam.x.*", "pam.-" };
	static const char *not_under_pam[] = { "pamx.sshd", "pam", "pam:sshd",
		"pa", "pamsshd", "pamx.*", "svc.pam.sshd" };
	static const char *under_billing[] = { "svc.billing:read",
		"svc.billing:read.more", "svc.billing:a:b", "svc.billing:*" };
	static const char *not_under_billing[] = { "svc.billing",
		"svc.billingx:read", "svc.billing.read", "svc.billin:read",
		"svc.*", "svc.billing:" };
	static const char *valid[] = { "a", "pam", "pam.sshd", "pam.*",
		"svc.billing:read", "x-y_Z.9:q", "*" };
	size_t i;

	/* "pam." is not a permission at all: no set can hold it */
	cr_assert_not(pat_perm_valid("pam."));
	cr_assert_not(pat_perm_covers("pam.*", "pam."));
	{
		struct pat_permset s;

		pat_permset_init(&s);
		cr_assert_eq(pat_permset_add(&s, "pam."), -EINVAL);
		pat_permset_free(&s);
	}
	for (i = 0; i < sizeof(under_pam) / sizeof(*under_pam); i++)
		cr_assert(pat_perm_covers("pam.*", under_pam[i]), "pam.* "
		    "should cover %s", under_pam[i]);
	for (i = 0; i < sizeof(not_under_pam) / sizeof(*not_under_pam); i++)
		cr_assert_not(pat_perm_covers("pam.*", not_under_pam[i]),
		    "pam.* covers %s", not_under_pam[i]);
	for (i = 0; i < sizeof(under_billing) / sizeof(*under_billing); i++)
		cr_assert(pat_perm_covers("svc.billing:*", under_billing[i]),
		    "svc.billing:* should cover %s", under_billing[i]);
	for (i = 0; i < sizeof(not_under_billing) /
	    sizeof(*not_under_billing); i++)
		cr_assert_not(pat_perm_covers("svc.billing:*",
		    not_under_billing[i]), "svc.billing:* covers %s",
		    not_under_billing[i]);
	for (i = 0; i < sizeof(valid) / sizeof(*valid); i++) {
		cr_assert(pat_perm_valid(valid[i]), "%s", valid[i]);
		cr_assert(pat_perm_covers("*", valid[i]), "* should cover %s",
		    valid[i]);
	}
	/* the same boundary for sets, as patd computes effective sets */
	check_intersection("pam.*", "pamx.sshd,pam,pam:sshd,svc.pam.x", "");
	check_intersection("svc.billing:*", "svc.billing,svc.billingx:read,"
	    "svc.billing.read", "");
	check_intersection("pam.*,svc.billing:*", "pam.a.b,svc.billing:read",
	    "pam.a.b,svc.billing:read");
}

Test(perm, intersection_examples)
{
	check_intersection("pam.*", "pam.sshd,svc.x", "pam.sshd");
	check_intersection("*", "pam.sshd,svc.b:*", "pam.sshd,svc.b:*");
	check_intersection("pam.sshd", "pam.sudo", "");
	check_intersection("svc.*", "svc.billing:*", "svc.billing:*");
	check_intersection("svc.billing:read,pam.*", "svc.*,pam.sudo",
	    "pam.sudo,svc.billing:read");
	check_intersection("", "*", "");
}

/*
 * Property ("never more"): over many random role / user / cap sets drawn
 * from a small vocabulary so they overlap often, the effective set
 * role ∩ user ∩ cap covers a permission exactly when all three do.
 */
static const char *segs[] = { "pam", "svc", "sshd", "sudo", "billing", "a" };
static const char *seps[] = { ".", ":" };

static void
random_perm(char *out, size_t n, int allow_wild)
{
	int depth = 1 + rand() % 3, i;
	size_t len = 0;

	out[0] = '\0';
	for (i = 0; i < depth; i++) {
		if (i > 0)
			len += (size_t)snprintf(out + len, n - len, "%s",
			    seps[rand() % 2]);
		if (allow_wild && i == depth - 1 && rand() % 3 == 0)
			len += (size_t)snprintf(out + len, n - len, "*");
		else
			len += (size_t)snprintf(out + len, n - len, "%s",
			    segs[rand() % 6]);
	}
}

static void
random_set(struct pat_permset *s)
{
	char p[64];
	int i, n = rand() % 6;

	pat_permset_init(s);
	for (i = 0; i < n; i++) {
		random_perm(p, sizeof(p), 1);
		if (rand() % 25 == 0)
			strcpy(p, "*");
		cr_assert_eq(pat_permset_add(s, p), 0, "%s", p);
	}
}

Test(perm, effective_set_is_never_more)
{
	struct pat_permset role, user, cap, ru, eff;
	char q[64];
	int round, k, checked = 0, granted = 0;

	srand(20261127);
	for (round = 0; round < 3000; round++) {
		random_set(&role);
		random_set(&user);
		random_set(&cap);
		pat_permset_init(&ru);
		pat_permset_init(&eff);
		cr_assert_eq(pat_permset_intersect(&role, &user, &ru), 0);
		cr_assert_eq(pat_permset_intersect(&ru, &cap, &eff), 0);
		for (k = 0; k < 40; k++) {
			/* probes: concrete permissions and patterns */
			random_perm(q, sizeof(q), k % 2);
			int all = pat_permset_covers(&role, q) &&
			    pat_permset_covers(&user, q) &&
			    pat_permset_covers(&cap, q);
			int e = pat_permset_covers(&eff, q);
			cr_assert_eq(e, all, "round %d probe %s: eff=%d all=%d",
			    round, q, e, all);
			checked++;
			granted += e;
		}
		/* every member of eff is covered by each of the three */
		for (size_t i = 0; i < eff.n; i++) {
			cr_assert(pat_permset_covers(&role, eff.v[i]));
			cr_assert(pat_permset_covers(&user, eff.v[i]));
			cr_assert(pat_permset_covers(&cap, eff.v[i]));
		}
		pat_permset_free(&role);
		pat_permset_free(&user);
		pat_permset_free(&cap);
		pat_permset_free(&ru);
		pat_permset_free(&eff);
	}
	/* the property is only meaningful if both outcomes occurred */
	cr_assert_gt(granted, 100, "only %d of %d probes granted", granted,
	    checked);
	cr_assert_gt(checked - granted, 100);
	fprintf(stderr, "[FIGURE] never-more: 3000 random role/user/cap sets, "
	    "%d probes, %d granted\n", checked, granted);
}
