/* ask.c - VERIFY over the common client; see ask.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ask.h"
#include "client.h"
#include "names.h"
#include "token.h"

/* patd's refusals; any other ERR means patd could not answer. */
static const char *refusals[] = { "malformed-token", "invalid-token",
	"revoked", "expired", "owner-gone", "wrong-user", "permission-missing",
	"denied", "rate-limited", "too-deep", "idle", NULL };

#define ROLE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
	"0123456789._-"

static void
set(struct pp_answer *a, enum pp_verdict v, const char *reason)
{
	a->v = v;
	snprintf(a->reason, sizeof(a->reason), "%s", reason);
}

/* Printable ASCII only (0x21-0x7e): patd refuses anything else in a value
 * it logs, and a login must not fail over an odd rhost. */
static bool
clean_value(const char *s, size_t max)
{
	return s != NULL && *s != '\0' && pat_plain_value_valid(s, max);
}

/* An OK answer must be about this user and carry a sane id and role. */
static void
read_ok(const struct pat_msg *m, const char *user, struct pp_answer *a)
{
	const char *id = pat_msg_get(m, "id"), *who = pat_msg_get(m, "user");
	const char *role = pat_msg_get(m, "role");
	const char *exp = pat_msg_get(m, "expires");
	unsigned long long v;
	long long e = 0;

	/* the role goes into PAT_ROLE=…: only a role name's characters */
	if (pat_parse_u64(id, PAT_TOKEN_ID_MAX, &v) < 0 || v == 0 ||
	    who == NULL || strcmp(who, user) != 0 ||
	    !clean_value(role, PP_ROLE_MAX) || strspn(role, ROLE_CHARS) !=
	    strlen(role) || (exp != NULL && pat_parse_i64(exp, &e) < 0)) {
		set(a, PP_UNAVAIL, "patd's answer did not add up");
		return;
	}
	a->id = v;
	a->expires = e;
	snprintf(a->role, sizeof(a->role), "%s", role);
	set(a, PP_ACCEPT, "ok");
}

/* Why a connection was not made, in the words pam_pat logs. */
static const char *
unavail_reason(const struct pat_client *c, int r)
{
	switch (c->failed_at) {
	case PAT_STEP_FILE:
		return r == -ENOENT ? "no socket" : r == -ENOTSOCK ||
		    r == -EPERM ? "the socket is not root's" :
		    "cannot stat the socket";
	case PAT_STEP_PEER:
		return r == -EPERM ? "the socket's peer is not root" :
		    "cannot connect";
	default:
		return r == -ETIMEDOUT ? "timed out" : "cannot connect";
	}
}

void
pp_ask(const struct pp_opts *o, const char *user, const char *token,
    const char *service, const char *rhost, struct pp_answer *a)
{
	struct pat_client c;
	struct pat_msg m = { 0 };
	struct pat_buf req;
	const char *code;
	size_t i;
	int r;

	memset(a, 0, sizeof(*a));
	/* root's patd, or one run by the host process's own user */
	r = pat_client_connect(&c, o->socket, o->timeout_ms, geteuid());
	if (r < 0) {
		set(a, PP_UNAVAIL, unavail_reason(&c, r));
		return;
	}
	pat_buf_init(&req, PAT_LINE_MAX);
	pat_line_begin(&req, "VERIFY");
	pat_line_field(&req, "token", token);
	pat_line_field(&req, "user", user);
	pat_line_field(&req, "perm", o->perm);
	if (clean_value(service, PP_SERVICE_MAX))
		pat_line_field(&req, "service", service);
	if (clean_value(rhost, PP_RHOST_MAX))
		pat_line_field(&req, "rhost", rhost);
	if ((r = pat_line_end(&req)) == 0)
		r = pat_client_send(&c, &req);
	/* one request: say so, so patd closes its end once the answer is
	 * out even if this process is stopped before reading it */
	if (r == 0)
		(void)shutdown(c.fd, SHUT_WR);
	pat_buf_free(&req);
	if (r == 0)
		r = pat_client_read(&c, &m);
	pat_client_close(&c);
	if (r < 0) {
		set(a, PP_UNAVAIL, r == -ETIMEDOUT ? "timed out" :
		    r == -EPROTO ? "garbled or closed answer" : "send failed");
		goto out;
	}
	if (strcmp(m.verb, "OK") == 0) {
		read_ok(&m, user, a);
		goto out;
	}
	if (strcmp(m.verb, "ERR") != 0 || (code = pat_msg_get(&m, "code")) ==
	    NULL) {
		set(a, PP_UNAVAIL, "garbled answer");
		goto out;
	}
	set(a, PP_UNAVAIL, "patd failed");
	for (i = 0; refusals[i]; i++)
		if (strcmp(code, refusals[i]) == 0)
			set(a, PP_REFUSE, refusals[i]);
out:
	pat_msg_wipe(&m);
}
