/* admin.c - patctl role, grant, ungrant and status. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "duration.h"
#include "names.h"

struct acc {
	struct ctl	*c;
	FILE		*items;	/* JSON items */
	struct table	*t;
	size_t		 n;
};

/* A role's lifetime policy in short, from an answer's max_lifetime=
 * default_lifetime= max_idle=: "max 90d, default 30d, idle 60d", or "-". */
static const char *
policy_short(const struct pat_msg *m, char *buf, size_t n)
{
	static const struct { const char *key, *label; } f[] = {
		{ "max_lifetime", "max" }, { "default_lifetime", "default" },
		{ "max_idle", "idle" } };
	unsigned long long v;
	char d[48];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(f) / sizeof(*f); i++) {
		if (pat_parse_u64(pat_msg_get(m, f[i].key), UINT64_MAX,
		    &v) < 0 || v == 0)
			continue;
		snprintf(buf + len, n - len, "%s%s %s", len ? ", " : "",
		    f[i].label, pat_duration_short((int64_t)v, d, sizeof(d)));
		len = strlen(buf);
	}
	return len ? buf : "-";
}

/* The same in words, for role show and role set: "tokens live at most 90
 * days (30 days when created without an expiry); tokens stop after 60
 * days unused", or "" when there is no policy. */
static const char *
policy_words(int64_t mx, int64_t def, int64_t idle, char *buf, size_t n)
{
	char d1[48], d2[48], d3[48];
	size_t len;

	buf[0] = '\0';
	if (mx != 0)
		snprintf(buf, n, "tokens live at most %s",
		    pat_duration_words((int64_t)mx, d1, sizeof(d1)));
	if (def != 0) {
		len = strlen(buf);
		snprintf(buf + len, n - len, "%s%s when created without an "
		    "expiry%s", len ? " (" : "tokens live ",
		    pat_duration_words((int64_t)def, d2, sizeof(d2)),
		    len ? ")" : "");
	}
	if (idle != 0) {
		len = strlen(buf);
		snprintf(buf + len, n - len, "%stokens stop after %s unused",
		    len ? "; " : "", pat_duration_words((int64_t)idle, d3,
		    sizeof(d3)));
	}
	return buf;
}

/* policy_words for an answer's max_lifetime= default_lifetime= max_idle=. */
static const char *
policy_of(const struct pat_msg *m, char *buf, size_t n)
{
	unsigned long long v[3] = { 0, 0, 0 };

	pat_parse_u64(pat_msg_get(m, "max_lifetime"), UINT64_MAX, &v[0]);
	pat_parse_u64(pat_msg_get(m, "default_lifetime"), UINT64_MAX, &v[1]);
	pat_parse_u64(pat_msg_get(m, "max_idle"), UINT64_MAX, &v[2]);
	return policy_words((int64_t)v[0], (int64_t)v[1], (int64_t)v[2], buf,
	    n);
}

static int
role_item(const struct pat_msg *m, void *arg)
{
	struct acc *a = arg;
	const char *u = pat_msg_get(m, "user"), *g = pat_msg_get(m, "group");
	const char *perms = pat_msg_get(m, "perms");
	const char *cells[3];
	char pb[128];

	if (a->c->json) {
		fputs(a->n++ ? "," : "", a->items);
		if (perms != NULL)
			json_msg(a->items, m);
		else {	/* a grant: {"kind": "user", "name": "alice"} */
			fprintf(a->items, "{\"kind\":\"%s\",\"name\":",
			    u ? "user" : "group");
			json_str(a->items, u ? u : g ? g : "");
			fputc('}', a->items);
		}
		return 0;
	}
	a->n++;
	cells[0] = perms != NULL ? shown(pat_msg_get(m, "name")) : u ? "user" :
	    "group";
	cells[1] = perms != NULL ? shown(perms) : shown(u ? u : g);
	cells[2] = policy_short(m, pb, sizeof(pb));	/* role list only */
	if (table_row(a->t, ROW_PLAIN, cells) < 0)
		return ctl_err(a->c, EX_FAILED, "internal", "out of memory");
	return 0;
}

