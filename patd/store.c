/* store.c - LMDB persistence for patd; see store.h for the layout. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "store.h"

struct store {
	MDB_env	*env;
	MDB_dbi	 meta, tokens, by_uid, children, roles, grants, lastuse;
	MDB_dbi	 sessions, live, livekids, revall, sweep, rotated, reasons;
	MDB_dbi	 rolepolicy, uses, fleet, fleetq, fleetlu;
};

/* Named databases in use (open_dbs) and the room LMDB is told of: new
 * ones must not need a change of limit in every install's lock file. */
#define STORE_DBS	19
#define STORE_MAXDBS	32
_Static_assert(STORE_DBS <= STORE_MAXDBS, "raise STORE_MAXDBS");

/* On-disk token header; the text fields follow, each NUL-terminated. */
struct tok_disk {
	uint8_t		version;
	uint8_t		pad[3];
	uint32_t	uid;
	uint64_t	parent;
	int64_t		created, expires, revoked;
	uint8_t		hash[PAT_HASH_LEN];
};

#define TOK_DISK_VERSION 1

static int
map_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case ENOSPC:
		return -ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return -EINVAL;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

const char *
store_strerror(int err)
{
	switch (err) {
	case -ENOSPC:
		return "the store is full (disk or LMDB map size)";
	case -ENOENT:
		return "not found";
	case -EINVAL:
		return "the store holds a record it cannot read";
	default:
		return strerror(-err);
	}
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static int live_put(struct store *s, MDB_txn *txn, uint32_t uid,
    uint64_t parent, uint64_t id, int64_t expires);

/* Build live and livekids from the token records: once, for a store made
 * before they existed. */
static int
build_live(struct store *s, MDB_txn *txn)
{
	MDB_val k = { 10, "live_index" }, v;
	struct tok_disk h;
	MDB_cursor *cur;
	int rc;

	if ((rc = mdb_get(txn, s->meta, &k, &v)) != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->tokens, &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != 8 || v.mv_size < sizeof(h))
			continue;
		memcpy(&h, v.mv_data, sizeof(h));
		if (h.revoked == 0 && (rc = -live_put(s, txn, h.uid, h.parent,
		    get_be64(k.mv_data), h.expires)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return rc;
	k.mv_size = 10;
	k.mv_data = "live_index";
	v.mv_size = 1;
	v.mv_data = "1";
	return mdb_put(txn, s->meta, &k, &v, 0);
}

static int
open_dbs(struct store *s)
{
	static const char *names[] = { "meta", "tokens", "by_uid", "children",
		"roles", "grants", "lastused", "sessions", "live", "livekids",
		"revall", "sweep", "rotated", "reasons", "rolepolicy", "uses",
		"fleet", "fleetq", "fleetlu" };
	MDB_dbi *dbis[] = { &s->meta, &s->tokens, &s->by_uid, &s->children,
		&s->roles, &s->grants, &s->lastuse, &s->sessions, &s->live,
		&s->livekids, &s->revall, &s->sweep, &s->rotated, &s->reasons,
		&s->rolepolicy, &s->uses, &s->fleet, &s->fleetq,
		&s->fleetlu };
	MDB_txn *txn;
	MDB_val k = { 6, "schema" }, v;
	char schema[16];
	size_t i;
	int rc;

	_Static_assert(sizeof(names) / sizeof(*names) == STORE_DBS &&
	    sizeof(dbis) / sizeof(*dbis) == STORE_DBS, "STORE_DBS");
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return map_err(rc);
	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if ((rc = mdb_dbi_open(txn, names[i], MDB_CREATE, dbis[i])) != 0)
			goto fail;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		snprintf(schema, sizeof(schema), "%d", STORE_SCHEMA);
		v.mv_size = strlen(schema);
		v.mv_data = schema;
		if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
			goto fail;
	} else if (rc != 0) {
		goto fail;
	} else if (v.mv_size != 1 || *(char *)v.mv_data != '0' + STORE_SCHEMA) {
		mdb_txn_abort(txn);
		return -EPROTO;	/* a schema we do not know: never guess */
	}
	if ((rc = build_live(s, txn)) != 0)
		goto fail;
	return map_err(mdb_txn_commit(txn));
fail:
	mdb_txn_abort(txn);
	return map_err(rc);
}

int
store_open(struct store **sp, const char *dir, size_t mapsize)
{
	struct store *s;
	char path[4096];
	int rc;

	if (snprintf(path, sizeof(path), "%s/pat.mdb", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if ((rc = mdb_env_create(&s->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(s->env, STORE_MAXDBS)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, mapsize)) != 0)
		goto fail;
	/* NOTLS: patd is one thread; NOSUBDIR: one file in the state dir. */
	rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
	if (rc != 0)
		goto fail;
	if ((rc = open_dbs(s)) != 0) {
		mdb_env_close(s->env);
		free(s);
		return rc;
	}
	*sp = s;
	return 0;
fail:
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
	return map_err(rc);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(s->env);
	free(s);
}

int
store_data_fd(struct store *s)
{
	mdb_filehandle_t fd;
	int rc;

	if ((rc = mdb_env_get_fd(s->env, &fd)) != 0)
		return map_err(rc);
	return fd;
}

int
store_begin(struct store *s, bool write, MDB_txn **txn)
{
	return map_err(mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn));
}

int
store_begin_child(struct store *s, MDB_txn *parent, MDB_txn **txn)
{
	return map_err(mdb_txn_begin(s->env, parent, 0, txn));
}

int
store_commit(MDB_txn *txn)
{
	return map_err(mdb_txn_commit(txn));
}

void
store_abort(MDB_txn *txn)
{
	if (txn != NULL)
		mdb_txn_abort(txn);
}

int
store_next_id(struct store *s, MDB_txn *txn, uint64_t *id)
{
	MDB_val k = { 7, "next_id" }, v;
	uint8_t raw[8];
	uint64_t next = 1;
	int rc;

	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		next = get_be64(v.mv_data);
	else if (rc != MDB_NOTFOUND)
		return rc ? map_err(rc) : -EINVAL;
	if (next > PAT_TOKEN_ID_MAX)
		return -ERANGE;
	put_be64(raw, next + 1);
	v.mv_size = 8;
	v.mv_data = raw;
	if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
		return map_err(rc);
	*id = next;
	return 0;
}

/* Copy the NUL-terminated string at *p (within end) to out[max+1]. */
static int
take_str(const char **p, const char *end, char *out, size_t max)
{
	const char *nul = memchr(*p, '\0', (size_t)(end - *p));
	size_t n;

	if (nul == NULL || (n = (size_t)(nul - *p)) > max)
		return -EINVAL;
	memcpy(out, *p, n + 1);
	*p = nul + 1;
	return 0;
}

int
store_token_get(struct store *s, MDB_txn *txn, uint64_t id, struct tok_rec *out)
{
	struct tok_disk h;
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	const char *p, *end;
	char uses[12] = "", *e;
	unsigned long n;
	int rc;

	put_be64(kb, id);
	if ((rc = mdb_get(txn, s->tokens, &k, &v)) != 0)
		return map_err(rc);
	if (v.mv_size < sizeof(h))
		return -EINVAL;
	memcpy(&h, v.mv_data, sizeof(h));
	if (h.version != TOK_DISK_VERSION)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->uid = h.uid;
	out->parent = h.parent;
	out->created = h.created;
	out->expires = h.expires;
	out->revoked = h.revoked;
	memcpy(out->hash, h.hash, PAT_HASH_LEN);
	p = (const char *)v.mv_data + sizeof(h);
	end = (const char *)v.mv_data + v.mv_size;
	if (take_str(&p, end, out->user, STORE_USER_MAX) < 0 ||
	    take_str(&p, end, out->name, STORE_NAME_MAX) < 0 ||
	    take_str(&p, end, out->role, STORE_ROLE_MAX) < 0 ||
	    take_str(&p, end, out->by, STORE_BY_MAX) < 0 ||
	    take_str(&p, end, out->cap, STORE_CAP_MAX) < 0)
		return -EINVAL;
	/* the binding: absent from records written before it existed */
	if (p < end && (take_str(&p, end, out->bind_from, BIND_FROM_MAX) < 0 ||
	    take_str(&p, end, out->bind_service, BIND_SERVICE_MAX) < 0 ||
	    take_str(&p, end, uses, sizeof(uses) - 1) < 0))
		return -EINVAL;
	if (uses[0] != '\0') {
		errno = 0;
		n = strtoul(uses, &e, 10);
		if (errno != 0 || *e != '\0' || n > STORE_USES_MAX)
			return -EINVAL;
		out->uses = (uint32_t)n;
	}
	return 0;
}

static int
put_pair(MDB_txn *txn, MDB_dbi dbi, uint8_t *kb, size_t klen)
{
	MDB_val k = { klen, kb }, v = { 0, "" };

	return map_err(mdb_put(txn, dbi, &k, &v, 0));
}

/* Delete key from dbi; absent is fine. */
static int
del_key(MDB_txn *txn, MDB_dbi dbi, uint8_t *kb, size_t klen)
{
	MDB_val k = { klen, kb };
	int rc = mdb_del(txn, dbi, &k, NULL);

	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

static void
live_key(uint8_t kb[12], uint32_t uid, uint64_t id)
{
	uint32_t be = htobe32(uid);

	memcpy(kb, &be, 4);
	put_be64(kb + 4, id);
}

/* id of uid (child of parent, 0: none) is live until expires. */
static int
live_put(struct store *s, MDB_txn *txn, uint32_t uid, uint64_t parent,
    uint64_t id, int64_t expires)
{
	uint8_t kb[16], eb[8];
	MDB_val k = { 12, kb }, v = { 8, eb };
	int rc;

	put_be64(eb, (uint64_t)expires);
	live_key(kb, uid, id);
	if ((rc = mdb_put(txn, s->live, &k, &v, 0)) != 0 || parent == 0)
		return map_err(rc);
	put_be64(kb, parent);
	put_be64(kb + 8, id);
	k.mv_size = 16;
	return map_err(mdb_put(txn, s->livekids, &k, &v, 0));
}

/* id is no longer a live child of parent. */
static int
kid_del(struct store *s, MDB_txn *txn, uint64_t parent, uint64_t id)
{
	uint8_t kb[16];

	put_be64(kb, parent);
	put_be64(kb + 8, id);
	return del_key(txn, s->livekids, kb, 16);
}

/* id of uid (child of parent, 0: none) is no longer live. */
static int
live_del(struct store *s, MDB_txn *txn, uint32_t uid, uint64_t parent,
    uint64_t id)
{
	uint8_t kb[12];
	int rc;

	live_key(kb, uid, id);
	if ((rc = del_key(txn, s->live, kb, 12)) < 0 || parent == 0)
		return rc;
	return kid_del(s, txn, parent, id);
}

int
store_token_put(struct store *s, MDB_txn *txn, const struct tok_rec *r,
    uint64_t old_parent)
{
	char uses[12] = "";
	const char *strs[] = { r->user, r->name, r->role, r->by, r->cap,
	    r->bind_from, r->bind_service, uses };
	uint8_t rec[sizeof(struct tok_disk) + STORE_USER_MAX + STORE_NAME_MAX +
	    STORE_ROLE_MAX + STORE_BY_MAX + STORE_CAP_MAX + BIND_FROM_MAX +
	    BIND_SERVICE_MAX + 12 + 8];
	struct tok_disk h = { .version = TOK_DISK_VERSION };
	uint8_t kb[16];
	MDB_val k = { 8, kb }, v;
	size_t len = sizeof(h), i, n;
	uint32_t uidbe;
	int rc;

	if (r->uses != 0)
		snprintf(uses, sizeof(uses), "%u", (unsigned)r->uses);
	h.uid = r->uid;
	h.parent = r->parent;
	h.created = r->created;
	h.expires = r->expires;
	h.revoked = r->revoked;
	memcpy(h.hash, r->hash, PAT_HASH_LEN);
	memcpy(rec, &h, sizeof(h));
	for (i = 0; i < sizeof(strs) / sizeof(*strs); i++) {
		n = strnlen(strs[i], STORE_CAP_MAX + 1);
		if (len + n + 1 > sizeof(rec))
			return -EINVAL;
		memcpy(rec + len, strs[i], n + 1);
		len += n + 1;
	}
	put_be64(kb, r->id);
	v.mv_size = len;
	v.mv_data = rec;
	if ((rc = mdb_put(txn, s->tokens, &k, &v, 0)) != 0)
		return map_err(rc);

	uidbe = htobe32(r->uid);
	memcpy(kb, &uidbe, 4);
	put_be64(kb + 4, r->id);
	if ((rc = put_pair(txn, s->by_uid, kb, 12)) < 0)
		return rc;
	if (old_parent != 0 && old_parent != r->parent) {
		put_be64(kb, old_parent);
		put_be64(kb + 8, r->id);
		k.mv_size = 16;
		rc = mdb_del(txn, s->children, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return map_err(rc);
	}
	if (r->parent != 0) {
		put_be64(kb, r->parent);
		put_be64(kb + 8, r->id);
		if ((rc = put_pair(txn, s->children, kb, 16)) < 0)
			return rc;
	}
	if (old_parent != 0 && old_parent != r->parent &&
	    (rc = kid_del(s, txn, old_parent, r->id)) < 0)
		return rc;
	if (r->revoked != 0)
		return live_del(s, txn, r->uid, r->parent, r->id);
	return live_put(s, txn, r->uid, r->parent, r->id, r->expires);
}

/* Walk keys of dbi that start with prefix[plen], passing the u64 that follows
 * the prefix to fn, starting after `after`. */
static int
walk_ids(MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix, size_t plen,
    uint64_t after, store_id_fn fn, void *arg)
{
	uint8_t kb[16];
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_cursor_op op = MDB_SET_RANGE;
	int rc, r = 0;

	memcpy(kb, prefix, plen);
	put_be64(kb + plen, after + 1);
	if (after == UINT64_MAX)
		return 0;
	k.mv_size = plen + 8;
	k.mv_data = kb;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return map_err(rc);
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, prefix, plen))
			break;
		if ((r = fn(get_be64((uint8_t *)k.mv_data + plen), arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (r != 0)
		return r;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int
store_tokens_of_uid(struct store *s, MDB_txn *txn, uint32_t uid,
    uint64_t after, store_id_fn fn, void *arg)
{
	uint32_t be = htobe32(uid);

	return walk_ids(txn, s->by_uid, (uint8_t *)&be, 4, after, fn, arg);
}

int
store_tokens_all(struct store *s, MDB_txn *txn, uint64_t after,
    store_id_fn fn, void *arg)
{
	return walk_ids(txn, s->tokens, (const uint8_t *)"", 0, after, fn, arg);
}

int
store_children(struct store *s, MDB_txn *txn, uint64_t parent,
    uint64_t after, store_id_fn fn, void *arg)
{
	uint8_t p[8];

	put_be64(p, parent);
	return walk_ids(txn, s->children, p, 8, after, fn, arg);
}

int
store_live_kids(struct store *s, MDB_txn *txn, uint64_t parent,
    store_id_fn fn, void *arg)
{
	uint8_t p[8];

	put_be64(p, parent);
	return walk_ids(txn, s->livekids, p, 8, 0, fn, arg);
}

int
store_role_get(struct store *s, MDB_txn *txn, const char *name,
    struct pat_permset *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	char text[STORE_CAP_MAX + 1];
	int rc;

	if ((rc = mdb_get(txn, s->roles, &k, &v)) != 0)
		return map_err(rc);
	if (v.mv_size > STORE_CAP_MAX)
		return -EINVAL;
	memcpy(text, v.mv_data, v.mv_size);
	text[v.mv_size] = '\0';
	pat_permset_free(out);
	if ((rc = pat_permset_add_list(out, text)) < 0) {
		pat_permset_free(out);
		return -EINVAL;
	}
	return 0;
}

int
store_role_put(struct store *s, MDB_txn *txn, const char *name,
    const struct pat_permset *perms)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	char *text;
	int rc;

	if ((text = pat_permset_join(perms)) == NULL)
		return -ENOMEM;
	if (strlen(text) > STORE_CAP_MAX) {
		free(text);
		return -E2BIG;
	}
	v.mv_size = strlen(text);
	v.mv_data = text;
	rc = mdb_put(txn, s->roles, &k, &v, 0);
	free(text);
	return map_err(rc);
}


int
store_role_del(struct store *s, MDB_txn *txn, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	MDB_cursor *cur;
	size_t rlen = strlen(name);
	int rc;

	if ((rc = mdb_del(txn, s->roles, &k, NULL)) != 0)
		return map_err(rc);
	if ((rc = del_key(txn, s->rolepolicy, (uint8_t *)name, rlen)) < 0)
		return rc;
	/* a deleted role takes its grants along, or re-creating it would
	 * silently revive them */
	if ((rc = mdb_cursor_open(txn, s->grants, &cur)) != 0)
		return map_err(rc);
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		const char *kp = k.mv_data;
		const char *nul = memchr(kp, '\0', k.mv_size);

		if (nul != NULL && (size_t)(kp + k.mv_size - nul - 1) == rlen &&
		    memcmp(nul + 1, name, rlen) == 0 &&
		    (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int
store_roles(struct store *s, MDB_txn *txn, store_role_fn fn, void *arg)
{
	char name[STORE_ROLE_MAX + 1], perms[STORE_CAP_MAX + 1];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(txn, s->roles, &cur)) != 0)
		return map_err(rc);
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size > STORE_ROLE_MAX || v.mv_size > STORE_CAP_MAX)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		memcpy(perms, v.mv_data, v.mv_size);
		perms[v.mv_size] = '\0';
		if ((r = fn(name, perms, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (r != 0)
		return r;
	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

#define POLICY_VERSION	1
#define POLICY_LEN	25	/* version, then three i64be */

int
store_policy_get(struct store *s, MDB_txn *txn, const char *name,
    struct role_policy *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	const uint8_t *p;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = mdb_get(txn, s->rolepolicy, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return map_err(rc);
	p = v.mv_data;
	if (v.mv_size != POLICY_LEN || p[0] != POLICY_VERSION)
		return -EINVAL;
	out->max_lifetime = (int64_t)get_be64(p + 1);
	out->default_lifetime = (int64_t)get_be64(p + 9);
	out->max_idle = (int64_t)get_be64(p + 17);
	if (out->max_lifetime < 0 || out->default_lifetime < 0 ||
	    out->max_idle < 0) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

bool
store_policy_any(struct store *s, MDB_txn *txn)
{
	MDB_stat ms;

	/* cannot tell: look, as if there were one */
	return mdb_stat(txn, s->rolepolicy, &ms) != 0 || ms.ms_entries > 0;
}

int
store_policy_put(struct store *s, MDB_txn *txn, const char *name,
    const struct role_policy *p)
{
	uint8_t raw[POLICY_LEN];
	MDB_val k = { strlen(name), (void *)name }, v = { POLICY_LEN, raw };

	if (p->max_lifetime < 0 || p->default_lifetime < 0 || p->max_idle < 0)
		return -EINVAL;
	if (p->max_lifetime == 0 && p->default_lifetime == 0 &&
	    p->max_idle == 0)	/* no record: VERIFY's read is a miss */
		return del_key(txn, s->rolepolicy, (uint8_t *)name,
		    strlen(name));
	raw[0] = POLICY_VERSION;
	put_be64(raw + 1, (uint64_t)p->max_lifetime);
	put_be64(raw + 9, (uint64_t)p->default_lifetime);
	put_be64(raw + 17, (uint64_t)p->max_idle);
	return map_err(mdb_put(txn, s->rolepolicy, &k, &v, 0));
}

static int
grant_key(char *kb, size_t cap, char kind, const char *who, const char *role)
{
	int n = snprintf(kb, cap, "%c%s", kind, who);

	if (n < 0 || (size_t)n + 1 + strlen(role) >= cap)
		return -EINVAL;
	memcpy(kb + n + 1, role, strlen(role));
	return n + 1 + (int)strlen(role);
}

int
store_grant_put(struct store *s, MDB_txn *txn, char kind, const char *who,
    const char *role)
{
	char kb[2 + STORE_USER_MAX + 1 + STORE_ROLE_MAX + 1];
	int n = grant_key(kb, sizeof(kb), kind, who, role);

	MDB_val k, v = { 0, "" };
	int rc;

	if (n < 0)
		return n;
	k.mv_size = (size_t)n;
	k.mv_data = kb;
	rc = mdb_put(txn, s->grants, &k, &v, MDB_NOOVERWRITE);
	return rc == MDB_KEYEXIST ? 1 : map_err(rc);
}

int
store_grant_del(struct store *s, MDB_txn *txn, char kind, const char *who,
    const char *role)
{
	char kb[2 + STORE_USER_MAX + 1 + STORE_ROLE_MAX + 1];
	int n = grant_key(kb, sizeof(kb), kind, who, role);
	MDB_val k;

	if (n < 0)
		return n;
	k.mv_size = (size_t)n;
	k.mv_data = kb;
	return map_err(mdb_del(txn, s->grants, &k, NULL));
}

bool
store_has_group_grants(struct store *s, MDB_txn *txn)
{
	MDB_val k = { 1, "g" }, v;
	MDB_cursor *cur;
	bool any;

	if (mdb_cursor_open(txn, s->grants, &cur) != 0)
		return true;	/* cannot tell: do the full work */
	any = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 &&
	    k.mv_size > 0 && ((const char *)k.mv_data)[0] == 'g';
	mdb_cursor_close(cur);
	return any;
}

int
store_grants(struct store *s, MDB_txn *txn, char kind, const char *who,
    store_grant_fn fn, void *arg)
{
	char kb[2 + STORE_USER_MAX + 1 + STORE_ROLE_MAX + 1];
	char name[STORE_USER_MAX + 1], role[STORE_ROLE_MAX + 1];
	MDB_cursor_op op = MDB_SET_RANGE;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t plen = 0;
	int rc, r = 0;

	if (who != NULL) {
		if ((rc = grant_key(kb, sizeof(kb), kind, who, "")) < 0)
			return rc;
		plen = (size_t)rc;	/* kind, who and the NUL */
		k.mv_size = plen;
		k.mv_data = kb;
	} else
		op = MDB_FIRST;
	if ((rc = mdb_cursor_open(txn, s->grants, &cur)) != 0)
		return map_err(rc);
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		const char *kp = k.mv_data, *nul;
		size_t wl, rl;

		op = MDB_NEXT;
		if (plen > 0 && (k.mv_size < plen || memcmp(kp, kb, plen)))
			break;
		nul = memchr(kp, '\0', k.mv_size);
		if (nul == NULL || (wl = (size_t)(nul - kp) - 1) > STORE_USER_MAX ||
		    (rl = k.mv_size - wl - 2) > STORE_ROLE_MAX)
			continue;
		memcpy(name, kp + 1, wl);
		name[wl] = '\0';
		memcpy(role, nul + 1, rl);
		role[rl] = '\0';
		if ((r = fn(kp[0], name, role, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (r != 0)
		return r;
	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

#define LASTUSE_TEXT	(32 + STORE_SERVICE_MAX + STORE_RHOST_MAX + \
			    STORE_HOSTS * (STORE_RHOST_MAX + 1))

int
store_lastuse_put(struct store *s, MDB_txn *txn, uint64_t id,
    const struct last_use *u)
{
	char text[LASTUSE_TEXT];
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	unsigned i;
	int n, m;

	n = snprintf(text, sizeof(text), "%lld %s %s", (long long)u->when,
	    u->service[0] ? u->service : "-", u->rhost[0] ? u->rhost : "-");
	for (i = 0; i < u->nhosts && i < STORE_HOSTS && n >= 0 &&
	    (size_t)n < sizeof(text); i++, n += m)
		if ((m = snprintf(text + n, sizeof(text) - (size_t)n, " %s",
		    u->hosts[i])) < 0)
			return -EINVAL;
	if (n < 0 || (size_t)n >= sizeof(text))
		return -EINVAL;
	put_be64(kb, id);
	v.mv_size = (size_t)n;
	v.mv_data = text;
	return map_err(mdb_put(txn, s->lastuse, &k, &v, 0));
}

int
store_lastuse_get(struct store *s, MDB_txn *txn, uint64_t id,
    struct last_use *out)
{
	char text[LASTUSE_TEXT], svc[80], rh[160], *p, *h;
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	long long when;
	size_t n;
	int rc, used;

	put_be64(kb, id);
	if ((rc = mdb_get(txn, s->lastuse, &k, &v)) != 0)
		return map_err(rc);
	if (v.mv_size >= sizeof(text))
		return -EINVAL;
	memcpy(text, v.mv_data, v.mv_size);
	text[v.mv_size] = '\0';
	if (sscanf(text, "%lld %79s %159s%n", &when, svc, rh, &used) != 3 ||
	    strlen(svc) > STORE_SERVICE_MAX || strlen(rh) > STORE_RHOST_MAX)
		return -EINVAL;
	out->when = when;
	strcpy(out->service, strcmp(svc, "-") ? svc : "");
	strcpy(out->rhost, strcmp(rh, "-") ? rh : "");
	/* then the hosts, space-separated (none in an older record) */
	out->nhosts = 0;
	for (p = text + used; *p == ' ' && out->nhosts < STORE_HOSTS; p += n) {
		h = ++p;
		n = strcspn(h, " ");
		if (n == 0 || n > STORE_RHOST_MAX)
			return -EINVAL;
		memcpy(out->hosts[out->nhosts], h, n);
		out->hosts[out->nhosts++][n] = '\0';
	}
	return 0;
}

int
store_session_revoke(struct store *s, MDB_txn *txn, const char *jti,
    int64_t exp)
{
	MDB_val k = { strlen(jti), (void *)jti }, v;
	uint8_t raw[8];

	put_be64(raw, (uint64_t)exp);
	v.mv_size = 8;
	v.mv_data = raw;
	return map_err(mdb_put(txn, s->sessions, &k, &v, 0));
}

int
store_session_revoked(struct store *s, MDB_txn *txn, const char *jti)
{
	MDB_val k = { strlen(jti), (void *)jti }, v;
	int rc = mdb_get(txn, s->sessions, &k, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : map_err(rc);
}

int
store_session_prune(struct store *s, MDB_txn *txn, int64_t now)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, s->sessions, &cur)) != 0)
		return map_err(rc);
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (v.mv_size == 8 && (int64_t)get_be64(v.mv_data) < now &&
		    (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int
store_stats(struct store *s, MDB_txn *txn, struct store_stats *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = mdb_stat(txn, s->tokens, &ms)) != 0)
		return map_err(rc);
	st->tokens = ms.ms_entries;
	if ((rc = mdb_stat(txn, s->roles, &ms)) != 0)
		return map_err(rc);
	st->roles = ms.ms_entries;
	if ((rc = mdb_stat(txn, s->grants, &ms)) != 0)
		return map_err(rc);
	st->grants = ms.ms_entries;
	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &ms);
	st->map_bytes = info.me_mapsize;
	st->used_bytes = (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
	return 0;
}

int
store_used_bytes(struct store *s, size_t slack, size_t *used, size_t *map)
{
	MDB_envinfo info;
	MDB_cursor *cur;
	MDB_stat ms;
	MDB_txn *rtxn;
	MDB_val k, v;
	size_t hw, freep = 0;
	int rc;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &ms);
	*map = info.me_mapsize;
	hw = (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
	*used = hw;
	if (hw + slack <= *map)
		return 0;	/* far from the end: no need to look closer */
	/* LMDB opens no cursor on its freelist in a write transaction: read
	 * the last committed one (what mdb_stat -f does) */
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &rtxn)) != 0)
		return map_err(rc);
	if ((rc = mdb_cursor_open(rtxn, 0, &cur)) == 0) {
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
			if (v.mv_size >= sizeof(size_t))
				freep += *(const size_t *)v.mv_data;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(rtxn);
	if (rc != MDB_NOTFOUND)
		return map_err(rc);
	freep *= (size_t)ms.ms_psize;
	*used = freep < hw ? hw - freep : 0;
	return 0;
}

/* Count entries under prefix whose i64be value (expiry) is 0 or after now,
 * up to stop; delete expired ones when the transaction allows. */
static int
count_live(MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix, size_t plen,
    int64_t now, size_t stop, size_t *n)
{
	uint8_t kb[16];
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_cursor_op op = MDB_SET_RANGE;
	int rc;

	*n = 0;
	memcpy(kb, prefix, plen);
	memset(kb + plen, 0, 8);
	k.mv_size = plen + 8;
	k.mv_data = kb;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return map_err(rc);
	while (*n < stop && (rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		int64_t exp;

		op = MDB_NEXT;
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, prefix, plen))
			break;
		exp = v.mv_size == 8 ? (int64_t)get_be64(v.mv_data) : 0;
		if (exp == 0 || exp > now) {
			(*n)++;
			continue;
		}
		/* expired: it no longer counts; forget it where we may (a
		 * read-only transaction answers EACCES) */
		rc = mdb_cursor_del(cur, 0);	/* MDB_NEXT then stays put */
		if (rc != 0 && rc != EACCES)
			break;
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int
store_live_count(struct store *s, MDB_txn *txn, uint32_t uid, int64_t now,
    size_t stop, size_t *n)
{
	uint32_t be = htobe32(uid);

	return count_live(txn, s->live, (uint8_t *)&be, 4, now, stop, n);
}

int
store_kids_count(struct store *s, MDB_txn *txn, uint64_t parent,
    int64_t now, size_t stop, size_t *n)
{
	uint8_t p[8];

	put_be64(p, parent);
	return count_live(txn, s->livekids, p, 8, now, stop, n);
}

bool
store_has_children(struct store *s, MDB_txn *txn, uint64_t parent)
{
	uint8_t kb[16];
	MDB_val k = { 16, kb }, v;
	MDB_cursor *cur;
	bool any;

	put_be64(kb, parent);
	put_be64(kb + 8, 0);
	if (mdb_cursor_open(txn, s->children, &cur) != 0)
		return true;	/* cannot tell: let the sweep look */
	any = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 &&
	    k.mv_size == 16 && get_be64(k.mv_data) == parent;
	mdb_cursor_close(cur);
	return any;
}

int
store_revall_get(struct store *s, MDB_txn *txn, uint32_t uid,
    uint64_t *limit)
{
	uint32_t be = htobe32(uid);
	MDB_val k = { 4, &be }, v;
	int rc = mdb_get(txn, s->revall, &k, &v);

	*limit = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return map_err(rc);
	if (v.mv_size != 8)
		return -EINVAL;
	*limit = get_be64(v.mv_data);
	return 0;
}

int
store_revall_put(struct store *s, MDB_txn *txn, uint32_t uid, uint64_t limit)
{
	uint32_t be = htobe32(uid);
	uint8_t raw[8];
	MDB_val k = { 4, &be }, v = { 8, raw };

	put_be64(raw, limit);
	return map_err(mdb_put(txn, s->revall, &k, &v, 0));
}

static size_t
sweep_key(uint8_t kb[9], const struct sweep_item *it)
{
	uint32_t be;

	kb[0] = (uint8_t)it->kind;
	if (it->kind == 'U') {
		be = htobe32((uint32_t)it->id);
		memcpy(kb + 1, &be, 4);
		return 5;
	}
	put_be64(kb + 1, it->id);
	return 9;
}

int
store_sweep_first(struct store *s, MDB_txn *txn, struct sweep_item *it)
{
	MDB_cursor *cur;
	MDB_val k, v;
	const uint8_t *kp;
	uint32_t be;
	int rc;

	if ((rc = mdb_cursor_open(txn, s->sweep, &cur)) != 0)
		return map_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	mdb_cursor_close(cur);
	if (rc != 0)
		return map_err(rc);
	kp = k.mv_data;
	memset(it, 0, sizeof(*it));
	it->kind = (char)kp[0];
	if (it->kind == 'T' && k.mv_size == 9 && v.mv_size == 8) {
		it->id = get_be64(kp + 1);
		it->after = get_be64(v.mv_data);
		return 0;
	}
	if (it->kind == 'U' && k.mv_size == 5 && v.mv_size == 16) {
		memcpy(&be, kp + 1, 4);
		it->id = be32toh(be);
		it->limit = get_be64(v.mv_data);
		it->after = get_be64((const uint8_t *)v.mv_data + 8);
		return 0;
	}
	return -EINVAL;
}

int
store_sweep_put(struct store *s, MDB_txn *txn, const struct sweep_item *it)
{
	uint8_t kb[9], vb[16];
	MDB_val k = { 0, kb }, v = { 8, vb };

	k.mv_size = sweep_key(kb, it);
	if (it->kind == 'U') {
		put_be64(vb, it->limit);
		put_be64(vb + 8, it->after);
		v.mv_size = 16;
	} else
		put_be64(vb, it->after);
	return map_err(mdb_put(txn, s->sweep, &k, &v, 0));
}

int
store_sweep_del(struct store *s, MDB_txn *txn, const struct sweep_item *it)
{
	uint8_t kb[9];

	return del_key(txn, s->sweep, kb, sweep_key(kb, it));
}

int
store_live_of_uid(struct store *s, MDB_txn *txn, uint32_t uid,
    uint64_t after, store_id_fn fn, void *arg)
{
	uint32_t be = htobe32(uid);

	return walk_ids(txn, s->live, (uint8_t *)&be, 4, after, fn, arg);
}

int
store_token_del(struct store *s, MDB_txn *txn, const struct tok_rec *r)
{
	uint8_t kb[16];
	int rc;

	put_be64(kb, r->id);
	if ((rc = del_key(txn, s->tokens, kb, 8)) < 0 ||
	    (rc = del_key(txn, s->lastuse, kb, 8)) < 0 ||
	    (rc = del_key(txn, s->rotated, kb, 8)) < 0 ||
	    (rc = del_key(txn, s->reasons, kb, 8)) < 0 ||
	    (rc = del_key(txn, s->uses, kb, 8)) < 0 ||
	    (rc = live_del(s, txn, r->uid, r->parent, r->id)) < 0)
		return rc;
	live_key(kb, r->uid, r->id);
	if ((rc = del_key(txn, s->by_uid, kb, 12)) < 0 || r->parent == 0)
		return rc;
	put_be64(kb, r->parent);
	put_be64(kb + 8, r->id);
	return del_key(txn, s->children, kb, 16);
}

int
store_rotated_put(struct store *s, MDB_txn *txn, uint64_t old_id,
    uint64_t new_id)
{
	uint8_t kb[8], vb[8];
	MDB_val k = { 8, kb }, v = { 8, vb };

	put_be64(kb, old_id);
	put_be64(vb, new_id);
	return map_err(mdb_put(txn, s->rotated, &k, &v, 0));
}

int
store_rotated_get(struct store *s, MDB_txn *txn, uint64_t old_id,
    uint64_t *new_id)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	*new_id = 0;
	put_be64(kb, old_id);
	if ((rc = mdb_get(txn, s->rotated, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return map_err(rc);
	if (v.mv_size != 8)
		return -EINVAL;
	*new_id = get_be64(v.mv_data);
	return 0;
}

int
store_reason_put(struct store *s, MDB_txn *txn, uint64_t id,
    const char *reason)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v = { strlen(reason), (void *)reason };

	if (v.mv_size == 0 || v.mv_size > STORE_REASON_MAX)
		return -EINVAL;
	put_be64(kb, id);
	return map_err(mdb_put(txn, s->reasons, &k, &v, 0));
}

int
store_reason_get(struct store *s, MDB_txn *txn, uint64_t id, char *out,
    size_t n)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	put_be64(kb, id);
	if ((rc = mdb_get(txn, s->reasons, &k, &v)) == MDB_NOTFOUND)
		return -ENOENT;
	if (rc != 0)
		return map_err(rc);
	if (v.mv_size == 0 || v.mv_size > STORE_REASON_MAX ||
	    v.mv_size >= n || memchr(v.mv_data, '\0', v.mv_size) != NULL)
		return -EINVAL;
	memcpy(out, v.mv_data, v.mv_size);
	out[v.mv_size] = '\0';
	return 0;
}

bool
store_sweep_queued(struct store *s, MDB_txn *txn, uint64_t id)
{
	struct sweep_item it = { .kind = 'T', .id = id };
	uint8_t kb[9];
	MDB_val k = { 0, kb }, v;

	k.mv_size = sweep_key(kb, &it);
	return mdb_get(txn, s->sweep, &k, &v) == 0;
}

int
store_uses_get(struct store *s, MDB_txn *txn, uint64_t id, uint32_t *used)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	uint32_t be;
	int rc;

	*used = 0;
	put_be64(kb, id);
	if ((rc = mdb_get(txn, s->uses, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return map_err(rc);
	if (v.mv_size != 4)
		return -EINVAL;
	memcpy(&be, v.mv_data, 4);
	*used = be32toh(be);
	return 0;
}

int
store_uses_put(struct store *s, MDB_txn *txn, uint64_t id, uint32_t used)
{
	uint8_t kb[8];
	uint32_t be = htobe32(used);
	MDB_val k = { 8, kb }, v = { 4, &be };

	put_be64(kb, id);
	return map_err(mdb_put(txn, s->uses, &k, &v, 0));
}

/* ---- meta keys and the fleet map (fleet.c's; see store.h) */

int
store_meta_get(struct store *s, MDB_txn *txn, const char *key, void *out,
    size_t n, size_t *len)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc;

	if ((rc = mdb_get(txn, s->meta, &k, &v)) != 0)
		return map_err(rc);
	if (v.mv_size > n)
		return -EINVAL;
	memcpy(out, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return 0;
}

int
store_meta_put(struct store *s, MDB_txn *txn, const char *key,
    const void *val, size_t len)
{
	MDB_val k = { strlen(key), (void *)key }, v = { len, (void *)val };
	int rc;

	if (len == 0) {
		rc = mdb_del(txn, s->meta, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : map_err(rc);
	}
	return map_err(mdb_put(txn, s->meta, &k, &v, 0));
}

int
store_fleet_get(struct store *s, MDB_txn *txn, const uint8_t uuid[16],
    char *kind, char *key, size_t n)
{
	MDB_val k = { 16, (void *)uuid }, v;
	int rc;

	if ((rc = mdb_get(txn, s->fleet, &k, &v)) != 0)
		return map_err(rc);
	if (v.mv_size < 1 || v.mv_size > n)
		return -EINVAL;
	*kind = *(char *)v.mv_data;
	memcpy(key, (char *)v.mv_data + 1, v.mv_size - 1);
	key[v.mv_size - 1] = '\0';
	return 0;
}

int
store_fleet_put(struct store *s, MDB_txn *txn, const uint8_t uuid[16],
    char kind, const char *key)
{
	char buf[1 + STORE_USER_MAX + STORE_ROLE_MAX + 8];
	size_t kl = strlen(key);
	MDB_val k = { 16, (void *)uuid }, v;

	if (kl + 1 > sizeof(buf))
		return -EINVAL;
	buf[0] = kind;
	memcpy(buf + 1, key, kl);
	v.mv_size = kl + 1;
	v.mv_data = buf;
	return map_err(mdb_put(txn, s->fleet, &k, &v, 0));
}

int
store_fleet_del(struct store *s, MDB_txn *txn, const uint8_t uuid[16])
{
	MDB_val k = { 16, (void *)uuid };
	int rc = mdb_del(txn, s->fleet, &k, NULL);

	return rc == MDB_NOTFOUND ? -ENOENT : map_err(rc);
}

int
store_fleet_walk(struct store *s, MDB_txn *txn, store_fleet_fn fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	char key[1 + STORE_USER_MAX + STORE_ROLE_MAX + 8];
	int rc, r = 0;

	if ((rc = mdb_cursor_open(txn, s->fleet, &c)) != 0)
		return map_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 16 || v.mv_size < 1 || v.mv_size > sizeof(key))
			continue;
		memcpy(key, (char *)v.mv_data + 1, v.mv_size - 1);
		key[v.mv_size - 1] = '\0';
		if ((r = fn(k.mv_data, *(char *)v.mv_data, key, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (r != 0)
		return r;
	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

/* ---- the fleet's revocation outbox (fleet.c's; see store.h) */

/* The first u64be key of db above after: its id and value (valid in txn);
 * -ENOENT when none. */
static int
first_after(MDB_txn *txn, MDB_dbi db, uint64_t after, uint64_t *id,
    MDB_val *v)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb };
	MDB_cursor *c;
	int rc;

	if (after == UINT64_MAX)
		return -ENOENT;
	if ((rc = mdb_cursor_open(txn, db, &c)) != 0)
		return map_err(rc);
	put_be64(kb, after + 1);
	rc = mdb_cursor_get(c, &k, v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size != 8)
		rc = MDB_CORRUPTED;
	if (rc == 0)
		*id = get_be64(k.mv_data);
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? -ENOENT : map_err(rc);
}

int
store_fleetq_put(struct store *s, MDB_txn *txn, uint64_t id, int64_t when,
    const char *reason)
{
	uint8_t kb[8], vb[8 + STORE_REASON_MAX];
	size_t rl = reason ? strlen(reason) : 0;
	MDB_val k = { 8, kb }, v = { 8 + rl, vb };

	if (rl > STORE_REASON_MAX)
		return -EINVAL;
	put_be64(kb, id);
	put_be64(vb, (uint64_t)when);
	if (rl > 0)
		memcpy(vb + 8, reason, rl);
	return map_err(mdb_put(txn, s->fleetq, &k, &v, 0));
}

int
store_fleetq_next(struct store *s, MDB_txn *txn, uint64_t after,
    uint64_t *id, int64_t *when, char *reason, size_t n)
{
	MDB_val v;
	int r;

	if ((r = first_after(txn, s->fleetq, after, id, &v)) < 0)
		return r;
	if (v.mv_size < 8 || v.mv_size - 8 >= n)
		return -EINVAL;
	*when = (int64_t)get_be64(v.mv_data);
	memcpy(reason, (char *)v.mv_data + 8, v.mv_size - 8);
	reason[v.mv_size - 8] = '\0';
	return 0;
}

int
store_fleetq_del(struct store *s, MDB_txn *txn, uint64_t id)
{
	uint8_t kb[8];

	put_be64(kb, id);
	return del_key(txn, s->fleetq, kb, sizeof(kb));
}

size_t
store_fleetq_count(struct store *s, MDB_txn *txn)
{
	MDB_stat st;

	return mdb_stat(txn, s->fleetq, &st) == 0 ? st.ms_entries : 0;
}

/* ---- last uses not yet pushed to the directory (fleet.c's) */

int
store_fleetlu_put(struct store *s, MDB_txn *txn, uint64_t id)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v = { 0, "" };

	put_be64(kb, id);
	return map_err(mdb_put(txn, s->fleetlu, &k, &v, 0));
}

int
store_fleetlu_next(struct store *s, MDB_txn *txn, uint64_t after,
    uint64_t *id)
{
	MDB_val v;

	return first_after(txn, s->fleetlu, after, id, &v);
}

int
store_fleetlu_del(struct store *s, MDB_txn *txn, uint64_t id)
{
	uint8_t kb[8];

	put_be64(kb, id);
	return del_key(txn, s->fleetlu, kb, sizeof(kb));
}
