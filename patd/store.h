/*
 * store.h - patd's LMDB store: tokens, indexes, roles, grants, last use.
 *
 * One environment, file "pat.mdb" in the state directory, with named
 * databases:
 *   meta      "schema" -> "1", "next_id" -> u64 (ids are never reused)
 *   tokens    u64be id -> token record (binary header + NUL-separated text:
 *             user, name, role, by, cap, then, since issue 14, bind_from
 *             and bind_service; a record that ends after cap has no binding)
 *   by_uid    u32be uid . u64be id -> ""   (a user's tokens)
 *   children  u64be parent . u64be child -> ""   (for cascading revoke)
 *   roles     name -> comma-joined patterns
 *   grants    "u" or "g", name, NUL, role -> ""
 *   lastused  u64be id -> "time service rhost [host...]" (written in
 *             batches): the last use, then the last STORE_HOSTS distinct
 *             remote hosts the token was used from, latest first (VERIFY's
 *             new_host=); a record without hosts (older) has none yet
 *   sessions  jti -> i64be expiry   (logged-out login sessions)
 *   live      u32be uid . u64be id -> i64be expires   (tokens not revoked:
 *             what counts against a user's quota; expired ones are pruned
 *             by store_live_count)
 *   livekids  u64be parent . u64be child -> i64be expires  (the same, per
 *             parent: what counts against a token's children quota)
 *   revall    u32be uid -> u64be id   (REVOKE all=1: every token of uid
 *             with a smaller id is revoked, whatever its record says)
 *   sweep     'T' u64be id -> u64be after   (descendants of id still to be
 *             marked revoked, resuming after child `after`)
 *             'U' u32be uid -> u64be limit . u64be after  (tokens of uid
 *             below limit still to be marked revoked)
 *   rotated   u64be old id -> u64be new id   (ROTATE's replacement)
 *   reasons   u64be id -> why it was revoked, when not by its owner or an
 *             admin ("reported": REVOKE token=, by whoever held the secret)
 *   uses      u64be id -> u32be successful verifications of a token
 *             created with uses= (written in the round that answers them)
 *   rolepolicy  role name -> u8 version (1) . i64be max_lifetime .
 *             i64be default_lifetime . i64be max_idle   (seconds; a role
 *             without a record, or with all three 0, has no policy;
 *             deleted with the role)
 *   fleet     16-byte entryUUID -> kind . key   (fleet mode, fleet.c: which
 *             record a directory entry became, so its delete removes it;
 *             kind 't' key = decimal token id, 'r' role name, 'u'/'g'
 *             "who/role" of a grant)
 *   fleetq    u64be id -> i64be revoked . reason   (fleet mode: a REVOKE
 *             made here, committed with the local revocation and kept
 *             until the provider has it; fleet.c pushes and removes it)
 *   fleetlu   u64be id -> ""   (fleet mode: tokens whose last use changed
 *             since fleet.c last pushed last uses to the directory)
 * meta also holds "fleet_cookie" (the RFC 4533 sync cookie, committed in
 * the same txn as the changes it covers).
 * live and livekids are kept in step by store_token_put; a store made before
 * they existed gets them built once, when opened.
 * All functions take an open transaction: the caller decides what commits
 * together.  They return 0, -ENOENT (not there), -ENOSPC (map or disk full),
 * -EINVAL (corrupt record or bad argument) or -EIO.
 */
#ifndef PATD_STORE_H
#define PATD_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <lmdb.h>

#include "bind.h"
#include "perm.h"
#include "token.h"

#define STORE_SCHEMA		1
#define STORE_USER_MAX		64
#define STORE_NAME_MAX		128
#define STORE_ROLE_MAX		64
#define STORE_BY_MAX		40
#define STORE_CAP_MAX		4096
#define STORE_SERVICE_MAX	64
#define STORE_RHOST_MAX		128
#define STORE_REASON_MAX	32
#define STORE_HOSTS		8	/* distinct remote hosts kept per token */
#define STORE_USES_MAX		1000000

