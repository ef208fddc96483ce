/* Unit tests: base62, CRC32 checksum, token generation and parsing, hashing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "token.h"

static void
init(void)
{
	cr_assert(sodium_init() >= 0);
}

TestSuite(token, .init = init);

Test(token, crc32_matches_the_ieee_check_value)
{
	/* the standard check value of CRC-32/ISO-HDLC (zlib's crc32) */
	cr_assert_eq(pat_crc32("123456789", 9), 0xCBF43926u);
	cr_assert_eq(pat_crc32("", 0), 0u);
}

/* The table-driven CRC against the textbook bit-at-a-time one. */
static uint32_t
crc32_bitwise(const unsigned char *s, size_t n)
{
	uint32_t crc = 0xffffffffu;
	int k;

	while (n--) {
		crc ^= *s++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

Test(token, crc32_matches_a_bitwise_crc_on_random_input)
{
	unsigned char buf[64];
	int i;

	for (i = 0; i < 2000; i++) {
		size_t n = randombytes_uniform(sizeof(buf) + 1);

		randombytes_buf(buf, n);
		cr_assert_eq(pat_crc32(buf, n), crc32_bitwise(buf, n),
		    "length %zu", n);
	}
}

Test(token, base62_is_fixed_width_and_bounded)
{
	char out[7] = { 0 };

	cr_assert_eq(pat_base62_fixed(0, out, 6), 0);
	cr_assert_str_eq(out, "000000");
	cr_assert_eq(pat_base62_fixed(61, out, 6), 0);
	cr_assert_str_eq(out, "00000z");
	cr_assert_eq(pat_base62_fixed(62, out, 6), 0);
	cr_assert_str_eq(out, "000010");
	cr_assert_eq(pat_base62_fixed(0xffffffffu, out, 6), 0);
	cr_assert_str_eq(out, "4gfFC3");
	cr_assert_eq(pat_base62_fixed(56800235584ull, out, 6), -ERANGE,
	    "62^6 does not fit in six digits");
}

Test(token, generated_tokens_have_the_spec_shape_and_parse)
{
	char t[PAT_TOKEN_BUFSZ];
	uint64_t id = 0;

	cr_assert_eq(pat_token_generate(17, t), 0);
	cr_assert_eq(strncmp(t, "17|pat-", 7), 0);
	cr_assert_eq(strlen(t), 7 + 40);
	cr_assert(pat_token_shaped(t, strlen(t)));
	cr_assert_eq(pat_token_parse(t, strlen(t), &id), 0);
	cr_assert_eq(id, 17);
	sodium_memzero(t, sizeof(t));
}

/* Every character of the random part equally likely: a modulo without
 * rejection would make the first 8 about 25% more frequent. */
Test(token, random_characters_are_uniform)
{
	enum { N = 20000 };
	static unsigned long count[62];
	char t[PAT_TOKEN_BUFSZ], *body;
	unsigned long expect = N * PAT_TOKEN_RANDOM_LEN / 62;
	int i, k;

	for (i = 0; i < N; i++) {
		cr_assert_eq(pat_token_generate(1, t), 0);
		body = strstr(t, PAT_TOKEN_PREFIX) + strlen(PAT_TOKEN_PREFIX);
		for (k = 0; k < PAT_TOKEN_RANDOM_LEN; k++)
			count[strchr(pat_b62, body[k]) - pat_b62]++;
	}
	for (k = 0; k < 62; k++)	/* 5% is about 5 standard deviations */
		cr_assert(count[k] > expect * 95 / 100 &&
		    count[k] < expect * 105 / 100, "'%c' drawn %lu times, "
		    "expected about %lu", pat_b62[k], count[k], expect);
}

Test(token, two_tokens_differ)
{
	char a[PAT_TOKEN_BUFSZ], b[PAT_TOKEN_BUFSZ];

	pat_token_generate(1, a);
	pat_token_generate(1, b);
	cr_assert_neq(strcmp(a, b), 0);
}

Test(token, the_announcement_example_is_malformed)
{
	const char *ex = "1|pat-ZuKpi3vjhgvLyy2ATp0Gyp0NPyPGXTPhpxpaMwnv";
	uint64_t id = 42;

	cr_assert(pat_token_shaped(ex, strlen(ex)), "it has the shape");
	cr_assert_eq(pat_token_parse(ex, strlen(ex), &id), -EINVAL,
	    "but not a valid checksum");
	cr_assert_eq(id, 42, "out-parameter untouched on failure");
}

Test(token, every_single_character_change_is_caught)
{
	char t[PAT_TOKEN_BUFSZ];
	uint64_t id;
	size_t i, n;
	char saved;

	pat_token_generate(123, t);
	n = strlen(t);
	for (i = 4 + 5; i < n; i++) {	/* each body character */
		saved = t[i];
		t[i] = saved == 'a' ? 'b' : 'a';
		cr_assert_eq(pat_token_parse(t, n, &id), -EINVAL,
		    "change at %zu accepted", i);
		t[i] = saved;
	}
	cr_assert_eq(pat_token_parse(t, n, &id), 0);
}

Test(token, wrong_shapes_are_rejected)
{
	static const char *bad[] = {
		"", "|pat-", "17", "17|pat-", "17|pat-abc",
		"17|PAT-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"17pat-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"x|pat-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"17|pat-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!",
		"17|pat-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1234567890123456789|pat-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"hunter2", "correct horse battery staple",
	};
	size_t i;
	uint64_t id;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_not(pat_token_shaped(bad[i], strlen(bad[i])),
		    "case %zu shaped", i);
		cr_assert_eq(pat_token_parse(bad[i], strlen(bad[i]), &id),
		    -EINVAL, "case %zu", i);
	}
}

Test(token, leading_zero_and_zero_ids_are_rejected)
{
	char t[PAT_TOKEN_BUFSZ], z[PAT_TOKEN_BUFSZ + 1];
	uint64_t id;

	pat_token_generate(5, t);
	snprintf(z, sizeof(z), "0%s", t);	/* "05|pat-…" */
	cr_assert_eq(pat_token_parse(z, strlen(z), &id), -EINVAL);
	memcpy(t, "0", 1);			/* "0|pat-…" */
	cr_assert_eq(pat_token_parse(t, strlen(t), &id), -EINVAL);
	cr_assert_eq(pat_token_generate(0, t), -EINVAL);
}

Test(token, a_nul_inside_is_not_a_token)
{
	char t[PAT_TOKEN_BUFSZ];
	uint64_t id;
	size_t n;

	pat_token_generate(9, t);
	n = strlen(t);
	t[10] = '\0';
	cr_assert_eq(pat_token_parse(t, n, &id), -EINVAL);
}

Test(token, hash_is_keyed_and_deterministic)
{
	uint8_t k1[PAT_HASH_KEY_LEN], k2[PAT_HASH_KEY_LEN];
	uint8_t h1[PAT_HASH_LEN], h2[PAT_HASH_LEN], h3[PAT_HASH_LEN];
	char t[PAT_TOKEN_BUFSZ];

	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	pat_token_generate(3, t);
	pat_token_hash(k1, t, strlen(t), h1);
	pat_token_hash(k1, t, strlen(t), h2);
	pat_token_hash(k2, t, strlen(t), h3);
	cr_assert_eq(memcmp(h1, h2, PAT_HASH_LEN), 0);
	cr_assert_neq(memcmp(h1, h3, PAT_HASH_LEN), 0,
	    "another installation key gives another hash");
	t[strlen(t) - 7] ^= 1;
	pat_token_hash(k1, t, strlen(t), h2);
	cr_assert_neq(memcmp(h1, h2, PAT_HASH_LEN), 0);
}
