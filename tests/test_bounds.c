/* test_bounds.c - what one user or one stolen token can make patd keep. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "store.h"

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

TestSuite(bounds, .init = setup, .fini = teardown, .timeout = 120);

/* alice makes a child of `parent` with her own patctl; returns the exit
 * code, the token in *tok (caller frees) and patd's words in *err. */
static int
child_of(const char *parent, char **tok, char **err)
{
	int rc;

	*tok = NULL;
	rc = t_ctl(&t, ALICE, parent, tok, err, "create --role ssh "
	    "--parent-from-stdin");
	if (*tok != NULL)
		(*tok)[strcspn(*tok, "\n")] = '\0';
	return rc;
}

static void
expect_refused(const char *parent, const char *words, const char *what)
{
	char *tok = NULL, *err = NULL;
	int rc = child_of(parent, &tok, &err);

	cr_assert_eq(rc, 1, "%s: want exit 1 (refused), got %d: %s", what, rc,
	    err);
	cr_assert(strstr(err, words), "%s: the refusal names %s: %s", what,
	    words, err);
	t_free(tok);
	free(err);
}

Test(bounds, a_stolen_token_cannot_mint_without_limit)
{
	char *p, *kid[4] = { NULL }, *err = NULL, req[64];
	int i;

	t_need_root();
	t_reconfigure(&t, "max_children_per_token = 3\nmax_tokens_per_user = 5\n");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	p = t_token(&t, "alice", "ssh");
	/* the holder of p, as alice's uid: three children, then no more */
	for (i = 0; i < 3; i++) {
		cr_assert_eq(child_of(p, &kid[i], &err), 0, "child %d: %s", i,
		    err);
		free(err);
	}
	expect_refused(p, "max_children_per_token", "a fourth child");
	/* from a child: the user's own total is the next wall (1 + 3 + 1) */
	cr_assert_eq(child_of(kid[0], &kid[3], &err), 0, "%s", err);
	free(err);
	expect_refused(kid[1], "max_tokens_per_user", "a sixth token");
	/* revoking frees room at once */
	snprintf(req, sizeof(req), "REVOKE id=%llu\n",
	    (unsigned long long)strtoull(kid[3], NULL, 10));
	free(t_raw(&t, req, 1));
	t_free(kid[3]);
	cr_assert_eq(child_of(kid[1], &kid[3], &err), 0, "after a revoke: %s",
	    err);
	free(err);
	for (i = 0; i < 4; i++)
		t_free(kid[i]);
	t_free(p);
}

Test(bounds, creations_are_rate_limited_per_uid_but_not_for_root)
{
	char *p, *k = NULL, *err = NULL, *r;
	int i;

	t_need_root();
	t_reconfigure(&t, "create_limit = 3\ncreate_window = 3600\n");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	p = t_token(&t, "alice", "ssh");
	for (i = 0; i < 3; i++) {
		cr_assert_eq(child_of(p, &k, &err), 0, "%d: %s", i, err);
		t_free(k);
		free(err);
	}
	cr_assert_eq(child_of(p, &k, &err), 1, "a fourth in the hour: %s", err);
	cr_assert(strstr(err, "create_limit"), "%s", err);
	t_free(k);
	free(err);
	/* root's bulk work is not the user's: it goes on */
	for (i = 0; i < 5; i++) {
		r = t_raw(&t, "CREATE role=ssh user=alice\n", 1);
		cr_assert_eq(strncmp(r, "OK", 2), 0, "root, %d: %s", i, r);
		t_free(r);
	}
	t_free(p);
}

Test(bounds, chains_are_bounded_at_creation_and_at_verification)
{
	char *p, *c = NULL, *g = NULL, *err = NULL, req[200], *r;

	t_need_root();
	t_reconfigure(&t, "max_token_depth = 2\n");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	p = t_token(&t, "alice", "ssh");
	cr_assert_eq(child_of(p, &c, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(child_of(c, &g, &err), 0, "%s", err);
	free(err);
	expect_refused(g, "max_token_depth", "a third generation");
	/* a lower limit later: the deeper token stops verifying */
	t_reconfigure(&t, "max_token_depth = 1\n");
	snprintf(req, sizeof(req), "VERIFY token=%s\n", g);
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, "ERR code=too-deep", 17), 0, "%s", r);
	free(r);
	snprintf(req, sizeof(req), "VERIFY token=%s\n", c);
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	free(r);
	t_free(p);
	t_free(c);
	t_free(g);
}

