/* cleanup.c - see harness.h: tags, owned processes, clean-up, leak hooks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <sodium.h>

#include "harness.h"
#include "cleanup.h"

#define TMP_PREFIX	"/tmp/pat-test."
#define MAX_OWNED	256

struct owned {
	pid_t	pid;
	int	pidfd;	/* stable across pid reuse */
	bool	group;	/* the leader of a process group of its own */
};

static struct owned owned[MAX_OWNED];
static int nowned;
int t_helpers;	/* t_bg and t_fork starts, for PAT_TEST_FAIL_ONE */
static pid_t tagged_pid;	/* the process whose test the tag names */
static char case_tag[40];	/* <run>.<hash> */

bool
t_no_cleanup(void)
{
	const char *v = getenv("PAT_TEST_NO_CLEANUP");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

static const char *
run_tag(void)
{
	const char *r = getenv("PAT_TEST_RUN");

	return r != NULL && *r != '\0' && strlen(r) <= 16 ? r : "norun";
}

/* The tag of suite/test in this run: FNV-1a of the name, in hex. */
static void
tag_of(char *buf, size_t n, const char *suite, const char *test)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = suite; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (p = test; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(buf, n, "%s.%08x", run_tag(), (unsigned)h);
}

static void cleanup_at_exit(void);

/* Tag this test's process once: PAT_TEST_CASE for what it starts, the
 * clean-up for when it ends. */
static void
t_case(void)
{
	if (tagged_pid != 0)
		return;	/* done, or a forked helper: the test's tag stays */
	tagged_pid = getpid();
	tag_of(case_tag, sizeof(case_tag), criterion_current_test->category,
	    criterion_current_test->name);
	setenv("PAT_TEST_CASE", case_tag, 1);
	if (!t_no_cleanup())
		atexit(cleanup_at_exit);
}

void
t_tmpname(char *buf, size_t n, const char *tag)
{
	t_case();
	snprintf(buf, n, TMP_PREFIX "%s.%sXXXXXX", case_tag, tag);
}

/* The child has exited and been reaped by someone (the test itself): its
 * pid, and so its process group's id, may belong to another process now. */
static bool
reaped(int pidfd)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG | WNOWAIT)
	    < 0 && errno == ECHILD;
}

static void
own(pid_t pid, bool group)
{
	int i, j, fd;

	for (i = j = 0; i < nowned; i++) {	/* forget what was reaped */
		if (reaped(owned[i].pidfd))
			close(owned[i].pidfd);
		else
			owned[j++] = owned[i];
	}
	nowned = j;
	cr_assert_lt(nowned, MAX_OWNED, "too many helper processes at once");
	fd = pidfd_open(pid, 0);
	cr_assert_geq(fd, 0, "pidfd_open: %s", strerror(errno));
	owned[nowned++] = (struct owned){ pid, fd, group };
}

/* Kill and reap one owned process (and its group while the leader is
 * unreaped, so that the group's id is still ours). */
static void
stop_owned(struct owned *o)
{
	if (!reaped(o->pidfd)) {
		if (o->group)
			kill(-o->pid, SIGKILL);
		pidfd_send_signal(o->pidfd, SIGKILL, NULL, 0);
		waitpid(o->pid, NULL, 0);
	}
	close(o->pidfd);
	o->pidfd = -1;
}

/* Whether pid's environment holds var=value. */
static bool
env_has(pid_t pid, const char *var, const char *value)
{
	char path[64], buf[65536], want[128];
	size_t len, wl;
	ssize_t k;
	int fd;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	wl = (size_t)snprintf(want, sizeof(want), "%s=%s", var, value);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	for (len = 0; len < sizeof(buf) - 1 &&
	    (k = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0;)
		len += (size_t)k;
	close(fd);
	buf[len] = '\0';
	for (p = buf; p < buf + len; p += strlen(p) + 1)
		if (strlen(p) == wl && memcmp(p, want, wl) == 0)
			return true;
	return false;
}

static void
describe(pid_t pid, char *out, size_t n)
{
	char path[64], status[256], *s;
	long uid = -1;
	size_t i, len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	s = calloc(1, 4097);
	if (s == NULL)
		return;
	if ((f = fopen(path, "re")) != NULL) {
		len = fread(s, 1, 4096, f);
		fclose(f);
		for (i = 0; i + 1 < len; i++)
			if (s[i] == '\0')
				s[i] = ' ';
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) != NULL) {
		while (fgets(status, sizeof(status), f) != NULL)
			if (strncmp(status, "Uid:", 4) == 0)
				uid = strtol(status + 4, NULL, 10);
		fclose(f);
	}
	snprintf(out, n, "pid %d uid %ld: %.300s", (int)pid, uid, s);
	free(s);
}

