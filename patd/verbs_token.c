/* verbs_token.c - CREATE, ROTATE, LIST, SHOW and REVOKE. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "duration.h"
#include "log.h"
#include "names.h"
#include "sweep.h"
#include "verbs.h"

#define MOVE_MAX	1000000	/* live children one ROTATE may move */

/* Make the token text for rec (id already set), store its hash and the record,
 * and answer with the secret.  text is wiped before returning. */
/* What CREATE left out of the role, and which filter did. */
struct stripped {
	char	all[STORE_CAP_MAX + 1];
	char	owner[STORE_CAP_MAX + 1];	/* the user lacks them now */
	char	cap[STORE_CAP_MAX + 1];		/* the creator lacked them */
};

static int
issue_token(struct req *q, MDB_txn *txn, struct tok_rec *rec,
    const struct pat_permset *eff, const struct stripped *st,
    const char *from)
{
	char text[PAT_TOKEN_BUFSZ], *perms;
	int r;

	if ((perms = pat_permset_join(eff)) == NULL)
		return -ENOMEM;
	if ((r = pat_token_generate(rec->id, text)) < 0)
		goto out;
	pat_token_hash(q->d->key, text, strlen(text), rec->hash);
	if ((r = store_token_put(q->d->store, txn, rec, 0)) < 0 ||
	    (r = note_token(q, rec->id, true)) < 0)
		goto out;
	pat_line_begin(q->out, "OK");
	pat_line_fieldu(q->out, "id", rec->id);
	pat_line_field(q->out, "token", text);
	pat_line_field(q->out, "user", rec->user);
	pat_line_field(q->out, "role", rec->role);
	pat_line_field(q->out, "name", rec->name);
	pat_line_fieldi(q->out, "expires", rec->expires);
	if (from != NULL)	/* patd chose the expiry, not the caller */
		pat_line_field(q->out, "expires_by", from);
	pat_line_field(q->out, "by", rec->by);
	pat_line_fieldu(q->out, "parent", rec->parent);
	pat_line_field(q->out, "perms", perms);
	pat_line_field(q->out, "bind_from", rec->bind_from);
	pat_line_field(q->out, "bind_service", rec->bind_service);
	pat_line_fieldu(q->out, "bind_uses", rec->uses);
	pat_line_field(q->out, "stripped", st ? st->all : "");
	pat_line_field(q->out, "stripped_owner", st ? st->owner : "");
	pat_line_field(q->out, "stripped_cap", st ? st->cap : "");
	r = pat_line_end(q->out);
out:
	sodium_memzero(text, sizeof(text));
	free(perms);
	return r;
}

static int
join_add(char *out, size_t n, const char *v)
{
	size_t len = strlen(out);

	if (len + strlen(v) + 2 > n)
		return -E2BIG;
	snprintf(out + len, n - len, "%s%s", len ? "," : "", v);
	return 0;
}

/*
 * Role members not wholly kept by eff, comma-joined, and split by why: the
 * creator's cap is fixed for the token's life, so what it lacks never
 * applies (cap); the rest was cut by the owner, whose permissions count
 * at every use, so it applies once the user is granted it (owner).
 */
static int
stripped_lists(const struct pat_permset *role, const struct pat_permset *cap,
    const struct pat_permset *eff, struct stripped *st)
{
	size_t i;
	int r;

	st->all[0] = st->owner[0] = st->cap[0] = '\0';
	for (i = 0; i < role->n; i++) {
		if (pat_permset_covers(eff, role->v[i]))
			continue;
		if ((r = join_add(st->all, sizeof(st->all), role->v[i])) < 0 ||
		    (r = pat_permset_covers(cap, role->v[i]) ?
		    join_add(st->owner, sizeof(st->owner), role->v[i]) :
		    join_add(st->cap, sizeof(st->cap), role->v[i])) < 0)
			return r;
	}
	return 0;
}

/*
 * What one user, or one stolen token, may make patd keep: creations per
 * uid per window (root and patd are trusted with bulk work), room left
 * for revocations and admin changes, chain depth, live tokens per user and
 * live children per token.  0 when the creation may go on, 1 refused.
 */
