/*
 * Review finding 4: no uid can use up the connections root needs.
 * pam_pat.so half-closes after its request and patd closes such a
 * connection once the answer is out; privileged peers (root, patd's uid,
 * the verify group) have a reserved part of max_conns, no per-uid cap, and
 * when everything is full they take the place of the connection idle
 * longest.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#define NOBODY	1004	/* a uid NSS does not know */

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

TestSuite(conns, .init = setup, .fini = teardown, .timeout = 90);

/* True when patd kept fd: nothing (no ERR busy, no close) within 150 ms. */
static bool
kept(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return fd >= 0 && poll(&p, 1, 150) == 0;
}

static int
status_connections(void)
{
	char *r = t_raw(&t, "STATUS\n", 1), *c = t_field(r, "OK", "connections");
	int n = c ? atoi(c) : -1;

	free(c);
	free(r);
	return n;
}

/* Root's admin commands and a token login work. */
static void
root_still_works(const char *tok, unsigned revoke_id, const char *why)
{
	char *err = NULL, *r;

	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "status"), 0,
	    "%s: root's patctl status: %s", why, err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "revoke %u", revoke_id), 0,
	    "%s: root's patctl revoke: %s", why, err);
	free(err);
	r = t_pam_login(&t, "sshd", "alice", tok, NULL);
	cr_assert_str_eq(r, "PAM_SUCCESS", "%s: a token login: %s", why, r);
	free(r);
}

Test(conns, stopped_logins_cannot_use_up_roots_connections)
{
	enum { N = 12 };
	char *tok, *spare, req[256];
	int fds[N], i;

	t_need_root();
	t_reconfigure(&t, "max_conns_per_uid = 4\n");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	spare = t_token(&t, "alice", "ssh");
	/* what a stopped su leaves: root connections that sent a request
	 * and never read the answer; half of them (as pam_pat.so now does)
	 * shut down their sending side */
	snprintf(req, sizeof(req), "VERIFY token=1|pat-%s user=alice "
	    "service=su\n", "0123456789abcdefghijABCDEFGHIJ0123456789");
	for (i = 0; i < N; i++) {
		fds[i] = t_dial(&t);
		cr_assert_geq(fds[i], 0);
		cr_assert_eq(send(fds[i], req, strlen(req), MSG_NOSIGNAL),
		    (ssize_t)strlen(req));
		if (i % 2 == 0)
			shutdown(fds[i], SHUT_WR);
	}
	usleep(300000);
	/* the half-closed ones were answered and closed: only the others
	 * (and this STATUS) remain */
	cr_assert_eq(status_connections(), N / 2 + 1,
	    "patd kept connections whose peers half-closed");
	root_still_works(tok, 2, "more stopped root connections than "
	    "max_conns_per_uid");
	for (i = 0; i < N; i++)
		close(fds[i]);
	t_free(tok);
	t_free(spare);
}

/* Dial n connections as uid; returns how many patd kept. */
static int
hold_as(uid_t uid, int *fds, int n)
{
	int i, k = 0;

	for (i = 0; i < n; i++) {
		fds[i] = t_dial_as(&t, uid);
		k += kept(fds[i]);
	}
	return k;
}

Test(conns, other_uids_cannot_fill_the_reserve)
{
	enum { PER = 4 };
	int a[PER + 1], b[PER], c[PER], i;
	char *tok, *spare, *r;

	t_need_root();
	t_reconfigure(&t, "max_conns = 12\nmax_conns_per_uid = 4\n"
	    "reserved_conns = 4\n");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	spare = t_token(&t, "alice", "ssh");
	cr_assert_eq(hold_as(ALICE, a, PER + 1), PER, "alice's cap");
	cr_assert_eq(hold_as(BOB, b, PER), PER, "bob's share");
	/* the shared part (12 - 4) is full: a third uid is refused */
	cr_assert_eq(hold_as(NOBODY, c, PER), 0,
	    "a plain uid reached the reserved connections");
	root_still_works(tok, 2, "three plain uids at their limits");
	r = t_ask_as(&t, CAROL, "STATUS\n");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "the verify group: %.40s", r);
	free(r);
	for (i = 0; i < PER; i++) {
		close(a[i]);
		close(b[i]);
		close(c[i]);
	}
	close(a[PER]);
	t_free(tok);
	t_free(spare);
}

