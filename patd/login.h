/*
 * login.h - LOGIN: a PAM conversation relayed to the client, ending in a
 * session JWT.
 *
 * The peer logs in as itself (the user of its SO_PEERCRED uid) through the
 * PAM service patd-login (login_service).  PAM blocks, so each login runs
 * in a child process that takes the connection over: it writes each PAM
 * message as a PROMPT / INFO / ERROR line and reads an ANSWER line for each
 * prompt, then writes OK session=<jwt> or ERR code=login-failed.  Bounds:
 * LOGIN_MAX logins at once and LOGIN_MAX_PER_UID for one uid (so no one
 * can hold every slot, or guess in parallel past the rate limit, which
 * counts a failure when its login ends), login_timeout seconds each, 16
 * prompts, 512 bytes an answer; failed logins are rate-limited per uid.
 */
#ifndef PATD_LOGIN_H
#define PATD_LOGIN_H

#include <stddef.h>

#include "patd.h"

/*
 * Start a login for the peer on fd.  `pending` holds bytes the client sent
 * after the LOGIN line.  Returns 1 when a child took the connection over
 * (the caller closes its copy and writes nothing), 0 when the answer (a
 * refusal) was put in out.
 */
int	login_begin(struct patd *d, int fd, const struct peer *p,
	    const char *pending, size_t npending, struct pat_buf *out);
/*
 * Whether PAM has a stack of login_service's own, looking where
 * pam_start_confdir() of Linux-PAM 1.5 looks: login_pam_dir when set;
 * otherwise /etc/pam.d then /usr/lib/pam.d (when either directory exists),
 * else the service's lines in /etc/pam.conf.  Without one PAM runs
 * "other" (on Debian a password alone), so LOGIN is refused unless
 * login_allow_fallback.  1 found (where: its path), 0 missing (where: the
 * file an admin would create).
 */
int	login_stack(const struct patd *d, char *where, size_t n);
/* Collect finished login children and count their failures. */
void	login_reap(struct patd *d);

#endif
