/*
 * What patctl prints when a stored name is hostile (issue 11, finding 8):
 * a token record and a last-use record written straight into the store,
 * as an older patd that took any bytes could have left them, reach the
 * terminal escaped and JSON readers as valid JSON.  Real patd and patctl.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "store.h"

/* C1 CSI and OSC…ST as UTF-8, a raw CSI byte, 0xff, U+2028, a backslash */
#define HOSTILE_NAME	"evil\xc2\x9b" "31mRED\xc2\x9d" "0;pwned\xc2\x9c" \
			"raw\x9b" "2J\xff" "line\xe2\x80\xa8" "sep\\end"
#define HOSTILE_SVC	"ssh\xc2\x9b" "1m\xe2\x80\xa9" "x\xfe"
#define HOSTILE_RHOST	"10.0.0.1\xc2\x85" "bad\xff"

static struct tpatd t;
static pid_t fake;

static void
teardown(void)
{
	if (fake > 0) {
		kill(fake, SIGKILL);
		waitpid(fake, NULL, 0);
		fake = 0;
	}
	t_stop(&t);
}

TestSuite(output, .fini = teardown, .timeout = 120);

/* Rewrite token id's name and last use offline, patd stopped. */
static void
inject(uint64_t id)
{
	struct store *s = NULL;
	struct tok_rec rec;
	struct last_use lu = { .when = time(NULL) };
	MDB_txn *txn = NULL;

	t_kill9(&t);
	cr_assert_eq(store_open(&s, t.state, (size_t)1024 << 20), 0);
	cr_assert_eq(store_begin(s, true, &txn), 0);
	cr_assert_eq(store_token_get(s, txn, id, &rec), 0);
	snprintf(rec.name, sizeof(rec.name), "%s", HOSTILE_NAME);
	cr_assert_eq(store_token_put(s, txn, &rec, rec.parent), 0);
	snprintf(lu.service, sizeof(lu.service), "%s", HOSTILE_SVC);
	snprintf(lu.rhost, sizeof(lu.rhost), "%s", HOSTILE_RHOST);
	cr_assert_eq(store_lastuse_put(s, txn, id, &lu), 0);
	cr_assert_eq(store_commit(txn), 0);
	store_close(s);
	t_restart(&t);
}

/* Nothing a terminal would act on, nor invalid UTF-8 where the test
 * controls the bytes: no ESC, no C1 (raw or UTF-8), no 0xfe/0xff, no
 * U+2028/U+2029. */
static void
assert_clean(const char *what, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		cr_assert_neq(*p, 0x1b, "%s: raw ESC at byte %zu", what,
		    (size_t)(p - (const unsigned char *)s));
		cr_assert(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f),
		    "%s: a C1 control at byte %zu", what,
		    (size_t)(p - (const unsigned char *)s));
		cr_assert(*p != 0x9b && *p != 0x9d && *p != 0x85 &&
		    *p < 0xfe, "%s: raw byte 0x%02x", what, *p);
		cr_assert(!(p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 ||
		    p[2] == 0xa9)), "%s: a raw line separator", what);
	}
}

/* JSON a strict reader accepts: python3 when present, else our own byte
 * check above is all there is (and the test says so). */
static void
assert_json(const char *what, const char *s)
{
	char *err = NULL;
	int rc;

	if (t_sh(&t, 0, NULL, NULL, NULL, "command -v python3") != 0) {
		cr_log_warn("python3 missing: %s not parsed as JSON", what);
		return;
	}
	rc = t_sh(&t, 0, s, NULL, &err, "python3 -c 'import json,sys; "
	    "json.loads(sys.stdin.buffer.read().decode(\"utf-8\"))'");
	cr_assert_eq(rc, 0, "%s is not valid JSON: %s", what, err);
	free(err);
}

/* patctl as uid; both outputs checked; stdout returned, stderr too when
 * errp is not NULL. */
static char *
ctl(uid_t uid, int want, const char *args, char **errp)
{
	char *out = NULL, *err = NULL, what[300];
	int rc = t_ctl(&t, uid, NULL, &out, &err, "%s", args);

	cr_assert_eq(rc, want, "patctl %s as %u: exit %d", args, (unsigned)uid,
	    rc);
	snprintf(what, sizeof(what), "patctl %s as uid %u", args,
	    (unsigned)uid);
	assert_clean(what, out);
	assert_clean(what, err);
	if (errp != NULL)
		*errp = err;
	else
		free(err);
	return out;
}

