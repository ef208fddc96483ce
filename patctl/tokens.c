/* tokens.c - patctl create, list, show, revoke, rotate, verify. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"

#define EXPIRING_SOON	(7 * 86400)	/* rows shown in yellow */

/* Why patd chose the expiry (CREATE's expires_by=), for people. */
static const char *
expiry_note(const char *by)
{
	if (by == NULL)
		return "";
	if (strcmp(by, "default_lifetime") == 0)
		return " (the role's default lifetime)";
	if (strcmp(by, "max_lifetime") == 0)
		return " (the role's max lifetime: it allows no token that "
		    "never expires)";
	if (strcmp(by, "parent") == 0)
		return " (no later than the token that created it)";
	return "";
}

static int
print_created(struct ctl *c, const struct pat_msg *ok, const char *what)
{
	const char *stripped = pat_msg_get(ok, "stripped");
	const char *owner = pat_msg_get(ok, "stripped_owner");
	const char *capped = pat_msg_get(ok, "stripped_cap");
	char tb[48];
	long long exp = 0;

	if (c->json) {
		json_msg(c->out, ok);
		fputc('\n', c->out);
		return EX_OK;
	}
	/* the token alone on stdout, so T=$(patctl create …) works; escaped
	 * like the rest, without a copy left behind */
	put_text(stdout, pat_msg_get(ok, "token") ? pat_msg_get(ok, "token") :
	    "");
	fputc('\n', stdout);
	pat_parse_i64(pat_msg_get(ok, "expires"), &exp);
	fprintf(stderr, "%s token %s for %s: role %s, permissions %s, "
	    "expires %s%s\n", what, shown(pat_msg_get(ok, "id")),
	    shown(pat_msg_get(ok, "user")), shown(pat_msg_get(ok, "role")),
	    shown(pat_msg_get(ok, "perms")),
	    fmt_time(exp, "never", true, tb, sizeof(tb)),
	    expiry_note(pat_msg_get(ok, "expires_by")));
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
	const char *role = NULL, *name = NULL, *exp = NULL, *user = NULL;
	const char *from = NULL, *svc = NULL, *uses = NULL;
	bool parent = false;
	const struct opt opts[] = { { "--role", &role, NULL },
		{ "--name", &name, NULL }, { "--expires", &exp, NULL },
		{ "--user", &user, NULL }, { "--from", &from, NULL },
		{ "--service", &svc, NULL }, { "--uses", &uses, NULL },
		{ "--parent-from-stdin", NULL, &parent }, { NULL, NULL, NULL } };
	struct pat_msg *ok;
	struct pat_buf req;
	int64_t when = 0;
	int n, ex;

	if ((ex = args_parse(c, argc, argv, opts, NULL, 0, &n)) != EX_OK)
		return ex;
	if (role == NULL)
		return ctl_usage(c, "--role ROLE is required (patctl role list "
		    "shows the roles)");
	if ((ex = check_role(c, "--role", role)) != EX_OK ||
	    (name && (ex = check_token_name(c, name)) != EX_OK) ||
	    (user && (ex = check_user(c, "--user", user)) != EX_OK) ||
	    (exp && (ex = check_expiry(c, exp, time(NULL), &when)) != EX_OK) ||
	    (from && (ex = check_binding(c, "--from", from)) != EX_OK) ||
	    (svc && (ex = check_binding(c, "--service", svc)) != EX_OK) ||
	    (uses && (ex = check_binding(c, "--uses", uses)) != EX_OK))
		return ex;
	if (parent && c->auth[0] == '\0' &&
	    read_secret("Existing token: ", c->auth) != EX_OK)
		return ctl_usage(c, "--parent-from-stdin: expected your "
		    "existing token on stdin");
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
	if (from)
		pat_line_field(&req, "bind_from", from);
	if (svc)
		pat_line_field(&req, "bind_service", svc);
	if (uses)
		pat_line_field(&req, "bind_uses", uses);
	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	ex = ctl_call(c, &req, NULL, NULL, ok);
	if (ex == EX_OK)
		ex = print_created(c, ok, "created");
	pat_msg_wipe(ok);
	free(ok);
	pat_buf_free(&req);
	return ex;
}

