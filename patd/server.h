/*
 * server.h - patd's event loop: many clients, one thread, bounded everything.
 *
 * Each connection has a fixed input buffer (one line of PAT_LINE_MAX) and an
 * output buffer capped at out_max.  A connection that sends a line too long
 * or malformed gets one ERR line and is dropped; one idle longer than
 * idle_ms is closed, and so is one whose peer shut down its sending side
 * as soon as its answers are written (pam_pat.so does: a stopped process
 * holds nothing).  A uid may hold max_per_uid connections, everyone
 * together max_conns - reserved; the reserved part (at most half of
 * max_conns) is for privileged peers (root, patd's uid, the verify group),
 * which have no per-uid cap and, when max_conns is reached, replace the
 * connection idle longest.  The loop ends on SIGTERM or SIGINT.
 */
#ifndef PATD_SERVER_H
#define PATD_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "patd.h"

struct server_limits {
	unsigned	max_conns;
	unsigned	max_per_uid;
	unsigned	reserved;	/* of max_conns, for privileged peers */
	int		idle_ms;
	size_t		out_max;
	int		flush_ms;	/* how often batched last-use is written */
	int64_t		idle_exit_ms;	/* no clients this long: exit; 0 never */
	uint64_t	watchdog_us;	/* systemd's WatchdogSec, 0 when off */
};

/*
 * Serve listen_fd until SIGTERM/SIGINT, or until idle_exit_ms passes with
 * no client and none waiting (systemd then keeps the socket and starts us
 * again on the next connection).  On a signal, answers already computed
 * are still sent (for up to two seconds); every write they acknowledge was
 * committed before they were queued.  Returns 0, or -errno when the loop
 * itself cannot go on.
 */
int	server_run(struct patd *d, int listen_fd, const struct server_limits *lim);

#endif
