/*
 * patctl as a command line people and scripts use (issue 12, items 4, 7
 * and 8): help for every command, --help never a value, global options
 * anywhere, versions, errors in the user's words, expiry units, colour
 * only where it belongs, tables that fit, revoke --all's confirmation,
 * whoami, list's filters and the bash completion.  Real patd and patctl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "store.h"

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

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 90);

/* How many roles patd holds, by patctl's JSON. */
static int
roles(void)
{
	char *out = NULL;
	const char *p;
	int n;

	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json role list"), 0);
	p = strstr(out, "\"count\":");
	cr_assert_not_null(p, "%s", out);
	n = atoi(p + 8);
	free(out);
	return n;
}

Test(cli, every_command_has_help_with_its_synopsis_and_exit_codes)
{
	static const char *cmds[] = { "login", "logout", "whoami", "perms",
		"create", "list", "show", "revoke", "rotate", "verify", "scan",
		"role",
		"role list", "role show", "role set", "role delete", "grant",
		"ungrant", "status" };
	static const char *flags[] = { "--help", "-h" };
	char *out, *err;
	size_t i, j;
	int rc;

	for (i = 0; i < sizeof(cmds) / sizeof(*cmds); i++)
		for (j = 0; j < 2; j++) {
			/* no patd needed: nothing is sent */
			rc = t_sh(&t, 0, NULL, &out, &err, "PATD_SOCKET=%s/nope "
			    "\"$PATCTL\" %s %s </dev/null", t.dir, cmds[i],
			    flags[j]);
			cr_assert_eq(rc, 0, "patctl %s %s: exit %d: %s",
			    cmds[i], flags[j], rc, err);
			cr_assert(strncmp(out, "usage: patctl ", 14) == 0,
			    "patctl %s %s: no synopsis: %s", cmds[i], flags[j],
			    out);
			cr_assert(strstr(out, "Exit: 0"), "patctl %s %s: no exit "
			    "codes: %s", cmds[i], flags[j], out);
			free(out);
			free(err);
		}
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--help"), 0);
	cr_assert(strstr(out, "whoami") && strstr(out, "Exit: 0"), "%s", out);
	free(out);
}

Test(cli, help_is_never_taken_as_a_value)
{
	char *out = NULL, *err = NULL;

	t_role(&t, "web", "pam.sshd");
	t_grant(&t, "web", "--user root");
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "role set x --help"), 0);
	cr_assert(strstr(out, "usage: patctl role set"), "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set x -h"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role delete --help"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create --role --help"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "grant web --user -h"), 0);
	cr_assert_eq(roles(), 1, "role set x --help made a role");
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json list --all"), 0);
	cr_assert(strstr(out, "\"count\":0"), "create --help made a token: %s",
	    out);
	free(out);
	/* a value that looks like an option is refused… */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "create --role web "
	    "--name -x"), 2);
	cr_assert(strstr(err, "--name=-x"), "says how to mean it: %s", err);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "role delete -web"), 2);
	cr_assert(strstr(err, "unknown option '-web'"), "%s", err);
	free(err);
	/* … unless written --opt=VALUE, or after -- */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create --role web "
	    "--name=-x"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set -- -odd pam.x"), 0);
	cr_assert_eq(roles(), 2);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role delete -- -odd"), 0);
	cr_assert_eq(roles(), 1);
}

Test(cli, global_options_work_after_the_command)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "list --json"), 0);
	cr_assert_str_eq(out, "{\"items\":[],\"count\":0}\n");
	free(out);
	cr_assert_eq(t_sh(&t, 0, NULL, &out, &err, "PATD_SOCKET=%s/nope "
	    "\"$PATCTL\" status --socket %s --timeout 5000", t.dir, t.sock), 0,
	    "%s", err);
	cr_assert(strstr(out, "uptime"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "PATD_SOCKET=%s/nope "
	    "\"$PATCTL\" role list --socket=%s --json", t.dir, t.sock), 0);
	cr_assert(strncmp(out, "{\"items\":[", 10) == 0, "%s", out);
	free(out);
}

