/*
 * Issue 13: a verifier in front of the internet (a web gate) says which
 * client asks (rhost=), and that client's failures count against its
 * address: one address's burst never slows another, never locks a user
 * out, and a flood of addresses cannot lift a block.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "ratelimit.h"
#include "rhost.h"

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

TestSuite(rhost, .init = setup, .fini = teardown, .timeout = 120);

/* "OK", or "ERR code=…" of the answer; *retry gets retry_after= (0 when
 * absent). */
static void
verdict(const char *line, char *out, size_t n, long *retry)
{
	const char *p = strstr(line, " retry_after=");

	if (retry != NULL)
		*retry = p != NULL ? strtol(p + 13, NULL, 10) : 0;
	if (strncmp(line, "ERR code=", 9) == 0)
		snprintf(out, n, "ERR code=%.*s", (int)strcspn(line + 9, " \n"),
		    line + 9);
	else
		snprintf(out, n, "%.*s", (int)strcspn(line, " \n"), line);
}

/* VERIFY as uid with optional user= and rhost=: the verdict. */
static void
verify(uid_t uid, const char *token, const char *user, const char *rhost,
    char *out, size_t n, long *retry)
{
	char req[600], *r;

	snprintf(req, sizeof(req), "VERIFY token=%s%s%s%s%s\n", token,
	    user ? " user=" : "", user ? user : "", rhost ? " rhost=" : "",
	    rhost ? rhost : "");
	r = t_ask_as(&t, uid, req);
	verdict(r, out, n, retry);
	t_free(r);
}

static void
expect(uid_t uid, const char *token, const char *user, const char *rhost,
    const char *want, const char *why)
{
	char got[80];

	verify(uid, token, user, rhost, got, sizeof(got), NULL);
	cr_assert_str_eq(got, want, "%s (rhost=%s)", why, rhost ? rhost : "-");
}

/* A well-formed token with the id part of `id_from` (or `id` when
 * id_from is NULL) and the secret of `secret_from`. */
static void
forge(char *out, size_t n, const char *id_from, unsigned long id,
    const char *secret_from)
{
	if (id_from != NULL)
		snprintf(out, n, "%.*s%s", (int)strcspn(id_from, "|"), id_from,
		    strchr(secret_from, '|'));
	else
		snprintf(out, n, "%lu%s", id, strchr(secret_from, '|'));
}

/* Answers of a pipelined run, by verdict. */
struct tally {
	unsigned	ok, invalid, limited, malformed, other;
	unsigned	first_limited;	/* index of the first rate-limited */
	long		retry_min, retry_max;
	bool		limited_without_retry;
};

static void
count(struct tally *y, const char *line, unsigned i)
{
	char v[80];
	long retry;

	verdict(line, v, sizeof(v), &retry);
	if (strcmp(v, "OK") == 0)
		y->ok++;
	else if (strcmp(v, "ERR code=invalid-token") == 0)
		y->invalid++;
	else if (strcmp(v, "ERR code=malformed-token") == 0)
		y->malformed++;
	else if (strcmp(v, "ERR code=rate-limited") == 0) {
		if (y->limited++ == 0)
			y->first_limited = i;
		if (retry <= 0)
			y->limited_without_retry = true;
		if (y->retry_min == 0 || retry < y->retry_min)
			y->retry_min = retry;
		if (retry > y->retry_max)
			y->retry_max = retry;
	} else
		y->other++;
}

/*
 * n VERIFY requests as uid over one connection, made by line(i, buf),
 * sent in batches and read back with a buffered reader (t_line reads a
 * byte at a time, too slow for tens of thousands).
 */
static void
pipeline(uid_t uid, unsigned n, void (*line)(unsigned, char *, size_t),
    struct tally *y)
{
	enum { BATCH = 256 };
	static char out[BATCH * 700], in[1 << 16];
	size_t len, have = 0;
	unsigned i = 0, done = 0, b;
	char *nl;
	ssize_t k;
	int fd = t_dial_as(&t, uid);

