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
	size_t i;
	int n;

	if (id == 0 || id > PAT_TOKEN_ID_MAX)
		return -EINVAL;
	for (i = 0; i < PAT_TOKEN_RANDOM_LEN; i++)
		body[i] = pat_b62[randombytes_uniform(62)];
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