struct tok_rec {
	uint64_t	id;
	uint64_t	parent;		/* 0: none */
	uint32_t	uid;
	int64_t		created;
	int64_t		expires;	/* 0: never */
	int64_t		revoked;	/* 0: not revoked */
	uint8_t		hash[PAT_HASH_LEN];
	char		user[STORE_USER_MAX + 1];
	char		name[STORE_NAME_MAX + 1];
	char		role[STORE_ROLE_MAX + 1];
	char		by[STORE_BY_MAX + 1];	/* "root", "pat:17", … */
	char		cap[STORE_CAP_MAX + 1];	/* creator's permissions */
	/* its binding (bind.h): networks and service names, "" for none;
	 * stored after cap, absent from records made before issue 14 */
	char		bind_from[BIND_FROM_MAX + 1];
	char		bind_service[BIND_SERVICE_MAX + 1];
	uint32_t	uses;		/* --uses: verifications allowed, 0 for
					 * no limit (stored as decimal text after
					 * bind_service; the count is in "uses") */
	unsigned	depth;		/* parents above it: set by
					 * access_check_token, never stored */
	/* set by access_check_token, never stored: when the token stops
	 * working by time (0: never), which limit says so (TOK_END_*), and,
	 * for a refusal as expired or idle, why in words */
	int64_t		ends;
	int		ends_by;
	char		why[160];
};

/* A role's lifetime policy, in seconds; 0: no such limit. */
struct role_policy {
	int64_t		max_lifetime;	/* from a token's creation */
	int64_t		default_lifetime;	/* CREATE without expires= */
	int64_t		max_idle;	/* since its last use (or creation) */
};

struct last_use {
	int64_t		when;
	char		service[STORE_SERVICE_MAX + 1];
	char		rhost[STORE_RHOST_MAX + 1];
	/* the last distinct remote hosts, latest first (nhosts of them) */
	unsigned	nhosts;
	char		hosts[STORE_HOSTS][STORE_RHOST_MAX + 1];
};

struct store_stats {
	size_t		tokens, roles, grants;
	size_t		map_bytes, used_bytes;
};

/* One entry of the revocation sweep queue (see store_sweep_*). */
struct sweep_item {
	char		kind;		/* 'T' (a subtree) or 'U' (a user) */
	uint64_t	id;		/* 'T': the revoked token; 'U': the uid */
	uint64_t	limit;		/* 'U': tokens below this id */
	uint64_t	after;		/* resume after this child / token id */
};

struct store;

/* Open (creating when absent) the store in dir; mapsize in bytes. */
int	store_open(struct store **sp, const char *dir, size_t mapsize);
void	store_close(struct store *s);
/* The descriptor LMDB holds on pat.mdb (still the store's: do not close),
 * so the caller can check the very file LMDB opened; -errno on failure. */
int	store_data_fd(struct store *s);
const char *store_strerror(int err);

int	store_begin(struct store *s, bool write, MDB_txn **txn);
/* A write txn nested in parent: its commit only merges into parent, its
 * abort undoes just its own writes (one request of a group commit). */
int	store_begin_child(struct store *s, MDB_txn *parent, MDB_txn **txn);
/* Commit durably (before any reply).  The txn is gone either way. */
int	store_commit(MDB_txn *txn);
void	store_abort(MDB_txn *txn);

/* Reserve the next token id (write txn). */
int	store_next_id(struct store *s, MDB_txn *txn, uint64_t *id);
int	store_token_get(struct store *s, MDB_txn *txn, uint64_t id,
	    struct tok_rec *out);
/* Insert or replace, keeping by_uid and children in step. */
int	store_token_put(struct store *s, MDB_txn *txn, const struct tok_rec *r,
	    uint64_t old_parent);

/* Visit ids in ascending order; a callback's nonzero return stops the walk
 * and is returned. */
typedef int (*store_id_fn)(uint64_t id, void *arg);
int	store_tokens_of_uid(struct store *s, MDB_txn *txn, uint32_t uid,
	    uint64_t after, store_id_fn fn, void *arg);
int	store_tokens_all(struct store *s, MDB_txn *txn, uint64_t after,
	    store_id_fn fn, void *arg);