	memset(y, 0, sizeof(*y));
	cr_assert_geq(fd, 0, "environment: cannot connect as uid %u",
	    (unsigned)uid);
	while (done < n) {
		for (len = 0, b = 0; b < BATCH && i < n; b++, i++) {
			line(i, out + len, sizeof(out) - len);
			len += strlen(out + len);
		}
		cr_assert_eq(send(fd, out, len, MSG_NOSIGNAL), (ssize_t)len);
		while (done < i) {
			while ((nl = memchr(in, '\n', have)) == NULL) {
				cr_assert_lt(have, sizeof(in) - 1);
				k = recv(fd, in + have, sizeof(in) - 1 - have, 0);
				cr_assert_gt(k, 0, "patd closed after %u answers",
				    done);
				have += (size_t)k;
			}
			*nl = '\0';
			count(y, in, done++);
			have -= (size_t)(nl + 1 - in);
			memmove(in, nl + 1, have);
		}
	}
	close(fd);
	explicit_bzero(out, sizeof(out));	/* forged tokens: real secrets */
	explicit_bzero(in, sizeof(in));
}

/* What the generators below send: set by each test. */
static char g_tok[200], g_bad[200], g_rhost[64];

static void
bad_from_one_address(unsigned i, char *buf, size_t n)
{
	char tok[200];

	/* unknown ids and a wrong secret for a real id, in turn */
	if (i % 2)
		forge(tok, sizeof(tok), NULL, 100000 + i, g_tok);
	else
		snprintf(tok, sizeof(tok), "%s", g_bad);
	snprintf(buf, n, "VERIFY token=%s rhost=%s\n", tok, g_rhost);
	explicit_bzero(tok, sizeof(tok));
}

Test(rhost, a_burst_from_one_address_never_slows_others)
{
	char *tok, *tok2, got[80];
	struct tally y;
	long retry;

	t_need_root();
	t_role(&t, "web", "svc.web:read");
	t_grant(&t, "web", "--user alice");
	tok = t_token(&t, "alice", "web");
	tok2 = t_token(&t, "alice", "web");
	snprintf(g_tok, sizeof(g_tok), "%s", tok);
	forge(g_bad, sizeof(g_bad), tok, 0, tok2);
	snprintf(g_rhost, sizeof(g_rhost), "203.0.113.5");
	/* carol (the verify group, as a web gate is): 1000 bad tokens */
	pipeline(CAROL, 1000, bad_from_one_address, &y);
	cr_assert_eq(y.invalid, 10, "rhost_failures (10) refusals before the "
	    "block, got %u invalid-token", y.invalid);
	cr_assert_eq(y.limited, 990, "the rest rate-limited: %u (other %u)",
	    y.limited, y.other);
	cr_assert_eq(y.first_limited, 10);
	cr_assert(!y.limited_without_retry, "a rate-limited answer without "
	    "retry_after=");
	cr_assert(y.retry_min >= 1 && y.retry_max <= 60, "retry_after %ld..%ld "
	    "outside 1..rhost_window", y.retry_min, y.retry_max);
	t_figure("rhost: 1000 bad tokens from one address: %u refused, %u "
	    "rate-limited (retry_after %ld..%ld s)", y.invalid, y.limited,
	    y.retry_min, y.retry_max);
	/* the blocked address waits even with a valid token… */
	verify(CAROL, tok, "alice", "203.0.113.5", got, sizeof(got), &retry);
	cr_assert_str_eq(got, "ERR code=rate-limited");
	cr_assert(retry >= 1 && retry <= 60, "retry_after=%ld", retry);
	/* …while another address, and no address, get through at once, from
	 * the verify group and from root */
	expect(CAROL, tok, "alice", "198.51.100.7", "OK", "another address");
	expect(CAROL, tok, "alice", NULL, "OK", "no address");
	expect(0, tok, "alice", "198.51.100.7", "OK", "root, another address");
	expect(0, tok, NULL, NULL, "OK", "root, no address");
	/* root is a verifier too: its clients' addresses count the same */
	snprintf(g_rhost, sizeof(g_rhost), "192.0.2.44");
	pipeline(0, 30, bad_from_one_address, &y);
	cr_assert(y.invalid == 10 && y.limited == 20, "root: %u invalid, %u "
	    "limited", y.invalid, y.limited);
	expect(0, tok, "alice", "192.0.2.45", "OK", "root, a neighbour");
	explicit_bzero(g_tok, sizeof(g_tok));
	explicit_bzero(g_bad, sizeof(g_bad));
	t_free(tok);
	t_free(tok2);
}

