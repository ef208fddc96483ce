/* harness.c - see harness.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <crypt.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "harness.h"
#include "cleanup.h"

static const char *
build_dir(void)
{
	const char *b = getenv("PAT_BUILD");

	return b && *b ? b : "build";
}

/* Where the programs other uids execute are: the run's 0755 copy
 * (runbin.c), else build itself. */
static const char *
exec_dir(void)
{
	const char *b = getenv("PAT_TEST_BIN");

	return b && *b ? b : build_dir();
}

char *
t_slurp(const char *path)
{
	size_t len = 0, cap = 4096;
	char *s = malloc(cap + 1);
	FILE *f = fopen(path, "re");
	size_t k;

	cr_assert_not_null(s);
	/* read until the end: /proc files have no size */
	while (f != NULL && (k = fread(s + len, 1, cap - len, f)) > 0) {
		len += k;
		if (len == cap) {
			cap *= 2;
			s = realloc(s, cap + 1);
			cr_assert_not_null(s);
		}
	}
	if (f != NULL)
		fclose(f);
	s[len] = '\0';
	return s;
}

void
t_free(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

void
t_write(const char *path, const char *content, mode_t mode)
{
	char tmp[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	cr_assert_not_null(f, "cannot write %s", tmp);
	fputs(content, f);
	fclose(f);
	chmod(tmp, mode);
	cr_assert_eq(rename(tmp, path), 0);
}

void
t_reconfigure(struct tpatd *t, const char *conf)
{
	char path[200];

	snprintf(path, sizeof(path), "%s/patd.conf", t->dir);
	t_write(path, conf, 0644);
	t_kill9(t);
	snprintf(t->extra, sizeof(t->extra), "--config %s", path);
	t_restart(t);
}

void
t_write_groups(struct tpatd *t, const char *content)
{
	t_write(t->group, content, 0644);
}

static bool
can_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

/* Children get only stdio: a leaked Criterion pipe would keep the runner
 * waiting for a background process. */
static void
close_extra_fds(void)
{
	int fd;

	for (fd = 3; fd < 1024; fd++)
		close(fd);
}

static void
set_env(struct tpatd *t)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/patctl", exec_dir());
	setenv("PATCTL", path, 1);
	snprintf(path, sizeof(path), "%s/patd", exec_dir());
	setenv("PATD", path, 1);
	setenv("PATD_SOCKET", t->sock, 1);
	snprintf(path, sizeof(path), "%s/tests/pamcall", exec_dir());
	setenv("PAMCALL", path, 1);
	snprintf(path, sizeof(path), "%s/pam_pat.so", exec_dir());
	setenv("PAM_PAT", path, 1);
	snprintf(path, sizeof(path), "%s/tests/sockact", exec_dir());
	setenv("SOCKACT", path, 1);
	if (getenv("PAT_SRC") == NULL)
		setenv("PAT_SRC", ".", 1);
	snprintf(path, sizeof(path), "%s/asan/pam_pat.so", exec_dir());
	setenv("PAM_PAT_ASAN", path, 1);
	snprintf(path, sizeof(path), "%s/shadow", t->dir);
	setenv("NSS_WRAPPER_SHADOW", path, 1);
	setenv("NSS_WRAPPER_PASSWD", t->passwd, 1);
	setenv("NSS_WRAPPER_GROUP", t->group, 1);
	/* patctl trusts only root's socket: a suite run by a normal user
	 * runs patd as that user, so it says so (as make demo does) */
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%u", (unsigned)geteuid());
		setenv("PATD_SOCKET_OWNER", path, 1);
	} else
		unsetenv("PATD_SOCKET_OWNER");
}

