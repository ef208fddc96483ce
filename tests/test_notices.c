/*
 * Issue 14, notices at the PAM prompt: through pam_pat.so on a real PAM
 * stack, the owner learns in one line of the conversation why a token
 * whose secret matched was refused (reported, rotated and reused,
 * expired, idle) and when it was used from a host new for it.  A wrong
 * secret learns nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "token.h"
#include "pat/pat.h"

#define DAY	86400LL

static struct tpatd t;

static void
setup(void)
{
	t_start_clock(&t, NULL);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	t_grant(&t, "ssh", "--user bob");
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(notices, .init = setup, .fini = teardown, .timeout = 120);

/* How often needle occurs in hay. */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* The secret part of a token ("17|pat-..." -> after the bar). */
static const char *
secret(const char *tok)
{
	const char *p = strchr(tok, '|');

	return p != NULL ? p + 1 : tok;
}

/*
 * alice logs in to sshd with tok (from rhost, may be NULL); the answer
 * must be `result` and the conversation must hold exactly `line` (NULL:
 * no message at all), never the secret.
 */
static void
login(const char *tok, const char *rhost, const char *result,
    const char *line)
{
	char more[192], want[64], *out;

	snprintf(more, sizeof(more), "%s%s", rhost ? "--rhost " : "",
	    rhost ? rhost : "");
	out = t_pam_conv(&t, "sshd", "alice", tok, more);
	snprintf(want, sizeof(want), "result=%s ", result);
	cr_assert(strncmp(out, want, strlen(want)) == 0 ||
	    strstr(out, want), "want %s: %s", result, out);
	if (line == NULL)
		cr_assert_null(strstr(out, "info="), "no message: %s", out);
	else {
		cr_assert_eq(count(out, line), 1, "once: %s in %s", line, out);
		cr_assert_eq(count(out, "Token "), 1, "one line only: %s", out);
	}
	cr_assert_null(strstr(out, secret(tok)), "the secret was shown");
	t_free(out);
}

/* "Token N" + rest, for the token's id. */
static char *
line_for(const char *tok, const char *rest)
{
	char *s = malloc(256);

	cr_assert_not_null(s);
	snprintf(s, 256, "Token %llu%s", strtoull(tok, NULL, 10), rest);
	return s;
}

/* the log never holds the secret */
static void
log_clean(const char *tok)
{
	char *log = t_slurp(t.log);

	cr_assert_null(strstr(log, secret(tok)), "a secret in the log");
	t_free(log);
}

/* The same id with another secret, its checksum right: a real guess. */
static char *
mangled(const char *tok)
{
	char *g = strdup(tok), *r = strstr(g, "|pat-") + 5;

	r[0] = r[0] == 'A' ? 'B' : 'A';
	pat_base62_fixed(pat_crc32(r, PAT_TOKEN_RANDOM_LEN),
	    r + PAT_TOKEN_RANDOM_LEN, PAT_TOKEN_CHECK_LEN);
	return g;
}

Test(notices, a_reported_token_tells_its_owner_at_the_prompt)
{
	char *tok = t_token(&t, "alice", "ssh"), *err = NULL, *l, *bad, *out;
	int rc;

	t_need_root();
	login(tok, NULL, "PAM_SUCCESS", NULL);
	rc = t_ctl(&t, BOB, tok, NULL, &err, "revoke --token-from-stdin");
	cr_assert_eq(rc, 0, "bob reports it: %s", err);
	t_free(err);
	l = line_for(tok, " was revoked: reported as leaked.");
	login(tok, NULL, "PAM_AUTH_ERR", l);
	/* bob with alice's token is told nothing of it */
	out = t_pam_conv(&t, "sshd", "bob", tok, NULL);
	cr_assert(strstr(out, "result=PAM_AUTH_ERR "), "%s", out);
	cr_assert_null(strstr(out, "info="), "bob is told: %s", out);
	t_free(out);
	/* the same id with a wrong secret is a guess: no word of why */
	bad = mangled(tok);
	login(bad, NULL, "PAM_AUTH_ERR", NULL);
	log_clean(tok);
	free(l);
	free(bad);
	t_free(tok);
}

