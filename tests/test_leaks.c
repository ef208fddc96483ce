/*
 * Issue 14, leak response: whoever holds a token's secret may revoke it
 * (REVOKE token=, patctl revoke --token-from-stdin), and patctl scan finds
 * tokens in files and history without printing them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "token.h"

static struct tpatd t;

static void
setup(void)
{
	t_start(&t, NULL);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	t_grant(&t, "ssh", "--user bob");
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(leaks, .init = setup, .fini = teardown, .timeout = 90);

/* The first word of VERIFY's answer, or its error code (malloc'd). */
static char *
verdict(const char *token)
{
	char req[256], *r;

	snprintf(req, sizeof(req), "VERIFY token=%s\n", token);
	r = t_ask(&t, req);
	cr_assert_not_null(r, "patd is not answering");
	if (strncmp(r, "ERR code=", 9) == 0)
		memmove(r, r + 9, strlen(r + 9) + 1);
	r[strcspn(r, " \n")] = '\0';
	return r;
}

static void
expect(const char *token, const char *want, const char *why)
{
	char *r = verdict(token);

	cr_assert_str_eq(r, want, "%s", why);
	t_free(r);
}

/* The 40 characters after "pat-": what must never be printed. */
static const char *
secret(const char *token)
{
	return strstr(token, "|pat-") + 5;
}

/* A look-alike: same shape, one random character changed, so the
 * checksum no longer matches. */
static char *
mangled(const char *token)
{
	char *m = strdup(token), *p = strstr(m, "pat-") + 4;

	p[3] = p[3] == 'A' ? 'B' : 'A';
	return m;
}

/* The same id with another secret, its checksum right: a real guess. */
static char *
guessed(const char *token)
{
	char *g = strdup(token), *r = strstr(g, "|pat-") + 5;

	r[0] = r[0] == 'A' ? 'B' : 'A';
	pat_base62_fixed(pat_crc32(r, PAT_TOKEN_RANDOM_LEN),
	    r + PAT_TOKEN_RANDOM_LEN, PAT_TOKEN_CHECK_LEN);
	return g;
}

Test(leaks, anyone_holding_the_secret_revokes_it_with_its_children)
{
	char *tok = t_token(&t, "alice", "ssh"), *child = NULL, *err = NULL;
	char *log, *tail;
	int rc;

	rc = t_ctl(&t, ALICE, tok, &child, NULL, "create --role ssh "
	    "--parent-from-stdin");
	cr_assert_eq(rc, 0, "alice makes a child of her token");
	child[strcspn(child, "\n")] = '\0';
	expect(child, "OK", "the child works before");
	/* bob is nobody to alice's tokens: no session, no admin */
	rc = t_ctl(&t, BOB, tok, NULL, &err, "revoke --token-from-stdin");
	cr_assert_eq(rc, 0, "bob, holding the secret, revokes it: %s", err);
	cr_assert_not_null(strstr(err, "revoked token "), "%s", err);
	t_free(err);
	expect(tok, "revoked", "the reported token");
	expect(child, "revoked", "and what was created from it");
	log = t_slurp(t.log);
	tail = strstr(log, "reason=reported");
	cr_assert_not_null(tail, "the log says it was reported");
	cr_assert_not_null(strstr(log, "peer_uid=1002"), "with the reporter");
	cr_assert_null(strstr(log, secret(tok)), "never the secret");
	t_free(log);
	/* asking again changes nothing and says so */
	err = NULL;
	rc = t_ctl(&t, BOB, tok, NULL, &err, "revoke --token-from-stdin");
	cr_assert_eq(rc, 0, "a second report: %s", err);
	cr_assert_not_null(strstr(err, "already"), "%s", err);
	t_free(err);
	t_free(child);
	t_free(tok);
}

Test(leaks, a_wrong_secret_is_a_guess_that_counts_against_the_guesser)
{
	char *tok = t_token(&t, "alice", "ssh"), *bad = mangled(tok);
	char *fake = strdup(tok), *out = NULL, *r;
	int i, rc;

	/* right shape and checksum, wrong secret: invalid-token */
	fake[0] = fake[0] == '9' ? '8' : (char)(fake[0] + 1);
	rc = t_ctl(&t, BOB, bad, NULL, NULL, "revoke --token-from-stdin");
	cr_assert_eq(rc, 1, "a look-alike (bad checksum) is refused");
	free(fake);
	fake = guessed(tok);
	rc = t_ctl(&t, BOB, fake, &out, NULL, "--json revoke "
	    "--token-from-stdin");
	cr_assert_eq(rc, 1, "the right id with a wrong secret is refused");
	cr_assert_not_null(strstr(out, "invalid-token"), "%s", out);
	t_free(out);
	out = NULL;
	expect(tok, "OK", "a guess at the id revokes nothing");
	free(fake);
	fake = strdup(tok);
	fake[0] = fake[0] == '9' ? '8' : (char)(fake[0] + 1);
	for (i = 0; i < 9; i++) {	/* the 10th guess */
		rc = t_ctl(&t, BOB, fake, &out, NULL, "--json revoke "
		    "--token-from-stdin");
		cr_assert_eq(rc, 1);
		cr_assert_not_null(strstr(out, "invalid-token"), "%s", out);
		t_free(out);
		out = NULL;
	}
	rc = t_ctl(&t, BOB, tok, &out, NULL, "--json revoke "
	    "--token-from-stdin");
	cr_assert_eq(rc, 1, "after 10 guesses bob is rate-limited");
	cr_assert_not_null(strstr(out, "rate-limited"), "%s", out);
	t_free(out);
	expect(tok, "OK", "nothing was revoked by the blocked guesser");
	/* only bob: carol reports it at once */
	rc = t_ctl(&t, CAROL, tok, NULL, NULL, "revoke --token-from-stdin");
	cr_assert_eq(rc, 0, "another uid is not slowed by bob's guesses");
	expect(tok, "revoked", "carol's report counted");
	/* the raw verb: one way of naming a token at a time */
	r = t_ask_as(&t, BOB, "REVOKE id=1 token=1|pat-x\n");
	cr_assert_not_null(strstr(r, "bad-request"), "%s", r);
	t_free(r);
	free(fake);
	free(bad);
	t_free(tok);
}

