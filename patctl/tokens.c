/* tokens.c - patctl create, list, show, revoke, rotate, verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"

/* Counts what was printed, for JSON commas and table headers. */
struct show_acc {
	struct ctl	*c;
	size_t		 n;
};

/* "--key VALUE" or "--key=VALUE" at argv[*i]; advances *i. */
static const char *
optval(int argc, char **argv, int *i, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(argv[*i], key, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "patctl: %s needs a value\n", key);
		exit(EX_USAGE);
	}
	return argv[++*i];
}

static int
bad_arg(const char *cmd, const char *arg)
{
	fprintf(stderr, "patctl %s: unexpected argument '%s' (see patctl "
	    "--help)\n", cmd, shown(arg));
	return EX_USAGE;
}

static int
print_created(struct ctl *c, const struct pat_msg *ok, const char *what)
{
	const char *stripped = pat_msg_get(ok, "stripped");
	const char *owner = pat_msg_get(ok, "stripped_owner");
	const char *capped = pat_msg_get(ok, "stripped_cap");
	char tb[32];
	long long exp = 0;

	if (c->json) {
		json_msg(stdout, ok);
		fputc('\n', stdout);
		return EX_OK;
	}
	/* the token alone on stdout, so T=$(patctl create …) works; escaped
	 * like the rest, without a copy left behind */
	put_text(stdout, pat_msg_get(ok, "token") ? pat_msg_get(ok, "token") :
	    "");
	fputc('\n', stdout);
	pat_parse_i64(pat_msg_get(ok, "expires"), &exp);
	fprintf(stderr, "%s token %s for %s: role %s, permissions %s, "
	    "expires %s\n", what, shown(pat_msg_get(ok, "id")),
	    shown(pat_msg_get(ok, "user")), shown(pat_msg_get(ok, "role")),
	    shown(pat_msg_get(ok, "perms")),
	    fmt_time(exp, "never", tb, sizeof(tb)));
	if (owner != NULL || capped != NULL) {
		/* patd says which filter cut what: the owner's permissions
		 * count at every use, the creator's cap for good */
		if (owner != NULL && *owner != '\0')
			fprintf(stderr, "not in force: %s does not hold %s; "
			    "it applies as soon as %s is granted it\n",
			    shown(pat_msg_get(ok, "user")), shown(owner),
			    shown(pat_msg_get(ok, "user")));
		if (capped != NULL && *capped != '\0')
			fprintf(stderr, "never in force: the creating token "
			    "lacks %s\n", shown(capped));
	} else if (stripped != NULL && *stripped != '\0')
		fprintf(stderr, "stripped (you or the creating token lack "
		    "them): %s\n", shown(stripped));
	fprintf(stderr, "This is the only time the token is shown.\n");
	return EX_OK;
}

static int
cmd_create(struct ctl *c, int argc, char **argv)
{
	const char *role = NULL, *name = NULL, *exp = NULL, *user = NULL, *v;
	bool parent = false;
	struct pat_msg *ok;
	struct pat_buf req;
	int64_t when = 0;
	int i, ex;

	for (i = 1; i < argc; i++) {
		if ((v = optval(argc, argv, &i, "--role")))
			role = v;
		else if ((v = optval(argc, argv, &i, "--name")))
			name = v;
		else if ((v = optval(argc, argv, &i, "--expires")))
			exp = v;
		else if ((v = optval(argc, argv, &i, "--user")))
			user = v;
		else if (strcmp(argv[i], "--parent-from-stdin") == 0)
			parent = true;
		else
			return bad_arg("create", argv[i]);
	}
	if (role == NULL) {
		fprintf(stderr, "patctl create: --role ROLE is required (see "
		    "patctl role list)\n");
		return EX_USAGE;
	}
	if (exp != NULL && (when = parse_expiry(exp, time(NULL))) < 0) {
		fprintf(stderr, "patctl create: cannot read --expires '%s' "
		    "(use 30d, 12h, 2w, never or YYYY-MM-DD[THH:MM])\n",
		    shown(exp));
		return EX_USAGE;
	}
	if (parent && c->auth[0] == '\0' &&
	    (ex = read_secret("Existing token: ", c->auth)) != EX_OK)
		return ex;
	if (parent)	/* the token, not the session, is the parent */
		sodium_memzero(c->session, sizeof(c->session));
	ctl_begin(c, &req, "CREATE");
	pat_line_field(&req, "role", role);
	if (name)
		pat_line_field(&req, "name", name);
	if (user)
		pat_line_field(&req, "user", user);
	if (exp)
		pat_line_fieldi(&req, "expires", when);
	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return EX_FAILED;
	ex = ctl_call(c, &req, NULL, NULL, ok);
	if (ex == EX_OK)
		ex = print_created(c, ok, "created");
	pat_msg_wipe(ok);
	free(ok);
	pat_buf_free(&req);
	return ex;
}