/* What list gathers: JSON items as they come, or a table. */
struct list_acc {
	struct ctl	*c;
	struct table	*t;
	int64_t		 now;
	bool		 active;	/* --active or --expiring */
	int64_t		 within;	/* --expiring: seconds, else 0 */
	size_t		 n;		/* shown */
	size_t		 active_n;	/* active ones seen (revoke --all) */
};

static int
list_item(const struct pat_msg *m, void *arg)
{
	struct list_acc *a = arg;
	char t1[48], t2[48], left[48], d[32];
	long long expires = 0, used = 0;
	const char *state = pat_msg_get(m, "state");
	const char *svc = pat_msg_get(m, "last_service");
	const char *name = pat_msg_get(m, "name");
	const char *by = pat_msg_get(m, "ends_by");
	bool active = state != NULL && strcmp(state, "active") == 0;
	enum row_color color = ROW_PLAIN;

	/* when it stops working: its expiry or, earlier, its role's policy
	 * (an older patd sends no ends=) */
	if (pat_parse_i64(pat_msg_get(m, "ends"), &expires) < 0)
		pat_parse_i64(pat_msg_get(m, "expires"), &expires);
	pat_parse_i64(pat_msg_get(m, "last_used"), &used);
	a->active_n += active;
	if (a->active && (!active || (a->within > 0 && (expires == 0 ||
	    expires - a->now > a->within))))
		return 0;
	if (a->c->json) {
		fputs(a->n++ ? "," : "", a->c->out);
		json_msg(a->c->out, m);
		return 0;
	}
	a->n++;
	if (a->t == NULL)	/* counting only */
		return 0;
	if (active && expires != 0)
		snprintf(left, sizeof(left), "%s%s", fmt_duration(expires -
		    a->now, d, sizeof(d)), by && strcmp(by, "max_idle") == 0 ?
		    " if unused" : "");
	else
		snprintf(left, sizeof(left), "-");
	if (!active)
		color = state && strcmp(state, "revoked") == 0 ? ROW_RED :
		    ROW_DIM;
	else if (expires != 0 && expires - a->now < EXPIRING_SOON)
		color = ROW_YELLOW;
	/* everything but our own times is someone else's text: escaped */
	{
		const char *cells[] = { shown(pat_msg_get(m, "id")),
			shown(pat_msg_get(m, "user")),
			name && *name ? shown(name) : "-",
			shown(pat_msg_get(m, "role")), shown(state),
			fmt_time(expires, "never", false, t1, sizeof(t1)), left,
			fmt_time(used, "-", false, t2, sizeof(t2)),
			svc && *svc ? shown(svc) : "-" };

		if (table_row(a->t, color, cells) < 0)
			return ctl_err(a->c, EX_FAILED, "internal",
			    "out of memory");
	}
	return 0;
}

/* Every page of LIST for user (NULL: the peer) or all, into a. */
static int
list_all(struct ctl *c, const char *user, bool all, struct list_acc *a)
{
	struct pat_msg *ok;
	struct pat_buf req;
	const char *next;
	char after[32] = "";
	int ex;

	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	do {	/* patd answers in pages; follow next= */
		ctl_begin(c, &req, "LIST");
		if (user)
			pat_line_field(&req, "user", user);
		if (all)
			pat_line_field(&req, "all", "1");
		if (after[0])
			pat_line_field(&req, "after", after);
		ex = ctl_call(c, &req, list_item, a, ok);
		pat_buf_free(&req);
		next = ex == EX_OK ? pat_msg_get(ok, "next") : NULL;
		snprintf(after, sizeof(after), "%s", next ? next : "");
	} while (next != NULL);
	if (!c->json && ex == EX_OK && !all && user == NULL && getuid() == 0 &&
	    pat_msg_get(ok, "count") != NULL &&
	    strcmp(pat_msg_get(ok, "count"), "0") == 0)	/* no page but one */
		fprintf(stderr, "root has no tokens of its own; patctl list "
		    "--all shows every user's (or --user USER one user's)\n");
	free(ok);
	return ex;
}

