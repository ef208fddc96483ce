/*
 * jwt_forge.h - the forgeries both the JWT unit tests and the login
 * integration tests present to patd.
 */
#ifndef PAT_TESTS_JWT_FORGE_H
#define PAT_TESTS_JWT_FORGE_H

#include <stddef.h>
#include <stdint.h>

#include "jwt.h"

/* header.payload.signature from JSON texts and a raw signature (none when
 * siglen is 0), each part base64url. */
void	forge_jwt(char *out, size_t n, const char *hdr, const char *claims,
	    const uint8_t *sig, size_t siglen);
/* The classic algorithm confusion: alg HS256 with our kid, "signed" with
 * HMAC-SHA256 keyed by the public key. */
void	forge_hs256_with_public_key(char *out, size_t n,
	    const struct jwt_keys *k, const char *claims);

#endif
