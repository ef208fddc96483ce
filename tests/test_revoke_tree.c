/* test_revoke_tree.c - revocation of a token with a million descendants. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "harness.h"
#include "keyfile.h"
#include "store.h"

static struct tpatd t;

static void
setup(void)
{
	t_start(&t, NULL);
	/* a million records need a bigger map than the default's share */
	t_reconfigure(&t, "map_size_mb = 4096\n" T_BULK_CONF);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	t_grant(&t, "ssh", "--user bob");
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(revoke_tree, .init = setup, .fini = teardown, .timeout = 240);

/* The id of a token text ("17|pat-…"). */
static uint64_t
id_of(const char *tok)
{
	return strtoull(tok, NULL, 10);
}

/*
 * Write tokens straight into the stopped patd's store, as a store built
 * before any limit (or with the limits raised) would hold them: `wide`
 * children under `parent`, each with `deep` children of its own.  Tokens
 * whose secret the test needs are made for real (texts in known[], the
 * first child's and the very last grandchild's); the rest get a hash no
 * secret matches.  Returns the number of records written.
 */
static long
bulk_tree(const char *user, uint32_t uid, uint64_t parent, long wide,
    long deep, char known[3][PAT_TOKEN_BUFSZ])
{
	uint8_t key[PAT_HASH_KEY_LEN];
	struct tok_rec rec;
	struct store *s;
	MDB_txn *txn;
	const char *why = "";
	uint64_t child;
	long i, j, n = 0;
	int dfd;

	dfd = open(t.state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(keyfile_load(dfd, "token.key", key, &why), 0, "%s", why);
	close(dfd);
	cr_assert_eq(store_open(&s, t.state, (size_t)4096 << 20), 0);
	cr_assert_eq(store_begin(s, true, &txn), 0);
	memset(&rec, 0, sizeof(rec));
	rec.uid = uid;
	rec.created = time(NULL);
	snprintf(rec.user, sizeof(rec.user), "%s", user);
	snprintf(rec.role, sizeof(rec.role), "ssh");
	snprintf(rec.cap, sizeof(rec.cap), "*");
	for (i = 0; i < wide; i++) {
		cr_assert_eq(store_next_id(s, txn, &rec.id), 0);
		rec.parent = parent;
		if (parent != 0)
			snprintf(rec.by, sizeof(rec.by), "pat:%llu",
			    (unsigned long long)parent);
		else
			snprintf(rec.by, sizeof(rec.by), "root");
		memset(rec.hash, 0x5a, sizeof(rec.hash));
		if (i == 0 || i == wide - 1) {
			char *k = known[i == 0 ? 0 : 2];

			pat_token_generate(rec.id, k);
			pat_token_hash(key, k, strlen(k), rec.hash);
		}
		cr_assert_eq(store_token_put(s, txn, &rec, 0), 0);
		n++;
		child = rec.id;
		for (j = 0; j < deep; j++) {
			cr_assert_eq(store_next_id(s, txn, &rec.id), 0);
			rec.parent = child;
			snprintf(rec.by, sizeof(rec.by), "pat:%llu",
			    (unsigned long long)child);
			memset(rec.hash, 0x5a, sizeof(rec.hash));
			if (i == wide - 1 && j == deep - 1) {
				pat_token_generate(rec.id, known[1]);
				pat_token_hash(key, known[1], strlen(known[1]),
				    rec.hash);
			}
			cr_assert_eq(store_token_put(s, txn, &rec, 0), 0);
			n++;
		}
		/* commit now and then: one transaction's dirty pages are
		 * bounded in LMDB */
		if (i % 100 == 99) {
			cr_assert_eq(store_commit(txn), 0);
			cr_assert_eq(store_begin(s, true, &txn), 0);
		}
	}
	cr_assert_eq(store_commit(txn), 0);
	store_close(s);
	sodium_memzero(key, sizeof(key));
	return n;
}

static void
expect(const char *tok, const char *want, const char *what)
{
	char req[200], *r;

	snprintf(req, sizeof(req), "VERIFY token=%s perm=pam.sshd\n", tok);
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, want, strlen(want)), 0, "%s: %s", what, r);
	free(r);
}

/* The answer's revoked= count. */
static long
revoked_count(const char *r)
{
	char *v = t_field(r, "OK", "revoked");
	long n;

	cr_assert_not_null(v, "no OK revoked=: %s", r);
	n = atol(v);
	free(v);
	return n;
}

