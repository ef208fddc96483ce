/*
 * lastuse.h - last-use records waiting to be written.
 *
 * Every successful verification notes when and from where a token was
 * used; patd writes these in one transaction every few seconds rather than
 * one per verification.  A token used again before the write keeps one
 * record, its latest, found in O(1) so the note costs the same with 1 or
 * 1024 tokens waiting.  A record also keeps the distinct remote hosts
 * seen since the last write (latest first); the write merges them into
 * the stored list of the token's last STORE_HOSTS hosts.
 */
#ifndef PATD_LASTUSE_H
#define PATD_LASTUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define LASTUSE_BATCH		1024	/* records kept before a forced write */

struct lastuse_pending {
	uint64_t	id;
	struct last_use	use;
};

struct lastuse_batch {
	size_t			n;
	struct lastuse_pending	item[LASTUSE_BATCH];
	uint16_t		slot[2 * LASTUSE_BATCH];	/* index + 1 */
};

/* The record waiting for id, or NULL: nothing is added (the idle check
 * asks on every verification of a role with max_idle). */
const struct lastuse_pending *lastuse_find(const struct lastuse_batch *b,
	    uint64_t id);
/* The record for id, added when new; NULL when the batch is full. */
struct lastuse_pending *lastuse_slot(struct lastuse_batch *b, uint64_t id);
/* Whether host is among u's hosts. */
bool	lastuse_host_known(const struct last_use *u, const char *host);
/* host first in u's hosts (moved up when there; when all STORE_HOSTS are
 * taken, the oldest goes). */
void	lastuse_add_host(struct last_use *u, const char *host);
/* Forget every record (after they were written). */
void	lastuse_clear(struct lastuse_batch *b);

#endif
