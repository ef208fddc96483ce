/*
 * log.h - pat-gate's log lines: one write(2) to stderr each (the journal
 * under systemd), so lines from the HTTP threads never interleave.  Every
 * byte outside printable ASCII is written as \xNN: nothing a client sent
 * can start a second line or hide the rest of one.  Callers never pass a
 * credential.
 */
#ifndef PAT_GATE_LOG_H
#define PAT_GATE_LOG_H

#include <stdarg.h>

#define GATE_LOG_LINE_MAX	1024

void	gate_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	gate_vlog(const char *fmt, va_list ap)
	    __attribute__((format(printf, 1, 0)));
/* Escape src into dst (n bytes): printable ASCII kept, the rest \xNN,
 * cut to fit.  Returns dst. */
char   *gate_escape(char *dst, size_t n, const char *src);

#endif
