/*
 * client.h - the client side of the patd protocol (patctl, pam_pat.so).
 *
 * One connection, one overall deadline: every call below gives up when the
 * deadline passes (set at connect time, and again by pat_client_set_timeout
 * for a connection used for more than one exchange), so a caller is never
 * held longer than it asked.  No global state; fds are CLOEXEC and never 0-2; writes use
 * MSG_NOSIGNAL.  Errors are negative errno values:
 *   -ENOENT/-ECONNREFUSED/-EACCES  patd is not there or not ours to reach
 *   -ETIMEDOUT                     the deadline passed
 *   -EPROTO                        patd sent something that is not protocol
 *   -ENOTSOCK                      the path is not a socket (or a symlink)
 *   -EPERM                         the socket file, or the process serving
 *                                  it, belongs to neither root nor the
 *                                  trusted uid
 * After a failed connect, c->failed_at says which step failed and
 * c->other_uid whose the file or peer was (for the caller's message).
 */
#ifndef PAT_CLIENT_H
#define PAT_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "proto.h"

#define PAT_DEFAULT_SOCKET	"/run/patd/patd.sock"

/* The steps of pat_client_connect, in order. */
enum pat_client_step {
	PAT_STEP_FILE,		/* lstat the path: a socket, root's or trusted's */
	PAT_STEP_CONNECT,	/* socket() and connect() */
	PAT_STEP_PEER,		/* SO_PEERCRED: root or trusted */
	PAT_STEP_DONE,
};

struct pat_client {
	int		fd;
	int64_t		deadline_ms;	/* CLOCK_MONOTONIC */
	enum pat_client_step failed_at;	/* PAT_STEP_DONE when connected */
	uid_t		other_uid;	/* -EPERM/-ENOTSOCK: the owner or peer */
	int		eof;		/* the peer closed its sending side */
	size_t		rlen;
	char		rbuf[PAT_LINE_MAX + 2];
};

/*
 * Connect to path, with `timeout_ms` for the whole exchange, to a patd
 * that root or `trusted` runs (trusted may be 0: root only).  Two separate
 * checks, both before anything is sent:
 *   1. the file at path (lstat, no symlink followed) is a socket owned by
 *      root or trusted;
 *   2. the process that accepted (SO_PEERCRED) runs as root or trusted.
 * The first stops a socket planted in a directory others can write; the
 * second a file swapped after the lstat.
 */
int	pat_client_connect(struct pat_client *c, const char *path,
	    int timeout_ms, uid_t trusted);
/* Send a complete request (one or more lines ending in '\n'). */
int	pat_client_send(struct pat_client *c, const struct pat_buf *req);
/* Read and parse the next line into m.  -EPROTO when the peer closed
 * before a whole line (then c->eof is set; c->rlen says whether any byte of
 * the line had come) or sent one that is not protocol. */
int	pat_client_read(struct pat_client *c, struct pat_msg *m);
/* A new deadline, timeout_ms (<= 0: already passed) from now, for the
 * next exchange on a connection that stays open between requests. */
void	pat_client_set_timeout(struct pat_client *c, int timeout_ms);
/* Close and wipe; safe to call twice. */
void	pat_client_close(struct pat_client *c);

/* Socket path: explicit value, else $PATD_SOCKET, else the default. */
const char *pat_client_socket_path(const char *explicit_path);

#endif
