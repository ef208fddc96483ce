/*
 * auth.h - the Authorization header, as pat-gate reads it.
 *
 * Pure functions: no MHD, no I/O, no allocation, so they are unit-tested
 * and fuzzed directly.  Accepted:
 *
 *	Bearer <token>
 *	Basic <base64(user ":" token)>
 *
 * The scheme is matched case-insensitively (RFC 9110 11.1), followed by
 * exactly one space and exactly one credential with no white space in or
 * after it.  Anything else that names Bearer or Basic is malformed (a token
 * was presented, badly: 401 invalid_token); another scheme (Digest,
 * Negotiate, ...) is "other" (no PAT was presented: a plain 401, RFC 6750
 * 3.1).
 *
 * Basic is decoded by gate_b64_decode below, the standard alphabet (RFC
 * 4648 section 4) only, strictly: length a multiple of 4, '=' only as the
 * last one or two characters, unused bits of the last quantum zero, no
 * white space, no URL-safe alphabet.  The decoded text is split at the
 * FIRST ':' (a user name has none; RFC 7617), the user must be a valid
 * user name (names.h) and the token printable.
 *
 * Every buffer that held a credential is wiped before return; the caller
 * wipes *out with gate_cred_wipe().
 */
#ifndef PAT_GATE_AUTH_H
#define PAT_GATE_AUTH_H

#include <stddef.h>

#define GATE_TOKEN_MAX		255	/* bytes of a token (pat's are <= 63) */
#define GATE_USER_MAX		64	/* PAT_USER_NAME_MAX */
/* base64 of "user:token" at the limits above, rounded up */
#define GATE_BASIC_B64_MAX	(((GATE_USER_MAX + 1 + GATE_TOKEN_MAX + 2) / 3) * 4)
/* a whole header value longer than this is malformed before parsing */
#define GATE_AUTHZ_MAX		(6 + 1 + GATE_BASIC_B64_MAX)

enum gate_auth_kind {
	GATE_AUTH_NONE,		/* no Authorization header */
	GATE_AUTH_OTHER,	/* a scheme pat does not use */
	GATE_AUTH_MALFORMED,	/* Bearer/Basic, but not well-formed */
	GATE_AUTH_BEARER,
	GATE_AUTH_BASIC,
};

/* Why a header was malformed: fixed words for the log, never the value. */
enum gate_auth_why {
	GATE_WHY_NONE,
	GATE_WHY_SYNTAX,	/* spaces, tabs, empty credential, ... */
	GATE_WHY_TOO_LONG,
	GATE_WHY_TOKEN_CHARS,	/* the token has a byte outside its charset */
	GATE_WHY_BASE64,	/* Basic: not strict base64 */
	GATE_WHY_NO_COLON,	/* Basic: no ':' between user and token */
	GATE_WHY_USER,		/* Basic: empty or invalid user name */
};

struct gate_cred {
	enum gate_auth_kind kind;
	enum gate_auth_why  why;		/* GATE_AUTH_MALFORMED only */
	char	user[GATE_USER_MAX + 1];	/* Basic only, else "" */
	char	token[GATE_TOKEN_MAX + 1];	/* Bearer, Basic; else "" */
};

/*
 * Parse a header value of `len` bytes (value may hold NULs: they make it
 * malformed).  value NULL means no header.  Always fills *out and returns
 * out->kind.
 */
enum gate_auth_kind gate_auth_parse(const char *value, size_t len,
	    struct gate_cred *out);
/* Wipe a credential (explicit_bzero). */
void	gate_cred_wipe(struct gate_cred *c);
/* A fixed word for why: "syntax", "too-long", ... */
const char *gate_auth_why_name(enum gate_auth_why why);

/*
 * Strict standard base64 (see above) of inlen bytes into out (cap bytes).
 * Returns the decoded length, -EINVAL for anything not strict base64 or
 * an empty input, -E2BIG when it would not fit.  On error out may hold
 * partial output: the caller wipes it.
 */
long	gate_b64_decode(const char *in, size_t inlen, unsigned char *out,
	    size_t cap);

/* The bytes a token may hold: the visible ASCII of RFC 6750's b64token
 * plus '|' (pat's "17|pat-..."). */
int	gate_token_char(unsigned char c);

#endif
