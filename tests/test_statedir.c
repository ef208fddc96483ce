/*
 * Review finding 2: patd trusts only a state directory it owns.  Alice
 * (uid 1001) prepares the places root's patd will use — a state directory
 * she made first in a sticky /tmp-like directory, her world-writable store
 * files, a symbolic link, a directory above that is hers, a hard link, her
 * stale socket at the socket path — and root's real patd must refuse to
 * start, say why and what to do, and leave her files exactly as they were.
 * The places patd should accept still work: a fresh mktemp -d, alice's
 * patd on her own directory, and restarts on patd's own state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static struct tpatd t;
static char tmp[128];	/* root's, 1777: a /tmp of the test's own */

static void
setup(void)
{
	t_start(&t, NULL);
	snprintf(tmp, sizeof(tmp), "%s/tmp", t.dir);
	cr_assert_eq(mkdir(tmp, 0700), 0);
	cr_assert_eq(chmod(tmp, 01777), 0);
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(statedir, .init = setup, .fini = teardown, .timeout = 90);

/* Names, owners, modes, sizes, times, inodes and contents under dir (not
 * t.dir itself: t_sh keeps its files there). */
static char *
snapshot(const char *dir)
{
	char *out = NULL;

	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "cd %s && find . -printf "
	    "'%%p %%U %%m %%s %%T@ %%i\\n' | sort && find . -type f -exec "
	    "sha256sum {} + | sort", dir), 0);
	return out;
}

/* Root's patd on state and sock must refuse at once with a line naming
 * kind ("state directory" or "socket"), path and reason, and advice after
 * the dash; nothing under watch may change.  Given 3 s, a patd that starts
 * instead is stopped by timeout (exit 124). */
static void
refused(const char *kind, const char *path, const char *state,
    const char *sock, const char *reason, const char *watch)
{
	char *before = snapshot(watch), *after, *err = NULL, line[512];
	int rc;

	rc = t_sh(&t, 0, NULL, NULL, &err, "exec timeout 3 \"$PATD\" "
	    "--socket %s --state %s", sock, state);
	after = snapshot(watch);
	cr_assert_eq(rc, 1, "patd did not refuse (exit %d): %s", rc, err);
	snprintf(line, sizeof(line), "patd: refusing %s %s: ", kind, path);
	cr_assert_not_null(strstr(err, line), "want \"%s\": %s", line, err);
	cr_assert_not_null(strstr(err, reason), "want \"%s\": %s", reason,
	    err);
	cr_assert_not_null(strstr(err, " \u2014 "), "no advice: %s", err);
	cr_assert(strcmp(before, after) == 0, "patd changed files in %s",
	    watch);
	free(before);
	free(after);
	free(err);
}

/* Root's patd comes back on t's state and socket and still verifies tok. */
static void
works_again(const char *tok)
{
	t_restart(&t);
	cr_assert_eq(t_ctl(&t, 0, tok, NULL, NULL, "verify"), 0,
	    "patd lost the token");
}

Test(statedir, a_state_directory_alice_made_first_is_refused)
{
	char *out = NULL, st[200], why[64];

	t_need_root();
	t_kill9(&t);
	/* alice's own patd makes her a store in which she holds pat.admin;
	 * she leaves it world-writable, keys removed, for root to adopt */
	snprintf(st, sizeof(st), "%s/pat-state", tmp);
	cr_assert_eq(t_sh(&t, ALICE, NULL, &out, NULL, "mkdir %s && "
	    "LD_PRELOAD=libnss_wrapper.so \"$PATD\" --socket %s/a.sock "
	    "--state %s 2>/dev/null & P=$!; "
	    "while [ ! -S %s/a.sock ]; do sleep 0.05; done; "
	    "printf \"ROLE-SET name=boss perms=pat.admin\\nGRANT role=boss "
	    "user=alice\\n\" | socat -t5 - UNIX-CONNECT:%s/a.sock; "
	    "kill $P; wait $P; rm %s/token.key %s/session.key && "
	    "chmod 666 %s/pat.mdb %s/pat.mdb-lock && chmod 777 %s",
	    st, tmp, st, tmp, tmp, st, st, st, st, st), 0);
	cr_assert(strstr(out, "OK") && strstr(strstr(out, "OK") + 2, "OK"),
	    "alice could not prepare her store: %s", out);
	free(out);
	snprintf(why, sizeof(why), "it belongs to uid %d", ALICE);
	refused("state directory", st, st, t.sock, why, st);
}

