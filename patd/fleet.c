/* fleet.c - the syncrepl consumer thread of fleet mode; see fleet.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>

#include "fleet.h"
#include "fleet_int.h"
#include "log.h"
#include "perm.h"



enum fleet_state
fleet_state(struct fleet *f)
{
	return (enum fleet_state)atomic_load(&f->state);
}

const char *
fleet_state_name(enum fleet_state st)
{
	return st == FLEET_CONNECTED ? "connected" : st == FLEET_CONNECTING ?
	    "connecting" : "disconnected";
}

uint64_t
fleet_entries(struct fleet *f)
{
	return atomic_load(&f->entries);
}

int64_t
fleet_last(struct fleet *f)
{
	return atomic_load(&f->last);
}

bool
fleet_take_policy_news(struct fleet *f)
{
	return atomic_exchange(&f->policy_news, false);
}

int64_t
fleet_cookie_time(struct fleet *f)
{
	return atomic_load(&f->cookie_time);
}

int64_t
fleet_lag_ms(struct fleet *f)
{
	return atomic_load(&f->lag_ms);
}

const char *
fleet_issuer(struct fleet *f)
{
	int v;

	pthread_mutex_lock(&f->mu);
	v = f->issuer;
	pthread_mutex_unlock(&f->mu);
	return v == 1 ? "yes" : v == 0 ? "no" : "unknown";
}

/* CLOCK_REALTIME in ms: the provider's CSNs are wall-clock times */
static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the batch: changes and the cookie, committed together */

int
batch_txn(struct fleet *f, MDB_txn **txn)
{
	int r;

	if (f->txn == NULL && (r = store_begin(f->store, true, &f->txn)) < 0)
		return r;
	*txn = f->txn;
	return 0;
}

int
batch_commit(struct fleet *f)
{
	int r;

	if (f->txn == NULL)
		return 0;
	r = store_commit(f->txn);
	f->txn = NULL;
	f->batch = 0;
	if (r == 0 && f->staged_n > 0) {
		atomic_fetch_add(&f->entries, f->staged_n);
		atomic_store(&f->last, (int64_t)time(NULL));
	}
	if (r == 0 && f->staged_at > 0)
		atomic_store(&f->lag_ms, real_ms() - f->staged_at);
	f->staged_n = 0;
	f->staged_at = 0;
	f->batch_seq++;		/* owners are looked up again */
	settle_waiting(f, r == 0);
	return r;
}

void
batch_abort(struct fleet *f)
{
	if (f->txn != NULL)
		store_abort(f->txn);
	f->txn = NULL;
	f->batch = 0;
	f->staged_n = 0;
	f->staged_at = 0;
	f->batch_seq++;
	settle_waiting(f, false);
}

/* A CSN's time ("20261128093000.123456Z#…") in ms since the epoch; 0
 * when it is not one. */
static int64_t
csn_ms(const char *csn)
{
	struct tm tm = { 0 };
	const char *p = csn;
	int v[6], len[6] = { 4, 2, 2, 2, 2, 2 }, i, k;
	long us = 0;

	for (i = 0; i < 6; i++) {
		for (v[i] = 0, k = 0; k < len[i]; k++, p++) {
			if (*p < '0' || *p > '9')
				return 0;
			v[i] = v[i] * 10 + (*p - '0');
		}
	}
	if (*p == '.')
		for (p++, k = 0; *p >= '0' && *p <= '9'; p++, k++)
			if (k < 6)
				us = us * 10 + (*p - '0');
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	return (int64_t)timegm(&tm) * 1000 + us / 1000;
}

/* The newest CSN in a cookie ("rid=000,csn=A;B"): how current we are. */
static void
note_cookie(struct fleet *f, const char *cookie)
{
	char tmp[FLEET_COOKIE_MAX + 1], *p = tmp, *part, *c, *one;
	int64_t t, newest = 0;

	snprintf(tmp, sizeof(tmp), "%s", cookie);
	while ((part = strsep(&p, ",")) != NULL) {
		if (strncmp(part, "csn=", 4) != 0)
			continue;
		for (c = part + 4; (one = strsep(&c, ";")) != NULL;)
			if ((t = csn_ms(one)) > newest)
				newest = t;
	}
	if (newest > 0)
		atomic_store(&f->cookie_time, newest / 1000);
}

/* The csn= list of a cookie ("" when none) into out. */
static void
cookie_csns(const char *cookie, char *out, size_t n)
{
	const char *p = strstr(cookie, "csn=");
	size_t len;

	out[0] = '\0';
	if (p == NULL || (p != cookie && p[-1] != ','))
		return;
	p += 4;
	len = strcspn(p, ",");
	if (len < n) {
		memcpy(out, p, len);
		out[len] = '\0';
	}
}

/* A CSN's server id: its third '#' field ("…Z#000000#001#000000"). */
static size_t
csn_sid(const char *csn, size_t len, const char **sid)
{
	const char *e = csn + len, *p = csn;
	int k;

	for (k = 0; k < 2; k++) {
		while (p < e && *p != '#')
			p++;
		if (p == e)
			return 0;
		p++;
	}
	*sid = p;
	while (p < e && *p != '#')
		p++;
	return (size_t)(p - *sid);
}

#define FLEET_CSNS	64	/* servers a cookie keeps CSNs of */

/* The ';'-joined CSNs of list (up to ',' or the end) into v[], lens[]. */
static size_t
split_csns(const char *list, const char **v, size_t *lens, size_t max)
{
	size_t n = 0, l;

	for (; *list && *list != ',' && n < max; list += l) {
		l = strcspn(list, ";,");
		if (l > 0) {
			v[n] = list;
			lens[n++] = l;
		}
		if (list[l] == ';')
			l++;
	}
	return n;
}

