/*
 * duration.h - lengths of time as people write and read them: one rule for
 * patd, which states a role's limits in its refusals, and patctl, which
 * prints them.
 */
#ifndef PAT_DURATION_H
#define PAT_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* The longest duration taken anywhere (100 years of 366 days): beyond it,
 * a duration is a typo. */
#define PAT_DURATION_MAX	(100LL * 366 * 86400)

/* secs in words, its two largest nonzero units of days, hours, minutes and
 * seconds: "90 days", "1 day 12 hours", "30 minutes", "0 seconds".  Always
 * NUL-terminates buf (n > 0); returns buf. */
const char *pat_duration_words(int64_t secs, char *buf, size_t n);
/* secs as patctl's flags take it, every nonzero unit: "90d", "1d12h",
 * "30m" (and "45s" for what no flag gives); "0" for 0.  Returns buf. */
const char *pat_duration_short(int64_t secs, char *buf, size_t n);

#endif
