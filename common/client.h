/*
 * client.h - the client side of the patd protocol (patctl, pam_pat.so).
 *
 * One connection, one overall deadline: every call below gives up when the
 * deadline set at connect time passes, so a caller is never held longer than
 * it asked.  No global state; fds are CLOEXEC and never 0-2; writes use
 * MSG_NOSIGNAL.  Errors are negative errno values:
 *   -ENOENT/-ECONNREFUSED/-EACCES  patd is not there or not ours to reach
 *   -ETIMEDOUT                     the deadline passed
 *   -EPROTO                        patd sent something that is not protocol
 *   -EPERM                         the socket's peer is not the expected uid
 */
#ifndef PAT_CLIENT_H
#define PAT_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "proto.h"

#define PAT_DEFAULT_SOCKET	"/run/patd/patd.sock"
#define PAT_CLIENT_ANY_UID	((uid_t)-1)

struct pat_client {
	int		fd;
	int64_t		deadline_ms;	/* CLOCK_MONOTONIC */
	size_t		rlen;
	char		rbuf[PAT_LINE_MAX + 2];
};

/* Connect to path, with `timeout_ms` for the whole exchange.  When
 * expect_uid is not PAT_CLIENT_ANY_UID, the peer must run as that uid (or
 * root). */
int	pat_client_connect(struct pat_client *c, const char *path,
	    int timeout_ms, uid_t expect_uid);
/* Send a complete request (one or more lines ending in '\n'). */
int	pat_client_send(struct pat_client *c, const struct pat_buf *req);
/* Read and parse the next line into m. */
int	pat_client_read(struct pat_client *c, struct pat_msg *m);
/* Close and wipe; safe to call twice. */
void	pat_client_close(struct pat_client *c);

/* Socket path: explicit value, else $PATD_SOCKET, else the default. */
const char *pat_client_socket_path(const char *explicit_path);

#endif