/* Merge the CSNs of add into have: per server id, the newest (CSNs of
 * one server compare as text: their time comes first). */
static void
merge_csns(char *have, size_t n, const char *add)
{
	char old[FLEET_COOKIE_MAX + 1], out[FLEET_COOKIE_MAX + 1];
	const char *v[FLEET_CSNS], *a[FLEET_CSNS], *vs, *as;
	size_t vl[FLEET_CSNS], al[FLEET_CSNS], nv, na, i, k, o = 0, vsl, asl;
	int c;

	snprintf(old, sizeof(old), "%s", have);
	nv = split_csns(old, v, vl, FLEET_CSNS);
	na = split_csns(add, a, al, FLEET_CSNS);
	for (i = 0; i < na; i++) {
		asl = csn_sid(a[i], al[i], &as);
		for (k = 0; k < nv; k++) {
			vsl = csn_sid(v[k], vl[k], &vs);
			if (vsl == asl && memcmp(vs, as, asl) == 0)
				break;
		}
		if (k == nv) {		/* a server we had no CSN of */
			if (nv < FLEET_CSNS) {
				v[nv] = a[i];
				vl[nv++] = al[i];
			}
			continue;
		}
		c = memcmp(a[i], v[k], al[i] < vl[k] ? al[i] : vl[k]);
		if (c > 0 || (c == 0 && al[i] > vl[k])) {
			v[k] = a[i];
			vl[k] = al[i];
		}
	}
	for (k = 0; k < nv && o + vl[k] + 2 < sizeof(out); k++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s",
		    o ? ";" : "", (int)vl[k], v[k]);
	out[o] = '\0';
	snprintf(have, n, "%s", out);
}

static int
set_cookie(struct fleet *f, const struct berval *c)
{
	char buf[FLEET_COOKIE_MAX + 1], out[FLEET_COOKIE_MAX + 1], *p, *part;
	char csns[FLEET_COOKIE_MAX + 1];
	MDB_txn *txn;
	size_t o = 0;
	int r;

	if (c->bv_len == 0 || c->bv_len > FLEET_COOKIE_MAX)
		return 0;
	/* keep every CSN but not the provider's sid=: replayed to another
	 * provider it would pass us for that server, and we would never be
	 * sent the changes made there (issue 16's traps) */
	memcpy(buf, c->bv_val, c->bv_len);
	buf[c->bv_len] = '\0';
	cookie_csns(f->cookie, csns, sizeof(csns));
	for (p = buf; (part = strsep(&p, ",")) != NULL;) {
		if (strncmp(part, "sid=", 4) == 0)
			continue;
		/* a persist-phase cookie carries the CSN of the server a
		 * change came from only: merged with what we had, per
		 * server id, or the others' would be lost (and a failover
		 * to another provider would resend, or miss, its changes) */
		if (strncmp(part, "csn=", 4) == 0) {
			merge_csns(csns, sizeof(csns), part + 4);
			continue;
		}
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
		    o ? "," : "", part);
	}
	if (csns[0] != '\0')
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%scsn=%s",
		    o ? "," : "", csns);
	if (o >= sizeof(out))
		return 0;	/* too long to keep: the last one stays */
	if ((r = batch_txn(f, &txn)) < 0)
		return r;
	note_cookie(f, out);
	memcpy(f->cookie, out, o + 1);
	return store_meta_put(f->store, txn, "fleet_cookie", out, o);
}

/* ---- entries into records */

/* The first value of attr as text in out (n bytes); "" when absent. */
void
attr_text(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t n)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);

	out[0] = '\0';
	if (v != NULL && v[0] != NULL && v[0]->bv_len < n) {
		memcpy(out, v[0]->bv_val, v[0]->bv_len);
		out[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
}

/* Every value of attr joined with ',' (patd's list form). */
static void
attr_list(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t n)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	size_t o = 0, i;

	out[0] = '\0';
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (o + v[i]->bv_len + 2 > n)
			break;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, v[i]->bv_val, v[i]->bv_len);
		o += v[i]->bv_len;
		out[o] = '\0';
	}
	ldap_value_free_len(v);
}

static int64_t
attr_int(LDAP *ld, LDAPMessage *e, const char *attr)
{
	char t[32];

	attr_text(ld, e, attr, t, sizeof(t));
	return t[0] ? strtoll(t, NULL, 10) : 0;
}

static bool
has_class(LDAP *ld, LDAPMessage *e, const char *oc)
{
	struct berval **v = ldap_get_values_len(ld, e, "objectClass");
	bool yes = false;
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strlen(oc) == v[i]->bv_len &&
		    strncasecmp(v[i]->bv_val, oc, v[i]->bv_len) == 0)
			yes = true;
	ldap_value_free_len(v);
	return yes;
}

/* Remove the record a directory entry became (kind, key). */
static int
remove_record(struct fleet *f, MDB_txn *txn, char kind, const char *key)
{
	char who[FLEET_KEY_MAX + 1], *slash;
	struct tok_rec rec;
	int r;

	switch (kind) {
	case 't':
		r = store_token_get(f->store, txn, strtoull(key, NULL, 10), &rec);
		if (r == 0)
			r = store_token_del(f->store, txn, &rec);
		break;
	case 'r':
		r = store_role_del(f->store, txn, key);
		break;
	case 'u':
	case 'g':
		snprintf(who, sizeof(who), "%s", key);
		if ((slash = strchr(who, '/')) == NULL)
			return 0;
		*slash = '\0';
		r = store_grant_del(f->store, txn, kind, who, slash + 1);
		break;
	default:
		return 0;
	}
	return r == -ENOENT ? 0 : r;
}

