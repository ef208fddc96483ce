/* log.c - journal or stderr logging for patd; see log.h. */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

#define LOG_FIELDS_MAX	16

static bool to_journal;

void
log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	/* systemd's documented test: is stderr the stream it gave us? */
	to_journal = js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(2, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

size_t
log_escape(char *dst, size_t n, const char *src, size_t srclen, bool value)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (n == 0)
		return 0;
	for (i = 0; i < srclen && src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)src[i];
		char e[4];
		size_t k, run;

		/* the common case: a run that needs no escape, copied at once */
		for (run = 0; i + run < srclen; run++) {
			unsigned char r = (unsigned char)src[i + run];

			if (!((r > 0x20 && r < 0x7f && r != '\\') ||
			    (r == ' ' && !value)))
				break;
		}
		if (run > 0) {
			if (run > n - 1 - o)
				run = n - 1 - o;	/* cut: whole bytes only */
			memcpy(dst + o, src + i, run);
			o += run;
			i += run - 1;
			if (o + 1 >= n)
				break;
			continue;
		}
		if (c == '\\') {
			e[0] = e[1] = '\\';
			k = 2;
		} else if (c > 0x20 && c < 0x7f) {
			e[0] = (char)c;
			k = 1;
		} else if (c == ' ' && !value) {
			e[0] = ' ';
			k = 1;
		} else {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 15];
			k = 4;
		}
		if (o + k >= n)
			break;	/* whole escapes only */
		memcpy(dst + o, e, k);
		o += k;
	}
	dst[o] = '\0';
	return o;
}

/* Decimal (or hex) text of v, with a sign when neg; returns its length. */
static size_t
num_text(char out[32], unsigned long long v, bool neg, unsigned base,
    bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[32];
	size_t n = 0, i = 0;

	do
		tmp[n++] = digits[v % base];
	while ((v /= base) != 0);
	if (neg)
		out[i++] = '-';
	while (n > 0)
		out[i++] = tmp[--n];
	out[i] = '\0';
	return i;
}

/*
 * printf for log lines, escaping as it goes: our format text is kept, and
 * every string argument is escaped (log_escape), as a value when the
 * conversion comes right after '=' in the format ("user=%s").  The
 * conversions patd uses: d i u x X c s p and %, with l ll z j t h hh,
 * a width or precision (digits or *) and the flags - 0.  Anything else
 * ends the line there: its argument's type is unknown.
 */
static void
vformat(char *dst, size_t n, bool event, const char *fmt, va_list ap)
{
	const char *fmt0 = fmt;
	size_t o = 0, k;

	if (n == 0)
		return;
	dst[0] = '\0';
	while (*fmt != '\0' && o + 1 < n) {
		const char *pct = fmt;
		char num[32], pad = ' ', ch;
		bool left = false, value, neg = false;
		int width = 0, prec = -1, lng = 0;
		unsigned long long v = 0;
		size_t len;

		if (*fmt != '%') {	/* a run of our own text at once */
			len = strcspn(fmt, "%");
			o += log_escape(dst + o, n - o, fmt, len, false);
			fmt += len;
			continue;
		}
		value = event && pct > fmt0 && pct[-1] == '=';
		fmt++;
		for (; *fmt == '-' || *fmt == '0' || *fmt == '+' ||
		    *fmt == ' ' || *fmt == '#'; fmt++) {
			left |= *fmt == '-';
			pad = *fmt == '0' ? '0' : pad;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		} else
			while (*fmt >= '0' && *fmt <= '9' && width < 4096)
				width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			} else
				while (*fmt >= '0' && *fmt <= '9' &&
				    prec < 1 << 20)
					prec = prec * 10 + (*fmt++ - '0');
		}
		for (; *fmt == 'l' || *fmt == 'h' || *fmt == 'z' ||
		    *fmt == 'j' || *fmt == 't'; fmt++)
			lng += *fmt == 'l' ? 1 : *fmt == 'h' ? 0 : 2;
		switch ((ch = *fmt++)) {
		case '%':
			o += log_escape(dst + o, n - o, "%", 1, false);
			continue;
		case 'c':
			num[0] = (char)va_arg(ap, int);
			o += log_escape(dst + o, n - o, num, 1, value);
			continue;
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (str == NULL)
				str = "(null)";
			len = prec >= 0 ? strnlen(str, (size_t)prec) :
			    strlen(str);
			o += log_escape(dst + o, n - o, str, len, value);
			continue;
		}
		case 'd': case 'i': {
			long long sv = lng >= 2 ? va_arg(ap, long long) :
			    lng == 1 ? va_arg(ap, long) : va_arg(ap, int);

			neg = sv < 0;
			v = neg ? 0ULL - (unsigned long long)sv :
			    (unsigned long long)sv;
			break;
		}
		case 'u': case 'x': case 'X':
			v = lng >= 2 ? va_arg(ap, unsigned long long) :
			    lng == 1 ? va_arg(ap, unsigned long) :
			    va_arg(ap, unsigned);
			break;
		case 'p':
			v = (unsigned long long)(uintptr_t)va_arg(ap, void *);
			ch = 'x';
			break;
		default:
			return;	/* unknown type: stop rather than misread */
		}
		len = num_text(num, v, neg, ch == 'x' || ch == 'X' ? 16 : 10,
		    ch == 'X');
		for (k = len; !left && (int)k < width && o + 1 < n; k++)
			dst[o++] = pad;
		o += log_escape(dst + o, n - o, num, len, false);
		for (k = len; left && (int)k < width && o + 1 < n; k++)
			dst[o++] = ' ';
		dst[o] = '\0';
	}
}