static int
list_item(const struct pat_msg *m, void *arg)
{
	struct show_acc *a = arg;
	char t1[32], t2[32], t3[32];
	long long created = 0, expires = 0, used = 0;
	const char *svc = pat_msg_get(m, "last_service");
	const char *name = pat_msg_get(m, "name");

	if (a->c->json) {
		fputs(a->n++ ? "," : "", stdout);
		json_msg(stdout, m);
		return 0;
	}
	pat_parse_i64(pat_msg_get(m, "created"), &created);
	pat_parse_i64(pat_msg_get(m, "expires"), &expires);
	pat_parse_i64(pat_msg_get(m, "last_used"), &used);
	/* everything but our own times is someone else's text: escaped */
	printf("%-6s %-12s %-16s %-12s %-8s %-16s %-10s %-16s %s%s%s\n",
	    shown(pat_msg_get(m, "id")), shown(pat_msg_get(m, "user")),
	    name && *name ? shown(name) : "-",
	    shown(pat_msg_get(m, "role")), shown(pat_msg_get(m, "state")),
	    fmt_time(created, "-", t1, sizeof(t1)),
	    shown(pat_msg_get(m, "by")),
	    fmt_time(expires, "never", t2, sizeof(t2)),
	    fmt_time(used, "never", t3, sizeof(t3)), svc && *svc ? " " : "",
	    svc && *svc ? shown(svc) : "");
	return 0;
}

static int
cmd_list(struct ctl *c, int argc, char **argv)
{
	const char *user = NULL, *v, *next;
	struct show_acc acc = { c, 0 };
	struct pat_msg *ok;
	struct pat_buf req;
	bool all = false;
	char after[32] = "";
	int i, ex;

	for (i = 1; i < argc; i++) {
		if ((v = optval(argc, argv, &i, "--user")))
			user = v;
		else if (strcmp(argv[i], "--all") == 0)
			all = true;
		else
			return bad_arg("list", argv[i]);
	}
	if (user && all) {
		fprintf(stderr, "patctl list: give --user or --all, not both\n");
		return EX_USAGE;
	}
	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return EX_FAILED;
	if (c->json)
		fputc('[', stdout);
	else
		printf("%-6s %-12s %-16s %-12s %-8s %-16s %-10s %-16s %s\n",
		    "ID", "USER", "NAME", "ROLE", "STATE", "CREATED", "BY",
		    "EXPIRES", "LAST USED");
	do {	/* patd answers in pages; follow next= */
		ctl_begin(c, &req, "LIST");
		if (user)
			pat_line_field(&req, "user", user);
		if (all)
			pat_line_field(&req, "all", "1");
		if (after[0])
			pat_line_field(&req, "after", after);
		ex = ctl_call(c, &req, list_item, &acc, ok);
		pat_buf_free(&req);
		next = ex == EX_OK ? pat_msg_get(ok, "next") : NULL;
		snprintf(after, sizeof(after), "%s", next ? next : "");
	} while (next != NULL);
	if (c->json)	/* a complete document even when refused */
		fputs("]\n", stdout);
	else if (ex == EX_OK && !all && user == NULL && getuid() == 0 &&
	    pat_msg_get(ok, "count") != NULL &&
	    strcmp(pat_msg_get(ok, "count"), "0") == 0)	/* no page but one */
		fprintf(stderr, "root has no tokens of its own; patctl list "
		    "--all shows every user's (or --user USER one user's)\n");
	free(ok);
	return ex;
}

