/* Unit tests: session JWTs (EdDSA) — the accepted one and every refusal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "jwt.h"
#include "jwt_forge.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define NOW 1800000000LL

static struct jwt_keys keys;

static void
init(void)
{
	uint8_t seed[32];

	cr_assert(sodium_init() >= 0);
	randombytes_buf(seed, sizeof(seed));
	jwt_keys_from_seed(&keys, seed);
}

TestSuite(jwt, .init = init);

static void
mint(char *out)
{
	struct jwt_claims c;

	cr_assert_eq(jwt_mint(&keys, "alice", 1001, NOW, 3600, out, &c), 0);
}

Test(jwt, a_minted_token_verifies_with_its_claims)
{
	char t[JWT_MAX + 1];
	struct jwt_claims c;

	mint(t);
	cr_assert_eq(jwt_verify(&keys, t, NOW + 10, &c), JWT_OK);
	cr_assert_str_eq(c.sub, "alice");
	cr_assert_eq(c.uid, 1001);
	cr_assert_eq(c.iat, NOW);
	cr_assert_eq(c.exp, NOW + 3600);
	cr_assert_eq(strlen(c.jti), JWT_JTI_LEN);
	/* the header says what RFC 8037 asks */
	{
		uint8_t h[256];
		size_t len;

		sodium_base642bin(h, sizeof(h), t, strchr(t, '.') - t, NULL,
		    &len, NULL, B64);
		h[len] = 0;
		cr_assert(strstr((char *)h, "\"alg\":\"EdDSA\"") &&
		    strstr((char *)h, "\"typ\":\"JWT\"") &&
		    strstr((char *)h, "\"kid\":"), "%s", h);
	}
}

Test(jwt, two_tokens_have_different_jti)
{
	char a[JWT_MAX + 1], b[JWT_MAX + 1];
	struct jwt_claims ca, cb;

	mint(a);
	mint(b);
	jwt_verify(&keys, a, NOW, &ca);
	jwt_verify(&keys, b, NOW, &cb);
	cr_assert_str_neq(ca.jti, cb.jti);
}

static const char *claims_ok =
    "{\"sub\":\"alice\",\"uid\":1001,\"iat\":1800000000,\"exp\":1800003600,"
    "\"jti\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"amr\":[\"pam\"]}";

Test(jwt, alg_none_is_refused)
{
	char t[2048], hdr[128];
	struct jwt_claims c;

	snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":"
	    "\"%s\"}", keys.kid);
	forge_jwt(t, sizeof(t), hdr, claims_ok, NULL, 0);
	cr_assert_eq(jwt_verify(&keys, t, NOW, &c), JWT_BAD_HEADER);
	forge_jwt(t, sizeof(t), "{\"alg\":\"none\"}", claims_ok, NULL, 0);
	cr_assert_eq(jwt_verify(&keys, t, NOW, &c), JWT_BAD_HEADER);
}

Test(jwt, hs256_signed_with_the_public_key_is_refused)
{
	char t[2048];
	struct jwt_claims c;

	forge_hs256_with_public_key(t, sizeof(t), &keys, claims_ok);
	cr_assert_eq(jwt_verify(&keys, t, NOW, &c), JWT_BAD_HEADER);
}

Test(jwt, a_flipped_signature_bit_is_refused)
{
	char t[JWT_MAX + 1];
	uint8_t sig[crypto_sign_BYTES];
	struct jwt_claims c;
	char *dot;
	size_t len;

	mint(t);
	dot = strrchr(t, '.');
	sodium_base642bin(sig, sizeof(sig), dot + 1, strlen(dot + 1), NULL,
	    &len, NULL, B64);
	sig[10] ^= 0x04;
	sodium_bin2base64(dot + 1, JWT_MAX - (size_t)(dot + 1 - t), sig,
	    sizeof(sig), B64);
	cr_assert_eq(jwt_verify(&keys, t, NOW, &c), JWT_BAD_SIGNATURE);
}

