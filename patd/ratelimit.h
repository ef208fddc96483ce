/*
 * ratelimit.h - a fixed-size table of failure counters.
 *
 * Keys are short strings ("uid:1000", "user:alice", "rhost:203.0.113.5").
 * A key that failed `limit` times within `window` seconds is blocked until
 * the window that started with its first failure ends.
 *
 * The table never grows after rl_init: memory is bounded whatever peers
 * do.  When it is full, a new key takes the place of an entry that is free
 * (no failure in a window still running), else of the entry idle longest
 * among those not blocked.  A blocked entry is never given away before its
 * window ends, so a flood of new keys cannot lift a block.  When every
 * entry is blocked, a new key's failure is not recorded (`dropped` counts
 * them): that key goes unlimited until an entry frees — what OpenSSH's
 * PerSourcePenalties calls overflow=permissive.  Lookups go through a hash
 * index keyed at random per table, so a full table costs a lookup no more
 * than an empty one.
 */
#ifndef PATD_RATELIMIT_H
#define PATD_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_SLOTS	1024	/* the default table size */
#define RL_KEY_MAX	80

struct rl_slot {
	char		key[RL_KEY_MAX];
	int64_t		start;	/* first failure of the current window */
	int64_t		last;
	unsigned	fails;
	bool		told;	/* this window's block was reported once */
	uint32_t	next;	/* hash chain: index + 1; 0 ends it */
};

struct ratelimit {
	unsigned	limit;
	int64_t		window;
	size_t		cap;		/* slots */
	size_t		used;		/* slots [0, used) hold a key */
	uint32_t	mask;		/* buckets - 1 (a power of two) */
	uint32_t	*head;		/* bucket: slot index + 1; 0 empty */
	struct rl_slot	*slot;
	uint8_t		hkey[16];
	int64_t		full_until;	/* no entry frees before then */
	uint64_t	dropped;	/* failures not recorded: all blocked */
};

/* A table of `slots` entries (RL_SLOTS for the usual ones).  0 or
 * -ENOMEM. */
int	rl_init(struct ratelimit *rl, unsigned limit, int64_t window,
	    size_t slots);
/* Free the table's memory; rl may be zeroed or freed already. */
void	rl_free(struct ratelimit *rl);
/* True when key may not try now. */
bool	rl_blocked(struct ratelimit *rl, const char *key, int64_t now);
/*
 * 0 when key may try now; otherwise the seconds until the window that
 * blocks it ends (at least 1).  *first (may be NULL) is set when this is
 * the first time this block is reported, so a caller can log a block once
 * per window instead of once per request.
 */
int64_t	rl_wait(struct ratelimit *rl, const char *key, int64_t now,
	    bool *first);
void	rl_fail(struct ratelimit *rl, const char *key, int64_t now);

#endif
