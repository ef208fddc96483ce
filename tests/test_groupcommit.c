/*
 * Group commit: writes that arrive together share one durable commit, and
 * still nothing is acknowledged before it is durable, a refused request
 * does not spoil its round, and a connection's next request sees what its
 * previous one wrote.  patd is paused (SIGSTOP) while the requests are
 * sent, so they are all waiting when it looks: one round, exactly.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "harness.h"

#define N	8

static struct tpatd t;

static void
setup(void)
{
	t_start(&t, NULL);
	t_reconfigure(&t, T_BULK_CONF);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(groupcommit, .init = setup, .fini = teardown, .timeout = 60);

static unsigned long long
status(const char *key)
{
	char *r = t_raw(&t, "STATUS\n", 1), *v = t_field(r, "OK", key);
	unsigned long long n;

	cr_assert_not_null(v, "STATUS has no %s=: %s", key, r);
	n = strtoull(v, NULL, 10);
	free(v);
	free(r);
	return n;
}

/* SIGSTOP is delivered asynchronously: wait until patd is really stopped,
 * so no request sent afterwards can be seen before all of them are. */
static void
pause_patd(void)
{
	char path[64], st[512], *p;
	FILE *f;
	int i;

	cr_assert_eq(kill(t.pid, SIGSTOP), 0);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)t.pid);
	for (i = 0; i < 500; i++) {
		cr_assert_not_null(f = fopen(path, "r"));
		p = fgets(st, sizeof(st), f);
		fclose(f);
		if (p != NULL && (p = strrchr(st, ')')) != NULL &&
		    strncmp(p, ") T", 3) == 0)
			return;
		usleep(2000);
	}
	cr_assert_fail("patd did not stop");
}

/* Connect n clients (accepted: each had an answer), pause patd, send
 * req[i] on client i, resume it, and collect the first answer of each. */
static void
one_round(int n, const char *const *req, char **ans)
{
	int fd[N], i;

	for (i = 0; i < n; i++) {
		char *hello;

		cr_assert_geq(fd[i] = t_dial(&t), 0);
		cr_assert_eq(send(fd[i], "HELLO\n", 6, MSG_NOSIGNAL), 6);
		hello = t_line(fd[i]);
		cr_assert_eq(strncmp(hello, "OK", 2), 0, "%s", hello);
		free(hello);
	}
	pause_patd();
	for (i = 0; i < n; i++)
		cr_assert_eq(send(fd[i], req[i], strlen(req[i]), MSG_NOSIGNAL),
		    (ssize_t)strlen(req[i]));
	cr_assert_eq(kill(t.pid, SIGCONT), 0);
	for (i = 0; i < n; i++) {
		ans[i] = t_line(fd[i]);
		close(fd[i]);
	}
}

Test(groupcommit, writes_arriving_together_share_one_durable_commit)
{
	const char *req[N];
	char *ans[N], *tok[N], vreq[200];
	unsigned long long w0, c0;
	int i;

	for (i = 0; i < N; i++)
		req[i] = "CREATE role=ssh user=alice\n";
	w0 = status("writes");
	c0 = status("commits");
	one_round(N, req, ans);
	for (i = 0; i < N; i++) {
		cr_assert_eq(strncmp(ans[i], "OK", 2), 0, "%s", ans[i]);
		tok[i] = t_field(ans[i], "OK", "token");
		cr_assert_not_null(tok[i]);
		t_free(ans[i]);
	}
	cr_assert_eq(status("writes") - w0, N);
	cr_assert_eq(status("commits") - c0, 1, "%d creates that arrived "
	    "together took %llu commits", N, status("commits") - c0);
	/* acknowledged means durable */
	t_kill9(&t);
	t_restart(&t);
	for (i = 0; i < N; i++) {
		char *r;

		snprintf(vreq, sizeof(vreq), "VERIFY token=%s\n", tok[i]);
		r = t_raw(&t, vreq, 1);
		cr_assert_eq(strncmp(r, "OK", 2), 0, "token %d lost: %s", i, r);
		free(r);
		t_free(tok[i]);
	}
	t_figure("group commit: %d creates arriving together took 1 durable "
	    "commit, all verified after kill -9", N);
}

