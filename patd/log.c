/* log.c - stderr logging for patd; see log.h. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static void
vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* one write per line so concurrent writers never interleave */
	fprintf(stderr, "patd: %s%s\n", prefix, line);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void
log_event(const char *event, const char *fmt, ...)
{
	char pre[64];
	va_list ap;

	snprintf(pre, sizeof(pre), "event=%s ", event);
	va_start(ap, fmt);
	vlog(pre, fmt, ap);
	va_end(ap);
}
