/*
 * fleet_int.h - what fleet.c (the sync stream) and fleet_write.c (writes
 * to the directory) share; nothing else includes it but one white-box
 * test (tests/test_fleet_turn.c).  The thread owns struct fleet but for
 * the atomics and what mu guards.
 */
#ifndef PATD_FLEET_INT_H
#define PATD_FLEET_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <ldap.h>

#include "fleet.h"

#define FLEET_BATCH	256	/* entries a write txn at most */
#define FLEET_TURN	2048	/* sync messages read between two works */
#define FLEET_OPS_TURN	16	/* directory operations between two reads */
#define FLEET_REFUSED_MAX 32	/* refused revocations held back at once */
#define FLEET_COOKIE_MAX 4096
#define FLEET_KEY_MAX	(STORE_USER_MAX + STORE_ROLE_MAX + 8)
#define FLEET_IDS	16	/* token ids taken from the counter at once */
#define FLEET_LDAP_SECS	5	/* one LDAP operation at most */
#define FLEET_RECHECK_MS 60000	/* not an issuer, or a push refused: again */
#define FLEET_LU_CACHE	64	/* SHOW's lookups remembered (by id) */
#define FLEET_LU_CACHE_MS 5000	/* …for this long */

/* What one record must be in the directory (fleet.h: fleet_op_*). */
struct fleet_change {
	char		 kind;		/* 't', 'r', 'u' or 'g' */
	bool		 gone;		/* a role or a grant removed */
	bool		 fresh;		/* a token this request made */
	struct tok_rec	*tok;		/* 't' */
	char		 reason[STORE_REASON_MAX + 1];
	uint64_t	 rotated_to;
	char		 name[STORE_USER_MAX + 1];	/* a role, a grant's who */
	char		 role[STORE_ROLE_MAX + 1];	/* a grant's role */
	char		*perms;		/* 'r': comma-joined */
	struct role_policy pol;
};

/* A written entry the stream has to bring back: its entryUUID and the
 * entryCSN the write gave it ("" when it was deleted). */
struct fleet_wait {
	uint8_t		 uuid[16];
	char		 csn[64];
	bool		 staged;	/* applied in the open batch */
	bool		 seen;		/* … and committed */
};

struct fleet_op {
	atomic_int	 refs;
	atomic_int	 state;		/* enum fleet_op_state */
	bool		 flush;
	struct fleet_change *ch;
	size_t		 n, cap;
	/* the thread's */
	struct fleet_wait *w;
	size_t		 nw, capw;
	int64_t		 deadline;	/* ms: stop waiting for the stream */
	struct fleet_op	*next;
	/* a lookup (fleet_op_lookup) and its answer */
	uint64_t	 lookup;	/* the token id, 0: not a lookup */
	bool		 found;
	char		 lu_host[STORE_USER_MAX + 1];
	int64_t		 lu_when;
	char		 lu_service[STORE_SERVICE_MAX + 1];
	char		 lu_rhost[STORE_RHOST_MAX + 1];
	char		 code[FLEET_CODE_MAX];
	char		 msg[FLEET_MSG_MAX];
};

/* A lookup's answer, kept a few seconds, so a SHOW repeated soon after
 * costs the directory nothing; what bounds one user's lookups is
 * LOOKUPS_A_MINUTE (verbs.c). */
struct fleet_lu_seen {
	uint64_t	 id;		/* 0: empty */
	int64_t		 at;		/* ms: when the directory said it */
	bool		 found;
	int64_t		 when;
	char		 host[STORE_USER_MAX + 1];
	char		 service[STORE_SERVICE_MAX + 1];
	char		 rhost[STORE_RHOST_MAX + 1];
};

struct fleet {
	struct store	*store;
	struct patd_config cfg;
	char		 password[256];
	pthread_t	 thread;
	atomic_bool	 stop;
	atomic_int	 state;
	atomic_uint_fast64_t entries;
	atomic_int_fast64_t last;
	atomic_bool	 policy_news;
	atomic_uint_fast64_t outbox_n;
	atomic_int_fast64_t cookie_time;	/* newest CSN's, UNIX s */
	atomic_int_fast64_t lag_ms;	/* the last applied change's */
	int		 wakefd;	/* eventfd: ops were submitted */
	int		 evfd;		/* eventfd: an op finished */
	pthread_mutex_t	 mu;		/* what follows, to the thread's own */
	struct fleet_op	*q_head, *q_tail;	/* submitted, not taken */
	uint64_t	 ids[2 * FLEET_IDS];	/* reserved token ids */
	size_t		 nids;
	int		 issuer;	/* -1 not known yet, 0 no, 1 yes */
	char		 issuers[256];	/* the issuer hosts, for messages */
	char		 idwhy[160];	/* why no id is reserved */
	/* the thread's own: one connection's work */
	struct fleet_op	*waiting;	/* written, not yet seen come back */
	int64_t		 issuer_checked;	/* ms */
	bool		 outbox_dirty;	/* push the outbox next turn */
	int64_t		 outbox_retry;	/* ms: a refused push, again then */
	uint64_t	 refused[FLEET_REFUSED_MAX];	/* …those ids */
	size_t		 nrefused;
	char		 host[STORE_USER_MAX + 1];	/* our cn (whoami) */
	char		 cookie[FLEET_COOKIE_MAX + 1];	/* as last stored */
	int64_t		 lu_next;	/* ms: the next push of last uses */
	bool		 lu_parent;	/* cn=HOST,base exists (this link) */
	struct fleet_lu_seen lu_seen[FLEET_LU_CACHE];	/* by id % size */
	LDAP		*ld;
	int		 msgid;
	MDB_txn		*txn;		/* open batch, or NULL */
	unsigned	 batch;
	uint64_t	 staged_n;	/* changes in it, for STATUS at commit */
	int64_t		 staged_at;	/* the newest one's CSN time (ms), or 0 */
	bool		 refreshing;
	bool		 announced;	/* the search answered: connected */
	bool		 had_cookie;	/* the refresh began with one */
	bool		 got_present;	/* present messages came */
	bool		 seen_lost;	/* a uuid could not be noted */
	uint8_t		(*seen)[16];	/* uuids this refresh reported */
	size_t		 nseen, cap;
	uint64_t	 refreshed;	/* entries in this refresh */
	uint64_t	 batch_seq;	/* batches committed or undone */
	/* the last owner looked up, valid within one batch */
	char		 owner[STORE_USER_MAX + 1];
	uid_t		 owner_uid;
	bool		 owner_known;
	uint64_t	 owner_batch;
	uint64_t	 unresolved;
};

/* fleet_write.c */
void	poke(int fd);
/* The thread is done with op: its outcome, then the event loop is told. */
void	op_finish(struct fleet *f, struct fleet_op *op, enum fleet_op_state st,
	    const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
void	note_applied(struct fleet *f, const uint8_t uuid[16], const char *csn);
void	settle_waiting(struct fleet *f, bool ok);
void	finish_waiting(struct fleet *f);
void	fail_submitted(struct fleet *f, const char *why);
/* The event loop's writes, the outbox and the id reserve, between reads
 * of the stream (*busy: something was sent).  NULL, or why the
 * connection is lost. */
const char *do_work(struct fleet *f, bool *busy);
/* A new connection: learn this host's name in the directory (whoami). */
void	fleet_link_begins(struct fleet *f);

/* fleet.c */
void	attr_text(LDAP *ld, LDAPMessage *e, const char *attr, char *out,
	    size_t n);
int	batch_txn(struct fleet *f, MDB_txn **txn);
int	batch_commit(struct fleet *f);
void	batch_abort(struct fleet *f);

#endif