Test(groupcommit, a_refused_request_does_not_spoil_its_round)
{
	const char *req[4] = {
		"CREATE role=ssh user=alice name=kept\n",
		"CREATE role=no-such-role user=alice\n",
		"CREATE role=ssh user=alice name=also%20kept\n",
		"CREATE role=ssh user=nobody-here\n",
	};
	char *ans[4], *r;
	unsigned long long w0 = status("writes"), c0 = status("commits");
	int i;

	one_round(4, req, ans);
	cr_assert_eq(status("writes") - w0, 2, "only accepted creates count");
	cr_assert_eq(status("commits") - c0, 1);
	cr_assert_eq(strncmp(ans[0], "OK", 2), 0, "%s", ans[0]);
	cr_assert_eq(strncmp(ans[1], "ERR", 3), 0, "%s", ans[1]);
	cr_assert_eq(strncmp(ans[2], "OK", 2), 0, "%s", ans[2]);
	cr_assert_eq(strncmp(ans[3], "ERR", 3), 0, "%s", ans[3]);
	for (i = 0; i < 4; i++)
		t_free(ans[i]);
	/* a round of refusals only changes nothing and syncs nothing */
	w0 = status("writes");
	c0 = status("commits");
	{
		const char *refused[2] = { req[1], req[3] };

		one_round(2, refused, ans);
	}
	cr_assert_eq(status("writes") - w0, 0);
	cr_assert_eq(status("commits") - c0, 0);
	free(ans[0]);
	free(ans[1]);
	t_kill9(&t);
	t_restart(&t);
	r = t_raw(&t, "LIST user=alice\n", 1);
	cr_assert(strstr(r, "name=kept "), "%s", r);
	cr_assert(strstr(r, "name=also%20kept "), "%s", r);
	cr_assert(strstr(r, "OK count=2"), "only the two accepted: %s", r);
	free(r);
}

Test(groupcommit, a_connection_sees_its_own_write_in_its_next_request)
{
	char *r, *tok, req[300];

	r = t_raw(&t, "CREATE role=ssh user=alice\n", 1);
	tok = t_field(r, "OK", "token");
	cr_assert_not_null(tok, "%s", r);
	t_free(r);
	/* pipelined: the VERIFY waits until the REVOKE is committed */
	snprintf(req, sizeof(req), "REVOKE id=1\nVERIFY token=%s\n", tok);
	r = t_raw(&t, req, 2);
	cr_assert_eq(strncmp(r, "OK revoked=1\nERR code=revoked", 29), 0,
	    "%s", r);
	t_free(r);
	r = t_raw(&t, "ROLE-SET name=web perms=svc.web:*\nROLE-SHOW name=web\n",
	    2);
	cr_assert(strstr(r, "perms=svc.web:*"), "%s", r);
	cr_assert_null(strstr(r, "ERR"), "%s", r);
	free(r);
	t_free(tok);
}

/* Fill the file system that holds the state (patd's view of it). */
static void
fill_state_fs(char *filler, size_t n)
{
	static char block[4096];
	FILE *f;

	snprintf(filler, n, "/proc/%d/root%s/filler", (int)t.pid, t.state);
	cr_assert_not_null(f = fopen(filler, "w"), "%s", filler);
	setvbuf(f, NULL, _IONBF, 0);
	while (fwrite(block, 1, sizeof(block), f) == sizeof(block))
		;
	fclose(f);
}

Test(groupcommit, a_failed_commit_refuses_every_request_in_its_round)
{
	const char *req[4];
	char *ans[4], *r, *first, filler[300], count[32], vreq[200];
	int i, kept = 0;

	t_stop(&t);
	t_start_ns(&t, NULL);
	t_kill9(&t);
	t.state_kib = 1024;	/* a fresh store on a 1 MiB tmpfs */
	t_reconfigure(&t, T_BULK_CONF);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	r = t_raw(&t, "CREATE role=ssh user=alice\n", 1);
	first = t_field(r, "OK", "token");
	cr_assert_not_null(first, "%s", r);
	kept++;
	t_free(r);
	fill_state_fs(filler, sizeof(filler));
	/* LMDB reuses pages it already has: creates fit until it needs more */
	for (;;) {
		r = t_raw(&t, "CREATE role=ssh user=alice\n", 1);
		if (strncmp(r, "OK", 2) != 0)
			break;
		kept++;
		t_free(r);
		cr_assert_lt(kept, 5000, "the full file system never refused");
	}
	cr_assert_eq(strncmp(r, "ERR code=store-full", 19), 0, "%s", r);
	free(r);
	for (i = 0; i < 4; i++)
		req[i] = "CREATE role=ssh user=alice\n";
	one_round(4, req, ans);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(strncmp(ans[i], "ERR code=store-full", 19), 0,
		    "request %d of the failed round: %s", i, ans[i]);
		t_free(ans[i]);
	}
	snprintf(vreq, sizeof(vreq), "VERIFY token=%s\n", first);
	r = t_raw(&t, vreq, 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "verification broke: %s", r);
	free(r);
	t_free(first);
	/* room again: none of the refused creates exists, the rest do */
	cr_assert_eq(unlink(filler), 0);
	r = t_raw(&t, "LIST user=alice\n", 1);
	snprintf(count, sizeof(count), "OK count=%d", kept);
	cr_assert(strstr(r, count), "want %s: %s", count, r);
	free(r);
	r = t_raw(&t, "CREATE role=ssh user=alice\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	t_free(r);
	r = t_slurp(t.log);
	cr_assert(strstr(r, "cannot commit this round"), "not logged");
	free(r);
	t_figure("group commit on a full disk: %d creates fitted, then a round "
	    "of 4 refused together with store-full; none of them stored", kept - 1);
}