Test(cli, both_programs_say_their_version_and_help)
{
	static const char *prog[] = { "\"$PATCTL\"", "\"$PATD\"" };
	/* the Makefile passes debian/changelog's version to every file */
	static const char *want[] = { "patctl " PAT_VERSION "\n",
	    "patd " PAT_VERSION "\n" };
	char *out = NULL;
	size_t i;

	for (i = 0; i < 2; i++) {
		cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "%s --version",
		    prog[i]), 0);
		cr_assert_str_eq(out, want[i]);
		free(out);
		cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "%s -V", prog[i]), 0);
		cr_assert_str_eq(out, want[i]);
		free(out);
		cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "%s -h", prog[i]), 0);
		cr_assert(strstr(out, "usage:"), "%s -h: %s", prog[i], out);
		free(out);
		cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "%s --help",
		    prog[i]), 0);
		cr_assert(strstr(out, "usage:"), "%s --help: %s", prog[i], out);
		free(out);
	}
}

/* patctl args exits `want` and its stderr holds `says` and nothing of the
 * protocol's words. */
static void
says(int want, const char *says, const char *args)
{
	static const char *protocol[] = { "needs id=", "id=N", "malformed",
		"seconds since 1970", "expires=", "perms=", "name=", "role=",
		"user=", "bad-request", NULL };
	char *err = NULL;
	int rc, i;

	rc = t_ctl(&t, 0, NULL, NULL, &err, "%s", args);
	cr_assert_eq(rc, want, "patctl %s: exit %d: %s", args, rc, err);
	cr_assert(strstr(err, says), "patctl %s does not say '%s': %s", args,
	    says, err);
	for (i = 0; protocol[i]; i++)
		cr_assert_null(strstr(err, protocol[i]), "patctl %s speaks the "
		    "protocol ('%s'): %s", args, protocol[i], err);
	free(err);
}

Test(cli, errors_are_in_the_users_words)
{
	t_role(&t, "web", "pam.sshd");
	says(2, "'abc' is not a token id", "show abc");
	says(2, "'0' is not a token id", "show 0");
	says(2, "'-1' is not a valid value here", "revoke -1");
	says(2, "'12x' is not a token id", "revoke 3 12x");
	says(2, "is in the past", "create --role web --expires 2001-01-31");
	says(2, "cannot read --expires '2027-13-45'",
	    "create --role web --expires 2027-13-45");
	says(2, "is not a valid role name", "role set 'a b' pam.sshd");
	says(2, "is not a valid role name", "create --role 'w/x'");
	says(2, "is not a valid user name", "grant web --user 'a b'");
	says(2, "is not a valid group name", "grant web --group=-x");
	says(2, "is not a permission", "role set web 'pam..x'");
	says(2, "without a wildcard", "verify --perm 'pam.*' </dev/null");
	says(2, "cannot be a token name", "create --role web --name \"$(printf "
	    "'a\\tb')\"");
	says(2, "number of days", "list --expiring soon");
	says(2, "unknown option '--frob'", "list --frob");
	says(2, "unknown command 'frobnicate'", "frobnicate");
	says(1, "no role named nope", "role show nope");
}

Test(cli, expiry_takes_every_unit_and_the_error_lists_them)
{
	static const struct { const char *arg; long secs; } u[] = {
		{ "30m", 1800 }, { "36h", 129600 }, { "1d12h", 129600 },
		{ "2w", 1209600 }, { "1y", 31536000 }, { "1y2w3d4h5m", 31536000 +
		1209600 + 3 * 86400 + 4 * 3600 + 300 } };
	char *out = NULL, *c, *e;
	size_t i;
	long d;

	t_role(&t, "web", "pam.sshd");
	t_grant(&t, "web", "--user root");
	for (i = 0; i < sizeof(u) / sizeof(*u); i++) {
		cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json create "
		    "--role web --expires %s", u[i].arg), 0, "--expires %s",
		    u[i].arg);
		t_free(out);
		cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json show %zu",
		    i + 1), 0);
		c = strstr(out, "\"created\":");
		e = strstr(out, "\"expires\":");
		cr_assert(c && e, "%s", out);
		d = atol(e + 10) - atol(c + 10);
		cr_assert(d >= u[i].secs - 2 && d <= u[i].secs + 2,
		    "--expires %s: %ld s, want %ld", u[i].arg, d, u[i].secs);
		free(out);
	}
	says(2, "units: m minutes, h hours, d days, w weeks, y years",
	    "create --role web --expires 3x");
	says(2, "units: m minutes", "create --role web --expires 1d1d");
}

