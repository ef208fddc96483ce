/* jwt_forge.c - see jwt_forge.h. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "jwt_forge.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

void
forge_jwt(char *out, size_t n, const char *hdr, const char *claims,
    const uint8_t *sig, size_t siglen)
{
	char h[512], c[512], s[256] = "";

	sodium_bin2base64(h, sizeof(h), (const uint8_t *)hdr, strlen(hdr), B64);
	sodium_bin2base64(c, sizeof(c), (const uint8_t *)claims, strlen(claims),
	    B64);
	if (siglen > 0)
		sodium_bin2base64(s, sizeof(s), sig, siglen, B64);
	snprintf(out, n, "%s.%s.%s", h, c, s);
}

void
forge_hs256_with_public_key(char *out, size_t n, const struct jwt_keys *k,
    const char *claims)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char hdr[128];
	const char *dot;

	snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":"
	    "\"%s\"}", k->kid);
	forge_jwt(out, n, hdr, claims, NULL, 0);
	dot = strrchr(out, '.');
	crypto_auth_hmacsha256_init(&st, k->pk, sizeof(k->pk));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)out,
	    (size_t)(dot - out));
	crypto_auth_hmacsha256_final(&st, mac);
	forge_jwt(out, n, hdr, claims, mac, sizeof(mac));
}