/* A client in its own process: CREATE on one connection until patd goes,
 * appending every acknowledged token to `path` before asking again. */
static void
writer(const char *path, int64_t stop_ms)
{
	FILE *f = fopen(path, "a");
	int fd = t_dial(&t);
	struct timespec ts;

	if (f == NULL || fd < 0)
		_exit(1);
	for (;;) {
		char *line, *tok;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (stop_ms > 0 && ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= stop_ms)
			break;
		if (send(fd, "CREATE role=ssh user=alice\n", 27, MSG_NOSIGNAL) != 27)
			break;
		line = t_line(fd);
		tok = t_field(line, "OK", "token");
		t_free(line);
		if (tok == NULL)
			break;	/* patd is gone (or refused): stop */
		fprintf(f, "%s\n", tok);
		fflush(f);
		t_free(tok);
	}
	fclose(f);
	_exit(0);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(groupcommit, kill_9_during_grouped_writes_loses_nothing_acknowledged)
{
	enum { WRITERS = 4, ROUNDS = 5 };
	char path[WRITERS][200], line[200], req[240], *r;
	unsigned long long w0, c0, w, c;
	pid_t pid[WRITERS], killer;
	int i, round, n = 0, lost = 0;

	for (i = 0; i < WRITERS; i++)
		snprintf(path[i], sizeof(path[i]), "%s/acked.%d", t.dir, i);
	/* first, without crashes: several writers do share commits */
	w0 = status("writes");
	c0 = status("commits");
	for (i = 0; i < WRITERS; i++)
		if ((pid[i] = t_fork()) == 0)
			writer(path[i], now_ms() + 500);
	for (i = 0; i < WRITERS; i++)
		waitpid(pid[i], NULL, 0);
	w = status("writes") - w0;
	c = status("commits") - c0;
	cr_assert_gt(w, c, "%llu writes from %d clients took %llu commits: "
	    "no commit was shared", w, WRITERS, c);
	srand(1127);
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < WRITERS; i++)
			if ((pid[i] = t_fork()) == 0)
				writer(path[i], 0);
		if ((killer = t_fork()) == 0) {
			usleep(50000 + (useconds_t)(rand() % 150000));
			kill(t.pid, SIGKILL);
			_exit(0);
		}
		waitpid(killer, NULL, 0);
		for (i = 0; i < WRITERS; i++)
			waitpid(pid[i], NULL, 0);
		waitpid(t.pid, NULL, 0);
		t.pid = 0;
		t_restart(&t);	/* the store must open clean */
	}
	for (i = 0; i < WRITERS; i++) {
		FILE *f = fopen(path[i], "r");

		cr_assert_not_null(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(req, sizeof(req), "VERIFY token=%s\n", line);
			r = t_ask(&t, req);
			cr_assert_not_null(r);
			lost += strncmp(r, "OK", 2) != 0;
			n++;
			free(r);
		}
		sodium_memzero(line, sizeof(line));
		fclose(f);
	}
	cr_assert_eq(lost, 0, "%d of %d acknowledged creates were lost", lost, n);
	cr_assert_gt(n, ROUNDS * WRITERS, "too few creates to mean anything");
	t_figure("group commit under kill -9: %d clients, %.1f creates per "
	    "commit; %d crashes, %d acknowledged creates all kept", WRITERS,
	    (double)w / (double)c, ROUNDS, n);
}