/* The file:line:id lines of a scan (stdout) must name these ids at these
 * lines, and never print a secret. */
Test(leaks, scan_finds_real_tokens_only_and_never_prints_them)
{
	char *tok = t_token(&t, "alice", "ssh"), *tok2 = t_token(&t, "bob",
	    "ssh"), *bad = mangled(tok), *out = NULL, *err = NULL;
	char dir[160], path[200], want[200], *id1, *id2;
	const char *s2 = strstr(tok2, "|");
	FILE *f;
	int rc, i;

	id1 = strndup(tok, strcspn(tok, "|"));
	id2 = strndup(tok2, strcspn(tok2, "|"));
	snprintf(dir, sizeof(dir), "%s/tree", t.dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub/app.env", dir);
	f = fopen(path, "w");
	fprintf(f, "# config\nTOKEN=%s\nOLD=%s\nlonger=%sx\n", tok, bad, tok);
	fclose(f);
	/* a web server's log: the '|' URL-encoded; and past a chunk's end */
	snprintf(path, sizeof(path), "%s/access.log", dir);
	f = fopen(path, "w");
	for (i = 0; i < 9000; i++)
		fputs("GET /x HTTP/1.1\n", f);	/* 144,000 bytes */
	fprintf(f, "GET /api?t=%s%%7C%s 200\n", id2, s2 + 1);
	fclose(f);
	rc = t_ctl(&t, BOB, NULL, &out, &err, "scan %s", dir);
	cr_assert_eq(rc, 1, "tokens found: exit 1 (%s)", err);
	snprintf(want, sizeof(want), "%s/sub/app.env:2:%s\n", dir, id1);
	cr_assert_not_null(strstr(out, want), "the .env hit: %s", out);
	snprintf(want, sizeof(want), "%s/access.log:9001:%s\n", dir, id2);
	cr_assert_not_null(strstr(out, want), "the log hit: %s", out);
	cr_assert_null(strstr(out, ":3:"), "the look-alike is no hit: %s", out);
	cr_assert_null(strstr(out, ":4:"), "nor a longer run: %s", out);
	cr_assert_null(strstr(out, secret(tok)), "no secret on stdout");
	cr_assert_null(strstr(out, secret(tok2)), "no secret on stdout");
	cr_assert_null(strstr(err, secret(tok)), "no secret on stderr");
	t_free(out);
	t_free(err);
	expect(tok, "OK", "a scan alone revokes nothing");
	/* --revoke, by someone who is neither alice nor bob */
	out = err = NULL;
	rc = t_ctl(&t, CAROL, NULL, &out, &err, "--json scan --revoke %s",
	    dir);
	cr_assert_eq(rc, 1, "still: tokens were found (%s)", err);
	cr_assert_not_null(strstr(out, "\"count\":2,\"revoked\":2"), "%s", out);
	cr_assert_not_null(strstr(out, "tokens-found"), "%s", out);
	cr_assert_null(strstr(out, secret(tok)), "no secret in JSON");
	cr_assert_null(strstr(out, secret(tok2)), "no secret in JSON");
	t_free(out);
	t_free(err);
	expect(tok, "revoked", "alice's token, found and revoked");
	expect(tok2, "revoked", "bob's, found in the log and revoked");
	free(id1);
	free(id2);
	free(bad);
	t_free(tok);
	t_free(tok2);
}

Test(leaks, scan_reads_git_history_from_stdin)
{
	char *tok = t_token(&t, "alice", "ssh"), *out = NULL, *err = NULL;
	char want[64];
	int rc;

	if (t_sh(&t, 0, NULL, NULL, NULL, "command -v git") != 0)
		cr_skip_test("SKIPPED: git is missing");
	/* committed, then removed: only the history has it */
	rc = t_sh(&t, 0, tok, NULL, &err, "cd %s && git init -q repo && "
	    "cd repo && git config user.email t@example.org && "
	    "git config user.name t && printf 'a\\nb\\n' > f && "
	    "sed 's/^/key: /' >> f && git add f && git commit -qm add && "
	    "printf 'a\\nb\\n' > f && git commit -qam remove", t.dir);
	cr_assert_eq(rc, 0, "environment: git: %s", err);
	t_free(err);
	err = NULL;
	rc = t_ctl(&t, BOB, NULL, &out, &err, "scan - < /dev/null");
	cr_assert_eq(rc, 0, "nothing on stdin, nothing found (%s)", err);
	t_free(out);
	t_free(err);
	out = err = NULL;
	rc = t_sh(&t, 0, NULL, &out, &err, "cd %s/repo && git log -p "
	    "--all | \"$PATCTL\" scan -", t.dir);
	cr_assert_eq(rc, 1, "found in history (%s)", err);
	snprintf(want, sizeof(want), ":%.*s\n", (int)strcspn(tok, "|"), tok);
	cr_assert_not_null(strstr(out, "(stdin):"), "%s", out);
	cr_assert_not_null(strstr(out, want), "%s", out);
	/* once added, once removed: two lines of the log */
	cr_assert_not_null(strstr(strstr(out, want) + 1, want), "%s", out);
	cr_assert_null(strstr(out, secret(tok)), "no secret printed");
	t_free(out);
	t_free(err);
	t_free(tok);
}
