/*
 * config.h - patd's settings: defaults, /etc/patd/patd.conf, flags.
 *
 * The file is "key = value" lines; '#' starts a comment; blank lines are
 * fine.  Every key is optional; an unknown key, a bad value, a key given
 * twice or a line that is not "key = value" stops patd with FILE:LINE and
 * the reason.  Command-line flags are applied after the file and win.
 */
#ifndef PATD_CONFIG_H
#define PATD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_DEFAULT_PATH	"/etc/patd/patd.conf"
#define CONFIG_LINE_MAX		1024

struct patd_config {
	char		socket[108];	/* when not socket-activated */
	char		state_dir[512];
	char		verify_group[64];
	unsigned	max_conns;
	unsigned	max_conns_per_uid;
	unsigned	reserved_conns;	/* of max_conns: privileged peers only */
	unsigned	idle_timeout;	/* seconds a connection may idle */
	unsigned	idle_exit;	/* seconds without clients, 0: never */
	unsigned	map_size_mb;
	unsigned	rate_limit_failures;
	unsigned	rate_limit_window;	/* seconds */
	/* a verifier's failures with rhost=: per client address */
	unsigned	rhost_failures;
	unsigned	rhost_window;		/* seconds */
	unsigned	rhost_ipv6_prefix;	/* an IPv6 client is its /N */
	unsigned	lastuse_flush;	/* seconds between last-use writes */
	char		login_service[64];
	char		login_pam_dir[512];	/* "": the system's /etc/pam.d */
	/* LOGIN even when login_service has no stack of its own (PAM then
	 * runs "other") */
	bool		login_allow_fallback;
	unsigned	session_lifetime;	/* seconds */
	unsigned	login_timeout;		/* seconds */
	unsigned	login_failures;		/* per window, per uid */
	unsigned	login_window;		/* seconds */
	/* bounds on what one user (or one stolen token) can make patd keep */
	unsigned	max_token_depth;	/* parents above a token */
	unsigned	max_tokens_per_user;	/* live tokens */
	unsigned	max_children_per_token;	/* live children */
	unsigned	create_limit;		/* creates per uid per window */
	unsigned	create_window;		/* seconds */
	unsigned	retention_days;		/* revoked/expired kept; 0 ever */
	unsigned	rotation_grace;		/* s an old token may still be
						 * presented after ROTATE without
						 * revoking its family (0) */
	unsigned	store_reserve_mb;	/* kept for revocations, admin */
	unsigned	log_refusals;		/* refusal lines per uid a minute */
	/* fleet mode (fleet.h): a directory replicated into the store;
	 * fleet_uri "" : a single host, no fleet thread */
	char		fleet_uri[256];
	char		fleet_base[256];
	char		fleet_bind_dn[256];	/* simple bind ("" : SASL
						 * EXTERNAL over TLS) */
	char		fleet_bind_password_file[512];
	char		fleet_tls_cacert[512];
	char		fleet_tls_cert[512];
	char		fleet_tls_key[512];
	unsigned	fleet_retry;		/* s between reconnects */
	/* last use pushed to the directory's own database ("none": off) */
	char		fleet_lastuse_base[256];
	unsigned	fleet_lastuse_interval;	/* s between pushes */
	/* --test-clock FILE, a flag only (no key in the file): tests move
	 * patd's clock with it (testclock.h); "" : the real clock */
	char		test_clock[512];
};

void	config_defaults(struct patd_config *c);
/* Set one key from text.  -EINVAL (bad value) or -ENOENT (unknown key),
 * with the reason in err. */
int	config_set(struct patd_config *c, const char *key, const char *value,
	    char *err, size_t errlen);
/* Read a file on top of c.  A missing file is -ENOENT (the caller decides
 * whether that matters); other problems -EINVAL with "FILE:LINE: reason"
 * in err.  c is changed only when the whole file is good. */
int	config_load(struct patd_config *c, const char *path, char *err,
	    size_t errlen);

#endif
