/* call.c - one request to patd, answer and errors mapped to exit codes. */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "client.h"
#include "ctl.h"

/* How a refusal code maps to an exit code; unknown codes count as failure. */
static int
exit_for(const char *code)
{
	static const char *refused[] = { "invalid-token", "malformed-token",
		"revoked", "expired", "wrong-user", "permission-missing",
		"owner-gone", "denied", "not-found", "auth-required",
		"empty-permissions", "bad-credential", "rate-limited",
		"session-expired", "bad-session", "login-failed",
		"quota-exceeded", "too-deep", NULL };
	static const char *usage[] = { "bad-request", "unknown-verb",
		"too-long", "unsupported-version", NULL };
	size_t i;

	for (i = 0; refused[i]; i++)
		if (strcmp(code, refused[i]) == 0)
			return EX_REFUSED;
	for (i = 0; usage[i]; i++)
		if (strcmp(code, usage[i]) == 0)
			return EX_USAGE;
	return EX_FAILED;
}

static const char *
hint_for(const char *code)
{
	/* no hint for "denied": patd's message says who may, and a generic
	 * one contradicted it (a pat.admin token cannot create for others) */
	if (strcmp(code, "auth-required") == 0)
		return "run patctl login first, or give an existing token of "
		    "yours on stdin with --parent-from-stdin";
	if (strcmp(code, "store-full") == 0)
		return "free disk space or raise patd --map-size";
	if (strcmp(code, "rate-limited") == 0)
		return "wait a minute before trying again";
	if (strcmp(code, "busy") == 0)
		return "patd has too many connections; try again shortly";
	return NULL;
}

/* Verbs that a login session may authorise: it goes along automatically. */
static bool
takes_session(const char *verb)
{
	static const char *v[] = { "CREATE", "LIST", "SHOW", "REVOKE",
		"ROLE-SET", "ROLE-DELETE", "GRANT", "UNGRANT", NULL };
	size_t i;

	for (i = 0; v[i]; i++)
		if (strcmp(verb, v[i]) == 0)
			return true;
	return false;
}

void
ctl_begin(struct ctl *c, struct pat_buf *req, const char *verb)
{
	pat_buf_init(req, PAT_LINE_MAX);
	pat_line_begin(req, verb);
	if (c->auth[0] != '\0')
		pat_line_field(req, "auth", c->auth);
	else if (c->session[0] != '\0' && takes_session(verb))
		pat_line_field(req, "session", c->session);
}

/* "uid 1001 (alice)" */
static const char *
who(uid_t uid, char *buf, size_t n)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, n, "uid %u%s%s%s", (unsigned)uid, pw ? " (" : "",
	    pw ? shown(pw->pw_name) : "", pw ? ")" : "");
	return buf;
}

/* What --socket-owner takes for uid: its name, else the number. */
static const char *
owner_arg(uid_t uid, char *buf, size_t n)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, n, "%s", pw ? shown(pw->pw_name) : "");
	if (pw == NULL)
		snprintf(buf, n, "%u", (unsigned)uid);
	return buf;
}

int
ctl_connect(struct ctl *c, struct pat_client *cl, int timeout_ms)
{
	char w[128], t[128];
	int r;

	r = pat_client_connect(cl, c->socket, timeout_ms, c->trusted);
	if (r == 0)
		return EX_OK;
	if (cl->failed_at == PAT_STEP_FILE && r == -ENOTSOCK) {
		fprintf(stderr, "patctl: refusing %s: it is not a socket "
		    "(patctl follows no symlink there)\n", shown(c->socket));
		return EX_UNREACHABLE;
	}
	if (r == -EPERM && (cl->failed_at == PAT_STEP_FILE ||
	    cl->failed_at == PAT_STEP_PEER)) {
		/* a stranger's socket would collect what we send: say so,
		 * send nothing */
		fprintf(stderr, "patctl: refusing to talk to %s: %s %s, and "
		    "patctl trusts only root%s%s\n", shown(c->socket),
		    cl->failed_at == PAT_STEP_FILE ? "the socket belongs to" :
		    "the process serving it runs as",
		    who(cl->other_uid, w, sizeof(w)), c->trusted ? " and " : "",
		    c->trusted ? who(c->trusted, t, sizeof(t)) : "");
		fprintf(stderr, "patctl: nothing was sent; if that is your "
		    "own private patd, trust it with --socket-owner %s (or "
		    "PATD_SOCKET_OWNER=%s)\n", owner_arg(cl->other_uid, t,
		    sizeof(t)), owner_arg(cl->other_uid, w, sizeof(w)));
		return EX_UNREACHABLE;
	}
	fprintf(stderr, "patctl: cannot reach patd at %s: %s\n"
	    "patctl: is patd running? (systemctl status patd.socket; "
	    "or set --socket / PATD_SOCKET)\n", shown(c->socket),
	    strerror(-r));
	return EX_UNREACHABLE;
}

int
ctl_call(struct ctl *c, struct pat_buf *req, item_fn on_item, void *arg,
    struct pat_msg *final)
{
	struct pat_client cl;
	const char *code, *msg, *hint;
	int r, ex = EX_OK;

	if (pat_line_end(req) < 0) {
		fprintf(stderr, "patctl: request too long (over %d bytes)\n",
		    PAT_LINE_MAX);
		return EX_USAGE;
	}
	if ((ex = ctl_connect(c, &cl, c->timeout_ms)) != EX_OK)
		return ex;
	if ((r = pat_client_send(&cl, req)) < 0)
		goto broken;
	for (;;) {
		if ((r = pat_client_read(&cl, final)) < 0)
			goto broken;
		if (strcmp(final->verb, "OK") == 0)
			break;
		if (strcmp(final->verb, "ERR") == 0) {
			code = pat_msg_get(final, "code");
			msg = pat_msg_get(final, "message");
			code = code ? code : "unknown";
			fprintf(stderr, "patctl: %s (%s)\n", msg ?
			    shown(msg) : "refused", shown(code));
			if ((hint = hint_for(code)) != NULL)
				fprintf(stderr, "patctl: %s\n", hint);
			ex = exit_for(code);
			break;
		}
		if (on_item != NULL && (r = on_item(final, arg)) != 0) {
			ex = r;
			break;
		}
	}
	pat_client_close(&cl);
	return ex;
broken:
	pat_client_close(&cl);
	fprintf(stderr, "patctl: patd did not answer properly: %s\n",
	    r == -ETIMEDOUT ? "timed out" : r == -EPROTO ?
	    "connection closed or garbled" : strerror(-r));
	return EX_FAILED;
}
