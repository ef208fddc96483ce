/* session.c - patctl login / logout and the session file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "ctl.h"

#define LOGIN_TIMEOUT_MS	300000	/* a person types: patd bounds it too */

static int
session_path(char *out, size_t n)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");

	if (dir == NULL || dir[0] != '/')
		return -1;
	return snprintf(out, n, "%s/patctl-session", dir) < (int)n ? 0 : -1;
}

int
session_load(struct ctl *c)
{
	char path[512];
	struct stat st;
	ssize_t k;
	int fd;

	c->session[0] = '\0';
	if (session_path(path, sizeof(path)) < 0 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	/* only our own, private file */
	if (fstat(fd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 077) ||
	    (k = read(fd, c->session, SESSION_MAX)) <= 0) {
		close(fd);
		sodium_memzero(c->session, sizeof(c->session));
		return -1;
	}
	close(fd);
	c->session[k] = '\0';
	c->session[strcspn(c->session, "\n")] = '\0';
	return 0;
}

static int
session_save(const char *jwt)
{
	char path[512], tmp[520];
	int fd, ok;

	if (session_path(path, sizeof(path)) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return -1;
	ok = write(fd, jwt, strlen(jwt)) == (ssize_t)strlen(jwt) &&
	    write(fd, "\n", 1) == 1;
	close(fd);
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
session_forget(void)
{
	char path[512];

	if (session_path(path, sizeof(path)) == 0)
		unlink(path);
}

/* Relay patd's PAM conversation to the person (or to stdin). */
static int
cmd_login(struct ctl *c)
{
	char answer[ANSWER_MAX + 1], path[512], tb[32];
	struct pat_client cl;
	struct pat_msg *m;
	struct pat_buf b;
	long long exp = 0;
	int r, ex = EX_FAILED;

	if (session_path(path, sizeof(path)) < 0)
		return ctl_err(c, EX_USAGE, "usage", "XDG_RUNTIME_DIR is not "
		    "set; patctl keeps the session there (e.g. export "
		    "XDG_RUNTIME_DIR=/run/user/$(id -u))");
	/* before a password or code goes anywhere: is this root's patd? */
	if ((ex = ctl_connect(c, &cl, LOGIN_TIMEOUT_MS)) != EX_OK)
		return ex;
	ex = EX_FAILED;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		pat_client_close(&cl);
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	}
	pat_buf_init(&b, PAT_LINE_MAX);
	pat_buf_adds(&b, "LOGIN\n");
	if ((r = pat_client_send(&cl, &b)) < 0)
		goto broken;
	for (;;) {
		if ((r = pat_client_read(&cl, m)) < 0)
			goto broken;
		if (strcmp(m->verb, "PROMPT") == 0) {
			const char *style = pat_msg_get(m, "style");
			const char *text = pat_msg_get(m, "text");

			/* PAM modules write prompts: escaped */
			if (read_answer(text ? shown(text) : "Answer: ", style &&
			    strcmp(style, "echo-on") == 0, answer,
			    sizeof(answer)) < 0) {
				ex = ctl_err(c, EX_REFUSED, "login-failed",
				    "no answer given");
				goto out;
			}
			pat_buf_reset(&b);
			pat_line_begin(&b, "ANSWER");
			pat_line_field(&b, "text", answer);
			pat_line_end(&b);
			sodium_memzero(answer, sizeof(answer));
			if ((r = pat_client_send(&cl, &b)) < 0)
				goto broken;
		} else if (strcmp(m->verb, "INFO") == 0 ||
		    strcmp(m->verb, "ERROR") == 0) {
			const char *text = pat_msg_get(m, "text");

			fprintf(stderr, "%s\n", text ? shown(text) : "");
		} else if (strcmp(m->verb, "OK") == 0) {
			const char *s = pat_msg_get(m, "session");

			if (s == NULL || session_save(s) < 0) {
				ctl_err(c, EX_FAILED, "internal", "could not "
				    "keep the session in %s", path);
				goto out;
			}
			pat_parse_i64(pat_msg_get(m, "expires"), &exp);
			if (c->json)
				fprintf(c->out, "{\"session\":{\"state\":"
				    "\"active\",\"expires\":%lld}}\n", exp);
			else
				fprintf(stderr, "logged in; session valid "
				    "until %s\n", fmt_time(exp, "?", true, tb,
				    sizeof(tb)));
			ex = EX_OK;
			goto out;
		} else if (strcmp(m->verb, "ERR") == 0) {
			const char *msg = pat_msg_get(m, "message");
			const char *code = pat_msg_get(m, "code");

			ex = ctl_err(c, code && (strcmp(code, "busy") == 0 ||
			    strcmp(code, "internal") == 0) ? EX_FAILED :
			    EX_REFUSED, code ? code : "login-failed", "%s (%s)",
			    msg ? msg : "refused", code ? code : "?");
			goto out;
		} else {
			r = -EPROTO;
			goto broken;
		}
	}
broken:
	ex = ctl_err(c, EX_FAILED, "bad-answer", "the login was cut off: %s",
	    r == -ETIMEDOUT ? "timed out" : "patd closed the connection");
out:
	pat_msg_wipe(m);
	free(m);
	pat_buf_free(&b);
	pat_client_close(&cl);
	return ex;
}

static int
cmd_logout(struct ctl *c)
{
	struct pat_msg *m;
	struct pat_buf b;
	int ex;

	if (session_load(c) < 0) {
		if (c->json)
			fputs("{\"session\":null}\n", c->out);
		else
			fprintf(stderr, "patctl: not logged in\n");
		return EX_OK;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	pat_buf_init(&b, PAT_LINE_MAX);
	pat_line_begin(&b, "LOGOUT");
	pat_line_field(&b, "session", c->session);
	ex = ctl_call(c, &b, NULL, NULL, m);
	pat_buf_free(&b);
	free(m);
	/* forget it here whatever patd said: a stale session is no use */
	session_forget();
	if (ex == EX_OK && c->json)
		fputs("{\"session\":{\"state\":\"logged-out\"}}\n", c->out);
	else if (ex == EX_OK)
		fprintf(stderr, "logged out\n");
	return ex;
}

int
cmd_session(struct ctl *c, int argc, char **argv)
{
	int n, ex;

	if (strcmp(argv[0], "login") != 0 && strcmp(argv[0], "logout") != 0)
		return -1;
	if ((ex = args_parse(c, argc, argv, NULL, NULL, 0, &n)) != EX_OK)
		return ex;
	return strcmp(argv[0], "login") == 0 ? cmd_login(c) : cmd_logout(c);
}
