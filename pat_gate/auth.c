/* auth.c - parse the Authorization header (Bearer, strict Basic); see auth.h. */
#include <errno.h>
#include <string.h>

#include "auth.h"
#include "names.h"

int
gate_token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~' || c == '+' || c == '/' || c == '=' || c == '|';
}

/* tchar of RFC 9110 5.6.2: what an auth-scheme is made of */
static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
gate_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap)
{
	size_t i, o = 0, pad = 0;
	unsigned long acc;
	int k, v;

	if (inlen == 0 || inlen % 4 != 0)
		return -EINVAL;
	if (in[inlen - 1] == '=')
		pad = in[inlen - 2] == '=' ? 2 : 1;
	if ((inlen / 4) * 3 - pad > cap)
		return -E2BIG;
	for (i = 0; i < inlen; i += 4) {
		acc = 0;
		for (k = 0; k < 4; k++) {
			/* '=' only where pad says: the last one or two */
			if (i + 4 == inlen && k >= 4 - (int)pad) {
				if (in[i + k] != '=')
					return -EINVAL;
				v = 0;
			} else if ((v = b64val((unsigned char)in[i + k])) < 0)
				return -EINVAL;
			acc = acc << 6 | (unsigned long)v;
		}
		/* canonical: the bits the padding drops must be zero */
		if ((pad == 1 && i + 4 == inlen && (acc & 0xff) != 0) ||
		    (pad == 2 && i + 4 == inlen && (acc & 0xffff) != 0))
			return -EINVAL;
		out[o++] = (unsigned char)(acc >> 16);
		if (i + 4 < inlen || pad < 2)
			out[o++] = (unsigned char)(acc >> 8);
		if (i + 4 < inlen || pad < 1)
			out[o++] = (unsigned char)acc;
	}
	return (long)o;
}

/* The token's bytes: b64token charset, '=' only as a trailing run. */
static enum gate_auth_why
check_token(const char *s, size_t n)
{
	size_t i;
	int eq = 0;

	if (n == 0)
		return GATE_WHY_TOKEN_CHARS;
	if (n > GATE_TOKEN_MAX)
		return GATE_WHY_TOO_LONG;
	for (i = 0; i < n; i++) {
		if (!gate_token_char((unsigned char)s[i]))
			return GATE_WHY_TOKEN_CHARS;
		if (s[i] == '=')
			eq = 1;
		else if (eq)
			return GATE_WHY_TOKEN_CHARS;
	}
	return GATE_WHY_NONE;
}

static enum gate_auth_why
parse_basic(const char *b64, size_t n, struct gate_cred *out)
{
	unsigned char buf[GATE_USER_MAX + 1 + GATE_TOKEN_MAX + 1];
	enum gate_auth_why why = GATE_WHY_NONE;
	const unsigned char *colon;
	size_t ulen, tlen;
	long len;

	if (n > GATE_BASIC_B64_MAX)
		return GATE_WHY_TOO_LONG;
	len = gate_b64_decode(b64, n, buf, sizeof(buf));
	if (len < 0) {
		why = len == -E2BIG ? GATE_WHY_TOO_LONG : GATE_WHY_BASE64;
		goto out;
	}
	/* split at the FIRST ':' (RFC 7617: the user-id has none) */
	if ((colon = memchr(buf, ':', (size_t)len)) == NULL) {
		why = GATE_WHY_NO_COLON;
		goto out;
	}
	ulen = (size_t)(colon - buf);
	tlen = (size_t)len - ulen - 1;
	if (ulen == 0 || ulen > GATE_USER_MAX) {
		why = GATE_WHY_USER;
		goto out;
	}
	memcpy(out->user, buf, ulen);
	out->user[ulen] = '\0';
	/* a NUL inside stops strlen short of ulen: refused here */
	if (strlen(out->user) != ulen || !pat_user_name_valid(out->user)) {
		why = GATE_WHY_USER;
		goto out;
	}
	if ((why = check_token((const char *)colon + 1, tlen)) != GATE_WHY_NONE)
		goto out;
	memcpy(out->token, colon + 1, tlen);
	out->token[tlen] = '\0';
out:
	explicit_bzero(buf, sizeof(buf));
	return why;
}

static int
scheme_is(const char *s, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(s, name, n) == 0;
}

enum gate_auth_kind
gate_auth_parse(const char *value, size_t len, struct gate_cred *out)
{
	enum gate_auth_why why;
	size_t slen = 0;
	const char *cred;
	int basic;

	explicit_bzero(out, sizeof(*out));
	if (value == NULL)
		return out->kind = GATE_AUTH_NONE;
	while (slen < len && tchar((unsigned char)value[slen]))
		slen++;
	if (scheme_is(value, slen, "Bearer"))
		basic = 0;
	else if (scheme_is(value, slen, "Basic"))
		basic = 1;
	else
		return out->kind = GATE_AUTH_OTHER;
	if (len > GATE_AUTHZ_MAX) {
		why = GATE_WHY_TOO_LONG;
		goto bad;
	}
	/* exactly one SP, then a credential; its charset refuses any
	 * further white space, a second credential or a NUL */
	if (slen + 1 >= len || value[slen] != ' ') {
		why = GATE_WHY_SYNTAX;
		goto bad;
	}
	cred = value + slen + 1;
	if (cred[0] == ' ') {
		why = GATE_WHY_SYNTAX;
		goto bad;
	}
	if (basic)
		why = parse_basic(cred, len - slen - 1, out);
	else if ((why = check_token(cred, len - slen - 1)) == GATE_WHY_NONE) {
		memcpy(out->token, cred, len - slen - 1);
		out->token[len - slen - 1] = '\0';
	}
	if (why != GATE_WHY_NONE)
		goto bad;
	return out->kind = basic ? GATE_AUTH_BASIC : GATE_AUTH_BEARER;
bad:
	explicit_bzero(out, sizeof(*out));
	out->why = why;
	return out->kind = GATE_AUTH_MALFORMED;
}

void
gate_cred_wipe(struct gate_cred *c)
{
	explicit_bzero(c, sizeof(*c));
}

const char *
gate_auth_why_name(enum gate_auth_why why)
{
	switch (why) {
	case GATE_WHY_NONE:		return "none";
	case GATE_WHY_SYNTAX:		return "syntax";
	case GATE_WHY_TOO_LONG:		return "too-long";
	case GATE_WHY_TOKEN_CHARS:	return "token-chars";
	case GATE_WHY_BASE64:		return "base64";
	case GATE_WHY_NO_COLON:		return "no-colon";
	case GATE_WHY_USER:		return "user";
	}
	return "?";
}
