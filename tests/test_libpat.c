/*
 * test_libpat.c - libpat (issue 13, item 3) against a real patd and against
 * scripted stand-ins: answers and refusals, checks before sending, one
 * connection reused and dialled again once, trust checks, timeouts,
 * threads, the installed header/pat.pc/libpat.so.1, and the symbol map.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "pat/pat.h"
#include "pat_internal.h"
#include "token.h"

static struct tpatd t;

static void
setup(void)
{
	t_start(&t, NULL);
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(libpat, .init = setup, .fini = teardown, .timeout = 90);

/* alice's token with role api (api.read); caller wipes it */
static char *
alice_token(void)
{
	t_role(&t, "api", "api.read");
	t_grant(&t, "api", "--user alice");
	return t_token(&t, "alice", "api");
}

/* Connections patd has accepted so far (its STATUS, itself one more). */
static unsigned long
accepted(void)
{
	char *r = t_ask(&t, "STATUS\n"), *v;
	unsigned long n;

	cr_assert_not_null(r, "environment: patd does not answer STATUS");
	v = t_field(r, "OK", "accepted");
	cr_assert_not_null(v, "STATUS: %s", r);
	n = strtoul(v, NULL, 10);
	free(v);
	free(r);
	return n;
}

static pat_conn *
open_t(void)
{
	pat_conn *c = NULL;
	int st = pat_open(&c, t.sock, 5000);

	cr_assert_eq(st, PAT_OK, "pat_open: %s", pat_strerror(st));
	return c;
}

static int
verify1(const char *token, const char *user, const char *perm)
{
	struct pat_request rq = { .token = token, .user = user, .perm = perm };
	pat_conn *c = open_t();
	int st = pat_verify(c, &rq, NULL);

	pat_close(c);
	return st;
}

Test(libpat, a_good_token_returns_its_identity)
{
	struct pat_request rq = { .perm = "api.read", .user = "alice",
	    .service = "libpat-test", .rhost = "192.0.2.7" };
	struct pat_identity who;
	pat_conn *c;
	char *tok = alice_token(), *log;
	int st;

	rq.token = tok;
	memset(&who, 0x55, sizeof(who));
	c = open_t();
	st = pat_verify(c, &rq, &who);
	cr_assert_eq(st, PAT_OK, "%s", pat_strerror(st));
	cr_assert_eq(who.id, 1);
	cr_assert_eq(who.uid, ALICE);
	cr_assert_eq(who.expires, 0);
	cr_assert_str_eq(who.user, "alice");
	cr_assert_str_eq(who.role, "api");
	cr_assert_str_eq(who.perms, "api.read");
	cr_assert_eq(pat_retry_after(c), 0);
	/* who may be NULL; no perm and no user: any valid token */
	rq.perm = NULL;
	rq.user = NULL;
	cr_assert_eq(pat_verify(c, &rq, NULL), PAT_OK);
	pat_close(c);
	/* patd recorded the service as last use; no secret in its log */
	log = t_slurp(t.log);
	cr_assert(strstr(log, "result=ok id=1 user=alice perm=api.read "
	    "service=libpat-test"), "patd's log: %s", log);
	cr_assert_null(strstr(log, strchr(tok, '|') + 5), "a secret in the log");
	t_free(log);
	t_free(tok);
}

Test(libpat, each_refusal_of_patd_has_its_code)
{
	char *tok = alice_token(), *bad = strdup(tok), other[PAT_TOKEN_BUFSZ];
	char *err = NULL;

	/* a wrong checksum: token-shaped, so patd is asked and says so */
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
	cr_assert_eq(verify1(bad, NULL, NULL), PAT_E_MALFORMED);
	/* well-formed, unknown id */
	cr_assert_eq(pat_token_generate(4242, other), 0);
	cr_assert_eq(verify1(other, NULL, NULL), PAT_E_INVALID);
	cr_assert_eq(verify1(tok, "bob", "api.read"), PAT_E_WRONG_USER);
	cr_assert_eq(verify1(tok, "alice", "api.write"), PAT_E_PERMISSION);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "revoke 1"), 0, "%s", err);
	free(err);
	cr_assert_eq(verify1(tok, "alice", "api.read"), PAT_E_REVOKED);
	cr_assert(pat_is_refusal(PAT_E_REVOKED) && pat_is_refusal(PAT_E_TOO_DEEP)
	    && pat_is_refusal(PAT_E_MALFORMED) && !pat_is_refusal(PAT_OK) &&
	    !pat_is_refusal(PAT_E_ARGUMENT) && !pat_is_refusal(PAT_E_TIMEOUT));
	cr_assert_str_eq(pat_strerror(PAT_E_REVOKED), "revoked");
	cr_assert_str_eq(pat_strerror(PAT_E_TIMEOUT), "timeout");
	cr_assert_not_null(pat_strerror(12345));
	explicit_bzero(other, sizeof(other));
	t_free(bad);
	t_free(tok);
}