void
log_format(char *dst, size_t n, bool event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(dst, n, event, fmt, ap);
	va_end(ap);
}

/* line is already escaped: one line of printable ASCII and spaces. */
static void
emit(int prio, const char *prefix, const char *line)
{
	if (to_journal)
		sd_journal_send("MESSAGE=%s%s", prefix, line, "PRIORITY=%d",
		    prio, "SYSLOG_IDENTIFIER=patd", NULL);
	else
		fprintf(stderr, "patd: %s%s\n", prefix, line);
}

static void
vlog(int prio, const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	vformat(line, sizeof(line), false, fmt, ap);
	emit(prio, prefix, line);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

/* One journal entry whose fields are PAT_EVENT and each key=value pair. */
static void
journal_event(const char *event, const char *pairs)
{
	char fields[LOG_FIELDS_MAX + 4][256], copy[1024], msg[1100];
	struct iovec iov[LOG_FIELDS_MAX + 4];
	char *p, *tok, *eq, *k;
	int n = 1, i;

	snprintf(msg, sizeof(msg), "MESSAGE=event=%s %s", event, pairs);
	snprintf(fields[n++], sizeof(fields[0]), "PRIORITY=%d", LOG_INFO);
	snprintf(fields[n++], sizeof(fields[0]), "SYSLOG_IDENTIFIER=patd");
	snprintf(fields[n++], sizeof(fields[0]), "PAT_EVENT=%s", event);
	snprintf(copy, sizeof(copy), "%s", pairs);
	for (p = copy; (tok = strsep(&p, " ")) != NULL &&
	    n < LOG_FIELDS_MAX + 4;) {
		if ((eq = strchr(tok, '=')) == NULL || eq == tok)
			continue;
		*eq = '\0';
		for (k = tok; *k; k++)	/* journal field names: A-Z0-9_ */
			*k = *k == '-' ? '_' : (char)toupper((unsigned char)*k);
		snprintf(fields[n++], sizeof(fields[0]), "PAT_%s=%s", tok,
		    eq + 1);
	}
	iov[0].iov_base = msg;
	iov[0].iov_len = strlen(msg);
	for (i = 1; i < n; i++) {
		iov[i].iov_base = fields[i];
		iov[i].iov_len = strlen(fields[i]);
	}
	sd_journal_sendv(iov, n);
}

void
log_event(const char *event, const char *fmt, ...)
{
	char pairs[900], pre[64];
	va_list ap;

	va_start(ap, fmt);
	vformat(pairs, sizeof(pairs), true, fmt, ap);
	va_end(ap);
	if (to_journal) {
		journal_event(event, pairs);
		return;
	}
	snprintf(pre, sizeof(pre), "event=%s ", event);
	emit(LOG_INFO, pre, pairs);
}
