/*
 * options.h - pam_pat.so's module arguments, parsed without PAM.
 *
 *   socket=PATH      patd's socket (default /run/patd/patd.sock)
 *   timeout=MS       one deadline for the whole exchange (default 3000)
 *   perm=PERM        permission the token must hold (default pam.<service>)
 *   use_first_pass, try_first_pass   (read by pam_get_authtok)
 *   ignore_unavail   PAM_IGNORE instead of PAM_AUTHINFO_UNAVAIL when patd
 *                    cannot be asked
 *   debug, quiet     more / fewer syslog lines and no conversation notes
 * Anything else is an error: the module then fails closed.
 */
#ifndef PAM_PAT_OPTIONS_H
#define PAM_PAT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "perm.h"

#define PP_SOCKET_MAX		107
#define PP_TIMEOUT_DEFAULT	3000
#define PP_TIMEOUT_MAX		60000

struct pp_opts {
	char	socket[PP_SOCKET_MAX + 1];
	int	timeout_ms;
	char	perm[PAT_PERM_MAX_LEN + 1];	/* "" until resolved */
	bool	use_first_pass;
	bool	try_first_pass;
	bool	ignore_unavail;
	bool	debug;
	bool	quiet;
};

/* Parse argv into o (defaults first).  Returns 0, or -EINVAL with a message
 * naming the bad argument in err. */
int	pp_parse_opts(int argc, const char **argv, struct pp_opts *o,
	    char *err, size_t errlen);

/* Fill o->perm with "pam.<service>" unless perm= was given.  -EINVAL when
 * the result is not a valid permission (then set perm= explicitly). */
int	pp_resolve_perm(struct pp_opts *o, const char *service);

#endif
