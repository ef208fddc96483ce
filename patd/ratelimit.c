/* ratelimit.c - bounded failure counters; see ratelimit.h. */
#include <string.h>

#include "ratelimit.h"

void
rl_init(struct ratelimit *rl, unsigned limit, int64_t window)
{
	memset(rl, 0, sizeof(*rl));
	rl->limit = limit;
	rl->window = window;
}

static struct rl_slot *
find(struct ratelimit *rl, const char *key)
{
	size_t i;

	for (i = 0; i < rl->used; i++)
		if (rl->slot[i].fails > 0 && strcmp(rl->slot[i].key, key) == 0)
			return &rl->slot[i];
	return NULL;
}

bool
rl_blocked(struct ratelimit *rl, const char *key, int64_t now)
{
	struct rl_slot *s = find(rl, key);

	if (s == NULL)
		return false;
	if (now - s->start >= rl->window) {
		s->fails = 0;	/* window over: forget */
		return false;
	}
	return s->fails >= rl->limit;
}

void
rl_fail(struct ratelimit *rl, const char *key, int64_t now)
{
	struct rl_slot *s = find(rl, key), *old;
	size_t i;

	if (s != NULL && now - s->start >= rl->window)
		s->fails = 0;
	if (s == NULL && rl->used < RL_SLOTS) {
		s = &rl->slot[rl->used++];	/* a fresh slot while there are */
		memset(s, 0, sizeof(*s));
		strncpy(s->key, key, RL_KEY_MAX - 1);
	}
	if (s == NULL) {
		old = &rl->slot[0];
		for (i = 0; i < RL_SLOTS; i++) {
			if (rl->slot[i].fails == 0) {
				old = &rl->slot[i];
				break;
			}
			if (rl->slot[i].last < old->last)
				old = &rl->slot[i];
		}
		s = old;
		memset(s, 0, sizeof(*s));
		strncpy(s->key, key, RL_KEY_MAX - 1);
	}
	if (s->fails == 0)
		s->start = now;
	s->fails++;
	s->last = now;
}
