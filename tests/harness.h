/*
 * harness.h - run a real patd on a private socket and state directory.
 *
 * Each test gets its own directory under /tmp with users and groups for
 * nss_wrapper (root; alice 1001 in group devs, with a password in a
 * private shadow file; bob 1002; carol 1003 in patd-verify), a patd process started from $PAT_BUILD, and helpers to run
 * patctl (as root or, with setpriv, as another uid) and to speak the raw
 * protocol.  Outputs are kept in memory, never printed: they may hold
 * secrets.
 */
#ifndef PAT_TESTS_HARNESS_H
#define PAT_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ALICE	1001
#define BOB	1002
#define CAROL	1003
#define ALICE_PASSWORD	"correct horse battery staple"	/* her Unix password */

struct tpatd {
	pid_t	pid;
	char	dir[64];
	char	sock[100];	/* fits sun_path */
	char	state[128];
	char	log[128];
	char	passwd[128];
	char	group[128];
	char	extra[256];	/* extra patd arguments */
	bool	ns;	/* patd in a private mount namespace with the test
			 * users bind-mounted over /etc (for PAM logins) */
	unsigned state_kib;	/* with ns: the state on a tmpfs this small
				 * (reach it as /proc/PID/root/STATE) */
};

/* patd.conf lines lifting the per-user bounds, for tests whose subject is
 * bulk (durability, concurrency, full maps), not the bounds themselves. */
#define T_BULK_CONF	"max_tokens_per_user = 100000000\n" \
			"max_children_per_token = 100000000\n" \
			"create_limit = 100000000\n"

/*
 * Test hygiene: the harness owns every process it starts for a test.
 *
 * A run is tagged PAT_TEST_RUN (make test sets it; otherwise the runner
 * makes one up) and each test PAT_TEST_CASE=<run>.<hash of suite/test>.
 * Every process a test starts carries both in its environment (it survives
 * exec, setpriv and unshare), and every temporary name it makes starts
 * with /tmp/pat-test.<run>.<hash>.  Children forked by the harness lead
 * their own process group where they run a shell, die with the test's
 * worker (PR_SET_PDEATHSIG, which a change of uid clears), and are
 * registered.  When a test ends, failed or not, t_stop (the suites'
 * teardown) and an atexit handler stop what is registered and kill any
 * process carrying the test's tag; the runner does the same after each
 * test's worker is gone (a crash, a timeout).  make test then checks that
 * nothing of the run remains (tests/tools/leakcheck.sh).
 *
 * Programs other uids execute (PATCTL, PATD, PAM_PAT, PAM_PAT_ASAN,
 * PAMCALL, SOCKACT) come from the run's 0755 copy (PAT_TEST_BIN, made by
 * the runner: runbin.c), so the checkout may sit in a 0700 directory.  A
 * command run as another uid first checks that uid can execute them, and
 * t_sh fails the test, saying it is the environment, when the shell exits
 * 126 (or 127 as another uid): an exit status is pat's verdict only when
 * pat ran.
 *
 * PAT_TEST_FAIL_ONE=suite/test[:N][:crash] fails that test on purpose
 * right after the N-th helper it starts with t_bg or t_fork is up (default
 * 1; 0: when its patd is up), with an assertion or, with :crash, abort().
 * PAT_TEST_NO_CLEANUP=1 turns all of the above off (the old harness), so
 * that the leak check can be shown to catch what it leaves.
 */

/* Start `sh -c cmd` in the background as uid (0 = root, else setpriv),
 * stdin and stdout from/to /dev/null, stderr to t's directory, in a
 * process group of its own that the harness stops when the test ends.
 * Returns the leader's pid (use exec in cmd to make it the program's);
 * only t_bg_stop reaps it. */
