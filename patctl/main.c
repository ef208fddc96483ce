/*
 * patctl - the command line for Personal Access Tokens.
 * Secrets are read from stdin or a no-echo prompt, never from argv.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client.h"
#include "ctl.h"

static void
usage(FILE *f)
{
	fputs(
"usage: patctl [--socket PATH] [--socket-owner USER|UID] [--json] [--timeout MS]\n"
"              [--auth-from-stdin] COMMAND\n"
"  login | logout               (a 60-minute session from the patd-login PAM stack)\n"
"  create --role ROLE [--name NAME] [--expires 30d|DATE] [--user USER]\n"
"         [--parent-from-stdin]\n"
"  list [--user USER | --all]\n"
"  show ID\n"
"  revoke ID... | revoke --all [--user USER]\n"
"  rotate                       (token on stdin; prints its replacement)\n"
"  verify [--user USER] [--perm PERM]   (token on stdin; exit 0 valid, 1 not)\n"
"  role list | role show NAME | role set NAME PERM... | role delete NAME\n"
"  grant ROLE (--user USER | --group GROUP)\n"
"  ungrant ROLE (--user USER | --group GROUP)\n"
"  status\n"
"PATD_SOCKET also sets the socket.  patctl talks only to a patd run by root;\n"
"--socket-owner (or PATD_SOCKET_OWNER) also trusts one user's private patd.\n"
"After patctl login, the session (kept in\n"
"$XDG_RUNTIME_DIR) authorises create and admin commands.  --auth-from-stdin\n"
"reads a token of yours that authorises the request instead.\n"
"Exit: 0 ok, 1 refused, 2 usage, 3 patd unreachable, 4 patd failed.\n", f);
}

/* A user name, or a number: the uid trusted besides root.  -1 unknown. */
static int
parse_owner(const char *s, uid_t *out)
{
	struct passwd *pw;
	unsigned long long v;

	if (pat_parse_u64(s, (uid_t)-2, &v) == 0) {
		*out = (uid_t)v;
		return 0;
	}
	if (*s == '\0' || (pw = getpwnam(s)) == NULL)
		return -1;
	*out = pw->pw_uid;
	return 0;
}

int
main(int argc, char **argv)
{
	struct ctl c = { .timeout_ms = 10000 };
	const char *sock = NULL, *owner = NULL;
	bool auth_stdin = false;
	unsigned long long ms;
	int i, ex;

	if (sodium_init() < 0)
		return EX_FAILED;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c.json = true;
		else if (strcmp(argv[i], "--auth-from-stdin") == 0)
			auth_stdin = true;
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strncmp(argv[i], "--socket=", 9) == 0)
			sock = argv[i] + 9;
		else if (strcmp(argv[i], "--socket-owner") == 0 && i + 1 < argc)
			owner = argv[++i];
		else if (strncmp(argv[i], "--socket-owner=", 15) == 0)
			owner = argv[i] + 15;
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (pat_parse_u64(argv[++i], 600000, &ms) < 0 || !ms) {
				fprintf(stderr, "patctl: --timeout takes "
				    "milliseconds (1-600000)\n");
				return EX_USAGE;
			}
			c.timeout_ms = (int)ms;
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EX_OK;
		} else {
			fprintf(stderr, "patctl: unknown option %s\n",
			    shown(argv[i]));
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EX_USAGE;
	}
	c.socket = pat_client_socket_path(sock);
	/* the flag wins over the environment; root is trusted either way */
	if (owner == NULL && (owner = secure_getenv("PATD_SOCKET_OWNER")) &&
	    *owner == '\0')
		owner = NULL;	/* set but empty: as if unset */
	if (owner != NULL && parse_owner(owner, &c.trusted) < 0) {
		fprintf(stderr, "patctl: --socket-owner / PATD_SOCKET_OWNER: "
		    "no user '%s'\n", shown(owner));
		return EX_USAGE;
	}
	argc -= i;
	argv += i;
	if ((ex = cmd_session(&c, argc, argv)) >= 0)
		return ex;
	if (auth_stdin) {
		if (strcmp(argv[0], "verify") == 0 ||
		    strcmp(argv[0], "rotate") == 0) {
			fprintf(stderr, "patctl: %s already reads its token "
			    "from stdin\n", argv[0]);
			return EX_USAGE;
		}
		if ((ex = read_secret("Token authorising this: ", c.auth)))
			return ex;
	}
	(void)session_load(&c);	/* used by commands a session may authorise */
	if ((ex = cmd_tokens(&c, argc, argv)) < 0 &&
	    (ex = cmd_admin(&c, argc, argv)) < 0) {
		fprintf(stderr, "patctl: unknown command '%s'\n",
		    shown(argv[0]));
		usage(stderr);
		ex = EX_USAGE;
	}
	sodium_memzero(c.auth, sizeof(c.auth));
	sodium_memzero(c.session, sizeof(c.session));
	shown_forget();
	return ex;
}
