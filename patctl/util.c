/* util.c - secrets from stdin, times, and escaped text and JSON for patctl. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"
#include "escape.h"

#define SHOWN_SLOTS	16
static char *shown_slot[SHOWN_SLOTS];
static size_t shown_next;

int
read_answer(const char *prompt, bool echo, char *out, size_t n)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO), quieted = false;
	size_t len = 0;
	int ch;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
		if (!echo && tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			quieted = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	while ((ch = getchar()) != EOF && ch != '\n') {
		if (len < n - 1)
			out[len] = (char)ch;
		len++;
	}
	if (quieted) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if ((ch == EOF && len == 0) || len >= n) {
		sodium_memzero(out, n);
		return -1;
	}
	if (len > 0 && out[len - 1] == '\r')
		len--;
	out[len] = '\0';
	return 0;
}

int
read_secret(const char *prompt, char out[SECRET_MAX])
{
	size_t n;

	if (read_answer(prompt, false, out, SECRET_MAX) < 0) {
		fprintf(stderr, "patctl: expected a token on stdin (at most "
		    "%d bytes)\n", SECRET_MAX - 1);
		return EX_USAGE;
	}
	n = strlen(out);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "patctl: expected a token on stdin\n");
		return EX_USAGE;
	}
	return EX_OK;
}

int64_t
parse_expiry(const char *s, int64_t now)
{
	struct tm tm;
	const char *end;
	char *e;
	long long v;

	if (strcmp(s, "never") == 0)
		return 0;
	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		v = strtoll(s, &e, 10);
		if (errno == 0 && v > 0 && v < 100000 && e[0] != '\0' &&
		    e[1] == '\0') {
			switch (e[0]) {
			case 'm': return now + v * 60;
			case 'h': return now + v * 3600;
			case 'd': return now + v * 86400;
			case 'w': return now + v * 7 * 86400;
			case 'y': return now + v * 365 * 86400;
			}
		}
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_isdst = -1;
	if (((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) != NULL ||
	    (end = strptime(s, "%Y-%m-%dT%H:%M", &tm)) != NULL ||
	    (end = strptime(s, "%Y-%m-%d %H:%M", &tm)) != NULL ||
	    (end = strptime(s, "%Y-%m-%d", &tm)) != NULL) && *end == '\0')
		return (int64_t)mktime(&tm);
	return -1;
}

const char *
fmt_time(int64_t t, const char *zero, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || localtime_r(&tt, &tm) == NULL)
		return zero;
	strftime(buf, n, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

const char *
shown(const char *s)
{
	char **p = &shown_slot[shown_next++ % SHOWN_SLOTS];
	size_t need;

	if (s == NULL)
		return "?";
	if (*p != NULL) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
	}
	need = esc_text(NULL, 0, s) + 1;
	if ((*p = malloc(need)) == NULL)
		return "?";
	esc_text(*p, need, s);
	return *p;
}

void
shown_forget(void)
{
	size_t i;

	for (i = 0; i < SHOWN_SLOTS; i++) {
		if (shown_slot[i] != NULL)
			explicit_bzero(shown_slot[i], strlen(shown_slot[i]));
		free(shown_slot[i]);
		shown_slot[i] = NULL;
	}
}

void
put_text(FILE *f, const char *s)
{
	char e[ESC_MAX(PAT_LINE_MAX)];

	/* values come from one protocol line: they always fit */
	esc_text(e, sizeof(e), s);
	fputs(e, f);
	explicit_bzero(e, strlen(e));
}

void
json_str(FILE *f, const char *s)
{
	char e[ESC_MAX(PAT_LINE_MAX)];

	esc_json(e, sizeof(e), s);
	fputc('"', f);
	fputs(e, f);
	fputc('"', f);
	explicit_bzero(e, strlen(e));
}

static bool
is_list_key(const char *k)
{
	return strcmp(k, "perms") == 0 || strcmp(k, "stripped") == 0 ||
	    strcmp(k, "stripped_owner") == 0 ||
	    strcmp(k, "stripped_cap") == 0 ||
	    strcmp(k, "cap") == 0 || strcmp(k, "effective") == 0;
}

static bool
is_number(const char *k, const char *v)
{
	static const char *keys[] = { "id", "uid", "created", "expires",
		"revoked", "parent", "last_used", "count", "next", "proto",
		"tokens", "roles", "grants", "connections", "accepted", "uptime",
		"store_bytes", "store_max_bytes", "peer_uid", "revoked_at",
		"rotated_into", NULL };
	size_t i;

	if (*v == '\0' || strspn(v, "0123456789") != strlen(v))
		return false;
	for (i = 0; keys[i]; i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

void
json_msg(FILE *f, const struct pat_msg *m)
{
	size_t i;

	fputc('{', f);
	for (i = 0; i < m->nfields; i++) {
		const char *k = m->f[i].key, *v = m->f[i].val;

		if (i > 0)
			fputc(',', f);
		json_str(f, k);
		fputc(':', f);
		if (is_number(k, v)) {
			fputs(v, f);
		} else if (is_list_key(k)) {
			const char *p = v;
			size_t len;
			char item[PAT_LINE_MAX + 1];

			fputc('[', f);
			while (*p) {
				len = strcspn(p, ",");
				snprintf(item, sizeof(item), "%.*s", (int)len, p);
				if (p != v)
					fputc(',', f);
				json_str(f, item);
				p += len + (p[len] == ',');
			}
			fputc(']', f);
		} else
			json_str(f, v);
	}
	fputc('}', f);
}