/* A number patd sent, for a JSON document: "0" when absent or odd (an
 * older patd without role policies). */
static const char *
number(const char *v)
{
	return v != NULL && *v != '\0' && strspn(v, "0123456789") ==
	    strlen(v) && strlen(v) < 20 ? v : "0";
}

/*
 * A request answered with ITEM lines then OK.  JSON: {"items": [...],
 * "count": N} and, for ROLE-SHOW, the role's name and perms first.
 */
static int
run_items(struct ctl *c, struct pat_buf *req, const char *h1, const char *h2,
    const char *h3)
{
	const char *head[] = { h1, h2, h3 };
	struct acc a = { c, NULL, NULL, 0 };
	struct pat_msg *ok;
	char *items = NULL, pw[320];
	size_t len = 0;
	int ex;

	if ((ok = calloc(1, sizeof(*ok))) == NULL || (c->json &&
	    (a.items = open_memstream(&items, &len)) == NULL) ||
	    (!c->json && (a.t = table_new(h3 ? 3 : 2, head, "110")) == NULL)) {
		free(ok);
		pat_buf_free(req);
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	}
	ex = ctl_call(c, req, role_item, &a, ok);
	pat_buf_free(req);
	if (a.items != NULL)
		fclose(a.items);
	if (ex == EX_OK && c->json) {
		fputc('{', c->out);
		if (pat_msg_get(ok, "perms") != NULL) {	/* ROLE-SHOW */
			fputs("\"name\":", c->out);
			json_str(c->out, pat_msg_get(ok, "name"));
			fputs(",\"perms\":", c->out);
			json_list(c->out, pat_msg_get(ok, "perms"));
			fprintf(c->out, ",\"max_lifetime\":%s,"
			    "\"default_lifetime\":%s,\"max_idle\":%s,",
			    number(pat_msg_get(ok, "max_lifetime")),
			    number(pat_msg_get(ok, "default_lifetime")),
			    number(pat_msg_get(ok, "max_idle")));
		}
		fprintf(c->out, "\"items\":[%s],\"count\":%zu}\n",
		    items ? items : "", a.n);
	} else if (ex == EX_OK) {
		if (pat_msg_get(ok, "perms") != NULL) {
			printf("role %s: %s\n", shown(pat_msg_get(ok, "name")),
			    shown(pat_msg_get(ok, "perms")));
			if (*policy_of(ok, pw, sizeof(pw)))
				printf("%s\n", pw);
			printf("\n");
		}
		table_print(c, a.t);
		a.t = NULL;
	}
	table_print(NULL, a.t);
	free(items);
	free(ok);
	return ex;
}

/* A request with a plain OK answer: JSON is `fields` (members we know)
 * then the answer's own; people get `done` on stderr. */
static int
run_simple(struct ctl *c, struct pat_buf *req, const char *fields,
    const char *done)
{
	struct pat_msg *ok;
	bool first = fields == NULL || *fields == '\0';
	int ex;

	if ((ok = calloc(1, sizeof(*ok))) == NULL) {
		pat_buf_free(req);
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	}
	ex = ctl_call(c, req, NULL, NULL, ok);
	pat_buf_free(req);
	if (ex == EX_OK && c->json) {
		fprintf(c->out, "{%s", fields ? fields : "");
		json_fields(c->out, ok, &first);
		fputs("}\n", c->out);
	} else if (ex == EX_OK)
		fprintf(stderr, "%s\n", done);
	free(ok);
	return ex;
}

