/* escape.c - terminal and JSON escaping of untrusted text; see escape.h. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"

/* Output that never overruns and never keeps half an escape: once a piece
 * does not fit, nothing more is written, only counted. */
struct sink {
	char	*out;
	size_t	 n;
	size_t	 used;	/* bytes written to out */
	size_t	 len;	/* bytes the whole result needs */
};

static void
put(struct sink *k, const char *s, size_t len)
{
	if (k->used == k->len && k->used + len < k->n) {
		memcpy(k->out + k->used, s, len);
		k->used += len;
	}
	k->len += len;
}

static size_t
finish(struct sink *k)
{
	if (k->n > 0)
		k->out[k->used] = '\0';
	return k->len;
}

/*
 * Length of the valid UTF-8 sequence at s (1-4), with its code point, or 0
 * when s does not start one (RFC 3629: no overlongs, no surrogates, nothing
 * past U+10FFFF).
 */
static size_t
utf8_seq(const unsigned char *s, uint32_t *cp)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf)
		len = 2;
	else if (b >= 0xe0 && b <= 0xef)
		len = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		len = 4;
	else
		return 0;
	if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	*cp = b & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
	for (i = 1; i < len; i++) {
		if (s[i] < lo || s[i] > hi)	/* also stops at the NUL */
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

/* What a terminal or a JSON reader must not get raw. */
static bool
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
	    cp == 0x2029;
}

size_t
esc_text(char *out, size_t n, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	struct sink k = { out, n, 0, 0 };
	char e[4] = { '\\', 'x', 0, 0 };
	uint32_t cp;
	size_t len, i;

	while (*p != '\0') {
		len = utf8_seq(p, &cp);
		if (len > 0 && !is_control(cp)) {
			put(&k, cp == '\\' ? "\\\\" : (const char *)p,
			    cp == '\\' ? 2 : len);
			p += len;
			continue;
		}
		/* a control: all its bytes; invalid: this byte alone */
		for (i = 0; i < (len > 0 ? len : 1); i++, p++) {
			e[2] = hex[*p >> 4];
			e[3] = hex[*p & 15];
			put(&k, e, 4);
		}
	}
	return finish(&k);
}

size_t
esc_json(char *out, size_t n, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct sink k = { out, n, 0, 0 };
	char e[8];
	uint32_t cp;
	size_t len;

	while (*p != '\0') {
		len = utf8_seq(p, &cp);
		if (len == 0) {
			put(&k, "\\ufffd", 6);
			p++;
			continue;
		}
		if (cp == '"' || cp == '\\') {
			e[0] = '\\';
			e[1] = (char)cp;
			put(&k, e, 2);
		} else if (is_control(cp)) {
			snprintf(e, sizeof(e), "\\u%04x", (unsigned)cp);
			put(&k, e, 6);
		} else
			put(&k, (const char *)p, len);
		p += len;
	}
	return finish(&k);
}
