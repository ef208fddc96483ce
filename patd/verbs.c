/*
 * verbs.c - request dispatch, credentials, VERIFY, STATUS, HELLO and the
 * helpers the other verbs share.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "log.h"
#include "names.h"
#include "rhost.h"
#include "testclock.h"
#include "verbs.h"

int
reply_err(struct req *q, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pat_line_begin(q->out, "ERR");
	pat_line_field(q->out, "code", code);
	pat_line_field(q->out, "message", msg);
	pat_line_end(q->out);
	return 1;
}

int
reply_limited(struct req *q, int64_t wait, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pat_line_begin(q->out, "ERR");
	pat_line_field(q->out, "code", "rate-limited");
	pat_line_fieldi(q->out, "retry_after", wait > 0 ? wait : 1);
	pat_line_field(q->out, "message", msg);
	pat_line_end(q->out);
	return 1;
}

#define SESSION_ADVICE	"run patctl login for a new session, or patctl " \
			"logout to stop sending this one"

int
need_credential(struct req *q, const char *code, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (q->session_code == NULL)
		return reply_err(q, code, "%s", msg);
	return reply_err(q, q->session_code, "%s; %s — " SESSION_ADVICE, msg,
	    q->session_why);
}

const char *
session_note(struct req *q, char *buf, size_t n)
{
	if (q->session_code == NULL)
		return "";
	snprintf(buf, n, " (%s, so it did not count: " SESSION_ADVICE ")",
	    q->session_why);
	return buf;
}

int
need_admin(struct req *q, const char *what)
{
	if (q->admin)
		return 0;
	return need_credential(q, "denied", "%s needs root, or pat.admin "
	    "through a login session (patctl login) or a token "
	    "(--auth-from-stdin)", what);
}

const char *
token_state(struct req *q, MDB_txn *txn, struct tok_rec *r)
{
	int v, pv;

	/* until when, whatever the state: LIST and SHOW print it */
	if ((pv = access_policy(q->d, txn, r, q->now)) < 0)
		pv = TOK_OK;	/* the fields say what the record says */
	if (r->revoked != 0)
		return "revoked";
	if (r->expires != 0 && q->now >= r->expires)
		return "expired";
	/* revoked with an ancestor or by REVOKE all=1, maybe not yet marked;
	 * then the role's policy */
	if ((v = access_lineage(q->d, txn, r, q->now, NULL)) == TOK_OK)
		v = pv;
	return v == TOK_OK ? "active" : v == TOK_EXPIRED ? "expired" :
	    v == TOK_IDLE ? "idle" : "revoked";
}

/* one rule with patctl's own checks (common/names.c) */
_Static_assert(STORE_ROLE_MAX == PAT_ROLE_NAME_MAX, "role name limit");
_Static_assert(STORE_USER_MAX == PAT_USER_NAME_MAX, "user name limit");
_Static_assert(STORE_NAME_MAX == PAT_TOKEN_NAME_MAX, "token name limit");

bool
valid_role_name(const char *s)
{
	return pat_role_name_valid(s);
}

bool
valid_user_name(const char *s)
{
	return pat_user_name_valid(s);
}

int
put_token_fields(struct req *q, MDB_txn *txn, struct tok_rec *r)
{
	struct last_use lu;
	struct pat_buf *o = q->out;
	int rc;

	pat_line_fieldu(o, "id", r->id);
	pat_line_field(o, "user", r->user);
	pat_line_fieldu(o, "uid", r->uid);
	pat_line_field(o, "name", r->name);
	pat_line_field(o, "role", r->role);
	pat_line_field(o, "state", token_state(q, txn, r));
	pat_line_fieldi(o, "created", r->created);
	pat_line_field(o, "by", r->by);
	pat_line_fieldu(o, "parent", r->parent);
	pat_line_fieldi(o, "expires", r->expires);
	/* the expiry and the role's policy now: when it stops, and why */
	pat_line_fieldi(o, "ends", r->ends);
	if (r->ends != 0)
		pat_line_field(o, "ends_by", tok_end_name(r->ends_by));
	pat_line_fieldi(o, "revoked", r->revoked);
	pat_line_field(o, "bind_from", r->bind_from);
	pat_line_field(o, "bind_service", r->bind_service);
	pat_line_fieldu(o, "bind_uses", r->uses);
	if (r->uses != 0) {
		uint32_t used;

		if ((rc = store_uses_get(q->d->store, txn, r->id, &used)) < 0)
			return rc;
		pat_line_fieldu(o, "used", used);
	}
	rc = store_lastuse_get(q->d->store, txn, r->id, &lu);
	if (rc == 0) {
		pat_line_fieldi(o, "last_used", lu.when);
		pat_line_field(o, "last_service", lu.service);
		rc = pat_line_field(o, "last_rhost", lu.rhost);
	} else if (rc == -ENOENT)
		rc = pat_line_fieldi(o, "last_used", 0);
	return rc;
}

/* src (NULL: "") into dst of n bytes, cut to fit. */
static void
copy_cut(char *dst, size_t n, const char *src)
{
	size_t m = src != NULL ? strnlen(src, n - 1) : 0;

	memcpy(dst, src != NULL ? src : "", m);
	dst[m] = '\0';
}

static void
note_use(struct patd *d, uint64_t id, int64_t now, const char *service,
    const char *rhost)
{
	struct lastuse_pending *p;

	if ((p = lastuse_slot(&d->lastuse, id)) == NULL &&
	    (lastuse_flush(d) < 0 || (p = lastuse_slot(&d->lastuse, id)) == NULL))
		return;	/* last-use is advisory: never fail a verify */
	p->use.when = now;
	copy_cut(p->use.service, sizeof(p->use.service), service);
	copy_cut(p->use.rhost, sizeof(p->use.rhost), rhost);
	if (rhost != NULL)
		lastuse_add_host(&p->use, rhost);
}

