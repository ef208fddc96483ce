/*
 * Issue 14, item 1: lifetime policy per role.  A role may bound how long
 * its tokens live (max_lifetime, counted from creation), give tokens
 * created without an expiry one (default_lifetime), and stop tokens left
 * unused (max_idle).  Through a real patd whose clock the test moves
 * (patd --test-clock), patctl, and pam_pat.so under real libpam.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define DAY	86400LL

static struct tpatd t;

/* patd with a clock we move, no retention purge (the clock jumps by
 * months), and last use written only when asked (LIST, SHOW, exit): a
 * verification's use stays in the pending batch. */
static void
setup(void)
{
	char conf[100];

	t_start_clock(&t, NULL);
	snprintf(conf, sizeof(conf), "%s/patd.conf", t.dir);
	t_write(conf, "retention_days = 0\nlastuse_flush = 3600\n", 0644);
	t_kill9(&t);
	snprintf(t.extra, sizeof(t.extra), "--config %s --test-clock %s/clock",
	    conf, t.dir);
	t_restart(&t);
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(policy, .init = setup, .fini = teardown, .timeout = 90);

/* patctl verify as root; *err (may be NULL) gets its stderr. */
static int
verify(const char *tok, char **err)
{
	return t_ctl(&t, 0, tok, NULL, err, "verify");
}

/* The value of key in the ITEM of token id in LIST's answer (malloc'd). */
static char *
item_field(const char *list, unsigned id, const char *key)
{
	char want[32];
	const char *p;

	snprintf(want, sizeof(want), "ITEM id=%u ", id);
	p = strstr(list, want);
	cr_assert_not_null(p, "no token %u in %s", id, list);
	return t_field(p, "ITEM", key);
}

/* The expiry CREATE gave token id, from LIST, in seconds. */
static long long
expires_of(unsigned id)
{
	char *r = t_raw(&t, "LIST all=1\n", 1), *v = item_field(r, id,
	    "expires");
	long long e = atoll(v);

	free(v);
	free(r);
	return e;
}

/* patd's time now: the real one plus the test clock's offset. */
static long long
now_plus(long long offset)
{
	return (long long)time(NULL) + offset;
}

Test(policy, role_set_keeps_the_policy_and_role_show_and_list_say_it)
{
	char *out = NULL, *err = NULL, *r;

	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "role set deploy pam.sshd "
	    "--max-lifetime 90d --default-lifetime 30d --max-idle 60d"), 0,
	    "%s", err);
	cr_assert(strstr(err, "role deploy set: tokens live at most 90 days "
	    "(30 days when created without an expiry); tokens stop after 60 "
	    "days unused"), "%s", err);
	free(err);
	r = t_raw(&t, "ROLE-SHOW name=deploy\nROLE-LIST\n", 2);
	cr_assert(strstr(r, "OK name=deploy perms=pam.sshd max_lifetime=7776000 "
	    "default_lifetime=2592000 max_idle=5184000 grants=0"), "%s", r);
	cr_assert(strstr(r, "ITEM name=deploy perms=pam.sshd "
	    "max_lifetime=7776000 default_lifetime=2592000 max_idle=5184000"),
	    "%s", r);
	free(r);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "role show deploy"), 0);
	cr_assert(strstr(out, "tokens live at most 90 days"), "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "role list"), 0);
	cr_assert(strstr(out, "POLICY") && strstr(out, "max 90d, default 30d, "
	    "idle 60d"), "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json role show deploy"),
	    0);
	cr_assert(strstr(out, "\"max_lifetime\":7776000,\"default_lifetime\":"
	    "2592000,\"max_idle\":5184000"), "%s", out);
	free(out);

	/* set replaces the role whole: no flag, no limit */
	t_role(&t, "deploy", "pam.sshd");
	r = t_raw(&t, "ROLE-SHOW name=deploy\n", 1);
	cr_assert(strstr(r, "max_lifetime=0 default_lifetime=0 max_idle=0"),
	    "%s", r);
	free(r);
	/* and a deleted role takes its policy along */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set deploy pam.sshd "
	    "--max-idle 2w"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role delete deploy"), 0);
	free(t_raw(&t, "ROLE-SET name=deploy perms=pam.sshd\n", 1));
	r = t_raw(&t, "ROLE-SHOW name=deploy\n", 1);
	cr_assert(strstr(r, "max_idle=0"), "the policy outlived its role: %s",
	    r);
	free(r);

	/* a default longer than the maximum: refused by patctl and patd */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "role set x pam.sshd "
	    "--max-lifetime 30d --default-lifetime 90d"), 2);
	cr_assert(strstr(err, "--default-lifetime 90 days is longer than "
	    "--max-lifetime 30 days"), "%s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "role set x pam.sshd "
	    "--max-idle 0d"), 2);
	cr_assert(strstr(err, "no time at all"), "%s", err);
	free(err);
	r = t_raw(&t, "ROLE-SET name=x perms=pam.sshd max_lifetime=60 "
	    "default_lifetime=61\nROLE-SET name=x perms=pam.sshd max_idle=-1\n",
	    2);
	cr_assert(strncmp(r, "ERR code=bad-request", 20) == 0 &&
	    strstr(strchr(r, '\n') + 1, "ERR code=bad-request"), "%s", r);
	free(r);
	/* only admins set a policy */
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "role set x pam.sshd "
	    "--max-idle 1d"), 1);
}