void
t_restart(struct tpatd *t)
{
	char args[1400], small[400] = "";
	int i;

	if (t->ns && t->state_kib > 0)
		/* mode: a tmpfs root is 1777, a state directory patd refuses */
		snprintf(small, sizeof(small), "mkdir -p %s && mount -t tmpfs -o "
		    "size=%uk,mode=0700 tmpfs %s && ", t->state, t->state_kib,
		    t->state);
	if (t->ns)
		snprintf(args, sizeof(args), "exec unshare --mount --propagation "
		    "private sh -c '%smount --bind %s /etc/passwd && mount --bind "
		    "%s /etc/group && mount --bind %s/shadow /etc/shadow && exec "
		    "\"$PATD\" --socket %s --state %s %s' >>%s 2>&1", small,
		    t->passwd, t->group, t->dir, t->sock, t->state, t->extra,
		    t->log);
	else
		snprintf(args, sizeof(args), "exec \"$PATD\" --socket %s "
		    "--state %s %s >>%s 2>&1", t->sock, t->state, t->extra,
		    t->log);
	t->pid = t_owned_fork(true, true);
	if (t->pid == 0) {
		set_env(t);
		close_extra_fds();
		setenv("LD_PRELOAD", "libnss_wrapper.so", 1);
		execl("/bin/sh", "sh", "-c", args, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if (can_connect(t->sock)) {
			t_fail_point(0, t->pid, "patd");
			return;
		}
		if (waitpid(t->pid, NULL, WNOHANG) == t->pid)
			break;
		usleep(10000);
	}
	cr_assert_fail("patd did not start; its log:\n%s", t_slurp(t->log));
}

void
t_start(struct tpatd *t, const char *extra)
{
	char shadow[200], line[512];

	memset(t, 0, sizeof(*t));
	t_tmpname(t->dir, sizeof(t->dir), "");
	cr_assert_not_null(mkdtemp(t->dir));
	chmod(t->dir, 0755);	/* other uids reach the socket */
	snprintf(t->sock, sizeof(t->sock), "%s/patd.sock", t->dir);
	snprintf(t->state, sizeof(t->state), "%s/state", t->dir);
	snprintf(t->log, sizeof(t->log), "%s/patd.log", t->dir);
	snprintf(t->passwd, sizeof(t->passwd), "%s/passwd", t->dir);
	snprintf(t->group, sizeof(t->group), "%s/group", t->dir);
	snprintf(t->extra, sizeof(t->extra), "%s", extra ? extra : "");
	set_env(t);	/* the test itself reads PAM_PAT and friends */
	t_write(t->passwd,
	    "root:x:0:0:root:/root:/bin/sh\n"
	    "alice:x:1001:1001:Alice:/tmp:/bin/sh\n"
	    "bob:x:1002:1002:Bob:/tmp:/bin/sh\n"
	    "carol:x:1003:1003:Carol:/tmp:/bin/sh\n", 0644);
	snprintf(shadow, sizeof(shadow), "%s/shadow", t->dir);
	snprintf(line, sizeof(line), "alice:%s:19000:0:99999:7:::\n"
	    "bob:!:19000:0:99999:7:::\n",
	    crypt(ALICE_PASSWORD, "$6$pattestsalt$"));
	t_write(shadow, line, 0600);
	t_write_groups(t,
	    "root:x:0:\n"
	    "alice:x:1001:\n"
	    "bob:x:1002:\n"
	    "carol:x:1003:\n"
	    "devs:x:2000:alice\n"
	    "patd-verify:x:2001:carol\n");
	t_restart(t);
}

void
t_start_ns(struct tpatd *t, const char *extra)
{
	t_need_root();
	if (system("unshare --mount true 2>/dev/null") != 0)
		cr_skip_test("SKIPPED: no mount namespaces here");
	t_start(t, NULL);	/* the files and env; then again, in a ns */
	t_kill9(t);
	t->ns = true;
	snprintf(t->extra, sizeof(t->extra), "%s", extra ? extra : "");
	t_restart(t);
}

void
t_clock(struct tpatd *t, long long secs)
{
	char path[200], text[32];

	snprintf(path, sizeof(path), "%s/clock", t->dir);
	snprintf(text, sizeof(text), "%lld\n", secs);
	t_write(path, text, 0600);	/* patd's alone, as it insists */
}

void
t_start_clock(struct tpatd *t, const char *extra)
{
	t_start(t, extra);	/* the directory first; then again, with it */
	t_kill9(t);
	t_clock(t, 0);
	snprintf(t->extra, sizeof(t->extra), "%s --test-clock %s/clock",
	    extra ? extra : "", t->dir);
	t_restart(t);
}

void
t_kill9(struct tpatd *t)
{
	if (t->pid <= 0)
		return;	/* kill(0) would take the whole test run along */
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	t->pid = 0;
}

void
t_stop(struct tpatd *t)
{
	char cmd[128];
	int st;

	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, &st, 0);
		t->pid = 0;
	}
	t_stop_helpers();	/* before the files they may still be writing */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	if (strncmp(t->dir, "/tmp/pat-test.", 14) == 0 && system(cmd) != 0)
		cr_log_warn("could not remove %s", t->dir);
}

