/* ask.c - one VERIFY through libpat, in pam_pat.so's terms; see ask.h. */
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
 * it logs, and a login must not fail over an odd rhost. */
static const char *
clean_value(const char *s, size_t max)
{
	return s != NULL && *s != '\0' && pat_plain_value_valid(s, max) ? s :
	    NULL;
}

void
pp_ask(const struct pp_opts *o, const char *user, const char *token,
    const char *service, const char *rhost, struct pp_answer *a)
{
	struct pat_request rq = {
		.token = token,
		.user = user,
		.perm = o->perm,
		.service = clean_value(service, PP_SERVICE_MAX),
		.rhost = clean_value(rhost, PP_RHOST_MAX),
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
