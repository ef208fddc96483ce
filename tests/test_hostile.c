/*
 * Hostile clients: slowloris, oversized and binary lines, requests cut in
 * half, connect/close storms, one uid over its cap — while a well-behaved
 * client (another uid) keeps getting answers and patd's memory stays
 * bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static struct tpatd t;

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(hostile, .fini = teardown, .timeout = 180);

static int
alice_verifies(const char *tok)
{
	return t_ctl(&t, ALICE, tok, NULL, NULL, "verify --perm pam.sshd");
}

Test(hostile, a_good_client_is_answered_through_every_attack)
{
	struct rlimit rl = { 8192, 8192 };
	enum { SLOW = 3000 };
	static int slow[SLOW];
	char *tok, big[1 << 16], *log;
	long rss0, rss1, rss2;
	int i, held = 0, busy = 0, dropped = 0, fd, rc;
	char buf[256];

	t_need_root();
	setrlimit(RLIMIT_NOFILE, &rl);
	t_start(&t, "--max-conns 256 --max-conns-per-uid 100 --idle-timeout 60");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	rss0 = t_rss_kib(t.pid);

	/* slowloris: thousands of connections from bob (a plain uid: root's
	 * have no per-uid cap), each sending half a line */
	for (i = 0; i < SLOW; i++) {
		if ((slow[i] = t_dial_as(&t, BOB)) < 0)
			continue;
		if (send(slow[i], "VERIFY token=1|pat-", 19, MSG_NOSIGNAL) < 0)
			continue;
	}
	usleep(500000);
	for (i = 0; i < SLOW; i++) {
		ssize_t k;

		if (slow[i] < 0)
			continue;
		fcntl(slow[i], F_SETFL, O_NONBLOCK);
		k = recv(slow[i], buf, sizeof(buf) - 1, 0);
		if (k > 0 && strncmp(buf, "ERR code=busy", 13) == 0)
			busy++;
		else if (k == 0)
			busy++;
		else
			held++;
	}
	cr_assert_leq(held, 100, "one uid held %d connections (cap 100)", held);
	rc = alice_verifies(tok);
	cr_assert_eq(rc, 0, "alice's verify during the slowloris exited %d, "
	    "want 0 (answered, valid)", rc);
	rss1 = t_rss_kib(t.pid);
	for (i = 0; i < SLOW; i++)
		if (slow[i] >= 0)
			close(slow[i]);
	usleep(300000);

	/* oversized lines, binary lines, requests cut in half */
	memset(big, 'A', sizeof(big));
	for (i = 0; i < 20; i++) {
		if ((fd = t_dial(&t)) < 0)
			continue;
		(void)send(fd, big, sizeof(big), MSG_NOSIGNAL);
		dropped += recv(fd, buf, sizeof(buf), 0) > 0;
		close(fd);
	}
	for (i = 0; i < 20; i++) {
		char junk[512];
		size_t j;

		for (j = 0; j < sizeof(junk); j++)
			junk[j] = (char)(rand() & 0xff);
		junk[sizeof(junk) - 1] = '\n';
		if ((fd = t_dial(&t)) < 0)
			continue;
		(void)send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
		close(fd);
	}
	for (i = 0; i < 200; i++) {
		if ((fd = t_dial(&t)) < 0)
			continue;
		(void)send(fd, "CREATE role=ssh user=al", 23, MSG_NOSIGNAL);
		close(fd);
	}
	/* connect/close storm */
	for (i = 0; i < 5000; i++)
		if ((fd = t_dial(&t)) >= 0)
			close(fd);
	cr_assert_eq(alice_verifies(tok), 0, "alice lost after the storms");
	rss2 = t_rss_kib(t.pid);
	usleep(300000);
	{
		char *r = t_raw(&t, "STATUS\n", 1), *c = t_field(r, "OK",
		    "connections");

		cr_assert_str_eq(c, "1", "connections left: %s", c);
		free(c);
		free(r);
	}
	log = t_slurp(t.log);
	cr_assert(strstr(log, "too many connections from that uid"));
	cr_assert(strstr(log, "request line over 4096 bytes"));
	cr_assert(strstr(log, "malformed request"));
	free(log);
	cr_assert_gt(rss0, 0);
	cr_assert_lt(rss2, 64 * 1024, "patd grew to %ld KiB", rss2);
	t_figure("hostile: %d slowloris connections tried, %d held (cap), %d "
	    "refused busy; 20 oversized (%d answered too-long), 20 binary, 200 "
	    "cut, 5000 connect/close", SLOW, held, busy, dropped);
	t_figure("hostile: patd RSS %ld KiB idle, %ld KiB with the slowloris, "
	    "%ld KiB after the storms", rss0, rss1, rss2);
	t_free(tok);
}

Test(hostile, idle_connections_are_closed)
{
	int fds[20], i;
	char *r, *c;

	t_start(&t, "--idle-timeout 1");
	for (i = 0; i < 20; i++)
		cr_assert_geq(fds[i] = t_dial(&t), 0);
	sleep(2);
	r = t_raw(&t, "STATUS\n", 1);
	c = t_field(r, "OK", "connections");
	cr_assert_str_eq(c, "1", "idle connections still open: %s", c);
	free(c);
	free(r);
	for (i = 0; i < 20; i++) {
		char b;

		cr_assert_eq(recv(fds[i], &b, 1, 0), 0, "connection %d open", i);
		close(fds[i]);
	}
}