static int
within_bounds(struct req *q, MDB_txn *txn, uid_t uid, const char *user,
    bool replacing)
{
	struct patd *d = q->d;
	size_t used, map, n;
	char key[RL_KEY_MAX];
	int64_t wait;
	int r;

	snprintf(key, sizeof(key), "uid:%u", (unsigned)q->p->uid);
	if (!q->super && (wait = rl_wait(&d->rl_create, key, q->now,
	    NULL)) > 0)
		return reply_limited(q, wait, "too many tokens created by uid "
		    "%u lately (create_limit %u per %lld s); try again in "
		    "%lld s", (unsigned)q->p->uid, d->rl_create.limit,
		    (long long)d->rl_create.window, (long long)wait);
	if ((r = store_used_bytes(d->store, d->reserve_bytes, &used,
	    &map)) < 0)
		return r;
	if (used + d->reserve_bytes > map) {
		if (refusal_log_ok(d, q->p->uid, q->now))
			log_warn("the store is full but for its reserve (%zu of "
			    "%zu bytes used): new tokens refused, revocations "
			    "and admin changes still go", used, map);
		return reply_err(q, "store-full", "the store is nearly full; "
		    "its last %zu KiB are kept for revocations and admin "
		    "changes (raise map_size_mb in patd.conf)",
		    d->reserve_bytes >> 10);
	}
	if (replacing)
		return 0;
	if (q->has_cred && q->cred.depth + 1 > d->max_depth)
		return reply_err(q, "quota-exceeded", "token %llu is already "
		    "%u tokens below its root: a child would pass "
		    "max_token_depth %u", (unsigned long long)q->cred.id,
		    q->cred.depth, d->max_depth);
	if ((r = store_live_count(d->store, txn, (uint32_t)uid, q->now,
	    d->max_user_tokens, &n)) < 0)
		return r;
	if (n >= d->max_user_tokens)
		return reply_err(q, "quota-exceeded", "%s already has %zu "
		    "active tokens (max_tokens_per_user); revoke some first",
		    user, n);
	if (q->has_cred && ((r = store_kids_count(d->store, txn, q->cred.id,
	    q->now, d->max_children, &n)) < 0))
		return r;
	if (q->has_cred && n >= d->max_children)
		return reply_err(q, "quota-exceeded", "token %llu already has "
		    "%zu active children (max_children_per_token); revoke "
		    "some first", (unsigned long long)q->cred.id, n);
	return 0;
}

/* One more creation against the peer's create_limit. */
static void
count_create(struct req *q)
{
	char key[RL_KEY_MAX];

	if (q->super)
		return;
	snprintf(key, sizeof(key), "uid:%u", (unsigned)q->p->uid);
	rl_fail(&q->d->rl_create, key, q->now);
}

/*
 * The role's lifetime policy at creation: an expiry asked for (asked; 0 is
 * never) beyond max_lifetime is refused, saying the limit; none asked for
 * gets default_lifetime, else max_lifetime (a token that never expires
 * would exceed it), and *from says which.  0, or 1 when refused.
 */
static int
lifetime(struct req *q, const char *role, const struct role_policy *pol,
    bool asked, long long *expires, const char **from)
{
	char d1[48], d2[48], d3[48], tb[40];
	struct tm tm;
	time_t t;

	if (asked && pol->max_lifetime != 0 && (*expires == 0 ||
	    *expires - q->now > pol->max_lifetime)) {
		pat_duration_words(pol->max_lifetime, d1, sizeof(d1));
		pat_duration_words(pol->default_lifetime ?
		    pol->default_lifetime : pol->max_lifetime, d3, sizeof(d3));
		if (*expires == 0)
			return reply_err(q, "policy-exceeded", "role %s allows "
			    "tokens of at most %s; one that never expires "
			    "would exceed it: ask for %s or less, or leave the "
			    "expiry out to get %s", role, d1, d1, d3);
		t = (time_t)*expires;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M UTC", &tm) == 0)
			snprintf(tb, sizeof(tb), "%lld", *expires);
		return reply_err(q, "policy-exceeded", "role %s allows tokens "
		    "of at most %s; the expiry asked for, %s, is %s away: ask "
		    "for %s or less, or leave the expiry out to get %s", role,
		    d1, tb, pat_duration_words(*expires - q->now, d2,
		    sizeof(d2)), d1, d3);
	}
	if (asked)
		return 0;
	if (pol->default_lifetime != 0) {
		*expires = q->now + pol->default_lifetime;
		*from = "default_lifetime";
	} else if (pol->max_lifetime != 0) {
		*expires = q->now + pol->max_lifetime;
		*from = "max_lifetime";
	}
	return 0;
}

/*
 * CREATE's binding (bind_from=, bind_service=) into rec: a child of a
 * token inherits what it leaves out and may only narrow what it gives
 * (every network within one of its parent's, every service one of its
 * parent's).  0, or 1 when refused.
 */
