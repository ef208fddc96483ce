/* verbs_role.c - ROLE-SET, ROLE-DELETE, ROLE-LIST, ROLE-SHOW, GRANT, UNGRANT. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "log.h"
#include "names.h"
#include "verbs.h"


static int
role_arg(struct req *q, const char *key, const char **name)
{
	*name = pat_msg_get(q->m, key);
	if (*name == NULL || !valid_role_name(*name))
		return reply_err(q, "bad-request", "%s= must be a role name "
		    "(letters, digits, '.', '_', '-'; at most %d)", key,
		    STORE_ROLE_MAX);
	return 0;
}

/* One duration field of ROLE-SET: seconds, 0 or absent for none. */
static int
seconds_arg(struct req *q, const char *key, int64_t *out)
{
	const char *v = pat_msg_get(q->m, key);
	unsigned long long n = 0;

	if (v != NULL && pat_parse_u64(v, PAT_DURATION_MAX, &n) < 0)
		return reply_err(q, "bad-request", "%s= must be a number of "
		    "seconds from 0 (none) to %lld", key,
		    (long long)PAT_DURATION_MAX);
	*out = (int64_t)n;
	return 0;
}

/* The policy fields of ROLE-SET; 1 when refused. */
static int
policy_args(struct req *q, struct role_policy *p)
{
	char d1[48], d2[48];
	int r;

	if ((r = seconds_arg(q, "max_lifetime", &p->max_lifetime)) != 0 ||
	    (r = seconds_arg(q, "default_lifetime",
	    &p->default_lifetime)) != 0 ||
	    (r = seconds_arg(q, "max_idle", &p->max_idle)) != 0)
		return r;
	if (p->max_lifetime != 0 && p->default_lifetime > p->max_lifetime)
		return reply_err(q, "bad-request", "default_lifetime (%s) is "
		    "longer than max_lifetime (%s): a token without an expiry "
		    "would be refused", pat_duration_words(p->default_lifetime,
		    d1, sizeof(d1)), pat_duration_words(p->max_lifetime, d2,
		    sizeof(d2)));
	return 0;
}

/* max_lifetime= default_lifetime= max_idle= of an answer line. */
static void
put_policy(struct pat_buf *o, const struct role_policy *p)
{
	pat_line_fieldi(o, "max_lifetime", p->max_lifetime);
	pat_line_fieldi(o, "default_lifetime", p->default_lifetime);
	pat_line_fieldi(o, "max_idle", p->max_idle);
}

int
verb_role_set(struct req *q, MDB_txn *txn)
{
	const char *name, *list = pat_msg_get(q->m, "perms");
	struct role_policy pol;
	struct pat_permset set;
	int r;

	if ((r = need_admin(q, "editing roles")) != 0 ||
	    (r = role_arg(q, "name", &name)) != 0 ||
	    (r = policy_args(q, &pol)) != 0)
		return r;
	pat_permset_init(&set);
	if (list == NULL || pat_permset_add_list(&set, list) < 0 ||
	    set.n == 0 || set.n > PAT_ROLE_PERMS_MAX) {
		pat_permset_free(&set);
		return reply_err(q, "bad-request", "perms= must list 1 to %d "
		    "permissions such as pam.sshd, svc.billing:read or pam.*",
		    PAT_ROLE_PERMS_MAX);
	}
	/* before it can be committed: from now on the verify path reads
	 * policies (a ROLE-SET that is then undone costs only reads) */
	if (pol.max_lifetime != 0 || pol.default_lifetime != 0 ||
	    pol.max_idle != 0)
		q->d->no_policies = false;
	/* the role is replaced whole: no field, no policy */
	r = store_role_put(q->d->store, txn, name, &set);
	if (r == 0)
		r = store_policy_put(q->d->store, txn, name, &pol);
	if (r == 0)
		r = note_role(q, name, false);
	/* log the parsed set, not the peer's text: a value must not carry
	 * spaces into the structured log */
	list = pat_permset_join(&set);
	pat_permset_free(&set);
	if (r == -E2BIG)
		r = reply_err(q, "too-large", "the role's permissions are too "
		    "long to store");
	else if (r == 0)
		log_event("role-set", "role=%s perms=%s peer_uid=%u "
		    "max_lifetime=%lld default_lifetime=%lld max_idle=%lld",
		    name, list ? list : "?", (unsigned)q->p->uid,
		    (long long)pol.max_lifetime,
		    (long long)pol.default_lifetime, (long long)pol.max_idle);
	free((char *)list);
	if (r != 0)
		return r;
	pat_line_begin(q->out, "OK");
	pat_line_field(q->out, "name", name);
	return pat_line_end(q->out);
}

int
verb_role_delete(struct req *q, MDB_txn *txn)
{
	const char *name;
	int r;

	if ((r = need_admin(q, "deleting roles")) != 0 ||
	    (r = role_arg(q, "name", &name)) != 0)
		return r;
	r = store_role_del(q->d->store, txn, name);
	if (r == -ENOENT)
		return reply_err(q, "not-found", "no role named %s", name);
	if (r < 0 || (r = note_role(q, name, true)) < 0)
		return r;
	log_event("role-delete", "role=%s peer_uid=%u", name,
	    (unsigned)q->p->uid);
	pat_line_begin(q->out, "OK");
	pat_line_field(q->out, "name", name);
	return pat_line_end(q->out);
}

struct role_walk {
	struct req	*q;
	MDB_txn		*txn;
	const char	*role;
	size_t		 count;
};