Test(policy, create_past_max_lifetime_is_refused_with_the_limit)
{
	char *out = NULL, *err = NULL, *p = NULL, *log;

	t_need_root();
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set deploy pam.sshd "
	    "--max-lifetime 90d --default-lifetime 30d"), 0);
	t_grant(&t, "deploy", "--user alice");
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "create --user alice "
	    "--role deploy --expires 180d"), 1, "exit 1: refused");
	/* 180 days from patctl's now: a second less from patd's */
	cr_assert(strstr(err, "role deploy allows tokens of at most 90 days; "
	    "the expiry asked for, ") && (strstr(err, "is 180 days away") ||
	    strstr(err, "is 179 days 23 hours away")) &&
	    strstr(err, "(policy-exceeded)"), "%s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "create --user alice "
	    "--role deploy --expires never"), 1);
	cr_assert(strstr(err, "at most 90 days; one that never expires would "
	    "exceed it"), "%s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json create --user "
	    "alice --role deploy --expires 1y"), 1);
	cr_assert(strstr(out, "\"code\":\"policy-exceeded\""), "%s", out);
	free(out);
	/* at the limit is fine */
	cr_assert_eq(t_ctl(&t, 0, NULL, &p, &err, "create --user alice --role "
	    "deploy --expires 90d"), 0, "%s", err);
	free(err);
	p[strcspn(p, "\n")] = '\0';
	/* a token's child follows its own role's policy too */
	cr_assert_eq(t_ctl(&t, ALICE, p, NULL, &err, "create --role deploy "
	    "--expires 91d --parent-from-stdin"), 1);
	cr_assert(strstr(err, "at most 90 days"), "%s", err);
	free(err);
	log = t_slurp(t.log);
	cr_assert_null(strstr(log, strstr(p, "|pat-") + 5), "secret logged");
	free(log);
	t_free(p);
}

Test(policy, no_expiry_asked_gets_the_default_or_the_maximum)
{
	char *out = NULL, *err = NULL;
	long long e, before;

	t_need_root();
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set deploy pam.sshd "
	    "--max-lifetime 90d --default-lifetime 30d"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set ci pam.sshd "
	    "--max-lifetime 1w"), 0);
	t_role(&t, "open", "pam.sshd");
	t_grant(&t, "deploy", "--user alice");
	t_grant(&t, "ci", "--user alice");
	t_grant(&t, "open", "--user alice");
	before = now_plus(0);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, &err, "create --user alice "
	    "--role deploy"), 0, "%s", err);
	cr_assert(strstr(err, "(the role's default lifetime)"), "%s", err);
	t_free(out);
	free(err);
	e = expires_of(1);
	cr_assert(e >= before + 30 * DAY && e <= now_plus(30 * DAY), "%lld", e);
	/* only a maximum: a token that never expires would pass it */
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, &err, "--json create --user "
	    "alice --role ci"), 0);
	cr_assert(strstr(out, "\"expires_by\":\"max_lifetime\""), "%s", out);
	t_free(out);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, &err, "create --user alice "
	    "--role ci"), 0);
	cr_assert(strstr(err, "(the role's max lifetime: it allows no token "
	    "that never expires)"), "%s", err);
	t_free(out);
	free(err);
	e = expires_of(2);
	cr_assert(e >= before + 7 * DAY && e <= now_plus(7 * DAY), "%lld", e);
	/* what was asked for, within the limit, stands; no policy: never */
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "create --user alice "
	    "--role deploy --expires 2d"), 0);
	t_free(out);
	e = expires_of(4);
	cr_assert(e >= before + 2 * DAY && e <= now_plus(2 * DAY), "%lld", e);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "create --user alice "
	    "--role open"), 0);
	t_free(out);
	cr_assert_eq(expires_of(5), 0);
	out = t_slurp(t.log);
	cr_assert(strstr(out, "event=create id=1 ") && strstr(out,
	    "expires_by=default_lifetime") && strstr(out,
	    "expires_by=max_lifetime"), "the log says why: %s", out);
	free(out);
}

