/*
 * sweep.h - revocation that never grows with the tree, and retention.
 *
 * Revoking a token marks that one record and queues its subtree (or, for
 * REVOKE all=1, the user) in the store's sweep queue; access_lineage
 * already refuses every descendant from that moment.  The queue is worked
 * off in batches of SWEEP_BATCH records: first inline, within the revoking
 * request's own budget, then between rounds of the event loop, each batch
 * its own durable commit, surviving restarts.  purge_step forgets records
 * retention_days after they were revoked or expired.
 */
#ifndef PATD_SWEEP_H
#define PATD_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patd.h"

#define SWEEP_BATCH	1000	/* records one batch may touch */

/* Queue the subtree below id (kind 'T'; nothing for a leaf), or the tokens
 * of uid id below limit (kind 'U'). */
int	sweep_enqueue(struct patd *d, MDB_txn *txn, char kind, uint64_t id,
	    uint64_t limit);
/* Work the queue in txn, marking at most budget records; adds to *marked
 * what it newly revoked, sets *more when work is left. */
int	sweep_run(struct patd *d, MDB_txn *txn, int64_t now, size_t budget,
	    size_t *marked, bool *more);

#endif