static int
put_role(const char *name, const char *perms, void *arg)
{
	struct role_walk *w = arg;
	struct role_policy pol;
	int r;

	if (w->count == LIST_LIMIT)
		return 1;
	if ((r = store_policy_get(w->q->d->store, w->txn, name, &pol)) < 0)
		return r;
	w->count++;
	pat_line_begin(w->q->out, "ITEM");
	pat_line_field(w->q->out, "name", name);
	pat_line_field(w->q->out, "perms", perms);
	put_policy(w->q->out, &pol);
	return pat_line_end(w->q->out) < 0 ? -E2BIG : 0;
}

int
verb_role_list(struct req *q, MDB_txn *txn)
{
	struct role_walk w = { q, txn, NULL, 0 };
	int r;

	/* roles are not secret: users need them to choose one */
	if ((r = store_roles(q->d->store, txn, put_role, &w)) < 0)
		return r;
	pat_line_begin(q->out, "OK");
	pat_line_fieldu(q->out, "count", w.count);
	return pat_line_end(q->out);
}

static int
put_grant(char kind, const char *who, const char *role, void *arg)
{
	struct role_walk *w = arg;

	if (strcmp(role, w->role) != 0)
		return 0;
	if (w->count == LIST_LIMIT)
		return 1;
	w->count++;
	pat_line_begin(w->q->out, "ITEM");
	pat_line_field(w->q->out, kind == 'u' ? "user" : "group", who);
	return pat_line_end(w->q->out) < 0 ? -E2BIG : 0;
}

int
verb_role_show(struct req *q, MDB_txn *txn)
{
	struct role_walk w = { q, txn, NULL, 0 };
	struct role_policy pol;
	struct pat_permset set;
	char *perms;
	int r;

	if ((r = role_arg(q, "name", &w.role)) != 0)
		return r;
	pat_permset_init(&set);
	r = store_role_get(q->d->store, txn, w.role, &set);
	if (r == -ENOENT)
		return reply_err(q, "not-found", "no role named %s", w.role);
	if (r < 0 || (r = store_policy_get(q->d->store, txn, w.role,
	    &pol)) < 0) {
		pat_permset_free(&set);
		return r;
	}
	perms = pat_permset_join(&set);
	pat_permset_free(&set);
	if (perms == NULL)
		return -ENOMEM;
	r = store_grants(q->d->store, txn, 0, NULL, put_grant, &w);
	if (r >= 0) {
		pat_line_begin(q->out, "OK");
		pat_line_field(q->out, "name", w.role);
		pat_line_field(q->out, "perms", perms);
		put_policy(q->out, &pol);
		pat_line_fieldu(q->out, "grants", w.count);
		r = pat_line_end(q->out);
	}
	free(perms);
	return r < 0 ? r : 0;
}

/* Parse role= and exactly one of user= / group=. */
static int
grant_args(struct req *q, const char **role, char *kind, const char **who)
{
	const char *user = pat_msg_get(q->m, "user");
	const char *group = pat_msg_get(q->m, "group");
	int r;

	if ((r = role_arg(q, "role", role)) != 0)
		return r;
	if ((user == NULL) == (group == NULL))
		return reply_err(q, "bad-request", "give exactly one of "
		    "user= and group=");
	*kind = user ? 'u' : 'g';
	*who = user ? user : group;
	if (!valid_user_name(*who))
		return reply_err(q, "bad-request", "not a valid %s name",
		    user ? "user" : "group");
	return 0;
}

int
verb_grant(struct req *q, MDB_txn *txn)
{
	const char *role, *who;
	struct pat_permset set;
	char kind;
	int r;

	if ((r = need_admin(q, "granting roles")) != 0 ||
	    (r = grant_args(q, &role, &kind, &who)) != 0)
		return r;
	pat_permset_init(&set);
	r = store_role_get(q->d->store, txn, role, &set);
	pat_permset_free(&set);
	if (r == -ENOENT)
		return reply_err(q, "not-found", "no role named %s", role);
	if (r < 0)
		return r;
	if (kind == 'u' ? getpwnam(who) == NULL : getgrnam(who) == NULL)
		return reply_err(q, "not-found", "no such %s: %s",
		    kind == 'u' ? "user" : "group", who);
	if ((r = store_grant_put(q->d->store, txn, kind, who, role)) < 0 ||
	    note_grant(q, kind, who, role, false) < 0)
		return r < 0 ? r : -ENOMEM;
	log_event("grant", "role=%s %s=%s peer_uid=%u existed=%d", role,
	    kind == 'u' ? "user" : "group", who, (unsigned)q->p->uid, r);
	pat_line_begin(q->out, "OK");
	/* granting twice is harmless, but the admin should know */
	pat_line_fieldu(q->out, "existed", (unsigned)r);
	return pat_line_end(q->out);
}

int
verb_ungrant(struct req *q, MDB_txn *txn)
{
	const char *role, *who;
	char kind;
	int r;

	if ((r = need_admin(q, "removing grants")) != 0 ||
	    (r = grant_args(q, &role, &kind, &who)) != 0)
		return r;
	r = store_grant_del(q->d->store, txn, kind, who, role);
	if (r == -ENOENT)
		return reply_err(q, "not-found", "%s %s does not hold role %s",
		    kind == 'u' ? "user" : "group", who, role);
	if (r < 0 || (r = note_grant(q, kind, who, role, true)) < 0)
		return r;
	log_event("ungrant", "role=%s %s=%s peer_uid=%u", role,
	    kind == 'u' ? "user" : "group", who, (unsigned)q->p->uid);
	pat_line_begin(q->out, "OK");
	return pat_line_end(q->out);
}
