/*
 * Login sessions against a real patd whose patd-login PAM stack is a real
 * password check (pam_unix, on test users bind-mounted in a private mount
 * namespace) plus real TOTP (pam_oath, codes from oathtool --totp); and
 * the session JWTs patd accepts and refuses when creating tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "harness.h"
#include "jwt.h"
#include "jwt_forge.h"

#define OATH_HEX	"3132333435363738393031323334353637383930"
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static struct tpatd t;

/* patd with a patd-login stack of password + TOTP, sessions of `life` s. */
static void
start(int life)
{
	char path[256], conf[600];

	t_need_root();
	if (access("/lib/x86_64-linux-gnu/security/pam_oath.so", F_OK) != 0 &&
	    access("/usr/lib/x86_64-linux-gnu/security/pam_oath.so", F_OK) != 0)
		cr_skip_test("SKIPPED: pam_oath is not installed");
	t_start_ns(&t, NULL);
	snprintf(path, sizeof(path), "%s/pam.d", t.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/pam.d/patd-login", t.dir);
	snprintf(conf, sizeof(conf),
	    "auth requisite pam_unix.so\n"
	    "auth required pam_oath.so usersfile=%s/oath/users window=3\n"
	    "account required pam_unix.so\n", t.dir);
	t_write(path, conf, 0644);
	snprintf(path, sizeof(path), "%s/oath", t.dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/oath/users", t.dir);
	t_write(path, "HOTP/T30/6 alice - " OATH_HEX "\n", 0600);
	snprintf(conf, sizeof(conf), "login_pam_dir = %s/pam.d\n"
	    "session_lifetime = %d\n", t.dir, life);
	/* alice's runtime dir, for patctl's session file */
	snprintf(path, sizeof(path), "%s/xdg", t.dir);
	mkdir(path, 0700);
	cr_assert_eq(chown(path, ALICE, ALICE), 0);
	t_reconfigure(&t, conf);
	t_role(&t, "ssh", "pam.sshd");
	t_role(&t, "ops", "pam.sshd pam.sudo");
	t_grant(&t, "ssh", "--user alice");
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(login, .fini = teardown, .timeout = 120);

static char *
totp(void)
{
	char *out = NULL;

	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "oathtool --totp %s",
	    OATH_HEX), 0);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* patctl as alice, with her runtime dir. */
static int
alice(const char *in, char **out, char **err, const char *args)
{
	return t_sh(&t, ALICE, in, out, err, "XDG_RUNTIME_DIR=%s/xdg "
	    "\"$PATCTL\" %s", t.dir, args);
}

static int
login(const char *password, const char *code, char **err)
{
	char in[256];

	snprintf(in, sizeof(in), "%s\n%s\n", password, code);
	return alice(in, NULL, err, "login");
}

Test(login, password_then_totp_gives_a_session_that_creates_tokens)
{
	char *code, *err = NULL, *tok = NULL, path[256];
	struct stat st;

	start(3600);
	code = totp();
	cr_assert_eq(login(ALICE_PASSWORD, code, &err), 0, "login: %s", err);
	cr_assert(strstr(err, "logged in"), "%s", err);
	free(err);
	snprintf(path, sizeof(path), "%s/xdg/patctl-session", t.dir);
	cr_assert_eq(stat(path, &st), 0, "no session file");
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_uid, ALICE);
	/* the session creates a token, capped by alice's permissions */
	cr_assert_eq(alice(NULL, &tok, &err, "create --role ops"), 0, "%s", err);
	cr_assert(strstr(err, "alice does not hold pam.sudo"),
	    "stripping reported: %s", err);
	free(err);
	tok[strcspn(tok, "\n")] = '\0';
	cr_assert_eq(t_ctl(&t, 0, tok, NULL, NULL, "verify --user alice --perm "
	    "pam.sshd"), 0);
	cr_assert_eq(t_ctl(&t, 0, tok, NULL, NULL, "verify --perm pam.sudo"), 1);
	{
		char *out = NULL;

		cr_assert_eq(alice(NULL, &out, NULL, "--json list"), 0);
		cr_assert(strstr(out, "\"by\":\"session:"), "%s", out);
		free(out);
	}
	/* the log names the login, never the password, code or session */
	{
		char *log = t_slurp(t.log), *s = t_slurp(path);

		s[strcspn(s, "\n")] = '\0';
		cr_assert(strstr(log, "event=login result=ok user=alice"));
		cr_assert_null(strstr(log, ALICE_PASSWORD));
		cr_assert_null(strstr(log, s), "the session JWT is in the log");
		t_free(s);
		free(log);
	}
	t_free(tok);
	free(code);
}

Test(login, wrong_password_wrong_code_and_a_replayed_code_fail)
{
	char *code, *err = NULL;

	start(3600);
	code = totp();
	cr_assert_eq(login("not her password", code, &err), 1, "%s", err);
	cr_assert(strstr(err, "login-failed"), "%s", err);
	free(err);
	usleep(200000);	/* the login child logs as it ends */
	{
		char *log = t_slurp(t.log);

		cr_assert(strstr(log, "event=login result=refused user=alice") &&
		    strstr(log, "reason=auth-error\n"), "one-word reason: %s", log);
		free(log);
	}
	cr_assert_eq(login(ALICE_PASSWORD, "000000", &err), 1, "wrong code");
	free(err);
	cr_assert_eq(login(ALICE_PASSWORD, code, &err), 0, "right: %s", err);
	free(err);
	cr_assert_eq(login(ALICE_PASSWORD, code, &err), 1,
	    "a replayed one-time code: login did not exit 1 (refused)");
	free(err);
	/* without a session (logged out) creating needs a token again */
	cr_assert_eq(alice(NULL, NULL, NULL, "logout"), 0);
	cr_assert_eq(alice(NULL, NULL, &err, "create --role ssh"), 1);
	cr_assert(strstr(err, "auth-required") && strstr(err, "patctl login"),
	    "%s", err);
	free(err);
	free(code);
}

/* A login that waits at its first prompt, as alice; the first line patd
 * sends back goes to *first. */
static pid_t
hold_login(int *rfd)
{
	int p[2];
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	if ((pid = t_fork()) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		char buf[512] = "";
		ssize_t k;
		int fd;

		close(p[0]);
		if (setgid(ALICE) < 0 || setuid(ALICE) < 0)
			_exit(1);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t.sock);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
		    send(fd, "LOGIN\n", 6, MSG_NOSIGNAL) != 6)
			_exit(1);
		k = recv(fd, buf, sizeof(buf) - 1, 0);
		if (write(p[1], buf, k > 0 ? (size_t)k : 0) < 0)
			_exit(1);
		close(p[1]);
		pause();	/* hold the login open until killed */
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

Test(login, one_user_cannot_hold_every_login_slot)
{
	char buf[3][512];
	pid_t kids[3];
	int fds[3], i;
	ssize_t k;

	start(3600);
	for (i = 0; i < 3; i++) {
		kids[i] = hold_login(&fds[i]);
		k = read(fds[i], buf[i], sizeof(buf[i]) - 1);
		buf[i][k > 0 ? k : 0] = '\0';
		close(fds[i]);
	}
	/* let go first: a failed assertion must not leave logins held */
	for (i = 0; i < 3; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	cr_assert_eq(strncmp(buf[0], "PROMPT", 6), 0, "first: %s", buf[0]);
	cr_assert_eq(strncmp(buf[1], "PROMPT", 6), 0, "second: %s", buf[1]);
	cr_assert_eq(strncmp(buf[2], "ERR code=busy", 13), 0,
	    "a third login at once for alice: %s", buf[2]);
}

Test(login, failed_logins_are_rate_limited)
{
	char *err = NULL;
	int i;

	start(3600);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(login("wrong", "000000", NULL), 1);
		usleep(100000);	/* let patd reap the child */
	}
	cr_assert_eq(login(ALICE_PASSWORD, "000000", &err), 1);
	cr_assert(strstr(err, "rate-limited"), "%s", err);
	free(err);
}

/* Sessions crafted with (or without) patd's own key, handed to patctl as
 * alice's session file: only the honest, current, unrevoked one works. */
static void
load_keys(struct jwt_keys *k)
{
	char path[256];
	uint8_t seed[32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/session.key", t.state);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fread(seed, 1, 32, f), 32);
	fclose(f);
	jwt_keys_from_seed(k, seed);
}

static int
create_with(const char *jwt, char **err)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/xdg/patctl-session", t.dir);
	t_write(path, jwt, 0600);
	cr_assert_eq(chown(path, ALICE, ALICE), 0);
	return alice(NULL, NULL, err, "create --role ssh");
}

static void
refused(const char *jwt, const char *why)
{
	char *err = NULL;

	int rc = create_with(jwt, &err);

	cr_assert_eq(rc, 1, "%s: create exited %d, want 1 (refused)", why, rc);
	cr_assert(strstr(err, "session"), "%s: %s", why, err);
	free(err);
}

Test(login, only_an_honest_current_session_of_ones_own_creates)
{
	struct jwt_keys k;
	struct jwt_claims c;
	char jwt[JWT_MAX + 1], f[2048], hdr[128], claims[300], *err = NULL;
	int64_t now = time(NULL);
	char *d2;

	start(3600);
	cr_assert_eq(sodium_init() >= 0, 1);
	load_keys(&k);
	snprintf(claims, sizeof(claims), "{\"sub\":\"alice\",\"uid\":%d,"
	    "\"iat\":%lld,\"exp\":%lld,\"jti\":\"AAAAAAAAAAAAAAAAAAAAAA\","
	    "\"amr\":[\"pam\"]}", ALICE, (long long)now, (long long)now + 600);
	/* alg none */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":"
	    "\"%s\"}", k.kid);
	forge_jwt(f, sizeof(f), hdr, claims, NULL, 0);
	refused(f, "alg none");
	/* HS256 keyed with the public key */
	forge_hs256_with_public_key(f, sizeof(f), &k, claims);
	refused(f, "HS256 with the public key");
	/* a real one, then its signature with one bit flipped */
	cr_assert_eq(jwt_mint(&k, "alice", ALICE, now, 600, jwt, &c), 0);
	snprintf(f, sizeof(f), "%s", jwt);
	d2 = strrchr(f, '.');
	d2[5] = d2[5] == 'A' ? 'B' : 'A';
	refused(f, "a flipped signature bit");
	/* a changed claim under the real signature */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":"
	    "\"%s\"}", k.kid);
	{
		uint8_t sig[64];
		size_t len;

		d2 = strrchr(jwt, '.');
		sodium_base642bin(sig, sizeof(sig), d2 + 1, strlen(d2 + 1),
		    NULL, &len, NULL, B64);
		snprintf(claims, sizeof(claims), "{\"sub\":\"alice\",\"uid\":%d,"
		    "\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\",\"amr\":[\"pam\"]}",
		    ALICE, (long long)now, (long long)now + 999999, c.jti);
		forge_jwt(f, sizeof(f), hdr, claims, sig, sizeof(sig));
		refused(f, "a changed claim");
	}
	/* expired (signed by patd's key, an hour in the past) */
	cr_assert_eq(jwt_mint(&k, "alice", ALICE, now - 7200, 3600, f, &c), 0);
	refused(f, "an expired session");
	/* another user's session, presented by alice */
	cr_assert_eq(jwt_mint(&k, "bob", BOB, now, 600, f, &c), 0);
	refused(f, "bob's session");
	/* another installation's key */
	{
		struct jwt_keys other;
		uint8_t seed[32];

		randombytes_buf(seed, sizeof(seed));
		jwt_keys_from_seed(&other, seed);
		cr_assert_eq(jwt_mint(&other, "alice", ALICE, now, 600, f, &c),
		    0);
		refused(f, "another installation's session");
	}
	/* the honest one works … */
	cr_assert_eq(create_with(jwt, &err), 0, "valid session: %s", err);
	free(err);
	/* … until alice logs out */
	cr_assert_eq(alice(NULL, NULL, NULL, "logout"), 0);
	refused(jwt, "a logged-out session");
	jwt_keys_wipe(&k);
}