Test(conns, a_flood_of_root_connections_evicts_the_idlest)
{
	enum { MAX = 8 };
	int fds[MAX], i;
	char *tok, *spare, *r, buf[64];

	t_need_root();
	t_reconfigure(&t, "max_conns = 8\n");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	spare = t_token(&t, "alice", "ssh");
	for (i = 0; i < MAX; i++) {
		fds[i] = t_dial(&t);
		cr_assert(kept(fds[i]), "root's connection %d refused", i);
	}
	/* full: a plain user is refused, and cannot evict anyone */
	r = t_ask_as(&t, ALICE, "STATUS\n");
	cr_assert_eq(strncmp(r, "ERR code=busy", 13), 0, "[%.40s]", r);
	free(r);
	root_still_works(tok, 2, "max_conns idle root connections");
	/* the oldest gave way, the newest is still served */
	cr_assert_eq(recv(fds[0], buf, sizeof(buf), 0), 0,
	    "the connection idle longest was not the one closed");
	cr_assert_eq(send(fds[MAX - 1], "STATUS\n", 7, MSG_NOSIGNAL), 7);
	r = t_line(fds[MAX - 1]);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%.40s", r);
	free(r);
	for (i = 0; i < MAX; i++)
		close(fds[i]);
	t_free(tok);
	t_free(spare);
}

/*
 * A stand-in patd that answers a refusal only once the client has shut
 * down its sending side (within 2 s), and a failure otherwise.
 */
static pid_t
wants_half_close(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0), fd;
	pid_t pid;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(lfd, 4), 0);
	if ((pid = t_fork()) != 0) {
		close(lfd);
		return pid;
	}
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;
		ssize_t k;
		bool eof = false;

		while ((k = recv(fd, &c, 1, 0)) == 1 && c != '\n')
			;
		while (k == 1 && poll(&p, 1, 2000) == 1) {
			if ((k = recv(fd, &c, 1, 0)) == 0)
				eof = true;
		}
		if (eof)
			(void)!write(fd, "ERR code=invalid-token message=x\n", 33);
		else
			(void)!write(fd, "ERR code=internal message=x\n", 28);
		close(fd);
	}
	_exit(0);
}

Test(conns, pam_pat_half_closes_after_its_request)
{
	char path[100], conf[200], stack[512], *o = NULL, *tok;
	pid_t fake;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	snprintf(path, sizeof(path), "%s/half.sock", t.dir);
	fake = wants_half_close(path);
	snprintf(stack, sizeof(stack), "%s/pam.d", t.dir);
	mkdir(stack, 0755);
	snprintf(stack, sizeof(stack), "auth required %s socket=%s "
	    "timeout=5000\n", getenv("PAM_PAT"), path);
	snprintf(conf, sizeof(conf), "%s/pam.d/sshd", t.dir);
	t_write(conf, stack, 0644);
	t_sh(&t, 0, tok, &o, NULL, "\"$PAMCALL\" --confdir %s/pam.d --service "
	    "sshd --user alice", t.dir);
	kill(fake, SIGKILL);
	waitpid(fake, NULL, 0);
	cr_assert_not_null(strstr(o, "result=PAM_AUTH_ERR"), "pam_pat.so kept "
	    "its sending side open after the request: %s", o);
	t_free(o);
	t_free(tok);
}

/*
 * A verify-group member (a service account: no per-uid cap, may use the
 * reserve) fills every place with connections it sends requests on but
 * never reads: none is idle.  Root still gets in — an answer left unread
 * past a second marks a connection whose place may go — and the place is
 * taken from the uid holding the most.
 */
Test(conns, a_verifier_not_reading_its_answers_cannot_shut_root_out)
{
	enum { MAX = 8, REQS = 3000 };
	static char flood[REQS * 7 + 1];
	int fds[MAX], i, gone = 0;
	char *tok, *spare, *r;

	t_need_root();
	t_reconfigure(&t, "max_conns = 8\nreserved_conns = 4\n");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	spare = t_token(&t, "alice", "ssh");
	for (i = 0; i < REQS; i++)
		memcpy(flood + i * 7, "STATUS\n", 7);
	for (i = 0; i < MAX; i++) {
		fds[i] = t_dial_as(&t, CAROL);
		cr_assert(kept(fds[i]), "carol's connection %d refused", i);
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		cr_assert_gt(send(fds[i], flood, sizeof(flood) - 1,
		    MSG_NOSIGNAL), 0);
	}
	usleep(1500 * 1000);	/* every answer queue full and unread */
	r = t_ask_as(&t, ALICE, "STATUS\n");
	cr_assert_eq(strncmp(r, "ERR code=busy", 13), 0, "the pool was not "
	    "full, the test proves nothing: %.40s", r);
	free(r);
	/* another verifier's newcomer (here carol's own) takes the place of
	 * a stalled one; root may take any other uid's */
	r = t_ask_as(&t, CAROL, "STATUS\n");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "a verifier's newcomer: %.40s",
	    r);
	free(r);
	root_still_works(tok, 2, "a verifier's stalled connections");
	for (i = 0; i < MAX; i++) {
		char buf[4096];
		ssize_t k;

		/* patd closed some of carol's: read what is left, find EOF */
		while ((k = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			;
		/* EOF, or a reset: patd closed it with requests unread */
		gone += k == 0 || (k < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK);
		close(fds[i]);
	}
	cr_assert_gt(gone, 0, "none of carol's connections gave way");
	t_figure("conns: a verifier held all %d places with unread answers; "
	    "root got in, %d of them closed", MAX, gone);
	t_free(tok);
	t_free(spare);
}
