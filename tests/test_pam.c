/*
 * pam_pat.so under real libpam (a private config dir through
 * pam_start_confdir, see tools/pamcall.c) against a real patd.
 *
 * The module's own result is read through the stack
 *   auth [success=done ignore=ignore default=die] pam_pat.so …
 *   auth required pam_exec.so /usr/bin/touch DIR/reached
 * so PAM_IGNORE is "the next module was reached" and any failure is the
 * module's own code.
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
#include <security/pam_appl.h>

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

TestSuite(pam, .init = setup, .fini = teardown, .timeout = 120);

/* Which module build and how to run pamcall with it. */
struct variant {
	const char	*module;	/* env var holding the path */
	const char	*prefix;	/* before pamcall: LD_PRELOAD for ASan */
};

static const struct variant plain = { "PAM_PAT", "" };
static const struct variant asan = { "PAM_PAT_ASAN",
	"ASAN_OPTIONS=exitcode=99:detect_leaks=1 "
	"LD_PRELOAD=\"$(gcc -print-file-name=libasan.so)\" " };

/*
 * Run pam_pat with `args` for user at service on input; returns the
 * module's result name ("PAM_SUCCESS", "PAM_IGNORE", "PAM_AUTH_ERR", …).
 * *out gets pamcall's whole output when out is not NULL.
 */
static char *
pam_try(const struct variant *v, const char *service, const char *user,
    const char *args, const char *input, char **out)
{
	char path[256], reached[256], *o = NULL, *res;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/pam.d", t.dir);
	mkdir(path, 0755);
	snprintf(reached, sizeof(reached), "%s/reached", t.dir);
	unlink(reached);
	snprintf(path, sizeof(path), "%s/pam.d/%s", t.dir, service);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "auth [success=done ignore=ignore default=die] %s %s\n"
	    "auth required pam_exec.so quiet /usr/bin/touch %s\n",
	    getenv(v->module) ? getenv(v->module) : "", args, reached);
	fclose(f);
	rc = t_sh(&t, 0, input, &o, NULL, "%s\"$PAMCALL\" --confdir %s/pam.d "
	    "--service %s --user %s", v->prefix, t.dir, service, user);
	cr_assert_neq(rc, 99, "AddressSanitizer reported an error");
	cr_assert(strstr(o, "result=") != NULL, "pamcall failed (%d)", rc);
	res = strdup(strstr(o, "result=") + 7);
	res[strcspn(res, " \n")] = '\0';
	if (strcmp(res, "PAM_SUCCESS") == 0 && access(reached, F_OK) == 0) {
		free(res);
		res = strdup("PAM_IGNORE");
	}
	if (out != NULL)
		*out = o;
	else
		t_free(o);
	return res;
}

static void
expect(const struct variant *v, const char *service, const char *user,
    const char *args, const char *input, const char *want, const char *why)
{
	char *got = pam_try(v, service, user, args, input, NULL);

	cr_assert_str_eq(got, want, "%s", why);
	free(got);
}

static char *
sockarg(const char *path)
{
	static char a[200];

	snprintf(a, sizeof(a), "socket=%s timeout=2000", path);
	return a;
}

static long
accepted(void)
{
	char *r = t_raw(&t, "STATUS\n", 1), *v = t_field(r, "OK", "accepted");
	long n = v ? atol(v) : -1;

	free(r);
	free(v);
	return n;
}

