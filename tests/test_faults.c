/*
 * Crashes and full disks: kill -9 in the middle of a stream of creates and
 * revokes, many times; a full LMDB map; a full file system.  Nothing
 * acknowledged is ever lost, verification keeps working, and writes work
 * again once there is room.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
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

TestSuite(faults, .fini = teardown, .timeout = 240);

struct ack {
	char	*token;
	int	 revoked;	/* 1: REVOKE acknowledged; -1: sent, patd died
				 * before answering (either outcome is fine) */
};

Test(faults, kill_9_mid_stream_loses_nothing_acknowledged)
{
	enum { ROUNDS = 20, MAXT = 20000 };
	static struct ack acks[MAXT];
	int n = 0, round, revokes = 0, i, bad = 0;
	char req[200], *r;

	t_start(&t, NULL);
	/* the final sweep presents revoked tokens on purpose: lift the
	 * per-user failure limit for this patd */
	t_reconfigure(&t, "rate_limit_failures = 1000000\n" T_BULK_CONF);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	srand(1127);
	for (round = 0; round < ROUNDS; round++) {
		pid_t killer = t_fork();

		if (killer == 0) {	/* a crash at a random moment */
			usleep(20000 + (useconds_t)(rand() % 150000));
			kill(t.pid, SIGKILL);
			_exit(0);
		}
		for (;;) {	/* creates, with a revoke every third step */
			if (n > 0 && rand() % 3 == 0) {
				int v = rand() % n;

				snprintf(req, sizeof(req), "REVOKE id=%.*s\n",
				    (int)strcspn(acks[v].token, "|"),
				    acks[v].token);
				if ((r = t_ask(&t, req)) == NULL) {
					if (acks[v].revoked == 0)
						acks[v].revoked = -1;
					break;
				}
				if (strncmp(r, "OK revoked=", 11) == 0) {
					acks[v].revoked = 1;
					revokes++;
				}
				free(r);
				continue;
			}
			if (n == MAXT ||
			    (r = t_ask(&t, "CREATE role=ssh user=alice\n")) == NULL)
				break;
			if ((acks[n].token = t_field(r, "OK", "token")) != NULL)
				n++;
			t_free(r);
		}
		waitpid(killer, NULL, 0);
		waitpid(t.pid, NULL, 0);
		t.pid = 0;
		t_restart(&t);	/* the store must open clean */
	}
	for (i = 0; i < n; i++) {
		snprintf(req, sizeof(req), "VERIFY token=%s\n", acks[i].token);
		r = t_ask(&t, req);
		cr_assert_not_null(r);
		if ((acks[i].revoked == 1 && strncmp(r, "ERR code=revoked", 16)) ||
		    (acks[i].revoked == 0 && strncmp(r, "OK", 2)))
			bad++;
		free(r);
		t_free(acks[i].token);
	}
	cr_assert_eq(bad, 0, "%d of %d acknowledged writes were lost", bad, n);
	cr_assert_gt(n, ROUNDS, "too few creates to mean anything");
	t_figure("kill -9: %d crashes survived; %d acknowledged creates and %d "
	    "acknowledged revokes all kept", ROUNDS, n, revokes);
}

