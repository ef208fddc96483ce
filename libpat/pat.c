/* pat.c - libpat: VERIFY over the common client; see pat/pat.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "names.h"
#include "perm.h"
#include "proto.h"
#include "token.h"

#include "pat_internal.h"

/* A longer "token" is none: refused unsent (patd would say the same). */
#define TOKEN_ARG_MAX	256
#define SERVICE_MAX	64	/* patd's limits on what it records */
#define RHOST_MAX	128
#define RETRY_AFTER_MAX	86400

struct pat_conn {
	struct pat_client cl;		/* cl.fd < 0: not connected */
	bool		once;		/* one request: half-close after it */
	int		timeout_ms;
	uid_t		trusted;
	int		retry_after;
	struct pat_refusal refusal;	/* .id 0: none */
	char		path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* patd's ERR codes a VERIFY may carry, and what they become. */
static const struct {
	const char	*code;
	int		 status;
} errs[] = {
	{ "malformed-token",	PAT_E_MALFORMED },
	{ "invalid-token",	PAT_E_INVALID },
	{ "revoked",		PAT_E_REVOKED },
	{ "expired",		PAT_E_EXPIRED },
	{ "owner-gone",		PAT_E_OWNER_GONE },
	{ "wrong-user",		PAT_E_WRONG_USER },
	{ "permission-missing",	PAT_E_PERMISSION },
	{ "denied",		PAT_E_DENIED },
	{ "rate-limited",	PAT_E_RATE_LIMITED },
	{ "too-deep",		PAT_E_TOO_DEEP },
	{ "idle",		PAT_E_IDLE },
	{ "binding",		PAT_E_BINDING },
	{ "bad-request",	PAT_E_ARGUMENT },
};

/* pat_strerror's names: patd's codes for its refusals. */
static const struct {
	int		 status;
	const char	*name;
} names[] = {
	{ PAT_OK,		"ok" },
	{ PAT_E_MALFORMED,	"malformed-token" },
	{ PAT_E_INVALID,	"invalid-token" },
	{ PAT_E_REVOKED,	"revoked" },
	{ PAT_E_EXPIRED,	"expired" },
	{ PAT_E_OWNER_GONE,	"owner-gone" },
	{ PAT_E_WRONG_USER,	"wrong-user" },
	{ PAT_E_PERMISSION,	"permission-missing" },
	{ PAT_E_DENIED,		"denied" },
	{ PAT_E_RATE_LIMITED,	"rate-limited" },
	{ PAT_E_TOO_DEEP,	"too-deep" },
	{ PAT_E_IDLE,		"idle" },
	{ PAT_E_BINDING,	"binding" },
	{ PAT_E_ARGUMENT,	"bad-argument" },
	{ PAT_E_NOMEM,		"out-of-memory" },
	{ PAT_E_NO_SOCKET,	"no-socket" },
	{ PAT_E_UNTRUSTED,	"untrusted-socket" },
	{ PAT_E_CONNECT,	"cannot-connect" },
	{ PAT_E_TIMEOUT,	"timeout" },
	{ PAT_E_PROTOCOL,	"protocol-error" },
	{ PAT_E_SERVER,		"server-error" },
};

PAT_PUBLIC const char *
pat_strerror(int status)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (names[i].status == status)
			return names[i].name;
	return "unknown-error";
}

PAT_PUBLIC int
pat_is_refusal(int status)
{
	return status <= PAT_E_MALFORMED && status >= PAT_E_BINDING;
}

/*
 * Everything is checked before a connection is made: a request patd would
 * refuse as bad-request is never sent.  A token too long or with bytes
 * outside 0x21-0x7e cannot be well-formed: that is patd's malformed-token,
 * given here without asking (a web gate passes what a client sent).
 */
static int
check_request(const struct pat_request *rq)
{
	if (rq == NULL || rq->token == NULL || rq->token[0] == '\0')
		return PAT_E_ARGUMENT;
	if (!pat_plain_value_valid(rq->token, TOKEN_ARG_MAX))
		return PAT_E_MALFORMED;
	if (rq->user != NULL && !pat_user_name_valid(rq->user))
		return PAT_E_ARGUMENT;
	if (rq->perm != NULL && (strlen(rq->perm) > PAT_PERM_MAX_LEN ||
	    !pat_perm_valid(rq->perm) || strchr(rq->perm, '*') != NULL))
		return PAT_E_ARGUMENT;
	if ((rq->service != NULL &&
	    !pat_plain_value_valid(rq->service, SERVICE_MAX)) ||
	    (rq->rhost != NULL && !pat_plain_value_valid(rq->rhost, RHOST_MAX)))
		return PAT_E_ARGUMENT;
	return PAT_OK;
}