/* Ten failures from `from`, then the valid token from `then`. */
static void
block_then(const char *tok, const char *bad, const char *from,
    const char *then, const char *want, const char *why)
{
	int i;

	for (i = 0; i < 10; i++)
		expect(CAROL, bad, NULL, from, "ERR code=invalid-token",
		    "a failure before the limit");
	expect(CAROL, tok, NULL, then, want, why);
}

Test(rhost, ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4)
{
	char *tok, *tok2, bad[200];

	t_need_root();
	t_role(&t, "web", "svc.web:read");
	t_grant(&t, "web", "--user alice");
	tok = t_token(&t, "alice", "web");
	tok2 = t_token(&t, "alice", "web");
	forge(bad, sizeof(bad), tok, 0, tok2);
	block_then(tok, bad, "2001:db8::1", "2001:db8::2",
	    "ERR code=rate-limited", "2001:db8::2 is in 2001:db8::1's /64");
	expect(CAROL, tok, NULL, "2001:db8:0:1::1", "OK", "the next /64");
	expect(CAROL, tok, NULL, "[2001:db8::3]:443", "ERR code=rate-limited",
	    "brackets and a port hid the address");
	expect(CAROL, tok, NULL, "fe80::1%25eth0", "OK", "link-local");
	block_then(tok, bad, "::ffff:203.0.113.5", "203.0.113.5",
	    "ERR code=rate-limited", "a mapped address is its IPv4 address");
	expect(CAROL, tok, NULL, "203.0.113.6", "OK", "IPv4 is its /32");
	/* an address a host name stands for is another identity */
	expect(CAROL, tok, NULL, "gate.example", "OK", "a host name");
	/* each IPv6 address on its own with rhost_ipv6_prefix = 128 */
	t_reconfigure(&t, "rhost_ipv6_prefix = 128\n");
	block_then(tok, bad, "2001:db8::1", "2001:db8::2", "OK",
	    "with /128, addresses of one /64 are apart");
	expect(CAROL, tok, NULL, "2001:db8::1", "ERR code=rate-limited",
	    "the failing address itself");
	explicit_bzero(bad, sizeof(bad));
	t_free(tok);
	t_free(tok2);
}

Test(rhost, guesses_at_a_users_name_block_only_the_guessing_address)
{
	char *tok, *tok2, *bobtok, bad[200], *r;
	int i;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd svc.web:read");
	t_grant(&t, "ssh", "--user alice");
	t_grant(&t, "ssh", "--user bob");
	tok = t_token(&t, "alice", "ssh");
	tok2 = t_token(&t, "alice", "ssh");
	bobtok = t_token(&t, "bob", "ssh");
	forge(bad, sizeof(bad), tok, 0, tok2);
	/* Basic auth at alice's name from one address: wrong secrets for
	 * her id, unknown ids, and bob's valid token (wrong user) */
	for (i = 0; i < 30; i++) {
		char guess[200], got[80];

		if (i % 3 == 0)
			snprintf(guess, sizeof(guess), "%s", bad);
		else if (i % 3 == 1)
			forge(guess, sizeof(guess), NULL, 5000 + i, tok2);
		else
			snprintf(guess, sizeof(guess), "%s", bobtok);
		verify(CAROL, guess, "alice", "203.0.113.9", got, sizeof(got),
		    NULL);
		explicit_bzero(guess, sizeof(guess));
		cr_assert_str_eq(got, i < 10 ? (i % 3 == 2 ?
		    "ERR code=wrong-user" : "ERR code=invalid-token") :
		    "ERR code=rate-limited", "guess %d", i);
	}
	/* alice is not locked out anywhere else */
	expect(CAROL, tok, "alice", "198.51.100.7", "OK",
	    "guesses from one address locked alice out of another");
	expect(CAROL, tok, "alice", NULL, "OK",
	    "guesses from an address locked alice out of local logins");
	expect(0, tok, "alice", NULL, "OK", "root's verify without rhost");
	r = t_pam_login(&t, "sshd", "alice", tok, NULL);
	cr_assert_str_eq(r, "PAM_SUCCESS", "alice's sshd-style login: %s", r);
	free(r);
	r = t_pam_login(&t, "sshd", "alice", tok, "--rhost 198.51.100.8");
	cr_assert_str_eq(r, "PAM_SUCCESS", "alice's login from another host: "
	    "%s", r);
	free(r);
	/* …while the guessing address is, even with her right token */
	expect(CAROL, tok, "alice", "203.0.113.9", "ERR code=rate-limited",
	    "the guessing address was not blocked");
	/* the other way round: guesses through a local login (su: root,
	 * no rhost) block alice's local logins, not her web or ssh ones */
	for (i = 0; i < 10; i++)
		expect(0, bad, "alice", NULL, "ERR code=invalid-token",
		    "a local guess");
	expect(0, tok, "alice", NULL, "ERR code=rate-limited",
	    "local guesses at alice are not limited per user");
	expect(CAROL, tok, "alice", "198.51.100.7", "OK",
	    "local guesses locked alice out of the web");
	explicit_bzero(bad, sizeof(bad));
	t_free(tok);
	t_free(tok2);
	t_free(bobtok);
}