Test(notices, a_rotated_token_used_again_tells_why_the_family_went)
{
	char *old = t_token(&t, "alice", "ssh"), *neu = NULL, *err = NULL, *l;
	int rc;

	t_need_root();
	rc = t_ctl(&t, ALICE, old, &neu, &err, "rotate");
	cr_assert_eq(rc, 0, "rotate: %s", err);
	t_free(err);
	neu[strcspn(neu, "\n")] = '\0';
	l = line_for(old, " was revoked: a token of its family was rotated "
	    "away and used again, so the family was revoked.");
	login(old, NULL, "PAM_AUTH_ERR", l);
	free(l);
	l = line_for(neu, " was revoked: a token of its family was rotated "
	    "away and used again, so the family was revoked.");
	login(neu, NULL, "PAM_AUTH_ERR", l);
	free(l);
	log_clean(old);
	log_clean(neu);
	t_free(neu);
	t_free(old);
}

Test(notices, an_expired_token_says_since_when)
{
	char req[128], day[32], rest[64], *r, *tok, *l;
	time_t end = time(NULL) + DAY;
	struct tm tm;

	t_need_root();
	snprintf(req, sizeof(req), "CREATE role=ssh user=alice expires=%lld\n",
	    (long long)end);
	r = t_raw(&t, req, 1);
	tok = t_field(r, "OK", "token");
	t_free(r);
	t_clock(&t, 2 * DAY);
	gmtime_r(&end, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(rest, sizeof(rest), " expired on %s.", day);
	l = line_for(tok, rest);
	login(tok, NULL, "PAM_AUTH_ERR", l);
	free(l);
	t_free(tok);
}

Test(notices, an_idle_token_says_the_limit_and_role)
{
	char *tok, *l;

	t_need_root();
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "role set ssh pam.sshd "
	    "--max-idle 60d"), 0);
	tok = t_token(&t, "alice", "ssh");
	login(tok, NULL, "PAM_SUCCESS", NULL);
	t_clock(&t, 61 * DAY);
	l = line_for(tok, " stopped working: unused for 60 days (role ssh).");
	login(tok, NULL, "PAM_AUTH_ERR", l);
	free(l);
	t_free(tok);
}

Test(notices, a_wrong_secret_or_unknown_token_learns_nothing)
{
	char *tok = t_token(&t, "alice", "ssh"), *bad = mangled(tok), *r;
	char req[256];

	t_need_root();
	login(bad, NULL, "PAM_AUTH_ERR", NULL);
	/* revoked: its owner would be told, a guesser is not */
	cr_assert_eq(t_ctl(&t, 0, NULL, NULL, NULL, "revoke %llu",
	    strtoull(tok, NULL, 10)), 0);
	login(bad, NULL, "PAM_AUTH_ERR", NULL);
	/* nor in the protocol: an invalid token's ERR has no why= or id= */
	snprintf(req, sizeof(req), "VERIFY token=%s\n", bad);
	r = t_raw(&t, req, 1);
	cr_assert(strstr(r, "ERR code=invalid-token ") == r, "%s", r);
	cr_assert_null(strstr(r, "why="), "%s", r);
	cr_assert_null(strstr(r, " id="), "%s", r);
	t_free(r);
	snprintf(req, sizeof(req), "VERIFY token=%s\n", tok);
	r = t_raw(&t, req, 1);
	cr_assert(strstr(r, "ERR code=revoked why=revoked id="), "%s", r);
	t_free(r);
	free(bad);
	t_free(tok);
}