static int
remove_uuid(struct fleet *f, MDB_txn *txn, const uint8_t uuid[16])
{
	char kind, key[FLEET_KEY_MAX + 1];
	int r;

	note_applied(f, uuid, NULL);
	r = store_fleet_get(f->store, txn, uuid, &kind, key, sizeof(key));
	if (r == -ENOENT)
		return 0;
	if (r < 0 || (r = remove_record(f, txn, kind, key)) < 0)
		return r;
	return store_fleet_del(f->store, txn, uuid);
}

/*
 * The thread's NSS lookups are kept out of fork(): patd forks its login
 * children from the event loop, and a child forked while this thread was
 * inside getpwnam_r could find glibc's NSS locks held for good (its PAM
 * conversation would then hang until login_timeout).  fork() takes the
 * gate first (pthread_atfork), so it waits for a lookup to end.
 */
static pthread_mutex_t nss_gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t nss_gate_once = PTHREAD_ONCE_INIT;

static void
nss_gate_lock(void)
{
	pthread_mutex_lock(&nss_gate);
}

static void
nss_gate_unlock(void)
{
	pthread_mutex_unlock(&nss_gate);
}

static void
nss_gate_init(void)
{
	pthread_atfork(nss_gate_lock, nss_gate_unlock, nss_gate_unlock);
}

/* A patToken entry into the store.  1: skipped (owner unknown here). */
static int
apply_token(struct fleet *f, MDB_txn *txn, LDAPMessage *e, char *key,
    size_t keyn)
{
	static struct tok_rec rec, old;	/* the thread's alone: 9 KiB */
	struct berval **hv;
	struct passwd pw, *pp = NULL;
	char pwbuf[4096], reason[STORE_REASON_MAX + 1];
	uint64_t rotated;
	bool had;
	int r;

	memset(&rec, 0, sizeof(rec));
	rec.id = (uint64_t)attr_int(f->ld, e, "patId");
	if (rec.id == 0 || rec.id > PAT_TOKEN_ID_MAX)
		return -EINVAL;
	hv = ldap_get_values_len(f->ld, e, "patHash");
	if (hv == NULL || hv[0] == NULL || hv[0]->bv_len != PAT_HASH_LEN) {
		ldap_value_free_len(hv);
		return -EINVAL;
	}
	memcpy(rec.hash, hv[0]->bv_val, PAT_HASH_LEN);
	ldap_value_free_len(hv);
	attr_text(f->ld, e, "patUser", rec.user, sizeof(rec.user));
	/* the owner is whoever that name is on this host */
	/* one lookup per owner and batch: a refresh sends a user's tokens
	 * together, and a batch commits within milliseconds */
	if (rec.user[0] != '\0' && f->owner_batch == f->batch_seq &&
	    strcmp(rec.user, f->owner) == 0) {
		pw.pw_uid = f->owner_uid;
		pp = f->owner_known ? &pw : NULL;
	} else if (rec.user[0] != '\0') {
		nss_gate_lock();
		if (getpwnam_r(rec.user, &pw, pwbuf, sizeof(pwbuf), &pp) != 0)
			pp = NULL;
		nss_gate_unlock();
		snprintf(f->owner, sizeof(f->owner), "%s", rec.user);
		f->owner_known = pp != NULL;
		f->owner_uid = pp != NULL ? pp->pw_uid : 0;
		f->owner_batch = f->batch_seq;
	}
	if (rec.user[0] == '\0' || pp == NULL) {
		f->unresolved++;
		if (!f->refreshing)	/* a refresh counts them in one line */
			log_event("fleet", "result=skipped reason=unresolved "
			    "id=%llu user=%s", (unsigned long long)rec.id,
			    rec.user);
		return 1;
	}
	rec.uid = pp->pw_uid;
	rec.parent = (uint64_t)attr_int(f->ld, e, "patParent");
	rec.created = attr_int(f->ld, e, "patCreated");
	rec.expires = attr_int(f->ld, e, "patExpires");
	rec.revoked = attr_int(f->ld, e, "patRevoked");
	/* present is revoked, whatever the value: "0", negative or too long
	 * for us must not read as "not revoked" (a host may add one value,
	 * never remove it: a 0 would make the token unrevocable) */
	hv = ldap_get_values_len(f->ld, e, "patRevoked");
	if (hv != NULL && hv[0] != NULL && rec.revoked <= 0)
		rec.revoked = 1;
	ldap_value_free_len(hv);
	rec.uses = (uint32_t)attr_int(f->ld, e, "patUses");
	attr_text(f->ld, e, "patName", rec.name, sizeof(rec.name));
	attr_text(f->ld, e, "patRoleName", rec.role, sizeof(rec.role));
	attr_text(f->ld, e, "patBy", rec.by, sizeof(rec.by));
	attr_list(f->ld, e, "patCap", rec.cap, sizeof(rec.cap));
	attr_list(f->ld, e, "patBindFrom", rec.bind_from, sizeof(rec.bind_from));
	attr_list(f->ld, e, "patBindService", rec.bind_service,
	    sizeof(rec.bind_service));
	r = store_token_get(f->store, txn, rec.id, &old);
	if (r < 0 && r != -ENOENT)
		return r;
	had = r == 0;
	/* a local revocation is never undone by the stream */
	if (had && old.revoked != 0 && rec.revoked == 0)
		rec.revoked = old.revoked;
	if ((r = store_token_put(f->store, txn, &rec, had ? old.parent : 0)) < 0)
		return r;
	attr_text(f->ld, e, "patRevokedReason", reason, sizeof(reason));
	if (reason[0] != '\0' &&
	    (r = store_reason_put(f->store, txn, rec.id, reason)) < 0)
		return r;
	rotated = (uint64_t)attr_int(f->ld, e, "patRotatedTo");
	if (rotated != 0 &&
	    (r = store_rotated_put(f->store, txn, rec.id, rotated)) < 0)
		return r;
	snprintf(key, keyn, "%llu", (unsigned long long)rec.id);
	return 0;
}