static int
binding(struct req *q, struct tok_rec *rec)
{
	const char *from = pat_msg_get(q->m, "bind_from");
	const char *svc = pat_msg_get(q->m, "bind_service");
	const char *uses = pat_msg_get(q->m, "bind_uses");
	const struct tok_rec *up = q->has_cred ? &q->cred : NULL;
	char why[128], bad[72];
	long long n;

	if (from != NULL && bind_from_parse(from, rec->bind_from,
	    sizeof(rec->bind_from), why, sizeof(why)) < 0)
		return reply_err(q, "bad-binding", "the networks to bind to "
		    "(--from, bind_from=): %s", why);
	if (svc != NULL && bind_service_parse(svc, rec->bind_service,
	    sizeof(rec->bind_service), why, sizeof(why)) < 0)
		return reply_err(q, "bad-binding", "the services to bind to "
		    "(--service, bind_service=): %s", why);
	if (uses != NULL && (pat_parse_i64(uses, &n) < 0 || n < 1 ||
	    n > STORE_USES_MAX))
		return reply_err(q, "bad-binding", "the number of uses "
		    "(--uses, bind_uses=) must be 1 to %d", STORE_USES_MAX);
	rec->uses = uses != NULL ? (uint32_t)n : 0;
	if (up == NULL)
		return 0;
	/* its uses are counted per token: children would multiply them */
	if (up->uses != 0)
		return reply_err(q, "denied", "token %llu may be verified %u "
		    "times: it cannot create tokens", (unsigned long long)up->id,
		    (unsigned)up->uses);
	if (from == NULL)
		memcpy(rec->bind_from, up->bind_from, sizeof(rec->bind_from));
	else if (!bind_from_within(rec->bind_from, up->bind_from, bad,
	    sizeof(bad)))
		return reply_err(q, "denied", "%s is not within the networks "
		    "token %llu is bound to (%s): a child may only narrow its "
		    "parent's binding", bad, (unsigned long long)up->id,
		    up->bind_from);
	if (svc == NULL)
		memcpy(rec->bind_service, up->bind_service,
		    sizeof(rec->bind_service));
	else if (!bind_service_within(rec->bind_service, up->bind_service,
	    bad, sizeof(bad)))
		return reply_err(q, "denied", "service %s is not one token "
		    "%llu is bound to (%s): a child may only narrow its "
		    "parent's binding", bad, (unsigned long long)up->id,
		    up->bind_service);
	return 0;
}