Test(faults, a_full_map_refuses_creates_and_keeps_verifying)
{
	char *r, *first = NULL, req[200], *log;
	int n = 0;

	t_start(&t, NULL);
	t_reconfigure(&t, "map_size_mb = 1\n" T_BULK_CONF);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	for (;;) {
		r = t_raw(&t, "CREATE role=ssh user=alice name=filling%20the%20"
		    "map%20with%20a%20longish%20name%20each%20time\n", 1);
		if (strncmp(r, "OK", 2) != 0)
			break;
		if (first == NULL)
			first = t_field(r, "OK", "token");
		n++;
		t_free(r);
		cr_assert_lt(n, 100000, "a 1 MiB map never filled");
	}
	cr_assert_eq(strncmp(r, "ERR code=store-full", 19), 0, "%s", r);
	cr_assert(strstr(r, "full"), "the error says why: %s", r);
	free(r);
	snprintf(req, sizeof(req), "VERIFY token=%s\n", first);
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "verification broke: %s", r);
	free(r);
	r = t_raw(&t, "STATUS\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0);
	free(r);
	log = t_slurp(t.log);
	cr_assert(strstr(log, "store is full"), "not logged");
	free(log);
	/* room again: a bigger map on restart, nothing lost */
	t_kill9(&t);
	strncat(t.extra, " --map-size 8", sizeof(t.extra) - strlen(t.extra) - 1);
	t_restart(&t);
	r = t_raw(&t, "CREATE role=ssh user=alice\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	t_free(r);
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0);
	free(r);
	r = t_raw(&t, "LIST user=alice after=0\n", 1);
	free(r);
	t_figure("map full: %d tokens fitted in a 1 MiB map; creates refused "
	    "with store-full, verification unaffected, writes back after a "
	    "larger map", n);
	t_free(first);
}

Test(faults, a_full_disk_refuses_creates_and_recovers)
{
	char *out = NULL, *err = NULL;
	int rc;

	t_need_root();
	if (t_sh(&t, 0, NULL, NULL, NULL, "unshare --mount true") != 0)
		cr_skip_test("SKIPPED: no mount namespaces");
	t_start(&t, NULL);
	/* a 4 MiB file system for the state, filled almost to the brim */
	rc = t_sh(&t, 0, NULL, &out, &err, "unshare --mount --propagation "
	    "private sh -c '"
	    "D=%s/small; mkdir -p $D && mount -t tmpfs -o size=4m tmpfs $D && "
	    "\"$PATD\" --socket %s/full.sock --state $D/state 2>%s/full.log & "
	    "P=$!; while [ ! -S %s/full.sock ]; do sleep 0.05; done; "
	    "q() { printf \"%%s\\n\" \"$1\" | socat -t5 - UNIX-CONNECT:%s/full.sock; }; "
	    "q \"ROLE-SET name=ssh perms=pam.sshd\" >/dev/null; "
	    "q \"GRANT role=ssh user=root\" >/dev/null; "
	    "FIRST=$(q \"CREATE role=ssh\" | sed -n \"s/.* token=\\([^ ]*\\).*/\\1/p\"); "
	    "dd if=/dev/zero of=$D/filler bs=64k 2>/dev/null; "
	    "i=0; while [ $i -lt 3000 ]; do R=$(q \"CREATE role=ssh\"); "
	    "case \"$R\" in OK*) i=$((i+1));; *) break;; esac; done; "
	    "echo \"fitted=$i\"; echo \"refused=${R%%%% message=*}\"; "
	    "echo \"verify=$(q \"VERIFY token=$FIRST\" | cut -c1-2)\"; "
	    "rm -f $D/filler; "
	    "echo \"after=$(q \"CREATE role=ssh\" | cut -c1-2)\"; "
	    "echo \"verify2=$(q \"VERIFY token=$FIRST\" | cut -c1-2)\"; "
	    "kill $P; wait $P'", t.dir, t.dir, t.dir, t.dir, t.dir);
	cr_assert_eq(rc, 0, "%s %s", out, err);
	cr_assert(strstr(out, "refused=ERR code=store-full"), "%s", out);
	cr_assert(strstr(out, "verify=OK"), "verification broke: %s", out);
	cr_assert(strstr(out, "after=OK"), "no writes after room: %s", out);
	cr_assert(strstr(out, "verify2=OK"), "%s", out);
	t_figure("disk full: state on a 4 MiB tmpfs filled by a file (%.*s "
	    "more creates fitted); creates refused with store-full, "
	    "verification kept, writes back once the file was removed",
	    (int)strcspn(strstr(out, "fitted=") + 7, "\n"),
	    strstr(out, "fitted=") + 7);
	free(out);
	free(err);
}