Test(cli, colour_only_on_a_terminal_and_never_with_NO_COLOR)
{
	char *out = NULL;
	char *tok;

	t_role(&t, "web", "pam.sshd");
	t_grant(&t, "web", "--user root");
	tok = t_token(&t, "root", "web");
	t_free(tok);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "revoke 1"), 0);
	/* a terminal: the revoked row is red */
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "unset NO_COLOR; TERM=xterm "
	    "script -qec '\"$PATCTL\" list' /dev/null"), 0);
	cr_assert(strstr(out, "\033[31m"), "no colour on a terminal: %s", out);
	free(out);
	/* NO_COLOR, even on a terminal */
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "TERM=xterm NO_COLOR=1 "
	    "script -qec '\"$PATCTL\" list' /dev/null"), 0);
	cr_assert_null(strchr(out, '\033'), "colour with NO_COLOR: %s", out);
	free(out);
	/* not a terminal */
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "unset NO_COLOR; TERM=xterm "
	    "\"$PATCTL\" list; \"$PATCTL\" show 1; \"$PATCTL\" status"), 0);
	cr_assert_null(strchr(out, '\033'), "colour in a pipe: %s", out);
	free(out);
	/* make demo's step(): bold on a terminal, nothing into a pipe or
	 * with NO_COLOR (its own lines, run as demo.sh runs them) */
#define DEMO_STEP "sed -n \"/^bold=/,/^step()/p\" \"$PAT_SRC\"/scripts/demo.sh " \
	">%s/step.sh; echo \"step hello\" >>%s/step.sh; "
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, DEMO_STEP "TERM=xterm sh "
	    "%s/step.sh", t.dir, t.dir, t.dir), 0);
	cr_assert(strstr(out, "$ hello") && !strchr(out, '\033'), "%s", out);
	free(out);
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, DEMO_STEP "unset NO_COLOR; "
	    "TERM=xterm script -qec \"sh %s/step.sh\" /dev/null", t.dir, t.dir,
	    t.dir), 0);
	cr_assert(strstr(out, "\033[1m$ hello"), "no bold on a terminal: %s",
	    out);
	free(out);
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, DEMO_STEP "NO_COLOR=1 "
	    "TERM=xterm script -qec \"sh %s/step.sh\" /dev/null", t.dir, t.dir,
	    t.dir), 0);
	cr_assert(strstr(out, "$ hello") && !strchr(out, '\033'), "%s", out);
	free(out);
}

