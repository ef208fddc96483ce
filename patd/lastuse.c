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
	b->item[b->n].use.nhosts = 0;
	b->slot[h] = (uint16_t)++b->n;
	return &b->item[b->n - 1];
}

void
lastuse_clear(struct lastuse_batch *b)
{
	b->n = 0;
	memset(b->slot, 0, sizeof(b->slot));
}

bool
lastuse_host_known(const struct last_use *u, const char *host)
{
	unsigned i;

	for (i = 0; i < u->nhosts && i < STORE_HOSTS; i++)
		if (strcmp(u->hosts[i], host) == 0)
			return true;
	return false;
}

void
lastuse_add_host(struct last_use *u, const char *host)
{
	size_t n = strnlen(host, STORE_RHOST_MAX + 1);
	unsigned i, at;

	if (n == 0 || n > STORE_RHOST_MAX)
		return;
	/* where it is (it moves up), or the oldest's place when full */
	for (at = 0; at < u->nhosts && strcmp(u->hosts[at], host) != 0; at++)
		;
	if (at == STORE_HOSTS)
		at = STORE_HOSTS - 1;
	else if (at == u->nhosts)
		u->nhosts++;
	for (i = at; i > 0; i--)
		memcpy(u->hosts[i], u->hosts[i - 1], sizeof(u->hosts[i]));
	memcpy(u->hosts[0], host, n);
	u->hosts[0][n] = '\0';
}