static int
show_perm(const struct pat_msg *m, void *arg)
{
	struct show_acc *a = arg;
	const char *by = pat_msg_get(m, "by"), *eff = pat_msg_get(m, "effective");

	if (a->c->json) {
		fputs(a->n++ ? "," : "", stdout);
		json_msg(stdout, m);
		return 0;
	}
	if (a->n++ == 0)
		printf("\n%-24s %-10s %-8s %s\n", "ROLE GRANTS", "STATUS", "BY",
		    "IN FORCE");
	printf("%-24s %-10s %-8s %s\n", shown(pat_msg_get(m, "perm")),
	    shown(pat_msg_get(m, "status")), by ? shown(by) : "-",
	    eff && *eff ? shown(eff) : "-");
	return 0;
}

static int
cmd_show(struct ctl *c, int argc, char **argv)
{
	struct show_acc acc = { c, 0 };
	struct pat_msg *ok;
	struct pat_buf req;
	char tb[32];
	long long t;
	size_t i;
	int ex;

	if (argc != 2) {
		fprintf(stderr, "usage: patctl show ID\n");
		return EX_USAGE;
	}
	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return EX_FAILED;
	ctl_begin(c, &req, "SHOW");
	pat_line_field(&req, "id", argv[1]);
	if (c->json)
		fputs("{\"permissions\":[", stdout);
	ex = ctl_call(c, &req, show_perm, &acc, ok);
	pat_buf_free(&req);
	if (ex == EX_OK && c->json) {
		fputs("],\"token\":", stdout);
		json_msg(stdout, ok);
		fputs("}\n", stdout);
	} else if (c->json) {
		fputs("]}\n", stdout);	/* refused: still one document */
	} else if (ex == EX_OK) {
		printf("\n");
		for (i = 0; i < ok->nfields; i++) {
			const char *k = ok->f[i].key, *v = ok->f[i].val;

			if ((strcmp(k, "created") == 0 || strcmp(k, "expires") == 0 ||
			    strcmp(k, "revoked") == 0 ||
			    strcmp(k, "last_used") == 0) &&
			    pat_parse_i64(v, &t) == 0)
				v = fmt_time(t, strcmp(k, "expires") ? "-" :
				    "never", tb, sizeof(tb));
			printf("%-14s %s\n", shown(k), *v ? shown(v) : "-");
		}
	}
	free(ok);
	return ex;
}

static int
revoke_one(struct ctl *c, const char *id, const char *user,
    struct pat_msg *ok)
{
	struct pat_buf req;
	int ex;

	ctl_begin(c, &req, "REVOKE");
	if (id != NULL)
		pat_line_field(&req, "id", id);
	else
		pat_line_field(&req, "all", "1");
	if (user != NULL)
		pat_line_field(&req, "user", user);
	ex = ctl_call(c, &req, NULL, NULL, ok);
	pat_buf_free(&req);
	if (ex != EX_OK)
		return ex;
	if (c->json) {
		json_msg(stdout, ok);
		fputc('\n', stdout);
	} else if (pat_msg_get(ok, "already") != NULL) {
		/* nothing left to do: exit 0, as systemctl stop does for a
		 * stopped unit, but say what had happened */
		const char *into = pat_msg_get(ok, "rotated_into");
		char tb[32];
		long long when = 0;

		pat_parse_i64(pat_msg_get(ok, "revoked_at"), &when);
		if (into != NULL)
			fprintf(stderr, "token %s was rotated into %s on %s; it "
			    "is revoked already\n", shown(id), shown(into),
			    fmt_time(when, "?", tb, sizeof(tb)));
		else
			fprintf(stderr, "token %s was already revoked on %s\n",
			    shown(id), fmt_time(when, "?", tb, sizeof(tb)));
	} else {
		fprintf(stderr, "revoked %s token(s)%s%s\n",
		    shown(pat_msg_get(ok, "revoked")), id ?
		    " starting at id " : "", id ? shown(id) : "");
		if (pat_msg_get(ok, "pending") != NULL)
			fprintf(stderr, "more descendants are being marked "
			    "revoked in the background; every one of them is "
			    "refused already\n");
	}
	return EX_OK;
}

