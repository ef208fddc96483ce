/*
 * patctl --json is a contract (issue 12, item 5): every command, on
 * success and when refused, unreachable or misused, prints exactly one
 * JSON document on stdout, of the shape patctl(1) documents.  Real patd
 * and patctl; the shapes are checked by tests/tools/json_contract.py.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static struct tpatd t;
static pid_t fake;
static FILE *manifest;
static unsigned runs;
static char kinds[4096];	/* every kind run, for the coverage check */

static void
teardown(void)
{
	if (fake > 0) {
		kill(fake, SIGKILL);
		waitpid(fake, NULL, 0);
		fake = 0;
	}
	if (manifest != NULL)
		fclose(manifest);
	manifest = NULL;
	t_stop(&t);
}

TestSuite(json, .fini = teardown, .timeout = 120);

/* Run patctl --json args as uid with stdin `in`; keep its stdout for the
 * checker under `kind`; the exit status must be `want`. */
static void
run(const char *kind, uid_t uid, const char *in, int want, const char *args)
{
	char *out = NULL, *err = NULL, path[200];
	int rc;

	rc = t_ctl(&t, uid, in, &out, &err, "%s --json", args);
	cr_assert_eq(rc, want, "patctl %s --json as %u: exit %d, want %d: %s",
	    args, (unsigned)uid, rc, want, err);
	snprintf(path, sizeof(path), "%s/json/out.%u", t.dir, ++runs);
	t_write(path, out, 0600);
	fprintf(manifest, "%u %d %s\n", runs, rc, kind);
	if (want == 0 && strstr(kinds, kind) == NULL) {
		strncat(kinds, kind, sizeof(kinds) - strlen(kinds) - 2);
		strcat(kinds, " ");
	}
	t_free(out);
	free(err);
}

/* A stand-in patd (root's, so trusted) answering each connection with
 * `answer`: login's success and refusal need a PAM stack otherwise. */
static void
fake_patd(const char *path, const char *answer)
{
	if (fake > 0) {
		kill(fake, SIGKILL);
		waitpid(fake, NULL, 0);
	}
	fake = t_fake_patd(path, answer);
}