/* A plain user (bob, not in patd-verify) may verify only his own tokens. */
Test(libpat, a_peer_verifying_someone_elses_token_is_denied)
{
	struct pat_request rq = { .perm = "api.read" };
	char *tok = alice_token();
	pat_conn *c = NULL;
	int status, st;
	pid_t pid;

	t_need_root();
	rq.token = tok;
	if ((pid = t_fork()) == 0) {
		if (setgroups(0, NULL) < 0 || setgid(BOB) < 0 || setuid(BOB) < 0)
			_exit(100);
		/* pat_open trusts root and bob: patd is root's */
		if ((st = pat_open(&c, t.sock, 5000)) != PAT_OK)
			_exit(-st);
		st = pat_verify(c, &rq, NULL);
		pat_close(c);
		_exit(-st);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_neq(WEXITSTATUS(status), 100, "environment: setuid");
	cr_assert_eq(-WEXITSTATUS(status), PAT_E_DENIED, "bob got %s",
	    pat_strerror(-WEXITSTATUS(status)));
	t_free(tok);
}

/* Nothing is sent, not even a connection made, for a request patd would
 * refuse as bad-request. */
Test(libpat, bad_fields_are_refused_before_anything_is_sent)
{
	static char longsvc[100];
	struct pat_request rq;
	struct pat_identity who;
	char *tok = alice_token(), *log;
	unsigned long before, after;
	pat_conn *c;
	size_t i;

	memset(longsvc, 's', 65);
	struct {
		const char *token, *user, *perm, *service, *rhost;
		int want;
	} cases[] = {
		{ NULL, NULL, NULL, NULL, NULL, PAT_E_ARGUMENT },
		{ "", NULL, NULL, NULL, NULL, PAT_E_ARGUMENT },
		{ tok, NULL, NULL, NULL, "192.0.2.1 x", PAT_E_ARGUMENT },
		{ tok, NULL, NULL, longsvc, NULL, PAT_E_ARGUMENT },
		{ tok, NULL, NULL, "svc\n", NULL, PAT_E_ARGUMENT },
		{ tok, "alice bob", NULL, NULL, NULL, PAT_E_ARGUMENT },
		{ tok, "-alice", NULL, NULL, NULL, PAT_E_ARGUMENT },
		{ tok, NULL, "api.*", NULL, NULL, PAT_E_ARGUMENT },
		{ tok, NULL, "", NULL, NULL, PAT_E_ARGUMENT },
		/* not a token whatever patd holds: malformed, unasked */
		{ "1|pat-a b", NULL, NULL, NULL, NULL, PAT_E_MALFORMED },
	};

	before = accepted();
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		rq = (struct pat_request){ cases[i].token, cases[i].user,
		    cases[i].perm, cases[i].service, cases[i].rhost };
		memset(&who, 0x55, sizeof(who));
		cr_assert_eq(pat_verify_once(t.sock, 5000, geteuid(), &rq, &who,
		    NULL, NULL), cases[i].want, "case %zu", i);
		cr_assert_eq(((unsigned char *)&who)[0], 0x55, "who touched");
	}
	cr_assert_eq(pat_verify(NULL, NULL, NULL), PAT_E_ARGUMENT);
	after = accepted();
	cr_assert_eq(after, before + 1, "libpat connected for a bad request "
	    "(%lu connections)", after - before - 1);
	/* and on an open connection: nothing reaches patd, which stays usable */
	c = open_t();
	rq = (struct pat_request){ .token = tok, .rhost = "192.0.2.1 x" };
	cr_assert_eq(pat_verify(c, &rq, NULL), PAT_E_ARGUMENT);
	rq.rhost = "192.0.2.1";
	cr_assert_eq(pat_verify(c, &rq, NULL), PAT_OK);
	pat_close(c);
	log = t_slurp(t.log);
	cr_assert_null(strstr(log, "reason=malformed"), "%s", log);
	cr_assert_null(strstr(log, "bad-request"), "%s", log);
	t_free(log);
	t_free(tok);
}

