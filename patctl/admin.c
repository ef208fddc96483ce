/* admin.c - patctl role, grant, ungrant and status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct acc {
	struct ctl	*c;
	size_t		 n;
};

static int
role_item(const struct pat_msg *m, void *arg)
{
	struct acc *a = arg;
	const char *u = pat_msg_get(m, "user"), *g = pat_msg_get(m, "group");

	if (a->c->json) {
		fputs(a->n++ ? "," : "", stdout);
		json_msg(stdout, m);
	} else if (pat_msg_get(m, "perms") != NULL)
		printf("%-20s %s\n", shown(pat_msg_get(m, "name")),
		    shown(pat_msg_get(m, "perms")));
	else
		printf("granted to %s %s\n", u ? "user" : "group",
		    shown(u ? u : g));
	return 0;
}

/* Run a request whose answer is ITEM lines then OK; JSON: {items, ok}. */
static int
run_items(struct ctl *c, struct pat_buf *req, const char *header)
{
	struct acc a = { c, 0 };
	struct pat_msg *ok;
	int ex;

	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return EX_FAILED;
	if (c->json)
		fputs("{\"items\":[", stdout);
	else if (header)
		printf("%s\n", header);
	ex = ctl_call(c, req, role_item, &a, ok);
	pat_buf_free(req);
	if (ex == EX_OK && c->json) {
		fputs("],\"result\":", stdout);
		json_msg(stdout, ok);
		fputs("}\n", stdout);
	} else if (c->json) {
		fputs("]}\n", stdout);	/* refused: still one document */
	} else if (ex == EX_OK && pat_msg_get(ok, "perms") != NULL)
		printf("role %s: %s\n", shown(pat_msg_get(ok, "name")),
		    shown(pat_msg_get(ok, "perms")));
	free(ok);
	return ex;
}

/* A request with a plain OK answer; says `done` on success. */
static int
run_simple(struct ctl *c, struct pat_buf *req, const char *done)
{
	struct pat_msg *ok;
	int ex;

	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return EX_FAILED;
	ex = ctl_call(c, req, NULL, NULL, ok);
	pat_buf_free(req);
	if (ex == EX_OK && c->json) {
		json_msg(stdout, ok);
		fputc('\n', stdout);
	} else if (ex == EX_OK && done != NULL)
		fprintf(stderr, "%s\n", shown(done));
	else if (ex == EX_OK) {
		size_t i;

		for (i = 0; i < ok->nfields; i++)
			printf("%-16s %s\n", shown(ok->f[i].key),
			    shown(ok->f[i].val));
	}
	free(ok);
	return ex;
}

static int
cmd_role(struct ctl *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct pat_buf req, perms;
	char done[256];
	int i;

	if (strcmp(sub, "list") == 0 && argc == 2) {
		ctl_begin(c, &req, "ROLE-LIST");
		return run_items(c, &req, NULL);
	}
	if (strcmp(sub, "show") == 0 && argc == 3) {
		ctl_begin(c, &req, "ROLE-SHOW");
		pat_line_field(&req, "name", argv[2]);
		return run_items(c, &req, NULL);
	}
	if (strcmp(sub, "delete") == 0 && argc == 3) {
		ctl_begin(c, &req, "ROLE-DELETE");
		pat_line_field(&req, "name", argv[2]);
		snprintf(done, sizeof(done), "deleted role %s and its grants; "
		    "its tokens now grant nothing", argv[2]);
		return run_simple(c, &req, done);
	}
	if (strcmp(sub, "set") == 0 && argc >= 4) {
		pat_buf_init(&perms, PAT_LINE_MAX);
		for (i = 3; i < argc; i++) {
			if (i > 3)
				pat_buf_adds(&perms, ",");
			if (pat_buf_adds(&perms, argv[i]) < 0) {
				pat_buf_free(&perms);
				fprintf(stderr, "patctl role set: too many "
				    "permissions\n");
				return EX_USAGE;
			}
		}
		ctl_begin(c, &req, "ROLE-SET");
		pat_line_field(&req, "name", argv[2]);
		pat_line_field(&req, "perms", perms.data);
		pat_buf_free(&perms);
		snprintf(done, sizeof(done), "role %s set", argv[2]);
		return run_simple(c, &req, done);
	}
	fprintf(stderr, "usage: patctl role list | role show NAME | "
	    "role set NAME PERM... | role delete NAME\n");
	return EX_USAGE;
}

/* GRANT: says whether the grant is new or was there already. */
static int
run_grant(struct ctl *c, struct pat_buf *req, const char *role,
    const char *kind, const char *who)
{
	const char *existed;
	struct pat_msg *ok;
	int ex;

	if ((ok = calloc(1, sizeof(*ok))) == NULL)
		return EX_FAILED;
	ex = ctl_call(c, req, NULL, NULL, ok);
	pat_buf_free(req);
	existed = pat_msg_get(ok, "existed");
	if (ex == EX_OK && c->json) {
		json_msg(stdout, ok);
		fputc('\n', stdout);
	} else if (ex == EX_OK && existed != NULL && strcmp(existed, "1") == 0)
		fprintf(stderr, "%s%s already had role %s; nothing changed\n",
		    strcmp(kind, "group") == 0 ? "group " : "", shown(who),
		    shown(role));
	else if (ex == EX_OK)
		fprintf(stderr, "granted role %s to %s %s\n", shown(role), kind,
		    shown(who));
	free(ok);
	return ex;
}

static int
cmd_grant(struct ctl *c, int argc, char **argv, bool grant)
{
	const char *kind = NULL, *who = NULL;
	struct pat_buf req;
	char done[256];

	if (argc == 4 && (strcmp(argv[2], "--user") == 0 ||
	    strcmp(argv[2], "--group") == 0)) {
		kind = argv[2] + 2;
		who = argv[3];
	}
	if (kind == NULL) {
		fprintf(stderr, "usage: patctl %s ROLE (--user USER | --group "
		    "GROUP)\n", argv[0]);
		return EX_USAGE;
	}
	ctl_begin(c, &req, grant ? "GRANT" : "UNGRANT");
	pat_line_field(&req, "role", argv[1]);
	pat_line_field(&req, kind, who);
	if (grant)
		return run_grant(c, &req, argv[1], kind, who);
	snprintf(done, sizeof(done), "removed role %s from %s %s", argv[1],
	    kind, who);
	return run_simple(c, &req, done);
}

int
cmd_admin(struct ctl *c, int argc, char **argv)
{
	struct pat_buf req;

	if (strcmp(argv[0], "role") == 0)
		return cmd_role(c, argc, argv);
	if (strcmp(argv[0], "grant") == 0)
		return cmd_grant(c, argc, argv, true);
	if (strcmp(argv[0], "ungrant") == 0)
		return cmd_grant(c, argc, argv, false);
	if (strcmp(argv[0], "status") == 0) {
		if (argc != 1) {
			fprintf(stderr, "usage: patctl status\n");
			return EX_USAGE;
		}
		ctl_begin(c, &req, "STATUS");
		return run_simple(c, &req, NULL);
	}
	return -1;
}