/*
 * Review of issue 13 (docs/security.md): pam_pat.so passed PAM_RHOST on
 * only when patd would take it as it is (printable, at most 128 bytes);
 * otherwise it sent no rhost=, and patd counted the failures against the
 * user, the rule for su and sudo.  sshd with UseDNS gives the client's DNS
 * name, which whoever runs that name's zone chooses: a name of 200 bytes,
 * and ten wrong tokens from that host locked alice out of her local token
 * logins (su, sudo) and of those from any host whose name was dropped too,
 * for the window.  Such a name now still counts as that host.
 */
Test(rhost, a_host_name_too_long_for_patd_still_counts_as_that_host)
{
	char *tok, *tok2, bad[200], name[220], more[260], *r;
	size_t i;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	tok2 = t_token(&t, "alice", "ssh");
	forge(bad, sizeof(bad), tok, 0, tok2);
	for (i = 0; i + 20 < sizeof(name); i += 10)
		memcpy(name + i, "abcdefghi.", 10);
	snprintf(name + i, sizeof(name) - i, "example.net");
	cr_assert_gt(strlen(name), 128);
	snprintf(more, sizeof(more), "--rhost %s", name);
	for (i = 0; i < 10; i++) {
		r = t_pam_login(&t, "sshd", "alice", bad, more);
		cr_assert_str_eq(r, "PAM_AUTH_ERR", "guess %zu: %s", i, r);
		free(r);
	}
	r = t_pam_login(&t, "sshd", "alice", tok, NULL);
	cr_assert_str_eq(r, "PAM_SUCCESS", "a host with a long name locked "
	    "alice out of her local token logins: %s", r);
	free(r);
	r = t_pam_login(&t, "sshd", "alice", tok, "--rhost 198.51.100.8");
	cr_assert_str_eq(r, "PAM_SUCCESS", "a host with a long name locked "
	    "alice out of other hosts: %s", r);
	free(r);
	/* the guessing host waits, even with her right token, and a name
	 * that long sharing its first 128 bytes is another host */
	r = t_pam_login(&t, "sshd", "alice", tok, more);
	cr_assert_str_eq(r, "PAM_AUTH_ERR", "the guessing host was not "
	    "blocked: %s", r);
	free(r);
	name[strlen(name) - 1] = 'x';
	snprintf(more, sizeof(more), "--rhost %s", name);
	r = t_pam_login(&t, "sshd", "alice", tok, more);
	cr_assert_str_eq(r, "PAM_SUCCESS", "two long names alike in their "
	    "first bytes counted as one host: %s", r);
	free(r);
	explicit_bzero(bad, sizeof(bad));
	t_free(tok);
	t_free(tok2);
}

