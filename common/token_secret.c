/* token_secret.c - making and hashing tokens (libsodium); see token.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "token.h"

int
pat_token_generate(uint64_t id, char out[PAT_TOKEN_BUFSZ])
{
	char body[PAT_TOKEN_BODY_LEN];
	unsigned char rnd[64];
	size_t i = 0, used = sizeof(rnd);
	int n;

	if (id == 0 || id > PAT_TOKEN_ID_MAX)
		return -EINVAL;
	/* one getrandom() for the whole token, not one per character;
	 * bytes >= 248 (= 4 * 62) are dropped so every character is
	 * equally likely */
	while (i < PAT_TOKEN_RANDOM_LEN) {
		if (used == sizeof(rnd)) {
			randombytes_buf(rnd, sizeof(rnd));
			used = 0;
		}
		if (rnd[used] < 248)
			body[i++] = pat_b62[rnd[used] % 62];
		used++;
	}
	sodium_memzero(rnd, sizeof(rnd));
	pat_base62_fixed(pat_crc32(body, PAT_TOKEN_RANDOM_LEN),
	    body + PAT_TOKEN_RANDOM_LEN, PAT_TOKEN_CHECK_LEN);
	n = snprintf(out, PAT_TOKEN_BUFSZ, "%llu|" PAT_TOKEN_PREFIX "%.*s",
	    (unsigned long long)id, PAT_TOKEN_BODY_LEN, body);
	sodium_memzero(body, sizeof(body));
	return n > 0 && n < PAT_TOKEN_BUFSZ ? 0 : -EINVAL;
}

void
pat_token_hash(const uint8_t key[PAT_HASH_KEY_LEN], const char *s, size_t n,
    uint8_t out[PAT_HASH_LEN])
{
	crypto_generichash(out, PAT_HASH_LEN, (const unsigned char *)s, n,
	    key, PAT_HASH_KEY_LEN);
}
