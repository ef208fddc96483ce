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

#endif