Test(cli, tables_fit_100_columns_and_align_wide_characters)
{
	char name[200], *out = NULL, *err = NULL;
	struct store *s = NULL;
	struct tok_rec rec;
	MDB_txn *txn = NULL;
	int rc;

	memset(name, 'n', 128);
	name[128] = '\0';
	/* the longest role name, a 128-character token name, and a wide one */
	t_role(&t, "r234567890123456789012345678901234567890123456789012345678"
	    "901234", "pam.sshd");
	t_grant(&t, "r234567890123456789012345678901234567890123456789012345678"
	    "901234", "--user alice");
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, &err, "create --user alice --role "
	    "r234567890123456789012345678901234567890123456789012345678901234 "
	    "--name %s", name), 0, "%s", err);
	free(err);
	t_free(t_token(&t, "alice", "r23456789012345678901234567890123456789"
	    "0123456789012345678901234"));
	/* an older store could hold any bytes: 40 CJK characters, 80
	 * columns, written offline */
	t_kill9(&t);
	cr_assert_eq(store_open(&s, t.state, (size_t)1024 << 20), 0);
	cr_assert_eq(store_begin(s, true, &txn), 0);
	cr_assert_eq(store_token_get(s, txn, 2, &rec), 0);
	rec.name[0] = '\0';
	for (rc = 0; rc < 40; rc++)
		strcat(rec.name, "\xe5\x90\x8d");	/* U+540D */
	cr_assert_eq(store_token_put(s, txn, &rec, rec.parent), 0);
	cr_assert_eq(store_commit(txn), 0);
	store_close(s);
	t_restart(&t);

	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "list --all"), 0);
	/* every line at most 100 columns, and the STATE column starts at the
	 * same column on every line (East Asian wide characters count 2) */
	rc = t_sh(&t, 0, out, NULL, &err, "python3 -c '\n"
	    "import sys, unicodedata\n"
	    "def w(s): return sum(2 if unicodedata.east_asian_width(c) in \"WF\" "
	    "else 1 for c in s)\n"
	    "lines = sys.stdin.buffer.read().decode().splitlines()\n"
	    "assert len(lines) == 3, lines\n"
	    "for l in lines: assert w(l) <= 100, (w(l), l)\n"
	    "cols = {w(l[:l.index(k)]) for l, k in zip(lines, [\"STATE\", "
	    "\"active\", \"active\"])}\n"
	    "assert len(cols) == 1, (cols, lines)\n'");
	cr_assert_eq(rc, 0, "the table:\n%s\n%s", out, err);
	free(out);
	free(err);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "role list"), 0);
	cr_assert(strncmp(out, "ROLE", 4) == 0, "role list has no header: %s",
	    out);
	free(out);
}

Test(cli, revoke_all_states_the_count_and_confirms_on_a_terminal_only)
{
	char *out = NULL, *err = NULL;

	t_need_root();	/* as alice */
	t_role(&t, "web", "pam.sshd");
	t_grant(&t, "web", "--user alice");
	t_free(t_token(&t, "alice", "web"));
	t_free(t_token(&t, "alice", "web"));
	/* a script without --yes: refused at once, nothing revoked */
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, &err, "revoke --all"), 2);
	cr_assert(strstr(err, "2 active tokens") && strstr(err, "--yes"),
	    "%s", err);
	free(err);
	/* a person who says no */
	cr_assert_eq(t_sh(&t, ALICE, "n\n", &out, NULL, "script -qec "
	    "\"\\\"$PATCTL\\\" revoke --all\" /dev/null"), 1);
	cr_assert(strstr(out, "2 active tokens") && strstr(out, "[y/N]"),
	    "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, &out, NULL, "list --active"), 0);
	cr_assert(strstr(out, "\n1 ") && strstr(out, "\n2 "), "%s", out);
	free(out);
	/* … and one who says yes */
	cr_assert_eq(t_sh(&t, ALICE, "y\n", &out, NULL, "script -qec "
	    "\"\\\"$PATCTL\\\" revoke --all\" /dev/null"), 0, "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, &out, NULL, "--json list --active"),
	    0);
	cr_assert(strstr(out, "\"count\":0"), "%s", out);
	free(out);
	/* --yes, no terminal */
	t_free(t_token(&t, "alice", "web"));
	cr_assert_eq(t_ctl(&t, ALICE, NULL, NULL, &err, "revoke --all --yes"),
	    0, "%s", err);
	cr_assert(strstr(err, "1 active token "), "%s", err);
	free(err);
}

