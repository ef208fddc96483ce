/* fleet_write.c - fleet mode's writes: verbs' changes made in the directory. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>

#include "clock.h"
#include "fleet_int.h"
#include "log.h"

void
poke(int fd)
{
	uint64_t one = 1;

	(void)!write(fd, &one, sizeof(one));
}

/* ---- ops: built by the event loop, carried out by the thread */

struct fleet_op *
fleet_op_new(bool flush)
{
	struct fleet_op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		return NULL;
	atomic_init(&op->refs, 1);
	atomic_init(&op->state, FLEET_OP_PENDING);
	op->flush = flush;
	return op;
}

static struct fleet_change *
op_grow(struct fleet_op *op)
{
	struct fleet_change *c;

	if (op->n == op->cap) {
		size_t cap = op->cap ? op->cap * 2 : 4;

		if ((c = realloc(op->ch, cap * sizeof(*c))) == NULL)
			return NULL;
		op->ch = c;
		op->cap = cap;
	}
	c = &op->ch[op->n];
	memset(c, 0, sizeof(*c));
	return c;
}

struct fleet_op *
fleet_op_lookup(uint64_t id)
{
	struct fleet_op *op = fleet_op_new(false);

	if (op != NULL)
		op->lookup = id;
	return op;
}

bool
fleet_op_lastuse(struct fleet_op *op, const char **host, int64_t *when,
    const char **service, const char **rhost)
{
	if (atomic_load_explicit(&op->state, memory_order_acquire) !=
	    FLEET_OP_DONE || !op->found)
		return false;
	*host = op->lu_host;
	*when = op->lu_when;
	*service = op->lu_service;
	*rhost = op->lu_rhost;
	return true;
}

int
fleet_op_token(struct fleet_op *op, const struct tok_rec *rec,
    const char *reason, uint64_t rotated_to, bool fresh)
{
	struct fleet_change *c = op_grow(op);

	if (c == NULL || (c->tok = malloc(sizeof(*rec))) == NULL)
		return -ENOMEM;
	c->kind = 't';
	c->fresh = fresh;
	*c->tok = *rec;
	snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : "");
	c->rotated_to = rotated_to;
	op->n++;
	return 0;
}

int
fleet_op_role(struct fleet_op *op, const char *name, const char *perms,
    const struct role_policy *pol)
{
	struct fleet_change *c = op_grow(op);

	if (c == NULL || (perms != NULL && (c->perms = strdup(perms)) == NULL))
		return -ENOMEM;
	c->kind = 'r';
	c->gone = perms == NULL;
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (pol != NULL)
		c->pol = *pol;
	op->n++;
	return 0;
}

int
fleet_op_grant(struct fleet_op *op, char kind, const char *who,
    const char *role, bool gone)
{
	struct fleet_change *c = op_grow(op);

	if (c == NULL)
		return -ENOMEM;
	c->kind = kind;
	c->gone = gone;
	snprintf(c->name, sizeof(c->name), "%s", who);
	snprintf(c->role, sizeof(c->role), "%s", role);
	op->n++;
	return 0;
}

void
fleet_op_release(struct fleet_op *op)
{
	size_t i;

	if (op == NULL || atomic_fetch_sub(&op->refs, 1) != 1)
		return;
	for (i = 0; i < op->n; i++) {
		if (op->ch[i].tok != NULL) {
			explicit_bzero(op->ch[i].tok, sizeof(*op->ch[i].tok));
			free(op->ch[i].tok);
		}
		free(op->ch[i].perms);
	}
	free(op->ch);
	free(op->w);
	free(op);
}

enum fleet_op_state
fleet_op_state(struct fleet_op *op, const char **code, const char **msg)
{
	enum fleet_op_state st = (enum fleet_op_state)atomic_load_explicit(
	    &op->state, memory_order_acquire);

	*code = st == FLEET_OP_FAILED ? op->code : NULL;
	*msg = st == FLEET_OP_FAILED ? op->msg : NULL;
	return st;
}

void
fleet_submit(struct fleet *f, struct fleet_op *op)
{
	atomic_fetch_add(&op->refs, 1);
	op->next = NULL;
	pthread_mutex_lock(&f->mu);
	if (f->q_tail != NULL)
		f->q_tail->next = op;
	else
		f->q_head = op;
	f->q_tail = op;
	pthread_mutex_unlock(&f->mu);
	poke(f->wakefd);
}

int
fleet_event_fd(struct fleet *f)
{
	return f->evfd;
}

void
fleet_event_clear(struct fleet *f)
{
	uint64_t n;

	(void)!read(f->evfd, &n, sizeof(n));
}

/* The thread is done with op: say how it went and let the loop know. */
void
op_finish(struct fleet *f, struct fleet_op *op, enum fleet_op_state st,
    const char *code, const char *fmt, ...)
{
	va_list ap;

	if (code != NULL) {
		snprintf(op->code, sizeof(op->code), "%s", code);
		va_start(ap, fmt);
		vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
		va_end(ap);
	}
	atomic_store_explicit(&op->state, st, memory_order_release);
	fleet_op_release(op);
	poke(f->evfd);
}

static struct fleet_op *
take_ops(struct fleet *f)
{
	struct fleet_op *h;

	pthread_mutex_lock(&f->mu);
	h = f->q_head;
	f->q_head = f->q_tail = NULL;
	pthread_mutex_unlock(&f->mu);
	return h;
}

/* Put the ops from op on back at the head of the queue (next turn). */
static void
requeue(struct fleet *f, struct fleet_op *op)
{
	struct fleet_op *last;

	for (last = op; last->next != NULL; last = last->next)
		;
	pthread_mutex_lock(&f->mu);
	last->next = f->q_head;
	if (f->q_head == NULL)
		f->q_tail = last;
	f->q_head = op;
	pthread_mutex_unlock(&f->mu);
}

/* Submitted while the provider cannot be reached: writes are refused,
 * revocations stay queued (they hold here already). */
void
fail_submitted(struct fleet *f, const char *why)
{
	struct fleet_op *op, *next;

	for (op = take_ops(f); op != NULL; op = next) {
		next = op->next;
		if (op->flush)
			op_finish(f, op, FLEET_OP_QUEUED, NULL, NULL);
		else
			op_finish(f, op, FLEET_OP_FAILED, "fleet-unavailable",
			    "the fleet directory (%s) cannot be reached (%s); "
			    "nothing was changed: try again when it is back "
			    "(a REVOKE works meanwhile: it holds here at once "
			    "and is sent when the directory returns)",
			    f->cfg.fleet_uri, why);
	}
}

/* Written entries the stream has not brought back: after a lost
 * connection, or at stop, they are answered as done (the provider has
 * them; this host applies them when it reconnects). */
void
finish_waiting(struct fleet *f)
{
	struct fleet_op *op, *next;

	for (op = f->waiting; op != NULL; op = next) {
		next = op->next;
		op_finish(f, op, FLEET_OP_DONE, NULL, NULL);
	}
	f->waiting = NULL;
}

/* The stream applied (or removed: csn NULL) the entry uuid in the open
 * batch: the writes waiting for it are staged until that commits. */
void
note_applied(struct fleet *f, const uint8_t uuid[16], const char *csn)
{
	struct fleet_op *op;
	size_t i;

	for (op = f->waiting; op != NULL; op = op->next)
		for (i = 0; i < op->nw; i++)
			if (memcmp(op->w[i].uuid, uuid, 16) == 0 &&
			    (csn == NULL || op->w[i].csn[0] == '\0' ||
			    strcmp(csn, op->w[i].csn) >= 0))
				op->w[i].staged = true;
}

/* After a batch committed (ok) or was undone: staged becomes seen, or
 * nothing; a write whose every entry is seen is answered. */
