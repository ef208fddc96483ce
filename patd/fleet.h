/*
 * fleet.h - fleet mode: patd as an RFC 4533 syncrepl consumer (issue 16).
 *
 * With fleet_uri in patd.conf, fleet_start runs one extra thread that owns
 * its own LDAP handle, searches fleet_base for patToken, patRole and
 * patGrant entries in refreshAndPersist mode and applies every change to
 * the store in its own short write transactions, each committing the sync
 * cookie (meta "fleet_cookie") with the changes it covers.  The event loop
 * never waits on the network: it reads the store, and the few things it
 * learns from the thread are atomics read through the functions below.
 * Without fleet_uri nothing here runs.
 *
 * Writes (phase 2).  A verb that changes tokens, roles or grants runs as on
 * a single host, in a transaction that is then undone; what it wrote is
 * gathered into a fleet_op (fleet_op_token/_role/_grant: the state each
 * record must have) and handed to the thread (fleet_submit), which makes
 * the directory's entries match it over the same connection, then waits
 * until the sync stream has brought each change back into the store (the
 * writer reads its own write; at most FLEET_SEE_MS).  The event loop polls
 * fleet_event_fd and reads the outcome with fleet_op_state.  A REVOKE is
 * local first: committed with an outbox record (store fleetq) that the
 * thread pushes to the provider whenever it is connected; a flush op
 * (fleet_op_new(true)) waits for that push, or says it stays queued.
 * Token ids come from the provider's counter, a few at a time
 * (fleet_take_id), so CREATE knows its id before it answers.
 */
#ifndef PATD_FLEET_H
#define PATD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

enum fleet_state { FLEET_CONNECTING, FLEET_CONNECTED, FLEET_DISCONNECTED };

struct fleet;

/* Check the settings (the password file: root-owned, no group or other
 * access) and start the thread.  0, or -errno with the reason in err. */
int	fleet_start(struct fleet **fp, struct store *s,
	    const struct patd_config *cfg, char *err, size_t errlen);
/* Stop the thread and wait for it (before the store is closed). */
void	fleet_stop(struct fleet *f);
enum fleet_state fleet_state(struct fleet *f);
const char *fleet_state_name(enum fleet_state st);
/* Entries applied since start; the UNIX time of the last applied one. */
uint64_t fleet_entries(struct fleet *f);
int64_t	fleet_last(struct fleet *f);
/* True once after a role with a lifetime policy arrived (the event loop
 * then clears its no_policies). */
bool	fleet_take_policy_news(struct fleet *f);
/* The newest change the store holds, by the provider's clock (UNIX s, 0
 * none): the cookie's age is now minus this.  The last change's lag: ms
 * from the provider's write to its commit here. */
int64_t	fleet_cookie_time(struct fleet *f);
int64_t	fleet_lag_ms(struct fleet *f);
/* "yes", "no" or "unknown": whether the provider lets this host mint. */
const char *fleet_issuer(struct fleet *f);

#define FLEET_SEE_MS	5000	/* a write waits this long to come back */
#define FLEET_CODE_MAX	32
#define FLEET_MSG_MAX	400

/* A token id from the provider's counter.  0; -EPERM when this host may
 * not mint (why names the issuers); -EAGAIN when none is reserved now
 * (the provider unreachable, or a burst used them up: why says which). */
int	fleet_take_id(struct fleet *f, uint64_t *id, char *why, size_t n);

enum fleet_op_state {
	FLEET_OP_PENDING,
	FLEET_OP_DONE,		/* the provider has it and so does this host */
	FLEET_OP_QUEUED,	/* flush: revocations stay queued (offline) */
	FLEET_OP_FAILED		/* code and message say why */
};

struct fleet_op;

/* A new op (NULL when out of memory); flush: an outbox push, no changes. */
struct fleet_op *fleet_op_new(bool flush);
/* What a record must be in the directory.  A token: fresh, one this
 * request made (added, never over an entry of that id: a taken id is an
 * error); otherwise only what a verb may change of an existing one moves
 * (patParent; patRevoked, its reason and patRotatedTo are added when
 * absent, never removed), whatever else this host's copy says.  reason:
 * "" none; rotated_to: 0 none.  A role (perms comma-joined, NULL: deleted,
 * with its grants): replaced whole.  A grant (kind 'u' or 'g'; gone:
 * removed).  0 or -ENOMEM. */
int	fleet_op_token(struct fleet_op *op, const struct tok_rec *rec,
	    const char *reason, uint64_t rotated_to, bool fresh);
int	fleet_op_role(struct fleet_op *op, const char *name, const char *perms,
	    const struct role_policy *pol);
int	fleet_op_grant(struct fleet_op *op, char kind, const char *who,
	    const char *role, bool gone);
/* A lookup (SHOW): the latest use of token id any host pushed to the
 * directory's last-use database. */
struct fleet_op *fleet_op_lookup(uint64_t id);
/* Whether the hosts' last uses are kept in the directory
 * (fleet_lastuse_base not "none"): else SHOW has nothing to ask. */
bool	fleet_lastuse_on(struct fleet *f);
/* A lookup's answer once FLEET_OP_DONE; false when no host recorded one.
 * host, service, rhost: as the hosts wrote them (show them escaped). */
bool	fleet_op_lastuse(struct fleet_op *op, const char **host, int64_t *when,
	    const char **service, const char **rhost);
/* Hand op to the thread (which holds a reference until it is done). */
void	fleet_submit(struct fleet *f, struct fleet_op *op);
/* The outcome so far; code and msg are set for FLEET_OP_FAILED. */
enum fleet_op_state fleet_op_state(struct fleet_op *op, const char **code,
	    const char **msg);
/* Drop the caller's reference (the last one frees). */
void	fleet_op_release(struct fleet_op *op);
/* Readable when an op finished; fleet_event_clear empties it. */
int	fleet_event_fd(struct fleet *f);
void	fleet_event_clear(struct fleet *f);

#endif
