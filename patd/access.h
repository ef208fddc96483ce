/*
 * access.h - who holds which permissions, and what a token may do now.
 *
 * Users and groups come from NSS at every call, so a removed grant, group
 * membership or user takes effect at the next request.
 */
#ifndef PATD_ACCESS_H
#define PATD_ACCESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "patd.h"
#include "perm.h"
#include "store.h"

/* Why a token is refused, in the words sent to clients and logged. */
enum tok_verdict {
	TOK_OK = 0,
	TOK_MALFORMED,		/* shape or checksum */
	TOK_INVALID,		/* unknown id or wrong secret: indistinguishable */
	TOK_REVOKED,
	TOK_EXPIRED,
	TOK_OWNER_GONE,		/* the owner no longer exists with that uid */
	TOK_TOO_DEEP,		/* more parents above it than max_token_depth */
	TOK_IDLE,		/* unused for its role's max_idle or longer */
};

/* What ends a token by time (tok_rec.ends_by). */
enum tok_end {
	TOK_END_NONE = 0,	/* nothing: it works until revoked */
	TOK_END_EXPIRES,	/* its own expiry */
	TOK_END_MAX_LIFETIME,	/* its role's max_lifetime, from creation */
	TOK_END_MAX_IDLE,	/* its role's max_idle, from its last use */
};

const char *tok_verdict_code(enum tok_verdict v);
/* For a refusal's log line after reason=CODE: which limit of the role's
 * policy caused it (" policy=max_lifetime", " policy=max_idle"), or "".
 * rec as access_check_token left it. */
const char *tok_verdict_policy(int v, const struct tok_rec *rec);
/* "expires", "max_lifetime", "max_idle" ("" for TOK_END_NONE). */
const char *tok_end_name(int by);

/* The permissions user holds now: union of roles granted to the user and to
 * each of its groups.  -ENOENT when NSS does not know the user. */
int	access_user_perms(struct patd *d, MDB_txn *txn, const char *user,
	    struct pat_permset *out);
/* The same for a user the caller just looked up (primary group gid): one
 * NSS lookup less. */
int	access_user_perms_gid(struct patd *d, MDB_txn *txn, const char *user,
	    gid_t gid, struct pat_permset *out);

/* Call fn for each grant that applies to user (primary group gid): the
 * user's own, then each of its groups' (NSS now).  fn returning non-zero
 * stops the walk, and that value is returned; a negative errno when the
 * store or NSS fails. */
int	access_walk_grants(struct patd *d, MDB_txn *txn, const char *user,
	    gid_t gid, store_grant_fn fn, void *arg);

/*
 * The secret alone: shape, checksum, and the keyed hash against the stored
 * record, whatever the token's state (revoked, expired, ...).  TOK_OK with
 * rec filled, TOK_MALFORMED, TOK_INVALID (rec zeroed for an unknown id, the stored record's for a
 * wrong secret), or a negative errno.
 */
int	access_check_secret(struct patd *d, MDB_txn *txn, const char *text,
	    struct tok_rec *rec);

/*
 * Check a presented token and, when it is good, compute its effective
 * permissions (role now ∩ owner now ∩ cap).  rec is filled whenever the id
 * was found and the secret matched (so callers may log the id and owner);
 * for a token that works, rec->ends and rec->ends_by say until when
 * (access_policy); for TOK_EXPIRED and TOK_IDLE, rec->why says why.
 * Returns a verdict; a negative errno for store or memory failure.
 */
int	access_check_token(struct patd *d, MDB_txn *txn, const char *text,
	    int64_t now, struct tok_rec *rec, struct pat_permset *eff);

/*
 * Whether a token is revoked through its lineage, whatever its own record
 * says: an ancestor revoked, expired (by its expiry or its role's
 * max_lifetime now: a child never outlives its parent) or gone (purged),
 * or a REVOKE all=1 of its owner since it was made.  Walks at most max_depth parents, so a
 * revocation counts at once however many descendants it has.  Sets
 * *depth (may be NULL).  TOK_OK, TOK_REVOKED, TOK_EXPIRED, TOK_TOO_DEEP or
 * -errno.
 */
int	access_lineage(struct patd *d, MDB_txn *txn, const struct tok_rec *rec,
	    int64_t now, unsigned *depth);

/*
 * When rec stops working by time, under its role's policy as it is now:
 * its own expiry, the role's max_lifetime counted from the token's
 * creation, its max_idle from the token's last use (a use not yet written
 * counts: patd->lastuse) or, never used, from its creation.  Sets
 * rec->ends (the earliest; 0: none) and rec->ends_by.  TOK_OK unless the
 * role's limit that comes first has come: TOK_EXPIRED (max_lifetime) or
 * TOK_IDLE, with rec->why in words naming the limit; or -errno.  The
 * record's own expiry is reported in rec->ends but is the caller's to
 * refuse (access_check_token, token_state check it first).
 * One read of the role's policy, and one of the last use when the role
 * has a max_idle.
 */
int	access_policy(struct patd *d, MDB_txn *txn, struct tok_rec *rec,
	    int64_t now);

/* Effective permissions of a stored token, whatever its state. */
int	access_effective(struct patd *d, MDB_txn *txn, const struct tok_rec *r,
	    struct pat_permset *role, struct pat_permset *owner,
	    struct pat_permset *cap, struct pat_permset *eff);

/* Name of a uid, or -ENOENT. */
int	access_user_name(uid_t uid, char *out, size_t n);
/* True when uid is root or patd's own uid. */
bool	access_is_superuser(const struct patd *d, uid_t uid);
/* True when uid may verify any token (root, patd, the verify group). */
bool	access_is_verifier(const struct patd *d, uid_t uid, gid_t gid);

#endif
