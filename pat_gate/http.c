/* http.c - the forward-auth request handler: headers in, patd's verdict out; see http.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <pat/pat.h>

#include "addr.h"
#include "auth.h"
#include "http.h"
#include "log.h"
#include "perm.h"

#define SERVICE_MAX	64	/* patd's bound on service= */
/* rhost= for clients the proxy on the Unix socket did not name: one
 * client, as everyone behind an untrusted proxy is.  Never none: without
 * rhost= patd counts a verifier's failures against the user named (su,
 * sudo), and anyone on the internet could lock that user out. */
#define UNNAMED_RHOST	"unix:"

/* The request headers the gate reads (values are MHD's, valid for the
 * request's lifetime). */
struct hdrs {
	const char	*authz;
	size_t		 authz_len;
	unsigned	 nauthz;
	const char	*perm;
	unsigned	 nperm;
	const char	*service;
	const char	*host;
	const char	*real_ip;
	unsigned	 nreal_ip;
	const char	*xff[GATE_XFF_MAX];	/* the last ones, in order */
	size_t		 nxff;
};

static enum MHD_Result
header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
    const char *value, size_t value_size)
{
	struct hdrs *h = cls;

	(void)kind;
	(void)key_size;
	if (value == NULL)
		return MHD_YES;
	if (strcasecmp(key, "Authorization") == 0) {
		if (h->nauthz++ == 0) {
			h->authz = value;
			h->authz_len = value_size;
		}
	} else if (strcasecmp(key, "X-Pat-Perm") == 0) {
		if (h->nperm++ == 0)
			h->perm = value;
	} else if (strcasecmp(key, "X-Pat-Service") == 0) {
		if (h->service == NULL)
			h->service = value;
	} else if (strcasecmp(key, "Host") == 0) {
		if (h->host == NULL)
			h->host = value;
	} else if (strcasecmp(key, "X-Real-IP") == 0) {
		if (h->nreal_ip++ == 0)
			h->real_ip = value;
	} else if (strcasecmp(key, "X-Forwarded-For") == 0) {
		/* the rightmost entries are the ones that count: keep the
		 * last GATE_XFF_MAX headers */
		if (h->nxff == GATE_XFF_MAX) {
			memmove(h->xff, h->xff + 1, sizeof(h->xff) -
			    sizeof(h->xff[0]));
			h->nxff--;
		}
		h->xff[h->nxff++] = value;
	}
	return MHD_YES;
}

struct query {
	const char	*perm;
	unsigned	 nperm;
};

static enum MHD_Result
argument(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
    const char *value, size_t value_size)
{
	struct query *q = cls;

	(void)kind;
	(void)key_size;
	(void)value_size;
	if (strcmp(key, "perm") == 0 && q->nperm++ == 0)
		q->perm = value != NULL ? value : "";
	return MHD_YES;
}

/* "http:" and the name, bytes outside 0x21-0x7e as '_', cut to patd's
 * limit. */
static void
service_name(const struct hdrs *h, char out[SERVICE_MAX + 1])
{
	const char *src = h->service != NULL ? h->service :
	    h->host != NULL ? h->host : "";
	size_t o = strlen(GATE_SERVICE_PREFIX);
	unsigned char c;

	memcpy(out, GATE_SERVICE_PREFIX, o);
	for (; (c = (unsigned char)*src) != '\0' && o < SERVICE_MAX; src++)
		out[o++] = c >= 0x21 && c <= 0x7e ? (char)c : '_';
	out[o] = '\0';
}

/* The token's id, the digits before '|' (public: patd logs it too), or
 * "-".  Never more of the token. */
static void
token_id(const char *token, char out[20])
{
	size_t n = strspn(token, "0123456789");

	if (n == 0 || n > 18 || token[n] != '|')
		n = 0;
	memcpy(out, n ? token : "-", n ? n : 1);
	out[n ? n : 1] = '\0';
}

/* What a request came to, for the response and the log line. */
struct verdict {
	unsigned	 status;
	const char	*reason;	/* a fixed word, or pat_strerror() */
	const char	*www;		/* WWW-Authenticate, or NULL */
	int		 retry_after;
	const struct pat_identity *who;	/* 200 only */
	const char	*note;		/* extra words for the log, or NULL */
};