Test(rhost, malformed_tokens_from_an_address_count_against_no_one)
{
	char *tok;
	int i;

	t_need_root();
	t_role(&t, "web", "svc.web:read");
	t_grant(&t, "web", "--user alice");
	tok = t_token(&t, "alice", "web");
	for (i = 0; i < 40; i++)
		expect(CAROL, i % 2 ? "junk" : "1|pat-notatoken", "alice",
		    "203.0.113.20", "ERR code=malformed-token", "malformed");
	expect(CAROL, tok, "alice", "203.0.113.20", "OK",
	    "malformed input counted against the address");
	t_free(tok);
}

Test(rhost, a_plain_peer_is_limited_by_uid_whatever_rhost_it_names)
{
	char *tok, *bobtok, bad[200], rh[64], got[80], *r;
	long retry;
	int i;

	t_need_root();
	t_role(&t, "web", "svc.web:read");
	t_grant(&t, "web", "--user alice");
	t_grant(&t, "web", "--user bob");
	tok = t_token(&t, "alice", "web");
	bobtok = t_token(&t, "bob", "web");
	forge(bad, sizeof(bad), NULL, 777, bobtok);
	/* bob names a new address each time: it is not his to name */
	for (i = 0; i < 10; i++) {
		snprintf(rh, sizeof(rh), "198.18.0.%d", i + 1);
		expect(BOB, bad, NULL, rh, "ERR code=invalid-token", "bob");
	}
	verify(BOB, bobtok, NULL, "198.18.1.1", got, sizeof(got), &retry);
	cr_assert_str_eq(got, "ERR code=rate-limited", "bob dodged his own "
	    "limit by naming new addresses");
	cr_assert(retry >= 1 && retry <= 60, "retry_after=%ld", retry);
	/* his uid only: alice, and a gate for that address, are not */
	expect(ALICE, tok, NULL, "198.18.1.1", "OK", "alice");
	expect(CAROL, bobtok, "bob", "198.18.0.1", "OK", "the gate");
	/* auth= failures are the peer's too, and say when to come back */
	r = t_ask_as(&t, BOB, "STATUS auth=1|pat-x\n");
	verdict(r, got, sizeof(got), &retry);
	t_free(r);
	cr_assert_str_eq(got, "ERR code=rate-limited");
	cr_assert(retry >= 1 && retry <= 60, "auth=: retry_after=%ld", retry);
	explicit_bzero(bad, sizeof(bad));
	t_free(tok);
	t_free(bobtok);
}

/* Lines of log holding every one of the needles. */
static int
lines_with(const char *log, const char *a, const char *b)
{
	const char *p = log, *e;
	int n = 0;

	for (; *p != '\0'; p = *e ? e + 1 : e) {
		char line[2048];

		e = p + strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)(e - p), p);
		n += strstr(line, a) != NULL && (b == NULL ||
		    strstr(line, b) != NULL);
	}
	return n;
}

Test(rhost, the_log_names_the_address_and_never_the_secret)
{
	char *tok, *tok2, bad[200], *log, *secret;
	int i;

	t_need_root();
	t_reconfigure(&t, "lastuse_flush = 1\n");
	t_role(&t, "web", "svc.web:read");
	t_grant(&t, "web", "--user alice");
	tok = t_token(&t, "alice", "web");
	tok2 = t_token(&t, "alice", "web");
	forge(bad, sizeof(bad), tok, 0, tok2);
	expect(CAROL, tok, "alice", "198.51.100.7", "OK", "a success");
	for (i = 0; i < 10; i++)
		expect(CAROL, bad, "alice", "203.0.113.77",
		    "ERR code=invalid-token", "a refusal");
	for (i = 0; i < 25; i++)
		expect(CAROL, bad, "alice", "203.0.113.77",
		    "ERR code=rate-limited", "blocked");
	expect(CAROL, tok, "alice", NULL, "OK", "no address");
	usleep(1500 * 1000);	/* a flush tick: the summary */
	log = t_slurp(t.log);
	cr_assert_eq(lines_with(log, "event=verify result=ok",
	    "rhost=198.51.100.7"), 1, "the success names its address");
	cr_assert_eq(lines_with(log, "event=verify result=ok", "rhost=-"), 1,
	    "no address is said as rhost=-");
	cr_assert_eq(lines_with(log, "reason=invalid-token",
	    "rhost=203.0.113.77"), 10, "each refusal names its address");
	/* the block is logged once, not 25 times; the repeats are counted */
	cr_assert_eq(lines_with(log, "reason=rate-limited",
	    "rhost=203.0.113.77"), 1, "a block is logged once per window");
	cr_assert_eq(lines_with(log, "reason=rate-limited", "retry_after="),
	    1);
	cr_assert(strstr(log, "event=log-suppressed refusals=24 "
	    "reason=rate-limited-again"), "the repeats are not summed up");
	/* no secret: neither token's, nor the forged one's */
	secret = strchr(tok, '|') + 5;
	cr_assert_null(strstr(log, secret), "a secret in patd's log");
	cr_assert_null(strstr(log, strchr(tok2, '|') + 5),
	    "a secret in patd's log");
	free(log);
	explicit_bzero(bad, sizeof(bad));
	t_free(tok);
	t_free(tok2);
}

