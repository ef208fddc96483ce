/*
 * ask.h - one VERIFY exchange with patd, as pam_pat.so needs it.
 *
 * No PAM here: the caller passes what PAM gave it and maps the verdict.
 * The socket file and the peer process must belong to root or to this
 * process's euid; otherwise patd is treated as unavailable.
 */
#ifndef PAM_PAT_ASK_H
#define PAM_PAT_ASK_H

#include <stdint.h>

#include "options.h"
#include "store_limits.h"

enum pp_verdict {
	PP_ACCEPT,	/* patd said OK for this user and permission */
	PP_REFUSE,	/* patd refused the token */
	PP_UNAVAIL,	/* patd absent, not ours, timed out or garbled */
};

struct pp_answer {
	enum pp_verdict	v;
	char		reason[64];	/* patd's code or what went wrong */
	uint64_t	id;
	int64_t		expires;
	char		role[PP_ROLE_MAX + 1];
	int		new_host;	/* accepted from a host new for it */
	/* refused with a reason (id != 0): why ("reported", "idle", ...),
	 * when it stopped (0: not said), the role's max_idle for "idle" */
	char		why[24];
	int64_t		ended;
	int64_t		max_idle;
};

void	pp_ask(const struct pp_opts *o, const char *user, const char *token,
	    const char *service, const char *rhost, struct pp_answer *a);

#endif