static enum MHD_Result
respond(struct MHD_Connection *conn, const struct verdict *v)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char num[24];
	int ok = 1;

	/* no body: the status and headers say it all, and nginx reuses a
	 * connection to the gate only after an answer without one (its
	 * auth_request reads headers only) — twice the requests a second */
	r = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;	/* out of memory: drop the connection */
	ok &= MHD_add_response_header(r, "Cache-Control", "no-store") ==
	    MHD_YES;
	if (v->www != NULL)
		ok &= MHD_add_response_header(r, "WWW-Authenticate", v->www) ==
		    MHD_YES;
	if (v->status == 429) {
		snprintf(num, sizeof(num), "%d", v->retry_after);
		ok &= MHD_add_response_header(r, "Retry-After", num) == MHD_YES;
	}
	if (v->who != NULL) {
		ok &= MHD_add_response_header(r, "X-Pat-User", v->who->user) ==
		    MHD_YES;
		snprintf(num, sizeof(num), "%u", (unsigned)v->who->uid);
		ok &= MHD_add_response_header(r, "X-Pat-Uid", num) == MHD_YES;
		snprintf(num, sizeof(num), "%llu",
		    (unsigned long long)v->who->id);
		ok &= MHD_add_response_header(r, "X-Pat-Id", num) == MHD_YES;
		ok &= MHD_add_response_header(r, "X-Pat-Role", v->who->role) ==
		    MHD_YES;
	}
	if (!ok) {
		/* never a 200 without the headers that say who */
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, v->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Map a pool/libpat result to a verdict. */
static void
map_result(int r, int retry_after, const struct gate_config *cfg,
    struct verdict *v)
{
	v->reason = r == GATE_POOL_BUSY ? "pool-busy" : pat_strerror(r);
	switch (r) {
	case PAT_OK:
		v->status = 200;
		v->reason = "ok";
		return;
	case PAT_E_MALFORMED:
	case PAT_E_INVALID:
	case PAT_E_REVOKED:
	case PAT_E_EXPIRED:
	case PAT_E_OWNER_GONE:
	case PAT_E_WRONG_USER:
	case PAT_E_TOO_DEEP:
	case PAT_E_IDLE:
	case PAT_E_BINDING:	/* the wrong place for this token: not a
				 * scope it lacks, so 401 like any unusable
				 * token (docs/web.md) */
		v->status = 401;
		v->www = "Bearer realm=\"pat\", error=\"invalid_token\"";
		return;
	case PAT_E_PERMISSION:
		v->status = 403;
		return;	/* www: the caller's, it names the permission */
	case PAT_E_RATE_LIMITED:
		v->status = 429;
		v->retry_after = retry_after > 0 ? retry_after :
		    (int)cfg->retry_after_default;
		return;
	case PAT_E_DENIED:
		v->status = 503;
		v->note = "deployment error: patd will not let the gate "
		    "verify other users' tokens; put its user in the verify "
		    "group (patd-verify)";
		return;
	default:	/* no verdict: fail closed */
		v->status = 503;
		return;
	}
}

static void
log_verdict(const struct verdict *v, const char *id, const char *user,
    const char *perm, const char *service, const char *rhost)
{
	char p[PAT_PERM_MAX_LEN + 2];

	/* perm is valid when it gets here, but the log never trusts that */
	gate_escape(p, sizeof(p), perm ? perm : "-");
	gate_log("status=%u reason=%s id=%s user=%s perm=%s service=%s "
	    "rhost=%s%s%s", v->status, v->reason, id, user && *user ? user :
	    "-", p, service && *service ? service : "-", rhost && *rhost ?
	    rhost : "-", v->note ? ": " : "", v->note ? v->note : "");
}

static enum MHD_Result
decide(const struct gate_http *g, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	char service[SERVICE_MAX + 1], rhost[GATE_RHOST_SIZE], id[20] = "-";
	char www[PAT_PERM_MAX_LEN + 80];
	struct verdict v = { .status = 503 };
	struct pat_identity who;
	struct pat_request rq;
	struct gate_cred cred;
	struct gate_peer peer;
	struct hdrs h = { 0 };
	struct query q = { 0 };
	const char *perm;
	enum MHD_Result ret;
	int r, retry = 0;

	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, header, &h);
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, argument, &q);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	gate_peer_from_sockaddr(ci ? ci->client_addr : NULL, &peer);
	gate_client_addr(&peer, &g->cfg->trusted_proxies,
	    h.nreal_ip == 1 ? h.real_ip : NULL, h.xff, h.nxff, rhost);
	service_name(&h, service);
	gate_auth_parse(h.nauthz ? h.authz : NULL, h.authz_len, &cred);
	if (cred.kind == GATE_AUTH_BEARER || cred.kind == GATE_AUTH_BASIC)
		token_id(cred.token, id);

	/* the permission: the proxy's to say, never "any valid token" */
	perm = h.perm != NULL ? h.perm : q.perm;
	if (perm == NULL) {
		v.status = 500;
		v.reason = "no-permission";
		v.note = "configuration error: the proxy sent no X-Pat-Perm";
		goto out;
	}
	if (h.nperm > 1 || q.nperm > 1 || (h.perm != NULL && q.perm != NULL &&
	    strcmp(h.perm, q.perm) != 0)) {
		/* which one did the proxy mean?  A client may have added
		 * one the proxy passed through */
		v.status = 500;
		v.reason = "ambiguous-permission";
		v.note = "configuration error: more than one permission "
		    "(X-Pat-Perm and ?perm= differ, or one is repeated)";
		goto out;
	}
	if (!pat_perm_valid(perm) || strchr(perm, '*') != NULL) {
		v.status = 500;
		v.reason = "bad-permission";
		v.note = "configuration error: X-Pat-Perm is not one "
		    "permission such as api.read (no wildcard)";
		perm = NULL;	/* not for the log as it is */
		goto out;
	}

	if (h.nauthz > 1) {
		cred.kind = GATE_AUTH_MALFORMED;
		cred.why = GATE_WHY_SYNTAX;
	}
	switch (cred.kind) {
	case GATE_AUTH_NONE:
	case GATE_AUTH_OTHER:
		v.status = 401;
		v.reason = cred.kind == GATE_AUTH_NONE ? "no-credentials" :
		    "other-scheme";
		v.www = "Bearer realm=\"pat\"";
		goto out;
	case GATE_AUTH_MALFORMED:
		v.status = 401;
		v.reason = h.nauthz > 1 ? "malformed-header:repeated" :
		    cred.why == GATE_WHY_TOO_LONG ? "malformed-header:too-long" :
		    cred.why == GATE_WHY_BASE64 ? "malformed-header:base64" :
		    cred.why == GATE_WHY_NO_COLON ? "malformed-header:no-colon" :
		    cred.why == GATE_WHY_USER ? "malformed-header:user" :
		    cred.why == GATE_WHY_TOKEN_CHARS ?
		    "malformed-header:token-chars" : "malformed-header:syntax";
		v.www = "Bearer realm=\"pat\", error=\"invalid_token\"";
		goto out;
	case GATE_AUTH_BEARER:
	case GATE_AUTH_BASIC:
		break;
	}

	memset(&rq, 0, sizeof(rq));
	rq.token = cred.token;
	rq.user = cred.kind == GATE_AUTH_BASIC ? cred.user : NULL;
	rq.perm = perm;
	rq.service = service;
	rq.rhost = rhost[0] ? rhost : UNNAMED_RHOST;
	r = gate_pool_verify(g->pool, &rq, &who, &retry);
	map_result(r, retry, g->cfg, &v);
	if (v.status == 200)
		v.who = &who;
	if (v.status == 403) {
		/* perm passed pat_perm_valid: no '"' or '\\' to escape */
		snprintf(www, sizeof(www), "Bearer realm=\"pat\", "
		    "error=\"insufficient_scope\", scope=\"%s\"", perm);
		v.www = www;
	}
out:
	ret = respond(conn, &v);
	log_verdict(&v, id, v.who ? who.user : cred.user, perm, service,
	    rhost[0] ? rhost : UNNAMED_RHOST);
	gate_cred_wipe(&cred);
	return ret;
}

enum MHD_Result
gate_http_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	uintptr_t seen = (uintptr_t)*req_cls;

	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	/* the first call has the headers only: answering from it makes MHD
	 * 0.9.75 close the connection (no keep-alive), so wait for the end
	 * of the request.  *req_cls counts body bytes + 1. */
	if (seen == 0) {
		*req_cls = (void *)(uintptr_t)1;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		/* a body means nothing to the gate: drop it, within bounds */
		seen += *upload_data_size;
		*upload_data_size = 0;
		*req_cls = (void *)seen;
		return seen > GATE_BODY_MAX + 1 ? MHD_NO : MHD_YES;
	}
	return decide(cls, conn);
}