static int
cmd_list(struct ctl *c, int argc, char **argv)
{
	const char *user = NULL, *expiring = NULL;
	bool all = false, active = false;
	const struct opt opts[] = { { "--user", &user, NULL },
		{ "--all", NULL, &all }, { "--active", NULL, &active },
		{ "--expiring", &expiring, NULL }, { NULL, NULL, NULL } };
	struct list_acc acc = { c, NULL, time(NULL), false, 0, 0, 0 };
	unsigned long long days = 0;
	char z[32], h1[48], h2[48];
	int n, ex;

	if ((ex = args_parse(c, argc, argv, opts, NULL, 0, &n)) != EX_OK)
		return ex;
	if (user && all)
		return ctl_usage(c, "give --user or --all, not both");
	if (active && expiring)
		return ctl_usage(c, "give --active or --expiring, not both "
		    "(--expiring lists active tokens only)");
	if ((user && (ex = check_user(c, "--user", user)) != EX_OK) ||
	    (expiring && (ex = check_days(c, "--expiring", expiring,
	    &days)) != EX_OK))
		return ex;
	acc.active = active || expiring;
	acc.within = (int64_t)days * 86400;
	local_zone(z, sizeof(z));
	snprintf(h1, sizeof(h1), "EXPIRES (%s)", z);
	snprintf(h2, sizeof(h2), "LAST USED (%s)", z);
	if (c->json)
		fputs("{\"items\":[", c->out);
	else {
		const char *head[] = { "ID", "USER", "NAME", "ROLE", "STATE",
			h1, "LEFT", h2, "SERVICE" };

		if ((acc.t = table_new(9, head, "011100001")) == NULL)
			return ctl_err(c, EX_FAILED, "internal",
			    "out of memory");
	}
	ex = list_all(c, user, all, &acc);
	if (c->json)
		fprintf(c->out, "],\"count\":%zu}\n", acc.n);
	else if (ex == EX_OK)
		table_print(c, acc.t);
	else
		table_print(NULL, acc.t);	/* refused: no table */
	return ex;
}

/* show's PERM lines: JSON items, or a table. */
struct show_acc {
	struct ctl	*c;
	FILE		*items;
	struct table	*t;
	size_t		 n;
};

static int
show_perm(const struct pat_msg *m, void *arg)
{
	struct show_acc *a = arg;
	const char *by = pat_msg_get(m, "by"), *eff = pat_msg_get(m, "effective");
	const char *status = pat_msg_get(m, "status");

	if (a->c->json) {
		fputs(a->n++ ? "," : "", a->items);
		json_msg(a->items, m);
		return 0;
	}
	a->n++;
	{
		const char *cells[] = { shown(pat_msg_get(m, "perm")),
			shown(status), by && *by ? shown(by) : "-",
			eff && *eff ? shown(eff) : "-" };

		if (table_row(a->t, status && strcmp(status, "effective") != 0 ?
		    ROW_DIM : ROW_PLAIN, cells) < 0)
			return ctl_err(a->c, EX_FAILED, "internal",
			    "out of memory");
	}
	return 0;
}