/* cmd as uid: itself for root, else through setpriv. */
static void
as_uid(char *full, size_t n, uid_t uid, const char *cmd)
{
	if (uid == 0)
		snprintf(full, n, "%s", cmd);
	else
		snprintf(full, n, "exec setpriv --reuid=%u --regid=%u "
		    "--clear-groups -- sh -c '%s'", (unsigned)uid, (unsigned)uid,
		    cmd);
}

/*
 * Before a test first runs something as uid: can uid execute patctl and
 * patd and read the PAM module?  If not (a checkout in a 0700 directory
 * without the run's copy, a noexec /tmp), every later exit status would be
 * the shell's 126, which a test expecting a refusal could take for one.
 * Fail at once, saying it is the environment, never pat.
 */
static void
check_reach(struct tpatd *t, uid_t uid)
{
	static uid_t checked[8];
	static unsigned nchecked;
	char cmd[600];
	unsigned i;
	pid_t pid;
	int st;

	for (i = 0; i < nchecked; i++)
		if (checked[i] == uid)
			return;
	snprintf(cmd, sizeof(cmd), "exec setpriv --reuid=%u --regid=%u "
	    "--clear-groups -- sh -c 'test -x \"$PATCTL\" && test -x \"$PATD\" "
	    "&& test -r \"$PAM_PAT\"'", (unsigned)uid, (unsigned)uid);
	pid = t_owned_fork(false, false);
	if (pid == 0) {
		set_env(t);
		close_extra_fds();
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		cr_assert_fail("environment: uid %u cannot execute %s or %s (or "
		    "read %s), so nothing this test runs as that uid could "
		    "start. This is a problem of where the suite runs, not a "
		    "verdict on pat: run it through make test, whose runner "
		    "copies the programs into a 0755 directory (PAT_TEST_BIN)",
		    (unsigned)uid, getenv("PATCTL"), getenv("PATD"),
		    getenv("PAM_PAT"));
	if (nchecked < sizeof(checked) / sizeof(checked[0]))
		checked[nchecked++] = uid;
}

/* Exit 126 (found, cannot execute) and, for another uid, 127 (not found)
 * are the shell's, not pat's: fail the test saying so, before any
 * assertion could read them as pat's verdict.  Only the shell's own
 * complaints are quoted (the rest of stderr may hold a secret). */
static void
check_shell_status(uid_t uid, int rc, const char *ferr)
{
	char *err, *line, *save = NULL, said[600] = "";
	size_t n = 0;

	if (rc != 126 && !(rc == 127 && uid != 0))
		return;
	err = t_slurp(ferr);
	for (line = strtok_r(err, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "sh: ", 4) == 0 && n + strlen(line) + 2 <
		    sizeof(said))
			n += (size_t)snprintf(said + n, sizeof(said) - n, "%s%s",
			    n ? "; " : "", line);
	t_free(err);
	cr_assert_fail("environment: the shell run as uid %u exited %d (%s): "
	    "a program could not be executed. This is a problem of where the "
	    "suite runs, not a verdict on pat", (unsigned)uid, rc,
	    n ? said : "no message");
}

pid_t
t_bg(struct tpatd *t, uid_t uid, const char *fmt, ...)
{
	char cmd[4096], full[4400], ferr[200];
	static unsigned seq;
	va_list ap;
	pid_t pid;
	int fd;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (uid != 0)
		check_reach(t, uid);
	as_uid(full, sizeof(full), uid, cmd);
	snprintf(ferr, sizeof(ferr), "%s/bg.%u.err", t->dir, ++seq);
	pid = t_owned_fork(true, true);
	if (pid == 0) {
		set_env(t);
		if (uid != 0 && chdir(t->dir) < 0)	/* not a closed checkout */
			_exit(126);
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		fd = open(ferr, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		close_extra_fds();
		execl("/bin/sh", "sh", "-c", full, (char *)NULL);
		_exit(127);
	}
	t_fail_point(++t_helpers, pid, "a background helper");
	return pid;
}

int
t_bg_stop(pid_t pid, int sig)
{
	siginfo_t si;
	int i, st = 0;

	if (pid <= 0)
		return -1;	/* kill(-0) would take the whole test along */
	/* only we reap the leader: until then its group id is ours */
	kill(-pid, sig);
	for (i = 0; i < 500; i++) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT)
		    < 0 || si.si_pid == pid)
			break;
		usleep(10000);
	}
	kill(-pid, SIGKILL);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