static void
once_from_many(unsigned i, char *buf, size_t n)
{
	char tok[200];

	forge(tok, sizeof(tok), NULL, 200000 + i, g_tok);
	snprintf(buf, n, "VERIFY token=%s rhost=10.%u.%u.%u\n", tok,
	    (i >> 16) & 255, (i >> 8) & 255, i & 255);
	explicit_bzero(tok, sizeof(tok));
}

static void
ten_from_each(unsigned i, char *buf, size_t n)
{
	char tok[200];

	forge(tok, sizeof(tok), NULL, 300000 + i, g_tok);
	snprintf(buf, n, "VERIFY token=%s rhost=2001:db8:%x:%x::1\n", tok,
	    (i / 10) >> 16, (i / 10) & 0xffff);
	explicit_bzero(tok, sizeof(tok));
}

/*
 * The table of addresses is bounded (RHOST_SLOTS), and a flood of new
 * addresses cannot lift a block: newcomers take free or unblocked
 * entries.  What it cannot do is said and shown: once every entry is
 * blocked, further addresses go uncounted (logged), and no one is refused
 * for it.
 */
Test(rhost, a_flood_of_addresses_cannot_lift_a_block)
{
	char *tok, *tok2, *log;
	struct tally y;
	long rss0, rss1, rss2;
	unsigned slots = 4096, n1 = slots + 2000, n2 = (slots + 100) * 10;

	t_need_root();
	t_reconfigure(&t, "lastuse_flush = 1\n");
	t_role(&t, "web", "svc.web:read");
	t_grant(&t, "web", "--user alice");
	tok = t_token(&t, "alice", "web");
	tok2 = t_token(&t, "alice", "web");
	snprintf(g_tok, sizeof(g_tok), "%s", tok);
	forge(g_bad, sizeof(g_bad), tok, 0, tok2);
	snprintf(g_rhost, sizeof(g_rhost), "203.0.113.5");
	pipeline(CAROL, 10, bad_from_one_address, &y);
	expect(CAROL, tok, NULL, "203.0.113.5", "ERR code=rate-limited",
	    "blocked");
	rss0 = t_rss_kib(t.pid);
	/* more addresses than the table holds, one failure each: the
	 * blocked entry is the one idle longest, and stays */
	pipeline(CAROL, n1, once_from_many, &y);
	cr_assert_eq(y.invalid, n1, "%u invalid of %u", y.invalid, n1);
	expect(CAROL, tok, NULL, "203.0.113.5", "ERR code=rate-limited",
	    "a flood of new addresses lifted the block");
	rss1 = t_rss_kib(t.pid);
	/* more addresses than the table holds, each up to the limit: the
	 * table fills with blocks, then newcomers go uncounted */
	pipeline(CAROL, n2, ten_from_each, &y);
	cr_assert_eq(y.invalid, n2, "%u invalid of %u", y.invalid, n2);
	rss2 = t_rss_kib(t.pid);
	expect(CAROL, tok, NULL, "203.0.113.5", "ERR code=rate-limited",
	    "a flood of blocked addresses lifted the block");
	expect(CAROL, tok, NULL, "2001:db8::1", "ERR code=rate-limited",
	    "the first of the flood is blocked");
	expect(CAROL, tok, NULL, "198.51.100.7", "OK",
	    "a full table refused an address it never saw");
	usleep(1500 * 1000);	/* a flush tick: the summary */
	log = t_slurp(t.log);
	cr_assert(strstr(log, "event=rhost-table-full uncounted="),
	    "an overflowing table is not reported");
	free(log);
	cr_assert_lt(rss2 - rss1, 1024, "patd grew by %ld KiB over %u new "
	    "addresses once the table was full", rss2 - rss1, n2 / 10);
	t_figure("rhost: %u then %u addresses flooded a %u-entry table: the "
	    "block held; patd RSS %ld -> %ld -> %ld KiB", n1, n2 / 10, slots,
	    rss0, rss1, rss2);
	explicit_bzero(g_tok, sizeof(g_tok));
	explicit_bzero(g_bad, sizeof(g_bad));
	t_free(tok);
	t_free(tok2);
}