Test(libpat, many_verifications_share_one_connection)
{
	struct pat_request rq = { .perm = "api.read" };
	char *tok = alice_token();
	unsigned long before, after;
	pat_conn *c;
	int i;

	rq.token = tok;
	before = accepted();
	c = open_t();
	for (i = 0; i < 200; i++)
		cr_assert_eq(pat_verify(c, &rq, NULL), PAT_OK, "verify %d", i);
	rq.perm = "api.write";		/* a refusal keeps the connection */
	cr_assert_eq(pat_verify(c, &rq, NULL), PAT_E_PERMISSION);
	rq.perm = "api.read";
	cr_assert_eq(pat_verify(c, &rq, NULL), PAT_OK);
	after = accepted();
	pat_close(c);
	/* pat_open's connection and the second STATUS */
	cr_assert_eq(after - before, 2, "%lu connections for 202 verifications",
	    after - before - 1);
	t_figure("libpat: 202 verifications over %lu connection",
	    after - before - 1);
	t_free(tok);
}

Test(libpat, a_connection_survives_a_patd_restart)
{
	struct pat_request rq = { .perm = "api.read" };
	struct pat_identity who;
	char *tok = alice_token();
	pat_conn *c;

	rq.token = tok;
	c = open_t();
	cr_assert_eq(pat_verify(c, &rq, NULL), PAT_OK);
	t_kill9(&t);
	t_restart(&t);
	cr_assert_eq(pat_verify(c, &rq, &who), PAT_OK, "after the restart");
	cr_assert_eq(who.id, 1);
	/* and once more, on the new connection */
	cr_assert_eq(pat_verify(c, &rq, NULL), PAT_OK);
	/* patd gone for good (its socket file left behind): no verdict */
	t_kill9(&t);
	cr_assert_eq(pat_verify(c, &rq, NULL), PAT_E_CONNECT);
	pat_close(c);
	t_restart(&t);
	t_free(tok);
}

Test(libpat, no_socket_and_a_bad_path)
{
	char path[128];
	pat_conn *c = (pat_conn *)&path;

	snprintf(path, sizeof(path), "%s/nothing.sock", t.dir);
	cr_assert_eq(pat_open(&c, path, 1000), PAT_E_NO_SOCKET);
	cr_assert_eq(c, (pat_conn *)&path, "*cp touched on failure");
	cr_assert_eq(pat_open(&c, "", 1000), PAT_E_ARGUMENT);
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	cr_assert_eq(pat_open(&c, path, 1000), PAT_E_ARGUMENT);
	pat_close(NULL);
}

/* ---- scripted stand-ins for patd ---------------------------------------- */

#define OK_ALICE "OK id=1 user=alice uid=1001 role=api name=n expires=0 " \
		 "perms=api.read\n"
#define CLOSE	 ""		/* close without answering */
#define HOLD	 NULL		/* say nothing, keep the connection */

struct fake {
	pid_t	pid;
	int	*conns;		/* shared: connections accepted */
};

/*
 * A patd stand-in that listens at path as uid (SO_PEERCRED names uid), its
 * socket file then chowned to owner.  Connection i follows script[i] (the
 * last one for the rest): the n-th request line gets line n; CLOSE closes,
 * HOLD (or the end of the script) answers nothing more.  A line starting
 * with '!' is sent without it and the connection closed after it.
 */
static void
fake_start(struct fake *f, const char *path, uid_t uid, uid_t owner,
    const char *const *const *script, int nscript)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[8192], ready = 0;
	int p[2], lfd, fd, i, n;
	ssize_t k;

	f->conns = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(f->conns, MAP_FAILED);
	*f->conns = 0;
	unlink(path);
	cr_assert_eq(pipe(p), 0);
	if ((f->pid = t_fork()) == 0) {
		close(p[0]);
		if (uid != 0 && (setgroups(0, NULL) < 0 || setgid(uid) < 0 ||
		    setuid(uid) < 0))
			_exit(1);
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun,
		    sizeof(sun)) < 0 || listen(lfd, 16) < 0)
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		close(p[1]);
		for (;;) {
			const char *const *s;

			if ((fd = accept(lfd, NULL, NULL)) < 0)
				continue;
			i = __atomic_add_fetch(f->conns, 1, __ATOMIC_SEQ_CST);
			s = script[i - 1 < nscript ? i - 1 : nscript - 1];
			for (n = 0;; n++) {
				/* one request line */
				size_t len = 0;

				while ((k = read(fd, buf + len, 1)) == 1 &&
				    buf[len] != '\n' && len < sizeof(buf) - 2)
					len++;
				if (k != 1)
					break;
				if (s[n] == HOLD)
					continue;
				if (s[n][0] == '\0')
					break;
				if (s[n][0] == '!') {
					(void)!write(fd, s[n] + 1,
					    strlen(s[n] + 1));
					break;
				}
				(void)!write(fd, s[n], strlen(s[n]));
			}
			close(fd);
		}
	}
	close(p[1]);
	cr_assert_neq(f->pid, -1);
	if (read(p[0], &ready, 1) != 1 || ready != 'r')
		cr_assert_fail("environment: the stand-in patd did not start");
	close(p[0]);
	if (owner != uid)
		cr_assert_eq(chown(path, owner, owner), 0);
}