/* A field of show's answer as a person reads it. */
static const char *
show_value(const char *k, const char *v, char *buf, size_t n)
{
	int64_t now = time(NULL);
	char tb[48], d[32];
	long long t;

	if (strcmp(k, "parent") == 0 && strcmp(v, "0") == 0)
		return "-";
	bool end = strcmp(k, "expires") == 0 || strcmp(k, "ends") == 0;

	if (strcmp(k, "ends_by") == 0)
		return strcmp(v, "expires") == 0 ? "its expiry" :
		    strcmp(v, "max_lifetime") == 0 ? "its role's max lifetime, "
		    "from its creation" : strcmp(v, "max_idle") == 0 ?
		    "its role's max idle, from its last use (a use moves it)" :
		    shown(v);
	if ((strcmp(k, "created") == 0 || end || strcmp(k, "revoked") == 0 ||
	    strcmp(k, "last_used") == 0 || strcmp(k, "fleet_last_used") == 0)
	    && pat_parse_i64(v, &t) == 0) {
		if (t == 0)
			return end ? "never" : "-";
		fmt_time(t, "-", true, tb, sizeof(tb));
		fmt_duration(t > now ? t - now : now - t, d, sizeof(d));
		if (end && t > now)
			snprintf(buf, n, "%s (in %s)", tb, d);
		else
			snprintf(buf, n, "%s (%s ago)", tb, d);
		return buf;
	}
	if (strcmp(k, "bind_uses") == 0 && strcmp(v, "0") == 0)
		return "any number (not counted)";
	if (strncmp(k, "bind_", 5) == 0 && *v == '\0')
		return "anywhere (not bound)";
	return *v ? shown(v) : "-";
}

static int
cmd_show(struct ctl *c, int argc, char **argv)
{
	static const struct { const char *key, *label; } labels[] = {
		{ "by", "created by" }, { "last_used", "last used" },
		{ "ends", "stops working" }, { "ends_by", "because of" },
		{ "last_service", "last service" }, { "last_rhost", "last host" },
		{ "perms", "in force" }, { "cap", "creator's cap" },
		{ "bind_from", "only from" }, { "bind_service", "only by" },
		{ "bind_uses", "uses allowed" }, { "used", "uses made" },
		{ "fleet_last_host", "fleet: host" },
		{ "fleet_last_used", "fleet: when" },
		{ "fleet_last_service", "fleet: service" },
		{ "fleet_last_rhost", "fleet: from" } };
	struct show_acc acc = { c, NULL, NULL, 0 };
	const char *pos[1], *label;
	struct pat_msg *ok;
	struct pat_buf req;
	unsigned long long id;
	char *items = NULL, vb[128];
	size_t ilen = 0, i, j;
	int n, ex;

	if ((ex = args_parse(c, argc, argv, NULL, pos, 1, &n)) != EX_OK)
		return ex;
	if (n != 1)
		return ctl_usage(c, "which token? give its id");
	if ((ex = check_id(c, pos[0], &id)) != EX_OK)
		return ex;
	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	if (c->json && (acc.items = open_memstream(&items, &ilen)) == NULL) {
		free(ok);
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	}
	if (!c->json) {
		const char *head[] = { "PERMISSION OF THE ROLE", "STATUS",
			"REMOVED BY", "IN FORCE" };

		acc.t = table_new(4, head, "1001");
	}
	ctl_begin(c, &req, "SHOW");
	pat_line_fieldu(&req, "id", id);
	ex = ctl_call(c, &req, show_perm, &acc, ok);
	pat_buf_free(&req);
	if (acc.items != NULL)
		fclose(acc.items);
	if (ex == EX_OK && c->json) {
		fputs("{\"token\":", c->out);
		json_msg(c->out, ok);
		fprintf(c->out, ",\"items\":[%s],\"count\":%zu}\n",
		    items ? items : "", acc.n);
	} else if (ex == EX_OK) {
		const char *st = pat_msg_get(ok, "state");

		for (i = 0; i < ok->nfields; i++) {
			const char *k = ok->f[i].key;

			/* a revoked token stopped for good: no "until" */
			if (st != NULL && strcmp(st, "revoked") == 0 &&
			    strncmp(k, "ends", 4) == 0)
				continue;
			label = k;
			for (j = 0; j < sizeof(labels) / sizeof(*labels); j++)
				if (strcmp(k, labels[j].key) == 0)
					label = labels[j].label;
			printf("%-14s %s\n", label, show_value(k, ok->f[i].val,
			    vb, sizeof(vb)));
		}
		printf("\n");
		table_print(c, acc.t);
		acc.t = NULL;
	}
	table_print(NULL, acc.t);
	free(items);
	free(ok);
	return ex;
}

