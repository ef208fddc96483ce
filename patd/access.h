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
};

const char *tok_verdict_code(enum tok_verdict v);

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
 * was found and the secret matched (so callers may log the id and owner).
 * Returns a verdict; a negative errno for store or memory failure.
 */
int	access_check_token(struct patd *d, MDB_txn *txn, const char *text,
	    int64_t now, struct tok_rec *rec, struct pat_permset *eff);

/*
 * Whether a token is revoked through its lineage, whatever its own record
 * says: an ancestor revoked, expired or gone (purged), or a REVOKE all=1 of
 * its owner since it was made.  Walks at most max_depth parents, so a
 * revocation counts at once however many descendants it has.  Sets
 * *depth (may be NULL).  TOK_OK, TOK_REVOKED, TOK_EXPIRED, TOK_TOO_DEEP or
 * -errno.
 */
int	access_lineage(struct patd *d, MDB_txn *txn, const struct tok_rec *rec,
	    int64_t now, unsigned *depth);

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
