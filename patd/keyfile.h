/*
 * keyfile.h - per-installation keys in the state directory.
 *
 * "token.key" (the token hashing key) and "session.key" (the Ed25519 seed
 * that signs login sessions): 32 random bytes each, mode 0600, made on
 * first start.  A key that is readable by anyone but its owner, of the wrong
 * size or owned by someone else is refused: patd then does not start.
 */
#ifndef PATD_KEYFILE_H
#define PATD_KEYFILE_H

#include <stdint.h>

#include "token.h"

/* Load name from the state directory dfd (opened and checked by
 * statedir_open: names are resolved relative to it, never through a
 * symbolic link), or create it when absent.  A key with a second hard link
 * is refused too.  Returns 0 or -errno; *why names the problem in words
 * for the log. */
int	keyfile_load(int dfd, const char *name,
	    uint8_t key[PAT_HASH_KEY_LEN], const char **why);

#endif