void
settle_waiting(struct fleet *f, bool ok)
{
	struct fleet_op *op, **pp;
	int64_t now = pat_monotonic_ms();
	size_t i, seen;

	for (pp = &f->waiting; (op = *pp) != NULL;) {
		for (i = seen = 0; i < op->nw; i++) {
			if (op->w[i].staged && ok)
				op->w[i].seen = true;
			op->w[i].staged = false;
			seen += op->w[i].seen;
		}
		if (seen == op->nw || now >= op->deadline) {
			if (seen != op->nw)
				log_event("fleet", "result=unseen writes=%zu "
				    "waited_ms=%d", op->nw - seen,
				    FLEET_SEE_MS);
			*pp = op->next;
			op_finish(f, op, FLEET_OP_DONE, NULL, NULL);
			continue;
		}
		pp = &op->next;
	}
}

/* ---- writes: the directory made to match what a verb wrote */

/* LDAP result codes that mean "the provider cannot be reached now". */
static bool
unreachable(int rc)
{
	return rc < 0 || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY;
}

/* rc and why as an op's refusal. */
static void
op_refuse(struct fleet *f, struct fleet_op *op, int rc, const char *why)
{
	char iss[sizeof(f->issuers)];
	bool issuer;

	if (unreachable(rc)) {
		op_finish(f, op, FLEET_OP_FAILED, "fleet-unavailable", "the "
		    "fleet directory (%s) cannot be reached (%s); nothing "
		    "more was changed: try again when it is back",
		    f->cfg.fleet_uri, why);
		return;
	}
	if (rc == LDAP_INSUFFICIENT_ACCESS || rc == LDAP_STRONG_AUTH_REQUIRED) {
		pthread_mutex_lock(&f->mu);
		snprintf(iss, sizeof(iss), "%s", f->issuers[0] ? f->issuers :
		    "the directory lists none");
		issuer = f->issuer == 1;
		pthread_mutex_unlock(&f->mu);
		if (issuer) {	/* an issuer refused: its rules say why */
			op_finish(f, op, FLEET_OP_FAILED, "fleet-denied", "the "
			    "fleet directory refused this change (%s): its "
			    "access rules do not let even an issuer make it",
			    why);
			return;
		}
		op_finish(f, op, FLEET_OP_FAILED, "fleet-denied", "the fleet "
		    "directory refused this host's change (%s): only issuer "
		    "hosts may create tokens or change roles and grants; use "
		    "an issuer host (%s)", why, iss);
		return;
	}
	op_finish(f, op, FLEET_OP_FAILED, "fleet-failed", "the fleet "
	    "directory refused the change: %s", why);
}

/* Wait for msgid's result: the LDAP result code (negative: libldap's,
 * the connection's), why in words, the response controls when asked. */
static int
await(struct fleet *f, int msgid, LDAPControl ***ctrls, char *why, size_t n)
{
	struct timeval tv = { FLEET_LDAP_SECS, 0 };
	LDAPMessage *res = NULL;
	char *text = NULL;
	int err = LDAP_OTHER, r;

	r = ldap_result(f->ld, msgid, LDAP_MSG_ALL, &tv, &res);
	if (r <= 0) {
		if (r == 0) {
			ldap_abandon_ext(f->ld, msgid, NULL, NULL);
			err = LDAP_TIMEOUT;
		} else
			ldap_get_option(f->ld, LDAP_OPT_RESULT_CODE, &err);
		snprintf(why, n, "%s", ldap_err2string(err));
		return err;
	}
	if (ldap_parse_result(f->ld, res, &err, NULL, &text, NULL, ctrls,
	    1) != LDAP_SUCCESS) {
		snprintf(why, n, "an answer libldap could not read");
		return LDAP_OTHER;
	}
	/* the server's text is its own: shown as data, never trusted */
	snprintf(why, n, "%s%s%.200s", ldap_err2string(err),
	    text && *text ? ": " : "", text ? text : "");
	ldap_memfree(text);
	return err;
}

/* An RFC 4514 attribute value, escaped, into out. */
static void
dn_value(char *out, size_t n, const char *v)
{
	size_t o = 0, len = strlen(v), i;

	for (i = 0; i < len && o + 4 < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(out + o, n - o, "\\%02x", ch);
		else {
			if (strchr(",+\"\\<>;=", ch) != NULL ||
			    (i == 0 && (ch == '#' || ch == ' ')) ||
			    (i == len - 1 && ch == ' '))
				out[o++] = '\\';
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}

#define ENT_ATTRS	24

/* The attributes an entry must have: name -> values (none: absent). */
struct ent {
	size_t		n;
	struct ent_attr {
		const char	*name;
		struct berval	**v;	/* NULL-terminated */
		size_t		 nv;
	}		a[ENT_ATTRS];
};

static struct ent_attr *
ent_attr(struct ent *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->a[i].name, name) == 0)
			return &e->a[i];
	if (e->n == ENT_ATTRS)
		return NULL;
	e->a[e->n].name = name;
	e->a[e->n].v = NULL;
	e->a[e->n].nv = 0;
	return &e->a[e->n++];
}

/* Declare name managed (absent unless a value follows). */
static int
ent_name(struct ent *e, const char *name)
{
	return ent_attr(e, name) == NULL ? -ENOMEM : 0;
}

static int
ent_val(struct ent *e, const char *name, const void *p, size_t len)
{
	struct ent_attr *a = ent_attr(e, name);
	struct berval **v, *bv;

	if (a == NULL || len == 0)
		return a == NULL ? -ENOMEM : 0;
	if ((v = realloc(a->v, (a->nv + 2) * sizeof(*v))) == NULL)
		return -ENOMEM;
	a->v = v;
	if ((bv = malloc(sizeof(*bv) + len + 1)) == NULL)
		return -ENOMEM;
	bv->bv_val = (char *)(bv + 1);
	bv->bv_len = len;
	memcpy(bv->bv_val, p, len);
	bv->bv_val[len] = '\0';
	a->v[a->nv++] = bv;
	a->v[a->nv] = NULL;
	return 0;
}

static int
ent_text(struct ent *e, const char *name, const char *t)
{
	return t != NULL && *t ? ent_val(e, name, t, strlen(t)) : ent_name(e,
	    name);
}

/* 0 is absent: no parent, no expiry, not revoked, no limit. */
static int
ent_int(struct ent *e, const char *name, int64_t v)
{
	char b[24];

	if (v == 0)
		return ent_name(e, name);
	snprintf(b, sizeof(b), "%lld", (long long)v);
	return ent_val(e, name, b, strlen(b));
}

/* patd's comma-joined lists are multi-valued, one item a value. */
static int
ent_list(struct ent *e, const char *name, const char *csv)
{
	const char *p = csv, *c;
	int r;

	if ((r = ent_name(e, name)) < 0)
		return r;
	while (p != NULL && *p) {
		c = strchr(p, ',');
		if ((r = ent_val(e, name, p, c ? (size_t)(c - p) :
		    strlen(p))) < 0)
			return r;
		p = c ? c + 1 : NULL;
	}
	return 0;
}

static void
ent_free(struct ent *e)
{
	size_t i, k;

	for (i = 0; i < e->n; i++) {
		for (k = 0; k < e->a[i].nv; k++)
			free(e->a[i].v[k]);
		free(e->a[i].v);
	}
	e->n = 0;
}