/*
 * Whether rhost is new for token id: not among the hosts waiting to be
 * written nor the stored last STORE_HOSTS, while at least one host was
 * seen before (the first use ever is no news).  Reads only: the list is
 * written with last use, in its batch.
 */
static bool
host_is_new(struct patd *d, MDB_txn *txn, uint64_t id, const char *rhost)
{
	const struct lastuse_pending *p = lastuse_find(&d->lastuse, id);
	struct last_use lu;
	unsigned i, room = STORE_HOSTS;

	if (p != NULL) {
		if (lastuse_host_known(&p->use, rhost))
			return false;
		room -= p->use.nhosts;	/* they come first when written */
	}
	if (store_lastuse_get(d->store, txn, id, &lu) != 0 || lu.nhosts == 0)
		return room != STORE_HOSTS;	/* none before: no news */
	/* the stored ones that will still be among the last STORE_HOSTS */
	for (i = 0; i < lu.nhosts && room > 0; i++) {
		if (p != NULL && lastuse_host_known(&p->use, lu.hosts[i]))
			continue;
		if (strcmp(lu.hosts[i], rhost) == 0)
			return false;
		room--;
	}
	return true;
}

/* The stored hosts of the batch's record i, behind its own (latest). */
static void
merge_hosts(struct patd *d, MDB_txn *txn, struct lastuse_pending *p)
{
	struct last_use old;
	unsigned i;

	if (store_lastuse_get(d->store, txn, p->id, &old) != 0)
		return;
	for (i = p->use.nhosts; i > 0; i--)
		lastuse_add_host(&old, p->use.hosts[i - 1]);
	p->use.nhosts = old.nhosts;
	memcpy(p->use.hosts, old.hosts, sizeof(old.hosts));
}

int
lastuse_flush(struct patd *d)
{
	MDB_txn *txn;
	size_t i;
	int r;

	if (d->lastuse.n == 0)
		return 0;
	/* inside an open round, as a child: a failure here (map full) must
	 * not doom the round's tokens, and the round's commit makes it
	 * durable (or loses it with the round: last use is advisory) */
	r = d->round != NULL ? store_begin_child(d->store, d->round, &txn) :
	    store_begin(d->store, true, &txn);
	if (r < 0)
		return r;
	for (i = 0; i < d->lastuse.n && r == 0; i++) {
		merge_hosts(d, txn, &d->lastuse.item[i]);
		r = store_lastuse_put(d->store, txn, d->lastuse.item[i].id,
		    &d->lastuse.item[i].use);
		/* fleet mode: to be pushed to the directory (fleet.c) */
		if (r == 0 && d->fleet != NULL)
			r = store_fleetlu_put(d->store, txn,
			    d->lastuse.item[i].id);
	}
	if (r < 0) {
		store_abort(txn);
		return r;
	}
	if ((r = store_commit(txn)) == 0) {
		lastuse_clear(&d->lastuse);
		d->round_wrote |= d->round != NULL;
	}
	return r;
}

/*
 * Refusals are logged within a budget per peer uid (log_refusals a
 * minute): one user sending junk as fast as patd answers must not drown
 * everyone else's records in the journal (or fill the disk).  What is cut
 * is counted and said once a flush interval (event=log-suppressed).
 */
bool
refusal_log_ok(struct patd *d, uid_t uid, int64_t now)
{
	char key[RL_KEY_MAX];

	snprintf(key, sizeof(key), "log:%u", (unsigned)uid);
	if (rl_blocked(&d->rl_log, key, now)) {
		d->log_suppressed++;
		return false;
	}
	rl_fail(&d->rl_log, key, now);
	return true;
}

static bool
refusal_logged(struct req *q)
{
	return refusal_log_ok(q->d, q->p->uid, q->now);
}

/* "kind:value", cut like snprintf would; no printf on the verify path. */
static void
rl_key(char *out, size_t n, const char *kind, const char *v)
{
	size_t k = strlen(kind), m = strlen(v);

	if (k + 1 + m >= n)
		m = n - k - 2;	/* kinds are short constants */
	memcpy(out, kind, k);
	out[k] = ':';
	memcpy(out + k + 1, v, m);
	out[k + 1 + m] = '\0';
}