static int
apply_role(struct fleet *f, MDB_txn *txn, LDAPMessage *e, char *key,
    size_t keyn)
{
	struct berval **v = ldap_get_values_len(f->ld, e, "patPermission");
	struct pat_permset ps;
	struct role_policy pol;
	char name[STORE_ROLE_MAX + 1], p[512];
	size_t i;
	int r = 0;

	attr_text(f->ld, e, "patRoleName", name, sizeof(name));
	if (name[0] == '\0') {
		ldap_value_free_len(v);
		return -EINVAL;
	}
	pat_permset_init(&ps);
	for (i = 0; v != NULL && v[i] != NULL && r == 0; i++) {
		if (v[i]->bv_len >= sizeof(p))
			continue;
		memcpy(p, v[i]->bv_val, v[i]->bv_len);
		p[v[i]->bv_len] = '\0';
		if (pat_perm_valid(p))
			r = pat_permset_add(&ps, p);
	}
	ldap_value_free_len(v);
	if (r == 0)
		r = store_role_put(f->store, txn, name, &ps);
	pat_permset_free(&ps);
	if (r < 0)
		return r;
	pol.max_lifetime = attr_int(f->ld, e, "patMaxLifetime");
	pol.default_lifetime = attr_int(f->ld, e, "patDefaultLifetime");
	pol.max_idle = attr_int(f->ld, e, "patMaxIdle");
	if ((r = store_policy_put(f->store, txn, name, &pol)) < 0)
		return r;
	if (pol.max_lifetime || pol.default_lifetime || pol.max_idle)
		atomic_store(&f->policy_news, true);
	snprintf(key, keyn, "%s", name);
	return 0;
}

static int
apply_grant(struct fleet *f, MDB_txn *txn, LDAPMessage *e, char *kind,
    char *key, size_t keyn)
{
	char who[STORE_USER_MAX + 1], role[STORE_ROLE_MAX + 1];
	int r;

	attr_text(f->ld, e, "patRoleName", role, sizeof(role));
	attr_text(f->ld, e, "patGrantUser", who, sizeof(who));
	*kind = 'u';
	if (who[0] == '\0') {
		attr_text(f->ld, e, "patGrantGroup", who, sizeof(who));
		*kind = 'g';
	}
	if (who[0] == '\0' || role[0] == '\0' || strchr(who, '/'))
		return -EINVAL;
	if ((r = store_grant_put(f->store, txn, *kind, who, role)) < 0)
		return r;
	snprintf(key, keyn, "%s/%s", who, role);
	return 0;
}

/* An added or changed entry: apply it and remember what it became. */
static int
apply_entry(struct fleet *f, LDAPMessage *e, const uint8_t uuid[16])
{
	char kind, okind, key[FLEET_KEY_MAX + 1], okey[FLEET_KEY_MAX + 1];
	MDB_txn *txn;
	int r;

	if ((r = batch_txn(f, &txn)) < 0)
		return r;
	key[0] = '\0';
	if (has_class(f->ld, e, "patToken")) {
		kind = 't';
		r = apply_token(f, txn, e, key, sizeof(key));
	} else if (has_class(f->ld, e, "patRole")) {
		kind = 'r';
		r = apply_role(f, txn, e, key, sizeof(key));
	} else if (has_class(f->ld, e, "patGrant")) {
		r = apply_grant(f, txn, e, &kind, key, sizeof(key));
	} else {
		return 0;
	}
	if (r == -EINVAL) {
		char *dn = ldap_get_dn(f->ld, e);

		log_event("fleet", "result=skipped reason=bad-entry dn=%s",
		    dn ? dn : "?");
		ldap_memfree(dn);
		return 0;
	}
	if (r < 0)
		return r;
	/* what it was before, when that was something else: gone */
	if (store_fleet_get(f->store, txn, uuid, &okind, okey,
	    sizeof(okey)) == 0 && (okind != kind || strcmp(okey, key) != 0 ||
	    r == 1) && (r = remove_record(f, txn, okind, okey)) < 0)
		return r;
	if (key[0] == '\0') {	/* skipped */
		r = store_fleet_del(f->store, txn, uuid);
		return r == -ENOENT ? 0 : r;
	}
	return store_fleet_put(f->store, txn, uuid, kind, key);
}

/* ---- the present phase: entries not reported are gone */

static int
uuid_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static void
seen_add(struct fleet *f, const uint8_t uuid[16])
{
	if (f->nseen == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		void *p = realloc(f->seen, cap * 16);

		if (p == NULL) {
			f->seen_lost = true;	/* then nothing is removed */
			return;
		}
		f->seen = p;
		f->cap = cap;
	}
	memcpy(f->seen[f->nseen++], uuid, 16);
}

struct sweep_arg {
	struct fleet	*f;
	uint8_t		(*gone)[16];
	size_t		 n, cap;
};

static int
note_unseen(const uint8_t *uuid, char kind, const char *key, void *arg)
{
	struct sweep_arg *a = arg;

	(void)kind;
	(void)key;
	if (bsearch(uuid, a->f->seen, a->f->nseen, 16, uuid_cmp) != NULL)
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		void *p = realloc(a->gone, cap * 16);

		if (p == NULL)
			return -ENOMEM;
		a->gone = p;
		a->cap = cap;
	}
	memcpy(a->gone[a->n++], uuid, 16);
	return 0;
}

/* After a refresh whose present phase reported every entry: remove what
 * the store has from the directory that was not reported. */
