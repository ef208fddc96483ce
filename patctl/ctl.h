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
#define EX_HELP		(-2)	/* args_parse printed help: exit 0 */

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
	const char	*cmd;		/* "role set": for messages */
	bool		 color;		/* rows in colour: a terminal, no NO_COLOR */
	/*
	 * --json: the command writes its document to out (a memory stream);
	 * out_end prints it, or the error document instead, so stdout gets
	 * exactly one JSON document whatever happened.  Otherwise out is
	 * stdout.
	 */
	FILE		*out;
	char		*doc;
	size_t		 doclen;
	bool		 failed;	/* the first error is kept below */
	char		 err_code[48];
	char		 err_msg[1024];
	char		 err_hint[512];
	char		*ctx;	/* JSON members for the error document */
};

/* Errors, said once in one place: on stderr as "patctl CMD: message" (text
 * from others escaped), or kept for the {"error": {...}} document.  Returns
 * ex.  code names the error for scripts: patd's code, or one of usage,
 * unreachable, untrusted-socket, bad-answer, cancelled, internal. */
int	ctl_err(struct ctl *c, int ex, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* What to do about it: a second stderr line, or "hint" in the JSON. */
void	ctl_hint(struct ctl *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A usage error for c->cmd: the message, then its synopsis; EX_USAGE. */
int	ctl_usage(struct ctl *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* JSON members ("\"valid\":false") printed before "error" in the error
 * document; copied. */
void	ctl_context(struct ctl *c, const char *members);
/* Set up c->out (a memory stream with --json); 0 or -1. */
int	out_begin(struct ctl *c);
/* Print what the command produced (or the error document) and free it;
 * returns ex. */
int	out_end(struct ctl *c, int ex);

/*
 * Command-line parsing.  Options are spelled "--name" and take their value
 * as "--name VALUE" or "--name=VALUE"; a value that starts with '-' is
 * refused in the first form (it is most likely a forgotten value).  "--"
 * ends options: what follows is positional, whatever it starts with.
 * -h / --help anywhere before "--" prints the command's help.
 */
struct opt {
	const char	*name;	/* "--role" */
	const char	**val;	/* takes a value, stored here */
	bool		*flag;	/* or is a flag, set here */
};
/* argv[0] is the command word(s) already consumed; parse argv[1..argc-1].
 * Positional arguments go to pos[] (up to maxpos, counted in *npos).
 * EX_OK, EX_USAGE (said why), or EX_HELP (help printed). */
int	args_parse(struct ctl *c, int argc, char **argv, const struct opt *opts,
	    const char **pos, int maxpos, int *npos);
/* True when -h/--help is among argv before any "--". */
bool	args_want_help(int argc, char **argv);

/* Help: the synopsis, what the command does and its exit codes, for cmd
 * ("create", "role set", ... or "" for patctl itself). */
void	help_print(struct ctl *c, const char *cmd);
/* "patctl role set NAME PERM..." (NULL for an unknown cmd). */
const char *help_synopsis(const char *cmd);

/* User input checked before anything is sent; each says what is wrong in
 * the user's terms and returns EX_USAGE, or EX_OK. */
int	check_id(struct ctl *c, const char *s, unsigned long long *id);
int	check_role(struct ctl *c, const char *what, const char *s);
int	check_user(struct ctl *c, const char *what, const char *s);
int	check_token_name(struct ctl *c, const char *s);
int	check_binding(struct ctl *c, const char *what, const char *s);
int	check_perm(struct ctl *c, const char *s, bool pattern);
int	check_days(struct ctl *c, const char *what, const char *s,
	    unsigned long long *days);
int	check_expiry(struct ctl *c, const char *s, int64_t now, int64_t *when);
/* A duration such as 90d or 1d12h (role set's --max-lifetime ...): more
 * than 0 seconds. */
int	check_duration(struct ctl *c, const char *what, const char *s,
	    int64_t *secs);


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
 * line.  Returns 0, or EX_USAGE when there is none (or it is longer than
 * SECRET_MAX - 1); the caller says so. */
int	read_secret(const char *prompt, char out[SECRET_MAX]);
/* One line from the terminal or stdin into out[n]; echo off unless asked.
 * An empty line is fine.  0, or -1 at end of input or when too long. */
int	read_answer(const char *prompt, bool echo, char *out, size_t n);

/* The session file: $XDG_RUNTIME_DIR/patctl-session (0600). */
int	session_load(struct ctl *c);	/* 0 loaded, -1 none */
int	cmd_session(struct ctl *c, int argc, char **argv);	/* login… */

/* "30m", "36h", "1d12h", "2w", "1y" -> seconds (a sum of number-unit
 * parts, each unit once); -1 when unreadable. */
int64_t	parse_duration(const char *s);
/* "30m", "36h", "1d12h", "2w", "1y", "never", "2027-01-31",
 * "2027-01-31T18:00" -> epoch seconds (0 for never).  -1 when unreadable. */
int64_t	parse_expiry(const char *s, int64_t now);
/* "2026-11-27 20:15 CET" in local time (zone: with_zone), or zero for 0. */
const char *fmt_time(int64_t t, const char *zero, bool with_zone, char *buf,
	    size_t n);
/* The local zone's abbreviation now ("UTC", "CET"). */
const char *local_zone(char *buf, size_t n);
/* A duration in words: "45 s", "2 min", "3 h 5 min", "29 days". */
const char *fmt_duration(int64_t secs, char *buf, size_t n);

/*
 * Tables for people: a header, columns as wide as their widest cell (by
 * display width: wide CJK characters count 2, combining marks 0), the
 * whole at most TABLE_WIDTH columns, shrinking the widest shrinkable
 * column and ending cut cells with an ellipsis.  Cells must be escaped
 * already (shown()); they are copied.
 */
#define TABLE_WIDTH	100
#define TABLE_COLS	12
struct table;
enum row_color { ROW_PLAIN, ROW_RED, ROW_YELLOW, ROW_DIM };
/* ncols headers; shrink: a string of '1'/'0', one per column, for the
 * columns that may be cut (names, not ids or times). */
struct table *table_new(int ncols, const char *const *headers,
	    const char *shrink);
int	table_row(struct table *t, enum row_color color,
	    const char *const *cells);
/* Print and free (t may be NULL). */
void	table_print(struct ctl *c, struct table *t);
/* Display columns of UTF-8 text s. */
size_t	text_width(const char *s);

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
 * numbers, yes/no as booleans, permission lists as arrays). */
void	json_msg(FILE *f, const struct pat_msg *m);
/* The same members without the braces, each preceded by a comma unless
 * *first; clears *first. */
void	json_fields(FILE *f, const struct pat_msg *m, bool *first);
/* A comma-separated list as a JSON array of strings. */
void	json_list(FILE *f, const char *csv);
/* s as a JSON string, escaped as escape.h says: always valid JSON. */
void	json_str(FILE *f, const char *s);

/* Each returns an exit code, or -1 when argv[0] is not one of its
 * commands. */
int	cmd_tokens(struct ctl *c, int argc, char **argv);	/* create… */
int	cmd_admin(struct ctl *c, int argc, char **argv);	/* role… */
int	cmd_whoami(struct ctl *c, int argc, char **argv);	/* whoami */
int	cmd_scan(struct ctl *c, int argc, char **argv);		/* scan */

#endif