t_sh(struct tpatd *t, uid_t uid, const char *in, char **out, char **err,
    const char *fmt, ...)
{
	char cmd[4096], full[4400], fin[200], fout[200], ferr[200];
	static unsigned seq;
	va_list ap;
	pid_t pid;
	int st, fd;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	seq++;
	snprintf(fin, sizeof(fin), "%s/in.%u", t->dir, seq);
	snprintf(fout, sizeof(fout), "%s/out.%u", t->dir, seq);
	snprintf(ferr, sizeof(ferr), "%s/err.%u", t->dir, seq);
	t_write(fin, in ? in : "", 0644);
	if (uid != 0)
		check_reach(t, uid);
	as_uid(full, sizeof(full), uid, cmd);
	pid = t_owned_fork(true, false);
	if (pid == 0) {
		set_env(t);
		if (uid != 0 && chdir(t->dir) < 0)	/* not a closed checkout */
			_exit(126);
		fd = open(fin, O_RDONLY);
		dup2(fd, 0);
		fd = open(fout, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		fd = open(ferr, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		close_extra_fds();
		execl("/bin/sh", "sh", "-c", full, (char *)NULL);
		_exit(127);
	}
	if (!t_no_cleanup()) {
		siginfo_t si;

		/* the shell is done but not reaped, so its group id is still
		 * ours: kill what it left in the background */
		while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 &&
		    errno == EINTR)
			;
		kill(-pid, SIGKILL);
	}
	waitpid(pid, &st, 0);
	if (out)
		*out = t_slurp(fout);
	if (err)
		*err = t_slurp(ferr);
	unlink(fin);
	unlink(fout);
	if (WIFEXITED(st))
		check_shell_status(uid, WEXITSTATUS(st), ferr);
	unlink(ferr);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *
t_raw(struct tpatd *t, const char *req, int nfinal)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 65536;
	char *buf = calloc(1, cap + 1), *p;
	struct timeval tv = { 5, 0 };
	int fd, finals = 0;
	ssize_t n;

	cr_assert_not_null(buf);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL),
	    (ssize_t)strlen(req));
	while (finals < nfinal && len < cap &&
	    (n = recv(fd, buf + len, cap - len, 0)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		for (finals = 0, p = buf; p && *p; p = strchr(p, '\n'),
		    p = p ? p + 1 : NULL)
			if ((strncmp(p, "OK", 2) == 0 || strncmp(p, "ERR", 3) == 0) &&
			    strchr(p, '\n'))
				finals++;
	}
	close(fd);
	return buf;
}

int
t_dial(const struct tpatd *t)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t->sock);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

char *
t_line(int fd)
{
	size_t len = 0, cap = 65536;
	char *buf = calloc(1, cap + 1);

	cr_assert_not_null(buf);
	/* a byte at a time: what follows the line stays in the socket */
	while (len < cap && recv(fd, buf + len, 1, 0) == 1)
		if (buf[len++] == '\n')
			break;
	buf[len] = '\0';
	return buf;
}

