/* log.c - one escaped line per write to stderr; see log.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

char *
gate_escape(char *dst, size_t n, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	unsigned char c;

	if (n == 0)
		return dst;
	for (; (c = (unsigned char)*src) != '\0'; src++) {
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= n)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= n)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

void
gate_vlog(const char *fmt, va_list ap)
{
	char raw[GATE_LOG_LINE_MAX], line[GATE_LOG_LINE_MAX * 2 + 16];
	size_t n;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* MHD's own messages end in '\n': one line, ours adds it */
	n = strlen(raw);
	while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == '\r'))
		raw[--n] = '\0';
	memcpy(line, "pat-gate: ", 10);
	gate_escape(line + 10, sizeof(line) - 11, raw);
	n = strlen(line);
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
gate_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gate_vlog(fmt, ap);
	va_end(ap);
}
