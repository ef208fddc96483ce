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
		"quota-exceeded", "too-deep", "policy-exceeded", "idle", "binding",
		NULL };
	static const char *usage[] = { "bad-request", "bad-binding",
		"unknown-verb",
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
	if (strcmp(code, "policy-exceeded") == 0)
		return "patctl role show ROLE shows the role's lifetime limits";
	if (strcmp(code, "idle") == 0)
		return "the token went unused for longer than its role allows; "
		    "create a new one (patctl create)";
	if (strcmp(code, "binding") == 0)
		return "the token is bound to other networks or services "
		    "(patctl show ID lists its binding)";
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
	    pw ? pw->pw_name : "", pw ? ")" : "");
	return buf;
}

/* What --socket-owner takes for uid: its name, else the number. */
static const char *
owner_arg(uid_t uid, char *buf, size_t n)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, n, "%s", pw ? pw->pw_name : "");
	if (pw == NULL)
		snprintf(buf, n, "%u", (unsigned)uid);
	return buf;
}

int
ctl_connect(struct ctl *c, struct pat_client *cl, int timeout_ms)
{
	char w[128], t[128], o1[128], o2[128];
	int r;

	r = pat_client_connect(cl, c->socket, timeout_ms, c->trusted);
	if (r == 0)
		return EX_OK;
	if (cl->failed_at == PAT_STEP_FILE && r == -ENOTSOCK)
		return ctl_err(c, EX_UNREACHABLE, "untrusted-socket", "refusing "
		    "%s: it is not a socket (patctl follows no symlink there)",
		    c->socket);
	if (r == -EPERM && (cl->failed_at == PAT_STEP_FILE ||
	    cl->failed_at == PAT_STEP_PEER)) {
		/* a stranger's socket would collect what we send: say so,
		 * send nothing */
		ctl_err(c, EX_UNREACHABLE, "untrusted-socket", "refusing to "
		    "talk to %s: %s %s, and patctl trusts only root%s%s",
		    c->socket, cl->failed_at == PAT_STEP_FILE ?
		    "the socket belongs to" : "the process serving it runs as",
		    who(cl->other_uid, w, sizeof(w)), c->trusted ? " and " : "",
		    c->trusted ? who(c->trusted, t, sizeof(t)) : "");
		ctl_hint(c, "nothing was sent; if that is your own private "
		    "patd, trust it with --socket-owner %s (or "
		    "PATD_SOCKET_OWNER=%s)", owner_arg(cl->other_uid, o1,
		    sizeof(o1)), owner_arg(cl->other_uid, o2, sizeof(o2)));
		return EX_UNREACHABLE;
	}
	ctl_err(c, EX_UNREACHABLE, "unreachable", "cannot reach patd at %s: "
	    "%s", c->socket, strerror(-r));
	ctl_hint(c, "is patd running? (systemctl status patd.socket; or set "
	    "--socket / PATD_SOCKET)");
	return EX_UNREACHABLE;
}

/* patd's words for a refusal, unless they are the protocol's: a request
 * patctl built that patd could not take is patctl's problem (or a patd of
 * another version), and its field names would mean nothing here. */
static int
refusal(struct ctl *c, const char *code, const char *msg)
{
	const char *hint;
	int ex = exit_for(code);

	if (strcmp(code, "bad-request") == 0 || strcmp(code, "too-long") == 0)
		ctl_err(c, ex, code, "patd could not accept the request patctl "
		    "made from your arguments%s", strcmp(code, "too-long") ?
		    "" : ": it is too long");
	else if (strcmp(code, "unknown-verb") == 0 ||
	    strcmp(code, "unsupported-version") == 0)
		ctl_err(c, ex, code, "this patd does not know this command: it "
		    "is older than patctl");
	else if (c->json)	/* the code has its own member there */
		ctl_err(c, ex, code, "%s", msg ? msg : "refused");
	else
		ctl_err(c, ex, code, "%s (%s)", msg ? msg : "refused", code);
	if (strcmp(code, "bad-request") == 0)
		ctl_hint(c, "check the values given (patctl %s --help); if "
		    "they look right, patctl and patd may be of different "
		    "versions (patctl --version, patctl status)",
		    c->cmd ? c->cmd : "COMMAND");
	else if ((hint = hint_for(code)) != NULL)
		ctl_hint(c, "%s", hint);
	return ex;
}

int
ctl_call(struct ctl *c, struct pat_buf *req, item_fn on_item, void *arg,
    struct pat_msg *final)
{
	struct pat_client cl;
	const char *code;
	int r, ex = EX_OK;

	if (pat_line_end(req) < 0)
		return ctl_err(c, EX_USAGE, "usage", "the request is too long "
		    "(over %d bytes): give fewer or shorter values",
		    PAT_LINE_MAX);
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
			ex = refusal(c, code ? code : "unknown",
			    pat_msg_get(final, "message"));
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
	return ctl_err(c, EX_FAILED, "bad-answer", "patd did not answer "
	    "properly: %s", r == -ETIMEDOUT ? "timed out" : r == -EPROTO ?
	    "connection closed or garbled" : strerror(-r));
}