static void
fake_stop(struct fake *f)
{
	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
	munmap(f->conns, sizeof(int));
}

/* A directory uid may bind in. */
static void
dir_for(char *buf, size_t n, const char *name, uid_t uid)
{
	snprintf(buf, n, "%s/%s", t.dir, name);
	mkdir(buf, 0755);
	cr_assert_eq(chown(buf, uid, uid), 0);
}

static const struct pat_request GOOD = {
	.token = "1|pat-abcdefghijklmnopqrstuvwxyzABCDEFGH",
	.user = "alice", .perm = "api.read",
};

static int
ask_at(const char *path, uid_t trusted, int timeout_ms)
{
	pat_conn *c = NULL;
	int st = pat_open_trusted(&c, path, timeout_ms, trusted);

	if (st != PAT_OK)
		return st;
	st = pat_verify(c, &GOOD, NULL);
	pat_close(c);
	return st;
}

/* The two trust checks, each alone; a trusted uid is believed. */
Test(libpat, a_socket_or_peer_of_another_uid_is_not_trusted)
{
	static const char *const ok[] = { OK_ALICE };
	static const char *const *const script[] = { ok };
	char dir[128], path[160], link[160];
	struct fake f;

	t_need_root();
	dir_for(dir, sizeof(dir), "trust", ALICE);
	snprintf(path, sizeof(path), "%s/s", dir);
	/* alice listens, root owns the file: the peer check stops it */
	fake_start(&f, path, ALICE, 0, script, 1);
	cr_assert_eq(ask_at(path, 0, 2000), PAT_E_UNTRUSTED, "peer alice");
	cr_assert_eq(ask_at(path, BOB, 2000), PAT_E_UNTRUSTED, "peer alice");
	/* the same listener is believed by whoever trusts alice */
	cr_assert_eq(ask_at(path, ALICE, 2000), PAT_OK);
	fake_stop(&f);
	/* root listens, alice owns the file: the file check stops it */
	fake_start(&f, path, 0, ALICE, script, 1);
	cr_assert_eq(ask_at(path, 0, 2000), PAT_E_UNTRUSTED, "file alice");
	cr_assert_eq(*f.conns, 0, "connected to a socket file alice owns");
	cr_assert_eq(ask_at(path, ALICE, 2000), PAT_OK);
	/* a symbolic link to a good socket is not a socket */
	cr_assert_eq(chown(path, 0, 0), 0);
	cr_assert_eq(ask_at(path, 0, 2000), PAT_OK);
	snprintf(link, sizeof(link), "%s/link", dir);
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_eq(ask_at(link, 0, 2000), PAT_E_UNTRUSTED, "symlink");
	fake_stop(&f);
}

