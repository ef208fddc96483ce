/*
 * patd - the Personal Access Token broker.
 *
 * Takes its listening socket from systemd (socket activation) or binds
 * --socket itself, opens the store in --state, and serves until SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
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
#include "patd.h"
#include "server.h"
#include "client.h"

#define DEFAULT_STATE	"/var/lib/patd"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: patd [--socket PATH] [--state DIR] [--verify-group GROUP]\n"
	    "            [--map-size MB] [--max-conns N] [--max-conns-per-uid N]\n"
	    "            [--idle-timeout SEC]\n"
	    "Serves Personal Access Tokens on a Unix socket.  Under systemd the\n"
	    "socket comes from patd.socket; otherwise --socket (default %s).\n",
	    PAT_DEFAULT_SOCKET);
}

/* Bind path, replacing a stale socket but never a live patd or a file. */
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

static int
parse_uint(const char *opt, const char *s, unsigned long long max,
    unsigned long long *out)
{
	if (pat_parse_u64(s, max, out) < 0 || *out == 0) {
		fprintf(stderr, "patd: %s needs a number from 1 to %llu\n", opt,
		    max);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket",		required_argument, NULL, 's' },
		{ "state",		required_argument, NULL, 'd' },
		{ "verify-group",	required_argument, NULL, 'g' },
		{ "map-size",		required_argument, NULL, 'm' },
		{ "max-conns",		required_argument, NULL, 'c' },
		{ "max-conns-per-uid",	required_argument, NULL, 'u' },
		{ "idle-timeout",	required_argument, NULL, 'i' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct server_limits lim = { .max_conns = 512, .max_per_uid = 32,
		.idle_ms = 30000, .out_max = 8u << 20, .flush_ms = 5000 };
	const char *sock = NULL, *state = DEFAULT_STATE, *why = "";
	unsigned long long v, mapmb = 1024;
	static struct patd d;
	bool activated = false;
	int ch, lfd, r, nfds;

	snprintf(d.verify_group, sizeof(d.verify_group), "patd-verify");
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'd': state = optarg; break;
		case 'g':
			if (strlen(optarg) >= sizeof(d.verify_group)) {
				fprintf(stderr, "patd: group name too long\n");
				return 2;
			}
			snprintf(d.verify_group, sizeof(d.verify_group), "%s",
			    optarg);
			break;
		case 'm':
			if (parse_uint("--map-size", optarg, 1u << 20, &mapmb))
				return 2;
			break;
		case 'c':
			if (parse_uint("--max-conns", optarg, 65536, &v))
				return 2;
			lim.max_conns = (unsigned)v;
			break;
		case 'u':
			if (parse_uint("--max-conns-per-uid", optarg, 65536, &v))
				return 2;
			lim.max_per_uid = (unsigned)v;
			break;
		case 'i':
			if (parse_uint("--idle-timeout", optarg, 86400, &v))
				return 2;
			lim.idle_ms = (int)v * 1000;
			break;
		case 'V': printf("patd %s\n", PATD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	umask(077);
	if (sodium_init() < 0) {
		fprintf(stderr, "patd: libsodium failed to start\n");
		return 1;
	}
	d.self_uid = geteuid();
	d.started = (int64_t)time(NULL);
	rl_init(&d.rl, 10, 60);
	if (mkdir(state, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "patd: cannot create state directory %s: %s\n",
		    state, strerror(errno));
		return 1;
	}
	if ((r = keyfile_load(state, d.key, &why)) < 0) {
		fprintf(stderr, "patd: %s/token.key: %s (%s)\n", state, why,
		    strerror(-r));
		return 1;
	}
	if ((r = store_open(&d.store, state, (size_t)mapmb << 20)) < 0) {
		fprintf(stderr, "patd: cannot open the store in %s: %s\n", state,
		    r == -EPROTO ? "unknown schema version" : store_strerror(r));
		return 1;
	}

	nfds = sd_listen_fds(1);
	if (nfds > 1) {
		fprintf(stderr, "patd: systemd passed %d sockets; want one\n",
		    nfds);
		return 1;
	} else if (nfds == 1 && sock == NULL) {
		lfd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(lfd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			fprintf(stderr, "patd: the socket from systemd is not a "
			    "listening Unix stream socket\n");
			return 1;
		}
		activated = true;
	} else if ((lfd = bind_socket(sock ? sock : PAT_DEFAULT_SOCKET)) < 0)
		return 1;

	log_info("ready: state %s, socket %s, protocol %d", state,
	    activated ? "from systemd" : sock ? sock : PAT_DEFAULT_SOCKET,
	    PAT_PROTO_VERSION);
	sd_notify(0, "READY=1");
	r = server_run(&d, lfd, &lim);
	sd_notify(0, "STOPPING=1");
	if ((ch = lastuse_flush(&d)) < 0)
		log_warn("cannot record last use: %s", store_strerror(ch));
	if (!activated) {
		unlink(sock ? sock : PAT_DEFAULT_SOCKET);
		close(lfd);
	}
	store_close(d.store);
	sodium_memzero(d.key, sizeof(d.key));
	if (r < 0) {
		log_warn("event loop failed: %s", strerror(-r));
		return 1;
	}
	return 0;
}
