/*
 * log.h - patd's only way to speak to the operator.
 *
 * Lines go to stderr as "patd: LEVEL: message" and events as
 * "patd: event=NAME key=value ...".  Callers pass ids and user names, never
 * a secret: nothing here can tell a secret from anything else.
 */
#ifndef PATD_LOG_H
#define PATD_LOG_H

void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A structured event; fmt carries the "key=value" pairs after the name. */
void	log_event(const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
