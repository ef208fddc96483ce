/* table.c - aligned tables that fit TABLE_WIDTH columns, by display width. */
#include <langinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct row {
	enum row_color	 color;
	char		*cell[TABLE_COLS];
};

struct table {
	int		 ncols;
	char		 shrink[TABLE_COLS];
	struct row	 head;
	struct row	*rows;
	size_t		 n, cap;
};

/* The code point of the UTF-8 sequence at s and its length (1 for a
 * stray byte, which escaped text never holds). */
static size_t
decode(const unsigned char *s, uint32_t *cp)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 :
	    s[0] >= 0xc0 ? 2 : 1, i;

	*cp = len == 1 ? s[0] : s[0] & (0x3f >> (len - 1));
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = s[0];
			return 1;
		}
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	return len;
}

/* Columns a code point takes on a terminal: wcwidth's answer for the
 * ranges that matter, without depending on the locale patctl runs in. */
static int
cp_width(uint32_t cp)
{
	if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
	    (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe20 && cp <= 0xfe2f) ||
	    cp == 0x200b || cp == 0x200c || cp == 0x200d)
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
	    (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
	    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

size_t
text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	uint32_t cp;

	while (*p) {
		p += decode(p, &cp);
		w += (size_t)cp_width(cp);
	}
	return w;
}

static const char *
ellipsis(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs != NULL && strcmp(cs, "UTF-8") == 0 ? "\u2026" : "~";
}

/* Print s in exactly w columns: padded, or cut with an ellipsis (unless
 * it is the last column, which is not padded). */
static void
put_cell(FILE *f, const char *s, size_t w, bool last)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t used = 0, len;
	uint32_t cp;

	if (text_width(s) <= w) {
		fputs(s, f);
		used = text_width(s);
	} else {
		while (*p) {
			len = decode(p, &cp);
			if (used + (size_t)cp_width(cp) > w - 1)
				break;
			fwrite(p, 1, len, f);
			used += (size_t)cp_width(cp);
			p += len;
		}
		fputs(ellipsis(), f);
		used++;
	}
	while (!last && used++ < w)
		fputc(' ', f);
}

static int
row_copy(struct table *t, struct row *r, enum row_color color,
    const char *const *cells)
{
	int i;

	r->color = color;
	for (i = 0; i < t->ncols; i++)
		if ((r->cell[i] = strdup(cells[i] ? cells[i] : "-")) == NULL)
			return -1;
	return 0;
}

struct table *
table_new(int ncols, const char *const *headers, const char *shrink)
{
	struct table *t;
	int i;

	if (ncols > TABLE_COLS || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ncols = ncols;
	for (i = 0; i < ncols; i++)
		t->shrink[i] = shrink[i] == '1';
	if (row_copy(t, &t->head, ROW_PLAIN, headers) < 0) {
		table_print(NULL, t);
		return NULL;
	}
	return t;
}

int
table_row(struct table *t, enum row_color color, const char *const *cells)
{
	struct row *nr;

	if (t == NULL)
		return -1;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		if ((nr = realloc(t->rows, t->cap * sizeof(*nr))) == NULL)
			return -1;
		t->rows = nr;
	}
	memset(&t->rows[t->n], 0, sizeof(t->rows[t->n]));
	return row_copy(t, &t->rows[t->n++], color, cells);
}

static void
row_free(struct table *t, struct row *r)
{
	int i;

	for (i = 0; i < t->ncols; i++) {
		if (r->cell[i] != NULL)
			explicit_bzero(r->cell[i], strlen(r->cell[i]));
		free(r->cell[i]);
	}
}

static void
put_row(FILE *f, struct table *t, const struct row *r, const size_t *w,
    bool color)
{
	static const char *sgr[] = { "", "\033[31m", "\033[33m", "\033[2m" };
	int i;

	if (color && r->color != ROW_PLAIN)
		fputs(sgr[r->color], f);
	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			fputc(' ', f);
		put_cell(f, r->cell[i], w[i], i == t->ncols - 1);
	}
	if (color && r->color != ROW_PLAIN)
		fputs("\033[0m", f);
	fputc('\n', f);
}

void
table_print(struct ctl *c, struct table *t)
{
	size_t w[TABLE_COLS] = { 0 }, total, i, k, min;
	int j, widest;

	if (t == NULL)
		return;
	for (j = 0; c != NULL && j < t->ncols; j++) {
		w[j] = text_width(t->head.cell[j]);
		for (i = 0; i < t->n; i++)
			if (text_width(t->rows[i].cell[j]) > w[j])
				w[j] = text_width(t->rows[i].cell[j]);
	}
	/* too wide: cut the widest column that may be cut, one at a time,
	 * down to its header's width (at least 4) */
	for (;;) {
		for (total = (size_t)t->ncols - 1, j = 0; j < t->ncols; j++)
			total += w[j];
		if (c == NULL || total <= TABLE_WIDTH)
			break;
		for (widest = -1, j = 0; j < t->ncols; j++) {
			min = text_width(t->head.cell[j]);
			min = min < 4 ? 4 : min;
			if (t->shrink[j] && w[j] > min &&
			    (widest < 0 || w[j] > w[widest]))
				widest = j;
		}
		if (widest < 0)
			break;
		w[widest]--;
	}
	if (c != NULL) {
		put_row(stdout, t, &t->head, w, false);
		for (k = 0; k < t->n; k++)
			put_row(stdout, t, &t->rows[k], w, c->color);
	}
	row_free(t, &t->head);
	for (k = 0; k < t->n; k++)
		row_free(t, &t->rows[k]);
	free(t->rows);
	free(t);
}
