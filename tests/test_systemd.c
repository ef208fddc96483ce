/*
 * patd as systemd runs it: socket activation (systemd-socket-activate and
 * an Accept=no supervisor for idle exit), SIGTERM under load, journal
 * fields, configuration files, the units (systemd-analyze) and install.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

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

TestSuite(systemd, .init = setup, .fini = teardown, .timeout = 120);

/* Point the harness's raw client at another socket for a while. */
static char *
raw_at(const char *sock, const char *req)
{
	struct tpatd other = t;

	snprintf(other.sock, sizeof(other.sock), "%s", sock);
	return t_raw(&other, req, 1);
}

static bool
wait_for_file(const char *path)
{
	int i;

	for (i = 0; i < 200 && access(path, F_OK) != 0; i++)
		usleep(20000);
	return access(path, F_OK) == 0;
}

Test(systemd, systemd_socket_activate_hands_patd_the_socket)
{
	char sock[100], *r, *tok, req[200], *log;
	pid_t act;

	if (t_sh(&t, 0, NULL, NULL, NULL, "command -v systemd-socket-activate")
	    != 0)
		cr_skip_test("SKIPPED: systemd-socket-activate is missing");
	snprintf(sock, sizeof(sock), "%s/act.sock", t.dir);
	act = t_bg(&t, 0, "exec systemd-socket-activate -l %s \"$PATD\" "
	    "--state %s/act-state 2>%s/act.log", sock, t.dir, t.dir);
	cr_assert(wait_for_file(sock), "no socket");
	r = raw_at(sock, "ROLE-SET name=web perms=svc.web:*\n");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	free(r);
	free(raw_at(sock, "GRANT role=web user=root\n"));
	r = raw_at(sock, "CREATE role=web\n");
	tok = t_field(r, "OK", "token");
	cr_assert_not_null(tok);
	t_free(r);
	snprintf(req, sizeof(req), "VERIFY token=%s perm=svc.web:read\n", tok);
	r = raw_at(sock, req);
	cr_assert_eq(strncmp(r, "OK id=1 user=root", 17), 0, "%.40s", r);
	free(r);
	t_bg_stop(act, SIGTERM);
	snprintf(req, sizeof(req), "%s/act.log", t.dir);
	log = t_slurp(req);
	cr_assert(strstr(log, "socket from systemd"), "%s", log);
	free(log);
	t_free(tok);
}

