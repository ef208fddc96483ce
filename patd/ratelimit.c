/* ratelimit.c - bounded failure counters; see ratelimit.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

int
rl_init(struct ratelimit *rl, unsigned limit, int64_t window, size_t slots)
{
	size_t buckets = 2;

	memset(rl, 0, sizeof(*rl));
	if (slots == 0 || slots > UINT32_MAX / 4)
		return -EINVAL;
	while (buckets < 2 * slots)
		buckets <<= 1;
	/* calloc: pages a table never uses are never touched */
	rl->slot = calloc(slots, sizeof(*rl->slot));
	rl->head = calloc(buckets, sizeof(*rl->head));
	if (rl->slot == NULL || rl->head == NULL) {
		rl_free(rl);
		return -ENOMEM;
	}
	rl->limit = limit;
	rl->window = window;
	rl->cap = slots;
	rl->mask = (uint32_t)(buckets - 1);
	/* keyed: no one can pick keys that all land in one chain */
	randombytes_buf(rl->hkey, sizeof(rl->hkey));
	return 0;
}

void
rl_free(struct ratelimit *rl)
{
	free(rl->slot);
	free(rl->head);
	rl->slot = NULL;
	rl->head = NULL;
	rl->cap = rl->used = 0;
}

/* Keys longer than a slot holds are cut, here as when stored. */
static size_t
key_len(const char *key)
{
	return strnlen(key, RL_KEY_MAX - 1);
}

static uint32_t
bucket(const struct ratelimit *rl, const char *key, size_t len)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, (const unsigned char *)key, len, rl->hkey);
	memcpy(&v, h, sizeof(v));
	return v & rl->mask;
}

static struct rl_slot *
find(struct ratelimit *rl, const char *key)
{
	size_t len = key_len(key);
	uint32_t i;

	if (rl->used == 0)	/* no failure yet: skip the hash */
		return NULL;
	for (i = rl->head[bucket(rl, key, len)]; i != 0;
	    i = rl->slot[i - 1].next)
		if (memcmp(rl->slot[i - 1].key, key, len) == 0 &&
		    rl->slot[i - 1].key[len] == '\0')
			return &rl->slot[i - 1];
	return NULL;
}

/* A failure in a window still running. */
static bool
live(const struct ratelimit *rl, const struct rl_slot *s, int64_t now)
{
	return s->fails > 0 && now - s->start < rl->window;
}

int64_t
rl_wait(struct ratelimit *rl, const char *key, int64_t now, bool *first)
{
	struct rl_slot *s = find(rl, key);

	if (first != NULL)
		*first = false;
	if (s == NULL)
		return 0;
	if (!live(rl, s, now)) {
		s->fails = 0;	/* window over: forget */
		return 0;
	}
	if (s->fails < rl->limit)
		return 0;
	if (first != NULL && !s->told)
		*first = s->told = true;
	return s->start + rl->window - now;	/* ≥ 1: the window runs */
}

bool
rl_blocked(struct ratelimit *rl, const char *key, int64_t now)
{
	return rl_wait(rl, key, now, NULL) > 0;
}

static void
unlink_slot(struct ratelimit *rl, struct rl_slot *s)
{
	uint32_t *p = &rl->head[bucket(rl, s->key, strlen(s->key))];
	uint32_t me = (uint32_t)(s - rl->slot) + 1;

	while (*p != 0 && *p != me)
		p = &rl->slot[*p - 1].next;
	if (*p == me)
		*p = s->next;
}

/*
 * The entry a new key may take in a full table: a free one, else the one
 * idle longest that is not blocked; NULL when every entry is blocked.
 */
static struct rl_slot *
victim(struct ratelimit *rl, int64_t now)
{
	struct rl_slot *lru = NULL, *s;
	int64_t frees = INT64_MAX;
	size_t i;

	if (now < rl->full_until)
		return NULL;
	for (i = 0; i < rl->cap; i++) {
		s = &rl->slot[i];
		if (!live(rl, s, now))
			return s;
		if (s->fails < rl->limit) {
			if (lru == NULL || s->last < lru->last)
				lru = s;
		} else if (s->start + rl->window < frees)
			frees = s->start + rl->window;
	}
	if (lru == NULL)	/* all blocked: nothing frees before then */
		rl->full_until = frees;
	return lru;
}

void
rl_fail(struct ratelimit *rl, const char *key, int64_t now)
{
	struct rl_slot *s = find(rl, key);
	size_t len = key_len(key);
	uint32_t b;

	if (s == NULL && rl->cap == 0)
		return;
	if (s == NULL) {
		if (rl->used < rl->cap)
			s = &rl->slot[rl->used++];
		else if ((s = victim(rl, now)) != NULL)
			unlink_slot(rl, s);
		else {
			rl->dropped++;
			return;
		}
		memset(s, 0, sizeof(*s));
		memcpy(s->key, key, len);
		b = bucket(rl, s->key, len);
		s->next = rl->head[b];
		rl->head[b] = (uint32_t)(s - rl->slot) + 1;
	}
	if (!live(rl, s, now)) {
		s->fails = 0;
		s->start = now;
		s->told = false;
	}
	s->fails++;
	s->last = now;
}
