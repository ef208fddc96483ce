/*
 * Review finding 7: a peer cannot forge log records.  VERIFY takes only
 * printable ASCII in service= and rhost=, and log.c escapes whatever else
 * reaches a log line, so every record is one line and a value one field.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "log.h"

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

TestSuite(logrecords, .timeout = 60);

static void
escapes_to(const char *src, size_t len, bool value, const char *want)
{
	char out[256];

	log_escape(out, sizeof(out), src, len, value);
	cr_assert_str_eq(out, want, "value=%d", value);
}

Test(logrecords, escaping_covers_every_class_of_byte)
{
	char out[16], all[256], big[1100];
	size_t i, n;

	/* printable ASCII is kept; a backslash doubles */
	escapes_to("abc-XYZ_09.~!=", 14, true, "abc-XYZ_09.~!=");
	escapes_to("a\\b", 3, true, "a\\\\b");
	escapes_to("\\x41", 4, false, "\\\\x41");
	/* a space: kept in free text, escaped inside a value */
	escapes_to("a b", 3, false, "a b");
	escapes_to("a b", 3, true, "a\\x20b");
	/* controls and DEL */
	escapes_to("\n\r\t\x01\x1b\x7f", 6, false,
	    "\\x0a\\x0d\\x09\\x01\\x1b\\x7f");
	/* U+2028, U+00A0, U+0085, invalid UTF-8 */
	escapes_to("\xe2\x80\xa8" "event=verify", 15, true,
	    "\\xe2\\x80\\xa8event=verify");
	escapes_to("\xc2\xa0\xc2\x85\xff\x80", 6, false,
	    "\\xc2\\xa0\\xc2\\x85\\xff\\x80");
	/* srclen and a NUL both end the source */
	escapes_to("abcdef", 3, true, "abc");
	/* whole escapes only when the room runs out */
	n = log_escape(out, 6, "ab\xff" "cd", 5, true);
	cr_assert_str_eq(out, "ab", "a cut escape: %s", out);
	cr_assert_eq(n, 2);
	/* every byte: the result is printable ASCII (and spaces) only */
	for (i = 0; i < 255; i++)
		all[i] = (char)(i + 1);
	all[255] = '\0';
	log_escape(big, sizeof(big), all, 255, true);
	for (i = 0; big[i] != '\0'; i++)
		cr_assert(big[i] >= 0x21 && big[i] <= 0x7e, "byte %02x at %zu",
		    (unsigned char)big[i], i);
	cr_assert_eq(strlen(big), 94 + 161 * 4 + 1, "%zu", strlen(big));
}

Test(logrecords, log_lines_escape_string_arguments_only)
{
	char line[512];

	/* an event: a %s right after '=' is a value; our own text stays */
	log_format(line, sizeof(line), true, "result=%s id=%llu user=%s%s",
	    "ok", 42ULL, "x\xe2\x80\xa8" "event=verify result=ok user=root",
	    " cascade=yes");
	cr_assert_str_eq(line, "result=ok id=42 user=x\\xe2\\x80\\xa8"
	    "event=verify\\x20result=ok\\x20user=root cascade=yes", "%s", line);
	/* free text keeps its spaces, never a line break */
	log_format(line, sizeof(line), false, "cannot %s: %s (%d, %u, %.3s, "
	    "%c, %zu, %x, %lld%%)", "open", "a\nb c", -7, 7u, "abcdef", 'q',
	    (size_t)12, 255u, -9000000000LL);
	cr_assert_str_eq(line, "cannot open: a\\x0ab c (-7, 7, abc, q, 12, ff, "
	    "-9000000000%)", "%s", line);
}