int
verb_create(struct req *q, MDB_txn *txn)
{
	const char *role = pat_msg_get(q->m, "role");
	const char *name = pat_msg_get(q->m, "name");
	const char *exp = pat_msg_get(q->m, "expires");
	const char *user = pat_msg_get(q->m, "user");
	struct pat_permset rperms, owner, cap, ro, eff;
	struct stripped *st = NULL;
	struct role_policy pol;
	const char *from = NULL;
	char *captext = NULL;
	struct tok_rec rec;
	struct passwd *pw;
	long long expires = 0;
	uid_t uid;
	gid_t gid;
	int r;

	if (role == NULL || !valid_role_name(role))
		return reply_err(q, "bad-request", "CREATE needs role=NAME");
	/* shown on admins' terminals and in scripts' JSON: plain text only */
	if (name != NULL && !pat_token_name_valid(name))
		return reply_err(q, "bad-request", "name= must be at most %d "
		    "printable ASCII characters (spaces allowed)",
		    STORE_NAME_MAX);
	if (exp != NULL && (pat_parse_i64(exp, &expires) < 0 ||
	    (expires != 0 && expires <= q->now)))
		return reply_err(q, "bad-request", "expires= must be a time "
		    "in the future (seconds since 1970) or 0 for never");
	if (user == NULL)
		user = q->user;
	if (user[0] == '\0' || !valid_user_name(user))
		return reply_err(q, "bad-request", "no valid user to create "
		    "the token for");
	/* a token made by a token or a session is its creator's child, capped
	 * by it: only for its creator's own user; pat.admin does not change
	 * that */
	if (strcmp(user, q->user) != 0 && (!q->super || q->has_cred ||
	    q->has_session))
		return reply_err(q, "denied", "a token for another user (%s) "
		    "is created by root only, and without a token or session: "
		    "run patctl create --user %s as root, without "
		    "--auth-from-stdin (pat.admin does not allow it)", user,
		    user);
	if (!q->super && !q->has_cred && !q->has_session)
		return need_credential(q, "auth-required", "creating a token "
		    "needs a login session (patctl login) or an existing token "
		    "of yours (patctl create --parent-from-stdin)");
	if ((pw = getpwnam(user)) == NULL)
		return reply_err(q, "not-found", "no such user: %s", user);
	uid = pw->pw_uid;	/* pw is static: keep what we need */
	gid = pw->pw_gid;
	if ((r = within_bounds(q, txn, uid, user, false)) != 0)
		return r;

	memset(&rec, 0, sizeof(rec));
	pat_permset_init(&rperms);
	pat_permset_init(&owner);
	pat_permset_init(&cap);
	pat_permset_init(&ro);
	pat_permset_init(&eff);
	if ((r = store_role_get(q->d->store, txn, role, &rperms)) == -ENOENT) {
		r = reply_err(q, "not-found", "no role named %s (see patctl "
		    "role list)", role);
		goto out;
	}
	if (r < 0 || (r = access_user_perms_gid(q->d, txn, user, gid,
	    &owner)) < 0 || (r = store_policy_get(q->d->store, txn, role,
	    &pol)) < 0)
		goto out;
	if ((r = lifetime(q, role, &pol, exp != NULL, &expires, &from)) != 0)
		goto out;
	if (q->has_cred) {
		/* created with a token: a child of it, capped by it */
		if ((r = pat_permset_union(&cap, &q->cred_perms)) < 0)
			goto out;
		snprintf(rec.by, sizeof(rec.by), "pat:%llu",
		    (unsigned long long)q->cred.id);
		rec.parent = q->cred.id;
		/* a child never outlives its parent: its expiry, or its
		 * role's max_lifetime (access_check_token set ends) */
		if (q->cred.ends != 0 &&
		    (expires == 0 || expires > q->cred.ends)) {
			expires = q->cred.ends;
			from = "parent";
		}
	} else {
		/* root's credential, or a session (the user's own permissions,
		 * checked now and at every use): the owner caps it */
		if ((r = pat_permset_add(&cap, "*")) < 0)
			goto out;
		if (q->has_session)
			snprintf(rec.by, sizeof(rec.by), "session:%.8s",
			    q->session.jti);
		else
			snprintf(rec.by, sizeof(rec.by), "%s", q->p->uid == 0 ?
			    "root" : "patd");
	}
	if ((r = binding(q, &rec)) != 0)
		goto out;
	if ((r = pat_permset_intersect(&rperms, &owner, &ro)) < 0 ||
	    (r = pat_permset_intersect(&ro, &cap, &eff)) < 0)
		goto out;
	if (eff.n == 0) {
		r = reply_err(q, "empty-permissions", "role %s grants nothing "
		    "that %s%s holds; nothing would remain", role, user,
		    q->super ? "" : " with this token");
		goto out;
	}
	if ((st = malloc(sizeof(*st))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = stripped_lists(&rperms, &cap, &eff, st)) < 0)
		goto out;
	if ((captext = pat_permset_join(&cap)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (strlen(captext) > STORE_CAP_MAX) {
		r = reply_err(q, "too-large", "the creating token holds too "
		    "many permissions to record");
		goto out;
	}
	if ((r = next_token_id(q, txn, &rec.id)) != 0)
		goto out;
	rec.uid = uid;
	rec.created = q->now;
	rec.expires = expires;
	snprintf(rec.user, sizeof(rec.user), "%s", user);
	snprintf(rec.name, sizeof(rec.name), "%s", name ? name : "");
	snprintf(rec.role, sizeof(rec.role), "%s", role);
	strcpy(rec.cap, captext);
	if ((r = issue_token(q, txn, &rec, &eff, st, from)) == 0)
		count_create(q);
	if (r == 0)
		log_event("create", "id=%llu user=%s role=%s by=%s peer_uid=%u "
		    "expires=%lld stripped=%s expires_by=%s",
		    (unsigned long long)rec.id, rec.user, rec.role, rec.by,
		    (unsigned)q->p->uid, (long long)rec.expires,
		    st->all[0] ? st->all : "-", from ? from : "asked");
out:
	free(st);
	free(captext);
	pat_permset_free(&rperms);
	pat_permset_free(&owner);
	pat_permset_free(&cap);
	pat_permset_free(&ro);
	pat_permset_free(&eff);
	return r;
}

struct idlist {
	uint64_t	*v;
	size_t		 n, cap;
};

static int
collect_id(uint64_t id, void *arg)
{
	struct idlist *l = arg;
	uint64_t *nv;

	if (l->n == MOVE_MAX)
		return -E2BIG;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL)
			return -ENOMEM;
		l->v = nv;
	}
	l->v[l->n++] = id;
	return 0;
}

/* One LIST page and one id more (to know there is a next page): no walk
 * past that, however many tokens follow. */
static int
collect_page(uint64_t id, void *arg)
{
	struct idlist *l = arg;

	if (l->n == LIST_LIMIT + 1)
		return 1;
	return collect_id(id, arg);
}