static int
count_lines(const char *path)
{
	char *s = t_slurp(path), *p;
	int n = 0;

	for (p = s; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(s);
	return n;
}

Test(systemd, idle_exit_and_back_on_the_next_connection)
{
	char sock[100], starts[128], *r, *tok, req[200];
	pid_t act;
	int i;

	snprintf(sock, sizeof(sock), "%s/idle.sock", t.dir);
	snprintf(starts, sizeof(starts), "%s/starts", t.dir);
	act = t_bg(&t, 0, "exec \"$SOCKACT\" %s %s -- \"$PATD\" --state "
	    "%s/idle-state --idle-exit 1 2>>%s/idle.log", sock, starts, t.dir,
	    t.dir);
	cr_assert(wait_for_file(sock));
	r = raw_at(sock, "ROLE-SET name=web perms=svc.web:*\n");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%s", r);
	free(r);
	free(raw_at(sock, "GRANT role=web user=root\n"));
	r = raw_at(sock, "CREATE role=web\n");
	tok = t_field(r, "OK", "token");
	t_free(r);
	cr_assert_not_null(tok);
	cr_assert_eq(count_lines(starts), 1);
	/* idle for over a second: patd leaves (the supervisor keeps the
	 * socket) */
	for (i = 0; i < 100; i++) {
		char *log;

		usleep(50000);
		snprintf(req, sizeof(req), "%s/idle.log", t.dir);
		log = t_slurp(req);
		if (strstr(log, "idle for 1 s: exiting")) {
			free(log);
			break;
		}
		free(log);
	}
	cr_assert_lt(i, 100, "patd did not exit when idle");
	usleep(200000);
	/* the next connection starts it again, and the request is answered */
	snprintf(req, sizeof(req), "VERIFY token=%s perm=svc.web:read\n", tok);
	r = raw_at(sock, req);
	cr_assert_eq(strncmp(r, "OK id=1", 7), 0, "%.40s", r);
	free(r);
	cr_assert_eq(count_lines(starts), 2, "patd was not started again");
	t_bg_stop(act, SIGTERM);
	t_free(tok);
}

Test(systemd, sigterm_under_load_loses_no_acknowledged_write)
{
	char path[200], *toks, *line, *save = NULL, req[200], *r;
	int acked = 0, verified = 0;
	pid_t pid;

	t_reconfigure(&t, T_BULK_CONF);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	snprintf(path, sizeof(path), "%s/acked", t.dir);
	/* a client creating tokens as fast as it can, keeping each one
	 * patd acknowledged; SIGTERM lands in the middle of the stream */
	if ((pid = t_fork()) == 0) {
		FILE *f = fopen(path, "w");
		int i;

		for (i = 0; i < 100000; i++) {
			char *a = t_ask(&t, "CREATE role=ssh user=alice\n");
			char *k = a ? t_field(a, "OK", "token") : NULL;

			if (k == NULL) {
				free(a);
				break;	/* refused or patd gone */
			}
			fprintf(f, "%s\n", k);
			fflush(f);
			t_free(k);
			t_free(a);
		}
		fclose(f);
		_exit(0);
	}
	usleep(700000);
	kill(t.pid, SIGTERM);
	waitpid(t.pid, NULL, 0);
	t.pid = 0;
	waitpid(pid, NULL, 0);
	t_restart(&t);
	toks = t_slurp(path);
	for (line = strtok_r(toks, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		acked++;
		snprintf(req, sizeof(req), "VERIFY token=%s\n", line);
		r = t_raw(&t, req, 1);
		verified += strncmp(r, "OK", 2) == 0;
		free(r);
	}
	t_free(toks);
	cr_assert_gt(acked, 10, "only %d creates before SIGTERM", acked);
	cr_assert_eq(verified, acked, "%d of %d acknowledged creates lost",
	    acked - verified, acked);
	t_figure("SIGTERM under load: %d acknowledged creates, all kept",
	    acked);
}

Test(systemd, events_reach_the_journal_with_structured_fields)
{
	char *out = NULL, *err = NULL;
	int rc;

	t_need_root();
	if (t_sh(&t, 0, NULL, NULL, NULL, "unshare --mount true && command -v "
	    "socat") != 0)
		cr_skip_test("SKIPPED: needs mount namespaces and socat");
	/* a private /run whose journal socket is ours to read: patd speaks
	 * journald's native protocol to it, as under systemd */
	rc = t_sh(&t, 0, NULL, &out, &err, "unshare --mount --propagation "
	    "private sh -c '"
	    "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && "
	    "(socat -u UNIX-RECV:/run/systemd/journal/socket "
	    "CREATE:%s/journal & echo $! >%s/socat.pid) && "
	    "while [ ! -S /run/systemd/journal/socket ]; do sleep 0.05; done; "
	    ": >%s/j.err; "
	    "JOURNAL_STREAM=$(stat -c %%d:%%i %s/j.err) \"$PATD\" --socket "
	    "%s/j.sock --state %s/j-state 2>>%s/j.err & P=$!; "
	    "while [ ! -S %s/j.sock ]; do sleep 0.05; done; "
	    "printf \"ROLE-SET name=web perms=svc.web:*\\nGRANT role=web "
	    "user=root\\nCREATE role=web\\nVERIFY token=1|pat-000\\n\" | "
	    "socat - UNIX-CONNECT:%s/j.sock >/dev/null; "
	    "kill $P; wait $P; sleep 0.2; kill $(cat %s/socat.pid)'",
	    t.dir, t.dir, t.dir, t.dir, t.dir, t.dir, t.dir, t.dir, t.dir,
	    t.dir);
	cr_assert_eq(rc, 0, "%s %s", out, err);
	free(out);
	free(err);
	{
		char p[200], *j;

		snprintf(p, sizeof(p), "%s/journal", t.dir);
		j = t_slurp(p);
		cr_assert(strstr(j, "PAT_EVENT=create"), "no create event");
		cr_assert(strstr(j, "PAT_ID=1"), "no PAT_ID");
		cr_assert(strstr(j, "PAT_USER=root"), "no PAT_USER");
		cr_assert(strstr(j, "PAT_EVENT=verify"), "no verify event");
		cr_assert(strstr(j, "PAT_RESULT=refused"), "no PAT_RESULT");
		cr_assert(strstr(j, "PAT_REASON=malformed-token"), "no reason");
		cr_assert(strstr(j, "SYSLOG_IDENTIFIER=patd"));
		cr_assert_null(strstr(j, "|pat-"), "a token in the journal");
		free(j);
		snprintf(p, sizeof(p), "%s/j.err", t.dir);
		j = t_slurp(p);
		cr_assert_null(strstr(j, "event="), "events also on stderr: %s",
		    j);
		free(j);
	}
}

Test(systemd, a_bad_config_stops_patd_with_file_line_and_reason)
{
	char *err = NULL;
	int rc;

	rc = t_sh(&t, 0, NULL, NULL, &err, "printf 'max_conns = 5\\n\\n"
	    "idle_exit = soon\\n' >%s/bad.conf; \"$PATD\" --config %s/bad.conf "
	    "--socket %s/c.sock --state %s/c-state", t.dir, t.dir, t.dir, t.dir);
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "bad.conf:3: idle_exit must be a whole number"),
	    "%s", err);
	free(err);
	rc = t_sh(&t, 0, NULL, NULL, &err, "\"$PATD\" --config %s/none.conf "
	    "--state %s/c-state", t.dir, t.dir);
	cr_assert_eq(rc, 2, "a missing --config file must stop patd");
	cr_assert(strstr(err, "none.conf"), "%s", err);
	free(err);
}

