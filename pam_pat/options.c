/* options.c - module argument parsing; see options.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "options.h"
#include "proto.h"

int
pp_parse_opts(int argc, const char **argv, struct pp_opts *o, char *err,
    size_t errlen)
{
	unsigned long long ms;
	const char *a;
	int i;

	memset(o, 0, sizeof(*o));
	snprintf(o->socket, sizeof(o->socket), "%s", PAT_DEFAULT_SOCKET);
	o->timeout_ms = PP_TIMEOUT_DEFAULT;
	for (i = 0; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "use_first_pass") == 0)
			o->use_first_pass = true;
		else if (strcmp(a, "try_first_pass") == 0)
			o->try_first_pass = true;
		else if (strcmp(a, "ignore_unavail") == 0)
			o->ignore_unavail = true;
		else if (strcmp(a, "debug") == 0)
			o->debug = true;
		else if (strcmp(a, "quiet") == 0)
			o->quiet = true;
		else if (strncmp(a, "socket=", 7) == 0) {
			if (a[7] != '/' || strlen(a + 7) > PP_SOCKET_MAX)
				goto bad;
			snprintf(o->socket, sizeof(o->socket), "%s", a + 7);
		} else if (strncmp(a, "timeout=", 8) == 0) {
			if (pat_parse_u64(a + 8, PP_TIMEOUT_MAX, &ms) < 0 ||
			    ms == 0)
				goto bad;
			o->timeout_ms = (int)ms;
		} else if (strncmp(a, "perm=", 5) == 0) {
			if (!pat_perm_valid(a + 5) || strchr(a + 5, '*'))
				goto bad;
			snprintf(o->perm, sizeof(o->perm), "%s", a + 5);
		} else
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad or unknown option '%.64s'", a);
	return -EINVAL;
}

int
pp_resolve_perm(struct pp_opts *o, const char *service)
{
	char p[PAT_PERM_MAX_LEN + 2];

	if (o->perm[0] != '\0')
		return 0;
	if (service == NULL ||
	    snprintf(p, sizeof(p), "pam.%s", service) > PAT_PERM_MAX_LEN ||
	    !pat_perm_valid(p) || strchr(p, '*'))
		return -EINVAL;
	memcpy(o->perm, p, strlen(p) + 1);
	return 0;
}