int
verb_rotate(struct req *q, MDB_txn *txn)
{
	const char *token = pat_msg_get(q->m, "token");
	struct idlist kids = { 0 };
	struct pat_permset eff;
	struct tok_rec old, rec, kid;
	size_t i;
	int v, r;

	if (token == NULL)
		return reply_err(q, "bad-request", "ROTATE needs token=");
	pat_permset_init(&eff);
	v = access_check_token(q->d, txn, token, q->now, &old, &eff);
	if (v < 0)
		return v;
	if (v == TOK_OK && old.uid != q->p->uid && !q->super)
		v = TOK_INVALID;
	if (v != TOK_OK) {
		pat_permset_free(&eff);
		return reply_err(q, tok_verdict_code(v), "only a valid token "
		    "of yours can be rotated");
	}
	/* a counted token's uses stay its own: a replacement would start
	 * counting again */
	if (old.uses != 0) {
		pat_permset_free(&eff);
		return reply_err(q, "denied", "token %llu may be verified %u "
		    "times: it cannot be rotated (create a new one)",
		    (unsigned long long)old.id, (unsigned)old.uses);
	}
	/* the replacement takes the old token's place: same owner, role,
	 * name, cap, parent and expiry; the old one's live children move to
	 * it; no new place is counted against the quotas */
	if ((r = within_bounds(q, txn, old.uid, old.user, true)) != 0) {
		pat_permset_free(&eff);
		return r;
	}
	rec = old;
	rec.revoked = 0;
	rec.created = q->now;
	snprintf(rec.by, sizeof(rec.by), "rotate:%llu",
	    (unsigned long long)old.id);
	if ((r = next_token_id(q, txn, &rec.id)) != 0 ||
	    (r = store_live_kids(q->d->store, txn, old.id, collect_id,
	    &kids)) < 0)
		goto out;
	if ((r = issue_token(q, txn, &rec, &eff, NULL, NULL)) < 0)
		goto out;
	for (i = 0; i < kids.n; i++) {
		if ((r = store_token_get(q->d->store, txn, kids.v[i], &kid)) < 0)
			goto out;
		kid.parent = rec.id;
		if ((r = store_token_put(q->d->store, txn, &kid, old.id)) < 0 ||
		    (r = note_token(q, kid.id, false)) < 0)
			goto out;
	}
	old.revoked = q->now;
	if ((r = store_token_put(q->d->store, txn, &old, 0)) < 0 ||
	    (r = store_rotated_put(q->d->store, txn, old.id, rec.id)) < 0 ||
	    (r = note_token(q, old.id, false)) < 0)
		goto out;
	count_create(q);
	log_event("rotate", "id=%llu old_id=%llu user=%s peer_uid=%u",
	    (unsigned long long)rec.id, (unsigned long long)old.id, rec.user,
	    (unsigned)q->p->uid);
out:
	free(kids.v);
	pat_permset_free(&eff);
	return r;
}

/* Resolve which uid a LIST or REVOKE --all is about; 1 when refused. */
static int
target_uid(struct req *q, const char *what, uint32_t *uid)
{
	const char *user = pat_msg_get(q->m, "user");
	struct passwd *pw;

	if (user == NULL || strcmp(user, q->user) == 0) {
		*uid = q->p->uid;
		return 0;
	}
	if (need_admin(q, what) != 0)
		return 1;
	if ((pw = getpwnam(user)) == NULL)
		return reply_err(q, "not-found", "no such user: %s", user);
	*uid = pw->pw_uid;
	return 0;
}

int
verb_list(struct req *q, MDB_txn *txn)
{
	const char *all = pat_msg_get(q->m, "all");
	const char *after_s = pat_msg_get(q->m, "after");
	struct idlist ids = { 0 };
	unsigned long long after = 0;
	struct tok_rec rec;
	uint32_t uid;
	size_t i, shown = 0;
	int r;

	if (after_s != NULL && pat_parse_u64(after_s, PAT_TOKEN_ID_MAX,
	    &after) < 0)
		return reply_err(q, "bad-request", "after= must be a token id");
	if (all != NULL && strcmp(all, "1") == 0) {
		if (need_admin(q, "listing every token") != 0)
			return 1;
		r = store_tokens_all(q->d->store, txn, after, collect_page,
		    &ids);
	} else {
		if ((r = target_uid(q, "listing another user's tokens",
		    &uid)) != 0)
			return r;
		r = store_tokens_of_uid(q->d->store, txn, uid, after,
		    collect_page, &ids);
	}
	if (r == 1)
		r = 0;	/* a page and one more: there is a next page */
	for (i = 0; r == 0 && i < ids.n && shown < LIST_LIMIT; i++) {
		if ((r = store_token_get(q->d->store, txn, ids.v[i], &rec)) < 0)
			break;
		pat_line_begin(q->out, "ITEM");
		put_token_fields(q, txn, &rec);
		r = pat_line_end(q->out);
		shown++;
	}
	if (r == 0) {
		pat_line_begin(q->out, "OK");
		pat_line_fieldu(q->out, "count", shown);
		if (shown < ids.n)	/* more to come: page with after= */
			pat_line_fieldu(q->out, "next", ids.v[shown - 1]);
		r = pat_line_end(q->out);
	}
	free(ids.v);
	return r;
}