Test(cli, whoami_shows_roles_by_user_and_group_permissions_and_session)
{
	char *out = NULL, path[200];

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_role(&t, "deploy", "svc.deploy:run");
	t_grant(&t, "ssh", "--user alice");
	t_grant(&t, "deploy", "--group devs");
	cr_assert_eq(t_ctl(&t, ALICE, NULL, &out, NULL, "whoami"), 0);
	cr_assert(strstr(out, "uid           1001"), "%s", out);
	cr_assert(strstr(out, "user          alice"), "%s", out);
	cr_assert(strstr(out, "ssh (granted to you)"), "%s", out);
	cr_assert(strstr(out, "deploy (through group devs)"), "%s", out);
	cr_assert(strstr(out, "pam.sshd") && strstr(out, "svc.deploy:run"),
	    "%s", out);
	cr_assert(strstr(out, "admin         no"), "%s", out);
	cr_assert(strstr(out, "session       none"), "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, ALICE, NULL, &out, NULL, "perms --json"), 0);
	cr_assert(strstr(out, "{\"role\":\"deploy\",\"via\":\"group\","
	    "\"group\":\"devs\"}"), "%s", out);
	free(out);
	/* a session file patd did not issue: said, not a refusal */
	snprintf(path, sizeof(path), "%s/xdg", t.dir);
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "mkdir -m 700 %s && printf "
	    "'aaa.bbb.ccc\\n' >%s/patctl-session && chmod 600 "
	    "%s/patctl-session && chown -R 1001:1001 %s", path, path, path,
	    path), 0);
	cr_assert_eq(t_sh(&t, ALICE, NULL, &out, NULL, "XDG_RUNTIME_DIR=%s "
	    "\"$PATCTL\" whoami", path), 0);
	cr_assert(strstr(out, "not one this patd issued"), "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "whoami"), 0);
	cr_assert(strstr(out, "admin         yes"), "%s", out);
	free(out);
}

Test(cli, list_active_expiring_and_days_left)
{
	char *out = NULL;

	t_role(&t, "web", "pam.sshd");
	t_grant(&t, "web", "--user root");
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create --role web --name "
	    "forever"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create --role web --name "
	    "soon --expires 2d"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create --role web --name "
	    "later --expires 20d"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "create --role web --name "
	    "gone --expires 20d"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "revoke 4"), 0);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "list"), 0);
	/* in words, whether a second has passed since creation or not */
	cr_assert(strstr(out, "LEFT") && (strstr(out, "1 day 23 h") ||
	    strstr(out, "2 days")) && (strstr(out, "19 days") ||
	    strstr(out, "20 days")), "days left: %s", out);
	cr_assert(strstr(out, "gone"), "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "list --active"), 0);
	cr_assert(strstr(out, "forever") && strstr(out, "soon") &&
	    strstr(out, "later") && !strstr(out, "gone"), "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "list --expiring 7"), 0);
	cr_assert(strstr(out, "soon") && !strstr(out, "forever") &&
	    !strstr(out, "later") && !strstr(out, "gone"), "%s", out);
	free(out);
	cr_assert_eq(t_ctl(&t, 0, NULL, &out, NULL, "--json list --expiring "
	    "30"), 0);
	cr_assert(strstr(out, "\"count\":2"), "%s", out);
	free(out);
}

Test(cli, bash_completion_completes_commands_options_and_role_names)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(t_sh(&t, 0, NULL, NULL, &err, "bash -n "
	    "\"$PAT_SRC\"/patctl/patctl.bash"), 0, "%s", err);
	free(err);
	t_role(&t, "webapp", "pam.sshd");
	t_role(&t, "deploy", "pam.sudo");
#define COMPLETE(words, cword) \
	"bash -c '. \"$PAT_SRC\"/patctl/patctl.bash; COMP_WORDS=(" words "); " \
	"COMP_CWORD=" cword "; _patctl; printf \"%%s\\n\" \"${COMPREPLY[@]}\"'"
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, COMPLETE("\"$PATCTL\" role "
	    "show we", "3")), 0);
	cr_assert_str_eq(out, "webapp\n");
	free(out);
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, COMPLETE("\"$PATCTL\" "
	    "create --role \"\"", "3")), 0);
	cr_assert_str_eq(out, "deploy\nwebapp\n");
	free(out);
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, COMPLETE("\"$PATCTL\" cr",
	    "1")), 0);
	cr_assert_str_eq(out, "create\n");
	free(out);
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, COMPLETE("\"$PATCTL\" list "
	    "--ex", "2")), 0);
	cr_assert_str_eq(out, "--expiring\n");
	free(out);
	/* make install puts it where bash-completion looks */
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "grep -q 'patctl.bash "
	    "$(DESTDIR)$(BASHCOMPDIR)/patctl' \"$PAT_SRC\"/Makefile"), 0);
	free(out);
}