pid_t	t_bg(struct tpatd *t, uid_t uid, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Send sig to pid's group, wait up to 5 s for the leader (then SIGKILL),
 * kill what is left of the group.  Returns the leader's exit status, or
 * -1 when it was killed by a signal. */
int	t_bg_stop(pid_t pid, int sig);
/* fork(2) for helpers written in C: the child dies with the test (parent
 * death signal) and is registered; the test may still kill and reap it. */
pid_t	t_fork(void);
/* Stop every process the harness started for this test and anything
 * carrying its tag, then remove its temporary files.  t_stop and the end
 * of the test's process call it; a test need not. */
void	t_cleanup(void);
/* A mkstemp/mkdtemp template "/tmp/pat-test.<run>.<hash>.<tag>XXXXXX"
 * for temporary files a test makes outside its tpatd directory. */
void	t_tmpname(char *buf, size_t n, const char *tag);

/* A stand-in patd run by root (so clients trust it), forked through
 * t_fork: it binds path and answers each connection's first read with
 * `answer`.  Returns once the socket is there; kill and reap it, or let
 * the harness. */
pid_t	t_fake_patd(const char *path, const char *answer);

/* Make the directory, the NSS files, and start patd (extra args may be
 * NULL).  Fails the test when patd does not come up. */
void	t_start(struct tpatd *t, const char *extra);
/* As t_start, but patd runs where /etc/passwd, /etc/group and /etc/shadow
 * are the test's (root and mount namespaces needed: skips otherwise). */
void	t_start_ns(struct tpatd *t, const char *extra);
/* As t_start, with patd's clock in the test's hands (patd --test-clock
 * DIR/clock): t_clock(t, secs) makes it run secs seconds ahead of the
 * real time, from patd's next request on, instead of sleeping. */
void	t_start_clock(struct tpatd *t, const char *extra);
void	t_clock(struct tpatd *t, long long secs);
/* Start again on the same state (after t_kill9 or t_stop_only). */
void	t_restart(struct tpatd *t);
void	t_kill9(struct tpatd *t);
/* SIGTERM, wait, stop every helper the test started (t_cleanup's
 * processes), and remove the directory. */
void	t_stop(struct tpatd *t);
/* Write a file atomically (a temporary, then rename) with mode. */
void	t_write(const char *path, const char *content, mode_t mode);
/* Restart patd (kill -9) with `conf` as its patd.conf in t's directory. */
void	t_reconfigure(struct tpatd *t, const char *conf);
/* Replace the group file (atomically), as an admin editing /etc/group. */
void	t_write_groups(struct tpatd *t, const char *content);

/*
 * Run `sh -c cmd` with PATCTL, PATD_SOCKET and NSS wrapper set, stdin from
 * `in` (may be NULL), as `uid` (0 = root, otherwise via setpriv).  Output
 * goes to out/err (each may be NULL; malloc'd, caller frees).  Returns the
 * exit status, or -1 when killed.  What the command left running in the
 * background (`&`) is killed when it returns: use t_bg to keep a process.
 */
int	t_sh(struct tpatd *t, uid_t uid, const char *in, char **out, char **err,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* patctl as uid with args (a shell fragment); returns exit status. */
#define t_ctl(t, uid, in, out, err, ...) \
	t_sh(t, uid, in, out, err, "\"$PATCTL\" " __VA_ARGS__)

/* Send raw request lines over one connection and read until the peer
 * closes or `nfinal` OK/ERR lines arrived.  Returns malloc'd text. */
char   *t_raw(struct tpatd *t, const char *req, int nfinal);
/* A connection to t's socket (5 s receive timeout), or -1. */
int	t_dial(const struct tpatd *t);
/* The next line from fd, up to 64 KiB (malloc'd, "" at EOF/timeout). */
char   *t_line(int fd);
/* One request on a fresh connection to t's socket, first answer line
 * (malloc'd), or NULL when patd is not there.  Never asserts: safe in
 * forked helpers and while patd is being killed. */
char   *t_ask(const struct tpatd *t, const char *req);
/* Value of key= in the first line of `reply` that starts with `verb`
 * (malloc'd, decoded not needed for our values), or NULL. */
char   *t_field(const char *reply, const char *verb, const char *key);

/* t_dial as uid (euid and egid switched around connect(), so patd's
 * SO_PEERCRED sees uid), or -1.  Root only for uid != 0. */
int	t_dial_as(const struct tpatd *t, uid_t uid);
/* One request as uid on a fresh connection; the first answer line
 * (malloc'd, "" when none). */
char   *t_ask_as(const struct tpatd *t, uid_t uid, const char *req);
/* pam_pat.so's pam_sm_authenticate through tests/pamcall as root, with
 * token as the answer to its prompt and `more` (may be NULL) as extra
 * pamcall arguments; returns the result name ("PAM_SUCCESS", …),
 * malloc'd. */
char   *t_pam_login(struct tpatd *t, const char *service, const char *user,
	    const char *token, const char *more);
/* The same, returning pamcall's whole output (result=..., info="..."
 * with the conversation's messages); malloc'd, t_free it. */
char   *t_pam_conv(struct tpatd *t, const char *service, const char *user,
	    const char *token, const char *more);

/* Create a role and grant it (root), failing the test on error. */
void	t_role(struct tpatd *t, const char *name, const char *perms);
void	t_grant(struct tpatd *t, const char *role, const char *who);
/* Root creates a token for user; returns it (malloc'd; caller wipes). */
char   *t_token(struct tpatd *t, const char *user, const char *role);

/* A figure a test reached (executions, connections, bytes…), printed in
 * make test's output. */
void	t_figure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* patd's resident memory in KiB, from /proc. */
long	t_rss_kib(pid_t pid);

/* Skip the running test unless we are root (setpriv needs it). */
void	t_need_root(void);
/* Whole file in memory (malloc'd), "" when absent. */
char   *t_slurp(const char *path);
/* Free after wiping. */
void	t_free(char *s);

#endif