static int
build_request(struct pat_buf *req, const struct pat_request *rq)
{
	int r;

	r = pat_line_begin(req, "VERIFY");
	if (r == 0)
		r = pat_line_field(req, "token", rq->token);
	if (r == 0 && rq->user != NULL)
		r = pat_line_field(req, "user", rq->user);
	if (r == 0 && rq->perm != NULL)
		r = pat_line_field(req, "perm", rq->perm);
	/* empty: nothing to record */
	if (r == 0 && rq->service != NULL && rq->service[0] != '\0')
		r = pat_line_field(req, "service", rq->service);
	if (r == 0 && rq->rhost != NULL && rq->rhost[0] != '\0')
		r = pat_line_field(req, "rhost", rq->rhost);
	if (r == 0)
		r = pat_line_end(req);
	return r == -ENOMEM ? PAT_E_NOMEM : r < 0 ? PAT_E_ARGUMENT : PAT_OK;
}

static bool
fits(const char *s, size_t size)
{
	return strnlen(s, size) < size;
}

/* An OK answer must be about this token's user and add up. */
static int
read_ok(const struct pat_msg *m, const struct pat_request *rq,
    struct pat_identity *id)
{
	const char *user = pat_msg_get(m, "user"), *role = pat_msg_get(m, "role");
	const char *name = pat_msg_get(m, "name"), *perms = pat_msg_get(m, "perms");
	const char *nh = pat_msg_get(m, "new_host");
	unsigned long long v, uid;
	long long e;

	if (name == NULL)
		name = "";
	if (perms == NULL)
		perms = "";
	if (pat_parse_u64(pat_msg_get(m, "id"), PAT_TOKEN_ID_MAX, &v) < 0 ||
	    v == 0 ||
	    pat_parse_u64(pat_msg_get(m, "uid"), (uid_t)-2, &uid) < 0 ||
	    pat_parse_i64(pat_msg_get(m, "expires"), &e) < 0 || e < 0 ||
	    user == NULL || !pat_user_name_valid(user) ||
	    !fits(user, PAT_USER_SIZE) ||
	    (rq->user != NULL && strcmp(user, rq->user) != 0) ||
	    role == NULL || !pat_role_name_valid(role) ||
	    !fits(role, PAT_ROLE_SIZE) ||
	    !pat_token_name_valid(name) || !fits(name, PAT_NAME_SIZE) ||
	    !pat_plain_value_valid(perms, PAT_PERMS_SIZE - 1))
		return PAT_E_PROTOCOL;
	memset(id, 0, sizeof(*id));
	id->id = v;
	id->uid = (uid_t)uid;
	id->expires = e;
	strcpy(id->user, user);
	strcpy(id->role, role);
	strcpy(id->name, name);
	strcpy(id->perms, perms);
	id->new_host = nh != NULL && strcmp(nh, "1") == 0;
	return PAT_OK;
}

/* why= among the known reasons, with a sane id= and role=: else none. */
static void
read_refusal(const struct pat_msg *m, int status, struct pat_refusal *out)
{
	static const char *const whys[] = { "reported", "rotated-token-reused",
	    "revoked", "expired", "max_lifetime", "idle" };
	const char *why = pat_msg_get(m, "why"), *role = pat_msg_get(m, "role");
	const char *ended = pat_msg_get(m, "ended");
	const char *idle = pat_msg_get(m, "max_idle");
	unsigned long long id;
	long long e = 0, mi = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (why == NULL || (status != PAT_E_REVOKED &&
	    status != PAT_E_EXPIRED && status != PAT_E_IDLE))
		return;
	for (i = 0; i < sizeof(whys) / sizeof(*whys); i++)
		if (strcmp(why, whys[i]) == 0)
			break;
	if (i == sizeof(whys) / sizeof(*whys) ||
	    pat_parse_u64(pat_msg_get(m, "id"), PAT_TOKEN_ID_MAX, &id) < 0 ||
	    id == 0 || role == NULL || !pat_role_name_valid(role) ||
	    !fits(role, PAT_ROLE_SIZE) ||
	    (ended != NULL && (pat_parse_i64(ended, &e) < 0 || e < 0)) ||
	    (idle != NULL && (pat_parse_i64(idle, &mi) < 0 || mi < 0)))
		return;
	out->id = id;
	strcpy(out->why, whys[i]);
	strcpy(out->role, role);
	out->ended = e;
	out->max_idle = mi;
}