Test(bounds, revocation_and_admin_changes_always_have_room)
{
	char lines[100 * 40 + 1], *r, *first = NULL, *revoked;
	int n = 0, i, full = 0;

	t_need_root();
	/* 2 MiB map: a quarter MiB of it kept back */
	t_reconfigure(&t, "map_size_mb = 2\n" T_BULK_CONF);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	lines[0] = '\0';
	for (i = 0; i < 100; i++)
		strcat(lines, "CREATE role=ssh user=alice name=filler\n");
	/* fill the store a hundred creates at a time until it says full */
	while (!full) {
		char *l, *save = NULL;

		r = t_raw(&t, lines, 100);
		for (l = strtok_r(r, "\n", &save); l != NULL;
		    l = strtok_r(NULL, "\n", &save)) {
			if (strncmp(l, "OK", 2) == 0) {
				n++;
				if (first == NULL)
					first = t_field(l, "OK", "token");
			} else if (strncmp(l, "ERR code=store-full", 19) == 0)
				full = 1;
			else
				cr_assert_fail("unexpected answer: %.200s", l);
		}
		t_free(r);
		cr_assert_lt(n, 200000, "a 2 MiB map never filled");
	}
	/* root's revocation of that user, and admin changes, still commit */
	r = t_raw(&t, "REVOKE all=1 user=alice\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "revoke all on a full store: %s",
	    r);
	/* the reserve holds the first batch of marked records too (without
	 * it only the one per-user record would fit: revoked=0 pending=1) */
	revoked = t_field(r, "OK", "revoked");
	cr_assert(revoked != NULL && atoi(revoked) >= 500, "the first batch "
	    "found no room: %s", r);
	free(revoked);
	free(r);
	r = t_raw(&t, "ROLE-SET name=ops perms=pam.sudo\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "role set on a full store: %s", r);
	free(r);
	r = t_raw(&t, "UNGRANT role=ssh user=alice\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "ungrant on a full store: %s", r);
	free(r);
	snprintf(lines, sizeof(lines), "VERIFY token=%s\n", first);
	r = t_raw(&t, lines, 1);
	cr_assert_eq(strncmp(r, "ERR code=revoked", 16), 0, "%s", r);
	free(r);
	t_figure("reserve: %d tokens filled a 2 MiB map to its reserve; "
	    "REVOKE all=1, ROLE-SET and UNGRANT still committed", n);
	t_free(first);
}

/* Move a token's end (revoked or expires) back by `days`, offline. */
static void
age(uint64_t id, int days)
{
	struct tok_rec rec;
	struct store *s;
	MDB_txn *txn;

	cr_assert_eq(store_open(&s, t.state, (size_t)1024 << 20), 0);
	cr_assert_eq(store_begin(s, true, &txn), 0);
	cr_assert_eq(store_token_get(s, txn, id, &rec), 0);
	if (rec.revoked != 0)
		rec.revoked -= (int64_t)days * 86400;
	else
		rec.expires = time(NULL) - (int64_t)days * 86400;
	cr_assert_eq(store_token_put(s, txn, &rec, 0), 0);
	cr_assert_eq(store_commit(txn), 0);
	store_close(s);
}

Test(bounds, old_revoked_and_expired_records_are_purged)
{
	char *tok[4], *r;
	int i;

	t_need_root();
	t_reconfigure(&t, "retention_days = 30\nlastuse_flush = 1\n");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	for (i = 0; i < 4; i++)
		tok[i] = t_token(&t, "alice", "ssh");
	free(t_raw(&t, "REVOKE id=1\n", 1));
	free(t_raw(&t, "REVOKE id=2\n", 1));
	t_kill9(&t);
	age(1, 31);	/* revoked 31 days ago: goes */
	age(2, 29);	/* revoked 29 days ago: stays */
	age(3, 40);	/* expired 40 days ago: goes */
	t_restart(&t);	/* 4 is active: stays */
	for (i = 0; i < 100; i++) {
		r = t_raw(&t, "LIST user=alice\n", 1);
		if (strstr(r, "OK count=2")) {
			free(r);
			break;
		}
		free(r);
		usleep(50000);
	}
	cr_assert_lt(i, 100, "not purged within 5 s");
	r = t_raw(&t, "LIST user=alice\n", 1);
	cr_assert(strstr(r, "ITEM id=2 ") && strstr(r, "ITEM id=4 "), "%s", r);
	free(r);
	r = t_slurp(t.log);
	cr_assert(strstr(r, "event=purge records=2"), "the purge is logged");
	free(r);
	/* ids are never reused: the next token is 5 */
	r = t_raw(&t, "CREATE role=ssh user=alice\n", 1);
	cr_assert(strncmp(r, "OK id=5 ", 8) == 0, "%s", r);
	t_free(r);
	for (i = 0; i < 4; i++)
		t_free(tok[i]);
}

Test(bounds, a_child_never_outlives_its_parent)
{
	char *p = NULL, *c = NULL, *err = NULL, *out = NULL, *pe, *ce;
	int rc;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	rc = t_ctl(&t, 0, NULL, &p, &err, "create --user alice --role ssh "
	    "--expires 2d");
	cr_assert_eq(rc, 0, "%s", err);
	free(err);
	p[strcspn(p, "\n")] = '\0';
	/* asks for no expiry, and for one past the parent's: both capped */
	cr_assert_eq(child_of(p, &c, &err), 0, "%s", err);
	free(err);
	t_free(c);
	rc = t_ctl(&t, ALICE, p, &c, &err, "create --role ssh --expires 30d "
	    "--parent-from-stdin");
	cr_assert_eq(rc, 0, "%s", err);
	free(err);
	t_free(c);
	out = t_raw(&t, "LIST user=alice\n", 1);
	pe = strstr(out, "ITEM id=1 ");
	cr_assert_not_null(pe, "%s", out);
	pe = strstr(pe, " expires=");
	ce = strstr(out, "ITEM id=2 ");
	cr_assert_not_null(ce);
	cr_assert_eq(strncmp(strstr(ce, " expires="), pe, 20), 0,
	    "a child without expiry got the parent's: %.300s", out);
	ce = strstr(out, "ITEM id=3 ");
	cr_assert_not_null(ce);
	cr_assert_eq(strncmp(strstr(ce, " expires="), pe, 20), 0,
	    "a child asking for more got the parent's: %.300s", out);
	free(out);
	t_free(p);
}

/*
 * Retention and sweep steps run on a timer between rounds; a pipelined
 * request can open the next round first.  They must never start a second
 * write transaction then (LMDB has one writer: patd would wait for itself
 * for ever).  Pipelined writes for a few flush ticks, then patd answers.
 */
Test(bounds, background_work_never_waits_for_a_pipelined_round)
{
	char lines[50 * 40 + 1], *r;
	time_t end;
	int i, rounds = 0;

	t_need_root();
	t_reconfigure(&t, "lastuse_flush = 1\nretention_days = 1\n" T_BULK_CONF);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	lines[0] = '\0';
	for (i = 0; i < 50; i++)
		strcat(lines, "CREATE role=ssh user=alice name=x\n");
	/* a revocation with a subtree keeps a sweep queued, too */
	for (end = time(NULL) + 4; time(NULL) < end; rounds++) {
		r = t_raw(&t, lines, 50);
		cr_assert(strncmp(r, "OK", 2) == 0, "round %d: %.100s", rounds,
		    r);
		t_free(r);
		free(t_raw(&t, "REVOKE all=1 user=alice\n", 1));
	}
	r = t_ask(&t, "STATUS\n");
	cr_assert_not_null(r, "patd stopped answering");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	free(r);
	t_figure("background: %d pipelined rounds of 50 creates over 4 flush "
	    "ticks; patd kept answering", rounds);
}
