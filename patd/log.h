/*
 * log.h - patd's only way to speak to the operator.
 *
 * Under systemd (stderr is the journal, $JOURNAL_STREAM) entries go to the
 * journal with structured fields: an event's "key=value" pairs become
 * PAT_KEY=value (PAT_EVENT, PAT_ID, PAT_USER, PAT_RESULT, PAT_SERVICE,
 * PAT_REASON, …).  Otherwise lines go to stderr as "patd: message" and
 * "patd: event=NAME key=value …".  Callers pass ids and names, never a
 * secret: nothing here can tell a secret from anything else.  Values must
 * not contain spaces (the protocol already guarantees it for ours).
 */
#ifndef PATD_LOG_H
#define PATD_LOG_H

/* Decide once where logs go. */
void	log_init(void);
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A structured event; fmt carries the "key=value" pairs after the name. */
void	log_event(const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
