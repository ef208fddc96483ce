/* conffile.c - "key = value" files, read one way for every daemon; see conffile.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conffile.h"

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
pat_conf_read(const char *path, size_t line_max, pat_conf_set_fn set,
    void *arg, char *err, size_t errlen)
{
	char seen[PAT_CONF_KEYS_MAX][PAT_CONF_KEY_MAX + 1];
	char why[200], *line, *k, *v, *eq;
	size_t nseen = 0, i;
	unsigned lineno = 0;
	FILE *f;
	int r = -EINVAL;

	if ((line = malloc(line_max + 2)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if ((f = fopen(path, "re")) == NULL) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(line);
		return r;
	}
	while (fgets(line, (int)line_max + 2, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(why, sizeof(why), "line longer than %zu bytes",
			    line_max);
			goto bad;
		}
		if ((k = strchr(line, '#')) != NULL)
			*k = '\0';
		k = trim(line);
		if (*k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(why, sizeof(why), "expected 'key = value'");
			goto bad;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if (*v == '\0') {
			snprintf(why, sizeof(why), "%.64s has no value", k);
			goto bad;
		}
		if (set(arg, k, v, why, sizeof(why)) < 0)
			goto bad;
		/* set knew the key: it is short and one of a few */
		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i], k) == 0) {
				snprintf(why, sizeof(why), "%.64s is set twice",
				    k);
				goto bad;
			}
		if (nseen < PAT_CONF_KEYS_MAX)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", k);
	}
	if (ferror(f)) {
		snprintf(why, sizeof(why), "read error");
		goto bad;
	}
	r = 0;
	goto out;
bad:
	snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
out:
	fclose(f);
	free(line);
	return r;
}