/* Hold n connections open to patd as bob (a plain uid: root has no
 * per-uid cap). */
static void
hold(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		cr_assert_geq(fds[i] = t_dial_as(&t, BOB), 0);
	usleep(200000);	/* let patd accept them */
}

static void
release(int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
	usleep(200000);
}

Test(systemd, flags_override_the_config_file)
{
	char *r;
	int fds[2];

	t_need_root();
	t_reconfigure(&t, "# one connection per uid\nmax_conns_per_uid = 1\n");
	hold(fds, 1);
	r = t_ask_as(&t, BOB, "STATUS\n");
	cr_assert_eq(strncmp(r, "ERR code=busy", 13), 0, "file ignored: %s", r);
	free(r);
	release(fds, 1);
	t_kill9(&t);
	/* t_reconfigure left "--config <dir>/patd.conf" in extra */
	strncat(t.extra, " --max-conns-per-uid 3",
	    sizeof(t.extra) - strlen(t.extra) - 1);
	t_restart(&t);
	hold(fds, 2);
	r = t_ask_as(&t, BOB, "STATUS\n");
	cr_assert_eq(strncmp(r, "OK", 2), 0, "the flag did not win: %s", r);
	free(r);
	release(fds, 2);
}

Test(systemd, units_verify_and_are_hardened)
{
	char *out = NULL, *err = NULL, *p;
	double exposure = 99;
	int rc;

	if (t_sh(&t, 0, NULL, NULL, NULL, "command -v systemd-analyze") != 0)
		cr_skip_test("SKIPPED: systemd-analyze is missing");
	rc = t_sh(&t, 0, NULL, &out, &err, "make -s -C \"$PAT_SRC\" install "
	    "PREFIX=%s/inst/usr PAMDIR=%s/inst/pam PAMCONFDIR=%s/inst/pamcfg "
	    ">/dev/null && MANPATH=%s/inst/usr/share/man systemd-analyze "
	    "verify %s/inst/usr/lib/systemd/system/patd.socket "
	    "%s/inst/usr/lib/systemd/system/patd.service", t.dir, t.dir, t.dir,
	    t.dir, t.dir, t.dir);
	cr_assert_eq(rc, 0, "systemd-analyze verify: %s %s", out, err);
	free(out);
	free(err);
	/* the documented threshold: 2.5 (25 on --threshold's scale) */
	rc = t_sh(&t, 0, NULL, &out, &err, "systemd-analyze security "
	    "--offline=yes --threshold=25 "
	    "%s/inst/usr/lib/systemd/system/patd.service", t.dir);
	p = strstr(out, "Overall exposure level for patd.service: ");
	if (p != NULL)
		exposure = atof(p + strlen("Overall exposure level for "
		    "patd.service: "));
	t_figure("systemd-analyze security: patd.service exposure %.1f "
	    "(threshold 2.5)", exposure);
	cr_assert_eq(rc, 0, "exposure %.1f is above 2.5", exposure);
	cr_assert_leq(exposure, 2.5, "exposure %.1f", exposure);
	free(out);
	free(err);
}