static int
ent_token(struct ent *e, const struct fleet_change *c)
{
	const struct tok_rec *t = c->tok;
	char uid[16];
	int r = 0;

	r |= ent_int(e, "patId", (int64_t)t->id);
	r |= ent_val(e, "patHash", t->hash, PAT_HASH_LEN);
	snprintf(uid, sizeof(uid), "%u", (unsigned)t->uid);	/* root: 0 */
	r |= ent_val(e, "patUid", uid, strlen(uid));
	r |= ent_text(e, "patUser", t->user);
	r |= ent_text(e, "patRoleName", t->role);
	r |= ent_list(e, "patCap", t->cap);
	r |= ent_int(e, "patParent", (int64_t)t->parent);
	r |= ent_int(e, "patCreated", t->created);
	r |= ent_int(e, "patExpires", t->expires);
	r |= ent_int(e, "patRevoked", t->revoked);
	r |= ent_text(e, "patRevokedReason", t->revoked ? c->reason : "");
	r |= ent_text(e, "patName", t->name);
	r |= ent_text(e, "patBy", t->by);
	r |= ent_list(e, "patBindFrom", t->bind_from);
	r |= ent_list(e, "patBindService", t->bind_service);
	r |= ent_int(e, "patUses", t->uses);
	r |= ent_int(e, "patRotatedTo", (int64_t)c->rotated_to);
	return r ? -ENOMEM : 0;
}

static int
ent_role(struct ent *e, const struct fleet_change *c)
{
	int r = 0;

	r |= ent_text(e, "patRoleName", c->name);
	r |= ent_list(e, "patPermission", c->perms);
	r |= ent_int(e, "patMaxLifetime", c->pol.max_lifetime);
	r |= ent_int(e, "patDefaultLifetime", c->pol.default_lifetime);
	r |= ent_int(e, "patMaxIdle", c->pol.max_idle);
	return r ? -ENOMEM : 0;
}

/* Whether the directory's values are the wanted ones (as sets). */
static bool
same_values(struct berval **have, const struct ent_attr *want)
{
	size_t nh = 0, i, k;

	for (; have != NULL && have[nh] != NULL; nh++)
		;
	if (nh != want->nv)
		return false;
	for (i = 0; i < want->nv; i++) {
		for (k = 0; k < nh; k++)
			if (have[k]->bv_len == want->v[i]->bv_len &&
			    memcmp(have[k]->bv_val, want->v[i]->bv_val,
			    have[k]->bv_len) == 0)
				break;
		if (k == nh)
			return false;
	}
	return true;
}

/* entryUUID's text form into 16 bytes. */
static bool
uuid_parse(const char *t, uint8_t u[16])
{
	size_t k = 0;
	int hi = -1, d;

	for (; *t && k < 16; t++) {
		if (*t == '-')
			continue;
		if (*t >= '0' && *t <= '9')
			d = *t - '0';
		else if (*t >= 'a' && *t <= 'f')
			d = *t - 'a' + 10;
		else if (*t >= 'A' && *t <= 'F')
			d = *t - 'A' + 10;
		else
			return false;
		if (hi < 0)
			hi = d;
		else {
			u[k++] = (uint8_t)(hi << 4 | d);
			hi = -1;
		}
	}
	return k == 16 && *t == '\0';
}

/* Read dn (base scope): 0 and *res (its entry, or NULL when there is
 * none), or an LDAP error with why. */
static int
read_entry(struct fleet *f, const char *dn, char **attrs, LDAPMessage **res,
    char *why, size_t n)
{
	struct timeval tv = { FLEET_LDAP_SECS, 0 };
	int rc;

	*res = NULL;
	rc = ldap_search_ext_s(f->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)",
	    attrs, 0, NULL, NULL, &tv, 1, res);
	if (rc == LDAP_NO_SUCH_OBJECT) {
		ldap_msgfree(*res);
		*res = NULL;
		return 0;
	}
	if (rc != LDAP_SUCCESS) {
		ldap_msgfree(*res);
		*res = NULL;
		snprintf(why, n, "%s", ldap_err2string(rc));
	}
	return rc;
}

/* After a write: wait for the entry (its uuid, with the CSN it has now,
 * or "" when it was deleted) to come back through the stream. */
static int
wait_for(struct fleet *f, struct fleet_op *op, const char *dn, bool gone,
    const uint8_t *uuid_known, char *why, size_t n)
{
	char *attrs[] = { "entryUUID", "entryCSN", NULL }, t[64];
	struct fleet_wait *w;
	LDAPMessage *res, *e;
	uint8_t u[16];
	int rc;

	if (gone) {
		if (uuid_known == NULL)
			return 0;
		memcpy(u, uuid_known, 16);
		t[0] = '\0';
	} else {
		if ((rc = read_entry(f, dn, attrs, &res, why, n)) != 0)
			return rc;
		if (res == NULL || (e = ldap_first_entry(f->ld, res)) == NULL) {
			ldap_msgfree(res);
			return 0;	/* deleted since: nothing to see */
		}
		attr_text(f->ld, e, "entryUUID", t, sizeof(t));
		if (!uuid_parse(t, u)) {
			ldap_msgfree(res);
			return 0;
		}
		attr_text(f->ld, e, "entryCSN", t, sizeof(t));
		ldap_msgfree(res);
	}
	if (op->nw == op->capw) {
		size_t cap = op->capw ? op->capw * 2 : 4;

		if ((w = realloc(op->w, cap * sizeof(*w))) == NULL)
			return 0;	/* then it is answered unseen */
		op->w = w;
		op->capw = cap;
	}
	w = &op->w[op->nw++];
	memset(w, 0, sizeof(*w));
	memcpy(w->uuid, u, 16);
	snprintf(w->csn, sizeof(w->csn), "%s", t);
	return 0;
}

/* Make the entry dn hold exactly what e says of the attributes it names
 * (adding it, with objectClass oc, when absent).  An LDAP result code. */
/* How put_entry may change what it finds (see fleet_op_token). */
enum put_mode {
	PUT_UPSERT,	/* make the entry exactly so (roles, grants) */
	PUT_NEW,	/* add it; one there already is an error */
	PUT_GROW	/* an existing token: patParent moves, the revocation
			 * and rotation attributes are added when absent */
};

#define MOD_NONE	(-1)	/* LDAP_MOD_ADD is 0 */

/* What PUT_GROW does to attribute a: MOD_NONE, or the mod_op. */
static int
grow_op(const struct ent_attr *a, struct berval **have)
{
	if (a->nv == 0)
		return MOD_NONE;	/* never removes anything */
	if (strcmp(a->name, "patParent") == 0)
		return have == NULL ? LDAP_MOD_ADD : LDAP_MOD_REPLACE;
	if (have == NULL && (strcmp(a->name, "patRevoked") == 0 ||
	    strcmp(a->name, "patRevokedReason") == 0 ||
	    strcmp(a->name, "patRotatedTo") == 0))
		return LDAP_MOD_ADD;
	return MOD_NONE;
}

