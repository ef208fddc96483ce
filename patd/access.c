/* access.c - permissions from grants and NSS, token checks; see access.h. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "access.h"
#include "duration.h"

#define NSS_BUF		16384
#define GROUPS_MAX	65536

const char *
tok_verdict_code(enum tok_verdict v)
{
	switch (v) {
	case TOK_OK:		return "ok";
	case TOK_MALFORMED:	return "malformed-token";
	case TOK_INVALID:	return "invalid-token";
	case TOK_REVOKED:	return "revoked";
	case TOK_EXPIRED:	return "expired";
	case TOK_OWNER_GONE:	return "owner-gone";
	case TOK_TOO_DEEP:	return "too-deep";
	case TOK_IDLE:		return "idle";
	}
	return "invalid-token";
}

const char *
tok_verdict_policy(int v, const struct tok_rec *rec)
{
	if (v == TOK_EXPIRED && rec->ends_by == TOK_END_MAX_LIFETIME)
		return " policy=max_lifetime";
	if (v == TOK_IDLE)
		return " policy=max_idle";
	return "";
}

const char *
tok_end_name(int by)
{
	switch (by) {
	case TOK_END_EXPIRES:		return "expires";
	case TOK_END_MAX_LIFETIME:	return "max_lifetime";
	case TOK_END_MAX_IDLE:		return "max_idle";
	}
	return "";
}

int
access_user_name(uid_t uid, char *out, size_t n)
{
	struct passwd pw, *res = NULL;
	char buf[NSS_BUF];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -ENOENT;
	if (strlen(pw.pw_name) >= n)
		return -ENAMETOOLONG;
	strcpy(out, pw.pw_name);
	return 0;
}

/* Supplementary and primary (gid) groups of user; *gids is malloc'd. */
static int
user_groups(const char *user, gid_t gid, gid_t **gids, int *ngids)
{
	gid_t *g = NULL, *ng;
	int n = 32;

	for (;;) {
		int want = n;

		if ((ng = realloc(g, (size_t)n * sizeof(*g))) == NULL) {
			free(g);
			return -ENOMEM;
		}
		g = ng;
		if (getgrouplist(user, gid, g, &want) >= 0) {
			*gids = g;
			*ngids = want;
			return 0;
		}
		if (want <= n)
			want = n * 2;
		if (want > GROUPS_MAX) {
			free(g);
			return -E2BIG;
		}
		n = want;
	}
}

/* The primary gid of user, or -ENOENT. */
static int
user_gid(const char *user, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[NSS_BUF];

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -ENOENT;
	*gid = pw.pw_gid;
	return 0;
}

struct roles_acc {
	struct patd		*d;
	MDB_txn			*txn;
	struct pat_permset	*out;
	int			 err;
};

static int
add_role(char kind, const char *who, const char *role, void *arg)
{
	struct roles_acc *a = arg;
	struct pat_permset rs;
	int r;

	(void)kind;
	(void)who;
	pat_permset_init(&rs);
	r = store_role_get(a->d->store, a->txn, role, &rs);
	if (r == 0)
		r = pat_permset_union(a->out, &rs);
	pat_permset_free(&rs);
	if (r < 0 && r != -ENOENT) {	/* a dangling grant grants nothing */
		a->err = r;
		return 1;
	}
	return 0;
}

int
access_walk_grants(struct patd *d, MDB_txn *txn, const char *user, gid_t gid,
    store_grant_fn fn, void *arg)
{
	struct group gr, *gres;
	char buf[NSS_BUF];
	gid_t *gids = NULL;
	int ngids = 0, i, r;

	r = store_grants(d->store, txn, 'u', user, fn, arg);
	/* no grant names a group: membership cannot matter, skip NSS */
	if (r == 0 && store_has_group_grants(d->store, txn) &&
	    (r = user_groups(user, gid, &gids, &ngids)) < 0)
		return r;
	for (i = 0; r == 0 && i < ngids; i++) {
		gres = NULL;
		if (getgrgid_r(gids[i], &gr, buf, sizeof(buf), &gres) != 0 ||
		    gres == NULL)
			continue;
		r = store_grants(d->store, txn, 'g', gr.gr_name, fn, arg);
	}
	free(gids);
	return r;
}

/* The permissions of user whose primary group is gid. */
static int
perms_of(struct patd *d, MDB_txn *txn, const char *user, gid_t gid,
    struct pat_permset *out)
{
	struct roles_acc acc = { d, txn, out, 0 };
	int r;

	pat_permset_free(out);
	r = access_walk_grants(d, txn, user, gid, add_role, &acc);
	if (r >= 0 && acc.err != 0)
		r = acc.err;
	if (r < 0)
		pat_permset_free(out);
	return r > 0 ? -EIO : r;
}

int
access_user_perms(struct patd *d, MDB_txn *txn, const char *user,
    struct pat_permset *out)
{
	gid_t gid;
	int r;