/* The spec's result list, row by row, for one build of the module. */
static void
result_matrix(const struct variant *v)
{
	char *tok, *bobtok, *revoked, *out = NULL, wrong[128], req[128], *r;
	const char *s = sockarg(t.sock);
	long before;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	t_grant(&t, "ssh", "--user bob");
	tok = t_token(&t, "alice", "ssh");
	bobtok = t_token(&t, "bob", "ssh");
	revoked = t_token(&t, "alice", "ssh");
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "revoke 3"), 0);

	/* valid: success, PAT_ID and PAT_ROLE in the PAM environment */
	free(r = pam_try(v, "sshd", "alice", s, tok, &out));
	cr_assert(strstr(out, "result=PAM_SUCCESS") && strstr(out, "PAT_ID=1 ")
	    && strstr(out, "PAT_ROLE=ssh"), "valid token: %s", out);
	cr_assert(strstr(out, "prompts=1"), "one ordinary prompt");
	t_free(out);

	snprintf(wrong, sizeof(wrong), "1%s", strchr(bobtok, '|'));
	expect(v, "sshd", "alice", s, wrong, "PAM_AUTH_ERR", "wrong secret");
	expect(v, "sshd", "alice", s, revoked, "PAM_AUTH_ERR", "revoked");
	expect(v, "sshd", "alice", s, bobtok, "PAM_AUTH_ERR",
	    "another user's token");
	expect(v, "sudo", "alice", s, tok, "PAM_AUTH_ERR",
	    "a pam.sshd token at sudo");
	expect(v, "sudo", "alice", "perm=pam.sshd", tok, "PAM_AUTHINFO_UNAVAIL",
	    "default socket is absent here");
	{
		char a[256];

		snprintf(a, sizeof(a), "%s perm=pam.sshd", s);
		expect(v, "sudo", "alice", a, tok, "PAM_SUCCESS",
		    "perm= overrides pam.<service>");
	}
	/* bad checksum: refused without asking patd */
	before = accepted();
	snprintf(wrong, sizeof(wrong), "%s", tok);
	wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'a' ? 'b' : 'a';
	expect(v, "sshd", "alice", s, wrong, "PAM_AUTH_ERR", "bad checksum");
	/* not token-shaped: ignored, and patd never hears of it */
	expect(v, "sshd", "alice", s, ALICE_PASSWORD, "PAM_IGNORE", "password");
	expect(v, "sshd", "alice", s, "", "PAM_IGNORE", "empty input");
	cr_assert_eq(accepted(), before + 1,
	    "patd was contacted for input it must never see");
	r = t_slurp(t.log);
	cr_assert_null(strstr(r, ALICE_PASSWORD), "the password reached patd");
	cr_assert_null(strstr(r, strchr(tok, '|') + 5), "a secret in the log");
	free(r);

	/* patd absent, and absent with ignore_unavail */
	snprintf(req, sizeof(req), "%s/absent.sock", t.dir);
	expect(v, "sshd", "alice", sockarg(req), tok, "PAM_AUTHINFO_UNAVAIL",
	    "patd absent");
	{
		char a[256];

		snprintf(a, sizeof(a), "%s ignore_unavail", sockarg(req));
		expect(v, "sshd", "alice", a, tok, "PAM_IGNORE",
		    "absent with ignore_unavail");
	}
	/* unknown option: fails closed, even for a valid token */
	{
		char a[256];

		snprintf(a, sizeof(a), "%s frobnicate", s);
		expect(v, "sshd", "alice", a, tok, "PAM_SERVICE_ERR",
		    "unknown option");
		snprintf(a, sizeof(a), "%s timeout=0", s);
		expect(v, "sshd", "alice", a, tok, "PAM_SERVICE_ERR",
		    "bad timeout");
	}
	t_free(tok);
	t_free(bobtok);
	t_free(revoked);
}

Test(pam, every_result_row_of_the_spec)
{
	result_matrix(&plain);
}

Test(pam, every_result_row_with_an_asan_build_of_the_module)
{
	result_matrix(&asan);
}

Test(pam, an_expired_token_is_refused_and_expiry_is_announced)
{
	char req[128], *r, *tok, *out = NULL;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	snprintf(req, sizeof(req), "CREATE role=ssh user=alice expires=%lld\n",
	    (long long)time(NULL) + 3);
	r = t_raw(&t, req, 1);
	tok = t_field(r, "OK", "token");
	t_free(r);
	free(r = pam_try(&plain, "sshd", "alice", sockarg(t.sock), tok, &out));
	cr_assert(strstr(out, "result=PAM_SUCCESS"), "%s", out);
	cr_assert(strstr(out, "expires in less than a day"),
	    "no expiry notice: %s", out);
	t_free(out);
	free(r = pam_try(&plain, "sshd", "alice", "quiet", tok, &out));
	t_free(out);
	sleep(4);
	expect(&plain, "sshd", "alice", sockarg(t.sock), tok, "PAM_AUTH_ERR",
	    "expired");
	t_free(tok);
}

/* A fake patd: listens, and either never accepts or answers garbage. */
static pid_t
fake_patd(const char *path, bool garbage)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), c;
	char buf[512];
	pid_t pid;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(fd, 8), 0);
	if ((pid = t_fork()) == 0) {
		for (;;) {
			if (!garbage) {
				pause();
				continue;
			}
			if ((c = accept(fd, NULL, NULL)) < 0)
				_exit(0);
			if (read(c, buf, sizeof(buf)) < 0)
				_exit(0);
			if (write(c, "HELLO \x01\x02 nonsense\n", 19) < 0)
				_exit(0);
			close(c);
		}
	}
	close(fd);
	return pid;
}