/* Every line of patd's log: one record, printable ASCII. */
static void
assert_log_lines_clean(void)
{
	char *log = t_slurp(t.log), *line, *save = NULL;
	size_t i;

	for (i = 0; log[i] != '\0'; i++)
		cr_assert(((unsigned char)log[i] >= 0x20 &&
		    (unsigned char)log[i] < 0x7f) || log[i] == '\n',
		    "byte 0x%02x in patd's log", (unsigned char)log[i]);
	for (line = strtok_r(log, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *e = strstr(line, "event=");

		cr_assert(e == NULL || strstr(e + 1, "event=") == NULL,
		    "two records in one line: %s", line);
	}
	free(log);
}

Test(logrecords, verify_refuses_non_ascii_service_and_rhost,
    .init = setup, .fini = teardown)
{
	static const char *bad[] = {
		"%E2%80%A8event=verify%20result=ok%20user=root",
		"x%C2%A0event=verify",
		"x%FFevent=verify",
		"x%0Aevent=verify",
		"x%7F",
		"a%20b",
	};
	char *tok, req[512], *r;
	size_t i;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(req, sizeof(req), "VERIFY token=%s user=alice "
		    "service=%s\n", tok, bad[i]);
		r = t_raw(&t, req, 1);
		cr_assert_eq(strncmp(r, "ERR code=bad-request", 20), 0,
		    "service=%s: %.60s", bad[i], r);
		free(r);
		snprintf(req, sizeof(req), "VERIFY token=%s user=alice "
		    "rhost=%s\n", tok, bad[i]);
		r = t_raw(&t, req, 1);
		cr_assert_eq(strncmp(r, "ERR code=bad-request", 20), 0,
		    "rhost=%s: %.60s", bad[i], r);
		free(r);
	}
	/* printable ASCII is still fine */
	snprintf(req, sizeof(req), "VERIFY token=%s user=alice service=sshd "
	    "rhost=[2001:db8::1]:22\n", tok);
	r = t_raw(&t, req, 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%.60s", r);
	free(r);
	/* pam_pat.so sends an odd rhost as host-name characters and a hash
	 * (it counts as that host): the login still works */
	r = t_pam_login(&t, "sshd", "alice", tok,
	    "--rhost \"$(printf 'h\\342\\200\\250event=verify')\"");
	cr_assert_str_eq(r, "PAM_SUCCESS", "an odd rhost failed the login");
	free(r);
	r = t_pam_login(&t, "sshd", "alice", tok,
	    "--rhost \"$(printf 'h\\377\\302\\240x')\"");
	cr_assert_str_eq(r, "PAM_SUCCESS", "invalid UTF-8 failed the login");
	free(r);
	assert_log_lines_clean();
	t_free(tok);
}

/* A token's name is stored and later shown to admins: plain text only. */
Test(logrecords, create_refuses_a_name_that_is_not_printable_ascii,
    .init = setup, .fini = teardown)
{
	static const char *bad[] = { "%1B%5B31mred", "x%C2%9B31m", "x%E2%80%A8y",
		"x%FF", "x%C2%A0y", "x%7F" };
	char req[256], *r;
	size_t i;

	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(req, sizeof(req), "CREATE role=ssh user=alice "
		    "name=%s\n", bad[i]);
		r = t_raw(&t, req, 1);
		cr_assert_eq(strncmp(r, "ERR code=bad-request", 20), 0,
		    "name=%s: %.60s", bad[i], r);
		free(r);
	}
	r = t_raw(&t, "CREATE role=ssh user=alice name=laptop%20(home)\n", 1);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "%.60s", r);
	t_free(r);
	r = t_raw(&t, "LIST user=alice\n", 1);
	cr_assert(strstr(r, "OK count=1"), "only the plain name was stored: "
	    "%.200s", r);
	free(r);
}

/* One user's junk cannot drown the log: refusals are logged within a
 * budget per uid, the rest counted; another user's are still logged. */