Test(jwt, a_changed_claim_is_refused)
{
	char t[JWT_MAX + 1], forged[2048], hdr[128];
	struct jwt_claims c;
	uint8_t sig[crypto_sign_BYTES];
	size_t len;
	char *d2;

	mint(t);
	d2 = strrchr(t, '.');
	sodium_base642bin(sig, sizeof(sig), d2 + 1, strlen(d2 + 1), NULL, &len,
	    NULL, B64);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":"
	    "\"%s\"}", keys.kid);
	/* root instead of alice, with alice's signature */
	forge_jwt(forged, sizeof(forged), hdr, "{\"sub\":\"root\",\"uid\":0,"
	    "\"iat\":1800000000,\"exp\":1800003600,\"jti\":"
	    "\"AAAAAAAAAAAAAAAAAAAAAA\",\"amr\":[\"pam\"]}", sig, sizeof(sig));
	cr_assert_eq(jwt_verify(&keys, forged, NOW, &c), JWT_BAD_SIGNATURE);
}

Test(jwt, expiry_and_not_before)
{
	char t[JWT_MAX + 1];
	struct jwt_claims c;

	mint(t);
	cr_assert_eq(jwt_verify(&keys, t, NOW + 3599, &c), JWT_OK);
	cr_assert_eq(jwt_verify(&keys, t, NOW + 3600, &c), JWT_EXPIRED);
	cr_assert_eq(jwt_verify(&keys, t, NOW - JWT_LEEWAY, &c), JWT_OK);
	cr_assert_eq(jwt_verify(&keys, t, NOW - JWT_LEEWAY - 1, &c),
	    JWT_NOT_YET_VALID);
}

Test(jwt, another_installations_key_is_refused)
{
	struct jwt_keys other;
	uint8_t seed[32];
	char t[JWT_MAX + 1];
	struct jwt_claims c;

	randombytes_buf(seed, sizeof(seed));
	jwt_keys_from_seed(&other, seed);
	cr_assert_eq(jwt_mint(&other, "alice", 1001, NOW, 60, t, &c), 0);
	cr_assert_eq(jwt_verify(&keys, t, NOW, &c), JWT_BAD_HEADER);
	/* same kid forced: the signature still decides */
	memcpy(other.kid, keys.kid, sizeof(keys.kid));
	cr_assert_eq(jwt_mint(&other, "alice", 1001, NOW, 60, t, &c), 0);
	cr_assert_eq(jwt_verify(&keys, t, NOW, &c), JWT_BAD_SIGNATURE);
}

Test(jwt, malformed_base64url_and_shapes)
{
	static const char *bad[] = { "", ".", "..", "...", "a.b", "a.b.c.d",
		"eyJ=.eyJ.sig", "ey+J.e/yJ.c", "!!!.???.***", "a..c" };
	char t[JWT_MAX + 1], big[JWT_MAX + 64];
	struct jwt_claims c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(jwt_verify(&keys, bad[i], NOW, &c), JWT_MALFORMED,
		    "%s", bad[i]);
	mint(t);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, t, strlen(t));
	cr_assert_eq(jwt_verify(&keys, big, NOW, &c), JWT_MALFORMED);
	/* padding added to the signature part */
	snprintf(big, sizeof(big), "%s==", t);
	cr_assert_eq(jwt_verify(&keys, big, NOW, &c), JWT_MALFORMED);
}

/* Fuzz-style: thousands of mutations of a real token, none accepted, none
 * crashing (the run is also part of the ASan-free suite; see fuzz/ later). */
Test(jwt, mutations_never_crash_and_never_pass)
{
	char t[JWT_MAX + 1], m[JWT_MAX + 64];
	struct jwt_claims c;
	int i, accepted = 0;
	size_t len, pos;

	mint(t);
	len = strlen(t);
	srand(4242);
	for (i = 0; i < 50000; i++) {
		memcpy(m, t, len + 1);
		pos = (size_t)rand() % len;
		switch (rand() % 4) {
		case 0: m[pos] ^= (char)(1 << (rand() % 7)); break;
		case 1: m[pos] = (char)(rand() % 255 + 1); break;
		case 2: memmove(m + pos, m + pos + 1, len - pos); break;
		case 3: m[pos] = '\0'; break;
		}
		if (strcmp(m, t) == 0)
			continue;
		if (jwt_verify(&keys, m, NOW, &c) == JWT_OK)
			accepted++;
	}
	cr_assert_eq(accepted, 0, "%d mutated tokens accepted", accepted);
}
