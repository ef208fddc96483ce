/*
 * pam_pat.c - the PAM glue: a Personal Access Token at the password prompt.
 *
 * Safe inside any host process: no global state, one connection per call,
 * closed before return, no secret in any log line.  Results:
 *   not token-shaped input           PAM_IGNORE (never sent, never logged)
 *   token valid for user and perm    PAM_SUCCESS, PAT_ID and PAT_ROLE set
 *   bad checksum, or patd refuses    PAM_AUTH_ERR
 *   patd absent / not root's /
 *   timed out / garbled              PAM_AUTHINFO_UNAVAIL (PAM_IGNORE with
 *                                    ignore_unavail)
 *   bad module arguments             PAM_SERVICE_ERR (fail closed)
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "ask.h"
#include "options.h"
#include "token.h"

/* built with -fvisibility=hidden: only these leave the module */
#define PP_EXPORT	__attribute__((visibility("default"))) PAM_EXTERN
#define EXPIRY_NOTICE	(7 * 86400)	/* say so when a token ends sooner */

static void
export_env(pam_handle_t *pamh, const struct pp_answer *a)
{
	char var[32 + PP_ROLE_MAX];

	snprintf(var, sizeof(var), "PAT_ID=%llu", (unsigned long long)a->id);
	pam_putenv(pamh, var);
	snprintf(var, sizeof(var), "PAT_ROLE=%s", a->role);
	pam_putenv(pamh, var);
}

static void
notice_expiry(pam_handle_t *pamh, int flags, const struct pp_opts *o,
    const struct pp_answer *a)
{
	int64_t left = a->expires - (int64_t)time(NULL);
	long long days;

	if (a->expires == 0 || left > EXPIRY_NOTICE || o->quiet ||
	    (flags & PAM_SILENT))
		return;
	days = (long long)(left / 86400);
	if (days >= 1)
		pam_info(pamh, "Token %llu expires in %lld day%s.",
		    (unsigned long long)a->id, days, days == 1 ? "" : "s");
	else
		pam_info(pamh, "Token %llu expires in less than a day.",
		    (unsigned long long)a->id);
}

/* "2026-12-01" (UTC), or "" when t is 0. */
static void
day_text(char *out, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	out[0] = '\0';
	if (t > 0 && gmtime_r(&tt, &tm) != NULL)
		strftime(out, n, "%Y-%m-%d", &tm);
}

/* One line: the token was used from a host not among its last ones. */
static void
notice_new_host(pam_handle_t *pamh, int flags, const struct pp_opts *o,
    const struct pp_answer *a, const char *rhost)
{
	if (!a->new_host || rhost == NULL || o->quiet || (flags & PAM_SILENT))
		return;
	pam_info(pamh, "Token %llu was used from %s for the first time.",
	    (unsigned long long)a->id, rhost);
}

/* One line: why a token whose secret matched was refused (patd gives a
 * reason only then, never for a wrong secret). */
static void
notice_refusal(pam_handle_t *pamh, int flags, const struct pp_opts *o,
    const struct pp_answer *a)
{
	unsigned long long id = (unsigned long long)a->id;
	long long n = a->max_idle / 86400;
	char day[32];

	if (a->id == 0 || o->quiet || (flags & PAM_SILENT))
		return;
	day_text(day, sizeof(day), a->ended);
	if (strcmp(a->why, "reported") == 0)
		pam_error(pamh, "Token %llu was revoked: reported as leaked.", id);
	else if (strcmp(a->why, "rotated-token-reused") == 0)
		pam_error(pamh, "Token %llu was revoked: a token of its family "
		    "was rotated away and used again, so the family was "
		    "revoked.", id);
	else if (strcmp(a->why, "revoked") == 0)
		pam_error(pamh, "Token %llu was revoked.", id);
	else if (strcmp(a->why, "max_lifetime") == 0)
		pam_error(pamh, "Token %llu expired on %s: older than role %s "
		    "allows.", id, day[0] ? day : "?", a->role);
	else if (strcmp(a->why, "expired") == 0 && day[0])
		pam_error(pamh, "Token %llu expired on %s.", id, day);
	else if (strcmp(a->why, "expired") == 0)
		pam_error(pamh, "Token %llu has expired.", id);
	else if (strcmp(a->why, "idle") == 0 && n >= 1)
		pam_error(pamh, "Token %llu stopped working: unused for %lld "
		    "day%s (role %s).", id, n, n == 1 ? "" : "s", a->role);
	else if (strcmp(a->why, "idle") == 0)
		pam_error(pamh, "Token %llu stopped working: unused for too "
		    "long (role %s).", id, a->role);
}

