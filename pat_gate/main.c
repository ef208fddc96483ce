/*
 * pat-gate - forward authentication for web servers: nginx auth_request,
 * Caddy forward_auth, Traefik ForwardAuth ask it whether a request's
 * Personal Access Token grants a permission; it asks patd.
 *
 * main.c: arguments, settings, the listening socket (systemd's, or one it
 * makes), libmicrohttpd, and a clean stop on SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <systemd/sd-daemon.h>

#include "conf.h"
#include "http.h"
#include "log.h"
#include "pool.h"

#define GATE_VERSION		PAT_VERSION	/* debian/changelog's, from the Makefile */
#define GATE_BACKLOG		512
/* per connection: the request line and headers must fit.  nginx passes
 * the client's headers on to auth_request (cookies and all) and accepts
 * 4 x 8 KiB of them by default; bigger is answered 431 by MHD.  Above
 * 32 KiB MHD maps each connection's pool (mmap) instead of taking it from
 * malloc, so a closed connection's memory goes back to the system at
 * once, and only the pages a request touches are resident: under 200
 * keep-alive clients, malloc'd 32 KiB pools left RSS creeping up ~0.4 MiB
 * a round, mapped ones stay flat. */
#define GATE_CONN_MEMORY	(64 * 1024)

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: pat-gate [--config FILE] [--listen unix:PATH | --listen "
	    "HOST:PORT]\n"
	    "                [--socket PATD_SOCKET] [--socket-owner USER|UID]\n"
	    "       pat-gate --help | --version\n"
	    "Answers forward-auth requests (nginx auth_request, Caddy "
	    "forward_auth,\n"
	    "Traefik ForwardAuth) by asking patd whether the request's token "
	    "grants\n"
	    "the permission in X-Pat-Perm.  Listens on the socket systemd "
	    "passes, else\n"
	    "--listen (default %s).  Settings come from\n"
	    "%s (or --config), then the flags.\n"
	    "Exit: 0 after SIGTERM, 1 could not serve, 2 usage or "
	    "configuration error.\n", GATE_LISTEN_DEFAULT, GATE_CONF_DEFAULT);
}

/* USER or UID to a uid. */
static int
resolve_user(const char *s, uid_t *uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s >= '0' && *s <= '9' && *end == '\0' && errno == 0 &&
	    v < (uid_t)-1) {
		*uid = (uid_t)v;
		return 0;
	}
	if (getpwnam_r(s, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -ENOENT;
	*uid = pw.pw_uid;
	return 0;
}

static int
resolve_group(const char *s, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[4096], *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s >= '0' && *s <= '9' && *end == '\0' && errno == 0 &&
	    v < (gid_t)-1) {
		*gid = (gid_t)v;
		return 0;
	}
	if (getgrnam_r(s, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -ENOENT;
	*gid = gr.gr_gid;
	return 0;
}

/* The listening socket systemd passed: -1 none, -2 unusable. */
static int
systemd_socket(void)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int n = sd_listen_fds(1), fd = SD_LISTEN_FDS_START;

	if (n <= 0)
		return -1;
	if (n > 1) {
		gate_log("systemd passed %d sockets; pat-gate takes one "
		    "(one ListenStream= in pat-gate.socket)", n);
		return -2;
	}
	if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_UNIX && ss.ss_family != AF_INET &&
	    ss.ss_family != AF_INET6)) {
		gate_log("the socket systemd passed is not a listening stream "
		    "socket (unix, inet or inet6)");
		return -2;
	}
	return fd;
}

/*
 * May the gate make its socket at path?  nginx and Caddy connect to
 * whatever socket is there, unchecked: whoever can put an entry in its
 * directory (while the gate is down: it removes its socket when it stops)
 * or rename a directory above it answers in the gate's place.  So the
 * directory that holds it is root's or the gate's and writable by neither
 * group nor others, sticky or not; every directory above it too, except a
 * sticky one of root's (/tmp), where no one else can move ours.  No
 * symbolic link on the way.  0, or -1 once logged.
 */
