/* help.c - patctl's help: each command's synopsis, what it does, its exit
 * codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define EXITS	"Exit: 0 done, 1 refused (by patd: see the message), 2 usage " \
		"error,\n      3 patd unreachable, 4 patd failed.\n"

static const struct help {
	const char	*cmd;
	const char	*synopsis;
	const char	*text;
} helps[] = {
	{ "login", "patctl login",
	  "Log in through patd's PAM service patd-login (password, one-time\n"
	  "code...): a 60-minute session, kept in $XDG_RUNTIME_DIR/patctl-session,\n"
	  "that authorises create and the admin commands.  Prompts are relayed\n"
	  "here; answers are read without echo.\n"
	  "Exit: 0 logged in, 1 refused (wrong answer, rate-limited), 2 usage,\n"
	  "      3 patd unreachable, 4 patd failed.\n" },
	{ "logout", "patctl logout",
	  "End the session now (patd refuses it from then on) and forget it.\n"
	  "Not being logged in is fine.\n" EXITS },
	{ "whoami", "patctl whoami     (also: patctl perms)",
	  "Who patd sees you as: uid, user, the roles you hold and whether\n"
	  "directly or through which group, your effective permissions, whether\n"
	  "admin commands are open to you, and your login session's state.\n"
	  EXITS },
	{ "create", "patctl create --role ROLE [--name NAME] [--expires WHEN] "
	  "[--user USER] [--from CIDR,...] [--service NAME,...] [--uses N] "
	  "[--parent-from-stdin]",
	  "Create a token.  It is printed alone on stdout (T=$(patctl create ...)\n"
	  "works), the rest on stderr; this is the only time it is shown.  Root\n"
	  "may create for any --user; others need a login session (patctl login)\n"
	  "or give an existing token of theirs on stdin with --parent-from-stdin\n"
	  "(the new token is then its child: no more permissions, no later\n"
	  "expiry, revoked with it).\n"
	  "  --name NAME     up to 128 printable ASCII characters (spaces allowed)\n"
	  "  --expires WHEN  a duration from now: 30m, 36h, 1d12h, 2w, 1y (units\n"
	  "                  m minutes, h hours, d days, w weeks, y years of 365\n"
	  "                  days); a local date YYYY-MM-DD or YYYY-MM-DDTHH:MM;\n"
	  "                  or never (the default, unless the role has a\n"
	  "                  default or max lifetime: patctl role show ROLE)\n"
	  "  --from CIDR,... verify only from these networks (up to 8, IPv4 or\n"
	  "                  IPv6: 10.0.0.0/8,2001:db8::/32; an address alone\n"
	  "                  is one host): the verifier's client address must\n"
	  "                  lie in one, and with none known it is refused\n"
	  "  --service NAME,... verify only by these services (up to 8): a PAM\n"
	  "                  service (sshd) or a verifier's service= such as\n"
	  "                  http:api.example.org (pat-gate)\n"
	  "  --uses N        verify at most N times (1: single use); such a token\n"
	  "                  cannot create tokens or be rotated\n"
	  "                  A binding is never widened: a child of a bound\n"
	  "                  token inherits it and may only narrow it.\n"
	  EXITS },
	{ "list", "patctl list [--user USER | --all] [--active | --expiring DAYS]",
	  "Your tokens (an admin: USER's, or everyone's) with state (active,\n"
	  "revoked, expired, idle), when they stop working (their expiry, or\n"
	  "earlier their role's max lifetime or max idle), time left and last\n"
	  "use.  --active: only those that still work; --expiring DAYS: only\n"
	  "active ones that stop within DAYS days.\n" EXITS },
	{ "show", "patctl show ID",
	  "One token's details, and for each permission of its role whether it is\n"
	  "in force and, if not, what removed it (the owner no longer holds it,\n"
	  "or the creating credential did not).\n" EXITS },
	{ "revoke", "patctl revoke ID... | patctl revoke --all [--user USER] "
	  "[--yes] | patctl revoke --token-from-stdin",
	  "Revoke tokens, each with every token created from it.  --all revokes\n"
	  "every token of yours (or USER's, for an admin): patctl first says how\n"
	  "many are active and, on a terminal, asks to confirm; without a terminal\n"
	  "it needs --yes (it never waits for an answer that cannot come).\n"
	  "--token-from-stdin revokes the token read from stdin, whoever's it is:\n"
	  "anyone who holds a leaked token may revoke it (patd logs it as\n"
	  "reported, with your uid).\n"
	  "Exit: 0 done, 1 refused or not confirmed, 2 usage error (or --all\n"
	  "      without a terminal or --yes), 3 patd unreachable, 4 patd failed.\n"
	  "      With several IDs, the worst outcome.\n" },
	{ "scan", "patctl scan [--revoke] PATH...     (- for stdin)",
	  "Find tokens in files, directories (walked without following symbolic\n"
	  "links) or stdin (git log -p --all | patctl scan -): prints\n"
	  "FILE:LINE:ID for each string with a token's shape and a valid\n"
	  "checksum (look-alikes are not reported), never the secret.  Needs no\n"
	  "patd unless --revoke, which revokes each one found (anyone holding a\n"
	  "token may) and adds revoked, already or unknown (not this patd's).\n"
	  "Exit: 0 none found, 1 tokens found, 2 usage error, 3 patd\n"
	  "      unreachable, 4 a path could not be read or a revocation failed.\n" },
	{ "rotate", "patctl rotate     (the token on stdin)",
	  "Replace a token of yours: the new one has the same role, name, expiry\n"
	  "and children, and is printed like create's; the old one is revoked.\n"
	  EXITS },
	{ "verify", "patctl verify [--user USER] [--perm PERM]     (the token on "
	  "stdin)",
	  "Check a token: valid, of USER, and granting PERM (one permission such\n"
	  "as pam.sshd, no wildcard).\n"
	  "Exit: 0 valid, 1 not valid (the message says why), 2 usage error,\n"
	  "      3 patd unreachable, 4 patd failed.\n" },
	{ "role", "patctl role list | role show NAME | role set NAME PERM... | "
	  "role delete NAME",
	  "Roles: named sets of permissions that are granted to users and groups.\n"
	  "Anyone may list and show them; set and delete are for admins.  See\n"
	  "patctl role SUBCOMMAND --help.\n" EXITS },
	{ "role list", "patctl role list",
	  "Every role, its permissions and its lifetime limits (POLICY: max\n"
	  "lifetime, default lifetime, max idle).\n" EXITS },
	{ "role show", "patctl role show NAME",
	  "A role's permissions, its lifetime limits, and the users and groups\n"
	  "it is granted to.\n" EXITS },
	{ "role set", "patctl role set NAME PERM... [--max-lifetime DUR] "
	  "[--default-lifetime DUR] [--max-idle DUR]",
	  "Create or replace a role (admins).  NAME: letters, digits, '.', '_'\n"
	  "and '-', at most 64.  PERM: 1 to 64 permissions or patterns such as\n"
	  "pam.sshd, svc.billing:read, pam.* or *.  A NAME starting with '-'\n"
	  "goes after --.  The role is replaced whole: a limit not given is gone.\n"
	  "  --max-lifetime DUR      its tokens live at most DUR from creation:\n"
	  "                          a longer --expires is refused, and existing\n"
	  "                          tokens older than DUR stop at their next use\n"
	  "  --default-lifetime DUR  the expiry of a token created without\n"
	  "                          --expires (at most --max-lifetime; without\n"
	  "                          it such a token gets --max-lifetime)\n"
	  "  --max-idle DUR          a token unused for DUR stops working (idle)\n"
	  "DUR: 30m, 36h, 1d12h, 2w, 90d, 1y (m minutes, h hours, d days, w weeks,\n"
	  "y years of 365 days).\n" EXITS },
	{ "role delete", "patctl role delete NAME",
	  "Delete a role and every grant of it (admins); its tokens then grant\n"
	  "nothing.\n" EXITS },
	{ "grant", "patctl grant ROLE (--user USER | --group GROUP)",
	  "Grant a role to a user or a Unix group (admins).  It applies at the\n"
	  "next verification, also to existing tokens of that role.\n" EXITS },
	{ "ungrant", "patctl ungrant ROLE (--user USER | --group GROUP)",
	  "Take a role back (admins); tokens lose what it gave at their next use.\n"
	  EXITS },
	{ "status", "patctl status",
	  "patd's version, counts, connections, uptime and store use; whether\n"
	  "you are an admin.\n" EXITS },
};

static const char general[] =
"usage: patctl [OPTIONS] COMMAND [ARGS]\n"
"Commands:\n"
"  login | logout               a 60-minute session from patd's login PAM stack\n"
"  whoami                       your uid, roles, permissions and session\n"
"  create --role ROLE [--name NAME] [--expires WHEN] [--user USER]\n"
"         [--from CIDR,...] [--service NAME,...] [--uses N]\n"
"         [--parent-from-stdin]\n"
"  list [--user USER | --all] [--active | --expiring DAYS]\n"
"  show ID\n"
"  revoke ID... | revoke --all [--user USER] [--yes]\n"
"  revoke --token-from-stdin     (anyone holding a leaked token)\n"
"  scan [--revoke] PATH...      find leaked tokens (- for stdin)\n"
"  rotate                       (token on stdin; prints its replacement)\n"
"  verify [--user USER] [--perm PERM]   (token on stdin; exit 0 valid, 1 not)\n"
"  role list | role show NAME | role delete NAME\n"
"  role set NAME PERM... [--max-lifetime DUR] [--default-lifetime DUR]\n"
"           [--max-idle DUR]\n"
"  grant ROLE (--user USER | --group GROUP)\n"
"  ungrant ROLE (--user USER | --group GROUP)\n"
"  status\n"
"Options (before or after the command):\n"
"  --json                 one JSON document on stdout, errors included\n"
"  --socket PATH          patd's socket (PATD_SOCKET; /run/patd/patd.sock)\n"
"  --socket-owner USER    also trust a patd run by USER (PATD_SOCKET_OWNER)\n"
"  --timeout MS           give up on patd after MS milliseconds (10000)\n"
"  --auth-from-stdin      a token of yours on stdin authorises the request\n"
"  -h, --help             this help; patctl COMMAND --help for a command's\n"
"  -V, --version          patctl's version\n"
"patctl talks only to a patd run by root (or --socket-owner's).  After\n"
"patctl login the session (in $XDG_RUNTIME_DIR) authorises create and the\n"
"admin commands.  Secrets are read from stdin or a no-echo prompt, never\n"
"from the command line.  Values that start with '-' go after --.\n"
EXITS
"See patctl(1).\n";

static const struct help *
find(const char *cmd)
{
	size_t i;

	if (cmd == NULL)
		return NULL;
	if (strcmp(cmd, "perms") == 0)
		cmd = "whoami";
	for (i = 0; i < sizeof(helps) / sizeof(*helps); i++)
		if (strcmp(helps[i].cmd, cmd) == 0)
			return &helps[i];
	return NULL;
}

const char *
help_synopsis(const char *cmd)
{
	const struct help *h = find(cmd);

	return h != NULL ? h->synopsis : NULL;
}

void
help_print(struct ctl *c, const char *cmd)
{
	const struct help *h = find(cmd);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!c->json) {
		if (h != NULL)
			printf("usage: %s\n%s", h->synopsis, h->text);
		else
			fputs(general, stdout);
		return;
	}
	/* --json asked for one JSON document: the help is its text */
	if ((f = open_memstream(&text, &len)) == NULL)
		return;
	if (h != NULL)
		fprintf(f, "usage: %s\n%s", h->synopsis, h->text);
	else
		fputs(general, f);
	fclose(f);
	fprintf(c->out, "{\"help\":");
	json_str(c->out, text);
	fprintf(c->out, "}\n");
	free(text);
}
