/*
 * ctl.h - patctl internals: talking to patd, reading secrets, printing.
 *
 * Exit codes (the spec's): 0 success, 1 refused, 2 usage error,
 * 3 patd unreachable, 4 patd failed.
 */
#ifndef PATCTL_CTL_H
#define PATCTL_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "buf.h"
#include "proto.h"

enum { EX_OK = 0, EX_REFUSED = 1, EX_USAGE = 2, EX_UNREACHABLE = 3,
	EX_FAILED = 4 };

#define SECRET_MAX	256
#define SESSION_MAX	1024	/* a session JWT */
#define ANSWER_MAX	512	/* one answer in a login conversation */

struct ctl {
	const char	*socket;
	uid_t		 trusted;	/* besides root, may run patd (0: none) */
	bool		 json;
	int		 timeout_ms;
	char		 auth[SECRET_MAX];	/* PAT authorising the request */
	char		 session[SESSION_MAX + 1];	/* from patctl login */
};

typedef int (*item_fn)(const struct pat_msg *item, void *arg);

/*
 * Send one request and read the answer: each data line goes to on_item (may
 * be NULL), the final OK line to *final.  Returns EX_OK, or prints what went
 * wrong and what to do, and returns the exit code.
 */
int	ctl_call(struct ctl *c, struct pat_buf *req, item_fn on_item, void *arg,
	    struct pat_msg *final);
/* Connect to c->socket after the trust checks of pat_client_connect
 * (root or c->trusted); nothing is sent.  EX_OK, or prints why and returns
 * EX_UNREACHABLE. */
struct pat_client;
int	ctl_connect(struct ctl *c, struct pat_client *cl, int timeout_ms);
/* A request line with auth= added when c->auth is set; wipe with
 * pat_buf_free. */
void	ctl_begin(struct ctl *c, struct pat_buf *req, const char *verb);

/* Read a secret from stdin: a no-echo prompt on a terminal, otherwise one
 * line.  Returns 0, or prints the problem and returns EX_USAGE. */
int	read_secret(const char *prompt, char out[SECRET_MAX]);
/* One line from the terminal or stdin into out[n]; echo off unless asked.
 * An empty line is fine.  0, or -1 at end of input or when too long. */
int	read_answer(const char *prompt, bool echo, char *out, size_t n);

/* The session file: $XDG_RUNTIME_DIR/patctl-session (0600). */
int	session_load(struct ctl *c);	/* 0 loaded, -1 none */
int	cmd_session(struct ctl *c, int argc, char **argv);	/* login… */

/* "30d", "12h", "2w", "never", "2027-01-31", "2027-01-31T18:00" -> epoch
 * seconds (0 for never).  -1 when unreadable. */
int64_t	parse_expiry(const char *s, int64_t now);
/* "2026-11-27 20:15" in local time, or "never" / "-" for 0. */
const char *fmt_time(int64_t t, const char *zero, char *buf, size_t n);

/*
 * Text from patd or another person, escaped for the terminal (escape.h).
 * shown() returns one of SHOWN_SLOTS (16) rotating buffers: enough for the
 * arguments of one printf; "?" for NULL.  shown_forget wipes them all.
 * put_text writes s escaped to f (no copy kept).
 */
const char *shown(const char *s);
void	shown_forget(void);
void	put_text(FILE *f, const char *s);

/* Print a message as one JSON object (fields in protocol order; numbers as
 * numbers, permission lists as arrays). */
void	json_msg(FILE *f, const struct pat_msg *m);
/* s as a JSON string, escaped as escape.h says: always valid JSON. */
void	json_str(FILE *f, const char *s);

int	cmd_tokens(struct ctl *c, int argc, char **argv);	/* create… */
int	cmd_admin(struct ctl *c, int argc, char **argv);	/* role… */

#endif
