/*
 * patd.h - the daemon's shared state and the request entry point.
 *
 * patd is one thread (two in fleet mode: fleet.h's consumer writes the
 * store on its own and shares nothing else): the event loop (server.c) reads a request line from a
 * peer and hands it, with the peer's SO_PEERCRED identity, to
 * verbs_dispatch(), which writes the whole answer into `out` before the loop
 * sends it.  Every write to the store is committed before that.
 */
#ifndef PATD_PATD_H
#define PATD_PATD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "fleet.h"
#include "jwt.h"
#include "lastuse.h"
#include "proto.h"
#include "ratelimit.h"
#include "store.h"
#include "token.h"

/* the version is debian/changelog's; the Makefile passes it */
#ifndef PAT_VERSION
#error "PAT_VERSION is set by the Makefile (from debian/changelog)"
#endif
#define PATD_VERSION		PAT_VERSION
/* client addresses a verifier's failures are kept for at once (4096 ×
 * 120 bytes); see ratelimit.h for what happens beyond */
#define RHOST_SLOTS		4096
#define LOGIN_MAX		16	/* logins under way at once */
#define LOGIN_MAX_PER_UID	2	/* … for one uid: no one holds them all */
#define LOOKUPS_A_MINUTE	60	/* fleet: SHOW's directory lookups a
					 * minute per peer uid (root: any) */

struct login_child {
	pid_t		pid;
	uid_t		uid;
};

struct patd {
	struct store	*store;
	uint8_t		 key[PAT_HASH_KEY_LEN];
	uid_t		 self_uid;	/* patd's own uid: as trusted as root */
	char		 verify_group[64];
	int64_t		 started;
	unsigned	 nconns;
	uint64_t	 accepted;	/* connections ever accepted */
	struct ratelimit rl;
	/* a verifier's failures with rhost=, per client address (rhost.h):
	 * a table of their own, so clients on the internet cannot crowd
	 * out the uid and user counters */
	struct ratelimit rl_rhost;
	unsigned	 rhost_prefix6;
	/* login sessions */
	struct jwt_keys	 jwt;
	char		 login_service[64];
	char		 login_pam_dir[512];	/* "" : the system's */
	bool		 login_fallback;	/* LOGIN without its own stack */
	int64_t		 session_lifetime;	/* seconds */
	int		 login_timeout;		/* seconds per login */
	struct ratelimit rl_login;
	unsigned	 nlogins;
	struct login_child logins[LOGIN_MAX];
	struct lastuse_batch lastuse;	/* written by lastuse_flush */
	/* no role has a lifetime policy: set at start from the store, cleared
	 * by the first ROLE-SET that gives one (never set again while
	 * running), so a store without policies reads none on the verify
	 * path.  false (read them) unless known */
	bool		 no_policies;
	/* fleet mode (fleet.h): the consumer thread, NULL on a single
	 * host.  Only its fleet_* functions are called from here */
	struct fleet	*fleet;
	/* --test-clock FILE ("" : none): patd_now() adds its offset */
	char		 test_clock[512];
	bool		 test_clock_bad;	/* …which could not be read */
	/* group commit: the writes of one event-loop round share one
	 * durable commit; their answers wait for it (verbs_round_end) */
	MDB_txn		*round;
	bool		 round_wrote;	/* …and changed something (fsync) */
	uint64_t	 writes;	/* write requests answered since start */
	uint64_t	 commits;	/* durable commits (fsyncs) they took */
	/* bounds (patd.conf) */
	unsigned	 max_depth;
	unsigned	 max_user_tokens;
	unsigned	 max_children;
	size_t		 reserve_bytes;	/* map kept for revocation and admin */
	int64_t		 retention;	/* seconds; 0: keep for ever */
	int64_t		 rotation_grace;	/* seconds (rotation_grace) */
	struct ratelimit rl_create;
	struct ratelimit rl_log;	/* refusal lines per peer uid */
	struct ratelimit rl_uses;	/* success lines per token */
	struct ratelimit rl_lookup;	/* fleet: SHOW's directory lookups
					 * per peer uid */
	/* successes a minute by a hash of the token's id: only a token used
	 * USE_HOT times enters rl_uses (whose eviction scans the table) */
	struct use_count {
		int64_t		start;
		uint32_t	n;
	}		 use_sketch[4096];
	uint64_t	 log_suppressed;	/* …cut since the last summary */
	uint64_t	 uses_quiet;	/* successes past their token's budget */
	uint64_t	 limited_quiet;	/* rate-limited refusals after the
					 * first of their block, not logged */
	/* background work (sweep.c) */
	bool		 sweep_pending;	/* revocations left to mark */
	bool		 sweeping;	/* the last batch left more */
	uint64_t	 purge_next;	/* where the retention walk resumes */
};

struct peer {
	uid_t		uid;
	gid_t		gid;
};

/* Answer one request.  Always leaves a complete answer (data lines and a
 * final OK/ERR line) in out, unless out's limit is hit (-E2BIG).  Returns
 * 0 when the answer may go now, VERB_WAIT_COMMIT when it must wait for
 * verbs_round_end(): the request wrote, or read what this round wrote. */
#define VERB_WAIT_COMMIT	1
int	verbs_dispatch(struct patd *d, const struct peer *p,
	    const struct pat_msg *req, struct pat_buf *out,
	    struct fleet_op **fop, int *kind);
/* Fleet mode: a request whose answer waits for the directory gets *fop
 * (else NULL), to fleet_submit once its round committed (at once when it
 * waits for none); when the op is done, verbs_fleet_done turns the answer
 * into what happened, by *kind: FLEET_ANSWER_WRITE (refused or as it is),
 * _REVOKE (fleet=sent or fleet=queued added), _SHOW (where the token was
 * last used in the fleet added, when known). */
#define FLEET_ANSWER_WRITE	0
#define FLEET_ANSWER_REVOKE	1
#define FLEET_ANSWER_SHOW	2
void	verbs_fleet_done(struct pat_buf *out, struct fleet_op *op, int kind);
/* The answer for an op the directory has not finished in time. */
#define FLEET_ANSWER_MS		30000
void	verbs_fleet_late(struct pat_buf *out, int kind);
/* Commit this round's writes durably, at once; 0 or a negative errno, and
 * then every answer that waited must be replaced by verbs_round_failed. */
int	verbs_round_end(struct patd *d);
/* The answer for a request whose round could not be committed. */
void	verbs_round_failed(struct pat_buf *out, int err);
/* Whether uid's next refusal may be logged: log_refusals a minute per
 * uid; the rest are counted (log_suppressed) and summed up later. */
bool	refusal_log_ok(struct patd *d, uid_t uid, int64_t now);
/* Write pending last-use records: into this round when one is open. */
int	lastuse_flush(struct patd *d);

/* Background work between rounds, each in its own durable commit: mark
 * one batch of revoked descendants (sweep_step), or look at one batch of
 * records for retention (purge_step).  0 or a negative errno; *more is
 * set when a sweep batch left work. */
int	sweep_step(struct patd *d, bool *more);
int	purge_step(struct patd *d);

#endif
