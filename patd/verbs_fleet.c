/* verbs_fleet.c - fleet mode: what a verb wrote, sent to the directory instead. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "verbs.h"

/* Remember one record a directory verb changed (nothing on one host). */
static int
note(struct req *q, char kind, uint64_t id, const char *who,
    const char *role, bool gone, bool fresh)
{
	struct fleet_note *n;

	/* each directory verb changes a record once: no two notes of one */
	if (!q->to_dir)
		return 0;
	if (q->nnotes == q->capnotes) {
		size_t cap = q->capnotes ? q->capnotes * 2 : 4;

		if ((n = realloc(q->notes, cap * sizeof(*n))) == NULL)
			return -ENOMEM;
		q->notes = n;
		q->capnotes = cap;
	}
	n = &q->notes[q->nnotes++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->id = id;
	n->gone = gone;
	n->fresh = fresh;
	snprintf(n->who, sizeof(n->who), "%s", who ? who : "");
	snprintf(n->role, sizeof(n->role), "%s", role ? role : "");
	return 0;
}

int
note_token(struct req *q, uint64_t id, bool fresh)
{
	return note(q, 't', id, NULL, NULL, false, fresh);
}

int
note_role(struct req *q, const char *name, bool gone)
{
	return note(q, 'r', 0, name, NULL, gone, false);
}

int
note_grant(struct req *q, char kind, const char *who, const char *role,
    bool gone)
{
	return note(q, kind, 0, who, role, gone, false);
}

int
next_token_id(struct req *q, MDB_txn *txn, uint64_t *id)
{
	char why[FLEET_MSG_MAX];
	int r;

	if (q->d->fleet == NULL)
		return store_next_id(q->d->store, txn, id);
	if ((r = fleet_take_id(q->d->fleet, id, why, sizeof(why))) == 0)
		return 0;
	return reply_err(q, r == -EPERM ? "fleet-not-issuer" :
	    "fleet-unavailable", "%s", why);
}

/* The op that makes the directory hold what the verb wrote in txn: each
 * noted record as it is in txn now (which is then undone). */
int
fleet_build(struct req *q, MDB_txn *txn)
{
	struct fleet_op *op = fleet_op_new(false);
	struct tok_rec *rec = NULL;
	struct pat_permset set;
	struct role_policy pol;
	char reason[STORE_REASON_MAX + 1], *perms;
	uint64_t into;
	size_t i;
	int r = 0;

	if (op == NULL || (rec = malloc(sizeof(*rec))) == NULL) {
		fleet_op_release(op);
		return -ENOMEM;
	}
	for (i = 0; r == 0 && i < q->nnotes; i++) {
		struct fleet_note *n = &q->notes[i];

		switch (n->kind) {
		case 't':
			if ((r = store_token_get(q->d->store, txn, n->id,
			    rec)) < 0)
				break;
			if (store_reason_get(q->d->store, txn, n->id, reason,
			    sizeof(reason)) < 0)
				reason[0] = '\0';
			if ((r = store_rotated_get(q->d->store, txn, n->id,
			    &into)) < 0)
				break;
			r = fleet_op_token(op, rec, reason, into, n->fresh);
			break;
		case 'r':
			if (n->gone) {
				r = fleet_op_role(op, n->who, NULL, NULL);
				break;
			}
			pat_permset_init(&set);
			if ((r = store_role_get(q->d->store, txn, n->who,
			    &set)) == 0 && (r = store_policy_get(q->d->store,
			    txn, n->who, &pol)) == 0) {
				if ((perms = pat_permset_join(&set)) == NULL)
					r = -ENOMEM;
				else
					r = fleet_op_role(op, n->who, perms,
					    &pol);
				free(perms);
			}
			pat_permset_free(&set);
			break;
		default:
			r = fleet_op_grant(op, n->kind, n->who, n->role,
			    n->gone);
			break;
		}
	}
	sodium_memzero(rec, sizeof(*rec));
	free(rec);
	if (r < 0) {
		fleet_op_release(op);
		return r;
	}
	q->fop = op;
	return 0;
}

/* A REVOKE's answer gets fleet=what on its final line (reopened). */
static void
say_fleet(struct pat_buf *out, const char *what)
{
	if (out->len == 0 || out->data[out->len - 1] != '\n')
		return;
	out->len--;
	pat_line_field(out, "fleet", what);
	pat_line_end(out);
}

void
verbs_fleet_done(struct pat_buf *out, struct fleet_op *op, int kind)
{
	const char *code, *msg, *host, *service, *rhost;
	enum fleet_op_state st = fleet_op_state(op, &code, &msg);
	int64_t when;

	if (kind == FLEET_ANSWER_SHOW) {
		/* the directory's last use beside this host's; unknown (no
		 * push yet, the directory away): the answer as it is */
		if (st != FLEET_OP_DONE || out->len == 0 ||
		    out->data[out->len - 1] != '\n' ||
		    !fleet_op_lastuse(op, &host, &when, &service, &rhost))
			return;
		out->len--;	/* reopen the final line */
		pat_line_field(out, "fleet_last_host", host);
		pat_line_fieldi(out, "fleet_last_used", when);
		pat_line_field(out, "fleet_last_service", service);
		pat_line_field(out, "fleet_last_rhost", rhost);
		pat_line_end(out);
		return;
	}
	if (st == FLEET_OP_FAILED) {
		pat_buf_reset(out);	/* wipes: it may hold a token */
		pat_line_begin(out, "ERR");
		pat_line_field(out, "code", code);
		pat_line_field(out, "message", msg);
		pat_line_end(out);
		return;
	}
	/* a REVOKE says whether the provider has this host's revocations
	 * (every one: the outbox is empty), or they wait here */
	if (kind == FLEET_ANSWER_REVOKE)
		say_fleet(out, st == FLEET_OP_DONE ? "sent" : "queued");
}

void
verbs_fleet_late(struct pat_buf *out, int kind)
{
	char msg[160];

	if (kind == FLEET_ANSWER_SHOW)
		return;		/* this host's answer stands */
	if (kind == FLEET_ANSWER_REVOKE) {
		say_fleet(out, "queued");	/* it holds here, in the outbox */
		return;
	}
	pat_buf_reset(out);	/* wipes: it may hold a token */
	pat_line_begin(out, "ERR");
	pat_line_field(out, "code", "fleet-unavailable");
	snprintf(msg, sizeof(msg), "the fleet directory did not finish this "
	    "change within %d s; it may still be made: look before trying "
	    "again", FLEET_ANSWER_MS / 1000);
	pat_line_field(out, "message", msg);
	pat_line_end(out);
}