/* GRANT: as run_simple, and says when the grant was there already. */
static int
run_grant(struct ctl *c, struct pat_buf *req, const char *fields,
    const char *done, const char *role, const char *kind, const char *who)
{
	const char *existed;
	struct pat_msg *ok;
	bool first = false;
	int ex;

	if ((ok = calloc(1, sizeof(*ok))) == NULL) {
		pat_buf_free(req);
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	}
	ex = ctl_call(c, req, NULL, NULL, ok);
	pat_buf_free(req);
	existed = pat_msg_get(ok, "existed");
	if (ex == EX_OK && c->json) {
		fprintf(c->out, "{%s", fields);
		json_fields(c->out, ok, &first);
		fputs("}\n", c->out);
	} else if (ex == EX_OK && existed != NULL && strcmp(existed, "1") == 0)
		fprintf(stderr, "%s%s already had role %s; nothing changed\n",
		    strcmp(kind, "group") == 0 ? "group " : "", shown(who),
		    shown(role));
	else if (ex == EX_OK)
		fprintf(stderr, "%s\n", done);
	free(ok);
	return ex;
}

/* "\"name\":\"x\"" for a name already checked to be plain. */
static void
member(char *out, size_t n, const char *key, const char *val)
{
	snprintf(out, n, "\"%s\":\"%s\"", key, val);
}

static int
cmd_role(struct ctl *c, int argc, char **argv)
{
	static char cmdname[16];
	const char *sub = argc > 1 ? argv[1] : "", **pos;
	const char *maxs = NULL, *defs = NULL, *idles = NULL;
	const struct opt opts[] = { { "--max-lifetime", &maxs, NULL },
		{ "--default-lifetime", &defs, NULL },
		{ "--max-idle", &idles, NULL }, { NULL, NULL, NULL } };
	struct pat_buf req, perms;
	int64_t mx = 0, def = 0, idle = 0;
	char done[640], fields[128], pw[320], d1[48], d2[48];
	int i, n, ex;

	if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 &&
	    strcmp(sub, "set") != 0 && strcmp(sub, "delete") != 0) {
		if (args_want_help(argc, argv)) {
			help_print(c, "role");
			return EX_HELP;
		}
		if (*sub == '\0')
			return ctl_usage(c, "which subcommand?");
		return ctl_usage(c, "unknown subcommand '%s'", sub);
	}
	snprintf(cmdname, sizeof(cmdname), "role %s", sub);
	c->cmd = cmdname;
	if ((pos = calloc((size_t)argc, sizeof(*pos))) == NULL)
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	/* the policy flags are set's alone */
	ex = args_parse(c, argc - 1, argv + 1, strcmp(sub, "set") == 0 ? opts :
	    NULL, pos, argc, &n);
	if (ex != EX_OK)
		goto out;
	if (strcmp(sub, "list") == 0) {
		if (n != 0) {
			ex = ctl_usage(c, "unexpected argument '%s'", pos[0]);
			goto out;
		}
		ctl_begin(c, &req, "ROLE-LIST");
		ex = run_items(c, &req, "ROLE", "PERMISSIONS", "POLICY");
		goto out;
	}
	if (n < 1) {
		ex = ctl_usage(c, "which role? give its name");
		goto out;
	}
	if ((ex = check_role(c, "role", pos[0])) != EX_OK)
		goto out;
	if (strcmp(sub, "show") == 0 || strcmp(sub, "delete") == 0) {
		if (n != 1) {
			ex = ctl_usage(c, "unexpected argument '%s'", pos[1]);
			goto out;
		}
		ctl_begin(c, &req, strcmp(sub, "show") == 0 ? "ROLE-SHOW" :
		    "ROLE-DELETE");
		pat_line_field(&req, "name", pos[0]);
		if (strcmp(sub, "show") == 0) {
			ex = run_items(c, &req, "GRANTED TO", "NAME", NULL);
			goto out;
		}
		snprintf(done, sizeof(done), "deleted role %s and its grants; "
		    "its tokens now grant nothing", pos[0]);
		ex = run_simple(c, &req, "\"deleted\":true", done);
		goto out;
	}
	/* role set NAME PERM... */
	if (n < 2) {
		ex = ctl_usage(c, "role %s needs at least one permission, such "
		    "as pam.sshd or svc.billing:read", pos[0]);
		goto out;
	}
	if (n - 1 > PAT_ROLE_PERMS_MAX) {
		ex = ctl_usage(c, "a role holds at most %d permissions; %d "
		    "given", PAT_ROLE_PERMS_MAX, n - 1);
		goto out;
	}
	for (i = 1; i < n; i++)
		if ((ex = check_perm(c, pos[i], true)) != EX_OK)
			goto out;
	if ((maxs && (ex = check_duration(c, "--max-lifetime", maxs,
	    &mx)) != EX_OK) || (defs && (ex = check_duration(c,
	    "--default-lifetime", defs, &def)) != EX_OK) ||
	    (idles && (ex = check_duration(c, "--max-idle", idles,
	    &idle)) != EX_OK))
		goto out;
	if (mx != 0 && def > mx) {
		ex = ctl_usage(c, "--default-lifetime %s is longer than "
		    "--max-lifetime %s: a token created without --expires "
		    "would be refused", pat_duration_words(def, d1, sizeof(d1)),
		    pat_duration_words(mx, d2, sizeof(d2)));
		goto out;
	}
	pat_buf_init(&perms, PAT_LINE_MAX);
	for (i = 1; i < n; i++) {
		if ((i > 1 && pat_buf_adds(&perms, ",") < 0) ||
		    pat_buf_adds(&perms, pos[i]) < 0) {
			pat_buf_free(&perms);
			ex = ctl_usage(c, "too many permissions for one "
			    "request");
			goto out;
		}
	}
	ctl_begin(c, &req, "ROLE-SET");
	pat_line_field(&req, "name", pos[0]);
	pat_line_field(&req, "perms", perms.data);
	pat_buf_free(&perms);
	/* set replaces the role whole: no flag, no such limit */
	if (mx != 0)
		pat_line_fieldi(&req, "max_lifetime", mx);
	if (def != 0)
		pat_line_fieldi(&req, "default_lifetime", def);
	if (idle != 0)
		pat_line_fieldi(&req, "max_idle", idle);
	snprintf(done, sizeof(done), "role %s set%s%s", pos[0],
	    *policy_words(mx, def, idle, pw, sizeof(pw)) ? ": " : "", pw);
	fields[0] = '\0';
	ex = run_simple(c, &req, fields, done);
