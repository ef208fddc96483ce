/*
 * Secret hygiene: drive every path that carries a secret — tokens created
 * by root and from a session, a login's password, the session JWT, PAM
 * authentications (valid, typo, password, revoked) with pam_pat's debug
 * logging on — capturing patd's log, pam_pat's syslog (a private /dev/log
 * in a mount namespace) and every patctl output; then prove no secret
 * appears anywhere except the one response that handed it out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static struct tpatd t;
static char captured[1 << 20];	/* everything anyone printed or logged */

static void
keep(const char *what, const char *text)
{
	size_t n = strlen(captured);

	snprintf(captured + n, sizeof(captured) - n, "\n== %s\n%s", what,
	    text ? text : "");
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(hygiene, .fini = teardown, .timeout = 120);

/* patctl as alice (her runtime dir holds the session) */
static int
alice(const char *in, const char *args)
{
	char *out = NULL, *err = NULL;
	int rc = t_sh(&t, ALICE, in, &out, &err, "XDG_RUNTIME_DIR=%s/xdg "
	    "\"$PATCTL\" %s", t.dir, args);

	keep(args, out);
	keep(args, err);
	free(out);
	free(err);
	return rc;
}

/* pam_pat (debug on) in a mount namespace whose /dev/log we read */
static void
pam_with_syslog(const char *input)
{
	char *out = NULL, *err = NULL;

	t_sh(&t, 0, input, &out, &err, "unshare --mount --propagation private "
	    "sh -c 'D=%s; mkdir -p $D/hostdev && mount --bind /dev $D/hostdev "
	    "&& mount -t tmpfs tmpfs /dev && for n in null zero urandom random; "
	    "do touch /dev/$n && mount --bind $D/hostdev/$n /dev/$n; done && "
	    "(socat -u UNIX-RECV:/dev/log OPEN:$D/syslog,creat,append & "
	    "echo $! >$D/socat.pid) && while [ ! -S /dev/log ]; do sleep 0.02; "
	    "done; \"$PAMCALL\" --confdir $D/pam.d --service sshd --user alice "
	    "--rhost 192.0.2.7; sleep 0.2; kill $(cat $D/socat.pid)'", t.dir);
	keep("pamcall", out);
	keep("pamcall stderr", err);
	free(out);
	free(err);
}

static void
assert_absent(const char *secret, const char *what)
{
	cr_assert(strlen(secret) >= 8, "%s too short to search", what);
	cr_assert_null(strstr(captured, secret), "%s found in the captured "
	    "output (%zu bytes searched)", what, strlen(captured));
}

Test(hygiene, no_secret_appears_except_where_it_is_handed_out)
{
	char path[300], text[600], *root_tok = NULL, *sess_tok = NULL;
	char *jwt, typo[128], *log, conf[300];
	int rc;

	if (system("command -v socat >/dev/null") != 0)
		cr_skip_test("SKIPPED: socat is missing");
	t_start_ns(&t, NULL);	/* skips unless root with namespaces */
	/* patd-login: the Unix password alone, through pam_unix */
	snprintf(path, sizeof(path), "%s/pam.d", t.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/pam.d/patd-login", t.dir);
	t_write(path, "auth required pam_unix.so\naccount required "
	    "pam_unix.so\n", 0644);
	snprintf(path, sizeof(path), "%s/pam.d/sshd", t.dir);
	snprintf(text, sizeof(text), "auth [success=done ignore=ignore "
	    "default=die] %s socket=%s debug\nauth required pam_deny.so\n",
	    getenv("PAM_PAT"), t.sock);
	t_write(path, text, 0644);
	snprintf(conf, sizeof(conf), "login_pam_dir = %s/pam.d\n", t.dir);
	snprintf(path, sizeof(path), "%s/xdg", t.dir);
	mkdir(path, 0700);
	cr_assert_eq(chown(path, ALICE, ALICE), 0);
	t_reconfigure(&t, conf);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");

	/* 1. root creates a token: its stdout is the one place it may be */
	rc = t_ctl(&t, 0, NULL, &root_tok, NULL, "create --user alice --role "
	    "ssh");
	cr_assert_eq(rc, 0);
	root_tok[strcspn(root_tok, "\n")] = '\0';
	/* 2. uses of it, good and bad, through patctl and PAM */
	alice(root_tok, "verify --perm pam.sshd");
	alice(root_tok, "verify --perm pam.sudo");
	alice(root_tok, "--json verify");
	alice(NULL, "list");
	alice(NULL, "show 1");
	pam_with_syslog(root_tok);
	snprintf(typo, sizeof(typo), "%s", root_tok);
	typo[strlen(typo) - 2] = typo[strlen(typo) - 2] == 'x' ? 'y' : 'x';
	pam_with_syslog(typo);
	pam_with_syslog(ALICE_PASSWORD);
	/* 3. a login (the password), the session, a token from it */
	alice("wrong password\n", "login");
	cr_assert_eq(alice(ALICE_PASSWORD "\n", "login"), 0, "login failed");
	snprintf(path, sizeof(path), "%s/xdg/patctl-session", t.dir);
	jwt = t_slurp(path);
	jwt[strcspn(jwt, "\n")] = '\0';
	rc = t_sh(&t, ALICE, NULL, &sess_tok, NULL, "XDG_RUNTIME_DIR=%s/xdg "
	    "\"$PATCTL\" create --role ssh --name from-session", t.dir);
	cr_assert_eq(rc, 0);
	sess_tok[strcspn(sess_tok, "\n")] = '\0';
	alice(NULL, "role list");
	alice(NULL, "--json list");
	/* 4. revocation, and the revoked token at PAM and patctl */
	alice(NULL, "revoke 1");
	pam_with_syslog(root_tok);
	alice(root_tok, "verify");
	alice(NULL, "logout");
	alice(NULL, "create --role ssh");	/* no session any more */

	log = t_slurp(t.log);
	keep("patd log", log);
	free(log);
	snprintf(path, sizeof(path), "%s/syslog", t.dir);
	log = t_slurp(path);
	cr_assert(strstr(log, "pam_pat") || strstr(log, "pattest") ||
	    strstr(log, "sshd"), "no PAM syslog was captured: %s", log);
	cr_assert(strstr(log, "accepted token 1 for alice"), "%s", log);
	keep("pam syslog", log);
	free(log);

	assert_absent(strchr(root_tok, '|') + 5, "root's token secret");
	assert_absent(strchr(sess_tok, '|') + 5, "the session-made token");
	assert_absent(strchr(typo, '|') + 5, "the mistyped token");
	assert_absent(ALICE_PASSWORD, "alice's password");
	assert_absent(jwt, "the session JWT");
	assert_absent(strrchr(jwt, '.') + 1, "the session's signature");
	t_figure("hygiene: %zu bytes of logs, syslog and patctl output "
	    "searched for 2 tokens, a typo, a password and a JWT: none found",
	    strlen(captured));
	t_free(jwt);
	t_free(root_tok);
	t_free(sess_tok);
}
