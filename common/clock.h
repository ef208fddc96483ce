/* clock.h - the monotonic clock every deadline here is measured on. */
#ifndef PAT_CLOCK_H
#define PAT_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC (never jumps with the wall clock). */
int64_t	pat_monotonic_ms(void);

#endif
