/* Unit test: the consumer thread's turn of directory work is bounded (a
 * burst of requests cannot hold the sync stream, and so revocations,
 * back). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "clock.h"
#include "config.h"
#include "fleet.h"
#include "fleet_int.h"	/* white-box: do_work() and struct fleet */
#include "harness.h"
#include "store.h"

/*
 * do_work() is what the thread runs between two reads of the stream.  It
 * is driven here by hand on a struct fleet with no link at all: SHOW
 * lookups with the last-use database off finish without LDAP, yet each
 * counts as a directory operation, and nothing else in a turn needs the
 * link (no outbox, no issuer role, no host name).  What is checked is
 * the bound alone, as a count, without a clock: a burst of 40 requests
 * takes three turns (16, 16, 8) in the order it came, and the thread is
 * told to come back (busy) while any wait.  That is the property end-to-end tests can only
 * see as a race between a queue and the stream.
 */
#define BURST	40

static char dir[128];
static struct store *st;
static struct fleet *f;
static struct fleet_op *ops[BURST];

static void
setup(void)
{
	t_tmpname(dir, sizeof(dir), "fleetturn");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(store_open(&st, dir, (size_t)64 << 20), 0);
	cr_assert_not_null(f = calloc(1, sizeof(*f)));
	config_defaults(&f->cfg);
	snprintf(f->cfg.fleet_lastuse_base, sizeof(f->cfg.fleet_lastuse_base),
	    "none");
	f->store = st;
	cr_assert_eq(pthread_mutex_init(&f->mu, NULL), 0);
	cr_assert_geq(f->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), 0);
	cr_assert_geq(f->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), 0);
	atomic_init(&f->outbox_n, 0);
	f->issuer = 0;			/* not an issuer: no ids to take */
	f->issuer_checked = pat_monotonic_ms();
}

static void
teardown(void)
{
	char cmd[200];
	size_t i;

	for (i = 0; i < BURST; i++)
		if (ops[i] != NULL)
			fleet_op_release(ops[i]);
	if (f != NULL) {
		close(f->wakefd);
		close(f->evfd);
		pthread_mutex_destroy(&f->mu);
		free(f);
		f = NULL;
	}
	if (st != NULL)
		store_close(st);
	st = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (strncmp(dir, "/tmp/pat-test.", 14) == 0 && system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

TestSuite(fleet_turn, .init = setup, .fini = teardown, .timeout = 30);

/* Whether op i is answered. */
static bool
done(size_t i)
{
	const char *code, *msg;

	return fleet_op_state(ops[i], &code, &msg) == FLEET_OP_DONE;
}

/* After a turn: the first n ops, in the order they came, are answered,
 * and no other. */
static void
answered_first(size_t n, const char *when)
{
	size_t i;

	for (i = 0; i < BURST; i++)
		cr_assert_eq(done(i), i < n, "%s: op %zu of %d %s", when, i,
		    BURST, done(i) ? "answered too (the stream waits behind "
		    "more than one turn)" : "not answered");
}

Test(fleet_turn, a_burst_of_requests_takes_turns_of_16_with_the_stream_between)
{
	bool busy;
	size_t i;

	for (i = 0; i < BURST; i++) {
		cr_assert_not_null(ops[i] = fleet_op_lookup(1000 + i));
		fleet_submit(f, ops[i]);
	}
	cr_assert_null(do_work(f, &busy));
	answered_first(FLEET_OPS_TURN, "the first turn");
	cr_assert(busy, "work left, yet the thread would sleep");
	cr_assert_null(do_work(f, &busy));
	answered_first(2 * FLEET_OPS_TURN, "the second turn");
	cr_assert(busy, "work left, yet the thread would sleep");
	cr_assert_null(do_work(f, &busy));
	answered_first(BURST, "the third turn");
	cr_assert_null(do_work(f, &busy));
	cr_assert_not(busy, "nothing left, yet the thread would spin");
}
