/* buf.c - bounded growable buffer; see buf.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
pat_buf_init(struct pat_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
pat_buf_free(struct pat_buf *b)
{
	if (b->data != NULL) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

void
pat_buf_reset(struct pat_buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	b->len = 0;
}

void
pat_buf_consume(struct pat_buf *b, size_t n)
{
	if (n >= b->len) {
		pat_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	explicit_bzero(b->data + b->len - n, n);
	b->len -= n;
}

static int
reserve(struct pat_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return -E2BIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	/* Not realloc: the old block may hold a secret and must be wiped. */
	if ((p = malloc(ncap)) == NULL)
		return -ENOMEM;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
pat_buf_add(struct pat_buf *b, const void *p, size_t n)
{
	int r;

	if ((r = reserve(b, n)) < 0)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
pat_buf_adds(struct pat_buf *b, const char *s)
{
	return pat_buf_add(b, s, strlen(s));
}

int
pat_buf_addf(struct pat_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small)) {
		r = pat_buf_add(b, small, (size_t)n);
		explicit_bzero(small, (size_t)n);	/* what was written */
		return r;
	}
	if ((r = reserve(b, (size_t)n)) < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}