/* One REVOKE; its outcome as a JSON item (or a line for people). */
/* Fleet mode: whether the directory has the revocation (patd's fleet=);
 * JSON gets "fleet":…, a person a line when it waits here. */
static void
fleet_said(struct ctl *c, const struct pat_msg *ok)
{
	const char *f = pat_msg_get(ok, "fleet");

	if (f == NULL)
		return;
	if (c->json) {
		fputs(",\"fleet\":", c->out);
		json_str(c->out, f);
	} else if (strcmp(f, "queued") == 0)
		fprintf(stderr, "the fleet directory cannot be reached: the "
		    "revocation holds on this host now and is sent to the "
		    "fleet when the directory is back (patctl status: fleet "
		    "writes)\n");
}

static int
revoke_one(struct ctl *c, unsigned long long id, const char *user,
    struct pat_msg *ok, size_t *nitems, unsigned long long *total)
{
	unsigned long long k = 0;
	struct pat_buf req;
	bool pending;
	int ex;

	ctl_begin(c, &req, "REVOKE");
	if (id != 0)
		pat_line_fieldu(&req, "id", id);
	else
		pat_line_field(&req, "all", "1");
	if (user != NULL)
		pat_line_field(&req, "user", user);
	ex = ctl_call(c, &req, NULL, NULL, ok);
	pat_buf_free(&req);
	if (ex != EX_OK)
		return ex;
	pending = pat_msg_get(ok, "pending") != NULL;
	pat_parse_u64(pat_msg_get(ok, "revoked"), UINT64_MAX, &k);
	*total += k;
	if (c->json) {
		fputs((*nitems)++ ? "," : "", c->out);
		if (id != 0)
			fprintf(c->out, "{\"id\":%llu", id);
		else {
			fputs("{\"all\":true,\"user\":", c->out);
			json_str(c->out, user ? user : "");
		}
		fprintf(c->out, ",\"revoked\":%llu,\"pending\":%s", k,
		    pending ? "true" : "false");
		if (pat_msg_get(ok, "already") != NULL) {
			fputs(",\"already\":", c->out);
			json_str(c->out, pat_msg_get(ok, "already"));
		}
		if (pat_msg_get(ok, "revoked_at") != NULL)
			fprintf(c->out, ",\"revoked_at\":%s",
			    shown(pat_msg_get(ok, "revoked_at")));
		if (pat_msg_get(ok, "rotated_into") != NULL)
			fprintf(c->out, ",\"rotated_into\":%s",
			    shown(pat_msg_get(ok, "rotated_into")));
		fleet_said(c, ok);
		fputc('}', c->out);
	} else if (pat_msg_get(ok, "already") != NULL) {
		/* nothing left to do: exit 0, as systemctl stop does for a
		 * stopped unit, but say what had happened */
		const char *into = pat_msg_get(ok, "rotated_into");
		char tb[48];
		long long when = 0;

		pat_parse_i64(pat_msg_get(ok, "revoked_at"), &when);
		if (into != NULL)
			fprintf(stderr, "token %llu was rotated into %s on %s; "
			    "it is revoked already\n", id, shown(into),
			    fmt_time(when, "?", true, tb, sizeof(tb)));
		else
			fprintf(stderr, "token %llu was already revoked on %s\n",
			    id, fmt_time(when, "?", true, tb, sizeof(tb)));
	} else {
		if (id != 0)
			fprintf(stderr, "revoked %llu token(s) starting at id "
			    "%llu\n", k, id);
		else
			fprintf(stderr, "revoked %llu token(s)\n", k);
		if (pending)
			fprintf(stderr, "more descendants are being marked "
			    "revoked in the background; every one of them is "
			    "refused already\n");
	}
	if (!c->json)
		fleet_said(c, ok);
	return EX_OK;
}

