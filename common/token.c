/*
 * token.c - token format and offline checks; see token.h.  No libsodium
 * here: pam_pat.so links this and nothing that makes or hashes tokens
 * (token_secret.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "token.h"

const char pat_b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* CRC-32 (IEEE, zlib's), four bits at a time: a 64-byte table instead of
 * eight shifts per bit; every verification checks one. */
static const uint32_t crc_nibble[16] = {
	0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu,
	0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
	0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
	0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t
pat_crc32(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t crc = 0xffffffffu;

	while (n--) {
		crc ^= *s++;
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
	}
	return ~crc;
}

int
pat_base62_fixed(uint64_t v, char *out, size_t width)
{
	size_t i;

	for (i = width; i > 0; i--) {
		out[i - 1] = pat_b62[v % 62];
		v /= 62;
	}
	return v == 0 ? 0 : -ERANGE;
}

static bool
is_b62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

/* Length of the id digits, or 0 when the prefix is not "<digits>|pat-". */
static size_t
id_digits(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && i <= PAT_TOKEN_ID_DIGITS && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || i > PAT_TOKEN_ID_DIGITS)
		return 0;
	if (n - i != 1 + 4 + PAT_TOKEN_BODY_LEN)
		return 0;
	if (s[i] != '|' || memcmp(s + i + 1, PAT_TOKEN_PREFIX, 4) != 0)
		return 0;
	return i;
}

bool
pat_token_shaped(const char *s, size_t n)
{
	size_t d, i;

	if ((d = id_digits(s, n)) == 0)
		return false;
	for (i = d + 5; i < n; i++)
		if (!is_b62(s[i]))
			return false;
	return true;
}

int
pat_token_parse(const char *s, size_t n, uint64_t *id)
{
	char check[PAT_TOKEN_CHECK_LEN];
	const char *body;
	uint64_t v = 0;
	size_t d, i;

	if (!pat_token_shaped(s, n))
		return -EINVAL;
	d = id_digits(s, n);
	if (s[0] == '0')		/* one spelling per id */
		return -EINVAL;
	for (i = 0; i < d; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (v == 0 || v > PAT_TOKEN_ID_MAX)
		return -EINVAL;
	body = s + d + 5;
	pat_base62_fixed(pat_crc32(body, PAT_TOKEN_RANDOM_LEN), check,
	    PAT_TOKEN_CHECK_LEN);
	if (memcmp(check, body + PAT_TOKEN_RANDOM_LEN, PAT_TOKEN_CHECK_LEN))
		return -EINVAL;
	*id = v;
	return 0;
}
