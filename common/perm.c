/* perm.c - permission patterns; see perm.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perm.h"

static bool
seg_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool
pat_perm_valid(const char *p)
{
	size_t seglen = 0, i, n = strlen(p);

	if (n == 0 || n > PAT_PERM_MAX_LEN)
		return false;
	for (i = 0; i < n; i++) {
		if (p[i] == '*') {
			/* only as a whole, final segment */
			return i == n - 1 && seglen == 0;
		}
		if (p[i] == '.' || p[i] == ':') {
			if (seglen == 0)
				return false;
			seglen = 0;
			continue;
		}
		if (!seg_char(p[i]))
			return false;
		seglen++;
	}
	return seglen > 0;
}

bool
pat_perm_covers(const char *p, const char *q)
{
	size_t pn = strlen(p);

	if (strcmp(p, q) == 0)
		return true;
	if (pn == 0 || p[pn - 1] != '*')
		return false;
	/* "svc.*" covers whatever starts with "svc." and goes further */
	return strncmp(p, q, pn - 1) == 0 && strlen(q) > pn - 1;
}

void
pat_permset_init(struct pat_permset *s)
{
	s->n = 0;
	s->v = NULL;
}

void
pat_permset_free(struct pat_permset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	pat_permset_init(s);
}

bool
pat_permset_covers(const struct pat_permset *s, const char *q)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (pat_perm_covers(s->v[i], q))
			return true;
	return false;
}

int
pat_permset_add(struct pat_permset *s, const char *p)
{
	size_t i, j, at;
	char *dup, **nv;

	if (!pat_perm_valid(p))
		return -EINVAL;
	if (pat_permset_covers(s, p))
		return 0;
	if (s->n >= PAT_PERMSET_MAX)
		return -E2BIG;
	if ((dup = strdup(p)) == NULL)
		return -ENOMEM;
	/* room for one more even before dropping members p covers */
	if ((nv = realloc(s->v, (s->n + 1) * sizeof(*nv))) == NULL) {
		free(dup);
		return -ENOMEM;
	}
	s->v = nv;
	for (i = j = 0; i < s->n; i++) {
		if (pat_perm_covers(p, s->v[i]))
			free(s->v[i]);
		else
			s->v[j++] = s->v[i];
	}
	s->n = j;
	for (at = 0; at < s->n && strcmp(s->v[at], p) < 0; at++)
		;
	memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
	s->v[at] = dup;
	s->n++;
	return 0;
}

int
pat_permset_add_list(struct pat_permset *s, const char *list)
{
	char item[PAT_PERM_MAX_LEN + 1];
	const char *p = list, *e;
	size_t len;
	int r;

	while (*p != '\0') {
		while (*p == ',' || *p == ' ')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, ", ");
		len = (size_t)(e - p);
		if (len > PAT_PERM_MAX_LEN)
			return -EINVAL;
		memcpy(item, p, len);
		item[len] = '\0';
		if ((r = pat_permset_add(s, item)) < 0)
			return r;
		p = e;
	}
	return 0;
}

int
pat_permset_union(struct pat_permset *dst, const struct pat_permset *src)
{
	size_t i;
	int r;

	for (i = 0; i < src->n; i++)
		if ((r = pat_permset_add(dst, src->v[i])) < 0)
			return r;
	return 0;
}

/*
 * Two patterns overlap only when one covers the other (their prefixes nest),
 * and then the overlap is the narrower one.  So the pairwise narrower members
 * are exactly the intersection.
 */
int
pat_permset_intersect(const struct pat_permset *a, const struct pat_permset *b,
    struct pat_permset *out)
{
	size_t i, j;
	int r;

	pat_permset_free(out);
	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n; j++) {
			const char *keep = NULL;

			if (pat_perm_covers(a->v[i], b->v[j]))
				keep = b->v[j];
			else if (pat_perm_covers(b->v[j], a->v[i]))
				keep = a->v[i];
			if (keep != NULL && (r = pat_permset_add(out, keep)) < 0) {
				pat_permset_free(out);
				return r;
			}
		}
	}
	return 0;
}

char *
pat_permset_join(const struct pat_permset *s)
{
	size_t i, len = 1;
	char *out, *w;

	for (i = 0; i < s->n; i++)
		len += strlen(s->v[i]) + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	w = out;
	for (i = 0; i < s->n; i++) {
		if (i > 0)
			*w++ = ',';
		w = stpcpy(w, s->v[i]);
	}
	*w = '\0';
	return out;
}
