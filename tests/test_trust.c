/*
 * Whose socket patctl talks to (issue 11, finding 6): a socket another
 * user planted, or one chowned to root but served by another user's
 * process, gets nothing from patctl — no request, no password, no token —
 * and patctl exits 3; --socket-owner / PATD_SOCKET_OWNER trusts one user's
 * private patd.  Real processes and uids (setpriv): root only.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static struct tpatd t;
static pid_t spy;
static char spy_sock[100], spy_log[160];

static void
setup(void)
{
	t_need_root();
	t_start(&t, NULL);
}

static void
teardown(void)
{
	if (spy > 0) {
		kill(spy, SIGKILL);
		waitpid(spy, NULL, 0);
		spy = 0;
	}
	t_stop(&t);
}

TestSuite(trust, .init = setup, .fini = teardown, .timeout = 120);

/*
 * The attacker: alice's process listening at `path`.  It plays patd just
 * enough to get a password (a PROMPT first), reads whatever a client sends
 * until it closes or is quiet for a second, and appends one line per
 * connection to spy_log: "conn BYTES".  A connection that sends exactly
 * "STOP" ends it.  Never prints what it received.
 */
static void
spy_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static const char prompt[] = "PROMPT style=echo-off "
	    "text=Password:%20\n";
	struct timeval tv = { 1, 0 };
	char buf[4096];
	size_t total;
	ssize_t n;
	FILE *log;
	int fd, c, i;

	snprintf(spy_sock, sizeof(spy_sock), "%s", path);
	snprintf(spy_log, sizeof(spy_log), "%s/spy.log", t.dir);
	t_write(spy_log, "", 0666);
	spy = t_fork();
	cr_assert_neq(spy, -1);
	if (spy > 0) {
		for (i = 0; i < 250 && access(path, F_OK) != 0; i++)
			usleep(20000);
		cr_assert_eq(access(path, F_OK), 0, "alice's listener is not up");
		return;
	}
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	if (setgroups(0, NULL) < 0 || setgid(ALICE) < 0 || setuid(ALICE) < 0)
		_exit(1);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, 16) < 0)
		_exit(1);
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) < 0)
			continue;
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		/* what patd says first in a login: ask for the password */
		send(c, prompt, strlen(prompt), MSG_NOSIGNAL);
		total = 0;
		while ((n = recv(c, buf + total % sizeof(buf), sizeof(buf) -
		    total % sizeof(buf), 0)) > 0)
			total += (size_t)n;
		close(c);
		if (total == 4 && memcmp(buf, "STOP", 4) == 0)
			_exit(0);
		explicit_bzero(buf, sizeof(buf));
		if ((log = fopen(spy_log, "a")) != NULL) {
			fprintf(log, "conn %zu\n", total);
			fclose(log);
		}
	}
}

/* Stop the listener once it has dealt with every earlier connection;
 * return what it logged: connections and bytes received. */
static void
spy_stop(int *conns, size_t *bytes)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *log, *p;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", spy_sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(send(fd, "STOP", 4, MSG_NOSIGNAL), 4);
	shutdown(fd, SHUT_WR);
	cr_assert_eq(waitpid(spy, NULL, 0), spy);
	close(fd);
	spy = 0;
	*conns = 0;
	*bytes = 0;
	log = t_slurp(spy_log);
	for (p = log; (p = strstr(p, "conn ")) != NULL; p += 5) {
		(*conns)++;
		*bytes += strtoul(p + 5, NULL, 10);
	}
	free(log);
}

/* A directory anyone may create in, as /tmp is. */
static void
shared_dir(char *out, size_t n)
{
	snprintf(out, n, "%s/tmp", t.dir);
	cr_assert_eq(mkdir(out, 01777), 0);
	cr_assert_eq(chmod(out, 01777), 0);
}

/* root's runtime dir, for patctl login */
static void
root_xdg(void)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/xdg", t.dir);
	cr_assert_eq(mkdir(path, 0700), 0);
}