Test(systemd, make_install_and_uninstall_with_destdir)
{
	static const char *want[] = {
		"755 /usr/local/sbin/patd",
		"755 /usr/local/bin/patctl",
		"644 /usr/local/lib/systemd/system/patd.service",
		"644 /usr/local/lib/systemd/system/patd.socket",
		"644 /usr/local/share/man/man8/patd.8",
		"644 /usr/local/share/man/man8/pam_pat.8",
		"644 /usr/local/share/man/man5/patd.conf.5",
		"644 /usr/local/share/man/man1/patctl.1",
		"644 /usr/local/share/doc/pat/README.md",
		"644 /usr/local/share/doc/pat/patd.conf.example",
		"644 /usr/local/lib/sysusers.d/patd.conf",
		"644 /usr/share/pam-configs/pat",
		"/security/pam_pat.so",
		"644 /usr/local/lib/libpat.so.1",
		"644 /usr/local/include/pat/pat.h",
		"644 /usr/local/lib/pkgconfig/pat.pc",
		"644 /usr/local/share/man/man3/pat_verify.3",
	};
	/* links: the linker's name for libpat, the man page's other names */
	static const char *links[] = {
		"/usr/local/lib/libpat.so -> libpat.so.1",
		"/usr/local/share/man/man3/pat_open.3 -> pat_verify.3",
		"/usr/local/share/man/man3/pat_open_trusted.3 -> pat_verify.3",
		"/usr/local/share/man/man3/pat_close.3 -> pat_verify.3",
		"/usr/local/share/man/man3/pat_strerror.3 -> pat_verify.3",
		"/usr/local/share/man/man3/pat_is_refusal.3 -> pat_verify.3",
		"/usr/local/share/man/man3/pat_retry_after.3 -> pat_verify.3",
	};
	char *out = NULL, *err = NULL;
	size_t i;
	int rc;

	rc = t_sh(&t, 0, NULL, &out, &err, "make -s -C \"$PAT_SRC\" install "
	    "DESTDIR=%s/root >/dev/null && cd %s/root && find . -type f "
	    "-printf '%%m %%p\\n' | sed 's| \\./| /|'", t.dir, t.dir);
	cr_assert_eq(rc, 0, "make install: %s", err);
	for (i = 0; i < sizeof(want) / sizeof(*want); i++)
		cr_assert(strstr(out, want[i]) != NULL, "missing %s in:\n%s",
		    want[i], out);
	cr_assert(strstr(out, "644 /usr/lib/x86_64-linux-gnu/security/pam_pat.so")
	    || strstr(out, "644 /lib/") || strstr(out, "644 /usr/lib/"),
	    "module mode: %s", out);
	free(out);
	free(err);
	rc = t_sh(&t, 0, NULL, &out, &err, "cd %s/root && find . -type l "
	    "-printf '%%p -> %%l\\n' | sed 's|^\\./|/|'", t.dir);
	cr_assert_eq(rc, 0, "find: %s", err);
	for (i = 0; i < sizeof(links) / sizeof(*links); i++)
		cr_assert(strstr(out, links[i]) != NULL, "missing %s in:\n%s",
		    links[i], out);
	free(out);
	free(err);
	/* pat.pc points where the library and header went */
	rc = t_sh(&t, 0, NULL, &out, &err, "PKG_CONFIG_SYSROOT_DIR= "
	    "PKG_CONFIG_PATH=%s/root/usr/local/lib/pkgconfig pkg-config "
	    "--cflags --libs pat", t.dir);
	cr_assert_eq(rc, 0, "pkg-config: %s", err);
	cr_assert(strstr(out, "-I/usr/local/include") &&
	    strstr(out, "-L/usr/local/lib") && strstr(out, "-lpat"), "%s", out);
	free(out);
	free(err);
	/* the sysusers.d entry makes the verify group (a root of its own) */
	if (t_sh(&t, 0, NULL, NULL, NULL, "command -v systemd-sysusers") == 0) {
		rc = t_sh(&t, 0, NULL, &out, &err, "mkdir %s/root/etc && "
		    "systemd-sysusers --root=%s/root && grep '^patd-verify:' "
		    "%s/root/etc/group && rm -r %s/root/etc", t.dir, t.dir,
		    t.dir, t.dir);
		cr_assert_eq(rc, 0, "systemd-sysusers: %s %s", out, err);
		free(out);
		free(err);
	}
	rc = t_sh(&t, 0, NULL, &out, &err, "make -s -C \"$PAT_SRC\" uninstall "
	    "DESTDIR=%s/root >/dev/null && find %s/root ! -type d", t.dir,
	    t.dir);
	cr_assert_eq(rc, 0, "make uninstall: %s", err);
	cr_assert_str_eq(out, "", "left behind:\n%s", out);
	free(out);
	free(err);
}