	pat_permset_free(out);
	if ((r = user_gid(user, &gid)) < 0)
		return r;
	return perms_of(d, txn, user, gid, out);
}

int
access_user_perms_gid(struct patd *d, MDB_txn *txn, const char *user,
    gid_t gid, struct pat_permset *out)
{
	return perms_of(d, txn, user, gid, out);
}

bool
access_is_superuser(const struct patd *d, uid_t uid)
{
	return uid == 0 || uid == d->self_uid;
}

bool
access_is_verifier(const struct patd *d, uid_t uid, gid_t gid)
{
	struct group gr, *gres = NULL;
	char buf[NSS_BUF], name[STORE_USER_MAX + 1];
	gid_t *gids = NULL, primary;
	int ngids = 0, i;
	bool ok = false;

	if (access_is_superuser(d, uid))
		return true;
	if (d->verify_group[0] == '\0' ||
	    getgrnam_r(d->verify_group, &gr, buf, sizeof(buf), &gres) != 0 ||
	    gres == NULL)
		return false;
	if (gid == gr.gr_gid)
		return true;
	if (access_user_name(uid, name, sizeof(name)) < 0 ||
	    user_gid(name, &primary) < 0 ||
	    user_groups(name, primary, &gids, &ngids) < 0)
		return false;
	for (i = 0; i < ngids && !ok; i++)
		ok = gids[i] == gr.gr_gid;
	free(gids);
	return ok;
}

/* role ∩ owner ∩ cap; the owner's permissions from gid when known. */
static int
effective(struct patd *d, MDB_txn *txn, const struct tok_rec *rec,
    const gid_t *gid, struct pat_permset *role, struct pat_permset *owner,
    struct pat_permset *cap, struct pat_permset *eff)
{
	struct pat_permset ro;
	int r;

	pat_permset_init(&ro);
	pat_permset_free(role);
	pat_permset_free(owner);
	pat_permset_free(cap);
	pat_permset_free(eff);
	r = store_role_get(d->store, txn, rec->role, role);
	if (r < 0 && r != -ENOENT)	/* a deleted role grants nothing */
		return r;
	r = gid ? perms_of(d, txn, rec->user, *gid, owner) :
	    access_user_perms(d, txn, rec->user, owner);
	if (r < 0 && r != -ENOENT)
		return r;
	if (pat_permset_add_list(cap, rec->cap) < 0)
		return -EINVAL;
	if ((r = pat_permset_intersect(role, owner, &ro)) == 0)
		r = pat_permset_intersect(&ro, cap, eff);
	pat_permset_free(&ro);
	return r;
}

int
access_effective(struct patd *d, MDB_txn *txn, const struct tok_rec *rec,
    struct pat_permset *role, struct pat_permset *owner,
    struct pat_permset *cap, struct pat_permset *eff)
{
	return effective(d, txn, rec, NULL, role, owner, cap, eff);
}

int
access_lineage(struct patd *d, MDB_txn *txn, const struct tok_rec *rec,
    int64_t now, unsigned *depth)
{
	struct role_policy pol;
	struct tok_rec up;
	uint64_t limit, p;
	unsigned n = 0;
	int r;

	if (depth == NULL)
		depth = &n;
	*depth = 0;
	if ((r = store_revall_get(d->store, txn, rec->uid, &limit)) < 0)
		return r;
	if (rec->id < limit)
		return TOK_REVOKED;
	for (p = rec->parent; p != 0; p = up.parent) {
		if (++*depth > d->max_depth)
			return TOK_TOO_DEEP;
		r = store_token_get(d->store, txn, p, &up);
		if (r == -ENOENT)
			return TOK_REVOKED;	/* purged: it ended long ago */
		if (r < 0)
			return r;
		/* a parent belongs to the same user: the same REVOKE all=1 */
		if (up.revoked != 0 || up.uid != rec->uid || up.id < limit)
			return TOK_REVOKED;
		if (up.expires != 0 && now >= up.expires)
			return TOK_EXPIRED;
		/* nor past its role's max_lifetime (idle is its own matter: a
		 * parent kept unused while its children work is the point) */
		if (d->no_policies)
			continue;
		if ((r = store_policy_get(d->store, txn, up.role, &pol)) < 0)
			return r;
		if (pol.max_lifetime != 0 && now - up.created >= pol.max_lifetime)
			return TOK_EXPIRED;
	}
	return TOK_OK;
}

/* An earlier end than rec's so far replaces it. */
static void
end_at(struct tok_rec *rec, int64_t when, int by)
{
	if (rec->ends == 0 || when < rec->ends) {
		rec->ends = when;
		rec->ends_by = by;
	}
}

/* When id was last used: the batch not yet written, else the store, else
 * never (0). */