Test(trust, a_socket_another_user_planted_gets_no_password_and_no_token)
{
	char dir[128], path[160], *tok, *err = NULL, in[512];
	size_t bytes;
	int conns, rc;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user root");
	tok = t_token(&t, "root", "ssh");	/* a real token: worth stealing */
	shared_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/pat.sock", dir);
	spy_listen(path);
	root_xdg();

	/* root logs in through the planted socket: password and code on
	 * stdin */
	rc = t_sh(&t, 0, ALICE_PASSWORD "\n123456\n", NULL, &err,
	    "XDG_RUNTIME_DIR=%s/xdg PATD_SOCKET=%s \"$PATCTL\" login", t.dir,
	    path);
	cr_assert_eq(rc, 3, "login through alice's socket: exit %d", rc);
	cr_assert(strstr(err, path) && strstr(err, "uid 1001") &&
	    strstr(err, "--socket-owner"), "the refusal names the socket, "
	    "its owner and the override: %s", err);
	free(err);

	/* and a token given as the parent of a new one */
	snprintf(in, sizeof(in), "%s\n", tok);
	rc = t_sh(&t, 0, in, NULL, &err, "\"$PATCTL\" --socket %s create "
	    "--role ssh --parent-from-stdin", path);
	cr_assert_eq(rc, 3, "create through alice's socket: exit %d", rc);
	free(err);
	/* every other command, too */
	rc = t_sh(&t, 0, NULL, NULL, NULL, "PATD_SOCKET=%s \"$PATCTL\" list",
	    path);
	cr_assert_eq(rc, 3);

	spy_stop(&conns, &bytes);
	cr_assert_eq(bytes, 0, "alice's listener received %zu bytes", bytes);
	cr_assert_eq(conns, 0, "patctl connected %d times: the file's owner "
	    "is checked first", conns);
	t_free(tok);
}

Test(trust, a_root_owned_socket_file_served_by_another_user_gets_nothing)
{
	char dir[128], path[160], *tok, *err = NULL, in[512];
	size_t bytes;
	int conns, rc;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user root");
	tok = t_token(&t, "root", "ssh");
	shared_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/pat.sock", dir);
	spy_listen(path);
	/* the file check alone would pass: only the peer check is left */
	cr_assert_eq(chown(path, 0, 0), 0);
	root_xdg();

	snprintf(in, sizeof(in), "%s\n", tok);
	rc = t_sh(&t, 0, in, NULL, &err, "\"$PATCTL\" --socket %s create "
	    "--role ssh --parent-from-stdin", path);
	cr_assert_eq(rc, 3, "create: exit %d", rc);
	cr_assert(strstr(err, "runs as uid 1001"), "%s", err);
	free(err);
	rc = t_sh(&t, 0, ALICE_PASSWORD "\n123456\n", NULL, NULL,
	    "XDG_RUNTIME_DIR=%s/xdg PATD_SOCKET=%s \"$PATCTL\" login", t.dir,
	    path);
	cr_assert_eq(rc, 3, "login: exit %d", rc);

	spy_stop(&conns, &bytes);
	cr_assert_eq(bytes, 0, "alice's listener received %zu bytes", bytes);
	cr_assert_eq(conns, 2, "both connected, then hung up (%d)", conns);
	t_free(tok);
}

Test(trust, socket_owner_trusts_a_private_patd_and_root_stays_trusted)
{
	char dir[128], sock[160], *out = NULL, *err = NULL;
	pid_t patd;
	int i, rc;

	/* alice's own patd, as make demo runs one */
	snprintf(dir, sizeof(dir), "%s/alice", t.dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(chown(dir, ALICE, ALICE), 0);
	patd = t_bg(&t, ALICE, "exec \"$PATD\" --socket %s/s --state %s/st",
	    dir, dir);
	snprintf(sock, sizeof(sock), "%s/s", dir);
	for (i = 0; i < 100 && access(sock, F_OK) != 0; i++)
		usleep(20000);
	cr_assert_eq(access(sock, F_OK), 0, "alice's patd did not start");

	/* by default nobody's but root's: not even alice's own patctl */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "--socket %s status",
	    sock), 3);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "--socket %s status",
	    sock), 3);
	/* the flag, by name (alice is known through nss_wrapper) … */
	rc = t_sh(&t, 0, NULL, &out, &err, "LD_PRELOAD=libnss_wrapper.so "
	    "\"$PATCTL\" --socket %s --socket-owner alice status", sock);
	cr_assert_eq(rc, 0, "--socket-owner alice: %d %s", rc, err);
	cr_assert(strstr(out, "(protocol 1)"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(t_sh(&t, ALICE, NULL, NULL, NULL, "LD_PRELOAD="
	    "libnss_wrapper.so \"$PATCTL\" --socket %s --socket-owner alice "
	    "status", sock), 0);
	/* … the environment, by number … */
	cr_assert_eq(t_sh(&t, ALICE, NULL, NULL, NULL, "PATD_SOCKET_OWNER=1001 "
	    "\"$PATCTL\" --socket %s status", sock), 0);
	/* … and the flag wins over it */
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "PATD_SOCKET_OWNER=1001 "
	    "\"$PATCTL\" --socket %s --socket-owner 1002 status", sock), 3);
	/* an unknown owner is a usage error, not a silent root-only */
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "\"$PATCTL\" --socket %s "
	    "--socket-owner no-such-user status", sock), 2);
	/* root's patd is trusted whatever the override says */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "--socket-owner 1001 "
	    "status"), 0);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, NULL, "status"), 0);
	t_bg_stop(patd, SIGTERM);
}
