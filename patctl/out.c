/* out.c - patctl's results and errors: for people, or as one JSON document. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl.h"

/* "patctl role set: " or "patctl: " */
static void
prefix(struct ctl *c)
{
	fprintf(stderr, "patctl%s%s: ", c->cmd ? " " : "", c->cmd ? c->cmd : "");
}

int
ctl_err(struct ctl *c, int ex, const char *code, const char *fmt, ...)
{
	char msg[sizeof(c->err_msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->json) {
		prefix(c);
		put_text(stderr, msg);	/* it may quote what others wrote */
		fputc('\n', stderr);
	}
	if (!c->failed) {
		c->failed = true;
		snprintf(c->err_code, sizeof(c->err_code), "%s", code);
		memcpy(c->err_msg, msg, sizeof(msg));
		c->err_hint[0] = '\0';
	}
	explicit_bzero(msg, sizeof(msg));
	return ex;
}

void
ctl_hint(struct ctl *c, const char *fmt, ...)
{
	char msg[sizeof(c->err_hint)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->json) {
		prefix(c);
		put_text(stderr, msg);
		fputc('\n', stderr);
	} else if (c->failed && c->err_hint[0] == '\0')
		memcpy(c->err_hint, msg, sizeof(msg));
}

int
ctl_usage(struct ctl *c, const char *fmt, ...)
{
	char msg[512];
	const char *syn = help_synopsis(c->cmd ? c->cmd : "");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_err(c, EX_USAGE, "usage", "%s", msg);
	if (syn != NULL)
		ctl_hint(c, "usage: %s (more: patctl %s%s--help)", syn,
		    c->cmd ? c->cmd : "", c->cmd ? " " : "");
	return EX_USAGE;
}

void
ctl_context(struct ctl *c, const char *members)
{
	free(c->ctx);
	c->ctx = strdup(members);
}

int
out_begin(struct ctl *c)
{
	if (!c->json) {
		c->out = stdout;
		return 0;
	}
	c->out = open_memstream(&c->doc, &c->doclen);
	return c->out != NULL ? 0 : -1;
}

int
out_end(struct ctl *c, int ex)
{
	if (!c->json) {
		fflush(stdout);
		return ex;
	}
	if (c->out != NULL)
		fclose(c->out);
	c->out = NULL;
	if (c->failed || ex != EX_OK) {
		fputc('{', stdout);
		if (c->ctx != NULL && *c->ctx)
			printf("%s,", c->ctx);
		fputs("\"error\":{\"code\":", stdout);
		json_str(stdout, c->failed ? c->err_code : "internal");
		fputs(",\"message\":", stdout);
		json_str(stdout, c->failed ? c->err_msg : "failed");
		if (c->err_hint[0] != '\0') {
			fputs(",\"hint\":", stdout);
			json_str(stdout, c->err_hint);
		}
		fputs("}}\n", stdout);
	} else if (c->doc != NULL && c->doclen > 0)
		fwrite(c->doc, 1, c->doclen, stdout);
	else
		fputs("{}\n", stdout);
	fflush(stdout);
	if (c->doc != NULL) {	/* it may hold a new token */
		sodium_memzero(c->doc, c->doclen);
		free(c->doc);
	}
	c->doc = NULL;
	free(c->ctx);
	c->ctx = NULL;
	explicit_bzero(c->err_msg, sizeof(c->err_msg));
	return ex;
}
