/*
 * pat_internal.h - what pam_pat.so, which links libpat_pic.a statically,
 * uses beyond pat.h.  Not part of libpat.so.1's interface (hidden, not in
 * the PAT_1 map).
 */
#ifndef PAT_PAT_INTERNAL_H
#define PAT_PAT_INTERNAL_H

#include "pat/pat.h"

/* Marks the public functions: the objects are built -fvisibility=hidden. */
#define PAT_PUBLIC	__attribute__((visibility("default")))

/*
 * One request on a connection of its own, as pat_verify(NULL, ...) makes
 * but to `path` with `timeout_ms` and trusting `trusted` besides root: the
 * request is followed by shutdown(SHUT_WR), so patd closes its end once the
 * answer is out even if this process stops before reading it.  On any
 * result but PAT_OK and refusals, *why (may be NULL) is set to a short
 * static phrase saying which step failed ("no socket", "the socket's peer
 * is not root", "timed out", ...) for the caller's log; never a secret.
 * After a refusal that came with a reason, *detail (may be NULL) is
 * filled and detail->id is not 0; otherwise detail->id is 0.
 */
int	pat_verify_once(const char *path, int timeout_ms, uid_t trusted,
	    const struct pat_request *rq, struct pat_identity *who,
	    const char **why, struct pat_refusal *detail);

#endif