static int
remove_unseen(struct fleet *f)
{
	struct sweep_arg a = { f, NULL, 0, 0 };
	MDB_txn *txn;
	size_t i;
	int r;

	qsort(f->seen, f->nseen, 16, uuid_cmp);
	if ((r = batch_txn(f, &txn)) < 0)
		return r;
	r = store_fleet_walk(f->store, txn, note_unseen, &a);
	for (i = 0; r == 0 && i < a.n; i++)
		r = remove_uuid(f, txn, a.gone[i]);
	if (a.n > 0)
		log_event("fleet", "result=removed entries=%zu reason=not-present",
		    a.n);
	free(a.gone);
	return r;
}

/* ---- messages */

/* n changes staged in the open batch: STATUS counts them once it commits */
static void
applied(struct fleet *f, uint64_t n)
{
	f->staged_n += n;
}

static int
on_entry(struct fleet *f, LDAPMessage *m)
{
	LDAPControl **ctrls = NULL;
	BerElement *ber;
	struct berval uuid = { 0 }, cookie = { 0 };
	ber_len_t len;
	int state = -1, k, r = 0;
	uint8_t u[16];

	ldap_get_entry_controls(f->ld, m, &ctrls);
	for (k = 0; ctrls && ctrls[k]; k++)
		if (!strcmp(ctrls[k]->ldctl_oid, LDAP_CONTROL_SYNC_STATE))
			break;
	if (!ctrls || !ctrls[k]) {
		ldap_controls_free(ctrls);
		return -EPROTO;
	}
	ber = ber_init(&ctrls[k]->ldctl_value);
	if (ber == NULL || ber_scanf(ber, "{em", &state, &uuid) == LBER_ERROR ||
	    uuid.bv_len != 16) {
		if (ber)
			ber_free(ber, 1);
		ldap_controls_free(ctrls);
		return -EPROTO;
	}
	memcpy(u, uuid.bv_val, 16);
	if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE)
		ber_scanf(ber, "m", &cookie);
	if (f->refreshing)
		seen_add(f, u);
	switch (state) {
	case LDAP_SYNC_PRESENT:
		f->got_present = true;
		break;
	case LDAP_SYNC_ADD:
	case LDAP_SYNC_MODIFY:
		if ((r = apply_entry(f, m, u)) == 0) {
			char csn[64];
			int64_t at;

			attr_text(f->ld, m, "entryCSN", csn, sizeof(csn));
			note_applied(f, u, csn);
			if (!f->refreshing && (at = csn_ms(csn)) > 0)
				f->staged_at = at;
			applied(f, 1);
			f->batch++;
			if (f->refreshing)
				f->refreshed++;
			else {
				char buf[40];

				attr_text(f->ld, m, "patId", buf, sizeof(buf));
				log_event("fleet", "result=applied id=%s",
				    buf[0] ? buf : "-");
			}
		}
		break;
	case LDAP_SYNC_DELETE: {
		MDB_txn *txn;

		if ((r = batch_txn(f, &txn)) == 0 &&
		    (r = remove_uuid(f, txn, u)) == 0) {
			applied(f, 1);
			f->batch++;
		}
		break;
	}
	}
	if (r == 0 && cookie.bv_len > 0)
		r = set_cookie(f, &cookie);
	ber_free(ber, 1);
	ldap_controls_free(ctrls);
	return r;
}

static int
refresh_done(struct fleet *f, bool present)
{
	int r = 0;

	if (!f->refreshing)
		return 0;
	/* a refresh ending in refreshPresent had a present phase: every
	 * entry in the content was named (as present, or sent whole), so
	 * what it did not name is gone (RFC 4533 3.4.1).  A provider with
	 * nothing to say ends in refreshDelete instead, and so does one
	 * sending everything to a consumer without a cookie (a reload):
	 * then too every entry was named.  Unless a uuid
	 * could not be noted: then nothing is removed */
	if ((present || !f->had_cookie) && !f->seen_lost)
		r = remove_unseen(f);
	f->seen_lost = false;
	f->refreshing = false;
	free(f->seen);
	f->seen = NULL;
	f->nseen = f->cap = 0;
	log_event("fleet", "result=refresh-done entries=%llu unresolved=%llu",
	    (unsigned long long)f->refreshed,
	    (unsigned long long)f->unresolved);
	return r;
}

static int
on_intermediate(struct fleet *f, LDAPMessage *m)
{
	struct berval *data = NULL, cookie = { 0 };
	char *oid = NULL;
	BerElement *ber;
	ber_len_t len;
	ber_tag_t tag;
	int r = 0, rd, del;

	if (ldap_parse_intermediate(f->ld, m, &oid, &data, NULL, 0) != 0 ||
	    oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0 || data == NULL) {
		ldap_memfree(oid);
		ber_bvfree(data);
		return 0;
	}
	ber = ber_init(data);
	tag = ber_peek_tag(ber, &len);
	if (tag == LDAP_TAG_SYNC_NEW_COOKIE) {
		if (ber_scanf(ber, "m", &cookie) != LBER_ERROR)
			r = set_cookie(f, &cookie);
	} else if (tag == LDAP_TAG_SYNC_REFRESH_DELETE ||
	    tag == LDAP_TAG_SYNC_REFRESH_PRESENT) {
		rd = 1;
		ber_scanf(ber, "{");
		if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
		    ber_scanf(ber, "m", &cookie) != LBER_ERROR)
			r = set_cookie(f, &cookie);
		if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDONE)
			ber_scanf(ber, "b", &rd);
		if (r == 0 && rd)
			r = refresh_done(f,
			    tag == LDAP_TAG_SYNC_REFRESH_PRESENT);
	} else if (tag == LDAP_TAG_SYNC_ID_SET) {
		BerVarray u = NULL;
		MDB_txn *txn = NULL;
		size_t k;

		del = 0;
		ber_scanf(ber, "{");
		if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE)
			ber_scanf(ber, "m", &cookie);
		if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDELETES)
			ber_scanf(ber, "b", &del);
		if (ber_scanf(ber, "[W]}", &u) != LBER_ERROR && u != NULL) {
			if (del)
				r = batch_txn(f, &txn);
			for (k = 0; r == 0 && u[k].bv_val; k++) {
				if (u[k].bv_len != 16)
					continue;
				if (del) {
					if ((r = remove_uuid(f, txn,
					    (uint8_t *)u[k].bv_val)) == 0)
						applied(f, 1);
				} else {
					f->got_present = true;
					seen_add(f, (uint8_t *)u[k].bv_val);
				}
			}
			ber_bvarray_free(u);
		}
		if (r == 0 && cookie.bv_len > 0)
			r = set_cookie(f, &cookie);
	}
	ber_free(ber, 1);
	ldap_memfree(oid);
	ber_bvfree(data);
	return r;
}