Test(statedir, store_files_alice_owns_or_others_can_write_are_refused)
{
	static const char *files[] = { "pat.mdb", "pat.mdb-lock" };
	static const struct { uid_t uid; mode_t mode; const char *why; } c[] = {
		{ ALICE, 0666, " belongs to uid 1001" },
		{ ALICE, 0600, " belongs to uid 1001" },
		{ 0, 0666, " is writable by group and others (mode 0666)" },
		{ 0, 0620, " is writable by its group (mode 0620)" },
	};
	char *tok, path[200], why[128];
	size_t i, j;

	t_need_root();
	t_role(&t, "r", "svc.x:read");
	t_grant(&t, "r", "--user root");
	tok = t_token(&t, "root", "r");
	t_kill9(&t);
	for (i = 0; i < 2; i++)
		for (j = 0; j < sizeof(c) / sizeof(*c); j++) {
			snprintf(path, sizeof(path), "%s/%s", t.state, files[i]);
			cr_assert_eq(chown(path, c[j].uid, c[j].uid), 0);
			cr_assert_eq(chmod(path, c[j].mode), 0);
			snprintf(why, sizeof(why), ": %s%s", files[i], c[j].why);
			refused("state directory", t.state, t.state, t.sock, why,
			    t.state);
			cr_assert_eq(chown(path, 0, 0), 0);
			cr_assert_eq(chmod(path, 0600), 0);
		}
	works_again(tok);
	t_free(tok);
}

Test(statedir, a_state_directory_others_can_write_is_refused)
{
	static const struct { mode_t mode; const char *why; } c[] = {
		{ 0777, "it is writable by group and others (mode 0777)" },
		{ 01777, "it is writable by group and others (mode 1777)" },
		{ 0770, "it is writable by its group (mode 0770)" },
		{ 0702, "it is writable by others (mode 0702)" },
	};
	size_t i;

	t_need_root();
	t_kill9(&t);
	for (i = 0; i < sizeof(c) / sizeof(*c); i++) {
		cr_assert_eq(chmod(t.state, c[i].mode), 0);
		refused("state directory", t.state, t.state, t.sock, c[i].why,
		    t.state);
	}
	cr_assert_eq(chmod(t.state, 0700), 0);
	t_restart(&t);
}

Test(statedir, symbolic_links_are_refused)
{
	char link[200], above[200], state[300], mdb[200], copy[300];
	char elsewhere[200];

	t_need_root();
	t_kill9(&t);
	/* alice's link in the sticky dir, to root's own (good) state */
	snprintf(link, sizeof(link), "%s/pat-state", tmp);
	cr_assert_eq(t_sh(&t, ALICE, NULL, NULL, NULL, "ln -s %s %s",
	    t.state, link), 0);
	refused("state directory", link, link, t.sock,
	    "pat-state is a symbolic link", t.state);
	/* a link on the way, even root's own */
	snprintf(above, sizeof(above), "%s/above", t.dir);
	cr_assert_eq(symlink(t.dir, above), 0);
	snprintf(state, sizeof(state), "%s/state", above);
	refused("state directory", state, state, t.sock,
	    "/above is a symbolic link", t.state);
	/* and in the directory: pat.mdb pointing at a copy elsewhere */
	snprintf(mdb, sizeof(mdb), "%s/pat.mdb", t.state);
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", t.dir);
	cr_assert_eq(mkdir(elsewhere, 0700), 0);
	snprintf(copy, sizeof(copy), "%s/pat.mdb", elsewhere);
	cr_assert_eq(rename(mdb, copy), 0);
	cr_assert_eq(symlink(copy, mdb), 0);
	refused("state directory", t.state, t.state, t.sock,
	    ": pat.mdb is a symbolic link", elsewhere);
	cr_assert_eq(unlink(mdb), 0);
	cr_assert_eq(rename(copy, mdb), 0);
	t_restart(&t);
}