Test(pam, a_patd_that_never_answers_costs_only_the_timeout)
{
	char path[128], a[256], *tok;
	struct timespec t0, t1;
	double secs;
	pid_t fake;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	snprintf(path, sizeof(path), "%s/hang.sock", t.dir);
	fake = fake_patd(path, false);
	snprintf(a, sizeof(a), "socket=%s timeout=700", path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect(&plain, "sshd", "alice", a, tok, "PAM_AUTHINFO_UNAVAIL",
	    "silent patd");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* a bound, not a benchmark: the wait ended because of the timeout */
	cr_assert(secs >= 0.6 && secs < 5.0, "took %.2f s with timeout=700", secs);
	kill(fake, SIGKILL);
	waitpid(fake, NULL, 0);
	t_free(tok);
}

Test(pam, a_garbled_answer_is_unavailable_not_success)
{
	char path[128], a[256], *tok;
	pid_t fake;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	snprintf(path, sizeof(path), "%s/garbage.sock", t.dir);
	fake = fake_patd(path, true);
	snprintf(a, sizeof(a), "socket=%s", path);
	expect(&plain, "sshd", "alice", a, tok, "PAM_AUTHINFO_UNAVAIL",
	    "garbage");
	expect(&asan, "sshd", "alice", a, tok, "PAM_AUTHINFO_UNAVAIL",
	    "garbage (asan)");
	kill(fake, SIGKILL);
	waitpid(fake, NULL, 0);
	t_free(tok);
}

Test(pam, a_patd_not_run_by_root_is_not_trusted)
{
	char *tok, dir[128], a[256];
	pid_t alices;
	int i;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	/* alice runs her own patd; the host (root) must not believe it */
	snprintf(dir, sizeof(dir), "%s/alice", t.dir);
	mkdir(dir, 0755);
	cr_assert_eq(chown(dir, ALICE, ALICE), 0);
	alices = t_bg(&t, ALICE, "exec \"$PATD\" --socket %s/s --state %s/st "
	    "2>/dev/null", dir, dir);
	snprintf(a, sizeof(a), "%s/s", dir);
	for (i = 0; i < 100 && access(a, F_OK) != 0; i++)
		usleep(20000);
	cr_assert_eq(access(a, F_OK), 0, "alice's patd did not start");
	snprintf(a, sizeof(a), "socket=%s/s", dir);
	expect(&plain, "sshd", "alice", a, tok, "PAM_AUTHINFO_UNAVAIL",
	    "a user's patd was trusted");
	t_bg_stop(alices, SIGTERM);
	t_free(tok);
}

/* The stack docs/pam.md recommends, beside pam_unix; module NULL: the
 * module under test. */
static void
write_combined_stack(const char *service, const char *sock,
    const char *module)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pam.d", t.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/pam.d/%s", t.dir, service);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	    "auth [success=done ignore=ignore authinfo_unavail=ignore "
	    "module_unknown=ignore default=die] %s socket=%s\n"
	    "auth [success=1 default=ignore] pam_unix.so nullok try_first_pass\n"
	    "auth requisite pam_deny.so\n"
	    "auth required pam_permit.so\n",
	    module != NULL ? module : getenv("PAM_PAT"), sock);
	fclose(f);
}

/* pam_unix reads /etc/shadow itself: give it the test users in a private
 * mount namespace, where the host's files are never touched. */
static int
combined(const char *service, const char *input, char **out)
{
	return t_sh(&t, 0, input, out, NULL, "unshare --mount --propagation "
	    "private sh -c 'mount --bind %s /etc/passwd && mount --bind "
	    "%s/shadow /etc/shadow && exec \"$PAMCALL\" --confdir %s/pam.d "
	    "--service %s --user alice'", t.passwd, t.dir, t.dir, service);
}