static int
put_entry(struct fleet *f, struct fleet_op *op, const char *dn,
    const char *oc, struct ent *e, enum put_mode mode, char *why, size_t n)
{
	char *attrs[ENT_ATTRS + 1];
	LDAPMod mods[ENT_ATTRS + 1], *mp[ENT_ATTRS + 2];
	struct berval ocv = { strlen(oc), (char *)oc }, *ocvs[] = { &ocv,
	    NULL };
	LDAPMessage *res = NULL, *cur;
	size_t i, k = 0;
	int rc, msgid, tries;

	for (i = 0; i < e->n; i++)
		attrs[i] = (char *)e->a[i].name;
	attrs[e->n] = NULL;
	for (tries = 0; tries < 2; tries++) {
		if ((rc = read_entry(f, dn, attrs, &res, why, n)) != 0)
			return rc;
		k = 0;
		cur = res ? ldap_first_entry(f->ld, res) : NULL;
		if (cur != NULL && mode == PUT_NEW) {
			ldap_msgfree(res);
			snprintf(why, n, "%s is in the directory already: its "
			    "id counter (cn=next-id,ou=pat) is behind the ids "
			    "it holds; raise patIdCounter above the highest "
			    "patId", dn);
			return LDAP_ALREADY_EXISTS;
		}
		if (cur == NULL && mode == PUT_GROW) {
			ldap_msgfree(res);
			snprintf(why, n, "%s is no longer in the directory",
			    dn);
			return LDAP_NO_SUCH_OBJECT;
		}
		if (cur == NULL) {	/* a new entry: everything it has */
			mods[k].mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES;
			mods[k].mod_type = "objectClass";
			mods[k].mod_bvalues = ocvs;
			mp[k] = &mods[k];
			k++;
		}
		for (i = 0; i < e->n; i++) {
			struct berval **have = cur ? ldap_get_values_len(f->ld,
			    cur, e->a[i].name) : NULL;
			bool same = same_values(have, &e->a[i]);
			int mop = cur == NULL || have == NULL ? LDAP_MOD_ADD :
			    e->a[i].nv == 0 ? LDAP_MOD_DELETE :
			    LDAP_MOD_REPLACE;

			if (cur != NULL && mode == PUT_GROW && !same)
				mop = grow_op(&e->a[i], have);
			ldap_value_free_len(have);
			if (same || mop == MOD_NONE || (cur == NULL &&
			    e->a[i].nv == 0))
				continue;
			mods[k].mod_type = (char *)e->a[i].name;
			mods[k].mod_bvalues = e->a[i].v;
			mods[k].mod_op = LDAP_MOD_BVALUES | mop;
			mp[k] = &mods[k];
			k++;
		}
		mp[k] = NULL;
		if (cur != NULL && k == 0) {
			ldap_msgfree(res);
			return LDAP_SUCCESS;	/* already so */
		}
		rc = cur == NULL ? ldap_add_ext(f->ld, dn, mp, NULL, NULL,
		    &msgid) : ldap_modify_ext(f->ld, dn, mp, NULL, NULL,
		    &msgid);
		ldap_msgfree(res);
		res = NULL;
		if (rc == LDAP_SUCCESS)
			rc = await(f, msgid, NULL, why, n);
		else
			snprintf(why, n, "%s", ldap_err2string(rc));
		/* added meanwhile by someone else: compare again (a role or
		 * a grant; a new token's id taken is an error) */
		if (rc != LDAP_ALREADY_EXISTS || mode != PUT_UPSERT)
			break;
	}
	if (rc == LDAP_SUCCESS)
		rc = wait_for(f, op, dn, false, NULL, why, n);
	return rc;
}

/* Delete dn when it is there; its uuid is waited for. */
static int
del_entry(struct fleet *f, struct fleet_op *op, const char *dn, char *why,
    size_t n)
{
	char *attrs[] = { "entryUUID", NULL }, t[64];
	LDAPMessage *res, *e;
	uint8_t u[16];
	bool have_uuid = false;
	int rc, msgid;

	if ((rc = read_entry(f, dn, attrs, &res, why, n)) != 0)
		return rc;
	if (res == NULL || (e = ldap_first_entry(f->ld, res)) == NULL) {
		ldap_msgfree(res);
		return LDAP_SUCCESS;	/* not there: done */
	}
	attr_text(f->ld, e, "entryUUID", t, sizeof(t));
	have_uuid = uuid_parse(t, u);
	ldap_msgfree(res);
	if ((rc = ldap_delete_ext(f->ld, dn, NULL, NULL, &msgid)) !=
	    LDAP_SUCCESS) {
		snprintf(why, n, "%s", ldap_err2string(rc));
		return rc;
	}
	rc = await(f, msgid, NULL, why, n);
	if (rc == LDAP_NO_SUCH_OBJECT)
		return LDAP_SUCCESS;
	if (rc == LDAP_SUCCESS)
		rc = wait_for(f, op, dn, true, have_uuid ? u : NULL, why, n);
	return rc;
}

/* A deleted role takes its grants along, in the directory as here. */
static int
del_role_grants(struct fleet *f, struct fleet_op *op, const char *role,
    char *why, size_t n)
{
	struct timeval tv = { FLEET_LDAP_SECS, 0 };
	char base[600], filter[200], *attrs[] = { "1.1", NULL }, *dn;
	struct berval rv = { strlen(role), (char *)role }, esc = { 0 };
	LDAPMessage *res = NULL, *e;
	char **dns = NULL;
	size_t nd = 0, i;
	int rc;

	if (ldap_bv2escaped_filter_value(&rv, &esc) != 0)
		return LDAP_NO_MEMORY;
	snprintf(filter, sizeof(filter), "(&(objectClass=patGrant)"
	    "(patRoleName=%s))", esc.bv_val);
	ber_memfree(esc.bv_val);
	snprintf(base, sizeof(base), "ou=grants,%s", f->cfg.fleet_base);
	rc = ldap_search_ext_s(f->ld, base, LDAP_SCOPE_ONELEVEL, filter,
	    attrs, 0, NULL, NULL, &tv, 0, &res);
	if (rc == LDAP_NO_SUCH_OBJECT)
		rc = LDAP_SUCCESS;
	if (rc != LDAP_SUCCESS) {
		ldap_msgfree(res);
		snprintf(why, n, "%s", ldap_err2string(rc));
		return rc;
	}
	/* the DNs first: the deletes below reuse the connection */
	for (e = ldap_first_entry(f->ld, res); e != NULL;
	    e = ldap_next_entry(f->ld, e)) {
		char **nd2 = realloc(dns, (nd + 1) * sizeof(*dns));

		if (nd2 == NULL || (dn = ldap_get_dn(f->ld, e)) == NULL) {
			if (nd2 != NULL)
				dns = nd2;
			rc = LDAP_NO_MEMORY;
			break;
		}
		dns = nd2;
		dns[nd++] = dn;
	}
	ldap_msgfree(res);
	for (i = 0; i < nd; i++) {
		if (rc == LDAP_SUCCESS)
			rc = del_entry(f, op, dns[i], why, n);
		ldap_memfree(dns[i]);
	}
	free(dns);
	return rc;
}

static int
apply_change(struct fleet *f, struct fleet_op *op, struct fleet_change *c,
    char *why, size_t n)
{
	const char *base = f->cfg.fleet_base;
	char dn[1024], v1[3 * STORE_USER_MAX + 1], v2[3 * STORE_ROLE_MAX + 1];
	struct ent e = { 0 };
	int rc;

	switch (c->kind) {
	case 't':
		snprintf(dn, sizeof(dn), "patId=%llu,ou=tokens,%s",
		    (unsigned long long)c->tok->id, base);
		if (ent_token(&e, c) < 0)
			rc = LDAP_NO_MEMORY;
		else
			rc = put_entry(f, op, dn, "patToken", &e, c->fresh ?
			    PUT_NEW : PUT_GROW, why, n);
		break;
	case 'r':
		dn_value(v2, sizeof(v2), c->name);
		snprintf(dn, sizeof(dn), "patRoleName=%s,ou=roles,%s", v2,
		    base);
		if (c->gone) {
			if ((rc = del_role_grants(f, op, c->name, why, n)) ==
			    LDAP_SUCCESS)
				rc = del_entry(f, op, dn, why, n);
		} else if (ent_role(&e, c) < 0)
			rc = LDAP_NO_MEMORY;
		else
			rc = put_entry(f, op, dn, "patRole", &e, PUT_UPSERT,
			    why, n);
		break;
	default:
		dn_value(v1, sizeof(v1), c->name);
		dn_value(v2, sizeof(v2), c->role);
		snprintf(dn, sizeof(dn), "%s=%s+patRoleName=%s,ou=grants,%s",
		    c->kind == 'u' ? "patGrantUser" : "patGrantGroup", v1, v2,
		    base);
		if (c->gone)
			rc = del_entry(f, op, dn, why, n);
		else if (ent_text(&e, c->kind == 'u' ? "patGrantUser" :
		    "patGrantGroup", c->name) < 0 ||
		    ent_text(&e, "patRoleName", c->role) < 0)
			rc = LDAP_NO_MEMORY;
		else
			rc = put_entry(f, op, dn, "patGrant", &e, PUT_UPSERT,
			    why, n);
		break;
	}
	if (rc == LDAP_NO_MEMORY)
		snprintf(why, n, "out of memory");
	ent_free(&e);
	return rc;
}