/* Why a role member is or is not in force, as a PERM line. */
static int
explain(struct req *q, const char *member, const char *state,
    const struct pat_permset *owner, const struct pat_permset *cap)
{
	struct pat_permset one, via_owner, kept;
	const char *status, *by = "";
	char *keptj = NULL;
	int r;

	pat_permset_init(&one);
	pat_permset_init(&via_owner);
	pat_permset_init(&kept);
	if ((r = pat_permset_add(&one, member)) < 0 ||
	    (r = pat_permset_intersect(&one, owner, &via_owner)) < 0 ||
	    (r = pat_permset_intersect(&via_owner, cap, &kept)) < 0 ||
	    (keptj = pat_permset_join(&kept)) == NULL) {
		r = r ? r : -ENOMEM;
		goto out;
	}
	if (strcmp(state, "active") != 0) {
		/* a revoked or expired token has nothing in force */
		status = "removed";
		by = state;
		free(keptj);
		if ((keptj = strdup("")) == NULL) {
			r = -ENOMEM;
			goto out;
		}
	} else if (pat_permset_covers(&kept, member)) {
		status = "effective";
	} else {
		status = kept.n > 0 ? "narrowed" : "removed";
		/* the owner is the first filter; what it keeps, the cap cut */
		by = pat_permset_covers(&via_owner, member) ? "creator" :
		    "owner";
	}
	pat_line_begin(q->out, "PERM");
	pat_line_field(q->out, "perm", member);
	pat_line_field(q->out, "status", status);
	if (*by)
		pat_line_field(q->out, "by", by);
	pat_line_field(q->out, "effective", keptj);
	r = pat_line_end(q->out);
out:
	free(keptj);
	pat_permset_free(&one);
	pat_permset_free(&via_owner);
	pat_permset_free(&kept);
	return r;
}