/* Decimal of v, by hand (no printf on the verify path). */
static void
num_text(char out[24], unsigned long long v)
{
	char tmp[24];
	size_t n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

/*
 * ERR for a refused token.  When its secret matched (revoked, expired,
 * idle) the answer says why and which token, for the owner's notice at
 * the PAM prompt (docs/protocol.md): why=, id=, role=, and ended= (when
 * it stopped) or max_idle=.  An unknown token or a wrong secret gets
 * nothing more than its code: a guesser learns nothing
 * (docs/security.md).  Nor does anyone but the owner's side (tell false:
 * another user= named, or a plain peer not the token's owner).
 */
static int
reply_refused(struct req *q, MDB_txn *txn, int v, const struct tok_rec *r,
    bool reused, bool tell, const char *msg)
{
	char reason[STORE_REASON_MAX + 1];
	struct role_policy pol;
	const char *why = NULL;
	int64_t ended = 0, idle = 0;

	if (!tell)
		;	/* not the owner's side: the code alone */
	else if (v == TOK_REVOKED) {
		why = reused ? "rotated-token-reused" : "revoked";
		if (!reused && store_reason_get(q->d->store, txn, r->id, reason,
		    sizeof(reason)) == 0 && (strcmp(reason, "reported") == 0 ||
		    strcmp(reason, "rotated-token-reused") == 0))
			why = reason;
	} else if (v == TOK_EXPIRED && r->ends_by == TOK_END_MAX_LIFETIME) {
		why = "max_lifetime";
		ended = r->ends;
	} else if (v == TOK_EXPIRED) {
		why = "expired";	/* its own expiry, or its parent's */
		ended = r->expires != 0 && q->now >= r->expires ? r->expires : 0;
	} else if (v == TOK_IDLE) {
		why = "idle";
		ended = r->ends;
		if (store_policy_get(q->d->store, txn, r->role, &pol) == 0)
			idle = pol.max_idle;
	}
	pat_line_begin(q->out, "ERR");
	pat_line_field(q->out, "code", tok_verdict_code(v));
	if (why != NULL) {
		pat_line_field(q->out, "why", why);
		pat_line_fieldu(q->out, "id", r->id);
		pat_line_field(q->out, "role", r->role);
		if (ended > 0)
			pat_line_fieldi(q->out, "ended", ended);
		if (idle > 0)
			pat_line_fieldi(q->out, "max_idle", idle);
	}
	pat_line_field(q->out, "message", msg);
	pat_line_end(q->out);
	return 1;
}

/*
 * A token's successes are logged within the budget a peer uid has for its
 * refusals (log_refusals a minute): whoever holds one valid token (through
 * a web gate, thousands a second) must not push patd past journald's rate
 * limit, which would drop every other record of the window.  The rest are
 * counted (uses_quiet) and said at the next flush; last use is recorded
 * all the same.
 */
#define USE_HOT		16

static bool
use_logged(struct req *q, uint64_t id)
{
	struct use_count *s = &q->d->use_sketch[(id *
	    UINT64_C(0x9E3779B97F4A7C15)) >> 52];
	char key[RL_KEY_MAX], num[24];
	unsigned i;

	/*
	 * Most tokens are used a few times a minute: counted in a slot of
	 * the sketch (O(1)), they never enter rl_uses, whose eviction scans
	 * all of it once it is full — 8 µs a verification on a store of
	 * 100 000 tokens in use.  Ids that share a slot share its count, so
	 * a token can only be taken for hot too early, never too late.
	 */
	if (q->now - s->start >= 60) {
		s->start = q->now;
		s->n = 0;
	}
	if (s->n < USE_HOT) {
		s->n++;
		return true;
	}
	num_text(num, id);
	rl_key(key, sizeof(key), "ok", num);
	if (s->n == USE_HOT) {	/* hot now: its lines so far count */
		s->n++;
		for (i = 0; i < USE_HOT; i++)
			rl_fail(&q->d->rl_uses, key, q->now);
	}
	if (rl_blocked(&q->d->rl_uses, key, q->now)) {
		q->d->uses_quiet++;
		return false;
	}
	rl_fail(&q->d->rl_uses, key, q->now);
	return true;
}

/*
 * One use of a counted token.  VERIFY runs in a read transaction: the
 * first time it asks to run again in the round (rerun, returning 1 with no
 * answer); there it counts the use in the round's transaction, which
 * verbs_round_end commits before any answer of the round is sent.  So an
 * OK is never sent for a use that is not durable, and a crash loses only
 * uses never answered: it cannot grant one more.  0 to go on, 1 answered
 * (or to be run again), or -errno.
 */
static int
count_use(struct req *q, MDB_txn *txn, const struct tok_rec *rec,
    const char *svc, const char *rh)
{
	uint32_t used;
	int r;

	if (!q->in_round) {
		q->rerun = true;
		return 1;
	}
	if ((r = store_uses_get(q->d->store, txn, rec->id, &used)) < 0)
		return r;
	if (used >= rec->uses) {
		if (refusal_logged(q))
			log_event("verify", "result=refused reason=binding "
			    "uses=%u id=%llu user=%s peer_uid=%u service=%s "
			    "rhost=%s", (unsigned)rec->uses,
			    (unsigned long long)rec->id, rec->user,
			    (unsigned)q->p->uid, svc, rh);
		return reply_err(q, "binding", "the token may be used only "
		    "%u time%s, and it has been", (unsigned)rec->uses,
		    rec->uses == 1 ? "" : "s");
	}
	if ((r = store_uses_put(q->d->store, txn, rec->id, used + 1)) < 0)
		return r;
	q->wrote = true;
	return 0;
}

static int
verb_verify(struct req *q, MDB_txn *txn)
{
	const char *token = pat_msg_get(q->m, "token");
	const char *user = pat_msg_get(q->m, "user");
	const char *perm = pat_msg_get(q->m, "perm");
	const char *service = pat_msg_get(q->m, "service");
	const char *rhost = pat_msg_get(q->m, "rhost");
	const char *svc, *rh;
	struct pat_permset eff;
	struct tok_rec rec;
	struct ratelimit *rl = NULL;	/* where a failure counts, with key */
	char key[RL_KEY_MAX], uidtxt[24], *perms;
	int64_t wait;
	uint64_t head = 0;
	size_t nrev = 0;
	bool verifier, first, more = false, new_host;
	int v, reused = 0, bound;

	if (token == NULL)
		return reply_err(q, "bad-request", "VERIFY needs token=");
	if (perm != NULL && (!pat_perm_valid(perm) || strchr(perm, '*')))
		return reply_err(q, "bad-request", "perm= must be one "
		    "permission such as pam.sshd, without a wildcard");
	if ((user != NULL && !valid_user_name(user)) ||
	    (service != NULL && !pat_plain_value_valid(service, STORE_SERVICE_MAX)) ||
	    (rhost != NULL && !pat_plain_value_valid(rhost, STORE_RHOST_MAX)))
		return reply_err(q, "bad-request", "user=, service= or rhost= "
		    "is too long or holds a byte outside printable ASCII "
		    "(0x21-0x7e)");
	svc = service != NULL ? service : "-";
	rh = rhost != NULL ? rhost : "-";

	verifier = access_is_verifier(q->d, q->p->uid, q->p->gid);
	/*
	 * Whose failures count where (docs/security.md, issue 13): they
	 * count against the one who makes them, never against a user
	 * someone else names.
	 * - A plain peer may verify only its own tokens: its failures count
	 *   against its uid (uid:N), whatever rhost= it says (it could name
	 *   any address to dodge its own limit), and it never sees a
	 *   per-user block.
	 * - A verifier (root, patd, the verify group) serves many clients.
	 *   With rhost= (a web gate, sshd) it says which client asks: that
	 *   client's failures count against its address (rhost:ADDR, a table
	 *   of their own), checked before any lookup, so a blocked address
	 *   costs almost nothing — and not against the user it names, or
	 *   anyone on the internet could lock alice out of sshd by guessing
	 *   at her name.
	 * - A verifier without rhost= (a local login: su, sudo) has no
	 *   client to blame: the target user (user:NAME) is, as before.
	 */
	if (!verifier) {
		num_text(uidtxt, q->p->uid);
		rl_key(key, sizeof(key), "uid", uidtxt);
		rl = &q->d->rl;
	} else if (rhost != NULL) {
		rhost_key(key, sizeof(key), rhost, q->d->rhost_prefix6);
		rl = &q->d->rl_rhost;
	}
	if (rl != NULL && (wait = rl_wait(rl, key, q->now, &first)) > 0)
		goto limited;

	pat_permset_init(&eff);
	v = access_check_token(q->d, txn, token, q->now, &rec, &eff);
	if (v < 0) {
		pat_permset_free(&eff);
		return v;
	}
	/* a rotated-away token presented again: someone has a copy of it,
	 * so its family goes (docs/security.md, rotation reuse) */
	if (v == TOK_REVOKED && (reused = reuse_target(q, txn, &rec,
	    &head)) != 0) {
		pat_permset_free(&eff);
		if (reused < 0)
			return reused;
		if (!q->in_round) {
			q->rerun = true;	/* again, in a write transaction */
			return 0;
		}
		if ((reused = revoke_for(q, txn, head, "rotated-token-reused",
		    &nrev, &more)) < 0)
			return reused;
		q->wrote = true;
		log_event("revoke", "id=%llu uid=%u reason=rotated-token-reused "
		    "presented=%llu peer_uid=%u service=%s rhost=%s revoked=%zu "
		    "pending=%s", (unsigned long long)head, (unsigned)rec.uid,
		    (unsigned long long)rec.id, (unsigned)q->p->uid, svc, rh,
		    nrev, more ? "yes" : "no");
		pat_permset_init(&eff);
	}
	if (verifier && rhost == NULL && (user != NULL || rec.user[0] != '\0')) {
		rl_key(key, sizeof(key), "user", user ? user : rec.user);
		rl = &q->d->rl;
		if ((wait = rl_wait(rl, key, q->now, &first)) > 0) {
			pat_permset_free(&eff);
			goto limited;
		}
	}
	if (v != TOK_OK) {
		pat_permset_free(&eff);
		/* a malformed token guesses nothing (its checksum fails before
		 * any lookup): it counts against no one */
		if (v != TOK_MALFORMED && rl != NULL)
			rl_fail(rl, key, q->now);
		if (refusal_logged(q))
			log_event("verify", "result=refused reason=%s%s id=%llu "
			    "user=%s peer_uid=%u service=%s rhost=%s",
			    tok_verdict_code(v), tok_verdict_policy(v, &rec),
			    (unsigned long long)rec.id,
			    rec.user[0] ? rec.user : "-", (unsigned)q->p->uid,
			    svc, rh);
		/* why, only to the owner's side: the token's user asks */
		return reply_refused(q, txn, v, &rec, head != 0, (user == NULL ||
		    strcmp(user, rec.user) == 0) && (verifier ||
		    rec.uid == q->p->uid),
		    v == TOK_MALFORMED ? "not a well-formed token (bad shape or "
		    "checksum)" : v == TOK_INVALID ? "unknown token or wrong "
		    "secret" : v == TOK_REVOKED && head != 0 ? "the token was "
		    "rotated away and presented again: the token that replaced "
		    "it and every token below that are revoked now (reuse "
		    "detected)" : v == TOK_REVOKED ? "the token was revoked" :
		    v == TOK_EXPIRED && !rec.why[0] ? "the token has expired" :
		    v == TOK_EXPIRED || v == TOK_IDLE ? rec.why :
		    "the token's owner no longer exists");
	}
	if (!verifier && rec.uid != q->p->uid) {
		pat_permset_free(&eff);
		rl_fail(rl, key, q->now);
		if (refusal_logged(q))
			log_event("verify", "result=refused reason=denied "
			    "id=%llu peer_uid=%u service=%s rhost=%s",
			    (unsigned long long)rec.id, (unsigned)q->p->uid,
			    svc, rh);
		return reply_err(q, "denied", "you may verify only your own "
		    "tokens (or join the %s group)", q->d->verify_group);
	}
	if (user != NULL && strcmp(user, rec.user) != 0) {
		pat_permset_free(&eff);
		if (rl != NULL)
			rl_fail(rl, key, q->now);
		if (refusal_logged(q))
			log_event("verify", "result=refused reason=wrong-user "
			    "id=%llu owner=%s user=%s peer_uid=%u service=%s "
			    "rhost=%s", (unsigned long long)rec.id, rec.user,
			    user, (unsigned)q->p->uid, svc, rh);
		return reply_err(q, "wrong-user", "the token belongs to "
		    "another user");
	}
	/* its binding (issue 14): the secret was right, so nothing was
	 * guessed and nothing is counted; an address it cannot read, or
	 * none, is refused when the token is bound to networks */
	if (!(bound = !bind_from_allows(rec.bind_from, rhost)) &&
	    bind_service_allows(rec.bind_service, service))
		bound = -1;	/* both allow */
	if (bound >= 0) {
		pat_permset_free(&eff);
		if (refusal_logged(q))
			log_event("verify", "result=refused reason=binding "
			    "id=%llu user=%s peer_uid=%u service=%s rhost=%s",
			    (unsigned long long)rec.id, rec.user,
			    (unsigned)q->p->uid, svc, rh);
		return reply_err(q, "binding", "the token may be used only "
		    "%s %s", bound ? "from" : "by", bound ? rec.bind_from :
		    rec.bind_service);
	}
	/* a valid token without the permission guessed nothing: not counted
	 * (a page whose assets sit behind a permission the token lacks
	 * would otherwise block its own address) */
	if (perm != NULL && !pat_permset_covers(&eff, perm)) {
		pat_permset_free(&eff);
		if (refusal_logged(q))
			log_event("verify", "result=refused "
			    "reason=permission-missing id=%llu user=%s perm=%s "
			    "peer_uid=%u service=%s rhost=%s",
			    (unsigned long long)rec.id, rec.user, perm,
			    (unsigned)q->p->uid, svc, rh);
		return reply_err(q, "permission-missing", "the token does not "
		    "grant %s", perm);
	}
	/* a counted token (bind_uses=): its use is reserved in the round's
	 * write transaction and the OK goes out only once that is durable */
	if (rec.uses != 0 && (v = count_use(q, txn, &rec, svc, rh)) != 0) {
		pat_permset_free(&eff);
		return v < 0 ? v : 0;
	}
	new_host = rhost != NULL && host_is_new(q->d, txn, rec.id, rhost);
	note_use(q->d, rec.id, q->now, service, rhost);
	perms = pat_permset_join(&eff);
	pat_permset_free(&eff);
	if (perms == NULL)
		return -ENOMEM;
	if (use_logged(q, rec.id))
		log_event("verify", "result=ok id=%llu user=%s perm=%s "
		    "service=%s rhost=%s", (unsigned long long)rec.id, rec.user,
		    perm ? perm : "-", svc, rh);
	pat_line_begin(q->out, "OK");
	pat_line_fieldu(q->out, "id", rec.id);
	pat_line_field(q->out, "user", rec.user);
	pat_line_fieldu(q->out, "uid", rec.uid);
	pat_line_field(q->out, "role", rec.role);
	pat_line_field(q->out, "name", rec.name);
	pat_line_fieldi(q->out, "expires", rec.expires);
	pat_line_field(q->out, "perms", perms);
	if (new_host)
		pat_line_fieldi(q->out, "new_host", 1);
	pat_line_end(q->out);
	free(perms);
	return 0;
limited:
	/* once per block (the window's first refusal), within the peer's
	 * log budget; the repeats are counted and summed up */
	if (!first)
		q->d->limited_quiet++;
	else if (refusal_logged(q))
		log_event("verify", "result=refused reason=rate-limited "
		    "peer_uid=%u user=%s service=%s rhost=%s retry_after=%lld",
		    (unsigned)q->p->uid, user ? user : "-", svc, rh,
		    (long long)wait);
	return reply_limited(q, wait, "too many failed verifications %s; "
	    "try again in %lld s", rl == &q->d->rl_rhost ? "from this "
	    "address" : rl == &q->d->rl && !verifier ? "by this uid" :
	    "for this user", (long long)wait);
}

static int
verb_status(struct req *q, MDB_txn *txn)
{
	struct store_stats st;
	int64_t ct;
	int r;

	if ((r = store_stats(q->d->store, txn, &st)) < 0)
		return r;
	pat_line_begin(q->out, "OK");
	pat_line_fieldu(q->out, "proto", PAT_PROTO_VERSION);
	pat_line_field(q->out, "version", PATD_VERSION);
	pat_line_fieldu(q->out, "tokens", st.tokens);
	pat_line_fieldu(q->out, "roles", st.roles);
	pat_line_fieldu(q->out, "grants", st.grants);
	pat_line_fieldu(q->out, "connections", q->d->nconns);
	pat_line_fieldu(q->out, "accepted", q->d->accepted);
	pat_line_fieldi(q->out, "uptime", q->now - q->d->started);
	pat_line_fieldu(q->out, "writes", q->d->writes);
	pat_line_fieldu(q->out, "commits", q->d->commits);
	pat_line_fieldu(q->out, "store_bytes", st.used_bytes);
	pat_line_fieldu(q->out, "store_max_bytes", st.map_bytes);
	pat_line_fieldu(q->out, "peer_uid", q->p->uid);
	pat_line_field(q->out, "peer_admin", q->admin ? "yes" : "no");
	if (q->d->fleet != NULL) {
		pat_line_field(q->out, "fleet",
		    fleet_state_name(fleet_state(q->d->fleet)));
		pat_line_fieldu(q->out, "fleet_entries",
		    fleet_entries(q->d->fleet));
		pat_line_fieldi(q->out, "fleet_last", fleet_last(q->d->fleet));
		ct = fleet_cookie_time(q->d->fleet);
		/* by patd's clock against the provider's: clamped at 0 */
		pat_line_fieldi(q->out, "fleet_cookie_age", ct == 0 ? -1 :
		    q->now > ct ? q->now - ct : 0);
		pat_line_fieldi(q->out, "fleet_lag_ms",
		    fleet_lag_ms(q->d->fleet));
		pat_line_fieldu(q->out, "fleet_outbox",
		    store_fleetq_count(q->d->store, txn));
		pat_line_field(q->out, "fleet_issuer",
		    fleet_issuer(q->d->fleet));
	}
	return pat_line_end(q->out);
}

static int
verb_hello(struct req *q, MDB_txn *txn)
{
	const char *v = pat_msg_get(q->m, "proto");

	(void)txn;
	if (v != NULL && strcmp(v, "1") != 0)
		return reply_err(q, "unsupported-version", "this patd speaks "
		    "protocol 1 only");
	pat_line_begin(q->out, "OK");
	pat_line_fieldu(q->out, "proto", PAT_PROTO_VERSION);
	pat_line_field(q->out, "server", "patd/" PATD_VERSION);
	return pat_line_end(q->out);
}

/* LOGOUT session=: that session is refused from now until it would have
 * expired.  Logging out an expired session is fine. */
static int
verb_logout(struct req *q, MDB_txn *txn)
{
	const char *jwt = pat_msg_get(q->m, "session");
	struct jwt_claims c;
	enum jwt_verdict v;
	int r;

	if (jwt == NULL)
		return reply_err(q, "bad-request", "LOGOUT needs session=");
	v = jwt_verify(&q->d->jwt, jwt, q->now, &c);
	if (v != JWT_OK && v != JWT_EXPIRED)
		return reply_err(q, "bad-session", "not a session of this patd");
	if (c.uid != q->p->uid && !q->super)
		return reply_err(q, "bad-session", "that session belongs to "
		    "another user");
	if ((r = store_session_prune(q->d->store, txn, q->now)) < 0 ||
	    (v == JWT_OK && (r = store_session_revoke(q->d->store, txn, c.jti,
	    c.exp)) < 0))
		return r;
	log_event("logout", "user=%s uid=%u jti=%s", c.sub, (unsigned)c.uid,
	    c.jti);
	pat_line_begin(q->out, "OK");
	return pat_line_end(q->out);
}

/* What a verb is in fleet mode: as on one host; made in the directory;
 * a REVOKE, which holds here and is pushed on; a SHOW, which adds where
 * the token was last used in the fleet. */
enum verb_fleet { VF_HERE, VF_DIR, VF_PUSH, VF_LOOKUP };

static const struct verb {
	const char	*name;
	int		(*fn)(struct req *, MDB_txn *);
	bool		 write;
	bool		 flush;	/* shows last-use: write pending first */
	bool		 named;	/* needs the peer's user name (q->user) */
	enum verb_fleet	 fleet;
} verbs[] = {
	{ "HELLO",	 verb_hello,	   false, false, false, VF_HERE },
	{ "STATUS",	 verb_status,	   false, false, false, VF_HERE },
	{ "VERIFY",	 verb_verify,	   false, false, false, VF_HERE },
	{ "CREATE",	 verb_create,	   true,  false, true,  VF_DIR },
	{ "ROTATE",	 verb_rotate,	   true,  false, false, VF_DIR },
	{ "LIST",	 verb_list,	   false, true,  true,  VF_HERE },
	{ "SHOW",	 verb_show,	   false, true,  false, VF_LOOKUP },
	{ "REVOKE",	 verb_revoke,	   true,  false, true,  VF_PUSH },
	{ "ROLE-SET",	 verb_role_set,	   true,  false, false, VF_DIR },
	{ "ROLE-DELETE", verb_role_delete, true,  false, false, VF_DIR },
	{ "ROLE-LIST",	 verb_role_list,   false, false, false, VF_HERE },
	{ "ROLE-SHOW",	 verb_role_show,   false, false, false, VF_HERE },
	{ "GRANT",	 verb_grant,	   true,  false, false, VF_DIR },
	{ "UNGRANT",	 verb_ungrant,	   true,  false, false, VF_DIR },
	{ "LOGOUT",	 verb_logout,	   true,  false, false, VF_HERE },
	{ "WHOAMI",	 verb_whoami,	   false, false, true,  VF_HERE },
};

/*
 * A session that cannot be used is set aside, not refused: it only ever
 * adds rights to what the peer's uid may do, so a verb that needs none
 * (LIST, SHOW, REVOKE of one's own tokens) is answered for the uid alone
 * and grants nothing more, while one that needed it is refused with why
 * (need_credential).  A forged one is logged either way.
 */
static int
set_aside(struct req *q, const char *code, const char *fmt, ...)
{
	va_list ap;

	q->session_code = code;
	va_start(ap, fmt);
	vsnprintf(q->session_why, sizeof(q->session_why), fmt, ap);
	va_end(ap);
	sodium_memzero(&q->session, sizeof(q->session));
	return 0;
}

/* A session= must be patd's, unexpired, not logged out, and the peer's. */
static int
check_session(struct req *q, MDB_txn *txn, const char *jwt)
{
	struct passwd *pw;
	enum jwt_verdict v;
	int r;

	v = jwt_verify(&q->d->jwt, jwt, q->now, &q->session);
	if (v == JWT_EXPIRED)
		return set_aside(q, "session-expired", "your session expired");
	if (v != JWT_OK) {
		if (refusal_logged(q))
			log_event("session", "result=refused reason=%s "
			    "peer_uid=%u", jwt_verdict_code(v),
			    (unsigned)q->p->uid);
		return set_aside(q, "bad-session", "your session is not a valid "
		    "session of this patd (%s)", jwt_verdict_code(v));
	}
	if ((r = store_session_revoked(q->d->store, txn, q->session.jti)) < 0)
		return r;
	if (r == 1)
		return set_aside(q, "session-expired", "your session was "
		    "logged out");
	if (q->session.uid != q->p->uid || (pw = getpwnam(q->session.sub)) ==
	    NULL || pw->pw_uid != q->session.uid) {
		if (refusal_logged(q))
			log_event("session", "result=refused reason=wrong-user "
			    "peer_uid=%u", (unsigned)q->p->uid);
		return set_aside(q, "bad-session", "your session belongs to "
		    "another user");
	}
	if ((r = access_user_perms_gid(q->d, txn, q->session.sub, pw->pw_gid,
	    &q->cred_perms)) < 0)
		return r;
	q->has_session = true;
	q->admin = q->super || pat_permset_covers(&q->cred_perms, "pat.admin");
	return 0;
}

/* Check auth= (a PAT of the peer) or session= (a login session) and decide
 * whether the peer is an admin. */
static int
load_credential(struct req *q, MDB_txn *txn)
{
	const char *auth = pat_msg_get(q->m, "auth");
	const char *session = pat_msg_get(q->m, "session");
	char key[RL_KEY_MAX];
	int64_t wait;
	int v;

	q->admin = q->super;
	if (auth != NULL && session != NULL)
		return reply_err(q, "bad-request", "give auth= or session=, "
		    "not both");
	/* LOGOUT ends a session and WHOAMI reports on one: neither acts
	 * with it, so an expired one is no refusal there */
	if (session != NULL && strcmp(q->m->verb, "LOGOUT") != 0 &&
	    strcmp(q->m->verb, "WHOAMI") != 0)
		return check_session(q, txn, session);
	if (auth == NULL)
		return 0;
	snprintf(key, sizeof(key), "uid:%u", (unsigned)q->p->uid);
	if (!q->super && (wait = rl_wait(&q->d->rl, key, q->now, NULL)) > 0)
		return reply_limited(q, wait, "too many failed attempts; try "
		    "again in %lld s", (long long)wait);
	v = access_check_token(q->d, txn, auth, q->now, &q->cred,
	    &q->cred_perms);
	if (v < 0)
		return v;
	if (v == TOK_OK && q->cred.uid != q->p->uid)
		v = TOK_INVALID;	/* a token acts only for its owner */
	if (v != TOK_OK) {
		sodium_memzero(&q->cred, sizeof(q->cred));
		/* the peer's own counter; a malformed token guesses nothing */
		if (!q->super && v != TOK_MALFORMED)
			rl_fail(&q->d->rl, key, q->now);
		if (refusal_logged(q))
			log_event("credential", "result=refused reason=%s "
			    "peer_uid=%u", tok_verdict_code(v),
			    (unsigned)q->p->uid);
		return reply_err(q, "bad-credential", "the token given to "
		    "authorise this request is not a valid token of yours "
		    "(%s)", tok_verdict_code(v));
	}
	q->has_cred = true;
	q->admin = q->super || pat_permset_covers(&q->cred_perms, "pat.admin");
	return 0;
}

/*
 * Group commit.  A request that writes (or shows last use, which it writes
 * first) runs in a child of the round's transaction; the event loop calls
 * verbs_round_end once per round, and only then are such answers sent, so
 * nothing is acknowledged before it is durable, while one fsync serves
 * every write that arrived together.  Other requests keep their own read
 * transaction and answer at once: they see only what is committed.
 */
static int
run_in_round(struct req *q, const struct verb *vb, bool *waits)
{
	struct patd *d = q->d;
	MDB_txn *txn;
	int r;

	if (d->round == NULL && (r = store_begin(d->store, true, &d->round)) < 0)
		return r;
	*waits = true;
	if (vb->flush && (r = lastuse_flush(d)) < 0)
		log_warn("cannot record last use: %s", store_strerror(r));
	if ((r = store_begin_child(d->store, d->round, &txn)) < 0)
		return r;
	if ((r = load_credential(q, txn)) != 0 || (r = vb->fn(q, txn)) != 0) {
		if (q->to_dir)
			q->wrote = false;	/* nothing here is kept */
		/* refused: undo only this request — unless the refusal is
		 * what it wrote (VERIFY revoking a reused token's family) */
		if (r > 0 && q->wrote) {
			if ((r = store_commit(txn)) == 0)
				d->round_wrote = true;
			return r;
		}
		store_abort(txn);
		return r < 0 ? r : 0;
	}
	if (q->to_dir) {
		/* fleet mode: the directory gets what the verb wrote; this
		 * host gets it back through the sync stream */
		r = fleet_build(q, txn);
		store_abort(txn);
		return r;
	}
	if ((r = store_commit(txn)) == 0 && (vb->write || q->wrote)) {
		/* into the round */
		d->writes++;
		d->round_wrote = true;
	}
	return r;
}

static int
run_alone(struct req *q, const struct verb *vb)
{
	MDB_txn *txn;
	int r;

	if ((r = store_begin(q->d->store, false, &txn)) < 0)
		return r;
	r = load_credential(q, txn);
	if (r == 0)
		r = vb->fn(q, txn);
	store_abort(txn);
	return r < 0 ? r : 0;
}

/* Whether the answer written from start on ends in an OK line (after
 * any data lines). */
static bool
answer_ok(const struct pat_buf *out, size_t start)
{
	size_t i;

	if (out->len < start + 3 || out->data[out->len - 1] != '\n')
		return false;
	for (i = out->len - 1; i > start && out->data[i - 1] != '\n'; i--)
		;
	return strncmp(out->data + i, "OK", 2) == 0;
}

/* Whether q's peer may have one more fleet lookup this minute (counted). */
static bool
lookup_allowed(struct req *q)
{
	char key[32];

	if (q->p->uid == 0)
		return true;
	snprintf(key, sizeof(key), "uid:%u", (unsigned)q->p->uid);
	if (rl_blocked(&q->d->rl_lookup, key, q->now))
		return false;
	rl_fail(&q->d->rl_lookup, key, q->now);
	return true;
}

int
verbs_dispatch(struct patd *d, const struct peer *p, const struct pat_msg *m,
    struct pat_buf *out, struct fleet_op **fop, int *kind)
{
	const struct verb *vb = NULL;
	struct req q;
	size_t start = out->len, i;
	unsigned long long sid;
	bool waits = false;
	int r;

	/* q holds a 4.5 KiB token record: clear only what is read before
	 * being written */
	q.d = d;
	q.p = p;
	q.m = m;
	q.out = out;
	q.now = patd_now(d);
	q.super = access_is_superuser(d, p->uid);
	q.admin = q.has_cred = q.has_session = false;
	q.in_round = q.rerun = q.wrote = false;
	q.session_code = NULL;
	q.user[0] = '\0';
	q.to_dir = false;
	q.notes = NULL;
	q.nnotes = q.capnotes = 0;
	q.fop = NULL;
	*fop = NULL;
	*kind = FLEET_ANSWER_WRITE;
	pat_permset_init(&q.cred_perms);

	for (i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
		if (strcmp(verbs[i].name, m->verb) == 0)
			vb = &verbs[i];
	if (vb != NULL && vb->named &&
	    access_user_name(p->uid, q.user, sizeof(q.user)) < 0)
		q.user[0] = '\0';
	if (vb == NULL) {
		reply_err(&q, "unknown-verb", "unknown verb %.32s (see "
		    "docs/protocol.md)", m->verb);
		goto out;
	}
	q.to_dir = d->fleet != NULL && vb->fleet == VF_DIR;
	r = vb->write || vb->flush ? run_in_round(&q, vb, &waits) :
	    run_alone(&q, vb);
	if (r == 0 && q.rerun && out->len == start) {
		/* it found it must write: once more, in the round */
		pat_permset_free(&q.cred_perms);
		pat_permset_init(&q.cred_perms);
		q.in_round = true;
		q.rerun = false;
		r = run_in_round(&q, vb, &waits);
	}
	/* fleet mode: a REVOKE that revoked is sent on to the provider (its
	 * outbox record commits with this round) */
	if (r == 0 && d->fleet != NULL && vb->fleet == VF_PUSH &&
	    answer_ok(out, start)) {
		*kind = FLEET_ANSWER_REVOKE;
		if ((q.fop = fleet_op_new(true)) == NULL)
			r = -ENOMEM;
	}
	/* …and SHOW asks the directory where the token was last used:
	 * LOOKUPS_A_MINUTE times a minute per peer uid, root's unlimited
	 * (after that, the answer is this host's alone) */
	if (r == 0 && d->fleet != NULL && vb->fleet == VF_LOOKUP &&
	    fleet_lastuse_on(d->fleet) && lookup_allowed(&q) &&
	    pat_parse_u64(pat_msg_get(m, "id"), PAT_TOKEN_ID_MAX, &sid) == 0 &&
	    (q.fop = fleet_op_lookup(sid)) != NULL)
		*kind = FLEET_ANSWER_SHOW;
	if (r == 0)
		goto out;
	fleet_op_release(q.fop);
	q.fop = NULL;
	/* drop whatever the handler wrote: it may hold an uncommitted token */
	out->len = start;
	if (out->data != NULL)
		sodium_memzero(out->data + start, out->cap - start);
	log_warn("%s failed: %s", m->verb, store_strerror(r));
	reply_err(&q, r == -ENOSPC ? "store-full" : "internal",
	    "patd could not complete %s: %s", m->verb, store_strerror(r));
out:
	/* an op only for an answer that is not a refusal */
	if (q.fop != NULL && answer_ok(out, start))
		*fop = q.fop;
	else
		fleet_op_release(q.fop);
	free(q.notes);
	pat_permset_free(&q.cred_perms);
	if (q.has_cred)		/* only a filled credential held a hash */
		sodium_memzero(&q.cred, sizeof(q.cred));
	if (q.has_session)
		sodium_memzero(&q.session, sizeof(q.session));
	if (out->len == start)
		return -E2BIG;
	return waits ? VERB_WAIT_COMMIT : 0;
}

int
verbs_round_end(struct patd *d)
{
	int r;

	if (d->round == NULL)
		return 0;
	/* LMDB writes and syncs nothing for a round that changed nothing
	 * (only refusals, or LIST/SHOW with no last use waiting) */
	r = store_commit(d->round);
	d->round = NULL;
	if (r == 0 && d->round_wrote)
		d->commits++;
	d->round_wrote = false;
	if (r < 0)
		log_warn("cannot commit this round's writes: %s; every request "
		    "in it is refused", store_strerror(r));
	return r;
}

void
verbs_round_failed(struct pat_buf *out, int err)
{
	pat_buf_reset(out);	/* wipes: it may hold a token never stored */
	pat_line_begin(out, "ERR");
	pat_line_field(out, "code", err == -ENOSPC ? "store-full" : "internal");
	pat_line_field(out, "message", "patd could not store this change");
	pat_line_end(out);
}