/* revoke --all: say how many, and on a terminal ask. */
static int
confirm_all(struct ctl *c, const char *user, bool yes)
{
	struct list_acc acc = { c, NULL, time(NULL), false, 0, 0, 0 };
	char answer[16], whose[96];
	bool json = c->json;
	int ex;

	/* count without printing: LIST's items go nowhere */
	c->json = false;
	ex = list_all(c, user, false, &acc);
	c->json = json;
	if (ex != EX_OK)
		return ex;
	snprintf(whose, sizeof(whose), "of %s", user ? shown(user) : "yours");
	if (!json)
		fprintf(stderr, "patctl revoke: %zu active token%s %s (and "
		    "every token created from them) will be revoked\n",
		    acc.active_n, acc.active_n == 1 ? "" : "s", whose);
	if (yes || acc.active_n == 0)
		return EX_OK;
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		ctl_err(c, EX_USAGE, "usage", "revoke --all would revoke %zu "
		    "active token%s %s: add --yes to do it without a terminal "
		    "to confirm on", acc.active_n, acc.active_n == 1 ? "" : "s",
		    whose);
		return EX_USAGE;
	}
	if (read_answer("Revoke them? [y/N] ", true, answer,
	    sizeof(answer)) < 0 || (strcmp(answer, "y") != 0 &&
	    strcmp(answer, "yes") != 0 && strcmp(answer, "Y") != 0))
		return ctl_err(c, EX_REFUSED, "cancelled", "nothing revoked");
	return EX_OK;
}

/* revoke --token-from-stdin: a leaked token, by whoever holds it. */
static int
revoke_secret(struct ctl *c)
{
	char secret[SECRET_MAX];
	struct pat_msg ok = { 0 };
	struct pat_buf req;
	const char *id;
	unsigned long long k = 0;
	int ex;

	if (read_secret("Token to revoke: ", secret) != 0)
		return ctl_usage(c, "--token-from-stdin: expected the token "
		    "on stdin");
	pat_buf_init(&req, PAT_LINE_MAX);
	pat_line_begin(&req, "REVOKE");
	pat_line_field(&req, "token", secret);
	sodium_memzero(secret, sizeof(secret));
	ex = ctl_call(c, &req, NULL, NULL, &ok);
	pat_buf_free(&req);
	if (ex != EX_OK)
		goto out;
	id = pat_msg_get(&ok, "id");
	pat_parse_u64(pat_msg_get(&ok, "revoked"), UINT64_MAX, &k);
	if (c->json) {
		fprintf(c->out, "{\"revoked\":%llu,\"pending\":%s", k,
		    pat_msg_get(&ok, "pending") ? "true" : "false");
		if (pat_msg_get(&ok, "already") != NULL) {
			fputs(",\"already\":", c->out);
			json_str(c->out, pat_msg_get(&ok, "already"));
		}
		if (id != NULL)
			fprintf(c->out, ",\"id\":%s", shown(id));
		fleet_said(c, &ok);
		fputs("}\n", c->out);
	} else if (pat_msg_get(&ok, "already") != NULL)
		fprintf(stderr, "that token was %s already\n",
		    strcmp(pat_msg_get(&ok, "already"), "rotated") == 0 ?
		    "rotated away and is revoked" : "revoked");
	else
		fprintf(stderr, "revoked token %s and %llu token(s) created "
		    "from it; patd logged it as reported (reason=reported)\n",
		    id ? shown(id) : "?", k > 0 ? k - 1 : 0);
	if (!c->json)
		fleet_said(c, &ok);
out:
	pat_msg_wipe(&ok);
	return ex;
}