Test(login, malformed_sessions_never_hurt_patd)
{
	char f[700], *r;
	int i, j;

	start(3600);
	srand(99);
	for (i = 0; i < 60; i++) {
		int len = 1 + rand() % 600;

		for (j = 0; j < len; j++)
			f[j] = "AZaz09-_.=+/!"[rand() % 13];
		f[len] = '\0';
		refused(f, "random bytes");
	}
	r = t_raw(&t, "STATUS\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "patd is gone: %s", r);
	free(r);
}

Test(login, sessions_expire)
{
	char *code, *err = NULL;

	start(2);
	code = totp();
	cr_assert_eq(login(ALICE_PASSWORD, code, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(alice(NULL, NULL, &err, "create --role ssh"), 0, "%s", err);
	free(err);
	sleep(3);
	cr_assert_eq(alice(NULL, NULL, &err, "create --role ssh"), 1);
	cr_assert(strstr(err, "session expired") && strstr(err, "patctl login"),
	    "%s", err);
	free(err);
	free(code);
}

Test(login, a_session_holding_pat_admin_acts_as_admin)
{
	char *code, *err = NULL;

	start(3600);
	t_role(&t, "admin", "pat.admin");
	cr_assert_eq(alice(NULL, NULL, NULL, "role set web svc.web:read"), 1,
	    "without a session alice is no admin");
	t_grant(&t, "admin", "--user alice");
	code = totp();
	cr_assert_eq(login(ALICE_PASSWORD, code, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(alice(NULL, NULL, &err, "role set web svc.web:read"), 0,
	    "%s", err);
	free(err);
	cr_assert_eq(alice(NULL, NULL, NULL, "list --all"), 0);
	free(code);
}

/* Issue 17: alice's own valid session, from a real login, creates her
 * tokens but never one for bob, raw or through patctl. */
Test(login, a_session_never_creates_a_token_for_another_user)
{
	char *code, *err = NULL, *jwt, *r, *c, path[256], req[2048];

	start(3600);
	t_grant(&t, "ssh", "--user bob");	/* bob could hold one */
	code = totp();
	cr_assert_eq(login(ALICE_PASSWORD, code, &err), 0, "login: %s", err);
	free(err);
	snprintf(path, sizeof(path), "%s/xdg/patctl-session", t.dir);
	jwt = t_slurp(path);
	jwt[strcspn(jwt, "\n")] = '\0';
	cr_assert_neq(jwt[0], '\0', "no session file");
	/* control: the session is good for alice herself */
	snprintf(req, sizeof(req), "CREATE role=ssh session=%s\n", jwt);
	r = t_ask_as(&t, ALICE, req);
	cr_assert_eq(strncmp(r, "OK ", 3), 0, "alice's own token (code %s)",
	    (c = t_field(r, "ERR", "code")) ? c : "none");
	t_free(r);
	snprintf(req, sizeof(req), "CREATE role=ssh user=bob session=%s\n",
	    jwt);
	r = t_ask_as(&t, ALICE, req);
	c = t_field(r, "ERR", "code");
	t_free(r);
	cr_assert_str_eq(c ? c : "OK or nothing", "denied",
	    "alice's session created a token for bob");
	free(c);
	cr_assert_eq(alice(NULL, NULL, &err, "create --user bob --role ssh"),
	    1, "patctl create --user bob as alice with her session");
	cr_assert(strstr(err, "denied"), "%s", err);
	free(err);
	/* and bob has no token */
	cr_assert_eq(t_ctl(&t, 0, NULL, &r, NULL, "--json list --user bob"), 0);
	cr_assert_null(strstr(r, "\"user\":\"bob\""), "bob holds a token");
	free(r);
	t_free(jwt);
	free(code);
}

/* Put jwt in alice's session file, as patctl login would have. */
static void
set_session(const char *jwt)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/xdg/patctl-session", t.dir);
	t_write(path, jwt, 0600);
	cr_assert_eq(chown(path, ALICE, ALICE), 0);
}

/* A refusal that needed the session: says why and names both ways out. */
static void
needs_session(const char *args, const char *why, const char *what)
{
	char *err = NULL;

	cr_assert_eq(alice(NULL, NULL, &err, args), 1, "%s with %s", args,
	    what);
	cr_assert(strstr(err, why) && strstr(err, "patctl login") &&
	    strstr(err, "patctl logout"), "%s with %s: %s", args, what, err);
	free(err);
}

Test(login, a_session_that_cannot_be_used_stops_only_what_needs_one)
{
	struct jwt_keys k, other;
	struct jwt_claims c;
	char expired[JWT_MAX + 1], foreign[JWT_MAX + 1], bobs[JWT_MAX + 1];
	char *out = NULL, *err = NULL, *log, *tok[3];
	const char *jwt[3], *what[3] = { "an expired session",
		"another patd's session", "bob's session" };
	const char *why[3] = { "expired", "not a valid session", "another user" };
	uint8_t seed[32];
	int64_t now = time(NULL);
	int i;

	start(3600);
	cr_assert_eq(sodium_init() >= 0, 1);
	load_keys(&k);
	randombytes_buf(seed, sizeof(seed));
	jwt_keys_from_seed(&other, seed);
	cr_assert_eq(jwt_mint(&k, "alice", ALICE, now - 7200, 3600, expired,
	    &c), 0);
	cr_assert_eq(jwt_mint(&other, "alice", ALICE, now, 600, foreign, &c), 0);
	cr_assert_eq(jwt_mint(&k, "bob", BOB, now, 600, bobs, &c), 0);
	jwt[0] = expired;
	jwt[1] = foreign;
	jwt[2] = bobs;
	for (i = 0; i < 3; i++)		/* alice's tokens 1-3 */
		tok[i] = t_token(&t, "alice", "ssh");
	t_grant(&t, "ssh", "--user bob");
	t_free(t_token(&t, "bob", "ssh"));	/* bob's token 4 */
	for (i = 0; i < 3; i++) {
		char show[16], revoke[16];

		set_session(jwt[i]);
		/* her own tokens, by her uid: the session is not needed */
		cr_assert_eq(alice(NULL, &out, &err, "list"), 0, "list with %s: "
		    "%s", what[i], err);
		cr_assert(strstr(out, "alice"), "%s", out);
		free(out);
		free(err);
		snprintf(show, sizeof(show), "show %d", i + 1);
		cr_assert_eq(alice(NULL, NULL, &err, show), 0, "show with %s: "
		    "%s", what[i], err);
		free(err);
		snprintf(revoke, sizeof(revoke), "revoke %d", i + 1);
		cr_assert_eq(alice(NULL, NULL, &err, revoke), 0, "revoke with "
		    "%s: %s", what[i], err);
		free(err);
		cr_assert_eq(t_ctl(&t, 0, tok[i], NULL, NULL, "verify"), 1,
		    "token %d was not revoked", i + 1);
		/* what needs it says why, and how to get out */
		needs_session("create --role ssh", why[i], what[i]);
		needs_session("role set web svc.web:read", why[i], what[i]);
		needs_session("list --all", why[i], what[i]);
		/* and grants nothing: bob's token stays out of reach */
		cr_assert_eq(alice(NULL, NULL, &err, "show 4"), 1);
		cr_assert(strstr(err, "not-found") && strstr(err,
		    "patctl logout"), "%s", err);
		free(err);
		cr_assert_eq(alice(NULL, NULL, NULL, "revoke 4"), 1);
	}
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "list --user bob"), 0);
	cr_assert(strstr(out, "active"), "bob's token was touched: %s", out);
	free(out);
	/* the forged ones are still logged */
	log = t_slurp(t.log);
	cr_assert(strstr(log, "event=session result=refused reason=bad-"),
	    "%s", log);
	cr_assert(strstr(log, "event=session result=refused reason=wrong-user"),
	    "%s", log);
	free(log);
	for (i = 0; i < 3; i++)
		t_free(tok[i]);
	jwt_keys_wipe(&k);
	jwt_keys_wipe(&other);
}

/* patd with only an `other` stack (a password alone) in its PAM dir. */
static void
start_without_stack(const char *more)
{
	char path[256], conf[600];

	t_need_root();
	t_start_ns(&t, NULL);
	snprintf(path, sizeof(path), "%s/pam.d", t.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/pam.d/other", t.dir);
	t_write(path, "auth required pam_unix.so\naccount required "
	    "pam_unix.so\n", 0644);
	snprintf(path, sizeof(path), "%s/xdg", t.dir);
	mkdir(path, 0700);
	cr_assert_eq(chown(path, ALICE, ALICE), 0);
	snprintf(conf, sizeof(conf), "login_pam_dir = %s/pam.d\n%s", t.dir,
	    more);
	t_reconfigure(&t, conf);
}

Test(login, no_stack_of_its_own_means_no_login)
{
	char *err = NULL, *log, want[300];

	start_without_stack("");
	snprintf(want, sizeof(want), "%s/pam.d/patd-login", t.dir);
	cr_assert_eq(alice(ALICE_PASSWORD "\n", NULL, &err, "login"), 1,
	    "a password alone made a session: %s", err);
	cr_assert(strstr(err, want) && strstr(err, "docs/login.md") &&
	    strstr(err, "login_allow_fallback"), "%s", err);
	free(err);
	log = t_slurp(t.log);
	cr_assert(strstr(log, "warning: no PAM stack") && strstr(log, want) &&
	    strstr(log, "patctl login is refused"), "no start-up warning: %s",
	    log);
	cr_assert(strstr(log, "reason=no-pam-stack"), "%s", log);
	free(log);
	/* the stack appears: logins work, with no restart */
	t_write(want, "auth required pam_unix.so\naccount required "
	    "pam_unix.so\n", 0644);
	cr_assert_eq(alice(ALICE_PASSWORD "\n", NULL, &err, "login"), 0, "%s",
	    err);
	free(err);
}

Test(login, login_allow_fallback_restores_the_other_stack)
{
	char *err = NULL, *log;

	start_without_stack("login_allow_fallback = yes\n");
	cr_assert_eq(alice(ALICE_PASSWORD "\n", NULL, &err, "login"), 0,
	    "%s", err);
	cr_assert(strstr(err, "logged in"), "%s", err);
	free(err);
	log = t_slurp(t.log);
	cr_assert(strstr(log, "warning: no PAM stack") &&
	    strstr(log, "login_allow_fallback = yes, so"), "%s", log);
	free(log);
}