Test(notices, a_new_remote_host_is_announced_once)
{
	char *tok = t_token(&t, "alice", "ssh"), *l, host[32], want[80];
	int i;

	t_need_root();
	/* the first use ever is no news */
	login(tok, "198.51.100.1", "PAM_SUCCESS", NULL);
	l = line_for(tok, " was used from 203.0.113.9 for the first time.");
	login(tok, "203.0.113.9", "PAM_SUCCESS", l);
	free(l);
	login(tok, "198.51.100.1", "PAM_SUCCESS", NULL);
	login(tok, "203.0.113.9", "PAM_SUCCESS", NULL);
	login(tok, NULL, "PAM_SUCCESS", NULL);
	/* written with last use (LIST writes the batch), and read back after
	 * a restart that lost nothing but the batch */
	t_free(t_raw(&t, "LIST all=1\n", 1));
	t_kill9(&t);
	t_restart(&t);
	login(tok, "203.0.113.9", "PAM_SUCCESS", NULL);
	login(tok, "198.51.100.1", "PAM_SUCCESS", NULL);
	l = line_for(tok, " was used from 2001:db8::7 for the first time.");
	login(tok, "2001:db8::7", "PAM_SUCCESS", l);
	free(l);
	/* the last 8 are kept: after 8 others, the first is new again */
	for (i = 0; i < 8; i++) {
		snprintf(host, sizeof(host), "192.0.2.%d", i + 1);
		snprintf(want, sizeof(want), " was used from %s for the first "
		    "time.", host);
		l = line_for(tok, want);
		login(tok, host, "PAM_SUCCESS", l);
		free(l);
		if (i == 3)	/* half in the store, half in the batch */
			t_free(t_raw(&t, "LIST all=1\n", 1));
	}
	l = line_for(tok, " was used from 198.51.100.1 for the first time.");
	login(tok, "198.51.100.1", "PAM_SUCCESS", l);
	free(l);
	log_clean(tok);
	t_free(tok);
}

/* libpat hands the reason on (pat_refusal_detail), and new_host= */
Test(notices, libpat_gives_the_reason_and_the_new_host)
{
	char *tok = t_token(&t, "alice", "ssh"), *bad = mangled(tok), *err = NULL;
	struct pat_request rq = { .token = tok, .rhost = "198.51.100.1" };
	struct pat_identity who;
	struct pat_refusal why;
	pat_conn *c = NULL;

	cr_assert_eq(pat_open(&c, t.sock, 5000), PAT_OK);
	cr_assert_eq(pat_verify(c, &rq, &who), PAT_OK);
	cr_assert_eq(who.new_host, 0, "the first host is no news");
	cr_assert_eq(pat_refusal_detail(c, &why), 0, "after OK");
	rq.rhost = "198.51.100.2";
	cr_assert_eq(pat_verify(c, &rq, &who), PAT_OK);
	cr_assert_eq(who.new_host, 1);
	cr_assert_eq(pat_verify(c, &rq, &who), PAT_OK);
	cr_assert_eq(who.new_host, 0);
	cr_assert_eq(t_ctl(&t, BOB, tok, NULL, &err, "revoke "
	    "--token-from-stdin"), 0, "%s", err);
	t_free(err);
	cr_assert_eq(pat_verify(c, &rq, &who), PAT_E_REVOKED);
	memset(&why, 0, sizeof(why));
	cr_assert_eq(pat_refusal_detail(c, &why), 1);
	cr_assert_eq(why.id, strtoull(tok, NULL, 10));
	cr_assert_str_eq(why.why, "reported");
	cr_assert_str_eq(why.role, "ssh");
	rq.token = bad;
	cr_assert_eq(pat_verify(c, &rq, &who), PAT_E_INVALID);
	memset(&why, 0x55, sizeof(why));
	cr_assert_eq(pat_refusal_detail(c, &why), 0, "nothing for a guess");
	cr_assert_eq(((unsigned char *)&why)[0], 0x55, "untouched");
	pat_close(c);
	free(bad);
	t_free(tok);
}
