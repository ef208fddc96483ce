/* ask.c - one VERIFY through libpat, in pam_pat.so's terms; see ask.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ask.h"
#include "names.h"
#include "pat_internal.h"

static void
set(struct pp_answer *a, enum pp_verdict v, const char *reason)
{
	a->v = v;
	snprintf(a->reason, sizeof(a->reason), "%s", reason);
}

/* Printable ASCII only (0x21-0x7e): patd refuses anything else in a value
 * it logs, and a login must not fail over an odd service name. */
static const char *
clean_value(const char *s, size_t max)
{
	return s != NULL && *s != '\0' && pat_plain_value_valid(s, max) ? s :
	    NULL;
}

/*
 * PAM_RHOST as patd takes it.  A value it would refuse (over PP_RHOST_MAX
 * bytes: sshd with UseDNS gives the client's DNS name, the client's zone
 * chooses it; a byte outside 0x21-0x7e) is still that host's: what fits of
 * it, every byte but a host name's or an address's (letters, digits, '.',
 * '-', ':') as '_', then '#' and a hash of the whole, so two names alike
 * in their first bytes stay two hosts, and nothing in it reads as
 * another log field.  Never dropped: without
 * rhost= patd counts a failure against the user (the rule for su), and
 * any remote host could lock the user out.  NULL when PAM has none.
 */
static const char *
rhost_value(const char *s, char out[PP_RHOST_MAX + 1])
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */
	size_t n, i, keep;
	unsigned char c;

	if (s == NULL || *s == '\0')
		return NULL;
	if (pat_plain_value_valid(s, PP_RHOST_MAX))
		return s;
	n = strlen(s);
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	keep = n < PP_RHOST_MAX - 17 ? n : PP_RHOST_MAX - 17;
	for (i = 0; i < keep; i++) {
		c = (unsigned char)s[i];
		out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == ':' ? (char)c : '_';
	}
	snprintf(out + keep, PP_RHOST_MAX + 1 - keep, "#%016llx",
	    (unsigned long long)h);
	return out;
}

void
pp_ask(const struct pp_opts *o, const char *user, const char *token,
    const char *service, const char *rhost, struct pp_answer *a)
{
	char rh[PP_RHOST_MAX + 1];
	struct pat_request rq = {
		.token = token,
		.user = user,
		.perm = o->perm,
		.service = clean_value(service, PP_SERVICE_MAX),
		.rhost = rhost_value(rhost, rh),
	};
	struct pat_identity who;
	struct pat_refusal no;
	const char *why = "patd failed";
	int st;

	memset(a, 0, sizeof(*a));
	/* one request on a connection of its own, half-closed after it, to
	 * root's patd or one run by the host process's own user */
	st = pat_verify_once(o->socket, o->timeout_ms, geteuid(), &rq, &who,
	    &why, &no);
	if (st == PAT_OK) {
		/* libpat checked the answer: this user, a sane id, a role of
		 * role-name characters (it goes into PAT_ROLE=...) */
		a->id = who.id;
		a->expires = who.expires;
		snprintf(a->role, sizeof(a->role), "%s", who.role);
		a->new_host = who.new_host;
		set(a, PP_ACCEPT, "ok");
	} else if (pat_is_refusal(st)) {
		set(a, PP_REFUSE, pat_strerror(st));	/* patd's code */
		if (no.id != 0) {	/* only when the secret matched */
			a->id = no.id;
			snprintf(a->role, sizeof(a->role), "%s", no.role);
			snprintf(a->why, sizeof(a->why), "%s", no.why);
			a->ended = no.ended;
			a->max_idle = no.max_idle;
		}
	} else {
		set(a, PP_UNAVAIL, why);
	}
	explicit_bzero(&who, sizeof(who));
}