int
verb_show(struct req *q, MDB_txn *txn)
{
	const char *id_s = pat_msg_get(q->m, "id");
	struct pat_permset role, owner, cap, eff;
	unsigned long long id;
	struct tok_rec rec;
	const char *state;
	char *effj = NULL, note[200];
	size_t i;
	int r;

	if (pat_parse_u64(id_s, PAT_TOKEN_ID_MAX, &id) < 0 || id == 0)
		return reply_err(q, "bad-request", "SHOW needs id=N");
	r = store_token_get(q->d->store, txn, id, &rec);
	if (r == -ENOENT || (r == 0 && rec.uid != q->p->uid && !q->admin))
		return reply_err(q, "not-found", "no token %llu of yours%s", id,
		    session_note(q, note, sizeof(note)));
	if (r < 0)
		return r;
	pat_permset_init(&role);
	pat_permset_init(&owner);
	pat_permset_init(&cap);
	pat_permset_init(&eff);
	if ((r = access_effective(q->d, txn, &rec, &role, &owner, &cap,
	    &eff)) < 0)
		goto out;
	state = token_state(q, txn, &rec);
	for (i = 0; i < role.n && r == 0; i++)
		r = explain(q, role.v[i], state, &owner, &cap);
	if (r < 0)
		goto out;
	if (strcmp(state, "active") != 0)
		pat_permset_free(&eff);
	if ((effj = pat_permset_join(&eff)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	pat_line_begin(q->out, "OK");
	put_token_fields(q, txn, &rec);
	pat_line_field(q->out, "perms", effj);
	pat_line_field(q->out, "cap", rec.cap);
	r = pat_line_end(q->out);
out:
	free(effj);
	pat_permset_free(&role);
	pat_permset_free(&owner);
	pat_permset_free(&cap);
	pat_permset_free(&eff);
	return r;
}

/* Revoke the named token at once, queue what lies below, and mark as much
 * of that as the request's budget allows; the rest is swept later (and is
 * refused meanwhile: access_lineage).  reason: for the directory, in fleet
 * mode (NULL: none). */
static int
revoke_token(struct req *q, MDB_txn *txn, struct tok_rec *rec,
    const char *reason, size_t *count)
{
	int r;

	/* already revoked: its subtree was queued then (or marked by the
	 * sweep that marked it), so asking again costs nothing */
	if (rec->revoked != 0)
		return 0;
	rec->revoked = q->now;
	if ((r = store_token_put(q->d->store, txn, rec, 0)) < 0)
		return r;
	/* fleet mode: held here from now on, and sent to the provider
	 * (the outbox commits with the revocation) */
	if (q->d->fleet != NULL && (r = store_fleetq_put(q->d->store, txn,
	    rec->id, rec->revoked, reason)) < 0)
		return r;
	(*count)++;
	return sweep_enqueue(q->d, txn, 'T', rec->id, 0);
}

/*
 * As much of the sweep as one request's budget allows, in a transaction of
 * its own: when even that finds no room (a store full to its reserve), the
 * revocation itself still commits and the background takes the rest.
 */
static int
sweep_inline(struct req *q, MDB_txn *txn, size_t *count, bool *more)
{
	MDB_txn *sub;
	size_t marked = 0;
	int r;

	if ((r = store_begin_child(q->d->store, txn, &sub)) < 0)
		return r;
	r = sweep_run(q->d, sub, q->now, SWEEP_BATCH, &marked, more);
	if (r == 0)
		r = store_commit(sub);	/* gone either way */
	else
		store_abort(sub);
	if (r == 0)
		*count += marked;
	else if (r == -ENOSPC)
		*more = true;	/* the background tries again */
	return r == -ENOSPC ? 0 : r;
}


/* 0 and *into (0 when it was revoked, not rotated), or -errno: one read,
 * whatever the number of the user's tokens (ROTATE records the link). */
static int
rotated_into(struct req *q, MDB_txn *txn, const struct tok_rec *old,
    uint64_t *into)
{
	return store_rotated_get(q->d->store, txn, old->id, into);
}

/* REVOKE of a token already revoked: nothing changes; say how it went. */
static int
already_revoked(struct req *q, MDB_txn *txn, const struct tok_rec *rec)
{
	uint64_t into;
	int r;

	if ((r = rotated_into(q, txn, rec, &into)) < 0)
		return r;
	log_event("revoke", "id=%llu uid=%u peer_uid=%u revoked=0 already=%s",
	    (unsigned long long)rec->id, (unsigned)rec->uid,
	    (unsigned)q->p->uid, into ? "rotated" : "revoked");
	pat_line_begin(q->out, "OK");
	pat_line_fieldu(q->out, "revoked", 0);
	pat_line_field(q->out, "already", into ? "rotated" : "revoked");
	pat_line_fieldi(q->out, "revoked_at", rec->revoked);
	if (into)
		pat_line_fieldu(q->out, "rotated_into", into);
	return pat_line_end(q->out);
}

#define REUSE_CHAIN_MAX	64	/* rotations followed to the family's head */

int
reuse_target(struct req *q, MDB_txn *txn, const struct tok_rec *rec,
    uint64_t *target)
{
	struct tok_rec cur;
	uint64_t into;
	int r, i;

	if ((r = store_rotated_get(q->d->store, txn, rec->id, &into)) < 0)
		return r;
	/* revoked, not rotated; or presented within the grace period */
	if (into == 0 || q->now < rec->revoked + q->d->rotation_grace)
		return 0;
	for (i = 0; i < REUSE_CHAIN_MAX && into != 0; i++) {
		r = store_token_get(q->d->store, txn, into, &cur);
		if (r == -ENOENT)
			return 0;	/* purged: nothing left of the family */
		if (r < 0)
			return r;
		if (cur.revoked == 0) {
			sodium_memzero(&cur, sizeof(cur));
			*target = into;
			return 1;
		}
		if ((r = store_rotated_get(q->d->store, txn, cur.id, &into)) < 0)
			return r;
	}
	sodium_memzero(&cur, sizeof(cur));
	return 0;		/* the family is revoked already */
}

int
revoke_for(struct req *q, MDB_txn *txn, uint64_t id, const char *reason,
    size_t *count, bool *more)
{
	struct tok_rec rec;
	int r;

	*more = false;
	if ((r = store_token_get(q->d->store, txn, id, &rec)) == 0 &&
	    (r = revoke_token(q, txn, &rec, reason, count)) == 0 &&
	    (r = store_reason_put(q->d->store, txn, id, reason)) == 0 &&
	    (r = sweep_inline(q, txn, count, more)) == 0)
		q->d->sweep_pending |= *more;
	sodium_memzero(&rec, sizeof(rec));
	return r;
}

/*
 * REVOKE token=: whoever holds a token's secret may revoke it, with no
 * other credential (the fastest answer to a leak is whoever found it).
 * Revoking is less than what the secret already allows, so nothing is
 * gained; a wrong secret is a guess like VERIFY's and counts against the
 * peer's uid, under the same limit.
 */
static int
revoke_reported(struct req *q, MDB_txn *txn, const char *token)
{
	struct tok_rec rec;
	char key[RL_KEY_MAX];
	size_t count = 0;
	bool more;
	int r, v;

	snprintf(key, sizeof(key), "uid:%u", (unsigned)q->p->uid);
	if (!q->super && rl_blocked(&q->d->rl, key, q->now))
		return reply_err(q, "rate-limited", "too many failures; wait "
		    "a minute");
	v = access_check_secret(q->d, txn, token, &rec);
	if (v < 0)
		return v;
	if (v != TOK_OK) {
		if (v != TOK_MALFORMED)
			rl_fail(&q->d->rl, key, q->now);
		if (refusal_log_ok(q->d, q->p->uid, q->now))
			log_event("revoke", "result=refused reason=%s "
			    "peer_uid=%u", tok_verdict_code(v),
			    (unsigned)q->p->uid);
		return reply_err(q, tok_verdict_code(v), "%s",
		    v == TOK_MALFORMED ? "not a well-formed token (bad shape "
		    "or checksum)" : "unknown token or wrong secret");
	}
	if (rec.revoked != 0)
		return already_revoked(q, txn, &rec);
	if ((r = revoke_for(q, txn, rec.id, "reported", &count, &more)) < 0)
		return r;
	log_event("revoke", "id=%llu uid=%u peer_uid=%u reason=reported "
	    "revoked=%zu pending=%s", (unsigned long long)rec.id,
	    (unsigned)rec.uid, (unsigned)q->p->uid, count,
	    more ? "yes" : "no");
	pat_line_begin(q->out, "OK");
	pat_line_fieldu(q->out, "revoked", count);
	pat_line_fieldu(q->out, "id", rec.id);
	if (more)
		pat_line_field(q->out, "pending", "1");
	return pat_line_end(q->out);
}

/* Fleet mode's REVOKE all=1: every live token of uid, one by one. */
static int
revoke_live(struct req *q, MDB_txn *txn, uint32_t uid, size_t *count)
{
	struct idlist ids = { 0 };
	struct tok_rec rec;
	uint64_t after = 0;
	size_t i;
	int r;

	do {
		ids.n = 0;
		r = store_live_of_uid(q->d->store, txn, uid, after, collect_page,
		    &ids);
		if (r < 0)
			break;
		r = 0;
		for (i = 0; r == 0 && i < ids.n && i < LIST_LIMIT; i++) {
			after = ids.v[i];
			if ((r = store_token_get(q->d->store, txn, ids.v[i],
			    &rec)) == 0)
				r = revoke_token(q, txn, &rec, NULL, count);
			else if (r == -ENOENT)
				r = 0;
		}
	} while (r == 0 && ids.n > LIST_LIMIT);
	sodium_memzero(&rec, sizeof(rec));
	free(ids.v);
	return r;
}

int
verb_revoke(struct req *q, MDB_txn *txn)
{
	const char *id_s = pat_msg_get(q->m, "id");
	const char *all = pat_msg_get(q->m, "all");
	unsigned long long id = 0;
	struct tok_rec rec;
	char note[200];
	size_t count = 0;
	uint64_t limit;
	uint32_t uid;
	bool more;
	int r;

	if (pat_msg_get(q->m, "token") != NULL) {
		if (id_s != NULL || all != NULL)
			return reply_err(q, "bad-request", "REVOKE takes one "
			    "of id=, all=1 or token=");
		return revoke_reported(q, txn, pat_msg_get(q->m, "token"));
	}
	if (all != NULL && strcmp(all, "1") == 0) {
		if ((r = target_uid(q, "revoking another user's tokens",
		    &uid)) != 0)
			return r;
		/* fleet mode: ids are the directory's, so each live token
		 * is revoked by name (and sent on), as many as it has */
		if (q->d->fleet != NULL) {
			if ((r = revoke_live(q, txn, uid, &count)) < 0)
				return r;
			limit = 0;
			goto swept;
		}
		/* every token of uid made so far, in one record: whatever
		 * their number, refused from the next verification on */
		if ((r = store_next_id(q->d->store, txn, &limit)) < 0 ||
		    (r = store_revall_put(q->d->store, txn, uid, limit)) < 0 ||
		    (r = sweep_enqueue(q->d, txn, 'U', uid, limit)) < 0)
			return r;
	} else {
		if (pat_parse_u64(id_s, PAT_TOKEN_ID_MAX, &id) < 0 || id == 0)
			return reply_err(q, "bad-request", "REVOKE needs id=N "
			    "or all=1");
		r = store_token_get(q->d->store, txn, id, &rec);
		if (r == -ENOENT || (r == 0 && rec.uid != q->p->uid &&
		    !q->admin))
			return reply_err(q, "not-found", "no token %llu of "
			    "yours%s", id, session_note(q, note, sizeof(note)));
		if (r < 0)
			return r;
		if (rec.revoked != 0)
			return already_revoked(q, txn, &rec);
		if ((r = revoke_token(q, txn, &rec, NULL, &count)) < 0)
			return r;
		uid = rec.uid;
	}
swept:
	if ((r = sweep_inline(q, txn, &count, &more)) < 0)
		return r;
	q->d->sweep_pending |= more;
	if (id != 0)
		log_event("revoke", "id=%llu uid=%u peer_uid=%u revoked=%zu "
		    "pending=%s", id, (unsigned)uid, (unsigned)q->p->uid,
		    count, more ? "yes" : "no");
	else
		log_event("revoke", "all=1 uid=%u below_id=%llu peer_uid=%u "
		    "revoked=%zu pending=%s", (unsigned)uid,
		    (unsigned long long)limit, (unsigned)q->p->uid, count,
		    more ? "yes" : "no");
	pat_line_begin(q->out, "OK");
	pat_line_fieldu(q->out, "revoked", count);
	/* the rest is refused already and marked in the background */
	if (more)
		pat_line_field(q->out, "pending", "1");
	return pat_line_end(q->out);
}