/* ---- the connection */

static int
load_cookie(struct fleet *f, struct berval *c, char *buf, size_t n)
{
	MDB_txn *txn;
	size_t len = 0;
	int r;

	c->bv_len = 0;
	c->bv_val = NULL;
	if ((r = store_begin(f->store, false, &txn)) < 0)
		return r;
	r = store_meta_get(f->store, txn, "fleet_cookie", buf, n, &len);
	store_abort(txn);
	f->cookie[0] = '\0';
	if (r == 0 && len > 0 && len < n) {
		c->bv_len = len;
		c->bv_val = buf;
		buf[len] = '\0';
		note_cookie(f, buf);
		snprintf(f->cookie, sizeof(f->cookie), "%s", buf);
	}
	return r == -ENOENT ? 0 : r;
}

static int
drop_cookie(struct fleet *f)
{
	MDB_txn *txn;
	int r;

	if ((r = batch_txn(f, &txn)) < 0)
		return r;
	if ((r = store_meta_put(f->store, txn, "fleet_cookie", "", 0)) < 0)
		return r;
	f->cookie[0] = '\0';
	return batch_commit(f);
}

/* Connect, bind and start the sync search.  0, or a reason (static). */
static const char *
open_sync(struct fleet *f)
{
	static char why[160];
	char cbuf[FLEET_COOKIE_MAX + 1];
	struct berval cookie, cred;
	LDAPControl ctrl = { 0 }, *ctrls[2] = { &ctrl, NULL };
	BerElement *ber;
	struct timeval tv = { 5, 0 };
	int v = LDAP_VERSION3, rc, ka_idle = 60, ka_probes = 3, ka_intvl = 10;
	char *attrs[] = { "objectClass", "entryUUID", "patId", "patHash",
	    "patUser", "patRoleName", "patCap", "patParent", "patCreated",
	    "patExpires", "patRevoked", "patRevokedReason", "patName", "patBy",
	    "patBindFrom", "patBindService", "patUses", "patRotatedTo",
	    "patPermission", "patMaxLifetime", "patDefaultLifetime",
	    "patMaxIdle", "patGrantUser", "patGrantGroup", "entryCSN", NULL };

	if ((rc = ldap_initialize(&f->ld, f->cfg.fleet_uri)) != LDAP_SUCCESS)
		goto fail;
	ldap_set_option(f->ld, LDAP_OPT_PROTOCOL_VERSION, &v);
	ldap_set_option(f->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(f->ld, LDAP_OPT_TIMEOUT, &tv);
	/* an idle link a NAT or firewall dropped is noticed within about a
	 * minute and a half (else revocations would stop coming while
	 * STATUS still says connected) */
	ldap_set_option(f->ld, LDAP_OPT_X_KEEPALIVE_IDLE, &ka_idle);
	ldap_set_option(f->ld, LDAP_OPT_X_KEEPALIVE_PROBES, &ka_probes);
	ldap_set_option(f->ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &ka_intvl);
	if (f->cfg.fleet_tls_cacert[0])
		ldap_set_option(f->ld, LDAP_OPT_X_TLS_CACERTFILE,
		    f->cfg.fleet_tls_cacert);
	if (f->cfg.fleet_tls_cert[0])
		ldap_set_option(f->ld, LDAP_OPT_X_TLS_CERTFILE,
		    f->cfg.fleet_tls_cert);
	if (f->cfg.fleet_tls_key[0])
		ldap_set_option(f->ld, LDAP_OPT_X_TLS_KEYFILE,
		    f->cfg.fleet_tls_key);
	if (f->cfg.fleet_tls_cacert[0] || f->cfg.fleet_tls_cert[0]) {
		int zero = 0;

		ldap_set_option(f->ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
		if (strncasecmp(f->cfg.fleet_uri, "ldaps:", 6) != 0 &&
		    (rc = ldap_start_tls_s(f->ld, NULL, NULL)) != LDAP_SUCCESS)
			goto fail;
	}
	if (f->cfg.fleet_bind_dn[0]) {
		cred.bv_val = f->password;
		cred.bv_len = strlen(f->password);
		rc = ldap_sasl_bind_s(f->ld, f->cfg.fleet_bind_dn,
		    LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	} else {
		/* an empty initial response, not none: without one slapd
		 * answers saslBindInProgress and waits for a second round */
		cred.bv_val = (char *)"";
		cred.bv_len = 0;
		rc = ldap_sasl_bind_s(f->ld, NULL, "EXTERNAL", &cred, NULL,
		    NULL, NULL);
	}
	if (rc != LDAP_SUCCESS)
		goto fail;
	if ((rc = load_cookie(f, &cookie, cbuf, sizeof(cbuf))) < 0) {
		snprintf(why, sizeof(why), "store: %s", store_strerror(rc));
		return why;
	}
	ber = ber_alloc_t(LBER_USE_DER);
	if (cookie.bv_len)
		ber_printf(ber, "{eOb}", LDAP_SYNC_REFRESH_AND_PERSIST,
		    &cookie, 0);
	else
		ber_printf(ber, "{eb}", LDAP_SYNC_REFRESH_AND_PERSIST, 0);
	ber_flatten2(ber, &ctrl.ldctl_value, 0);
	ctrl.ldctl_oid = LDAP_CONTROL_SYNC;
	ctrl.ldctl_iscritical = 1;
	rc = ldap_search_ext(f->ld, f->cfg.fleet_base, LDAP_SCOPE_SUBTREE,
	    "(|(objectClass=patToken)(objectClass=patRole)"
	    "(objectClass=patGrant))", attrs, 0, ctrls, NULL, NULL, 0,
	    &f->msgid);
	ber_free(ber, 1);
	if (rc != LDAP_SUCCESS)
		goto fail;
	f->refreshing = true;
	f->had_cookie = cookie.bv_len > 0;
	f->got_present = false;
	f->refreshed = 0;
	f->unresolved = 0;
	f->announced = false;	/* "connected" once the provider answers */
	return NULL;
fail:
	{
		char *diag = NULL;	/* e.g. why TLS failed */

		if (f->ld != NULL)
			ldap_get_option(f->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE,
			    &diag);
		snprintf(why, sizeof(why), "%s%s%.100s", ldap_err2string(rc),
		    diag && *diag ? ": " : "", diag ? diag : "");
		ldap_memfree(diag);
	}
	return why;
}

static void
close_sync(struct fleet *f)
{
	batch_abort(f);
	if (f->ld != NULL)
		ldap_unbind_ext(f->ld, NULL, NULL);
	f->ld = NULL;
	free(f->seen);
	f->seen = NULL;
	f->nseen = f->cap = 0;
}

/* One message of the sync search.  NULL, or why the connection ends. */
static const char *
on_message(struct fleet *f, LDAPMessage *m, bool *reload)
{
	static char why[160];
	int r = 0, type = ldap_msgtype(m), err;

	if (type == LDAP_RES_SEARCH_ENTRY)
		r = on_entry(f, m);
	else if (type == LDAP_RES_INTERMEDIATE)
		r = on_intermediate(f, m);
	else if (type == LDAP_RES_SEARCH_RESULT) {
		ldap_parse_result(f->ld, m, &err, NULL, NULL, NULL, NULL, 0);
		if (batch_commit(f) < 0)
			return "store commit failed";
		/* slapd answers a cookie newer than its own state (an older
		 * dump restored) with unwillingToPerform, not
		 * refreshRequired: the same remedy, a full reload */
		if (err == LDAP_SYNC_REFRESH_REQUIRED ||
		    (err == LDAP_UNWILLING_TO_PERFORM && f->had_cookie &&
		    f->refreshing)) {
			*reload = true;
			return "refresh-required";
		}
		snprintf(why, sizeof(why), "search ended: %s",
		    ldap_err2string(err));
		return why;
	}
	if (r < 0) {
		snprintf(why, sizeof(why), "%s", r == -EPROTO ? "protocol" :
		    store_strerror(r));
		return why;
	}
	if (f->batch >= FLEET_BATCH && (r = batch_commit(f)) < 0) {
		snprintf(why, sizeof(why), "store: %s", store_strerror(r));
		return why;
	}
	return NULL;
}

/*
 * Serve one connection until it ends; the reason (static), or NULL when
 * asked to stop.  *reload: the provider said refreshRequired.  Each turn:
 * everything libldap has for the sync search, without waiting; one
 * commit; the writes the event loop handed over, the outbox and the id
 * reserve; then a wait on the socket and the wake-up eventfd.
 */
static const char *
run_sync(struct fleet *f, bool *reload)
{
	static char why[160];
	struct timeval zero = { 0, 0 };
	struct pollfd p[2];
	LDAPMessage *m;
	const char *end;
	bool busy;
	int r = 0, err, fd = -1, n;

	*reload = false;
	f->outbox_dirty = true;
	fleet_link_begins(f);
	ldap_get_option(f->ld, LDAP_OPT_DESC, &fd);
	while (!atomic_load(&f->stop)) {
		/* at most FLEET_TURN messages, then the event loop's writes
		 * get their turn (a long refresh must not starve them) */
		for (n = 0; n < FLEET_TURN && (r = ldap_result(f->ld, f->msgid,
		    LDAP_MSG_ONE, &zero, &m)) > 0; n++) {
			/* connected once the search is answered: a host that
			 * may bind but not search is not (nor logged so at
			 * every retry) */
			if (!f->announced && ldap_msgtype(m) !=
			    LDAP_RES_SEARCH_RESULT) {
				f->announced = true;
				atomic_store(&f->state, FLEET_CONNECTED);
				log_event("fleet", "result=connected cookie=%s",
				    f->had_cookie ? "resumed" : "none");
			}
			end = on_message(f, m, reload);
			ldap_msgfree(m);
			if (end != NULL)
				return end;
		}
		if (r < 0) {
			ldap_get_option(f->ld, LDAP_OPT_RESULT_CODE, &err);
			snprintf(why, sizeof(why), "%s", ldap_err2string(err));
			return why;
		}
		if ((r = batch_commit(f)) < 0) {
			snprintf(why, sizeof(why), "store: %s",
			    store_strerror(r));
			return why;
		}
		settle_waiting(f, true);	/* the ones that waited too long */
		if ((end = do_work(f, &busy)) != NULL)
			return end;
		busy |= n == FLEET_TURN;	/* more may be waiting */
		/* a write may have left sync messages in libldap's queue,
		 * where poll() cannot see them: read again at once */
		p[0].fd = fd;
		p[0].events = POLLIN;
		p[1].fd = f->wakefd;
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		if (poll(p, 2, busy ? 0 : f->waiting != NULL ? 20 : 200) > 0 &&
		    (p[1].revents & POLLIN)) {
			uint64_t woken;

			(void)!read(f->wakefd, &woken, sizeof(woken));
		}
	}
	if (batch_commit(f) < 0)
		return "store commit failed";
	return NULL;
}

static void *
fleet_main(void *arg)
{
	struct fleet *f = arg;
	const char *why;
	struct pollfd p;
	bool reload;
	int i;

	while (!atomic_load(&f->stop)) {
		if (fleet_state(f) != FLEET_DISCONNECTED)
			atomic_store(&f->state, FLEET_CONNECTING);
		if ((why = open_sync(f)) == NULL) {
			why = run_sync(f, &reload);
			finish_waiting(f);
			if (why == NULL) {
				close_sync(f);
				break;
			}
			if (reload) {
				/* the cookie is too old: a full reload,
				 * which removes what it does not name */
				close_sync(f);
				drop_cookie(f);
				log_event("fleet", "result=disconnected "
				    "reason=refresh-required");
				continue;
			}
		}
		close_sync(f);
		pthread_mutex_lock(&f->mu);
		f->nids = 0;	/* taken again, by whoever is provider next */
		pthread_mutex_unlock(&f->mu);
		/* once per outage, not once per retry */
		if (atomic_exchange(&f->state, FLEET_DISCONNECTED) !=
		    FLEET_DISCONNECTED)
			log_event("fleet", "result=disconnected reason=%s", why);
		/* meanwhile writes are refused at once, revocations kept */
		for (i = 0; i < (int)f->cfg.fleet_retry * 10 &&
		    !atomic_load(&f->stop); i++) {
			fail_submitted(f, why);
			p.fd = f->wakefd;
			p.events = POLLIN;
			if (poll(&p, 1, 100) > 0) {
				uint64_t n;

				(void)!read(f->wakefd, &n, sizeof(n));
			}
		}
	}
	finish_waiting(f);
	fail_submitted(f, "patd is stopping");
	return NULL;
}

/* The TLS client key: a file only root can read (libldap opens it). */
static int
check_key(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		snprintf(err, errlen, "fleet_tls_key %s: %s", path,
		    strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 0077) != 0) {
		snprintf(err, errlen, "fleet_tls_key %s must be a regular file "
		    "owned by root with mode 0600 (chown root %s; chmod 600 "
		    "%s)", path, path, path);
		return -EPERM;
	}
	return 0;
}

/* The bind password: a file only root can read and write. */
static int
read_password(struct fleet *f, char *err, size_t errlen)
{
	const char *path = f->cfg.fleet_bind_password_file;
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "fleet_bind_password_file %s: %s", path,
		    strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 0077) != 0) {
		close(fd);
		snprintf(err, errlen, "fleet_bind_password_file %s must be a "
		    "regular file owned by root with mode 0600 (chown root "
		    "%s; chmod 600 %s)", path, path, path);
		return -EPERM;
	}
	n = read(fd, f->password, sizeof(f->password) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "fleet_bind_password_file %s: %s", path,
		    strerror(errno));
		return -EIO;
	}
	while (n > 0 && (f->password[n - 1] == '\n' ||
	    f->password[n - 1] == '\r'))
		n--;
	f->password[n] = '\0';
	return 0;
}