/* ERR code= [retry_after=]: a refusal, a bad request, or patd failed. */
static int
read_err(const struct pat_msg *m, struct pat_conn *c, const char **why)
{
	const char *code = pat_msg_get(m, "code");
	unsigned long long secs;
	size_t i;

	if (code == NULL) {
		*why = "garbled answer";
		return PAT_E_PROTOCOL;
	}
	for (i = 0; i < sizeof(errs) / sizeof(*errs); i++) {
		if (strcmp(code, errs[i].code) != 0)
			continue;
		if (errs[i].status == PAT_E_RATE_LIMITED) {
			if (pat_parse_u64(pat_msg_get(m, "retry_after"),
			    RETRY_AFTER_MAX, &secs) < 0 || secs == 0)
				secs = 1;
			c->retry_after = (int)secs;
		}
		if (errs[i].status == PAT_E_ARGUMENT)
			*why = "bad request";
		return errs[i].status;
	}
	*why = "patd failed";
	return PAT_E_SERVER;
}

/* Why a connection was not made. */
static int
connect_status(const struct pat_client *cl, int r, const char **why)
{
	switch (cl->failed_at) {
	case PAT_STEP_FILE:
		if (r == -ENOENT) {
			*why = "no socket";
			return PAT_E_NO_SOCKET;
		}
		if (r == -ENOTSOCK || r == -EPERM) {
			*why = "the socket is not root's";
			return PAT_E_UNTRUSTED;
		}
		*why = "cannot stat the socket";
		return r == -ENAMETOOLONG ? PAT_E_ARGUMENT : PAT_E_CONNECT;
	case PAT_STEP_PEER:
		if (r == -EPERM) {
			*why = "the socket's peer is not root";
			return PAT_E_UNTRUSTED;
		}
		break;
	default:
		if (r == -ETIMEDOUT) {
			*why = "timed out";
			return PAT_E_TIMEOUT;
		}
		if (r == -ENOENT) {
			*why = "no socket";
			return PAT_E_NO_SOCKET;
		}
		break;
	}
	*why = "cannot connect";
	return r == -ENOMEM ? PAT_E_NOMEM : PAT_E_CONNECT;
}

/* Connect with both trust checks, `timeout_ms` at most. */
static int
dial(struct pat_conn *c, int timeout_ms, const char **why)
{
	int r;

	if (timeout_ms <= 0) {
		*why = "timed out";
		return PAT_E_TIMEOUT;
	}
	r = pat_client_connect(&c->cl, c->path, timeout_ms, c->trusted);
	return r < 0 ? connect_status(&c->cl, r, why) : PAT_OK;
}

static void
hang_up(struct pat_conn *c)
{
	pat_client_close(&c->cl);
}

/*
 * One VERIFY on c, within c->timeout_ms from now.  A connection made before
 * this call may have been closed by patd since (idle, restart): when
 * sending on it fails, or it ends before any byte of the answer, it is
 * dialled again once (both checks again) and the request resent.  Never
 * after a timeout: the deadline is the caller's.
 */
static int
verify_on(struct pat_conn *c, const struct pat_request *rq,
    struct pat_identity *who, const char **why)
{
	struct pat_identity id;
	struct pat_msg m = { 0 };
	struct pat_buf req;
	const char *unused;
	int64_t deadline;
	bool fresh = false, sent;
	int r, st;