static int
listen_dirs_ok(const char *path)
{
	const char *p = path + 1, *slash;
	uid_t me = geteuid();
	struct stat st;
	size_t end = 1;		/* path[0..end) names the directory at fd */
	int fd, next, r = -1;
	char name[NAME_MAX + 1];

	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		gate_log("cannot open /: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		slash = strchr(p, '/');
		if (fstat(fd, &st) < 0) {
			gate_log("cannot stat %.*s: %s", (int)end, path,
			    strerror(errno));
			goto out;
		}
		if (st.st_uid != 0 && st.st_uid != me) {
			gate_log("cannot listen on %s: directory %.*s belongs to "
			    "uid %u, neither root nor the gate's uid %u: its "
			    "owner could put a socket of its own in the gate's "
			    "place; use a directory of root's or the gate's "
			    "(mktemp -d)", path, (int)end, path,
			    (unsigned)st.st_uid, (unsigned)me);
			goto out;
		}
		if ((st.st_mode & 022) != 0 && (slash == NULL ||
		    !(st.st_uid == 0 && (st.st_mode & S_ISVTX)))) {
			gate_log("cannot listen on %s: directory %.*s is writable "
			    "by %s (mode %04o): anyone who can write there "
			    "could put a socket of their own in the gate's "
			    "place; use a directory only root or the gate's "
			    "user can write (mktemp -d)", path, (int)end, path,
			    (st.st_mode & 022) == 022 ? "group and others" :
			    st.st_mode & 002 ? "others" : "its group",
			    (unsigned)(st.st_mode & 07777));
			goto out;
		}
		if (slash == NULL)
			break;	/* fd is the socket's directory */
		if ((size_t)(slash - p) > NAME_MAX) {
			gate_log("cannot listen on %s: a name too long", path);
			goto out;
		}
		memcpy(name, p, (size_t)(slash - p));
		name[slash - p] = '\0';
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			gate_log("cannot listen on %s: give a plain absolute "
			    "path (no . or ..)", path);
			goto out;
		}
		end = (size_t)(slash - path);
		p = slash + 1;
		if (name[0] == '\0')
			continue;	/* "//" */
		next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (next < 0) {
			gate_log("cannot listen on %s: %.*s: %s", path, (int)end,
			    path, errno == ENOTDIR || errno == ELOOP ? "not a "
			    "directory (the gate follows no symbolic link to "
			    "its socket)" : strerror(errno));
			goto out;
		}
		close(fd);
		fd = next;
	}
	r = 0;
out:
	close(fd);
	return r;
}

/*
 * Make and bind a Unix socket at path: a stale socket is replaced, but
 * never a file that is not a socket, nor a socket someone still listens
 * on.  Created under umask 0177, then given `mode` and `group`, so it is
 * never wider than asked, not even for a moment.
 */