Test(statedir, a_directory_above_alice_owns_or_others_can_write_is_refused)
{
	char home[200], state[300], sock[300], why[300], shared[200];

	t_need_root();
	t_kill9(&t);
	/* root's state in alice's directory: she can rename it away and put
	 * her own in its place */
	snprintf(home, sizeof(home), "%s/alice", t.dir);
	cr_assert_eq(mkdir(home, 0755), 0);
	cr_assert_eq(chown(home, ALICE, ALICE), 0);
	snprintf(state, sizeof(state), "%s/state", home);
	cr_assert_eq(mkdir(state, 0700), 0);
	snprintf(why, sizeof(why), "directory %s belongs to uid 1001, neither "
	    "root nor patd's uid 0", home);
	refused("state directory", state, state, t.sock, why, home);
	/* the same for the directory that would hold the socket */
	snprintf(sock, sizeof(sock), "%s/patd.sock", home);
	refused("socket", sock, t.state, sock, why, home);
	/* root's, but group-writable and not sticky */
	snprintf(shared, sizeof(shared), "%s/shared", t.dir);
	cr_assert_eq(mkdir(shared, 0700), 0);
	cr_assert_eq(chmod(shared, 0775), 0);
	snprintf(state, sizeof(state), "%s/state", shared);
	snprintf(why, sizeof(why), "directory %s is writable by its group "
	    "(mode 0775)", shared);
	refused("state directory", state, state, t.sock, why, shared);
	snprintf(sock, sizeof(sock), "%s/patd.sock", shared);
	refused("socket", sock, t.state, sock, why, shared);
	t_restart(&t);
}

Test(statedir, a_hard_linked_file_is_refused)
{
	static const char *files[] = { "pat.mdb", "token.key" };
	char path[200], other[200], why[100];
	size_t i;

	t_need_root();
	t_kill9(&t);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", t.state, files[i]);
		snprintf(other, sizeof(other), "%s/%s.link", t.dir, files[i]);
		cr_assert_eq(link(path, other), 0);
		snprintf(why, sizeof(why), ": %s has 2 hard links (want 1)",
		    files[i]);
		refused("state directory", t.state, t.state, t.sock, why,
		    t.state);
		cr_assert_eq(unlink(other), 0);
	}
	t_restart(&t);
}

Test(statedir, another_users_socket_file_is_not_replaced)
{
	char sock[200], st[200];

	t_need_root();
	t_kill9(&t);
	/* alice's patd leaves its socket behind in the sticky directory */
	snprintf(sock, sizeof(sock), "%s/pat.sock", tmp);
	snprintf(st, sizeof(st), "%s/alice-state", tmp);
	cr_assert_eq(t_sh(&t, ALICE, NULL, NULL, NULL, "\"$PATD\" --socket "
	    "%s --state %s 2>/dev/null & P=$!; while [ ! -S %s ]; do sleep "
	    "0.05; done; kill -9 $P; wait $P; test -S %s", sock, st, sock,
	    sock), 0);
	refused("socket", sock, t.state, sock, "a file that belongs to uid "
	    "1001, not to patd's uid 0, is already there", tmp);
	t_restart(&t);
}

Test(statedir, a_fresh_mktemp_directory_works_and_restarts)
{
	char *out = NULL, *err = NULL, tmpl[128];

	t_need_root();
	t_tmpname(tmpl, sizeof(tmpl), "fresh.");	/* still in /tmp */
	/* the socket in the state directory too: patd's own stale socket
	 * there must not stop a restart */
	cr_assert_eq(t_sh(&t, 0, NULL, &out, &err,
	    "D=$(mktemp -d %s) && S=$D/patd.sock && L=%s/fresh.log && "
	    "q() { printf \"%%s\\n\" \"$1\" | socat -t5 - UNIX-CONNECT:$S; }; "
	    "up() { \"$PATD\" --socket $S --state $D 2>>$L & P=$!; "
	    "  for i in $(seq 100); do q STATUS | grep -q ^OK && return 0; "
	    "  sleep 0.05; done; return 1; }; "
	    "up || { echo first=down; exit 1; }; "
	    "q \"ROLE-SET name=r perms=svc.x:read\" >/dev/null; "
	    "q \"GRANT role=r user=root\" >/dev/null; "
	    "T=$(q \"CREATE role=r\" | sed -n \"s/.* token=\\([^ ]*\\).*/\\1/p\"); "
	    "kill -9 $P; wait $P; "
	    "up || { echo after-kill=down; exit 1; }; "
	    "echo \"verify1=$(q \"VERIFY token=$T perm=svc.x:read\" | cut -c1-2)\"; "
	    "kill $P; wait $P; "
	    "up || { echo after-term=down; exit 1; }; "
	    "echo \"verify2=$(q \"VERIFY token=$T perm=svc.x:read\" | cut -c1-2)\"; "
	    "kill $P; wait $P; rm -rf $D", tmpl, t.dir), 0, "%s %s", out, err);
	cr_assert_not_null(strstr(out, "verify1=OK"), "%s", out);
	cr_assert_not_null(strstr(out, "verify2=OK"), "%s", out);
	free(out);
	free(err);
}