PP_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *service = NULL, *rhost = NULL;
	const char *user = NULL, *tok = NULL;
	struct pp_answer a;
	struct pp_opts o;
	char err[128];
	uint64_t id;
	size_t len;
	int r;

	if (pp_parse_opts(argc, argv, &o, err, sizeof(err)) < 0) {
		pam_syslog(pamh, LOG_ERR, "%s; refusing every token", err);
		return PAM_SERVICE_ERR;
	}
	if ((r = pam_get_user(pamh, &user, NULL)) != PAM_SUCCESS)
		return r;
	if (user == NULL || *user == '\0' || strlen(user) > PP_USER_MAX)
		return PAM_USER_UNKNOWN;
	if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS ||
	    pp_resolve_perm(&o, service) < 0) {
		pam_syslog(pamh, LOG_ERR, "service name does not make a "
		    "permission; set perm=");
		return PAM_SERVICE_ERR;
	}
	/* the ordinary prompt: a drop-in in front of pam_unix */
	if ((r = pam_get_authtok(pamh, PAM_AUTHTOK, &tok, NULL)) != PAM_SUCCESS)
		return r;
	if (tok == NULL)
		return PAM_AUTH_ERR;
	len = strlen(tok);
	if (!pat_token_shaped(tok, len)) {
		if (o.debug)	/* it may be the real password: say nothing of it */
			pam_syslog(pamh, LOG_DEBUG, "not a token; passing on");
		return PAM_IGNORE;
	}
	if (pat_token_parse(tok, len, &id) < 0) {
		if (!o.quiet)
			pam_syslog(pamh, LOG_NOTICE, "refused a token for %s: bad "
			    "checksum (a typo?)", user);
		return PAM_AUTH_ERR;
	}
	(void)pam_get_item(pamh, PAM_RHOST, &rhost);
	pp_ask(&o, user, tok, service, rhost, &a);
	switch (a.v) {
	case PP_ACCEPT:
		export_env(pamh, &a);
		notice_expiry(pamh, flags, &o, &a);
		notice_new_host(pamh, flags, &o, &a, rhost);
		if (!o.quiet)
			pam_syslog(pamh, LOG_INFO, "accepted token %llu for %s "
			    "(%s)", (unsigned long long)a.id, user, o.perm);
		return PAM_SUCCESS;
	case PP_REFUSE:
		if (!o.quiet)
			pam_syslog(pamh, LOG_NOTICE, "refused token %llu for %s: "
			    "%s", (unsigned long long)id, user, a.reason);
		notice_refusal(pamh, flags, &o, &a);
		return PAM_AUTH_ERR;
	case PP_UNAVAIL:
	default:
		pam_syslog(pamh, LOG_ERR, "cannot ask patd at %s: %s%s",
		    o.socket, a.reason, o.ignore_unavail ? " (ignored)" : "");
		return o.ignore_unavail ? PAM_IGNORE : PAM_AUTHINFO_UNAVAIL;
	}
}

/* A token establishes no credentials: nothing to set or delete. */
PP_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/* Tokens are checked when they authenticate; accounts are pam_unix's
 * business (expiry, locks).  Ignoring leaves the decision to it. */
PP_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_IGNORE;
}
