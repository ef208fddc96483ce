/*
 * keyfile.h - the per-installation hashing key.
 *
 * "token.key" in the state directory: 32 random bytes, mode 0600, made on
 * first start.  A key that is readable by anyone but its owner, of the wrong
 * size or owned by someone else is refused: patd then does not start.
 */
#ifndef PATD_KEYFILE_H
#define PATD_KEYFILE_H

#include <stdint.h>

#include "token.h"

/* Load, or create when absent.  Returns 0 or -errno; *why names the problem
 * in words for the log. */
int	keyfile_load(const char *dir, uint8_t key[PAT_HASH_KEY_LEN],
	    const char **why);

#endif
