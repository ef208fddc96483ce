/*
 * patd - the Personal Access Token broker.
 *
 * Takes its listening socket from systemd (socket activation) or binds
 * --socket itself, opens the store in --state, and serves until SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <systemd/sd-daemon.h>

#include "keyfile.h"
#include "log.h"
#include "login.h"
#include "patd.h"
#include "server.h"
#include "statedir.h"
#include "testclock.h"
#include "client.h"
#include "config.h"


static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: patd [--config FILE] [--socket PATH] [--state DIR]\n"
	    "            [--verify-group GROUP] [--map-size MB] [--max-conns N]\n"
	    "            [--max-conns-per-uid N] [--idle-timeout SEC]\n"
	    "            [--idle-exit SEC] [--test-clock FILE]\n"
	    "       patd -h | --help | -V | --version\n"
	    "Serves Personal Access Tokens on a Unix socket.  Under systemd the\n"
	    "socket comes from patd.socket; otherwise --socket (default %s).\n"
	    "Settings come from %s (or --config), then the flags.\n"
	    "--test-clock FILE is for tests only: patd's clock runs FILE's\n"
	    "seconds ahead (see patd(8)).\n"
	    "Exit: 0 after SIGTERM or --idle-exit, 1 could not serve, 2 usage\n"
	    "or configuration error.\n",
	    PAT_DEFAULT_SOCKET, CONFIG_DEFAULT_PATH);
}

/* One message for a place patd will not use, and what to do about it. */
static void
refuse(const char *kind, const char *path, const struct statedir_problem *p)
{
	fprintf(stderr, "patd: refusing %s %s: %s \u2014 %s\n", kind, path,
	    p->what, p->fix);
}

/* The files LMDB opened are the ones statedir_open checked: ours, private,
 * one link each (pat.mdb through LMDB's own descriptor). */
static int
check_store_files(struct store *s, int dfd, struct statedir_problem *p)
{
	int fd, r;

	if ((fd = store_data_fd(s)) < 0) {
		p->fix = "report this as a bug";
		snprintf(p->what, sizeof(p->what), "LMDB has no file: %s",
		    strerror(-fd));
		return fd;
	}
	if ((r = statedir_check_fd(fd, "pat.mdb", p)) < 0)
		return r;
	return statedir_check_at(dfd, "pat.mdb-lock", p);
}

/* Bind path, replacing a stale socket of ours but never a live patd, a file
 * or another user's socket (statedir_check_socket ran first). */
