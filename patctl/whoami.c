/* whoami.c - patctl whoami (perms): who patd sees, and what that holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

struct roles {
	struct ctl	*c;
	FILE		*items;	/* JSON items */
	char		 text[2048];	/* for people: "ssh (yours), …" */
	size_t		 n;
};

static int
role_item(const struct pat_msg *m, void *arg)
{
	struct roles *r = arg;
	const char *role = pat_msg_get(m, "role"), *via = pat_msg_get(m, "via");
	const char *group = pat_msg_get(m, "group");
	size_t len = strlen(r->text);

	if (r->c->json) {
		fputs(r->n++ ? "," : "", r->items);
		json_msg(r->items, m);
		return 0;
	}
	r->n++;
	snprintf(r->text + len, sizeof(r->text) - len, "%s%s (%s%s)",
	    len ? ", " : "", shown(role), via && strcmp(via, "group") == 0 ?
	    "through group " : "granted to you", via && strcmp(via, "group") ==
	    0 ? shown(group) : "");
	return 0;
}

static void
line(const char *k, const char *v)
{
	printf("%-13s %s\n", k, v);
}

/* The session line for people. */
static const char *
session_text(const char *state, long long exp, bool have, char *buf,
    size_t n)
{
	char tb[48], d[32];
	int64_t now = time(NULL);

	if (!have)
		return "none (patctl login starts one)";
	fmt_time(exp, "-", true, tb, sizeof(tb));
	if (state == NULL)
		snprintf(buf, n, "unknown");
	else if (strcmp(state, "active") == 0)
		snprintf(buf, n, "active until %s (%s left)", tb,
		    fmt_duration(exp - now, d, sizeof(d)));
	else if (strcmp(state, "expired") == 0)
		snprintf(buf, n, "expired at %s: run patctl login (or patctl "
		    "logout to forget it)", tb);
	else if (strcmp(state, "logged-out") == 0)
		snprintf(buf, n, "logged out: run patctl login (or patctl "
		    "logout to forget it)");
	else
		snprintf(buf, n, "not one this patd issued to you: run patctl "
		    "logout, then patctl login");
	return buf;
}

int
cmd_whoami(struct ctl *c, int argc, char **argv)
{
	struct roles r = { c, NULL, "", 0 };
	struct pat_msg *ok;
	struct pat_buf req;
	char *items = NULL, buf[256];
	const char *state, *perms;
	size_t ilen = 0;
	long long exp = 0;
	bool have, first = true;
	int n, ex;

	if (strcmp(argv[0], "whoami") != 0)
		return -1;
	if ((ex = args_parse(c, argc, argv, NULL, NULL, 0, &n)) != EX_OK)
		return ex;
	if ((ok = calloc(1, sizeof(*ok))) == NULL || (c->json &&
	    (r.items = open_memstream(&items, &ilen)) == NULL)) {
		free(ok);
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	}
	ctl_begin(c, &req, "WHOAMI");
	/* patd reports on the session rather than acting with it, so an
	 * expired one is said, not refused */
	have = c->session[0] != '\0' && c->auth[0] == '\0';
	if (have)
		pat_line_field(&req, "session", c->session);
	ex = ctl_call(c, &req, role_item, &r, ok);
	pat_buf_free(&req);
	if (r.items != NULL)
		fclose(r.items);
	state = pat_msg_get(ok, "session");
	pat_parse_i64(pat_msg_get(ok, "session_expires"), &exp);
	if (ex == EX_OK && c->json) {
		fputc('{', c->out);
		for (size_t i = 0; i < ok->nfields; i++) {
			struct pat_msg one = { 0 };

			if (strncmp(ok->f[i].key, "session", 7) == 0)
				continue;
			one.f[0] = ok->f[i];
			one.nfields = 1;
			json_fields(c->out, &one, &first);
		}
		fputs(",\"session\":", c->out);
		if (have) {
			fputs("{\"state\":", c->out);
			json_str(c->out, state ? state : "unknown");
			fprintf(c->out, ",\"expires\":%lld}", exp);
		} else
			fputs("null", c->out);
		fprintf(c->out, ",\"items\":[%s],\"count\":%zu}\n",
		    items ? items : "", r.n);
	} else if (ex == EX_OK) {
		perms = pat_msg_get(ok, "perms");
		line("uid", shown(pat_msg_get(ok, "uid")));
		line("user", *pat_msg_get(ok, "user") ?
		    shown(pat_msg_get(ok, "user")) : "- (no name for this uid)");
		line("roles", r.n ? r.text : "-");
		line("permissions", perms && *perms ? shown(perms) : "-");
		line("admin", strcmp(pat_msg_get(ok, "admin") ?
		    pat_msg_get(ok, "admin") : "", "yes") == 0 ? "yes (role, "
		    "grant and other users' tokens)" : "no");
		line("verifier", strcmp(pat_msg_get(ok, "verifier") ?
		    pat_msg_get(ok, "verifier") : "", "yes") == 0 ? "yes (may "
		    "verify anyone's tokens)" : "no (your own tokens only)");
		line("session", session_text(state, exp, have, buf,
		    sizeof(buf)));
	}
	free(items);
	free(ok);
	return ex;
}