	if (why == NULL)
		why = &unused;
	*why = "bad request";
	c->retry_after = 0;
	c->refusal.id = 0;
	pat_buf_init(&req, PAT_LINE_MAX + 1);
	if ((st = check_request(rq)) != PAT_OK ||
	    (st = build_request(&req, rq)) != PAT_OK) {
		if (st == PAT_E_NOMEM)
			*why = "out of memory";
		goto out;
	}
	deadline = pat_monotonic_ms() + c->timeout_ms;
	/* bytes left over from an earlier answer: out of step, start over */
	if (c->cl.fd >= 0 && c->cl.rlen != 0)
		hang_up(c);
	if (c->cl.fd < 0) {
		if ((st = dial(c, c->timeout_ms, why)) != PAT_OK)
			goto out;
		fresh = true;
	}
	c->cl.deadline_ms = deadline;
	for (;;) {
		sent = false;
		r = pat_client_send(&c->cl, &req);
		if (r == 0) {
			sent = true;
			if (c->once)
				(void)shutdown(c->cl.fd, SHUT_WR);
			r = pat_client_read(&c->cl, &m);
		}
		if (r == 0 || fresh || r == -ETIMEDOUT ||
		    (sent && !(c->cl.rlen == 0 && (c->cl.eof ||
		    r == -ECONNRESET))))
			break;
		/* patd closed this connection while it was idle */
		hang_up(c);
		if ((st = dial(c, (int)(deadline - pat_monotonic_ms()), why))
		    != PAT_OK)
			goto out;
		c->cl.deadline_ms = deadline;
		fresh = true;
	}
	if (r < 0) {
		hang_up(c);
		if (r == -ETIMEDOUT) {
			*why = "timed out";
			st = PAT_E_TIMEOUT;
		} else if (!sent) {
			*why = "send failed";
			st = PAT_E_CONNECT;
		} else {
			*why = "garbled or closed answer";
			st = PAT_E_PROTOCOL;
		}
		goto out;
	}
	if (strcmp(m.verb, "OK") == 0) {
		if ((st = read_ok(&m, rq, &id)) != PAT_OK) {
			*why = "patd's answer did not add up";
			hang_up(c);
			goto out;
		}
		if (who != NULL)
			memcpy(who, &id, sizeof(id));
		explicit_bzero(&id, sizeof(id));
	} else if (strcmp(m.verb, "ERR") == 0) {
		st = read_err(&m, c, why);
		read_refusal(&m, st, &c->refusal);
	} else {
		*why = "garbled answer";
		hang_up(c);
		st = PAT_E_PROTOCOL;
	}
out:
	pat_msg_wipe(&m);
	pat_buf_free(&req);	/* it held the token: wiped */
	return st;
}

int
pat_verify_once(const char *path, int timeout_ms, uid_t trusted,
    const struct pat_request *rq, struct pat_identity *who, const char **why,
    struct pat_refusal *detail)
{
	struct pat_conn c;
	int st;

	memset(&c, 0, sizeof(c));
	if (detail != NULL)
		detail->id = 0;
	c.cl.fd = -1;
	c.once = true;
	c.trusted = trusted;
	c.timeout_ms = timeout_ms > 0 ? timeout_ms : PAT_DEFAULT_TIMEOUT_MS;
	if (path == NULL || *path == '\0' || strlen(path) >= sizeof(c.path)) {
		if (why != NULL)
			*why = "bad socket path";
		return PAT_E_ARGUMENT;
	}
	strcpy(c.path, path);
	st = verify_on(&c, rq, who, why);
	pat_client_close(&c.cl);
	if (detail != NULL)
		*detail = c.refusal;
	return st;
}

PAT_PUBLIC int
pat_open_trusted(pat_conn **cp, const char *socket_path, int timeout_ms,
    uid_t trusted_uid)
{
	struct pat_conn *c;
	const char *why;
	int st;

	if (cp == NULL)
		return PAT_E_ARGUMENT;
	if (socket_path == NULL)
		socket_path = PAT_DEFAULT_SOCKET;
	if (*socket_path == '\0' || strlen(socket_path) >= sizeof(c->path))
		return PAT_E_ARGUMENT;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PAT_E_NOMEM;
	c->cl.fd = -1;
	c->trusted = trusted_uid;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : PAT_DEFAULT_TIMEOUT_MS;
	strcpy(c->path, socket_path);
	if ((st = dial(c, c->timeout_ms, &why)) != PAT_OK) {
		pat_close(c);
		return st;
	}
	*cp = c;
	return PAT_OK;
}

PAT_PUBLIC int
pat_open(pat_conn **cp, const char *socket_path, int timeout_ms)
{
	return pat_open_trusted(cp, socket_path, timeout_ms, geteuid());
}

PAT_PUBLIC void
pat_close(pat_conn *c)
{
	if (c == NULL)
		return;
	pat_client_close(&c->cl);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

PAT_PUBLIC int
pat_verify(pat_conn *c, const struct pat_request *rq,
    struct pat_identity *who)
{
	if (c == NULL)
		return pat_verify_once(PAT_DEFAULT_SOCKET, PAT_DEFAULT_TIMEOUT_MS,
		    geteuid(), rq, who, NULL, NULL);
	return verify_on(c, rq, who, NULL);
}

PAT_PUBLIC int
pat_retry_after(const pat_conn *c)
{
	return c == NULL ? 0 : c->retry_after;
}

PAT_PUBLIC int
pat_refusal_detail(const pat_conn *c, struct pat_refusal *out)
{
	if (c == NULL || out == NULL || c->refusal.id == 0)
		return 0;
	*out = c->refusal;
	return 1;
}