static int
bind_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, probe;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "patd: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "patd: %s exists and is not a socket; "
			    "not touching it\n", path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(probe);
			fprintf(stderr, "patd: another patd is listening on "
			    "%s\n", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 128) < 0) {
		fprintf(stderr, "patd: cannot listen on %s: %s\n", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* who may do what is decided per request from SO_PEERCRED */
	if (chmod(path, 0666) < 0) {
		fprintf(stderr, "patd: chmod %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Which --config to read: the flag's, else the default (absent is fine). */
static const char *
config_path(int argc, char **argv, bool *explicit_path)
{
	int i;

	*explicit_path = false;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			*explicit_path = true;
			return argv[i + 1];
		}
		if (strncmp(argv[i], "--config=", 9) == 0) {
			*explicit_path = true;
			return argv[i] + 9;
		}
	}
	return CONFIG_DEFAULT_PATH;
}

/* Settings: defaults, then the file, then the flags.  Returns the exit
 * code to stop with, or -1 to go on. */
static int
settings(int argc, char **argv, struct patd_config *cfg, bool *socket_flag)
{
	static const struct option opts[] = {
		{ "config",		required_argument, NULL, 'C' },
		{ "socket",		required_argument, NULL, 's' },
		{ "state",		required_argument, NULL, 'd' },
		{ "verify-group",	required_argument, NULL, 'g' },
		{ "map-size",		required_argument, NULL, 'm' },
		{ "max-conns",		required_argument, NULL, 'c' },
		{ "max-conns-per-uid",	required_argument, NULL, 'u' },
		{ "idle-timeout",	required_argument, NULL, 'i' },
		{ "idle-exit",		required_argument, NULL, 'x' },
		{ "test-clock",		required_argument, NULL, 'T' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path, *key;
	char err[256];
	bool explicit_path;
	int ch, r, idx = 0;

	config_defaults(cfg);
	/* help and version whatever the configuration file holds */
	for (ch = 1; ch < argc && strcmp(argv[ch], "--") != 0; ch++) {
		if (strcmp(argv[ch], "-h") == 0 ||
		    strcmp(argv[ch], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[ch], "-V") == 0 ||
		    strcmp(argv[ch], "--version") == 0) {
			printf("patd %s\n", PATD_VERSION);
			return 0;
		}
	}
	path = config_path(argc, argv, &explicit_path);
	r = config_load(cfg, path, err, sizeof(err));
	if (r < 0 && (r != -ENOENT || explicit_path)) {
		fprintf(stderr, "patd: %s\n", err);
		return 2;
	}
	*socket_flag = false;
	while ((ch = getopt_long(argc, argv, "hV", opts, &idx)) != -1) {
		switch (ch) {
		case 'C': continue;
		case 's': key = "socket"; *socket_flag = true; break;
		case 'd': key = "state_dir"; break;
		case 'g': key = "verify_group"; break;
		case 'm': key = "map_size_mb"; break;
		case 'c': key = "max_conns"; break;
		case 'u': key = "max_conns_per_uid"; break;
		case 'i': key = "idle_timeout"; break;
		case 'x': key = "idle_exit"; break;
		case 'T':
			if (snprintf(cfg->test_clock, sizeof(cfg->test_clock),
			    "%s", optarg) >= (int)sizeof(cfg->test_clock)) {
				fprintf(stderr, "patd: --test-clock: path too "
				    "long\n");
				return 2;
			}
			continue;
		case 'V': printf("patd %s\n", PATD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		/* relative paths on the command line are the caller's business */
		if ((ch == 's' || ch == 'd') && optarg[0] != '/') {
			char abs[600], cwd[512];

			if (getcwd(cwd, sizeof(cwd)) == NULL)
				return 2;
			snprintf(abs, sizeof(abs), "%s/%s", cwd, optarg);
			r = config_set(cfg, key, abs, err, sizeof(err));
		} else
			r = config_set(cfg, key, optarg, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "patd: --%s: %s\n", opts[idx].name, err);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct patd_config cfg;
	struct server_limits lim = { .out_max = 8u << 20 };
	const char *why = "";
	static struct patd d;
	struct statedir_problem prob;
	bool activated = false, socket_flag;
	uint64_t dog = 0;
	int lfd, r, nfds, ex, sfd;

	if ((ex = settings(argc, argv, &cfg, &socket_flag)) >= 0)
		return ex;
	lim.max_conns = cfg.max_conns;
	lim.max_per_uid = cfg.max_conns_per_uid;
	lim.reserved = cfg.reserved_conns;
	lim.idle_ms = (int)cfg.idle_timeout * 1000;
	lim.flush_ms = (int)cfg.lastuse_flush * 1000;
	lim.idle_exit_ms = (int64_t)cfg.idle_exit * 1000;
	if (sd_watchdog_enabled(0, &dog) > 0)
		lim.watchdog_us = dog;
	snprintf(d.verify_group, sizeof(d.verify_group), "%s",
	    cfg.verify_group);

	log_init();
	umask(077);
	if (sodium_init() < 0) {
		fprintf(stderr, "patd: libsodium failed to start\n");
		return 1;
	}
	d.self_uid = geteuid();
	if (cfg.test_clock[0] != '\0') {
		if (testclock_check(cfg.test_clock, &prob) < 0) {
			refuse("--test-clock", cfg.test_clock, &prob);
			return 2;
		}
		snprintf(d.test_clock, sizeof(d.test_clock), "%s",
		    cfg.test_clock);
		log_warn("--test-clock %s: patd's clock runs as many seconds "
		    "ahead as that file says; this is for tests only",
		    cfg.test_clock);
	}
	d.started = patd_now(&d);
	d.rhost_prefix6 = cfg.rhost_ipv6_prefix;
	if (rl_init(&d.rl, cfg.rate_limit_failures, cfg.rate_limit_window,
	    RL_SLOTS) < 0 || rl_init(&d.rl_rhost, cfg.rhost_failures,
	    cfg.rhost_window, RHOST_SLOTS) < 0 || rl_init(&d.rl_login,
	    cfg.login_failures, cfg.login_window, RL_SLOTS) < 0 ||
	    rl_init(&d.rl_create, cfg.create_limit, cfg.create_window,
	    RL_SLOTS) < 0 || rl_init(&d.rl_log, cfg.log_refusals, 60,
	    RL_SLOTS) < 0 || rl_init(&d.rl_uses, cfg.log_refusals, 60,
	    RL_SLOTS) < 0 || rl_init(&d.rl_lookup, LOOKUPS_A_MINUTE, 60,
	    RL_SLOTS) < 0) {
		fprintf(stderr, "patd: out of memory\n");
		return 1;
	}
	/* nothing is read from a directory another user could have written */
	if (statedir_open(cfg.state_dir, &sfd, &prob) < 0) {
		refuse("state directory", cfg.state_dir, &prob);
		return 1;
	}
	/* one patd per state directory, before it reads a key or touches the
	 * socket the other one serves on; held until patd exits (sfd stays
	 * open; login children close it) */
	if (statedir_lock(sfd, cfg.state_dir, &prob) < 0) {
		refuse("state directory", cfg.state_dir, &prob);
		return 1;
	}
	if ((r = keyfile_load(sfd, "token.key", d.key, &why)) < 0) {
		fprintf(stderr, "patd: %s/token.key: %s (%s)\n", cfg.state_dir,
		    why, strerror(-r));
		return 1;
	}
	{
		uint8_t seed[32];

		if ((r = keyfile_load(sfd, "session.key", seed, &why)) < 0) {
			fprintf(stderr, "patd: %s/session.key: %s (%s)\n",
			    cfg.state_dir, why, strerror(-r));
			return 1;
		}
		jwt_keys_from_seed(&d.jwt, seed);
		sodium_memzero(seed, sizeof(seed));
	}
	snprintf(d.login_service, sizeof(d.login_service), "%s",
	    cfg.login_service);
	snprintf(d.login_pam_dir, sizeof(d.login_pam_dir), "%s",
	    cfg.login_pam_dir);
	d.login_fallback = cfg.login_allow_fallback;
	d.session_lifetime = cfg.session_lifetime;
	d.login_timeout = (int)cfg.login_timeout;
	d.max_depth = cfg.max_token_depth;
	d.max_user_tokens = cfg.max_tokens_per_user;
	d.max_children = cfg.max_children_per_token;
	d.retention = (int64_t)cfg.retention_days * 86400;
	d.rotation_grace = cfg.rotation_grace;
	/* a small map keeps an eighth of itself, not the whole of it */
	d.reserve_bytes = (size_t)cfg.store_reserve_mb << 20;
	if (d.reserve_bytes > ((size_t)cfg.map_size_mb << 20) / 8)
		d.reserve_bytes = ((size_t)cfg.map_size_mb << 20) / 8;
	r = store_open(&d.store, cfg.state_dir, (size_t)cfg.map_size_mb << 20);
	if (r < 0) {
		fprintf(stderr, "patd: cannot open the store in %s: %s\n",
		    cfg.state_dir, r == -EPROTO ? "unknown schema version" :
		    store_strerror(r));
		return 1;
	}
	{
		MDB_txn *txn;

		/* until a ROLE-SET gives one, VERIFY reads no policy */
		if (store_begin(d.store, false, &txn) == 0) {
			d.no_policies = !store_policy_any(d.store, txn);
			store_abort(txn);
		}
	}
	r = check_store_files(d.store, sfd, &prob);	/* sfd: the lock */
	if (r < 0) {
		refuse("state directory", cfg.state_dir, &prob);
		return 1;
	}

	/* systemd's socket wins unless --socket was asked for explicitly */
	nfds = socket_flag ? 0 : sd_listen_fds(1);
	if (nfds > 1) {
		fprintf(stderr, "patd: systemd passed %d sockets; want one\n",
		    nfds);
		return 1;
	} else if (nfds == 1) {
		lfd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(lfd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			fprintf(stderr, "patd: the socket from systemd is not a "
			    "listening Unix stream socket\n");
			return 1;
		}
		activated = true;
	} else if (statedir_check_socket(cfg.socket, &prob) < 0) {
		refuse("socket", cfg.socket, &prob);
		return 1;
	} else if ((lfd = bind_socket(cfg.socket)) < 0)
		return 1;

	{
		char stack[600];

		if (login_stack(&d, stack, sizeof(stack)) == 0)
			log_warn("no PAM stack %s for login_service %s: %s; see "
			    "docs/login.md", stack, d.login_service,
			    d.login_fallback ? "login_allow_fallback = yes, so "
			    "patctl login runs PAM's \"other\" stack instead "
			    "(often a password alone, not 2FA)" : "patctl login "
			    "is refused until it exists (PAM would fall back to "
			    "its \"other\" stack)");
	}
	if (cfg.fleet_uri[0] != '\0') {
		char ferr[600];

		if (fleet_start(&d.fleet, d.store, &cfg, ferr, sizeof(ferr)) < 0) {
			fprintf(stderr, "patd: %s\n", ferr);
			return 1;
		}
		log_info("fleet mode: replicating from %s (%s)", cfg.fleet_uri,
		    cfg.fleet_base);
	}
	d.sweep_pending = true;	/* a sweep a restart interrupted goes on */
	log_info("ready: state %s, socket %s, protocol %d", cfg.state_dir,
	    activated ? "from systemd" : cfg.socket, PAT_PROTO_VERSION);
	sd_notify(0, "READY=1");
	r = server_run(&d, lfd, &lim);
	fleet_stop(d.fleet);
	if ((ex = lastuse_flush(&d)) < 0)
		log_warn("cannot record last use: %s", store_strerror(ex));
	if (!activated) {
		unlink(cfg.socket);
		close(lfd);
	}
	store_close(d.store);
	sodium_memzero(d.key, sizeof(d.key));
	jwt_keys_wipe(&d.jwt);
	if (r < 0) {
		log_warn("event loop failed: %s", strerror(-r));
		return 1;
	}
	return 0;
}