Test(policy, a_child_stops_with_its_parent_under_the_parents_policy_now)
{
	char *p = NULL, *c = NULL, *c2 = NULL, *out = NULL, *err = NULL;
	long long e;

	t_need_root();
	t_role(&t, "parent", "pam.sshd");
	t_role(&t, "child", "pam.sshd");
	t_grant(&t, "parent", "--user alice");
	t_grant(&t, "child", "--user alice");
	p = t_token(&t, "alice", "parent");	/* never expires, no policy */
	cr_assert_eq(t_ctl(&t, ALICE, p, &c2, &err, "create --role child "
	    "--parent-from-stdin"), 0, "%s", err);
	free(err);
	c2[strcspn(c2, "\n")] = '\0';
	cr_assert_eq(expires_of(2), 0);
	/* the parent's role gets a maximum: the parent ends 10 days after
	 * its creation, and so does a child made now */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set parent pam.sshd "
	    "--max-lifetime 10d"), 0);
	cr_assert_eq(t_ctl(&t, ALICE, p, &c, &err, "--json create --role child "
	    "--parent-from-stdin"), 0, "%s", err);
	cr_assert(strstr(c, "\"expires_by\":\"parent\""), "%s", c);
	free(err);
	t_free(c);
	e = expires_of(3);
	cr_assert(e > now_plus(9 * DAY) && e <= now_plus(10 * DAY), "%lld", e);
	/* the child made before the change (no expiry of its own, a role
	 * without a policy) ends with the parent too */
	t_clock(&t, 9 * DAY);
	cr_assert_eq(verify(c2, NULL), 0);
	t_clock(&t, 11 * DAY);
	cr_assert_eq(verify(c2, &err), 1);
	cr_assert(strstr(err, "a token above it (its parent) has"), "%s", err);
	free(err);
	out = t_raw(&t, "LIST all=1\n", 1);
	e = 0;
	c = item_field(out, 2, "state");
	cr_assert_str_eq(c, "expired", "%s", out);
	free(c);
	free(out);
	t_free(c2);
	t_free(p);
}

Test(policy, a_lowered_max_lifetime_refuses_existing_tokens_at_next_use)
{
	char *tok, *out = NULL, *err = NULL, *v, *r;

	t_role(&t, "deploy", "pam.sshd");
	t_grant(&t, "deploy", "--user alice");
	tok = t_token(&t, "alice", "deploy");
	t_clock(&t, 10 * DAY);
	cr_assert_eq(verify(tok, NULL), 0, "no policy: it works");
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set deploy pam.sshd "
	    "--max-lifetime 7d"), 0);
	cr_assert_eq(verify(tok, &err), 1, "older than the new maximum");
	cr_assert(strstr(err, "the token is older than role deploy allows (max "
	    "lifetime 7 days) (expired)"), "%s", err);
	free(err);
	out = t_slurp(t.log);
	cr_assert(strstr(out, "event=verify result=refused reason=expired "
	    "policy=max_lifetime id=1 "), "%s", out);
	free(out);
	/* list and show say why it stopped */
	r = t_raw(&t, "LIST all=1\n", 1);
	v = item_field(r, 1, "state");
	cr_assert_str_eq(v, "expired");
	free(v);
	v = item_field(r, 1, "ends_by");
	cr_assert_str_eq(v, "max_lifetime");
	free(v);
	free(r);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "list --all"), 0);
	cr_assert(strstr(out, "expired"), "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "show 1"), 0);
	cr_assert(strstr(out, "because of     its role's max lifetime"), "%s",
	    out);
	free(out);
	/* a policy changed back applies at the next use just the same */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set deploy pam.sshd "
	    "--max-lifetime 30d"), 0);
	cr_assert_eq(verify(tok, NULL), 0);
	t_free(tok);
}