out:
	free(pos);
	return ex;
}

static int
cmd_grant(struct ctl *c, int argc, char **argv, bool grant)
{
	const char *user = NULL, *group = NULL, *pos[1], *kind, *who;
	const struct opt opts[] = { { "--user", &user, NULL },
		{ "--group", &group, NULL }, { NULL, NULL, NULL } };
	struct pat_buf req;
	char done[256], fields[256], m1[100], m2[100];
	int n, ex;

	if ((ex = args_parse(c, argc, argv, opts, pos, 1, &n)) != EX_OK)
		return ex;
	if (n != 1)
		return ctl_usage(c, "which role? give its name");
	if ((user == NULL) == (group == NULL))
		return ctl_usage(c, "give one of --user USER and --group GROUP");
	kind = user ? "user" : "group";
	who = user ? user : group;
	if ((ex = check_role(c, "role", pos[0])) != EX_OK ||
	    (ex = check_user(c, user ? "--user" : "--group", who)) != EX_OK)
		return ex;
	ctl_begin(c, &req, grant ? "GRANT" : "UNGRANT");
	pat_line_field(&req, "role", pos[0]);
	pat_line_field(&req, kind, who);
	snprintf(done, sizeof(done), "%s role %s %s %s %s", grant ? "granted" :
	    "removed", pos[0], grant ? "to" : "from", kind, who);
	member(m1, sizeof(m1), "role", pos[0]);
	member(m2, sizeof(m2), kind, who);
	snprintf(fields, sizeof(fields), "%s,%s", m1, m2);
	if (grant)
		return run_grant(c, &req, fields, done, pos[0], kind, who);
	return run_simple(c, &req, fields, done);
}

static void
status_line(const char *k, const char *v)
{
	printf("%-14s %s\n", k, v);
}

