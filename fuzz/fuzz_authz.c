/* libFuzzer: pat-gate's Authorization header parser and strict base64.
 * Never reads past the input; what it accepts is exactly what a canonical
 * encoder would write (decode then encode gives the input back); a
 * refused or other header leaves no credential behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../pat_gate/auth.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
b64_encode(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/";
	size_t i, o = 0;
	unsigned long v;

	for (i = 0; i < n; i += 3) {
		v = (unsigned long)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	return o;
}

static void
check_token(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n > GATE_TOKEN_MAX)
		abort();
	for (i = 0; i < n; i++)
		if (!gate_token_char((unsigned char)t[i]))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: any read past the end is ASan's */
	char *s = malloc(size ? size : 1), *enc;
	unsigned char *dec;
	struct gate_cred c;
	size_t n;
	long k;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	switch (gate_auth_parse(s, size, &c)) {
	case GATE_AUTH_BEARER:
		if (c.user[0] != '\0' || size != 7 + strlen(c.token) ||
		    memcmp(s + 7, c.token, strlen(c.token)) != 0)
			abort();
		check_token(c.token);
		break;
	case GATE_AUTH_BASIC:
		check_token(c.token);
		if (!pat_user_name_valid(c.user) || strchr(c.user, ':'))
			abort();
		/* canonical: user ":" token encodes back to the header */
		n = strlen(c.user) + 1 + strlen(c.token);
		dec = malloc(n);
		enc = malloc((n + 2) / 3 * 4);
		memcpy(dec, c.user, strlen(c.user));
		dec[strlen(c.user)] = ':';
		memcpy(dec + strlen(c.user) + 1, c.token, strlen(c.token));
		if (b64_encode(dec, n, enc) != size - 6 ||
		    memcmp(enc, s + 6, size - 6) != 0)
			abort();
		free(dec);
		free(enc);
		break;
	case GATE_AUTH_NONE:
		abort();	/* only a NULL value means no header */
	case GATE_AUTH_OTHER:
	case GATE_AUTH_MALFORMED:
		if (c.user[0] != '\0' || c.token[0] != '\0')
			abort();
		break;
	}
	gate_cred_wipe(&c);

	/* the decoder alone: strict means canonical */
	dec = malloc(size / 4 * 3 + 1);
	k = gate_b64_decode(s, size, dec, size / 4 * 3 + 1);
	if (k >= 0) {
		enc = malloc(size + 4);
		if (b64_encode(dec, (size_t)k, enc) != size ||
		    memcmp(enc, s, size) != 0)
			abort();
		free(enc);
	}
	free(dec);
	free(s);
	return 0;
}
