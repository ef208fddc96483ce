/*
 * verbs.h - internals shared by the request handlers (verbs*.c).
 *
 * A handler gets the request and one open transaction (a write transaction
 * for verbs that change the store).  It appends its answer to q->out and
 * returns:
 *   0   done: the transaction is committed before the answer is sent;
 *   1   refused: the answer is an ERR line; nothing is committed;
 *   <0  errno: verbs_dispatch() replaces the answer with an ERR line.
 */
#ifndef PATD_VERBS_H
#define PATD_VERBS_H

#include <stdbool.h>

#include "access.h"
#include "patd.h"

#define LIST_LIMIT	1000	/* items in one LIST answer; page with after= */

struct req {
	struct patd		*d;
	const struct peer	*p;
	const struct pat_msg	*m;
	struct pat_buf		*out;
	int64_t			 now;
	char			 user[STORE_USER_MAX + 1];	/* peer's name */
	bool			 super;	/* root or patd's own uid */
	bool			 admin;	/* super, or a credential with pat.admin */
	bool			 has_cred;	/* a valid auth= token of the peer */
	bool			 has_session;	/* a valid session= of the peer */
	/* a session= that could not be used was set aside: its refusal code
	 * ("session-expired", "bad-session") and why, for the verbs that
	 * needed it; NULL when none was */
	const char		*session_code;
	char			 session_why[96];
	struct tok_rec		 cred;
	struct jwt_claims	 session;
	struct pat_permset	 cred_perms;	/* the token's, or the user's now */
	/*
	 * A read-only verb that finds it must write (VERIFY seeing a
	 * rotated-away token come back) sets rerun and answers nothing;
	 * verbs_dispatch then runs it again inside the round's write
	 * transaction (in_round), where it writes and sets wrote.
	 */
	bool			 in_round;
	bool			 rerun;
	bool			 wrote;
	/*
	 * Fleet mode (verbs_fleet.c): a verb that is made in the directory
	 * (to_dir) notes each record it changes; the transaction is undone
	 * and fleet_build turns the notes into fop, which the directory
	 * carries out before the answer goes.  A REVOKE's fop is a flush.
	 */
	bool			 to_dir;
	struct fleet_note {
		char		kind;	/* 't' token, 'r' role, 'u'/'g' grant */
		bool		gone;	/* a role or grant deleted */
		bool		fresh;	/* a token made by this request */
		uint64_t	id;
		char		who[STORE_USER_MAX + 1];	/* or role name */
		char		role[STORE_ROLE_MAX + 1];
	}			*notes;
	size_t			 nnotes, capnotes;
	struct fleet_op		*fop;
};

/* Append "ERR code=… message=…" and return 1 (refused). */
int	reply_err(struct req *q, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Append "ERR code=rate-limited retry_after=<wait> message=…" (wait:
 * seconds until the blocking window ends, at least 1) and return 1. */
int	reply_limited(struct req *q, int64_t wait, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Refuse unless the peer is an admin. */
int	need_admin(struct req *q, const char *what);
/* Refuse a request that needed a credential the peer lacks (`code`, `fmt`);
 * when the peer's session was set aside, refuse with the session's code
 * and say why, naming patctl login and patctl logout. */
int	need_credential(struct req *q, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* " (your session … did not count: …)" when a session was set aside, else
 * "": for refusals that a working session might have avoided. */
const char *session_note(struct req *q, char *buf, size_t n);
/*
 * Rotation reuse (issue 14): rec, just refused as revoked, was rotated
 * away more than rotation_grace ago and its family (the token it was
 * rotated into, or the live end of a chain of rotations) still lives.
 * 1 and *target: the family's live head; 0: nothing to do; -errno.
 */
int	reuse_target(struct req *q, MDB_txn *txn, const struct tok_rec *rec,
	    uint64_t *target);
/* Revoke token id and everything below it for `reason` (recorded, as
 * REVOKE token= records "reported"); *count as REVOKE's revoked=. */
int	revoke_for(struct req *q, MDB_txn *txn, uint64_t id,
	    const char *reason, size_t *count, bool *more);
/* Append the metadata fields of a token (no secret, no hash). */
int	put_token_fields(struct req *q, MDB_txn *txn, struct tok_rec *r);
/* "active", "revoked", "expired" or "idle", counting the token's lineage
 * and its role's policy now; sets r->ends and r->ends_by. */
const char *token_state(struct req *q, MDB_txn *txn, struct tok_rec *r);
/* Valid role / user name of at most max bytes. */
bool	valid_role_name(const char *s);
bool	valid_user_name(const char *s);

/* verbs_fleet.c: note what a directory verb changed (no-ops on one host
 * or for other verbs); 0 or -ENOMEM. */
int	note_token(struct req *q, uint64_t id, bool fresh);
int	note_role(struct req *q, const char *name, bool gone);
int	note_grant(struct req *q, char kind, const char *who, const char *role,
	    bool gone);
/* A new token id: the store's on one host, the directory's counter in
 * fleet mode (1: refused, fleet-not-issuer or fleet-unavailable). */
int	next_token_id(struct req *q, MDB_txn *txn, uint64_t *id);
/* q->fop from q's notes, reading the records from txn. */
int	fleet_build(struct req *q, MDB_txn *txn);

int	verb_create(struct req *q, MDB_txn *txn);
int	verb_rotate(struct req *q, MDB_txn *txn);
int	verb_list(struct req *q, MDB_txn *txn);
int	verb_show(struct req *q, MDB_txn *txn);
int	verb_revoke(struct req *q, MDB_txn *txn);
int	verb_role_set(struct req *q, MDB_txn *txn);
int	verb_role_delete(struct req *q, MDB_txn *txn);
int	verb_role_list(struct req *q, MDB_txn *txn);
int	verb_role_show(struct req *q, MDB_txn *txn);
int	verb_grant(struct req *q, MDB_txn *txn);
int	verb_ungrant(struct req *q, MDB_txn *txn);
int	verb_whoami(struct req *q, MDB_txn *txn);

#endif