/* ROTATE's old token must still be live in the directory: this host's
 * copy may not have heard of a revocation (or another rotation) made
 * elsewhere, and a replacement made then would revive a revoked family.
 * An LDAP result code; LDAP_COMPARE_FALSE (why says so) when it is not. */
static int
still_live(struct fleet *f, const struct fleet_change *c, char *why, size_t n)
{
	char dn[600], *attrs[] = { "patRevoked", "patRotatedTo", NULL };
	struct berval **rv, **tv;
	LDAPMessage *res, *e;
	int rc;

	snprintf(dn, sizeof(dn), "patId=%llu,ou=tokens,%s",
	    (unsigned long long)c->tok->id, f->cfg.fleet_base);
	if ((rc = read_entry(f, dn, attrs, &res, why, n)) != 0)
		return rc;
	if (res == NULL || (e = ldap_first_entry(f->ld, res)) == NULL) {
		ldap_msgfree(res);
		snprintf(why, n, "token %llu is not in the fleet directory",
		    (unsigned long long)c->tok->id);
		return LDAP_NO_SUCH_OBJECT;
	}
	rv = ldap_get_values_len(f->ld, e, "patRevoked");
	tv = ldap_get_values_len(f->ld, e, "patRotatedTo");
	rc = rv != NULL || tv != NULL ? LDAP_COMPARE_FALSE : LDAP_SUCCESS;
	if (rc != LDAP_SUCCESS)
		snprintf(why, n, "token %llu was %s in the fleet directory "
		    "(this host had not heard yet); nothing was changed",
		    (unsigned long long)c->tok->id, tv != NULL ? "rotated" :
		    "revoked");
	ldap_value_free_len(rv);
	ldap_value_free_len(tv);
	ldap_msgfree(res);
	return rc;
}

/* One op's changes, in order.  false when the connection failed. */
static bool
run_op(struct fleet *f, struct fleet_op *op)
{
	char why[300];
	size_t i;
	int rc = LDAP_SUCCESS;

	/* a rotation first checks that what it replaces is still live (and
	 * its final add of patRevoked fails if that changes meanwhile) */
	for (i = 0; i < op->n && rc == LDAP_SUCCESS; i++)
		if (op->ch[i].kind == 't' && op->ch[i].rotated_to != 0 &&
		    !op->ch[i].fresh)
			rc = still_live(f, &op->ch[i], why, sizeof(why));
	for (i = 0; i < op->n && rc == LDAP_SUCCESS; i++)
		rc = apply_change(f, op, &op->ch[i], why, sizeof(why));
	if (rc != LDAP_SUCCESS) {
		log_event("fleet", "result=write-refused ldap=%d changes=%zu "
		    "done=%zu", rc, op->n, i > 0 ? i - 1 : 0);
		if (rc == LDAP_ALREADY_EXISTS) {	/* ids taken: new ones */
			pthread_mutex_lock(&f->mu);
			f->nids = 0;
			pthread_mutex_unlock(&f->mu);
		}
		op_refuse(f, op, rc, why);
		return !unreachable(rc);
	}
	log_event("fleet", "result=written changes=%zu", op->n);
	if (op->nw == 0) {
		op_finish(f, op, FLEET_OP_DONE, NULL, NULL);
		return true;
	}
	op->deadline = pat_monotonic_ms() + FLEET_SEE_MS;
	op->next = f->waiting;
	f->waiting = op;
	return true;
}

/* Whether the provider refused id's revocation within the last retry
 * period (then it waits for the retry time); at that time all are tried
 * again. */
static bool
refused_recently(struct fleet *f, uint64_t id)
{
	size_t i;

	if (pat_monotonic_ms() >= f->outbox_retry) {
		f->nrefused = 0;
		return false;
	}
	for (i = 0; i < f->nrefused; i++)
		if (f->refused[i] == id)
			return true;
	return false;
}

/* Whether dn has patRevoked in the directory: 0 yes, 1 no (only its
 * reason), or an LDAP error. */
static int
revoked_there(struct fleet *f, const char *dn, char *why, size_t n)
{
	char *attrs[] = { "patRevoked", NULL };
	struct berval **v;
	LDAPMessage *res, *e;
	int rc;

	if ((rc = read_entry(f, dn, attrs, &res, why, n)) != 0)
		return rc;
	if (res == NULL || (e = ldap_first_entry(f->ld, res)) == NULL) {
		ldap_msgfree(res);
		return LDAP_NO_SUCH_OBJECT;
	}
	v = ldap_get_values_len(f->ld, e, "patRevoked");
	rc = v != NULL && v[0] != NULL ? 0 : 1;
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return rc;
}

/* Whether token id is no longer in this host's store. */
static bool
gone_here(struct fleet *f, uint64_t id)
{
	struct tok_rec *rec = malloc(sizeof(*rec));
	MDB_txn *txn;
	bool gone = false;

	if (rec != NULL && store_begin(f->store, false, &txn) == 0) {
		gone = store_token_get(f->store, txn, id, rec) == -ENOENT;
		store_abort(txn);
	}
	if (rec != NULL)
		explicit_bzero(rec, sizeof(*rec));
	free(rec);
	return gone;
}

/* Push the revocations made here to the provider.  false when the
 * connection failed (they stay queued). */
static bool
push_outbox(struct fleet *f)
{
	char dn[600], why[300], reason[STORE_REASON_MAX + 1], ws[24];
	struct berval wv, rv, *wvs[] = { &wv, NULL }, *rvs[] = { &rv, NULL };
	LDAPMod m1, m2, *mp[3];
	uint64_t id = 0;
	int64_t when;
	bool kept = false, full_pass = pat_monotonic_ms() >= f->outbox_retry;
	MDB_txn *txn;
	int r, rc, msgid;

	for (;;) {
		if (store_begin(f->store, false, &txn) < 0)
			return true;
		r = store_fleetq_next(f->store, txn, id, &id, &when, reason,
		    sizeof(reason));
		atomic_store(&f->outbox_n, store_fleetq_count(f->store, txn));
		store_abort(txn);
		if (r < 0)
			break;
		/* refused a moment ago: not again before the retry time,
		 * however many REVOKEs ask for a push meanwhile */
		if (refused_recently(f, id)) {
			kept = true;
			continue;
		}
		snprintf(dn, sizeof(dn), "patId=%llu,ou=tokens,%s",
		    (unsigned long long)id, f->cfg.fleet_base);
		snprintf(ws, sizeof(ws), "%lld", (long long)when);
		wv.bv_val = ws;
		wv.bv_len = strlen(ws);
		rv.bv_val = reason;
		rv.bv_len = strlen(reason);
		m1.mod_op = m2.mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES;
		m1.mod_type = "patRevoked";
		m1.mod_bvalues = wvs;
		m2.mod_type = "patRevokedReason";
		m2.mod_bvalues = rvs;
		mp[0] = &m1;
		mp[1] = rv.bv_len ? &m2 : NULL;
		mp[2] = NULL;
		rc = ldap_modify_ext(f->ld, dn, mp, NULL, NULL, &msgid);
		if (rc == LDAP_SUCCESS)
			rc = await(f, msgid, NULL, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "%s", ldap_err2string(rc));
		/* a value there already (single-valued: a second one is a
		 * constraint violation): revoked there, or only a reason
		 * set by someone — then patRevoked alone */
		if ((rc == LDAP_TYPE_OR_VALUE_EXISTS ||
		    rc == LDAP_CONSTRAINT_VIOLATION) &&
		    (rc = revoked_there(f, dn, why, sizeof(why))) == 1) {
			mp[1] = NULL;
			rc = ldap_modify_ext(f->ld, dn, mp, NULL, NULL, &msgid);
			if (rc == LDAP_SUCCESS)
				rc = await(f, msgid, NULL, why, sizeof(why));
			if (rc == LDAP_TYPE_OR_VALUE_EXISTS ||
			    rc == LDAP_CONSTRAINT_VIOLATION)
				rc = LDAP_OTHER;	/* cannot be: keep it */
		}
		if (unreachable(rc))
			return false;
		/* no such token there: dropped only when it is gone here too
		 * (deleted in the directory); else kept, as refused */
		if (rc == LDAP_NO_SUCH_OBJECT && gone_here(f, id))
			rc = LDAP_SUCCESS;
		if (rc == LDAP_SUCCESS) {
			log_event("fleet", "result=revoke-sent id=%llu "
			    "ldap=%d", (unsigned long long)id, rc);
			if (batch_txn(f, &txn) == 0 &&
			    store_fleetq_del(f->store, txn, id) == 0)
				batch_commit(f);
			else
				batch_abort(f);
			continue;
		}
		/* refused (this host's identity may not revoke?): it holds
		 * here; tried again later, and said once a minute */
		log_event("fleet", "result=revoke-refused id=%llu ldap=%d "
		    "reason=%s", (unsigned long long)id, rc, why);
		kept = true;
		if (f->nrefused < FLEET_REFUSED_MAX)
			f->refused[f->nrefused++] = id;
		else if (!full_pass)
			break;	/* more refused than remembered: the rest
				 * waits for the retry time, or every REVOKE
				 * would send them all again */
	}
	if (kept && f->outbox_retry <= pat_monotonic_ms())
		f->outbox_retry = pat_monotonic_ms() + FLEET_RECHECK_MS;
	f->outbox_dirty = false;
	return true;
}