static int
cmd_revoke(struct ctl *c, int argc, char **argv)
{
	const char *user = NULL, **pos;
	bool all = false, yes = false, from_stdin = false;
	const struct opt opts[] = { { "--user", &user, NULL },
		{ "--all", NULL, &all }, { "--yes", NULL, &yes },
		{ "--token-from-stdin", NULL, &from_stdin },
		{ NULL, NULL, NULL } };
	unsigned long long *ids = NULL, total = 0;
	struct pat_msg *ok = NULL;
	size_t nitems = 0;
	int i, ex, r, n;

	if ((pos = calloc((size_t)argc, sizeof(*pos))) == NULL ||
	    (ids = calloc((size_t)argc, sizeof(*ids))) == NULL ||
	    (ok = calloc(1, sizeof(*ok))) == NULL) {
		ex = ctl_err(c, EX_FAILED, "internal", "out of memory");
		goto out;
	}
	if ((ex = args_parse(c, argc, argv, opts, pos, argc, &n)) != EX_OK)
		goto out;
	if (from_stdin) {
		ex = all || n > 0 || user ? ctl_usage(c, "--token-from-stdin "
		    "names the token by its secret: no ids, --all or --user") :
		    revoke_secret(c);
		goto out;
	}
	if (all == (n > 0)) {
		ex = ctl_usage(c, all ? "give token ids or --all, not both" :
		    "which tokens? give their ids, or --all");
		goto out;
	}
	if (user && !all) {
		ex = ctl_usage(c, "--user goes with --all (an id already "
		    "names one token)");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((ex = check_id(c, pos[i], &ids[i])) != EX_OK)
			goto out;
	if (user && (ex = check_user(c, "--user", user)) != EX_OK)
		goto out;
	if (all && (ex = confirm_all(c, user, yes)) != EX_OK)
		goto out;
	if (c->json)
		fputs("{\"items\":[", c->out);
	if (all)
		ex = revoke_one(c, 0, user, ok, &nitems, &total);
	/* go on after a failure; exit with the worst outcome */
	for (i = 0; i < n; i++)
		if ((r = revoke_one(c, ids[i], NULL, ok, &nitems, &total)) > ex)
			ex = r;
	if (c->json) {
		fprintf(c->out, "],\"count\":%zu,\"revoked\":%llu}\n", nitems,
		    total);
		if (ex != EX_OK && nitems > 0) {
			/* what was done goes with the error */
			char *ctx = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&ctx, &len);

			if (f != NULL) {
				fprintf(f, "\"revoked\":%llu", total);
				fclose(f);
				ctl_context(c, ctx);
				free(ctx);
			}
		}
	}
out:
	free(ok);
	free(ids);
	free(pos);
	return ex;
}

static int
cmd_rotate(struct ctl *c, int argc, char **argv)
{
	char token[SECRET_MAX];
	struct pat_msg *ok;
	struct pat_buf req;
	int n, ex;

	if ((ex = args_parse(c, argc, argv, NULL, NULL, 0, &n)) != EX_OK)
		return ex;
	if (read_secret("Token to rotate: ", token) != EX_OK)
		return ctl_usage(c, "expected the token to rotate on stdin");
	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
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
	const char *user = NULL, *perm = NULL;
	const struct opt opts[] = { { "--user", &user, NULL },
		{ "--perm", &perm, NULL }, { NULL, NULL, NULL } };
	char token[SECRET_MAX];
	struct pat_msg *ok;
	struct pat_buf req;
	bool first = false;
	int n, ex;

	/* whatever goes wrong, the document says the token is not valid */
	ctl_context(c, "\"valid\":false");
	if ((ex = args_parse(c, argc, argv, opts, NULL, 0, &n)) != EX_OK)
		return ex;
	if ((user && (ex = check_user(c, "--user", user)) != EX_OK) ||
	    (perm && (ex = check_perm(c, perm, false)) != EX_OK))
		return ex;
	if (read_secret("Token: ", token) != EX_OK)
		return ctl_usage(c, "expected a token on stdin");
	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
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
		fputs("{\"valid\":true", c->out);
		json_fields(c->out, ok, &first);
		fputs("}\n", c->out);
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