static int
cmd_status(struct ctl *c, int argc, char **argv)
{
	struct pat_msg *ok;
	struct pat_buf req;
	unsigned long long up = 0, used = 0, max = 0;
	char b[200], d[32];
	int n, ex;

	if ((ex = args_parse(c, argc, argv, NULL, NULL, 0, &n)) != EX_OK)
		return ex;
	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	ctl_begin(c, &req, "STATUS");
	ex = ctl_call(c, &req, NULL, NULL, ok);
	pat_buf_free(&req);
	if (ex == EX_OK && c->json) {
		json_msg(c->out, ok);
		fputc('\n', c->out);
	} else if (ex == EX_OK) {
		pat_parse_u64(pat_msg_get(ok, "uptime"), UINT64_MAX, &up);
		pat_parse_u64(pat_msg_get(ok, "store_bytes"), UINT64_MAX, &used);
		pat_parse_u64(pat_msg_get(ok, "store_max_bytes"), UINT64_MAX,
		    &max);
		snprintf(b, sizeof(b), "%s (protocol %s)",
		    shown(pat_msg_get(ok, "version")),
		    shown(pat_msg_get(ok, "proto")));
		status_line("patd", b);
		status_line("uptime", fmt_duration((int64_t)up, d, sizeof(d)));
		status_line("tokens", shown(pat_msg_get(ok, "tokens")));
		status_line("roles", shown(pat_msg_get(ok, "roles")));
		status_line("grants", shown(pat_msg_get(ok, "grants")));
		snprintf(b, sizeof(b), "%s open, %s accepted since start",
		    shown(pat_msg_get(ok, "connections")),
		    shown(pat_msg_get(ok, "accepted")));
		status_line("connections", b);
		snprintf(b, sizeof(b), "%s changes in %s durable commits",
		    shown(pat_msg_get(ok, "writes")),
		    shown(pat_msg_get(ok, "commits")));
		status_line("writes", b);
		snprintf(b, sizeof(b), "%.1f MiB used of %.0f MiB",
		    (double)used / 1048576.0, (double)max / 1048576.0);
		status_line("store", b);
		snprintf(b, sizeof(b), "uid %s, %s", shown(pat_msg_get(ok,
		    "peer_uid")), strcmp(pat_msg_get(ok, "peer_admin") ?
		    pat_msg_get(ok, "peer_admin") : "", "yes") == 0 ? "admin" :
		    "not admin");
		status_line("you", b);
		if (pat_msg_get(ok, "fleet") != NULL) {	/* fleet mode */
			unsigned long long last = 0;

			pat_parse_u64(pat_msg_get(ok, "fleet_last"), UINT64_MAX,
			    &last);
			if (last > 0)
				snprintf(d, sizeof(d), "%llu", last);
			snprintf(b, sizeof(b), "%s, %s changes applied since "
			    "start, last at %s", pat_msg_get(ok, "fleet"),
			    shown(pat_msg_get(ok, "fleet_entries")),
			    last > 0 ? d : "- (none yet)");
			status_line("fleet", b);
			snprintf(b, sizeof(b), "newest change %s s old, the "
			    "last one reached this host %s ms after it was "
			    "made", shown(pat_msg_get(ok, "fleet_cookie_age")),
			    shown(pat_msg_get(ok, "fleet_lag_ms")));
			status_line("fleet sync", b);
			snprintf(b, sizeof(b), "%s revocation(s) made here "
			    "waiting for the directory; issuer: %s",
			    shown(pat_msg_get(ok, "fleet_outbox")),
			    shown(pat_msg_get(ok, "fleet_issuer")));
			status_line("fleet writes", b);
		}
	}
	free(ok);
	return ex;
}

int
cmd_admin(struct ctl *c, int argc, char **argv)
{
	if (strcmp(argv[0], "role") == 0)
		return cmd_role(c, argc, argv);
	if (strcmp(argv[0], "grant") == 0)
		return cmd_grant(c, argc, argv, true);
	if (strcmp(argv[0], "ungrant") == 0)
		return cmd_grant(c, argc, argv, false);
	if (strcmp(argv[0], "status") == 0)
		return cmd_status(c, argc, argv);
	return -1;
}