static int
cmd_revoke(struct ctl *c, int argc, char **argv)
{
	const char *user = NULL, *v, **ids;
	struct pat_msg *ok;
	bool all = false;
	int i, ex = EX_OK, r, nids = 0;

	if ((ids = calloc((size_t)argc, sizeof(*ids))) == NULL)
		return EX_FAILED;
	for (i = 1; i < argc; i++) {
		if ((v = optval(argc, argv, &i, "--user")))
			user = v;
		else if (strcmp(argv[i], "--all") == 0)
			all = true;
		else if (argv[i][0] == '-') {
			free(ids);
			return bad_arg("revoke", argv[i]);
		} else
			ids[nids++] = argv[i];
	}
	if (all == (nids > 0) || (user && !all)) {
		free(ids);
		fprintf(stderr, "usage: patctl revoke ID... | patctl revoke "
		    "--all [--user USER]\n");
		return EX_USAGE;
	}
	if ((ok = calloc(1, sizeof(*ok))) == NULL) {
		free(ids);
		return EX_FAILED;
	}
	if (all)
		ex = revoke_one(c, NULL, user, ok);
	/* go on after a failure; exit with the worst outcome */
	for (i = 0; i < nids; i++)
		if ((r = revoke_one(c, ids[i], NULL, ok)) > ex)
			ex = r;
	free(ok);
	free(ids);
	return ex;
}

static int
cmd_rotate(struct ctl *c, int argc, char **argv)
{
	char token[SECRET_MAX];
	struct pat_msg *ok;
	struct pat_buf req;
	int ex;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: patctl rotate   (the token on stdin)\n");
		return EX_USAGE;
	}
	if ((ex = read_secret("Token to rotate: ", token)) != EX_OK)
		return ex;
	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return EX_FAILED;
	ctl_begin(c, &req, "ROTATE");
	pat_line_field(&req, "token", token);
	sodium_memzero(token, sizeof(token));
	ex = ctl_call(c, &req, NULL, NULL, ok);
	pat_buf_free(&req);
	if (ex == EX_OK)
		ex = print_created(c, ok, "rotated: new");
	pat_msg_wipe(ok);
	free(ok);
	return ex;
}

static int
cmd_verify(struct ctl *c, int argc, char **argv)
{
	const char *user = NULL, *perm = NULL, *v;
	char token[SECRET_MAX];
	struct pat_msg *ok;
	struct pat_buf req;
	int i, ex;

	for (i = 1; i < argc; i++) {
		if ((v = optval(argc, argv, &i, "--user")))
			user = v;
		else if ((v = optval(argc, argv, &i, "--perm")))
			perm = v;
		else
			return bad_arg("verify", argv[i]);
	}
	if ((ex = read_secret("Token: ", token)) != EX_OK)
		return ex;
	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return EX_FAILED;
	pat_buf_init(&req, PAT_LINE_MAX);
	pat_line_begin(&req, "VERIFY");
	pat_line_field(&req, "token", token);
	sodium_memzero(token, sizeof(token));
	if (user)
		pat_line_field(&req, "user", user);
	if (perm)
		pat_line_field(&req, "perm", perm);
	pat_line_field(&req, "service", "patctl");
	ex = ctl_call(c, &req, NULL, NULL, ok);
	pat_buf_free(&req);
	if (ex == EX_OK && c->json) {
		json_msg(stdout, ok);
		fputc('\n', stdout);
	} else if (ex == EX_OK)
		printf("valid: token %s of %s, role %s, permissions %s\n",
		    shown(pat_msg_get(ok, "id")), shown(pat_msg_get(ok, "user")),
		    shown(pat_msg_get(ok, "role")),
		    shown(pat_msg_get(ok, "perms")));
	free(ok);
	return ex;
}

int
cmd_tokens(struct ctl *c, int argc, char **argv)
{
	if (strcmp(argv[0], "create") == 0)
		return cmd_create(c, argc, argv);
	if (strcmp(argv[0], "list") == 0)
		return cmd_list(c, argc, argv);
	if (strcmp(argv[0], "show") == 0)
		return cmd_show(c, argc, argv);
	if (strcmp(argv[0], "revoke") == 0)
		return cmd_revoke(c, argc, argv);
	if (strcmp(argv[0], "rotate") == 0)
		return cmd_rotate(c, argc, argv);
	if (strcmp(argv[0], "verify") == 0)
		return cmd_verify(c, argc, argv);
	return -1;
}
