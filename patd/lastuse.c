/* lastuse.c - last-use records waiting to be written; see lastuse.h. */
#include <string.h>

#include "lastuse.h"

#define NSLOTS	(sizeof(((struct lastuse_batch *)0)->slot) / sizeof(uint16_t))

/* Token ids are sequential: Fibonacci hashing spreads them over slots. */
static size_t
home(uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 53) % NSLOTS;
}

const struct lastuse_pending *
lastuse_find(const struct lastuse_batch *b, uint64_t id)
{
	size_t h = home(id);

	while (b->slot[h] != 0) {
		if (b->item[b->slot[h] - 1].id == id)
			return &b->item[b->slot[h] - 1];
		h = (h + 1) % NSLOTS;
	}
	return NULL;
}

struct lastuse_pending *
lastuse_slot(struct lastuse_batch *b, uint64_t id)
{
	size_t h = home(id);

	/* the table is never more than half full: a free slot ends the probe */
	while (b->slot[h] != 0) {
		if (b->item[b->slot[h] - 1].id == id)
			return &b->item[b->slot[h] - 1];
		h = (h + 1) % NSLOTS;
	}
	if (b->n == LASTUSE_BATCH)
		return NULL;
	b->item[b->n].id = id;
	b->slot[h] = (uint16_t)++b->n;
	return &b->item[b->n - 1];
}

void
lastuse_clear(struct lastuse_batch *b)
{
	b->n = 0;
	memset(b->slot, 0, sizeof(b->slot));
}