Test(statedir, alice_runs_her_own_patd_on_her_own_directory)
{
	char *out = NULL, st[200], sock[200];

	t_need_root();
	snprintf(st, sizeof(st), "%s/alice-state", tmp);
	snprintf(sock, sizeof(sock), "%s/alice.sock", tmp);
	/* she makes the directory herself, starts, restarts after kill -9 */
	cr_assert_eq(t_sh(&t, ALICE, NULL, &out, NULL, "mkdir -m 700 %s && "
	    "for n in 1 2; do \"$PATD\" --socket %s --state %s 2>>%s/a.log & "
	    "P=$!; for i in $(seq 100); do printf \"STATUS\\n\" | socat -t5 - "
	    "UNIX-CONNECT:%s 2>/dev/null | grep -q ^OK && break; sleep 0.05; "
	    "done; printf \"STATUS\\n\" | socat -t5 - UNIX-CONNECT:%s | "
	    "cut -c1-2; kill -9 $P; wait $P; done; true", st, sock, st, tmp, sock,
	    sock), 0);
	cr_assert_str_eq(out, "OK\nOK\n", "alice's patd: %s", out);
	free(out);
}

Test(statedir, restart_on_its_own_state_keeps_working)
{
	char *tok;

	t_role(&t, "r", "svc.x:read");
	t_grant(&t, "r", "--user root");
	tok = t_token(&t, "root", "r");
	t_kill9(&t);	/* a stale socket of its own is replaced */
	works_again(tok);
	kill(t.pid, SIGTERM);
	waitpid(t.pid, NULL, 0);
	works_again(tok);
	t_free(tok);
}

/* Issue 12, item 9: one patd per state directory.  A second one, on the
 * same socket or another, refuses before it reads a key or touches the
 * first one's socket, and says why; the first keeps serving. */
Test(statedir, a_second_patd_on_the_same_directory_refuses)
{
	char *err = NULL, other[200];
	int rc;

	t_role(&t, "ssh", "pam.sshd");
	/* one that starts anyway is stopped after 5 s (exit 124) */
	rc = t_sh(&t, 0, NULL, NULL, &err, "timeout 5 \"$PATD\" --socket %s "
	    "--state %s", t.sock, t.state);
	cr_assert_eq(rc, 1, "second patd on the same socket: exit %d: %s", rc,
	    err);
	cr_assert(strstr(err, "another patd is using") &&
	    strstr(err, t.state) && strstr(err, "stop that patd first"),
	    "%s", err);
	free(err);
	snprintf(other, sizeof(other), "%s/other.sock", t.dir);
	rc = t_sh(&t, 0, NULL, NULL, &err, "timeout 5 \"$PATD\" --socket %s "
	    "--state %s", other, t.state);
	cr_assert_eq(rc, 1, "second patd on another socket: exit %d: %s", rc,
	    err);
	cr_assert(strstr(err, "another patd is using"), "%s", err);
	free(err);
	cr_assert_neq(access(other, F_OK), 0, "the refused patd made a socket");
	/* the first one still answers, on its own socket, with its state */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role show ssh"), 0);
	/* and once it is gone, a new patd takes the directory */
	t_kill9(&t);
	t_restart(&t);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role show ssh"), 0);
}
