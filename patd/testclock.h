/*
 * testclock.h - patd's wall clock, and the shifted one its tests use.
 *
 * Everything patd decides by the time of day (expiry, a role's
 * max_lifetime and max_idle, sessions, retention, rate-limit windows)
 * reads patd_now().  Normally that is time(2).  Started with
 * --test-clock FILE (a flag only: never from patd.conf), it is time(2)
 * plus the whole seconds FILE holds ("5184000", "-60"), read again at
 * every call, so a test moves patd's clock by rewriting the file instead
 * of sleeping for days.
 *
 * Whoever can write FILE can bring expired and idle tokens back, so FILE
 * gets the trust the state directory gets (statedir.h): patd refuses to
 * start unless FILE and every directory above it are patd's (or root's)
 * and writable by no one else, no symbolic link on the way; at each read
 * the open file (O_NOFOLLOW) is checked again, and a file that fails, or
 * holds no number, counts as offset 0 (and is logged once).  Only root,
 * or patd's own user, starts patd with a flag; this is for tests, and
 * patd logs a warning at start when it is in force.
 */
#ifndef PATD_TESTCLOCK_H
#define PATD_TESTCLOCK_H

#include <stdint.h>

#include "patd.h"
#include "statedir.h"

/* Check FILE (an absolute path) and its directories as above, and that it
 * holds a number; 0 or a negative errno with *p filled. */
int	testclock_check(const char *path, struct statedir_problem *p);

/* Seconds since 1970 as patd counts them. */
int64_t	patd_now(struct patd *d);

#endif