Test(json, every_command_prints_one_documented_document)
{
	static const char *all[] = { "create", "rotate", "list", "show",
		"revoke", "revoke-all", "revoke-secret", "scan", "verify", "role-list", "role-show",
		"role-set", "role-delete", "grant", "ungrant", "status",
		"whoami", "login", "logout", "help", "version" };
	char path[200], args[300], *tok, *tok2, *out = NULL;
	size_t i;
	int rc;

	t_need_root();	/* alice's refusals need setpriv */
	t_start(&t, NULL);
	snprintf(path, sizeof(path), "%s/json", t.dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/json/manifest", t.dir);
	manifest = fopen(path, "we");
	cr_assert_not_null(manifest);

	/* roles and grants */
	run("role-set", 0, NULL, 0, "role set web pam.sshd svc.web:*");
	run("role-set", 0, NULL, 0, "role set short pam.sshd --max-lifetime "
	    "90d --default-lifetime 30d --max-idle 60d");
	run("role-set", 0, NULL, 2, "role set short pam.sshd --max-idle 0d");
	run("role-set", ALICE, NULL, 1, "role set mine pam.sshd");
	run("role-set", 0, NULL, 2, "role set 'a b' pam.sshd");
	run("grant", 0, NULL, 0, "grant web --user alice");
	run("grant", 0, NULL, 0, "grant web --group devs");
	run("grant", 0, NULL, 1, "grant nope --user alice");
	run("role-list", 0, NULL, 0, "role list");
	run("role-show", 0, NULL, 0, "role show web");
	run("role-show", 0, NULL, 0, "role show short");
	run("grant", 0, NULL, 0, "grant short --user alice");
	run("role-show", 0, NULL, 1, "role show nope");

	/* tokens */
	rc = t_ctl(&t, 0, NULL, &out, NULL, "create --user alice --role web");
	cr_assert_eq(rc, 0);
	out[strcspn(out, "\n")] = '\0';
	tok = out;
	run("create", 0, NULL, 0, "create --user alice --role web --name ci "
	    "--expires 30d");
	run("create", 0, NULL, 1, "create --user alice --role nope");
	run("create", 0, NULL, 0, "create --user alice --role short");
	run("create", 0, NULL, 1, "create --user alice --role short "
	    "--expires 1y");
	run("create", 0, NULL, 2, "create --role web --expires 3x");
	run("list", 0, NULL, 0, "list --all");
	run("list", ALICE, NULL, 0, "list");
	run("list", 0, NULL, 0, "list --all --expiring 40");
	run("list", ALICE, NULL, 1, "list --all");
	run("show", 0, NULL, 0, "show 1");
	run("show", 0, NULL, 1, "show 999");
	run("show", 0, NULL, 2, "show abc");
	run("verify", 0, tok, 0, "verify --perm pam.sshd");
	run("verify", 0, tok, 1, "verify --perm svc.db:read");
	run("verify", 0, "1|pat-nonsense", 1, "verify");
	run("verify", 0, "", 2, "verify");
	run("whoami", ALICE, NULL, 0, "whoami");
	run("whoami", 0, NULL, 0, "perms");
	run("status", 0, NULL, 0, "status");
	run("status", ALICE, NULL, 0, "status");

	rc = t_ctl(&t, ALICE, tok, &out, NULL, "rotate");
	cr_assert_eq(rc, 0, "rotate");
	t_free(tok);
	out[strcspn(out, "\n")] = '\0';
	tok2 = out;
	run("rotate", ALICE, tok2, 0, "rotate");
	run("rotate", ALICE, tok2, 1, "rotate");	/* rotated already */
	run("rotate", ALICE, "junk", 1, "rotate");
	t_free(tok2);

	snprintf(path, sizeof(path), "%s/found.txt", t.dir);
	t_write(path, "", 0644);
	snprintf(args, sizeof(args), "scan %s", path);
	run("scan", ALICE, NULL, 0, args);
	snprintf(args, sizeof(args), "scan %s %s/nope", path, t.dir);
	run("scan", ALICE, NULL, 4, args);
	run("revoke-secret", ALICE, "1|pat-nonsense", 1,
	    "revoke --token-from-stdin");
	rc = t_ctl(&t, 0, NULL, &out, NULL, "create --user alice --role web");
	cr_assert_eq(rc, 0);
	t_write(path, out, 0644);
	snprintf(args, sizeof(args), "scan --revoke %s", path);
	run("scan", BOB, NULL, 1, args);
	run("revoke-secret", BOB, out, 0, "revoke --token-from-stdin");
	t_free(out);
	run("revoke", 0, NULL, 0, "revoke 2");
	run("revoke", 0, NULL, 1, "revoke 999");
	run("revoke", 0, NULL, 1, "revoke 1 999");	/* one done, one not */
	run("revoke", 0, NULL, 2, "revoke 0");
	run("revoke-all", ALICE, NULL, 1, "revoke --all --user bob --yes");
	run("revoke-all", ALICE, NULL, 2, "revoke --all");	/* no tty */
	run("revoke-all", 0, NULL, 0, "revoke --all --user alice --yes");
	run("ungrant", 0, NULL, 0, "ungrant web --group devs");
	run("ungrant", 0, NULL, 1, "ungrant web --user bob");
	run("role-delete", 0, NULL, 0, "role delete web");
	run("role-delete", 0, NULL, 1, "role delete web");

	/* help, version, usage errors, an unreachable patd */
	run("help", 0, NULL, 0, "create --help");
	run("help", 0, NULL, 0, "-h");
	run("help", 0, NULL, 2, "frobnicate");
	run("version", 0, NULL, 0, "--version");
	run("version", 0, NULL, 2, "--timeout x status");
	snprintf(args, sizeof(args), "--socket %s/nope status", t.dir);
	run("status", 0, NULL, 3, args);
	snprintf(args, sizeof(args), "--socket %s/nope whoami", t.dir);
	run("whoami", 0, NULL, 3, args);
	snprintf(args, sizeof(args), "--socket %s/nope role list", t.dir);
	run("role-list", 0, NULL, 3, args);

	/* login and logout against a stand-in patd */
	snprintf(path, sizeof(path), "%s/xdg", t.dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	setenv("XDG_RUNTIME_DIR", path, 1);
	snprintf(path, sizeof(path), "%s/fake.sock", t.dir);
	fake_patd(path, "OK session=aaa.bbb.ccc expires=1900000000\n");
	snprintf(args, sizeof(args), "--socket %s login", path);
	run("login", 0, NULL, 0, args);
	snprintf(args, sizeof(args), "--socket %s logout", path);
	run("logout", 0, NULL, 0, args);	/* logged out */
	run("logout", 0, NULL, 0, args);	/* was not logged in */
	fake_patd(path, "ERR code=login-failed message=no\n");
	snprintf(args, sizeof(args), "--socket %s login", path);
	run("login", 0, NULL, 1, args);
	unsetenv("XDG_RUNTIME_DIR");

	fclose(manifest);
	manifest = NULL;
	for (i = 0; i < sizeof(all) / sizeof(*all); i++)
		cr_assert(strstr(kinds, all[i]) != NULL, "no successful --json "
		    "run of %s", all[i]);
	rc = t_sh(&t, 0, NULL, &out, NULL, "python3 \"$PAT_SRC\"/tests/tools/"
	    "json_contract.py %s/json", t.dir);
	cr_assert_eq(rc, 0, "patctl's JSON is not as documented:\n%s", out);
	t_figure("json: %u patctl --json runs match patctl(1)'s shapes", runs);
	free(out);
}
