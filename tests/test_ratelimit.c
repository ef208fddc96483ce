/*
 * The failure counter table on its own, with a clock of the test's: the
 * wait it reports, one report per block, and what a full table does.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "ratelimit.h"

TestSuite(ratelimit, .timeout = 30);

static void
init(struct ratelimit *rl, unsigned limit, int64_t window, size_t slots)
{
	cr_assert_geq(sodium_init(), 0, "environment: libsodium");
	cr_assert_eq(rl_init(rl, limit, window, slots), 0);
}

Test(ratelimit, a_block_says_how_long_and_is_reported_once)
{
	struct ratelimit rl;
	bool first;
	int i;

	init(&rl, 3, 60, 16);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(rl_wait(&rl, "k", 100 + i, &first), 0);
		rl_fail(&rl, "k", 100 + i);
	}
	cr_assert_eq(rl_wait(&rl, "k", 102, &first), 58);
	cr_assert(first, "the block's first refusal is not reported");
	cr_assert_eq(rl_wait(&rl, "k", 150, &first), 10);
	cr_assert(!first, "a block reported twice");
	cr_assert_eq(rl_wait(&rl, "k", 159, NULL), 1, "the last second");
	cr_assert_eq(rl_wait(&rl, "k", 160, NULL), 0, "the window is over");
	cr_assert_eq(rl_wait(&rl, "other", 102, NULL), 0);
	/* a new window, a new block, a new report */
	for (i = 0; i < 3; i++)
		rl_fail(&rl, "k", 200);
	cr_assert_eq(rl_wait(&rl, "k", 200, &first), 60);
	cr_assert(first);
	rl_free(&rl);
	rl_free(&rl);	/* twice is fine */
}

Test(ratelimit, a_full_table_keeps_its_blocks)
{
	struct ratelimit rl;
	char key[32];
	int i;

	init(&rl, 2, 60, 8);
	rl_fail(&rl, "blocked", 0);
	rl_fail(&rl, "blocked", 0);
	/* 100 newcomers, one failure each: they take each other's places,
	 * never the block's, though it is the one idle longest */
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "n%d", i);
		rl_fail(&rl, key, 1 + i / 10);
	}
	cr_assert_gt(rl_wait(&rl, "blocked", 20, NULL), 0, "evicted");
	cr_assert_eq(rl.dropped, 0);
	/* every entry blocked: a newcomer goes uncounted, and says so */
	for (i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "b%d", i);
		rl_fail(&rl, key, 30);
		rl_fail(&rl, key, 30);
	}
	rl_fail(&rl, "late", 31);
	rl_fail(&rl, "late", 31);
	rl_fail(&rl, "late", 31);
	cr_assert_eq(rl_wait(&rl, "late", 31, NULL), 0);
	cr_assert_eq(rl.dropped, 3);
	for (i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "b%d", i);
		cr_assert_gt(rl_wait(&rl, key, 31, NULL), 0, "%s", key);
	}
	/* once the first block's window ends, its entry is free again */
	rl_fail(&rl, "late", 60);
	rl_fail(&rl, "late", 60);
	cr_assert_gt(rl_wait(&rl, "late", 60, NULL), 0);
	cr_assert_eq(rl_wait(&rl, "blocked", 60, NULL), 0);
	rl_free(&rl);
}

Test(ratelimit, long_keys_are_cut_alike)
{
	struct ratelimit rl;
	char a[200], b[200];

	init(&rl, 1, 60, 4);
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[150] = 'y';	/* past what a key holds: the same key */
	rl_fail(&rl, a, 0);
	cr_assert_gt(rl_wait(&rl, b, 0, NULL), 0);
	rl_free(&rl);
}
