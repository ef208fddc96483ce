/* proto.c - wire format codec; see proto.h. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static bool
verb_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '-' || (c >= '0' && c <= '9');
}

static bool
key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	    c == '-';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a value in place; -EINVAL on a bad escape or a control byte. */
static int
decode(char *s)
{
	char *r = s, *w = s;
	int hi, lo;
	unsigned char c;

	while (*r != '\0') {
		if (*r == '%') {
			if ((hi = hexval(r[1])) < 0 || (lo = hexval(r[2])) < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			r += 3;
		} else
			c = (unsigned char)*r++;
		if (c < 0x20 || c == 0x7f)
			return -EINVAL;
		*w++ = (char)c;
	}
	*w = '\0';
	return 0;
}

int
pat_msg_parse(struct pat_msg *m, const char *line, size_t len)
{
	char *p, *tok, *eq;
	size_t i;

	pat_msg_wipe(m);
	if (len > PAT_LINE_MAX)
		return -E2BIG;
	if (len > 0 && line[len - 1] == '\r')	/* be kind to telnet-ish clients */
		len--;
	memcpy(m->text, line, len);
	m->text[len] = '\0';
	m->len = len + 1;
	if (memchr(m->text, '\0', len) != NULL)
		goto bad;

	p = m->text;
	tok = strsep(&p, " ");
	if (*tok == '\0' || strlen(tok) > PAT_KEY_MAX)
		goto bad;
	for (i = 0; tok[i] != '\0'; i++)
		if (!verb_char(tok[i]))
			goto bad;
	m->verb = tok;

	while (p != NULL) {
		tok = strsep(&p, " ");
		if (*tok == '\0')		/* tolerate repeated spaces */
			continue;
		if (m->nfields == PAT_FIELDS_MAX)
			goto bad;
		if ((eq = strchr(tok, '=')) == NULL || eq == tok ||
		    (size_t)(eq - tok) > PAT_KEY_MAX)
			goto bad;
		*eq = '\0';
		for (i = 0; tok[i] != '\0'; i++)
			if (!key_char(tok[i]))
				goto bad;
		if (pat_msg_get(m, tok) != NULL)
			goto bad;
		if (decode(eq + 1) < 0)
			goto bad;
		m->f[m->nfields].key = tok;
		m->f[m->nfields].val = eq + 1;
		m->nfields++;
	}
	return 0;
bad:
	pat_msg_wipe(m);
	return -EINVAL;
}

const char *
pat_msg_get(const struct pat_msg *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		if (strcmp(m->f[i].key, key) == 0)
			return m->f[i].val;
	return NULL;
}

void
pat_msg_wipe(struct pat_msg *m)
{
	/* only the used part held anything; len is never past the buffer */
	explicit_bzero(m->text, m->len <= sizeof(m->text) ? m->len :
	    sizeof(m->text));
	memset(m->f, 0, sizeof(m->f[0]) * (m->nfields <= PAT_FIELDS_MAX ?
	    m->nfields : PAT_FIELDS_MAX));
	m->verb = NULL;
	m->nfields = 0;
	m->len = 0;
}

int
pat_line_begin(struct pat_buf *b, const char *verb)
{
	return pat_buf_adds(b, verb);
}

int
pat_line_field(struct pat_buf *b, const char *key, const char *val)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)val;
	char esc[3] = { '%', 0, 0 };
	size_t start = b->len, run;
	int r;

	if ((r = pat_buf_add(b, " ", 1)) < 0 ||
	    (r = pat_buf_adds(b, key)) < 0 || (r = pat_buf_add(b, "=", 1)) < 0)
		goto fail;
	while (*s != '\0') {
		for (run = 0; s[run] > ' ' && s[run] < 0x7f && s[run] != '%';
		    run++)
			;
		if (run > 0 && (r = pat_buf_add(b, s, run)) < 0)
			goto fail;
		s += run;
		if (*s == '\0')
			break;
		esc[1] = hex[*s >> 4];
		esc[2] = hex[*s & 15];
		if ((r = pat_buf_add(b, esc, 3)) < 0)
			goto fail;
		s++;
	}
	return 0;
fail:
	b->len = start;		/* all or nothing */
	b->data[b->len] = '\0';
	return r;
}

/* " key=<digits>" without printf: answers are mostly numbers. */
static int
field_digits(struct pat_buf *b, const char *key, bool neg,
    unsigned long long v)
{
	char out[PAT_KEY_MAX + 24], *p = out + sizeof(out);
	size_t klen = strlen(key);

	if (klen > PAT_KEY_MAX)
		return -EINVAL;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (neg)
		*--p = '-';
	*--p = '=';
	p -= klen;
	memcpy(p, key, klen);
	*--p = ' ';
	return pat_buf_add(b, p, (size_t)(out + sizeof(out) - p));
}

int
pat_line_fieldu(struct pat_buf *b, const char *key, unsigned long long v)
{
	return field_digits(b, key, false, v);
}

int
pat_line_fieldi(struct pat_buf *b, const char *key, long long v)
{
	return field_digits(b, key, v < 0, v < 0 ? 0ull - (unsigned long long)v :
	    (unsigned long long)v);
}

int
pat_line_end(struct pat_buf *b)
{
	return pat_buf_add(b, "\n", 1);
}

int
pat_parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
pat_parse_i64(const char *s, long long *out)
{
	long long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}