/* Who the issuers are, for a host that is not one ("host-1, host-4"). */
static void
read_issuers(struct fleet *f)
{
	struct timeval tv = { FLEET_LDAP_SECS, 0 };
	char dn[600], names[256] = "", *attrs[] = { "member", NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **v;
	size_t i, o = 0;

	snprintf(dn, sizeof(dn), "cn=issuers,ou=pat,%s", f->cfg.fleet_base);
	if (ldap_search_ext_s(f->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)",
	    attrs, 0, NULL, NULL, &tv, 1, &res) == LDAP_SUCCESS &&
	    (e = ldap_first_entry(f->ld, res)) != NULL &&
	    (v = ldap_get_values_len(f->ld, e, "member")) != NULL) {
		for (i = 0; v[i] != NULL && o + 4 < sizeof(names); i++) {
			/* cn=HOST,ou=hosts,…: HOST, printable bytes only */
			const char *p = v[i]->bv_val, *end = p + v[i]->bv_len;

			if (v[i]->bv_len > 3 && strncasecmp(p, "cn=", 3) == 0)
				p += 3;
			if (o > 0)
				o += (size_t)snprintf(names + o,
				    sizeof(names) - o, ", ");
			for (; p < end && *p != ',' && o + 2 < sizeof(names);
			    p++)
				names[o++] = *p > 0x20 && *p < 0x7f ? *p : '?';
			names[o] = '\0';
		}
		ldap_value_free_len(v);
	}
	ldap_msgfree(res);
	pthread_mutex_lock(&f->mu);
	snprintf(f->issuers, sizeof(f->issuers), "%s", names);
	pthread_mutex_unlock(&f->mu);
}

/* The value of attr in a post-read control (RFC 4527) among ctrls. */
static bool
post_read_u64(LDAPControl **ctrls, const char *attr, uint64_t *out)
{
	LDAPControl *c = ldap_control_find(LDAP_CONTROL_POST_READ, ctrls,
	    NULL);
	struct berval bv;
	BerVarray vals = NULL;
	BerElement *ber;
	bool ok = false;
	char t[24];

	if (c == NULL || (ber = ber_init(&c->ldctl_value)) == NULL)
		return false;
	if (ber_scanf(ber, "{m{", &bv) != LBER_ERROR) {
		while (!ok && ber_scanf(ber, "{m", &bv) != LBER_ERROR) {
			if (ber_scanf(ber, "[W]}", &vals) == LBER_ERROR ||
			    vals == NULL)
				break;
			if (bv.bv_len == strlen(attr) && strncasecmp(bv.bv_val,
			    attr, bv.bv_len) == 0 && vals[0].bv_val != NULL &&
			    vals[0].bv_len < sizeof(t)) {
				memcpy(t, vals[0].bv_val, vals[0].bv_len);
				t[vals[0].bv_len] = '\0';
				*out = strtoull(t, NULL, 10);
				ok = *out > 0 && *out <= PAT_TOKEN_ID_MAX;
			}
			ber_bvarray_free(vals);
			vals = NULL;
		}
	}
	ber_free(ber, 1);
	return ok;
}

/* Keep a few token ids from the provider's counter: one Modify-Increment
 * with the post-read control takes FLEET_IDS.  false when the connection
 * failed. */
