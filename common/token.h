/*
 * token.h - the PAT text format, offline checks and keyed hashing.
 *
 * A token is "<id>|pat-<40 base62>": 34 random characters followed by the
 * 6-character base62 encoding of the CRC32 of those 34 (GitHub's scheme).
 * Nothing here touches the store: a token with a bad shape or checksum is
 * refused before anyone looks it up.
 */
#ifndef PAT_TOKEN_H
#define PAT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAT_TOKEN_PREFIX	"pat-"
#define PAT_TOKEN_RANDOM_LEN	34
#define PAT_TOKEN_CHECK_LEN	6
#define PAT_TOKEN_BODY_LEN	(PAT_TOKEN_RANDOM_LEN + PAT_TOKEN_CHECK_LEN)
#define PAT_TOKEN_ID_DIGITS	18	/* ids stay below 10^18 */
#define PAT_TOKEN_MAX_LEN	(PAT_TOKEN_ID_DIGITS + 1 + 4 + PAT_TOKEN_BODY_LEN)
#define PAT_TOKEN_BUFSZ		(PAT_TOKEN_MAX_LEN + 1)
#define PAT_TOKEN_ID_MAX	UINT64_C(999999999999999999)
#define PAT_HASH_LEN		32
#define PAT_HASH_KEY_LEN	32

/* The base62 digits, in order: 0-9, A-Z, a-z. */
extern const char pat_b62[];

/* CRC32 (IEEE 802.3, as zlib) of n bytes. */
uint32_t	pat_crc32(const void *p, size_t n);

/* Write v as exactly `width` base62 digits (0-9A-Za-z), zero padded.
 * Returns -ERANGE when v does not fit. */
int		pat_base62_fixed(uint64_t v, char *out, size_t width);

/* Make a fresh token for `id` into out (NUL-terminated).  The caller wipes
 * it.  Returns 0, or -EINVAL for an id out of range.  (token_secret.c,
 * like pat_token_hash: they need libsodium, the checks below do not.) */
int		pat_token_generate(uint64_t id, char out[PAT_TOKEN_BUFSZ]);

/* True when s has the token's shape: digits, '|pat-', 40 base62.  Says
 * nothing about the checksum.  PAM uses this to leave passwords alone. */
bool		pat_token_shaped(const char *s, size_t n);

/* Full offline check: shape, id range and checksum.  On success stores the
 * id and returns 0; otherwise -EINVAL and *id is untouched. */
int		pat_token_parse(const char *s, size_t n, uint64_t *id);

/* Keyed BLAKE2b-256 of the whole token text under the installation key. */
void		pat_token_hash(const uint8_t key[PAT_HASH_KEY_LEN],
		    const char *s, size_t n, uint8_t out[PAT_HASH_LEN]);

#endif