int	store_children(struct store *s, MDB_txn *txn, uint64_t parent,
	    uint64_t after, store_id_fn fn, void *arg);
/* Children of parent that are not revoked (the livekids index). */
int	store_live_kids(struct store *s, MDB_txn *txn, uint64_t parent,
	    store_id_fn fn, void *arg);

int	store_role_get(struct store *s, MDB_txn *txn, const char *name,
	    struct pat_permset *out);
int	store_role_put(struct store *s, MDB_txn *txn, const char *name,
	    const struct pat_permset *perms);
int	store_role_del(struct store *s, MDB_txn *txn, const char *name);
typedef int (*store_role_fn)(const char *name, const char *perms, void *arg);
int	store_roles(struct store *s, MDB_txn *txn, store_role_fn fn, void *arg);
/* A role's policy: 0 with *out all zero when it has none (or no such
 * role), -EINVAL for a record it cannot read.  put with all three zero
 * removes the record (store_role_del does too). */
int	store_policy_get(struct store *s, MDB_txn *txn, const char *name,
	    struct role_policy *out);
int	store_policy_put(struct store *s, MDB_txn *txn, const char *name,
	    const struct role_policy *p);
/* Whether any role has a policy (the database's entry count; true when
 * it cannot tell). */
bool	store_policy_any(struct store *s, MDB_txn *txn);

/* kind is 'u' (user) or 'g' (group).  Put: 0 added, 1 it was there. */
int	store_grant_put(struct store *s, MDB_txn *txn, char kind,
	    const char *who, const char *role);
int	store_grant_del(struct store *s, MDB_txn *txn, char kind,
	    const char *who, const char *role);
typedef int (*store_grant_fn)(char kind, const char *who, const char *role,
	    void *arg);
/* True when any grant goes to a group (so group membership matters). */
bool	store_has_group_grants(struct store *s, MDB_txn *txn);
/* who NULL: every grant. */
int	store_grants(struct store *s, MDB_txn *txn, char kind, const char *who,
	    store_grant_fn fn, void *arg);

int	store_lastuse_put(struct store *s, MDB_txn *txn, uint64_t id,
	    const struct last_use *u);
int	store_lastuse_get(struct store *s, MDB_txn *txn, uint64_t id,
	    struct last_use *out);

/* A logged-out session stays refused until it would have expired. */
int	store_session_revoke(struct store *s, MDB_txn *txn, const char *jti,
	    int64_t exp);
/* 1 when jti was logged out, 0 when not, or -errno. */
int	store_session_revoked(struct store *s, MDB_txn *txn, const char *jti);
/* Forget logged-out sessions that expired before now. */
int	store_session_prune(struct store *s, MDB_txn *txn, int64_t now);

int	store_stats(struct store *s, MDB_txn *txn, struct store_stats *st);

/*
 * Bytes of the map in use as of the last commit: pages up to the high-water
 * mark less the free pages LMDB will reuse.  The freelist is walked only
 * when the mark is within slack bytes of the map's end; otherwise *used is
 * the mark itself (an upper bound, and cheap).
 */
int	store_used_bytes(struct store *s, size_t slack, size_t *used,
	    size_t *map);

/*
 * Quotas.  Count the live (not revoked, not expired) tokens of uid, or the
 * live children of parent, stopping once `stop` are counted; expired
 * entries met on the way are pruned when txn is a write transaction.
 */
int	store_live_count(struct store *s, MDB_txn *txn, uint32_t uid,
	    int64_t now, size_t stop, size_t *n);
int	store_kids_count(struct store *s, MDB_txn *txn, uint64_t parent,
	    int64_t now, size_t stop, size_t *n);
/* True when parent has at least one child (revoked or not). */
bool	store_has_children(struct store *s, MDB_txn *txn, uint64_t parent);

/* REVOKE all=1: tokens of uid with an id below limit are revoked.  get
 * returns 0 and *limit 0 when uid never had one. */
int	store_revall_get(struct store *s, MDB_txn *txn, uint32_t uid,
	    uint64_t *limit);
