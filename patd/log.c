/* log.c - journal or stderr logging for patd; see log.h. */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
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

	vsnprintf(line, sizeof(line), fmt, ap);
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
	vsnprintf(pairs, sizeof(pairs), fmt, ap);
	va_end(ap);
	if (to_journal) {
		journal_event(event, pairs);
		return;
	}
	snprintf(pre, sizeof(pre), "event=%s ", event);
	emit(LOG_INFO, pre, pairs);
}