char *
t_ask(const struct tpatd *t, const char *req)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	char buf[1024];
	size_t len = 0;
	ssize_t k;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t->sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		close(fd);
		return NULL;
	}
	while (len < sizeof(buf) - 1 && memchr(buf, '\n', len) == NULL &&
	    (k = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
		len += (size_t)k;
	close(fd);
	buf[len] = '\0';
	return len > 0 && memchr(buf, '\n', len) ? strdup(buf) : NULL;
}

char *
t_field(const char *reply, const char *verb, const char *key)
{
	char pat[64];
	const char *line = reply, *f, *e;

	snprintf(pat, sizeof(pat), " %s=", key);
	while (line && *line) {
		const char *eol = strchr(line, '\n');

		if (strncmp(line, verb, strlen(verb)) == 0 &&
		    (f = strstr(line, pat)) != NULL && (!eol || f < eol)) {
			f += strlen(pat);
			e = f + strcspn(f, " \n");
			return strndup(f, (size_t)(e - f));
		}
		line = eol ? eol + 1 : NULL;
	}
	return NULL;
}

void
t_role(struct tpatd *t, const char *name, const char *perms)
{
	char *err = NULL;
	int rc = t_ctl(t, 0, NULL, NULL, &err, "role set %s %s", name, perms);

	cr_assert_eq(rc, 0, "role set %s: %s", name, err);
	free(err);
}

void
t_grant(struct tpatd *t, const char *role, const char *who)
{
	char *err = NULL;
	int rc = t_ctl(t, 0, NULL, NULL, &err, "grant %s %s", role, who);

	cr_assert_eq(rc, 0, "grant %s %s: %s", role, who, err);
	free(err);
}

char *
t_token(struct tpatd *t, const char *user, const char *role)
{
	char *out = NULL, *err = NULL;
	int rc = t_ctl(t, 0, NULL, &out, &err, "create --user %s --role %s",
	    user, role);

	cr_assert_eq(rc, 0, "create for %s: %s", user, err);
	out[strcspn(out, "\n")] = '\0';
	cr_assert(strncmp(strchr(out, '|') ? strchr(out, '|') : "", "|pat-",
	    5) == 0, "create printed no token");
	free(err);
	return out;
}

void
t_need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: needs root (setpriv to act as another "
		    "uid); run make test as root");
}

void
t_figure(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[FIGURE] %s\n", line);
}

long
t_rss_kib(pid_t pid)
{
	char path[64], *s, *p;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	s = t_slurp(path);
	if ((p = strstr(s, "VmRSS:")) != NULL)
		kib = atol(p + 6);
	free(s);
	return kib;
}

int
t_dial_as(const struct tpatd *t, uid_t uid)
{
	int fd, e;

	/* patd sees the credentials of connect(): switch only around it */
	if (uid != 0 && (setegid(uid) < 0 || seteuid(uid) < 0))
		return -1;
	fd = t_dial(t);
	e = errno;
	if (uid != 0 && (seteuid(0) < 0 || setegid(0) < 0))
		abort();	/* the rest of the test must not run as uid */
	errno = e;
	return fd;
}

char *
t_ask_as(const struct tpatd *t, uid_t uid, const char *req)
{
	int fd = t_dial_as(t, uid);
	char *line;

	if (fd < 0)
		return strdup("");
	/* a refused peer may be closed already: its ERR line still waits */
	(void)send(fd, req, strlen(req), MSG_NOSIGNAL);
	line = t_line(fd);
	close(fd);
	return line;
}

char *
t_pam_conv(struct tpatd *t, const char *service, const char *user,
    const char *token, const char *more)
{
	char *o = NULL, path[256], stack[512];

	snprintf(path, sizeof(path), "%s/pam.d", t->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/pam.d/%s", t->dir, service);
	snprintf(stack, sizeof(stack), "auth required %s/pam_pat.so socket=%s "
	    "timeout=3000\n", exec_dir(), t->sock);
	t_write(path, stack, 0644);
	t_sh(t, 0, token, &o, NULL, "\"$PAMCALL\" --confdir %s/pam.d "
	    "--service %s --user %s %s", t->dir, service, user,
	    more ? more : "");
	return o != NULL ? o : strdup("");
}

char *
t_pam_login(struct tpatd *t, const char *service, const char *user,
    const char *token, const char *more)
{
	char *o = t_pam_conv(t, service, user, token, more), *res, *p;

	p = strstr(o, "result=");
	res = strdup(p != NULL ? p + 7 : "no-result");
	res[strcspn(res, " \n")] = '\0';
	t_free(o);
	return res;
}

pid_t
t_fake_patd(const char *path, const char *answer)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	pid_t pid;
	int fd, c, i;

	unlink(path);
	pid = t_fork();
	cr_assert_neq(pid, -1);
	if (pid > 0) {
		for (i = 0; i < 250 && access(path, F_OK) != 0; i++)
			usleep(20000);
		cr_assert_eq(access(path, F_OK), 0, "the fake patd is not up");
		return pid;
	}
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 4) < 0)
		_exit(1);
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) < 0)
			continue;
		if (recv(c, buf, sizeof(buf), 0) > 0)
			send(c, answer, strlen(answer), MSG_NOSIGNAL);
		close(c);
	}
}