/* How many processes (but us) carry PAT_TEST_CASE=tag. */
static int
count_tagged(const char *tag)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		pid_t pid = (pid_t)atoi(e->d_name);

		n += pid > 0 && pid != getpid() &&
		    env_has(pid, "PAT_TEST_CASE", tag);
	}
	if (d != NULL)
		closedir(d);
	return n;
}

/*
 * Kill every process (but us) whose environment says PAT_TEST_CASE=tag,
 * until none is left (2 s at most).  Each one is told on `report` (may be
 * NULL) the first time it is seen.  Returns how many there were.
 */
static int
sweep(const char *tag, FILE *report, const char *who)
{
	pid_t seen[256];
	int nseen = 0, round, i, found;

	for (round = 0; round < 100; round++) {
		DIR *d = opendir("/proc");
		struct dirent *e;

		if (d == NULL)
			break;
		found = 0;
		while ((e = readdir(d)) != NULL) {
			pid_t pid = (pid_t)atoi(e->d_name);
			int fd;

			if (pid <= 0 || pid == getpid() ||
			    !env_has(pid, "PAT_TEST_CASE", tag))
				continue;
			/* pidfd, then look again: the pid cannot have gone
			 * to another process between the look and the kill */
			if ((fd = pidfd_open(pid, 0)) < 0)
				continue;
			if (env_has(pid, "PAT_TEST_CASE", tag)) {
				found++;
				for (i = 0; i < nseen && seen[i] != pid; i++)
					;
				if (i == nseen && nseen < 256) {
					char line[400];

					seen[nseen++] = pid;
					describe(pid, line, sizeof(line));
					if (report != NULL)
						fprintf(report, "[HYGIENE] %s: "
						    "stopped %s\n", who, line);
				}
				pidfd_send_signal(fd, SIGKILL, NULL, 0);
			}
			close(fd);
		}
		closedir(d);
		if (found == 0)
			break;
		usleep(20000);
	}
	return nseen;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT;
	return unlink(path) < 0 && errno != ENOENT;
}

/* Remove every path named after tag; returns how many there were. */
static int
remove_tagged(const char *tag, FILE *report, const char *who)
{
	char pattern[128];
	glob_t g;
	size_t i;
	int n;

	snprintf(pattern, sizeof(pattern), TMP_PREFIX "%s.*", tag);
	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return 0;
	for (i = 0; i < g.gl_pathc; i++) {
		if (report != NULL)
			fprintf(report, "[HYGIENE] %s: removed %s\n", who,
			    g.gl_pathv[i]);
		if (nftw(g.gl_pathv[i], rm_one, 16, FTW_DEPTH | FTW_PHYS |
		    FTW_MOUNT) != 0 && report != NULL)
			fprintf(report, "[HYGIENE] %s: could not remove all of "
			    "%s\n", who, g.gl_pathv[i]);
	}
	n = (int)g.gl_pathc;
	globfree(&g);
	return n;
}

/* The processes half of t_cleanup. */
void
t_stop_helpers(void)
{
	int i;

	if (t_no_cleanup() || tagged_pid != getpid())
		return;
	for (i = 0; i < nowned; i++)
		stop_owned(&owned[i]);
	nowned = 0;
	sweep(case_tag, NULL, NULL);
}

void
t_cleanup(void)
{
	if (t_no_cleanup() || tagged_pid != getpid())
		return;
	t_stop_helpers();
	remove_tagged(case_tag, NULL, NULL);
}

/* A forked helper that exits with exit() must not clean up its parent's
 * test: t_cleanup checks whose tag it is. */
static void
cleanup_at_exit(void)
{
	t_cleanup();
}

/* fork() whose child dies with us and, with group, leads its own process
 * group (a shell's background jobs stay in it). */
pid_t
t_owned_fork(bool group, bool reg)
{
	pid_t parent, pid;

	t_case();
	parent = getpid();
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		if (group)
			setpgid(0, 0);
		if (!t_no_cleanup() && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
		    getppid() != parent))
			_exit(127);	/* the test is gone already */
		return 0;
	}
	if (group)
		setpgid(pid, pid);	/* before we signal it, either way */
	if (reg && !t_no_cleanup())
		own(pid, group);
	return pid;
}

