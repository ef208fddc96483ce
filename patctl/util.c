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

	/* the caller says what was expected: it knows which token */
	if (read_answer(prompt, false, out, SECRET_MAX) < 0)
		return EX_USAGE;
	n = strlen(out);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	return n == 0 ? EX_USAGE : EX_OK;
}

const char *
fmt_time(int64_t t, const char *zero, bool with_zone, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || localtime_r(&tt, &tm) == NULL)
		return zero;
	strftime(buf, n, with_zone ? "%Y-%m-%d %H:%M %Z" : "%Y-%m-%d %H:%M",
	    &tm);
	return buf;
}

const char *
local_zone(char *buf, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL || strftime(buf, n, "%Z", &tm) == 0)
		snprintf(buf, n, "local time");
	return buf;
}

const char *
fmt_duration(int64_t secs, char *buf, size_t n)
{
	int64_t m = secs / 60, h = secs / 3600, d = secs / 86400;

	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(buf, n, "%lld s", (long long)secs);
	else if (secs < 3600)
		snprintf(buf, n, "%lld min", (long long)m);
	else if (secs < 86400 && m % 60 != 0)
		snprintf(buf, n, "%lld h %lld min", (long long)h,
		    (long long)(m % 60));
	else if (secs < 86400)
		snprintf(buf, n, "%lld h", (long long)h);
	else if (d < 10 && h % 24 != 0)
		snprintf(buf, n, "%lld day%s %lld h", (long long)d, d == 1 ? "" :
		    "s", (long long)(h % 24));
	else
		snprintf(buf, n, "%lld day%s", (long long)d, d == 1 ? "" : "s");
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

/* yes/no fields that are booleans in JSON */
static bool
is_bool(const char *k, const char *v)
{
	static const char *keys[] = { "peer_admin", "admin", "verifier",
		"pending", "existed", NULL };
	size_t i;

	if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0 &&
	    strcmp(v, "1") != 0 && strcmp(v, "0") != 0)
		return false;
	for (i = 0; keys[i]; i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

static bool
is_list_key(const char *k)
{
	return strcmp(k, "perms") == 0 || strcmp(k, "stripped") == 0 ||
	    strcmp(k, "stripped_owner") == 0 ||
	    strcmp(k, "stripped_cap") == 0 ||
	    strcmp(k, "cap") == 0 || strcmp(k, "effective") == 0 ||
	    strcmp(k, "bind_from") == 0 || strcmp(k, "bind_service") == 0;
}

static bool
is_number(const char *k, const char *v)
{
	static const char *keys[] = { "id", "uid", "created", "expires",
		"revoked", "parent", "last_used", "count", "next", "proto",
		"tokens", "roles", "grants", "connections", "accepted", "uptime",
		"store_bytes", "store_max_bytes", "peer_uid", "writes", "commits",
		"session_expires", "revoked_at", "rotated_into", "ends",
		"max_lifetime", "default_lifetime", "max_idle", "bind_uses", "used",
		"fleet_entries", "fleet_last", "fleet_cookie_age", "fleet_lag_ms",
		"fleet_outbox", "fleet_last_used", NULL };
	size_t i;

	if (*v == '-')		/* fleet_cookie_age=-1: no change yet */
		v++;
	if (*v == '\0' || strspn(v, "0123456789") != strlen(v))
		return false;
	for (i = 0; keys[i]; i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

void
json_list(FILE *f, const char *v)
{
	const char *p = v ? v : "";
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
}

void
json_fields(FILE *f, const struct pat_msg *m, bool *first)
{
	size_t i;

	for (i = 0; i < m->nfields; i++) {
		const char *k = m->f[i].key, *v = m->f[i].val;

		if (!*first)
			fputc(',', f);
		*first = false;
		json_str(f, k);
		fputc(':', f);
		if (is_number(k, v)) {
			fputs(v, f);
		} else if (is_bool(k, v)) {
			fputs(strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 ?
			    "true" : "false", f);
		} else if (is_list_key(k)) {
			json_list(f, v);
		} else
			json_str(f, v);
	}
}

void
json_msg(FILE *f, const struct pat_msg *m)
{
	bool first = true;

	fputc('{', f);
	json_fields(f, m, &first);
	fputc('}', f);
}