Test(revoke_tree, a_token_with_a_million_descendants_is_revoked_in_one_call)
{
	char known[3][PAT_TOKEN_BUFSZ], *root, *other, *err = NULL, req[64];
	char *r;
	long n;
	int rc, fd, i;

	t_need_root();
	root = t_token(&t, "alice", "ssh");
	other = t_token(&t, "alice", "ssh");	/* outside the tree */
	t_kill9(&t);
	n = bulk_tree("alice", ALICE, id_of(root), 1001, 999, known);
	cr_assert_gt(n, 1000000);
	t_restart(&t);
	expect(known[0], "OK", "a child before the revocation");
	expect(known[1], "OK", "the last grandchild before the revocation");

	/* her own patctl, as her own uid: one call, answered */
	snprintf(req, sizeof(req), "%llu", (unsigned long long)id_of(root));
	rc = t_ctl(&t, ALICE, NULL, NULL, &err, "revoke %s", req);
	cr_assert_eq(rc, 0, "revoke of a %ld-descendant tree: exit %d: %s", n,
	    rc, err);
	cr_assert(strstr(err, "refused already"), "patctl says the rest is "
	    "refused: %s", err);
	free(err);
	/* the very next verification, anywhere in the tree */
	expect(root, "ERR code=revoked", "the named token");
	expect(known[0], "ERR code=revoked", "a child");
	expect(known[1], "ERR code=revoked", "the deepest, newest grandchild");
	expect(other, "OK", "a token outside the tree");
	/* LIST pages through a million tokens without reading them all */
	fd = t_dial(&t);
	cr_assert_geq(fd, 0);
	cr_assert_eq(send(fd, "LIST all=1\n", 11, MSG_NOSIGNAL), 11);
	for (i = 0; i < 1001; i++) {
		r = t_line(fd);
		if (strncmp(r, "ITEM ", 5) != 0)
			break;
		free(r);
	}
	cr_assert_eq(strncmp(r, "OK count=1000 next=", 19), 0, "LIST all=1 "
	    "of a million tokens, after %d items: %.200s", i, r);
	free(r);
	close(fd);
	r = t_raw(&t, "SHOW id=1000000\n", 1);
	cr_assert(strstr(r, " state=revoked "), "a grandchild shows revoked "
	    "before the sweep reaches it: %s", r);
	free(r);
	t_figure("revoke tree: %ld descendants refused from the next "
	    "verification; one REVOKE answered with a bounded batch", n);
	t_free(root);
	t_free(other);
}

Test(revoke_tree, revoke_all_of_a_user_with_a_million_tokens_is_one_call)
{
	char known[3][PAT_TOKEN_BUFSZ], *root, *fresh, *bobs;
	char *r;
	long n;

	t_need_root();
	root = t_token(&t, "alice", "ssh");
	bobs = t_token(&t, "bob", "ssh");
	t_kill9(&t);
	/* a forest, not one tree: 1001 parentless tokens, 999 children
	 * each, so the newest ones have no ancestor the first batch marks —
	 * only the per-user record can refuse them at once */
	n = bulk_tree("alice", ALICE, 0, 1001, 999, known);
	t_restart(&t);
	r = t_raw(&t, "REVOKE all=1 user=alice\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "REVOKE all=1 of %ld tokens: %s",
	    n, r);
	/* bounded: one batch now, the rest in the background */
	cr_assert_leq(revoked_count(r), 1000, "%s", r);
	cr_assert(strstr(r, "pending=1"), "%s", r);
	free(r);
	expect(root, "ERR code=revoked", "her first token");
	expect(known[0], "ERR code=revoked", "a child");
	expect(known[1], "ERR code=revoked", "the newest of the million");
	expect(known[2], "ERR code=revoked", "a parentless token far past "
	    "the first batch");
	expect(bobs, "OK", "another user's token");
	/* made after the revocation: untouched by it */
	fresh = t_token(&t, "alice", "ssh");
	expect(fresh, "OK", "a token made afterwards");
	t_free(root);
	t_free(fresh);
	t_free(bobs);
}

/* Records of uid in the (stopped) patd's store not yet marked revoked. */
static long
unmarked(uint32_t uid)
{
	struct tok_rec rec;
	struct store *s;
	MDB_txn *txn;
	uint64_t id;
	long n = 0;

	cr_assert_eq(store_open(&s, t.state, (size_t)4096 << 20), 0);
	cr_assert_eq(store_begin(s, false, &txn), 0);
	for (id = 1; store_token_get(s, txn, id, &rec) == 0; id++)
		n += rec.uid == uid && rec.revoked == 0;
	store_abort(txn);
	store_close(s);
	return n;
}

Test(revoke_tree, the_sweep_marks_every_descendant_and_survives_a_crash)
{
	char known[3][PAT_TOKEN_BUFSZ], *root, *r, *log, req[64];
	long n;
	int i;

	t_need_root();
	root = t_token(&t, "alice", "ssh");
	t_kill9(&t);
	n = bulk_tree("alice", ALICE, id_of(root), 100, 999, known);
	t_restart(&t);
	snprintf(req, sizeof(req), "REVOKE id=%llu\n",
	    (unsigned long long)id_of(root));
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	cr_assert(strstr(r, "pending=1"), "%s", r);
	free(r);
	/* a crash in the middle of the sweep: it goes on after a restart */
	t_kill9(&t);
	cr_assert_gt(unmarked(ALICE), 0, "the sweep of %ld was over before "
	    "the crash: nothing left to resume", n);
	t_restart(&t);
	for (i = 0; i < 600; i++) {
		log = t_slurp(t.log);
		r = strstr(log, "ready:");
		while (r != NULL && strstr(r + 1, "ready:") != NULL)
			r = strstr(r + 1, "ready:");
		if (r != NULL && strstr(r, "event=sweep") &&
		    strstr(r, "more=no")) {
			free(log);
			break;
		}
		free(log);
		usleep(50000);
	}
	log = t_slurp(t.log);
	cr_assert_lt(i, 600, "the resumed sweep did not finish in 30 s; "
	    "patd's log ends: %s", strlen(log) > 1500 ? log + strlen(log) -
	    1500 : log);
	free(log);
	t_kill9(&t);
	cr_assert_eq(unmarked(ALICE), 0, "descendants left unmarked");
	t_restart(&t);
	expect(known[1], "ERR code=revoked", "a marked grandchild");
	t_free(root);
}