static bool
fail_one_matches(long *n, bool *crash)
{
	const char *want = getenv("PAT_TEST_FAIL_ONE"), *c;
	char name[300];
	size_t len;

	if (want == NULL || *want == '\0')
		return false;
	snprintf(name, sizeof(name), "%s/%s", criterion_current_test->category,
	    criterion_current_test->name);
	len = strcspn(want, ":");
	if (len != strlen(name) || strncmp(want, name, len) != 0)
		return false;
	*n = 1;
	*crash = false;
	for (c = want + len; *c == ':'; c += strcspn(c + 1, ":") + 1) {
		if (strncmp(c + 1, "crash", 5) == 0)
			*crash = true;
		else
			*n = strtol(c + 1, NULL, 10);
	}
	return true;
}

/* PAT_TEST_FAIL_ONE: fail here when this is the chosen test and start. */
void
t_fail_point(int count, pid_t pid, const char *what)
{
	char line[400];
	bool crash;
	long n;

	if (!fail_one_matches(&n, &crash) || n != count)
		return;
	usleep(300000);	/* let it come up */
	describe(pid, line, sizeof(line));
	fprintf(stderr, "[HYGIENE] PAT_TEST_FAIL_ONE: %s/%s fails here on "
	    "purpose (%s) with %d process(es) of the test running, %s %s: "
	    "%s\n", criterion_current_test->category,
	    criterion_current_test->name, crash ? "abort()" : "an assertion",
	    count_tagged(case_tag), what, kill(pid, 0) == 0 ? "still running" :
	    "gone already", line);
	if (crash)
		abort();
	cr_assert_fail("PAT_TEST_FAIL_ONE: failed on purpose after starting "
	    "%s (pid %d)", what, (int)pid);
}

pid_t
t_fork(void)
{
	pid_t pid = t_owned_fork(false, true);

	if (pid > 0)
		t_fail_point(++t_helpers, pid, "a forked helper");
	return pid;
}

/* The runner: a run tag when make test gave none, and the run's copy of
 * the programs other uids execute (runbin.c). */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char tag[16];

	const char *b = getenv("PAT_BUILD");
	int rc;

	(void)set;
	if (getenv("PAT_TEST_RUN") == NULL) {
		snprintf(tag, sizeof(tag), "%08x", (unsigned)randombytes_random());
		setenv("PAT_TEST_RUN", tag, 1);
	}
	unsetenv("PAT_TEST_BIN");	/* ours only, never an inherited one */
	/* PAT_TEST_NO_BINCOPY=1: no copy, as before issue 12, for the test
	 * that shows a closed checkout then fails as an environment problem */
	if (getenv("PAT_TEST_NO_BINCOPY") != NULL)
		return;
	if ((rc = t_runbin_make(run_tag(), b && *b ? b : "build")) < 0)
		fprintf(stderr, "[ENVIRONMENT] could not copy the programs other "
		    "uids run into a 0755 directory (%s): tests acting as alice, "
		    "bob or carol fail if the checkout is closed to them\n",
		    strerror(-rc));
}

/* The runner, after the last test: the run's program copies go. */
ReportHook(POST_ALL)(struct criterion_global_stats *st)
{
	(void)st;
	t_runbin_remove();
}

/* The runner, after each test's worker is done (or dead: crash, timeout):
 * what still carries the test's tag is stopped and said so. */
static void
after_test(struct criterion_test_stats *st, bool grace)
{
	char tag[40], who[300], pattern[128];
	int i, n;
	glob_t g;

	if (t_no_cleanup())
		return;
	tag_of(tag, sizeof(tag), st->test->category, st->test->name);
	snprintf(who, sizeof(who), "%s::%s (runner, after the test)",
	    st->test->category, st->test->name);
	snprintf(pattern, sizeof(pattern), TMP_PREFIX "%s.*", tag);
	/* the worker's own clean-up (atexit) may still be running */
	for (i = 0; grace && i < 100; i++) {
		bool left = glob(pattern, GLOB_NOSORT, NULL, &g) == 0;

		if (left)
			globfree(&g);
		if (!left && count_tagged(tag) == 0)
			break;
		usleep(20000);
	}
	n = sweep(tag, stderr, who);
	n += remove_tagged(tag, stderr, who);
	if (n > 0)
		fprintf(stderr, "[HYGIENE] %s::%s: its worker left %d process(es) "
		    "or path(s); the runner removed them\n", st->test->category,
		    st->test->name, n);
}

ReportHook(POST_FINI)(struct criterion_test_stats *st)
{
	after_test(st, true);
}

ReportHook(TEST_CRASH)(struct criterion_test_stats *st)
{
	after_test(st, false);
}
