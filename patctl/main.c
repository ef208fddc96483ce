/*
 * patctl - the command line for Personal Access Tokens.
 * Secrets are read from stdin or a no-echo prompt, never from argv.
 */
#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "ctl.h"

#define PATCTL_VERSION	PAT_VERSION	/* debian/changelog's, from the Makefile */

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

struct global {
	const char	*sock, *owner, *timeout;
	bool		 auth_stdin, version;
};

/* "--key VALUE" or "--key=VALUE" at argv[*i] into *val; 1 taken, 0 not
 * this option, -1 a usage error (said). */
static int
global_val(struct ctl *c, int argc, char **argv, int *i, const char *key,
    const char **val)
{
	size_t n = strlen(key);
	const char *a = argv[*i];

	if (strncmp(a, key, n) != 0 || (a[n] != '\0' && a[n] != '='))
		return 0;
	if (a[n] == '=')
		*val = a + n + 1;
	else if (*i + 1 < argc && (argv[*i + 1][0] != '-' ||
	    argv[*i + 1][1] == '\0'))
		*val = argv[++*i];
	else {
		ctl_err(c, EX_USAGE, "usage", "%s needs a value", key);
		return -1;
	}
	return 1;
}

/*
 * The global options, wherever they are before "--" (patctl list --json
 * works like patctl --json list): taken out of argv, the rest kept in
 * order.  --json is looked for first, so every later error is JSON too.
 * 0, or EX_USAGE (said).
 */
static int
globals(struct ctl *c, int *argc, char **argv, struct global *g)
{
	int i, n = 1, r;

	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			c->json = true;
	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < *argc)
				argv[n++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--json") == 0)
			continue;
		if (strcmp(argv[i], "--auth-from-stdin") == 0) {
			g->auth_stdin = true;
			continue;
		}
		if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-V") == 0) {
			g->version = true;
			continue;
		}
		if ((r = global_val(c, *argc, argv, &i, "--socket-owner",
		    &g->owner)) == 0 &&
		    (r = global_val(c, *argc, argv, &i, "--socket",
		    &g->sock)) == 0)
			r = global_val(c, *argc, argv, &i, "--timeout",
			    &g->timeout);
		if (r < 0)
			return EX_USAGE;
		if (r == 0)
			argv[n++] = argv[i];
	}
	*argc = n;
	return 0;
}

/* Everything between parsing and the command: socket, trust, timeout. */
static int
settle(struct ctl *c, const struct global *g)
{
	unsigned long long ms;
	const char *owner = g->owner;

	if (g->timeout != NULL) {
		if (pat_parse_u64(g->timeout, 600000, &ms) < 0 || !ms)
			return ctl_err(c, EX_USAGE, "usage", "--timeout '%s': "
			    "give milliseconds from 1 to 600000", g->timeout);
		c->timeout_ms = (int)ms;
	}
	c->socket = pat_client_socket_path(g->sock);
	/* the flag wins over the environment; root is trusted either way */
	if (owner == NULL && (owner = secure_getenv("PATD_SOCKET_OWNER")) &&
	    *owner == '\0')
		owner = NULL;	/* set but empty: as if unset */
	if (owner != NULL && parse_owner(owner, &c->trusted) < 0)
		return ctl_err(c, EX_USAGE, "usage", "--socket-owner / "
		    "PATD_SOCKET_OWNER: no user '%s'", owner);
	return EX_OK;
}

static int
run(struct ctl *c, int argc, char **argv, const struct global *g)
{
	bool help;
	int ex;

	if (g->version) {
		if (c->json)
			fprintf(c->out, "{\"version\":\"%s\"}\n", PATCTL_VERSION);
		else
			printf("patctl %s\n", PATCTL_VERSION);
		return EX_OK;
	}
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		help_print(c, NULL);
		return argc < 2 ? ctl_err(c, EX_USAGE, "usage", "which command? "
		    "(patctl --help lists them)") : EX_OK;
	}
	argc--;
	argv++;
	if (argv[0][0] == '-')
		return ctl_err(c, EX_USAGE, "usage", "unknown option '%s' "
		    "(patctl --help lists the options)", argv[0]);
	if ((ex = settle(c, g)) != EX_OK)
		return ex;
	if (strcmp(argv[0], "perms") == 0)
		argv[0] = "whoami";
	c->cmd = argv[0];
	help = args_want_help(argc, argv);
	if ((ex = cmd_session(c, argc, argv)) != -1)
		return ex == EX_HELP ? EX_OK : ex;
	if (g->auth_stdin && !help) {
		if (strcmp(argv[0], "verify") == 0 ||
		    strcmp(argv[0], "rotate") == 0)
			return ctl_err(c, EX_USAGE, "usage", "%s already reads "
			    "its token from stdin", argv[0]);
		if ((ex = read_secret("Token authorising this: ", c->auth)))
			return ctl_err(c, ex, "usage", "--auth-from-stdin: "
			    "expected a token on stdin");
	}
	(void)session_load(c);	/* used by commands a session may authorise */
	if ((ex = cmd_tokens(c, argc, argv)) == -1 &&
	    (ex = cmd_admin(c, argc, argv)) == -1 &&
	    (ex = cmd_whoami(c, argc, argv)) == -1 &&
	    (strcmp(argv[0], "scan") != 0 ||
	    (ex = cmd_scan(c, argc, argv)) == -1)) {
		c->cmd = NULL;
		ex = ctl_err(c, EX_USAGE, "usage", "unknown command '%s' "
		    "(patctl --help lists them)", argv[0]);
	}
	return ex == EX_HELP ? EX_OK : ex;
}

int
main(int argc, char **argv)
{
	struct ctl c = { .timeout_ms = 10000 };
	struct global g = { 0 };
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	int ex;

	/* the locale says only whether the terminal takes UTF-8 (for the
	 * ellipsis of a cut cell); numbers and times stay as they are */
	setlocale(LC_CTYPE, "");
	if (sodium_init() < 0)
		return EX_FAILED;
	/* colour only for a person at a terminal who has not said no */
	c.color = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0') &&
	    (term == NULL || strcmp(term, "dumb") != 0);
	ex = globals(&c, &argc, argv, &g);
	if (out_begin(&c) < 0)
		return EX_FAILED;
	if (ex == EX_OK)
		ex = run(&c, argc, argv, &g);
	ex = out_end(&c, ex);
	sodium_memzero(c.auth, sizeof(c.auth));
	sodium_memzero(c.session, sizeof(c.session));
	shown_forget();
	return ex;
}