/* The key itself, for the forms a verifier may pass. */
Test(rhost, addresses_aggregate_as_documented)
{
	static const struct { const char *in; unsigned p; const char *key; }
	    c[] = {
		{ "203.0.113.5", 64, "rhost:203.0.113.5" },
		{ "203.0.113.5:4711", 64, "rhost:203.0.113.5" },
		{ "[203.0.113.5]", 64, "rhost:203.0.113.5" },
		{ "::ffff:203.0.113.5", 64, "rhost:203.0.113.5" },
		{ "[::ffff:203.0.113.5]:443", 64, "rhost:203.0.113.5" },
		{ "2001:db8::1", 64, "rhost:2001:db8:0:0/64" },
		{ "2001:DB8:0:0:ffff::2", 64, "rhost:2001:db8:0:0/64" },
		{ "[2001:db8::1]:22", 64, "rhost:2001:db8:0:0/64" },
		{ "2001:db8:0:1::1", 64, "rhost:2001:db8:0:1/64" },
		{ "2001:db8::1", 128, "rhost:2001:db8:0:0:0:0:0:1/128" },
		{ "2001:db8:ab:cd::1", 48, "rhost:2001:db8:ab/48" },
		{ "2001:db8::1", 1, "rhost:0/1" },
		{ "2001:db8:ab:cd::1", 60, "rhost:2001:db8:ab:c0/60" },
		{ "::1", 64, "rhost:0:0:0:0/64" },
		{ "fe80::1%eth0", 64, "rhost:fe80:0:0:0/64" },
		{ "gate.example", 64, "rhost:name:gate.example" },
		{ "203.0.113.5:x", 64, "rhost:name:203.0.113.5:x" },
		{ "[2001:db8::1", 64, "rhost:name:[2001:db8::1" },
		{ "%eth0", 64, "rhost:name:%eth0" },
		{ "1.2.3", 64, "rhost:name:1.2.3" },
	};
	char key[RL_KEY_MAX], a[200], b[200], ka[RL_KEY_MAX], kb[RL_KEY_MAX];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(*c); i++) {
		rhost_key(key, sizeof(key), c[i].in, c[i].p);
		cr_expect_str_eq(key, c[i].key, "%s /%u", c[i].in, c[i].p);
	}
	/* long names: cut, with a hash of the whole, never equal by their
	 * first bytes, and never equal to a short name */
	memset(a, 'a', 128);
	a[128] = '\0';
	memcpy(b, a, 129);
	b[127] = 'b';
	rhost_key(ka, sizeof(ka), a, 64);
	rhost_key(kb, sizeof(kb), b, 64);
	cr_assert_eq(strlen(ka), RL_KEY_MAX - 1);
	cr_assert_str_neq(ka, kb, "two long names share a key");
	a[RL_KEY_MAX - 13] = '\0';	/* the longest that fits unhashed */
	rhost_key(kb, sizeof(kb), a, 64);
	cr_assert_lt(strlen(kb), RL_KEY_MAX - 1, "%s", kb);
}