static bool
refill_ids(struct fleet *f)
{
	char dn[600], why[300], inc[8], *attrs[] = { "patIdCounter", NULL };
	struct berval iv, *ivs[] = { &iv, NULL };
	LDAPControl ctrl = { 0 }, *sc[2] = { &ctrl, NULL }, **rc_ctrls = NULL;
	LDAPMod m, *mp[2] = { &m, NULL };
	BerElement *ber;
	uint64_t top;
	size_t have, i;
	int issuer, rc, msgid;

	pthread_mutex_lock(&f->mu);
	have = f->nids;
	issuer = f->issuer;
	pthread_mutex_unlock(&f->mu);
	/* not an issuer: asked again a minute later; an answer that said
	 * nothing (no counter, a referral, no post-read): 5 s later */
	if (have >= FLEET_IDS || (issuer != 1 && f->issuer_checked != 0 &&
	    pat_monotonic_ms() < f->issuer_checked + (issuer == 0 ? FLEET_RECHECK_MS :
	    5000)))
		return true;
	snprintf(dn, sizeof(dn), "cn=next-id,ou=pat,%s", f->cfg.fleet_base);
	snprintf(inc, sizeof(inc), "%d", FLEET_IDS);
	iv.bv_val = inc;
	iv.bv_len = strlen(inc);
	m.mod_op = LDAP_MOD_INCREMENT | LDAP_MOD_BVALUES;
	m.mod_type = "patIdCounter";
	m.mod_bvalues = ivs;
	if ((ber = ber_alloc_t(LBER_USE_DER)) == NULL)
		return true;
	if (ber_printf(ber, "{v}", attrs) == -1 ||
	    ber_flatten2(ber, &ctrl.ldctl_value, 0) == -1) {
		ber_free(ber, 1);
		return true;
	}
	ctrl.ldctl_oid = LDAP_CONTROL_POST_READ;
	ctrl.ldctl_iscritical = 1;
	rc = ldap_modify_ext(f->ld, dn, mp, sc, NULL, &msgid);
	ber_free(ber, 1);
	if (rc == LDAP_SUCCESS)
		rc = await(f, msgid, &rc_ctrls, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", ldap_err2string(rc));
	if (unreachable(rc)) {
		ldap_controls_free(rc_ctrls);
		return false;
	}
	f->issuer_checked = pat_monotonic_ms();
	if (rc == LDAP_SUCCESS && post_read_u64(rc_ctrls, "patIdCounter",
	    &top) && top >= FLEET_IDS) {
		pthread_mutex_lock(&f->mu);
		for (i = 0; i < FLEET_IDS && f->nids < 2 * FLEET_IDS; i++)
			f->ids[f->nids++] = top - FLEET_IDS + 1 + i;
		if (f->issuer != 1)
			log_event("fleet", "result=issuer ids=%llu-%llu",
			    (unsigned long long)(top - FLEET_IDS + 1),
			    (unsigned long long)top);
		f->issuer = 1;
		pthread_mutex_unlock(&f->mu);
	} else {
		int now = rc == LDAP_SUCCESS || rc == LDAP_INSUFFICIENT_ACCESS
		    || rc == LDAP_STRONG_AUTH_REQUIRED ? 0 : -1;

		pthread_mutex_lock(&f->mu);
		if (f->issuer != now || f->idwhy[0] == '\0')	/* once */
			log_event("fleet", "result=not-issuer ldap=%d "
			    "reason=%s", rc, why);
		f->issuer = now;
		snprintf(f->idwhy, sizeof(f->idwhy), "the id counter "
		    "cn=next-id,ou=pat answered: %.100s", why);
		pthread_mutex_unlock(&f->mu);
		read_issuers(f);
	}
	ldap_controls_free(rc_ctrls);
	return true;
}

int
fleet_take_id(struct fleet *f, uint64_t *id, char *why, size_t n)
{
	int r = 0;

	pthread_mutex_lock(&f->mu);
	if (f->nids > 0) {
		*id = f->ids[0];
		memmove(f->ids, f->ids + 1, --f->nids * sizeof(*f->ids));
	} else if (f->issuer == 0) {
		snprintf(why, n, "this host is not a fleet issuer: tokens are "
		    "created on an issuer host (%s)", f->issuers[0] ?
		    f->issuers : "the directory lists none");
		r = -EPERM;
	} else if (fleet_state(f) != FLEET_CONNECTED) {
		snprintf(why, n, "the fleet directory (%s) cannot be reached: "
		    "no token id can be taken until it is back",
		    f->cfg.fleet_uri);
		r = -EAGAIN;
	} else {
		snprintf(why, n, "no token id is reserved yet%s%s; try again "
		    "in a moment", f->idwhy[0] ? " (" : "", f->idwhy);
		if (f->idwhy[0])
			snprintf(why + strlen(why), n - strlen(why), ")");
		r = -EAGAIN;
	}
	pthread_mutex_unlock(&f->mu);
	poke(f->wakefd);	/* take more */
	return r;
}

/* ---- last use: pushed to a database of its own, read back by SHOW */

bool
fleet_lastuse_on(struct fleet *f)
{
	return f->cfg.fleet_lastuse_base[0] != '\0' &&
	    strcmp(f->cfg.fleet_lastuse_base, "none") != 0;
}

void
fleet_link_begins(struct fleet *f)
{
	struct berval *authz = NULL;
	const char *p, *end;
	size_t o = 0;

	f->host[0] = '\0';
	f->lu_parent = false;
	f->lu_next = pat_monotonic_ms() + (int64_t)f->cfg.fleet_lastuse_interval * 1000;
	/* "dn:cn=HOST,ou=hosts,…": the directory's name for us, the one its
	 * rules for the last-use database know */
	if (!fleet_lastuse_on(f) || ldap_whoami_s(f->ld, &authz, NULL, NULL) !=
	    LDAP_SUCCESS || authz == NULL)
		goto out;
	p = authz->bv_val;
	end = p + authz->bv_len;
	if (authz->bv_len < 6 || strncasecmp(p, "dn:cn=", 6) != 0)
		goto out;
	for (p += 6; p < end && *p != ',' && *p != '+' && *p != '\\' &&
	    o + 1 < sizeof(f->host); p++)
		f->host[o++] = *p;
	f->host[o] = '\0';
	if (p < end && *p != ',')
		f->host[0] = '\0';	/* an unusual name: no pushes */
out:
	if (f->host[0] == '\0' && fleet_lastuse_on(f))
		log_event("fleet", "result=no-lastuse reason=%s", authz ?
		    "bind identity is not cn=HOST,…" : "whoami failed");
	ber_bvfree(authz);
}

/* Push up to FLEET_LU_BATCH last uses recorded here.  false when the
 * connection failed. */
#define FLEET_LU_BATCH	1000
static bool
push_lastuse(struct fleet *f)
{
	char dn[1024], host[3 * STORE_USER_MAX + 1], why[300], ws[24];
	char idt[24];
	struct last_use lu;
	struct berval wv, sv, rv, iv, hv, ocv, *wvs[] = { &wv, NULL },
	    *svs[] = { &sv, NULL }, *rvs[] = { &rv, NULL }, *ivs[] = { &iv,
	    NULL }, *hvs[] = { &hv, NULL }, *ocvs[] = { &ocv, NULL };
	LDAPMod m[6], *mp[4];
	uint64_t ids[FLEET_LU_BATCH], id = 0;
	int64_t whens[FLEET_LU_BATCH];
	size_t n = 0, i, k;
	MDB_txn *txn;
	int rc, msgid;

	if (f->host[0] == '\0' || pat_monotonic_ms() < f->lu_next)
		return true;
	f->lu_next = pat_monotonic_ms() + (int64_t)f->cfg.fleet_lastuse_interval * 1000;
	if (store_begin(f->store, false, &txn) < 0)
		return true;
	while (n < FLEET_LU_BATCH &&
	    store_fleetlu_next(f->store, txn, id, &id) == 0)
		ids[n++] = id;
	store_abort(txn);
	dn_value(host, sizeof(host), f->host);
	if (n > 0 && !f->lu_parent) {	/* cn=HOST under the base, once */
		ocv.bv_val = "device";
		ocv.bv_len = 6;
		hv.bv_val = f->host;
		hv.bv_len = strlen(f->host);
		m[0] = (LDAPMod){ LDAP_MOD_ADD | LDAP_MOD_BVALUES,
		    "objectClass", { .modv_bvals = ocvs } };
		m[1] = (LDAPMod){ LDAP_MOD_ADD | LDAP_MOD_BVALUES, "cn",
		    { .modv_bvals = hvs } };
		mp[0] = &m[0];
		mp[1] = &m[1];
		mp[2] = NULL;
		snprintf(dn, sizeof(dn), "cn=%s,%s", host,
		    f->cfg.fleet_lastuse_base);
		rc = ldap_add_ext(f->ld, dn, mp, NULL, NULL, &msgid);
		rc = rc == LDAP_SUCCESS ? await(f, msgid, NULL, why,
		    sizeof(why)) : rc;
		if (unreachable(rc))
			return false;
		if (rc != LDAP_SUCCESS && rc != LDAP_ALREADY_EXISTS) {
			log_event("fleet", "result=lastuse-refused ldap=%d "
			    "reason=%s", rc, why);
			return true;	/* kept; again next interval */
		}
		f->lu_parent = true;
	}
	for (i = k = 0; i < n; i++) {
		if (store_begin(f->store, false, &txn) < 0)
			break;
		rc = store_lastuse_get(f->store, txn, ids[i], &lu);
		store_abort(txn);
		if (rc < 0) {	/* purged since: nothing to say */
			whens[k] = 0;
			ids[k++] = ids[i];
			continue;
		}
		snprintf(idt, sizeof(idt), "%llu", (unsigned long long)ids[i]);
		snprintf(ws, sizeof(ws), "%lld", (long long)lu.when);
		snprintf(dn, sizeof(dn), "patId=%s,cn=%s,%s", idt, host,
		    f->cfg.fleet_lastuse_base);
		wv = (struct berval){ strlen(ws), ws };
		sv = (struct berval){ strlen(lu.service), lu.service };
		rv = (struct berval){ strlen(lu.rhost), lu.rhost };
		m[0] = (LDAPMod){ LDAP_MOD_REPLACE | LDAP_MOD_BVALUES,
		    "patLastUsed", { .modv_bvals = wvs } };
		m[1] = (LDAPMod){ LDAP_MOD_REPLACE | LDAP_MOD_BVALUES,
		    "patLastService", { .modv_bvals = sv.bv_len ? svs : NULL } };
		m[2] = (LDAPMod){ LDAP_MOD_REPLACE | LDAP_MOD_BVALUES,
		    "patLastRhost", { .modv_bvals = rv.bv_len ? rvs : NULL } };
		mp[0] = &m[0];
		mp[1] = &m[1];
		mp[2] = &m[2];
		mp[3] = NULL;
		rc = ldap_modify_ext(f->ld, dn, mp, NULL, NULL, &msgid);
		rc = rc == LDAP_SUCCESS ? await(f, msgid, NULL, why,
		    sizeof(why)) : rc;
		if (rc == LDAP_NO_SUCH_OBJECT) {	/* its first push */
			LDAPMod *add[7];
			size_t a = 0, j;

			iv = (struct berval){ strlen(idt), idt };
			hv = (struct berval){ strlen(f->host), f->host };
			ocv = (struct berval){ 10, "patLastUse" };
			m[3] = (LDAPMod){ 0, "patId", { .modv_bvals = ivs } };
			m[4] = (LDAPMod){ 0, "patHost", { .modv_bvals = hvs } };
			m[5] = (LDAPMod){ 0, "objectClass",
			    { .modv_bvals = ocvs } };
			/* service and rhost only when there are some */
			for (j = 0; j < 6; j++) {
				m[j].mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES;
				if (m[j].mod_bvalues != NULL)
					add[a++] = &m[j];
			}
			add[a] = NULL;
			rc = ldap_add_ext(f->ld, dn, add, NULL, NULL, &msgid);
			rc = rc == LDAP_SUCCESS ? await(f, msgid, NULL, why,
			    sizeof(why)) : rc;
		}
		if (unreachable(rc))
			return false;
		if (rc != LDAP_SUCCESS) {
			log_event("fleet", "result=lastuse-refused id=%s "
			    "ldap=%d reason=%s", idt, rc, why);
			f->lu_parent = false;	/* made again next time */
			break;	/* kept; again next interval */
		}
		whens[k] = lu.when;
		ids[k++] = ids[i];
	}
	/* what the directory has now is no longer waiting (unless a newer
	 * use came meanwhile: that one goes next time) */
	if (k > 0 && batch_txn(f, &txn) == 0) {
		for (i = 0; i < k; i++) {
			if (whens[i] != 0 && store_lastuse_get(f->store, txn,
			    ids[i], &lu) == 0 && lu.when != whens[i])
				continue;
			if (store_fleetlu_del(f->store, txn, ids[i]) < 0)
				break;
		}
		if (i == k)
			batch_commit(f);
		else
			batch_abort(f);
	}
	if (k > 0)
		log_event("fleet", "result=lastuse-pushed uses=%zu", k);
	return true;
}

/* SHOW's question answered from what the directory said a moment ago:
 * true (op finished), or false (ask it). */
static bool
lookup_seen(struct fleet *f, struct fleet_op *op)
{
	struct fleet_lu_seen *s = &f->lu_seen[op->lookup % FLEET_LU_CACHE];

	if (s->id != op->lookup ||
	    pat_monotonic_ms() - s->at >= FLEET_LU_CACHE_MS)
		return false;
	op->found = s->found;
	op->lu_when = s->when;
	memcpy(op->lu_host, s->host, sizeof(op->lu_host));
	memcpy(op->lu_service, s->service, sizeof(op->lu_service));
	memcpy(op->lu_rhost, s->rhost, sizeof(op->lu_rhost));
	op_finish(f, op, FLEET_OP_DONE, NULL, NULL);
	return true;
}

static void
lookup_keep(struct fleet *f, const struct fleet_op *op)
{
	struct fleet_lu_seen *s = &f->lu_seen[op->lookup % FLEET_LU_CACHE];

	s->id = op->lookup;
	s->at = pat_monotonic_ms();
	s->found = op->found;
	s->when = op->lu_when;
	memcpy(s->host, op->lu_host, sizeof(s->host));
	memcpy(s->service, op->lu_service, sizeof(s->service));
	memcpy(s->rhost, op->lu_rhost, sizeof(s->rhost));
}

/* SHOW's question: the latest use of a token any host recorded. */
static bool
run_lookup(struct fleet *f, struct fleet_op *op)
{
	struct timeval tv = { FLEET_LDAP_SECS, 0 };
	char filter[80], *attrs[] = { "patHost", "patLastUsed",
	    "patLastService", "patLastRhost", NULL }, t[24];
	LDAPMessage *res = NULL, *e;
	int64_t when;
	int rc;

	if (!fleet_lastuse_on(f)) {
		op_finish(f, op, FLEET_OP_DONE, NULL, NULL);
		return true;
	}
	snprintf(filter, sizeof(filter), "(&(objectClass=patLastUse)"
	    "(patId=%llu))", (unsigned long long)op->lookup);
	rc = ldap_search_ext_s(f->ld, f->cfg.fleet_lastuse_base,
	    LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv, 1000, &res);
	if (unreachable(rc)) {
		ldap_msgfree(res);
		op_refuse(f, op, rc, ldap_err2string(rc));
		return false;
	}
	for (e = rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED ?
	    ldap_first_entry(f->ld, res) : NULL; e != NULL;
	    e = ldap_next_entry(f->ld, e)) {
		attr_text(f->ld, e, "patLastUsed", t, sizeof(t));
		when = strtoll(t, NULL, 10);
		if (when <= op->lu_when)
			continue;
		op->found = true;
		op->lu_when = when;
		attr_text(f->ld, e, "patHost", op->lu_host,
		    sizeof(op->lu_host));
		attr_text(f->ld, e, "patLastService", op->lu_service,
		    sizeof(op->lu_service));
		attr_text(f->ld, e, "patLastRhost", op->lu_rhost,
		    sizeof(op->lu_rhost));
	}
	ldap_msgfree(res);
	if (rc == LDAP_SUCCESS || rc == LDAP_NO_SUCH_OBJECT)
		lookup_keep(f, op);	/* an answer, not a refusal */
	op_finish(f, op, FLEET_OP_DONE, NULL, NULL);
	return true;
}

/* The event loop's work and the thread's upkeep, between reads of the
 * stream.  NULL, or why the connection is lost. */
const char *
do_work(struct fleet *f, bool *busy)
{
	struct fleet_op *op, *next, *flushes = NULL;
	size_t nops = 0;
	bool ok = true;

	*busy = false;
	for (op = take_ops(f); op != NULL; op = next) {
		next = op->next;
		if (op->lookup && lookup_seen(f, op))
			continue;	/* no directory operation */
		/* at most FLEET_OPS_TURN directory operations between two
		 * reads of the stream: requests (a loop of SHOWs, say) must
		 * not hold revocations back */
		if (!op->flush && nops == FLEET_OPS_TURN) {
			requeue(f, op);
			*busy = true;
			break;
		}
		if (op->flush) {
			op->next = flushes;
			flushes = op;
			f->outbox_dirty = true;
			continue;
		}
		*busy = true;
		nops++;
		if (!ok) {	/* the connection failed under an earlier one */
			op_refuse(f, op, LDAP_SERVER_DOWN, "connection lost");
			continue;
		}
		ok = op->lookup ? run_lookup(f, op) : run_op(f, op);
	}
	if (ok)
		ok = push_lastuse(f);
	/* revocations any request committed (a REVOKE's flush says so at
	 * once; VERIFY revoking a reused token's family does not) */
	if (!f->outbox_dirty && pat_monotonic_ms() >= f->outbox_retry) {
		MDB_txn *txn;

		if (store_begin(f->store, false, &txn) == 0) {
			f->outbox_dirty = store_fleetq_count(f->store, txn) > 0;
			store_abort(txn);
		}
	}
	if (ok && f->outbox_dirty) {
		*busy = true;
		ok = push_outbox(f);
	}
	for (op = flushes; op != NULL; op = next) {
		next = op->next;
		op_finish(f, op, ok && atomic_load(&f->outbox_n) == 0 ?
		    FLEET_OP_DONE : FLEET_OP_QUEUED, NULL, NULL);
	}
	if (ok)
		ok = refill_ids(f);
	return ok ? NULL : "connection lost during a write";
}