static int
listen_unix(const struct gate_listen *l, unsigned mode, const char *group,
    ino_t *ino)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	gid_t gid;
	int fd, probe, e;

	memcpy(sun.sun_path, l->path, strlen(l->path) + 1);
	if (listen_dirs_ok(l->path) < 0)
		return -1;
	if (lstat(l->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			gate_log("%s exists and is not a socket; not touching "
			    "it", l->path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(probe);
			gate_log("something is listening on %s already",
			    l->path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		if (unlink(l->path) < 0 && errno != ENOENT) {
			gate_log("cannot remove the stale socket %s: %s",
			    l->path, strerror(errno));
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		gate_log("socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	e = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? errno : 0;
	umask(old);
	if (e != 0 || listen(fd, GATE_BACKLOG) < 0) {
		gate_log("cannot listen on %s: %s", l->path, strerror(e ? e :
		    errno));
		close(fd);
		return -1;
	}
	if (group[0] != '\0') {
		if (resolve_group(group, &gid) < 0) {
			gate_log("listen_group %s: no such group", group);
			goto fail;
		}
		if (chown(l->path, (uid_t)-1, gid) < 0) {
			gate_log("chown %s to group %s: %s", l->path, group,
			    strerror(errno));
			goto fail;
		}
	}
	if (chmod(l->path, mode) < 0 || lstat(l->path, &st) < 0) {
		gate_log("chmod %s: %s", l->path, strerror(errno));
		goto fail;
	}
	*ino = st.st_ino;
	gate_log("listening on unix:%s (mode %04o)", l->path, mode);
	return fd;
fail:
	close(fd);
	unlink(l->path);
	return -1;
}

static int
listen_inet(struct gate_listen *l)
{
	socklen_t len = l->family == AF_INET ? sizeof(l->sa.in) :
	    sizeof(l->sa.in6);
	char host[INET6_ADDRSTRLEN];
	int fd, one = 1;

	if ((fd = socket(l->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		gate_log("socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (struct sockaddr *)&l->sa, len) < 0 ||
	    listen(fd, GATE_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&l->sa, &len) < 0) {
		gate_log("cannot listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	/* with port 0 the kernel chose: say which */
	if (l->family == AF_INET)
		gate_log("listening on %s:%u", inet_ntop(AF_INET,
		    &l->sa.in.sin_addr, host, sizeof(host)),
		    (unsigned)ntohs(l->sa.in.sin_port));
	else
		gate_log("listening on [%s]:%u", inet_ntop(AF_INET6,
		    &l->sa.in6.sin6_addr, host, sizeof(host)),
		    (unsigned)ntohs(l->sa.in6.sin6_port));
	return fd;
}

/* MHD's messages, through the same escaping as ours. */
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	gate_vlog(fmt, ap);
}

/* Settings: defaults, the file, then the flags.  Returns the exit code to
 * stop with, or -1 to go on. */
static int
settings(int argc, char **argv, struct gate_config *cfg, const char **listen)
{
	static const struct option opts[] = {
		{ "config",	  required_argument, NULL, 'c' },
		{ "listen",	  required_argument, NULL, 'l' },
		{ "socket",	  required_argument, NULL, 's' },
		{ "socket-owner", required_argument, NULL, 'o' },
		{ "help",	  no_argument,	     NULL, 'h' },
		{ "version",	  no_argument,	     NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = GATE_CONF_DEFAULT, *sock = NULL, *owner = NULL;
	char err[512];
	bool explicit_conf = false;
	int o;

	*listen = NULL;
	while ((o = getopt_long(argc, argv, "c:l:s:o:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c': conf = optarg; explicit_conf = true; break;
		case 'l': *listen = optarg; break;
		case 's': sock = optarg; break;
		case 'o': owner = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("pat-gate %s\n", GATE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	gate_config_defaults(cfg);
	if (gate_config_load(cfg, conf, explicit_conf, err, sizeof(err)) < 0) {
		gate_log("%s", err);
		return 2;
	}
	if ((sock != NULL && gate_config_set(cfg, "socket", sock, err,
	    sizeof(err)) < 0) || (owner != NULL && gate_config_set(cfg,
	    "socket_owner", owner, err, sizeof(err)) < 0) ||
	    (*listen != NULL && gate_config_set(cfg, "listen", *listen, err,
	    sizeof(err)) < 0)) {
		gate_log("%s", err);
		return 2;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct gate_config cfg;
	struct gate_listen l;
	struct gate_http http;
	struct gate_pool *pool = NULL;
	struct MHD_Daemon *d = NULL;
	const char *flag_listen;
	unsigned flags;
	bool have_owner = false;
	uid_t owner = 0;
	ino_t ino = 0;
	sigset_t sigs;
	int ex, fd = -1, sig, r;

	if ((ex = settings(argc, argv, &cfg, &flag_listen)) >= 0)
		return ex;
	if (cfg.socket_owner[0] != '\0') {
		if (resolve_user(cfg.socket_owner, &owner) < 0) {
			gate_log("socket_owner %s: no such user",
			    cfg.socket_owner);
			return 2;
		}
		have_owner = true;
	}
	/* before any thread: MHD's threads inherit the blocked set, so
	 * the signals reach only sigwait below */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	ex = 1;
	memset(&l, 0, sizeof(l));
	/* --listen, else what systemd passed, else the file's, else the
	 * default */
	if (flag_listen == NULL && (fd = systemd_socket()) == -2)
		goto out;
	if (fd >= 0)
		gate_log("listening on the socket from systemd");
	else {
		gate_listen_parse(cfg.listen[0] ? cfg.listen :
		    GATE_LISTEN_DEFAULT, &l);
		fd = l.family == AF_UNIX ? listen_unix(&l, cfg.listen_mode,
		    cfg.listen_group, &ino) : listen_inet(&l);
		if (fd < 0)
			goto out;
	}
	if ((r = gate_pool_new(&pool, cfg.socket, (int)cfg.patd_timeout_ms,
	    have_owner, owner, cfg.pool_size)) < 0) {
		gate_log("cannot make the connection pool: %s", strerror(-r));
		goto out;
	}
	http.cfg = &cfg;
	http.pool = pool;
	/* poll, not epoll: with libmicrohttpd 0.9.75's epoll in a thread
	 * pool, 200 concurrent keep-alive clients now and then found 128
	 * connections (one worker's share of 512) unanswered until the
	 * connection timeout (3 rounds in 150 here); poll never did (0 in
	 * 300).  At a few hundred connections per thread poll costs nothing
	 * that matters. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG;
	d = MHD_start_daemon(flags, 0, NULL, NULL, gate_http_handler, &http,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, cfg.threads > 1 ? cfg.threads : 0u,
	    MHD_OPTION_CONNECTION_LIMIT, cfg.max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg.request_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)GATE_CONN_MEMORY,
	    MHD_OPTION_END);
	if (d == NULL) {
		gate_log("libmicrohttpd would not start");
		goto out;
	}
	gate_log("ready: patd at %s, %u threads, %u patd connections, "
	    "timeout %u ms", cfg.socket, cfg.threads, cfg.pool_size,
	    cfg.patd_timeout_ms);
	sd_notify(0, "READY=1");
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			gate_log("SIGHUP ignored: restart pat-gate to read its "
			    "configuration again");
			continue;
		}
		break;
	}
	sd_notify(0, "STOPPING=1");
	gate_log("stopping on signal %d", sig);
	ex = 0;
out:
	/* Quiesce first: libmicrohttpd's stop with a thread pool would
	 * shutdown() the listening socket, and that socket is systemd's as
	 * well: pat-gate.socket then fails ("Got POLLHUP on a listening
	 * socket") and the gate is not started again until someone restarts
	 * the socket.  Quiesced, it is left alone and we only close our copy. */
	if (d != NULL) {
		MHD_socket lf = MHD_quiesce_daemon(d);

		MHD_stop_daemon(d);
		if (lf != MHD_INVALID_SOCKET)
			close(lf);
	} else if (fd >= 0)
		close(fd);
	gate_pool_free(pool);
	/* our socket file, unless another took its place meanwhile */
	if (ino != 0) {
		struct stat st;

		if (lstat(l.path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_ino == ino)
			unlink(l.path);
	}
	return ex;
}