int
fleet_start(struct fleet **fp, struct store *s, const struct patd_config *cfg,
    char *err, size_t errlen)
{
	sigset_t all, old;
	struct fleet *f;
	int r;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->store = s;
	f->cfg = *cfg;
	atomic_init(&f->stop, false);
	atomic_init(&f->state, FLEET_CONNECTING);
	atomic_init(&f->entries, 0);
	atomic_init(&f->last, 0);
	atomic_init(&f->policy_news, false);
	atomic_init(&f->outbox_n, 0);
	atomic_init(&f->cookie_time, 0);
	atomic_init(&f->lag_ms, 0);
	f->issuer = -1;
	f->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->wakefd < 0 || f->evfd < 0 ||
	    (r = pthread_mutex_init(&f->mu, NULL)) != 0) {
		r = -errno;
		if (f->wakefd >= 0)
			close(f->wakefd);
		if (f->evfd >= 0)
			close(f->evfd);
		free(f);
		snprintf(err, errlen, "cannot make the fleet's eventfds: %s",
		    strerror(-r));
		return r;
	}
	if ((cfg->fleet_bind_password_file[0] &&
	    (r = read_password(f, err, errlen)) < 0) ||
	    (cfg->fleet_tls_key[0] && (r = check_key(cfg->fleet_tls_key, err,
	    errlen)) < 0)) {
		close(f->wakefd);
		close(f->evfd);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return r;
	}
	/* the thread takes no signal: SIGTERM and SIGCHLD are the event
	 * loop's (its signalfd), and one delivered here would kill patd or
	 * be lost */
	pthread_once(&nss_gate_once, nss_gate_init);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&f->thread, NULL, fleet_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		explicit_bzero(f->password, sizeof(f->password));
		free(f);
		snprintf(err, errlen, "cannot start the fleet thread: %s",
		    strerror(r));
		return -r;
	}
	*fp = f;
	return 0;
}

void
fleet_stop(struct fleet *f)
{
	if (f == NULL)
		return;
	atomic_store(&f->stop, true);
	poke(f->wakefd);
	pthread_join(f->thread, NULL);
	explicit_bzero(f->password, sizeof(f->password));
	close(f->wakefd);
	close(f->evfd);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
