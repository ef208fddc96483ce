/* jwt.c - EdDSA JWTs for login sessions; see jwt.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "jwt.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

const char *
jwt_verdict_code(enum jwt_verdict v)
{
	switch (v) {
	case JWT_OK:		return "ok";
	case JWT_MALFORMED:	return "malformed";
	case JWT_BAD_HEADER:	return "bad-header";
	case JWT_BAD_SIGNATURE:	return "bad-signature";
	case JWT_BAD_CLAIMS:	return "bad-claims";
	case JWT_EXPIRED:	return "expired";
	case JWT_NOT_YET_VALID:	return "not-yet-valid";
	}
	return "malformed";
}

void
jwt_keys_from_seed(struct jwt_keys *k, const uint8_t seed[32])
{
	uint8_t h[8];

	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	crypto_generichash(h, sizeof(h), k->pk, sizeof(k->pk), NULL, 0);
	sodium_bin2base64(k->kid, sizeof(k->kid), h, sizeof(h), B64);
}

void
jwt_keys_wipe(struct jwt_keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

/* The header patd writes, and the only one it accepts. */
static void
header_json(const struct jwt_keys *k, char *out, size_t n)
{
	snprintf(out, n, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
	    k->kid);
}

static int
b64(const void *in, size_t len, char *out, size_t room)
{
	if (sodium_base64_ENCODED_LEN(len, B64) > room)
		return -E2BIG;
	sodium_bin2base64(out, room, in, len, B64);
	return (int)strlen(out);
}

int
jwt_mint(const struct jwt_keys *k, const char *sub, uint32_t uid, int64_t now,
    int64_t lifetime, char *out, struct jwt_claims *c)
{
	char hdr[128], claims[384];
	uint8_t sig[crypto_sign_BYTES], rnd[16];
	size_t len;
	int n;

	if (strlen(sub) > JWT_USER_MAX)
		return -E2BIG;
	memset(c, 0, sizeof(*c));
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2base64(c->jti, sizeof(c->jti), rnd, sizeof(rnd), B64);
	snprintf(c->sub, sizeof(c->sub), "%s", sub);
	c->uid = uid;
	c->iat = now;
	c->exp = now + lifetime;
	header_json(k, hdr, sizeof(hdr));
	snprintf(claims, sizeof(claims), "{\"sub\":\"%s\",\"uid\":%u,"
	    "\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\",\"amr\":[\"pam\"]}",
	    c->sub, c->uid, (long long)c->iat, (long long)c->exp, c->jti);

	if ((n = b64(hdr, strlen(hdr), out, JWT_MAX + 1)) < 0)
		return n;
	len = (size_t)n;
	out[len++] = '.';
	if ((n = b64(claims, strlen(claims), out + len, JWT_MAX + 1 - len)) < 0)
		return n;
	len += (size_t)n;
	crypto_sign_detached(sig, NULL, (const uint8_t *)out, len, k->sk);
	if (len + 1 >= JWT_MAX)
		return -E2BIG;
	out[len++] = '.';
	if ((n = b64(sig, sizeof(sig), out + len, JWT_MAX + 1 - len)) < 0)
		return n;
	return 0;
}

/* Decode one base64url part (no padding) into out; -1 on anything else,
 * including a non-canonical spelling (unused trailing bits set), so one
 * token has exactly one text. */
static long
unb64(const char *p, size_t len, uint8_t *out, size_t room)
{
	char again[JWT_MAX + 4];
	size_t got = 0;
	const char *end = NULL;

	if (len == 0 || len > JWT_MAX || sodium_base642bin(out, room, p, len,
	    NULL, &got, &end, B64) != 0 || end != p + len)
		return -1;
	if (sodium_base64_ENCODED_LEN(got, B64) > sizeof(again))
		return -1;
	sodium_bin2base64(again, sizeof(again), out, got, B64);
	if (strlen(again) != len || memcmp(again, p, len) != 0)
		return -1;
	return (long)got;
}

enum jwt_verdict
jwt_verify(const struct jwt_keys *k, const char *token, int64_t now,
    struct jwt_claims *c)
{
	char want[128], claims[JWT_MAX + 1], sub[JWT_USER_MAX + 2];
	char jti[JWT_JTI_LEN + 2];
	uint8_t hdr[JWT_MAX], sig[crypto_sign_BYTES + 1];
	const char *d1, *d2;
	long long iat, exp;
	unsigned uid;
	size_t len = strnlen(token, JWT_MAX + 1);
	long n;
	int used = -1;

	memset(c, 0, sizeof(*c));
	if (len > JWT_MAX || (d1 = strchr(token, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL)
		return JWT_MALFORMED;
	header_json(k, want, sizeof(want));
	n = unb64(token, (size_t)(d1 - token), hdr, sizeof(hdr));
	if (n < 0)
		return JWT_MALFORMED;
	if ((size_t)n != strlen(want) || memcmp(hdr, want, (size_t)n) != 0)
		return JWT_BAD_HEADER;
	n = unb64(d2 + 1, strlen(d2 + 1), sig, sizeof(sig));
	if (n != crypto_sign_BYTES)
		return JWT_MALFORMED;
	if (crypto_sign_verify_detached(sig, (const uint8_t *)token,
	    (size_t)(d2 - token), k->pk) != 0)
		return JWT_BAD_SIGNATURE;
	n = unb64(d1 + 1, (size_t)(d2 - d1 - 1), (uint8_t *)claims,
	    sizeof(claims) - 1);
	if (n < 0)
		return JWT_MALFORMED;
	claims[n] = '\0';
	/* signed by us, so in our one shape; anything else is refused */
	if (sscanf(claims, "{\"sub\":\"%65[^\"]\",\"uid\":%u,\"iat\":%lld,"
	    "\"exp\":%lld,\"jti\":\"%23[^\"]\",\"amr\":[\"pam\"]}%n", sub, &uid,
	    &iat, &exp, jti, &used) != 5 || used != (int)n ||
	    strlen(sub) > JWT_USER_MAX || strlen(jti) != JWT_JTI_LEN)
		return JWT_BAD_CLAIMS;
	snprintf(c->sub, sizeof(c->sub), "%s", sub);
	snprintf(c->jti, sizeof(c->jti), "%s", jti);
	c->uid = uid;
	c->iat = iat;
	c->exp = exp;
	if (now >= exp)
		return JWT_EXPIRED;
	if (iat > now + JWT_LEEWAY)
		return JWT_NOT_YET_VALID;
	return JWT_OK;
}
