/*
 * pool.h - a bounded pool of libpat connections to patd.
 *
 * `size` persistent connections, shared by the HTTP threads: a request
 * takes a free one (waiting at most timeout_ms for one to come back, then
 * GATE_POOL_BUSY), verifies on it and gives it back.  Connections open
 * lazily, with pat_open_trusted's checks on the socket file and the
 * process behind it.  pat_verify reconnects once by itself after patd
 * closed an idle connection; when a verify ends without patd's verdict
 * (a transport error: patd gone, timed out, garbled), the connection is
 * closed and the next user of its slot opens a fresh one, so a restarted
 * patd is picked up on the next request.
 */
#ifndef PAT_GATE_POOL_H
#define PAT_GATE_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include <pat/pat.h>

/* No free connection within the timeout (not a PAT_E_* code). */
#define GATE_POOL_BUSY	(-100)

struct gate_pool;

/* trusted_uid: the uid besides root whose socket and patd to trust
 * (have_trusted false: pat_open's default, this process's euid). */
int	gate_pool_new(struct gate_pool **pp, const char *socket_path,
	    int timeout_ms, bool have_trusted, uid_t trusted_uid,
	    unsigned size);
/*
 * pat_verify on a pooled connection.  Returns PAT_OK, a PAT_E_* code or
 * GATE_POOL_BUSY; after PAT_E_RATE_LIMITED *retry_after holds patd's
 * seconds (0 when it gave none).
 */
int	gate_pool_verify(struct gate_pool *p, const struct pat_request *rq,
	    struct pat_identity *who, int *retry_after);
/* Close every connection and free; the HTTP threads must be stopped. */
void	gate_pool_free(struct gate_pool *p);

#endif
