/*
 * jwt.h - login sessions as JSON Web Tokens (RFC 7519) signed with EdDSA /
 * Ed25519 (RFC 8037) under the installation's session key.
 *
 * patd only ever verifies tokens it minted, so verification is strict:
 * the header must be byte for byte the one patd writes
 * ({"alg":"EdDSA","typ":"JWT","kid":"<kid>"}) — "none", HS256 and every
 * other alg or key id are refused before anything else — and the claims
 * are read only after the signature checks out, in the one shape patd
 * writes: {"sub","uid","iat","exp","jti","amr"}.
 */
#ifndef PATD_JWT_H
#define PATD_JWT_H

#include <stdint.h>

#include <sodium.h>

#define JWT_MAX		1024	/* bytes of a session token */
#define JWT_JTI_LEN	22	/* base64url of 16 random bytes */
#define JWT_KID_LEN	11	/* base64url of 8 bytes */
#define JWT_USER_MAX	64
#define JWT_LEEWAY	60	/* seconds of clock skew tolerated on iat */

struct jwt_keys {
	uint8_t	pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t	sk[crypto_sign_SECRETKEYBYTES];
	char	kid[JWT_KID_LEN + 1];
};

struct jwt_claims {
	char		sub[JWT_USER_MAX + 1];
	uint32_t	uid;
	int64_t		iat;
	int64_t		exp;
	char		jti[JWT_JTI_LEN + 1];
};

enum jwt_verdict {
	JWT_OK = 0,
	JWT_MALFORMED,		/* not three base64url parts, or too long */
	JWT_BAD_HEADER,		/* another alg, typ or key id */
	JWT_BAD_SIGNATURE,
	JWT_BAD_CLAIMS,		/* signed, but not the shape patd writes */
	JWT_EXPIRED,
	JWT_NOT_YET_VALID,
};

const char *jwt_verdict_code(enum jwt_verdict v);

/* Keys from a 32-byte seed (the session.key file). */
void	jwt_keys_from_seed(struct jwt_keys *k, const uint8_t seed[32]);
void	jwt_keys_wipe(struct jwt_keys *k);

/* Mint a token for sub/uid valid from now for lifetime seconds, with a
 * fresh jti.  out must hold JWT_MAX + 1.  Fills *c.  0 or -E2BIG. */
int	jwt_mint(const struct jwt_keys *k, const char *sub, uint32_t uid,
	    int64_t now, int64_t lifetime, char *out, struct jwt_claims *c);

/* Check a token; on JWT_OK (and on JWT_EXPIRED / JWT_NOT_YET_VALID, whose
 * signature was good) *c holds its claims. */
enum jwt_verdict jwt_verify(const struct jwt_keys *k, const char *token,
	    int64_t now, struct jwt_claims *c);

#endif