Test(logrecords, one_uid_cannot_flood_the_log, .init = setup,
    .fini = teardown)
{
	static char flood[500 * 60 + 1];
	char *r, *log, *p;
	int i, bobs = 0, fd;

	t_need_root();
	t_reconfigure(&t, "lastuse_flush = 1\n");
	for (i = 0; i < 500; i++)
		strcat(flood, "VERIFY token=1|pat-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAA\n");
	fd = t_dial_as(&t, BOB);
	cr_assert_geq(fd, 0);
	cr_assert_eq(send(fd, flood, strlen(flood), MSG_NOSIGNAL),
	    (ssize_t)strlen(flood));
	for (i = 0; i < 500; i++)
		free(t_line(fd));
	close(fd);
	r = t_ask_as(&t, ALICE, "VERIFY token=2|pat-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n");
	free(r);
	usleep(1500 * 1000);	/* a flush tick: the summary */
	log = t_slurp(t.log);
	for (p = log; (p = strstr(p, "peer_uid=1002")) != NULL; p++)
		bobs++;
	cr_assert_leq(bobs, 100, "%d of bob's 500 refusals logged", bobs);
	cr_assert_geq(bobs, 50, "bob's first refusals are logged: %d", bobs);
	cr_assert(strstr(log, "peer_uid=1001"), "alice's refusal was cut too");
	cr_assert(strstr(log, "event=log-suppressed refusals="), "the cut is "
	    "not said");
	free(log);
	t_figure("log: 500 junk verifications from one uid, %d logged, the "
	    "rest counted", bobs);
}

/*
 * Review of issue 13/14 (docs/security.md): successful verifications were
 * logged with no budget at all.  Whoever holds one valid token - a stolen
 * one, through pat-gate at thousands a second - could push patd past
 * journald's rate limit for the unit, so that every other record of the
 * window (revocations, blocks, logins) was dropped.  A token's successes
 * are now logged within log_refusals a minute, the rest counted.
 */
Test(logrecords, one_token_cannot_flood_the_log, .init = setup,
    .fini = teardown)
{
	static char flood[500 * 80 + 1];
	char *tok, *tok2, req[200], pat[64], *r, *log, *p;
	int i, n = 0, fd;

	t_need_root();
	t_reconfigure(&t, "lastuse_flush = 1\n");
	t_role(&t, "web", "api.read");
	t_grant(&t, "web", "--user alice");
	tok = t_token(&t, "alice", "web");
	tok2 = t_token(&t, "alice", "web");
	flood[0] = '\0';
	for (i = 0; i < 500; i++) {
		snprintf(req, sizeof(req), "VERIFY token=%s\n", tok);
		strcat(flood, req);
	}
	fd = t_dial_as(&t, ALICE);
	cr_assert_geq(fd, 0);
	cr_assert_eq(send(fd, flood, strlen(flood), MSG_NOSIGNAL),
	    (ssize_t)strlen(flood));
	explicit_bzero(flood, sizeof(flood));
	for (i = 0; i < 500; i++) {
		r = t_line(fd);
		cr_assert(strncmp(r, "OK ", 3) == 0, "verification %d: %.20s",
		    i, r);
		free(r);
	}
	close(fd);
	snprintf(req, sizeof(req), "VERIFY token=%s\n", tok2);
	r = t_ask_as(&t, ALICE, req);
	explicit_bzero(req, sizeof(req));
	cr_assert(strncmp(r, "OK ", 3) == 0, "the other token: %.20s", r);
	free(r);
	usleep(1500 * 1000);	/* a flush tick: the summary */
	log = t_slurp(t.log);
	snprintf(pat, sizeof(pat), "result=ok id=%lu ", strtoul(tok, NULL,
	    10));
	for (p = log; (p = strstr(p, pat)) != NULL; p++)
		n++;
	cr_assert_leq(n, 100, "%d of one token's 500 successes logged", n);
	cr_assert_geq(n, 50, "its first successes are logged: %d", n);
	snprintf(pat, sizeof(pat), "result=ok id=%lu ", strtoul(tok2, NULL,
	    10));
	cr_assert(strstr(log, pat), "the other token's success was cut too");
	cr_assert(strstr(log, "event=log-suppressed uses="), "the cut is not "
	    "said");
	free(log);
	t_figure("log: 500 verifications of one token, %d logged, the rest "
	    "counted", n);
	t_free(tok);
	t_free(tok2);
}
