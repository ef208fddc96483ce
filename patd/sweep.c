/* sweep.c - revocations marked and old records purged, in bounded batches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "log.h"
#include "sweep.h"
#include "testclock.h"

/* Ids gathered from one index walk, at most `max`. */
struct batch {
	uint64_t	v[SWEEP_BATCH];
	size_t		n, max;
};

static int
gather(uint64_t id, void *arg)
{
	struct batch *b = arg;

	if (b->n == b->max)
		return 1;	/* full: stop the walk here */
	b->v[b->n++] = id;
	return 0;
}

int
sweep_enqueue(struct patd *d, MDB_txn *txn, char kind, uint64_t id,
    uint64_t limit)
{
	struct sweep_item it = { .kind = kind, .id = id, .limit = limit };

	if (kind == 'T' && !store_has_children(d->store, txn, id))
		return 0;	/* a leaf: nothing below to mark */
	return store_sweep_put(d->store, txn, &it);
}

/* Mark one token revoked (at now) unless it already is: 1 when it was
 * marked now, 0 when there was nothing to do. */
static int
mark(struct patd *d, MDB_txn *txn, uint64_t id, int64_t now)
{
	struct tok_rec rec;
	int r;

	if ((r = store_token_get(d->store, txn, id, &rec)) == -ENOENT)
		return 0;	/* purged meanwhile */
	if (r < 0 || rec.revoked != 0)
		return r;
	rec.revoked = now;
	return (r = store_token_put(d->store, txn, &rec, 0)) < 0 ? r : 1;
}

/* One slice of one queue entry: at most b->max tokens.  *done when the
 * entry has nothing left. */
static int
step_item(struct patd *d, MDB_txn *txn, struct sweep_item *it, int64_t now,
    struct batch *b, size_t *marked, bool *done)
{
	size_t i;
	int r;

	b->n = 0;
	if (it->kind == 'T')
		r = store_children(d->store, txn, it->id, it->after, gather, b);
	else
		r = store_live_of_uid(d->store, txn, (uint32_t)it->id,
		    it->after, gather, b);
	if (r < 0)
		return r;
	for (i = 0; i < b->n; i++) {
		uint64_t id = b->v[i];

		if (it->kind == 'U' && id >= it->limit) {
			b->n = i;	/* newer tokens stay: entry done */
			break;
		}
		if ((r = mark(d, txn, id, now)) < 0)
			return r;
		*marked += (size_t)r;
		/* newly marked: its own subtree is next (one revoked before
		 * queued its subtree then) */
		if (r == 1 && it->kind == 'T' &&
		    (r = sweep_enqueue(d, txn, 'T', id, 0)) < 0)
			return r;
		it->after = id;
	}
	*done = b->n < b->max;
	return 0;
}

int
sweep_run(struct patd *d, MDB_txn *txn, int64_t now, size_t budget,
    size_t *marked, bool *more)
{
	static struct batch b;	/* one thread; 8 KiB off the stack */
	struct sweep_item it;
	bool done;
	int r;

	*more = false;
	while (budget > 0) {
		if ((r = store_sweep_first(d->store, txn, &it)) == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		b.max = budget < SWEEP_BATCH ? budget : SWEEP_BATCH;
		if ((r = step_item(d, txn, &it, now, &b, marked, &done)) < 0)
			return r;
		budget -= b.n;
		if (done)
			r = store_sweep_del(d->store, txn, &it);
		else
			r = store_sweep_put(d->store, txn, &it);
		if (r < 0)
			return r;
	}
	*more = store_sweep_first(d->store, txn, &it) == 0;
	return 0;
}

int
sweep_step(struct patd *d, bool *more)
{
	MDB_txn *txn;
	size_t marked = 0;
	int r;

	*more = false;
	if (d->round != NULL) {	/* see purge_step */
		*more = true;
		return 0;
	}
	if ((r = store_begin(d->store, true, &txn)) < 0)
		return r;
	if ((r = sweep_run(d, txn, patd_now(d), SWEEP_BATCH, &marked,
	    more)) < 0) {
		store_abort(txn);
		return r;
	}
	if ((r = store_commit(txn)) < 0)
		return r;
	/* every batch that marked something, and the end of each sweep */
	if (marked > 0 || (d->sweeping && !*more))
		log_event("sweep", "marked=%zu more=%s", marked,
		    *more ? "yes" : "no");
	d->sweeping = *more;
	return 0;
}

/* A record kept past retention after it ended. */
static bool
outlived(const struct patd *d, const struct tok_rec *r, int64_t now)
{
	int64_t end = r->revoked != 0 ? r->revoked : r->expires;

	if (end == 0 || (r->revoked == 0 && now < r->expires))
		return false;
	return now - end >= d->retention;
}

int
purge_step(struct patd *d)
{
	static struct batch b;
	struct tok_rec rec;
	MDB_txn *txn;
	size_t i, purged = 0;
	int64_t now = patd_now(d);
	int r;

	/* a round a pipelined request opened holds LMDB's one writer: a
	 * second write transaction here would wait for ourselves for ever */
	if (d->retention == 0 || d->round != NULL)
		return 0;
	if ((r = store_begin(d->store, true, &txn)) < 0)
		return r;
	b.n = 0;
	b.max = SWEEP_BATCH;
	if ((r = store_tokens_all(d->store, txn, d->purge_next, gather,
	    &b)) < 0)
		goto fail;
	for (i = 0; i < b.n; i++) {
		if ((r = store_token_get(d->store, txn, b.v[i], &rec)) < 0)
			goto fail;
		/* a revoked record whose subtree still waits for the sweep
		 * stays: purged first, its children would never be marked */
		if (!outlived(d, &rec, now) || (rec.revoked != 0 &&
		    store_sweep_queued(d->store, txn, rec.id)))
			continue;
		if ((r = store_token_del(d->store, txn, &rec)) < 0)
			goto fail;
		purged++;
	}
	/* round and round: the next step starts where this one ended */
	d->purge_next = b.n < b.max ? 0 : b.v[b.n - 1];
	if ((r = store_commit(txn)) < 0)
		return r;
	if (purged > 0)
		log_event("purge", "records=%zu retention_days=%lld", purged,
		    (long long)(d->retention / 86400));
	return 0;
fail:
	store_abort(txn);
	return r;
}
