/* verbs_whoami.c - WHOAMI: the peer's user, roles, permissions and session. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "verbs.h"

/* One ITEM per grant that reaches the user: its own or a group's. */
static int
put_grant(char kind, const char *who, const char *role, void *arg)
{
	struct req *q = arg;

	pat_line_begin(q->out, "ITEM");
	pat_line_field(q->out, "role", role);
	pat_line_field(q->out, "via", kind == 'u' ? "user" : "group");
	if (kind == 'g')
		pat_line_field(q->out, "group", who);
	return pat_line_end(q->out) < 0 ? -E2BIG : 0;
}

/* What a session= given here is, without refusing the request over it:
 * the one verb that reports on a session rather than acting with it. */
static int
session_state(struct req *q, MDB_txn *txn, const char *jwt,
    const char **state, int64_t *exp)
{
	struct jwt_claims c;
	enum jwt_verdict v;
	int r;

	*exp = 0;
	v = jwt_verify(&q->d->jwt, jwt, q->now, &c);
	if ((v != JWT_OK && v != JWT_EXPIRED) || c.uid != q->p->uid) {
		*state = "invalid";
		sodium_memzero(&c, sizeof(c));
		return 0;
	}
	*exp = c.exp;
	if (v == JWT_EXPIRED)
		*state = "expired";
	else if ((r = store_session_revoked(q->d->store, txn, c.jti)) < 0) {
		sodium_memzero(&c, sizeof(c));
		return r;
	} else
		*state = r == 1 ? "logged-out" : "active";
	sodium_memzero(&c, sizeof(c));
	return 0;
}

int
verb_whoami(struct req *q, MDB_txn *txn)
{
	const char *jwt = pat_msg_get(q->m, "session"), *state = NULL;
	struct pat_permset perms;
	struct passwd *pw;
	char *joined = NULL;
	int64_t exp = 0;
	gid_t gid = 0;
	bool known;
	int r = 0;

	pat_permset_init(&perms);
	known = q->user[0] != '\0' && (pw = getpwnam(q->user)) != NULL;
	if (known) {
		gid = pw->pw_gid;	/* pw is static: keep what we need */
		if ((r = access_walk_grants(q->d, txn, q->user, gid, put_grant,
		    q)) != 0 || (r = access_user_perms_gid(q->d, txn, q->user,
		    gid, &perms)) < 0)
			goto out;
	}
	if (jwt != NULL && (r = session_state(q, txn, jwt, &state, &exp)) < 0)
		goto out;
	if ((joined = pat_permset_join(&perms)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	pat_line_begin(q->out, "OK");
	pat_line_fieldu(q->out, "uid", q->p->uid);
	pat_line_field(q->out, "user", q->user);
	pat_line_field(q->out, "perms", joined);
	pat_line_field(q->out, "admin", q->admin ||
	    pat_permset_covers(&perms, "pat.admin") ? "yes" : "no");
	pat_line_field(q->out, "verifier", access_is_verifier(q->d, q->p->uid,
	    q->p->gid) ? "yes" : "no");
	if (state != NULL) {
		pat_line_field(q->out, "session", state);
		pat_line_fieldi(q->out, "session_expires", exp);
	}
	r = pat_line_end(q->out);
out:
	free(joined);
	pat_permset_free(&perms);
	return r < 0 ? r : 0;
}