Test(pam, beside_pam_unix_the_password_still_works)
{
	char *tok, *out = NULL, absent[128];

	t_need_root();
	if (t_sh(&t, 0, NULL, NULL, NULL, "unshare --mount true") != 0)
		cr_skip_test("SKIPPED: no mount namespaces here (unshare)");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	write_combined_stack("sshd", t.sock, NULL);
	cr_assert_eq(combined("sshd", ALICE_PASSWORD, &out), 0);
	cr_assert(strstr(out, "result=PAM_SUCCESS prompts=1\n"),
	    "the password, asked once, through pam_unix: %s", out);
	t_free(out);
	cr_assert_eq(combined("sshd", tok, &out), 0);
	cr_assert(strstr(out, "PAT_ID=1"), "the token: %s", out);
	t_free(out);
	/* pamcall exits with the PAM code: exactly a refusal, never a shell's
	 * 126 or a module that did not load */
	cr_assert_eq(combined("sshd", "wrong password", NULL), PAM_AUTH_ERR);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "revoke 1"), 0);
	cr_assert_eq(combined("sshd", tok, NULL), PAM_AUTH_ERR, "revoked token");
	/* patd down: passwords still work, tokens do not */
	snprintf(absent, sizeof(absent), "%s/absent.sock", t.dir);
	write_combined_stack("sshd", absent, NULL);
	cr_assert_eq(combined("sshd", ALICE_PASSWORD, NULL), 0);
	cr_assert_eq(combined("sshd", tok, NULL), PAM_AUTH_ERR);
	/* the module itself gone (libpam-pat removed while the file still
	 * names it): module_unknown=ignore lets pam_unix decide, where
	 * default=die alone would refuse every login, passwords included */
	snprintf(absent, sizeof(absent), "%s/absent/pam_pat.so", t.dir);
	write_combined_stack("sshd", t.sock, absent);
	cr_assert_eq(combined("sshd", ALICE_PASSWORD, NULL), 0,
	    "a password with pam_pat.so missing");
	cr_assert_eq(combined("sshd", "wrong password", NULL), PAM_AUTH_ERR);
	t_free(tok);
}

/* pam.d/sshd holding pam_pat alone. */
static void
write_plain_stack(void)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pam.d", t.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/pam.d/sshd", t.dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "auth required %s socket=%s\n", getenv("PAM_PAT"), t.sock);
	fclose(f);
}

Test(pam, five_hundred_authentications_leak_no_fd)
{
	char *tok, *out = NULL;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	write_plain_stack();
	cr_assert_eq(t_sh(&t, 0, tok, &out, NULL, "\"$PAMCALL\" --confdir "
	    "%s/pam.d --service sshd --user alice --repeat 500", t.dir), 0);
	{
		int n = 0, before = -1, after = -2;
		const char *p = out, *fds;

		while ((p = strstr(p, "result=PAM_SUCCESS")) != NULL) {
			n++;
			p++;
		}
		fds = strstr(out, "fds_before=");
		cr_assert_not_null(fds);
		sscanf(fds, "fds_before=%d fds_after=%d", &before, &after);
		cr_assert_eq(n, 500, "only %d of 500 succeeded", n);
		cr_assert_eq(before, after, "fds: %d before, %d after", before,
		    after);
		t_figure("pam: 500 authentications in one process, fds %d "
		    "before and %d after", before, after);
	}
	t_free(out);
	t_free(tok);
}

Test(pam, valgrind_finds_no_leak_or_error_in_the_module)
{
	char *tok, *err = NULL;
	int rc;

	if (t_sh(&t, 0, NULL, NULL, NULL, "command -v valgrind") != 0)
		cr_skip_test("SKIPPED: valgrind is not installed");
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	write_plain_stack();
	rc = t_sh(&t, 0, tok, NULL, &err, "valgrind -q --leak-check=full "
	    "--errors-for-leak-kinds=definite,indirect --error-exitcode=42 "
	    "\"$PAMCALL\" --confdir %s/pam.d --service sshd --user alice "
	    "--repeat 50", t.dir);
	cr_assert_eq(rc, 0, "valgrind (exit %d):\n%s", rc, err);
	t_free(err);
	t_free(tok);
}

Test(pam, the_module_exports_only_pam_sm_functions)
{
	char *out = NULL, *line, *save = NULL;
	int n = 0;

	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "nm -D --defined-only "
	    "\"$PAM_PAT\" | awk '{print $3}'"), 0);
	for (line = strtok_r(out, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		cr_assert_eq(strncmp(line, "pam_sm_", 7), 0,
		    "exported: %s", line);
		n++;
	}
	cr_assert_eq(n, 3, "pam_sm_authenticate, _setcred, _acct_mgmt");
	free(out);
}