int	store_revall_put(struct store *s, MDB_txn *txn, uint32_t uid,
	    uint64_t limit);

/* The sweep queue: durable work left by a revocation.  first gives the
 * lowest entry (-ENOENT when empty); put adds or updates; del removes. */
int	store_sweep_first(struct store *s, MDB_txn *txn, struct sweep_item *it);
int	store_sweep_put(struct store *s, MDB_txn *txn,
	    const struct sweep_item *it);
int	store_sweep_del(struct store *s, MDB_txn *txn,
	    const struct sweep_item *it);
/* Visit up to max tokens of uid that are not revoked (the live index),
 * from after+1 on. */
int	store_live_of_uid(struct store *s, MDB_txn *txn, uint32_t uid,
	    uint64_t after, store_id_fn fn, void *arg);

/* ROTATE replaced old by new; get gives 0 in *new_id when it did not. */
/* Why id was revoked (see "reasons" above); -ENOENT when no reason was
 * recorded. */
int	store_reason_put(struct store *s, MDB_txn *txn, uint64_t id,
	    const char *reason);
int	store_reason_get(struct store *s, MDB_txn *txn, uint64_t id,
	    char *out, size_t n);
int	store_rotated_put(struct store *s, MDB_txn *txn, uint64_t old_id,
	    uint64_t new_id);
int	store_rotated_get(struct store *s, MDB_txn *txn, uint64_t old_id,
	    uint64_t *new_id);
/* True while a sweep of id's subtree is queued. */
bool	store_sweep_queued(struct store *s, MDB_txn *txn, uint64_t id);

/* How often a counted token has verified (0 when never). */
int	store_uses_get(struct store *s, MDB_txn *txn, uint64_t id,
	    uint32_t *used);
int	store_uses_put(struct store *s, MDB_txn *txn, uint64_t id,
	    uint32_t used);

/* Forget a token: its record, index entries and last use (retention). */
int	store_token_del(struct store *s, MDB_txn *txn, const struct tok_rec *r);

/* meta keys other than the store's own ("fleet_cookie"): get gives
 * -ENOENT when absent; put with len 0 removes the key. */
int	store_meta_get(struct store *s, MDB_txn *txn, const char *key,
	    void *out, size_t n, size_t *len);
int	store_meta_put(struct store *s, MDB_txn *txn, const char *key,
	    const void *val, size_t len);
/* The fleet map: entryUUID -> (kind, key); see "fleet" above.  key is
 * text (a grant's "who NUL role" is stored as "who/role"). */
int	store_fleet_get(struct store *s, MDB_txn *txn, const uint8_t uuid[16],
	    char *kind, char *key, size_t n);
int	store_fleet_put(struct store *s, MDB_txn *txn, const uint8_t uuid[16],
	    char kind, const char *key);
int	store_fleet_del(struct store *s, MDB_txn *txn, const uint8_t uuid[16]);
typedef int (*store_fleet_fn)(const uint8_t *uuid, char kind, const char *key,
	    void *arg);
int	store_fleet_walk(struct store *s, MDB_txn *txn, store_fleet_fn fn,
	    void *arg);
/* The revocation outbox (see "fleetq" above).  next gives the first entry
 * with an id above after (-ENOENT when none); del of an absent id is 0. */
int	store_fleetq_put(struct store *s, MDB_txn *txn, uint64_t id,
	    int64_t when, const char *reason);
int	store_fleetq_next(struct store *s, MDB_txn *txn, uint64_t after,
	    uint64_t *id, int64_t *when, char *reason, size_t n);
int	store_fleetq_del(struct store *s, MDB_txn *txn, uint64_t id);
size_t	store_fleetq_count(struct store *s, MDB_txn *txn);
/* Last uses to push (see "fleetlu" above); next as store_fleetq_next. */
int	store_fleetlu_put(struct store *s, MDB_txn *txn, uint64_t id);
int	store_fleetlu_next(struct store *s, MDB_txn *txn, uint64_t after,
	    uint64_t *id);
int	store_fleetlu_del(struct store *s, MDB_txn *txn, uint64_t id);

#endif