static int
last_used(struct patd *d, MDB_txn *txn, uint64_t id, int64_t *when)
{
	const struct lastuse_pending *p = lastuse_find(&d->lastuse, id);
	struct last_use lu;
	int r;

	*when = 0;
	if (p != NULL) {
		*when = p->use.when;
		return 0;
	}
	r = store_lastuse_get(d->store, txn, id, &lu);
	if (r == 0)
		*when = lu.when;
	return r == -ENOENT || r == -EINVAL ? 0 : r;	/* advisory record */
}

int
access_policy(struct patd *d, MDB_txn *txn, struct tok_rec *rec, int64_t now)
{
	struct role_policy pol;
	int64_t last;
	char dur[48];
	int r;

	rec->ends = 0;
	rec->ends_by = TOK_END_NONE;
	rec->why[0] = '\0';
	if (rec->expires != 0)
		end_at(rec, rec->expires, TOK_END_EXPIRES);
	if (d->no_policies)
		return TOK_OK;
	if ((r = store_policy_get(d->store, txn, rec->role, &pol)) < 0)
		return r;
	if (pol.max_lifetime != 0)
		end_at(rec, rec->created + pol.max_lifetime,
		    TOK_END_MAX_LIFETIME);
	if (pol.max_idle != 0) {
		if ((r = last_used(d, txn, rec->id, &last)) < 0)
			return r;
		end_at(rec, (last > rec->created ? last : rec->created) +
		    pol.max_idle, TOK_END_MAX_IDLE);
	}
	/* the record's own expiry is access_check_token's to refuse: one
	 * check, one place (rec->ends only reports it) */
	if (rec->ends == 0 || now < rec->ends ||
	    rec->ends_by == TOK_END_EXPIRES)
		return TOK_OK;
	switch (rec->ends_by) {
	case TOK_END_MAX_LIFETIME:
		snprintf(rec->why, sizeof(rec->why), "the token is older than "
		    "role %s allows (max lifetime %s)", rec->role,
		    pat_duration_words(pol.max_lifetime, dur, sizeof(dur)));
		return TOK_EXPIRED;
	case TOK_END_MAX_IDLE:
		snprintf(rec->why, sizeof(rec->why), "unused for longer than "
		    "role %s allows (max idle %s)", rec->role,
		    pat_duration_words(pol.max_idle, dur, sizeof(dur)));
		return TOK_IDLE;
	}
	return TOK_OK;
}

int
access_check_secret(struct patd *d, MDB_txn *txn, const char *text,
    struct tok_rec *rec)
{
	static const uint8_t nothing[PAT_HASH_LEN];
	uint8_t h[PAT_HASH_LEN];
	size_t len = strlen(text);
	uint64_t id;
	int r, same;

	memset(rec, 0, sizeof(*rec));
	if (pat_token_parse(text, len, &id) < 0)
		return TOK_MALFORMED;
	r = store_token_get(d->store, txn, id, rec);
	if (r < 0 && r != -ENOENT)
		return r;
	/* hash and compare either way: an unknown id costs what a wrong
	 * secret costs */
	pat_token_hash(d->key, text, len, h);
	same = sodium_memcmp(h, r == 0 ? rec->hash : nothing, PAT_HASH_LEN);
	sodium_memzero(h, sizeof(h));
	if (r == -ENOENT) {
		memset(rec, 0, sizeof(*rec));
		return TOK_INVALID;
	}
	return same != 0 ? TOK_INVALID : TOK_OK;
}

int
access_check_token(struct patd *d, MDB_txn *txn, const char *text,
    int64_t now, struct tok_rec *rec, struct pat_permset *eff)
{
	struct pat_permset role, owner, cap;
	struct passwd pw, *res = NULL;
	char buf[NSS_BUF];
	int r;

	if ((r = access_check_secret(d, txn, text, rec)) != TOK_OK)
		return r;
	if (rec->revoked != 0)
		return TOK_REVOKED;
	if (rec->expires != 0 && now >= rec->expires)
		return TOK_EXPIRED;
	if ((r = access_lineage(d, txn, rec, now, &rec->depth)) != TOK_OK) {
		if (r == TOK_EXPIRED)
			snprintf(rec->why, sizeof(rec->why), "the token has "
			    "expired: a token above it (its parent) has");
		return r;
	}
	/* the role's policy as it is now, whatever it was at creation */
	if ((r = access_policy(d, txn, rec, now)) != TOK_OK)
		return r;
	if (getpwnam_r(rec->user, &pw, buf, sizeof(buf), &res) != 0 ||
	    res == NULL || pw.pw_uid != rec->uid)
		return TOK_OWNER_GONE;
	pat_permset_init(&role);
	pat_permset_init(&owner);
	pat_permset_init(&cap);
	r = effective(d, txn, rec, &pw.pw_gid, &role, &owner, &cap, eff);
	pat_permset_free(&role);
	pat_permset_free(&owner);
	pat_permset_free(&cap);
	return r < 0 ? r : TOK_OK;
}