Test(policy, a_token_unused_for_max_idle_is_refused_as_idle)
{
	char *a, *b, *c, *out = NULL, *err = NULL, *r, *v;

	t_role(&t, "deploy", "pam.sshd");
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set deploy pam.sshd "
	    "--max-idle 60d"), 0);
	t_grant(&t, "deploy", "--user alice");
	a = t_token(&t, "alice", "deploy");
	b = t_token(&t, "alice", "deploy");
	cr_assert_eq(verify(a, NULL), 0);
	t_clock(&t, 59 * DAY);
	cr_assert_eq(verify(a, NULL), 0, "59 days is not 60");
	t_clock(&t, 61 * DAY);
	/* a: used on day 59; b: never used, made on day 0 */
	cr_assert_eq(verify(a, NULL), 0, "used two days ago");
	cr_assert_eq(verify(b, &err), 1, "never used for 61 days");
	cr_assert(strstr(err, "unused for longer than role deploy allows (max "
	    "idle 60 days) (idle)"), "%s", err);
	free(err);
	out = t_slurp(t.log);
	cr_assert(strstr(out, "reason=idle policy=max_idle id=2 "), "%s", out);
	free(out);
	r = t_raw(&t, "LIST all=1\n", 1);
	v = item_field(r, 2, "state");
	cr_assert_str_eq(v, "idle", "list says why");
	free(v);
	v = item_field(r, 1, "state");
	cr_assert_str_eq(v, "active");
	free(v);
	free(r);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "list --all"), 0);
	cr_assert(strstr(out, " idle "), "%s", out);
	free(out);

	/* a use still waiting in the batch counts: c is made on day 61 and
	 * used on day 150, which only the batch knows (lastuse_flush is an
	 * hour, and nothing asked for LIST since) */
	c = t_token(&t, "alice", "deploy");
	t_clock(&t, 120 * DAY);
	cr_assert_eq(verify(c, NULL), 0, "59 days after its creation");
	t_clock(&t, 150 * DAY);
	cr_assert_eq(verify(c, NULL), 0, "used 30 days ago");
	t_clock(&t, 200 * DAY);
	cr_assert_eq(verify(c, NULL), 0, "used 50 days ago, not yet written");
	t_clock(&t, 261 * DAY);
	cr_assert_eq(verify(c, NULL), 1, "unused for 61 days");

	/* without the limit, the same tokens work again at their next use */
	t_role(&t, "deploy", "pam.sshd");
	cr_assert_eq(verify(b, NULL), 0);
	t_free(a);
	t_free(b);
	t_free(c);
}

Test(policy, an_idle_token_is_refused_through_pam_not_unavailable)
{
	char *tok, *fresh, *res;

	t_need_root();
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set ssh pam.sshd "
	    "--max-idle 30d"), 0);
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	res = t_pam_login(&t, "sshd", "alice", tok, NULL);
	cr_assert_str_eq(res, "PAM_SUCCESS");
	free(res);
	t_clock(&t, 31 * DAY);
	res = t_pam_login(&t, "sshd", "alice", tok, NULL);
	cr_assert_str_eq(res, "PAM_AUTH_ERR", "idle is a refusal");
	free(res);
	fresh = t_token(&t, "alice", "ssh");
	res = t_pam_login(&t, "sshd", "alice", fresh, NULL);
	cr_assert_str_eq(res, "PAM_SUCCESS", "a fresh token still works");
	free(res);
	t_free(tok);
	t_free(fresh);
}

Test(policy, the_test_clock_trusts_only_a_private_file)
{
	char *tok, *out = NULL, *err = NULL, path[200];

	t_role(&t, "deploy", "pam.sshd");
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set deploy pam.sshd "
	    "--max-idle 60d"), 0);
	t_grant(&t, "deploy", "--user alice");
	tok = t_token(&t, "alice", "deploy");
	/* a clock file anyone may write moves nothing */
	snprintf(path, sizeof(path), "%s/clock", t.dir);
	t_write(path, "5270400\n", 0666);
	cr_assert_eq(verify(tok, NULL), 0, "an untrusted file counts as 0");
	out = t_slurp(t.log);
	cr_assert(strstr(out, "test clock: ") && strstr(out, "counting no "
	    "offset"), "%s", out);
	free(out);
	t_write(path, "5270400\n", 0600);
	cr_assert_eq(verify(tok, NULL), 1, "61 days later: idle");
	/* and patd does not start on one, nor on a relative path */
	t_write(path, "0\n", 0666);
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, &err, "\"$PATD\" --socket %s/x.sock "
	    "--state %s/state2 --test-clock %s", t.dir, t.dir, path), 2);
	cr_assert(strstr(err, "refusing --test-clock"), "%s", err);
	free(err);
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, &err, "\"$PATD\" --socket %s/x.sock "
	    "--state %s/state2 --test-clock clock", t.dir, t.dir), 2);
	cr_assert(strstr(err, "not an absolute path"), "%s", err);
	free(err);
	t_free(tok);
}

Test(policy, bash_completion_offers_the_policy_flags)
{
	char *out = NULL;

	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "bash -c '. \"$PAT_SRC\"/"
	    "patctl/patctl.bash; COMP_WORDS=(\"$PATCTL\" role set web pam.sshd "
	    "--max-); COMP_CWORD=5; _patctl; printf \"%%s\\n\" "
	    "\"${COMPREPLY[@]}\"'"), 0);
	cr_assert_str_eq(out, "--max-lifetime\n--max-idle\n");
	free(out);
}