Test(libpat, a_patd_that_never_answers_costs_the_timeout_and_no_retry)
{
	static const char *const first[] = { OK_ALICE, HOLD };
	static const char *const *const script[] = { first };
	struct timespec t0, t1;
	char path[128];
	struct fake f;
	pat_conn *c = NULL;
	double secs;

	snprintf(path, sizeof(path), "%s/hang.sock", t.dir);
	fake_start(&f, path, 0, 0, script, 1);
	cr_assert_eq(pat_open(&c, path, 700), PAT_OK);
	cr_assert_eq(pat_verify(c, &GOOD, NULL), PAT_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(pat_verify(c, &GOOD, NULL), PAT_E_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* a bound, not a benchmark: the wait ended because of the deadline */
	cr_assert(secs >= 0.6 && secs < 10.0, "took %.2f s with 700 ms", secs);
	cr_assert_eq(*f.conns, 1, "dialled again after a timeout");
	pat_close(c);
	fake_stop(&f);
}

/*
 * Review of issue 13 (docs/security.md): the classic bug of a reused
 * connection - the answer to a request that timed out arrives late and is
 * read as the answer to the next one (here: alice's OK for a token asked
 * about without user=, as pat-gate asks for a Bearer token).  The first
 * connection never answers its first request and answers the second with
 * that OK; a client that hangs up on a timeout asks the second on a new
 * connection and gets that one's own answer.
 */
Test(libpat, an_answer_after_a_timeout_is_never_the_next_requests)
{
	static const char *const late[] = { HOLD, OK_ALICE };
	static const char *const own[] = { "ERR code=invalid-token\n" };
	static const char *const *const script[] = { late, own };
	static const struct pat_request bearer = {
		.token = "2|pat-abcdefghijklmnopqrstuvwxyzABCDEFGH",
		.perm = "api.read",
	};
	struct pat_identity who;
	char path[128];
	struct fake f;
	pat_conn *c = NULL;

	snprintf(path, sizeof(path), "%s/late.sock", t.dir);
	fake_start(&f, path, 0, 0, script, 2);
	cr_assert_eq(pat_open(&c, path, 500), PAT_OK);
	cr_assert_eq(pat_verify(c, &bearer, &who), PAT_E_TIMEOUT);
	cr_assert_eq(pat_verify(c, &bearer, &who), PAT_E_INVALID,
	    "a late answer was taken for the next request's");
	cr_assert_eq(*f.conns, 2);
	pat_close(c);
	fake_stop(&f);
}

/* patd closes idle connections: the next call dials again, once. */
Test(libpat, a_closed_connection_is_dialled_again_once)
{
	/* answers, then closes (idle close) */
	static const char *const idle[] = { "!" OK_ALICE };
	static const char *const *const s_idle[] = { idle };
	/* answers, then closes on the second request without answering */
	static const char *const mid[] = { OK_ALICE, CLOSE };
	static const char *const *const s_mid[] = { mid };
	/* the first connection as idle, every other closes at once */
	static const char *const gone[] = { CLOSE };
	static const char *const *const s_gone[] = { idle, gone };
	char path[128];
	struct fake f;
	pat_conn *c = NULL;
	int i;

	snprintf(path, sizeof(path), "%s/re.sock", t.dir);
	fake_start(&f, path, 0, 0, s_idle, 1);
	cr_assert_eq(pat_open(&c, path, 3000), PAT_OK);
	for (i = 0; i < 3; i++)
		cr_assert_eq(pat_verify(c, &GOOD, NULL), PAT_OK, "verify %d", i);
	cr_assert_eq(*f.conns, 3);
	pat_close(c);
	fake_stop(&f);

	fake_start(&f, path, 0, 0, s_mid, 1);
	cr_assert_eq(pat_open(&c, path, 3000), PAT_OK);
	cr_assert_eq(pat_verify(c, &GOOD, NULL), PAT_OK);
	cr_assert_eq(pat_verify(c, &GOOD, NULL), PAT_OK, "EOF, not redialled");
	cr_assert_eq(*f.conns, 2);
	pat_close(c);
	fake_stop(&f);

	/* the new connection fails too: that is the answer, no third try */
	fake_start(&f, path, 0, 0, s_gone, 2);
	cr_assert_eq(pat_open(&c, path, 3000), PAT_OK);
	cr_assert_eq(pat_verify(c, &GOOD, NULL), PAT_OK);
	cr_assert_eq(pat_verify(c, &GOOD, NULL), PAT_E_PROTOCOL);
	cr_assert_eq(*f.conns, 2, "dialled %d times", *f.conns);
	/* a connection made in this call that ends at once: not redialled */
	cr_assert_eq(pat_verify(c, &GOOD, NULL), PAT_E_PROTOCOL);
	cr_assert_eq(*f.conns, 3, "dialled %d times", *f.conns);
	pat_close(c);
	fake_stop(&f);
}

/* One answer from a stand-in; the status pat_verify makes of it. */
static int
answer_is(const char *answer, struct pat_identity *who, int *retry)
{
	const char *const one[] = { answer };
	const char *const *const script[] = { one };
	char path[128];
	struct fake f;
	pat_conn *c = NULL;
	int st;

	snprintf(path, sizeof(path), "%s/ans.sock", t.dir);
	fake_start(&f, path, 0, 0, script, 1);
	cr_assert_eq(pat_open(&c, path, 3000), PAT_OK);
	st = pat_verify(c, &GOOD, who);
	if (retry != NULL)
		*retry = pat_retry_after(c);
	pat_close(c);
	fake_stop(&f);
	return st;
}

#define R16	"rrrrrrrrrrrrrrrr"
#define R64	R16 R16 R16 R16

Test(libpat, garbage_and_answers_that_do_not_add_up_are_protocol_errors)
{
	static const char *bad[] = {
		"HELLO \x01\x02 nonsense\n",
		"OK\n",
		"ERR message=no-code\n",
		"ITEM id=1\n",
		/* another user than asked for */
		"OK id=1 user=bob uid=1002 role=api name= expires=0 perms=a\n",
		"OK id=0 user=alice uid=1001 role=api name= expires=0 perms=a\n",
		"OK id=1000000000000000000 user=alice uid=1001 role=api name= "
		    "expires=0 perms=a\n",
		"OK id=x user=alice uid=1001 role=api name= expires=0 perms=a\n",
		"OK id=1 user=alice uid=-1 role=api name= expires=0 perms=a\n",
		"OK id=1 user=alice uid=4294967295 role=api name= expires=0 "
		    "perms=a\n",
		"OK id=1 user=alice role=api name= expires=0 perms=a\n",
		"OK id=1 user=alice uid=1001 role=a%20b name= expires=0 perms=a\n",
		"OK id=1 user=alice uid=1001 role=a/b name= expires=0 perms=a\n",
		"OK id=1 user=alice uid=1001 name= expires=0 perms=a\n",
		"OK id=1 user=alice uid=1001 role=api name= expires=soon "
		    "perms=a\n",
		"OK id=1 user=alice uid=1001 role=api name= expires=-5 perms=a\n",
		"OK id=1 uid=1001 role=api name= expires=0 perms=a\n",
		"OK id=1 user=alice uid=1001 role=api name=%09 expires=0 "
		    "perms=a\n",
		"OK id=1 user=alice uid=1001 role=api name= expires=0 "
		    "perms=a%20b\n",
		/* cut short */
		"!OK id=1 user=alice uid=1001 role=api name= expires=0 perms=a",
		CLOSE,
	};
	struct pat_identity who;
	char big[600];
	size_t i;
	int st;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(&who, 0x55, sizeof(who));
		st = answer_is(bad[i], &who, NULL);
		cr_assert_eq(st, PAT_E_PROTOCOL, "answer %zu gave %s", i,
		    pat_strerror(st));
		cr_assert_eq(((unsigned char *)&who)[0], 0x55, "who touched");
	}
	/* a role longer than struct pat_identity holds */
	snprintf(big, sizeof(big), "OK id=1 user=alice uid=1001 role=%s "
	    "name= expires=0 perms=a\n", R64 "r");
	cr_assert_eq(answer_is(big, NULL, NULL), PAT_E_PROTOCOL, "long role");
	/* and what does add up: a role of 64, every field at its edge */
	snprintf(big, sizeof(big), "OK id=999999999999999999 user=alice "
	    "uid=4294967294 role=%s name=a%%20b expires=1 perms=x.y,z\n", R64);
	cr_assert_eq(answer_is(big, &who, NULL), PAT_OK);
	cr_assert_eq(who.id, 999999999999999999ULL);
	cr_assert_eq(who.uid, 4294967294U);
	cr_assert_eq(who.expires, 1);
	cr_assert_eq(strlen(who.role), 64);
	cr_assert_str_eq(who.name, "a b");
	cr_assert_str_eq(who.perms, "x.y,z");
}

Test(libpat, every_error_code_of_patd_maps_to_its_status)
{
	static const struct {
		const char	*code;
		int		 want;
	} map[] = {
		{ "malformed-token", PAT_E_MALFORMED },
		{ "invalid-token", PAT_E_INVALID },
		{ "revoked", PAT_E_REVOKED },
		{ "expired", PAT_E_EXPIRED },
		{ "owner-gone", PAT_E_OWNER_GONE },
		{ "wrong-user", PAT_E_WRONG_USER },
		{ "permission-missing", PAT_E_PERMISSION },
		{ "denied", PAT_E_DENIED },
		{ "rate-limited", PAT_E_RATE_LIMITED },
		{ "too-deep", PAT_E_TOO_DEEP },
		{ "idle", PAT_E_IDLE },
		{ "bad-request", PAT_E_ARGUMENT },
		{ "internal", PAT_E_SERVER },
		{ "busy", PAT_E_SERVER },
		{ "store-full", PAT_E_SERVER },
		{ "something-new", PAT_E_SERVER },
	};
	char line[128];
	size_t i;
	int retry, st;

	for (i = 0; i < sizeof(map) / sizeof(*map); i++) {
		snprintf(line, sizeof(line), "ERR code=%s message=x\n",
		    map[i].code);
		st = answer_is(line, NULL, &retry);
		cr_assert_eq(st, map[i].want, "%s gave %s", map[i].code,
		    pat_strerror(st));
		cr_assert_eq(pat_is_refusal(st), map[i].want >= PAT_E_IDLE,
		    "%s", map[i].code);
		if (map[i].want == PAT_E_RATE_LIMITED)
			cr_assert_eq(retry, 1, "no retry_after= is 1 s");
		else
			cr_assert_eq(retry, 0);
		if (map[i].want <= PAT_E_MALFORMED && map[i].want >=
		    PAT_E_IDLE)
			cr_assert_str_eq(pat_strerror(st), map[i].code);
	}
	cr_assert_eq(answer_is("ERR code=rate-limited retry_after=17 "
	    "message=x\n", NULL, &retry), PAT_E_RATE_LIMITED);
	cr_assert_eq(retry, 17);
	cr_assert_eq(answer_is("ERR code=rate-limited retry_after=0 "
	    "message=x\n", NULL, &retry), PAT_E_RATE_LIMITED);
	cr_assert_eq(retry, 1);
	cr_assert_eq(answer_is("ERR code=rate-limited retry_after=soon "
	    "message=x\n", NULL, &retry), PAT_E_RATE_LIMITED);
	cr_assert_eq(retry, 1);
}

/* ---- threads ------------------------------------------------------------- */

struct worker {
	const char	*token;
	int		 ok;
	int		 last;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct pat_request rq = { .token = w->token, .user = "alice",
	    .perm = "api.read", .service = "threads" };
	struct pat_identity who;
	pat_conn *c = NULL;
	int i;

	if ((w->last = pat_open(&c, t.sock, 10000)) != PAT_OK)
		return NULL;
	for (i = 0; i < 100; i++) {
		w->last = pat_verify(c, &rq, &who);
		if (w->last == PAT_OK && who.uid == ALICE &&
		    strcmp(who.user, "alice") == 0)
			w->ok++;
	}
	pat_close(c);
	return NULL;
}

Test(libpat, threads_each_with_a_connection_of_its_own)
{
	enum { N = 8 };
	struct worker w[N];
	pthread_t th[N];
	char *tok = alice_token();
	int i;

	for (i = 0; i < N; i++) {
		w[i] = (struct worker){ .token = tok };
		cr_assert_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(w[i].ok, 100, "thread %d: %d good, last %s", i,
		    w[i].ok, pat_strerror(w[i].last));
	}
	t_figure("libpat: %d threads x 100 verifications, all good", N);
	t_free(tok);
}

/* ---- what is installed ---------------------------------------------------- */

/* The man page's example, near enough: a token on stdin, the socket in
 * argv[1]; verifies it 20 times on one connection and once for a
 * permission it lacks. */
static const char prog[] =
	"#include <stdio.h>\n"
	"#include <string.h>\n"
	"#include <pat/pat.h>\n"
	"int main(int argc, char **argv) {\n"
	"  struct pat_request rq = { .perm = \"api.read\", .service = \"prog\" };\n"
	"  struct pat_identity who; char tok[300]; pat_conn *c; int r, i;\n"
	"  if (argc != 2 || !fgets(tok, sizeof(tok), stdin)) return 2;\n"
	"  tok[strcspn(tok, \"\\n\")] = 0; rq.token = tok;\n"
	"  if ((r = pat_open(&c, argv[1], 5000)) != PAT_OK) {\n"
	"    printf(\"open %s\\n\", pat_strerror(r)); return 2; }\n"
	"  for (i = 0; i < 20; i++)\n"
	"    if ((r = pat_verify(c, &rq, &who)) != PAT_OK) break;\n"
	"  if (r == PAT_OK) printf(\"ok id=%llu user=%s\\n\",\n"
	"    (unsigned long long)who.id, who.user);\n"
	"  rq.perm = \"api.write\";\n"
	"  printf(\"then %s\\n\", pat_strerror(pat_verify(c, &rq, NULL)));\n"
	"  pat_close(c); explicit_bzero(tok, sizeof(tok));\n"
	"  return r == PAT_OK ? 0 : 1; }\n";

Test(libpat, a_program_built_with_the_installed_header_and_pat_pc)
{
	char path[160], *out = NULL, *err = NULL, *tok = alice_token();
	int rc;

	if (t_sh(&t, 0, NULL, NULL, NULL, "command -v pkg-config && "
	    "command -v cc") != 0)
		cr_skip_test("SKIPPED: pkg-config or cc is missing");
	rc = t_sh(&t, 0, NULL, NULL, &err, "make -s -C \"$PAT_SRC\" "
	    "install-libpat DESTDIR=%s/inst >/dev/null", t.dir);
	cr_assert_eq(rc, 0, "make install-libpat: %s", err);
	free(err);
	snprintf(path, sizeof(path), "%s/prog.c", t.dir);
	t_write(path, prog, 0644);
	rc = t_sh(&t, 0, NULL, &out, &err, "cd %s && export "
	    "PKG_CONFIG_SYSROOT_DIR=%s/inst "
	    "PKG_CONFIG_PATH=%s/inst/usr/local/lib/pkgconfig && "
	    "cc -std=c11 -D_DEFAULT_SOURCE -Wall -Werror -o prog prog.c "
	    "$(pkg-config --cflags --libs pat) && readelf -d prog", t.dir,
	    t.dir, t.dir);
	cr_assert_eq(rc, 0, "build: %s %s", out, err);
	cr_assert(strstr(out, "[libpat.so.1]"), "not linked to libpat.so.1:\n%s",
	    out);
	free(out);
	free(err);
	rc = t_sh(&t, 0, tok, &out, &err, "LD_LIBRARY_PATH=%s/inst/usr/local/lib "
	    "%s/prog %s", t.dir, t.dir, t.sock);
	cr_assert_eq(rc, 0, "prog: %s %s", out, err);
	cr_assert_str_eq(out, "ok id=1 user=alice\nthen permission-missing\n");
	free(out);
	free(err);
	/* the same under valgrind: no leak, no error in libpat */
	if (t_sh(&t, 0, NULL, NULL, NULL, "command -v valgrind") == 0) {
		rc = t_sh(&t, 0, tok, NULL, &err, "LD_LIBRARY_PATH=%s/inst/usr/"
		    "local/lib valgrind -q --leak-check=full "
		    "--errors-for-leak-kinds=definite,indirect "
		    "--error-exitcode=42 %s/prog %s", t.dir, t.dir, t.sock);
		cr_assert_eq(rc, 0, "valgrind (exit %d):\n%s", rc, err);
		t_free(err);
	} else {
		cr_log_warn("SKIPPED: valgrind is not installed");
	}
	t_free(tok);
}

/* libpat.so.1 exports exactly the functions pat.h declares, all @@PAT_1. */
Test(libpat, the_library_exports_exactly_the_functions_of_pat_h)
{
	char *hdr, *out = NULL, *line, *save = NULL, *p, *q, path[256];
	char names[32][64];
	size_t nnames = 0, i, found[32] = { 0 };
	int exported = 0;

	snprintf(path, sizeof(path), "%s/libpat/include/pat/pat.h",
	    getenv("PAT_SRC"));
	hdr = t_slurp(path);
	cr_assert_neq(hdr[0], '\0', "environment: no %s", path);
	/* declarations start a line: "int\tpat_open(", "const char *pat_..(" */
	for (line = strtok_r(hdr, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if (*line == ' ' || *line == '\t' || *line == '#' ||
		    *line == '/' || *line == '*' || strchr(line, '(') == NULL)
			continue;
		if ((p = strstr(line, "pat_")) == NULL)
			continue;
		q = p + strspn(p, "abcdefghijklmnopqrstuvwxyz_0123456789");
		if (*q != '(')
			continue;
		cr_assert_lt(nnames, 32);
		snprintf(names[nnames++], sizeof(*names), "%.*s", (int)(q - p), p);
	}
	free(hdr);
	cr_assert_geq(nnames, 7, "parsed %zu declarations from pat.h", nnames);
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "nm -D --defined-only "
	    "\"$PAT_BUILD\"/libpat.so.1 | awk '{print $2, $3}'"), 0);
	save = NULL;
	for (line = strtok_r(out, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "A PAT_1") == 0)	/* the version node */
			continue;
		cr_assert(line[0] == 'T' && line[1] == ' ', "exported: %s", line);
		p = strstr(line, "@@PAT_1");
		cr_assert(p != NULL && p[7] == '\0', "not versioned PAT_1: %s",
		    line);
		*p = '\0';
		for (i = 0; i < nnames; i++)
			if (strcmp(line + 2, names[i]) == 0)
				break;
		cr_assert_lt(i, nnames, "%s is exported, not in pat.h", line + 2);
		found[i]++;
		exported++;
	}
	for (i = 0; i < nnames; i++)
		cr_assert_eq(found[i], 1, "%s is in pat.h, not exported",
		    names[i]);
	cr_assert_eq(exported, (int)nnames);
	free(out);
	/* and its name for the loader */
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "readelf -d "
	    "\"$PAT_BUILD\"/libpat.so.1 | grep -q 'SONAME.*\\[libpat.so.1\\]'"),
	    0);
}
