/*
 * ratelimit.h - a fixed-size table of failure counters.
 *
 * Keys are short strings ("uid:1000", "user:alice").  A key that failed
 * `limit` times within `window` seconds is blocked until the window that
 * started with its first failure ends.  The table never grows: when full, the
 * entry idle longest is reused, so memory is bounded whatever peers do.
 */
#ifndef PATD_RATELIMIT_H
#define PATD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RL_SLOTS	1024
#define RL_KEY_MAX	80

struct rl_slot {
	char		key[RL_KEY_MAX];
	int64_t		start;	/* first failure of the current window */
	int64_t		last;
	unsigned	fails;
};

struct ratelimit {
	unsigned	limit;
	int64_t		window;
	size_t		used;		/* slots [0, used) have been in use */
	struct rl_slot	slot[RL_SLOTS];
};

void	rl_init(struct ratelimit *rl, unsigned limit, int64_t window);
/* True when key may not try now. */
bool	rl_blocked(struct ratelimit *rl, const char *key, int64_t now);
void	rl_fail(struct ratelimit *rl, const char *key, int64_t now);

#endif
