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
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define N	8

static struct tpatd t;

static void
setup(void)
{
	t_start(&t, NULL);
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
	cr_assert_eq(kill(t.pid, SIGSTOP), 0);
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
	int i;

	one_round(4, req, ans);
	cr_assert_eq(strncmp(ans[0], "OK", 2), 0, "%s", ans[0]);
	cr_assert_eq(strncmp(ans[1], "ERR", 3), 0, "%s", ans[1]);
	cr_assert_eq(strncmp(ans[2], "OK", 2), 0, "%s", ans[2]);
	cr_assert_eq(strncmp(ans[3], "ERR", 3), 0, "%s", ans[3]);
	for (i = 0; i < 4; i++)
		t_free(ans[i]);
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
