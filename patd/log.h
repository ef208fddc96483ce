/*
 * log.h - patd's only way to speak to the operator.
 *
 * Under systemd (stderr is the journal, $JOURNAL_STREAM) entries go to the
 * journal with structured fields: an event's "key=value" pairs become
 * PAT_KEY=value (PAT_EVENT, PAT_ID, PAT_USER, PAT_RESULT, PAT_SERVICE,
 * PAT_REASON, …).  Otherwise lines go to stderr as "patd: message" and
 * "patd: event=NAME key=value …".  Callers pass ids and names, never a
 * secret: nothing here can tell a secret from anything else.
 *
 * Every line is one record of printable ASCII: whatever a peer put in a
 * string argument is escaped here, at the edge, in both paths — a
 * backslash as \\, any other byte outside 0x20-0x7e as \xNN, and in an
 * event's value (a %s right after '=' in the format) a space too, so a
 * value can neither end its record nor add a key=value pair to it.
 *
 * Safe from two threads (fleet mode's consumer logs too): each record is
 * built in the caller's stack buffers and written by one fprintf or one
 * sd_journal_send, both of which lock internally; the only shared state
 * is to_journal, set once by log_init before any thread starts.
 */
#ifndef PATD_LOG_H
#define PATD_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Decide once where logs go. */
void	log_init(void);
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A structured event; fmt carries the "key=value" pairs after the name. */
void	log_event(const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Copy src (srclen bytes at most, up to a NUL) into dst of n bytes, escaped
 * as above; a space is escaped only when value is true.  Writes whole
 * escapes only and always terminates dst (n > 0); returns the length.
 */
size_t	log_escape(char *dst, size_t n, const char *src, size_t srclen,
	    bool value);
/* The line log_info (event false) or log_event (true) would write for fmt,
 * into dst of n bytes. */
void	log_format(char *dst, size_t n, bool event, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#endif