Test(output, a_hostile_stored_name_and_service_are_escaped_in_list_show_json)
{
	static const struct { uid_t uid; const char *list; } who[] = {
		{ 0, "list --all" }, { ALICE, "list" } };
	char *tok, *out, args[64];
	size_t i;

	t_need_root();	/* alice's view needs setpriv */
	t_start(&t, NULL);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	cr_assert_eq(strncmp(tok, "1|", 2), 0);
	t_free(tok);
	inject(1);

	for (i = 0; i < sizeof(who) / sizeof(*who); i++) {
		out = ctl(who[i].uid, 0, who[i].list, NULL);
		/* shown, escaped, not dropped; the table may cut a long cell
		 * (show, below, prints it whole) */
		cr_assert(strstr(out, "evil\\xc2\\x9b31mRED"),
		    "list: the name is not escaped as expected: %s", out);
		cr_assert(strstr(out, "ssh\\xc2\\x9b1m"),
		    "list: the service is not escaped as expected: %s", out);
		free(out);

		out = ctl(who[i].uid, 0, "show 1", NULL);
		cr_assert(strstr(out, "evil\\xc2\\x9b31mRED\\xc2\\x9d0;pwned"
		    "\\xc2\\x9craw\\x9b2J\\xffline\\xe2\\x80\\xa8sep\\\\end"),
		    "show: the name is not escaped as expected");
		cr_assert(strstr(out, "ssh\\xc2\\x9b1m\\xe2\\x80\\xa9x\\xfe"),
		    "show: the service is not escaped as expected");
		cr_assert(strstr(out, "10.0.0.1\\xc2\\x85bad\\xff"),
		    "show: rhost");
		free(out);

		snprintf(args, sizeof(args), "--json %s", who[i].list);
		out = ctl(who[i].uid, 0, args, NULL);
		assert_json(args, out);
		cr_assert(strstr(out, "\"evil\\u009b31mRED\\u009d0;pwned"
		    "\\u009craw\\ufffd2J\\ufffdline\\u2028sep\\\\end\""),
		    "json list: the name is not escaped as expected");
		cr_assert(strstr(out, "\"ssh\\u009b1m\\u2029x\\ufffd\""),
		    "json list: the service");
		free(out);

		out = ctl(who[i].uid, 0, "--json show 1", NULL);
		assert_json("--json show 1", out);
		free(out);
	}
}


Test(output, relayed_pam_text_and_patd_messages_are_escaped)
{
	char sock[100], args[300], *out, *err;
	t_start(&t, NULL);
	snprintf(sock, sizeof(sock), "%s/fake.sock", t.dir);
	/* what a PAM module or a hostile record could make patd relay */
	fake = t_fake_patd(sock,
	    "INFO text=hi%C2%9B2J%E2%80%A8there%FF\n"
	    "ERROR text=%C2%9D0;title%C2%9C\n"
	    "ERR code=login-failed message=no%C2%9B31m%FE\n");
	/* root's runtime dir: patctl login keeps its session there */
	snprintf(args, sizeof(args), "%s/xdg", t.dir);
	cr_assert_eq(mkdir(args, 0700), 0);
	setenv("XDG_RUNTIME_DIR", args, 1);
	snprintf(args, sizeof(args), "--socket %s login", sock);
	out = ctl(0, 1, args, &err);
	cr_assert(strstr(err, "hi\\xc2\\x9b2J\\xe2\\x80\\xa8there\\xff"),
	    "login: INFO text not shown escaped: %s", err);
	cr_assert(strstr(err, "\\xc2\\x9d0;title\\xc2\\x9c"),
	    "login: ERROR text: %s", err);
	cr_assert(strstr(err, "no\\xc2\\x9b31m\\xfe (login-failed)"),
	    "login: patd's message: %s", err);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "--socket %s status", sock);
	out = ctl(0, 1, args, &err);
	cr_assert(strstr(err, "no\\xc2\\x9b31m\\xfe (login-failed)"),
	    "status: patd's message: %s", err);
	free(out);
	free(err);
}
