/* login.c - PAM logins in child processes; see login.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <sodium.h>

#include "clock.h"
#include "log.h"
#include "login.h"

#define LOGIN_ROUNDS		16
#define LOGIN_ANSWER_MAX	512

struct relay {
	int		fd;
	int64_t		deadline;	/* CLOCK_MONOTONIC ms */
	int		rounds;
	size_t		len;
	char		buf[PAT_LINE_MAX + 2];
};

static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
send_line(int fd, const char *verb, const char *k1, const char *v1,
    const char *k2, const char *v2)
{
	struct pat_buf b;
	int r;

	pat_buf_init(&b, PAT_LINE_MAX);
	pat_line_begin(&b, verb);
	if (k1)
		pat_line_field(&b, k1, v1);
	if (k2)
		pat_line_field(&b, k2, v2);
	r = pat_line_end(&b) == 0 ? send_all(fd, b.data, b.len) : -1;
	pat_buf_free(&b);
	return r;
}

/* Read the next ANSWER line; its text is malloc'd into *out. */
static int
read_answer(struct relay *r, char **out)
{
	struct pat_msg *m;
	const char *text;
	char *nl;
	ssize_t k;
	int rc = -1;

	for (;;) {
		if ((nl = memchr(r->buf, '\n', r->len)) != NULL)
			break;
		if (r->len > PAT_LINE_MAX)
			return -1;
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		int64_t left = r->deadline - pat_monotonic_ms();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		k = recv(r->fd, r->buf + r->len, PAT_LINE_MAX + 1 - r->len, 0);
		if (k <= 0)
			return -1;
		r->len += (size_t)k;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	if (pat_msg_parse(m, r->buf, (size_t)(nl - r->buf)) == 0 &&
	    strcmp(m->verb, "ANSWER") == 0 &&
	    (text = pat_msg_get(m, "text")) != NULL &&
	    strlen(text) <= LOGIN_ANSWER_MAX && (*out = strdup(text)) != NULL)
		rc = 0;
	pat_msg_wipe(m);
	free(m);
	r->len -= (size_t)(nl - r->buf) + 1;
	memmove(r->buf, nl + 1, r->len);
	sodium_memzero(r->buf + r->len, sizeof(r->buf) - r->len);
	return rc;
}

static int
relay_conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *arg)
{
	struct relay *r = arg;
	struct pam_response *out;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG ||
	    (out = calloc((size_t)n, sizeof(*out))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++) {
		int style = msg[i]->msg_style;
		const char *text = msg[i]->msg ? msg[i]->msg : "";

		if (style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON) {
			if (++r->rounds > LOGIN_ROUNDS ||
			    send_line(r->fd, "PROMPT", "style",
			    style == PAM_PROMPT_ECHO_OFF ? "echo-off" : "echo-on",
			    "text", text) < 0 ||
			    read_answer(r, &out[i].resp) < 0)
				goto fail;
		} else if (style == PAM_TEXT_INFO || style == PAM_ERROR_MSG) {
			if (send_line(r->fd, style == PAM_TEXT_INFO ? "INFO" :
			    "ERROR", "text", text, NULL, NULL) < 0)
				goto fail;
		} else
			goto fail;
	}
	*resp = out;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++) {
		if (out[i].resp != NULL) {
			sodium_memzero(out[i].resp, strlen(out[i].resp));
			free(out[i].resp);
		}
	}
	free(out);
	return PAM_CONV_ERR;
}

/* Why a login failed, as one word for the structured log (pam_strerror's
 * sentences would be cut at the first space). */
static const char *
pam_reason(int rc)
{
	switch (rc) {
	case PAM_SUCCESS:		return "session-not-made";
	case PAM_AUTH_ERR:		return "auth-error";
	case PAM_MAXTRIES:		return "max-tries";
	case PAM_CONV_ERR:		return "conversation-failed";
	case PAM_USER_UNKNOWN:		return "user-unknown";
	case PAM_CRED_INSUFFICIENT:	return "credentials-insufficient";
	case PAM_AUTHINFO_UNAVAIL:	return "authinfo-unavailable";
	case PAM_ACCT_EXPIRED:		return "account-expired";
	case PAM_NEW_AUTHTOK_REQD:	return "password-expired";
	case PAM_PERM_DENIED:		return "permission-denied";
	default:			return "pam-error";
	}
}

/* The child: run PAM, answer, exit 0 on success and 1 on failure. */
static void __attribute__((noreturn))
login_child(struct patd *d, int fd, const char *user, uid_t uid,
    const char *pending, size_t npending)
{
	struct relay r = { .fd = fd };
	struct pam_conv conv = { relay_conv, &r };
	struct jwt_claims c;
	pam_handle_t *ph = NULL;
	char jwt[JWT_MAX + 1], exp[24];
	sigset_t all;
	int rc, fl;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);	/* PAM helpers need SIGCHLD */
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)d->login_timeout + 5);	/* a backstop to the deadline */
	if ((fl = fcntl(fd, F_GETFL)) >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	r.deadline = pat_monotonic_ms() + (int64_t)d->login_timeout * 1000;
	if (npending > PAT_LINE_MAX)
		npending = PAT_LINE_MAX;
	memcpy(r.buf, pending, npending);
	r.len = npending;

	rc = pam_start_confdir(d->login_service, user, &conv,
	    d->login_pam_dir[0] ? d->login_pam_dir : NULL, &ph);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS && jwt_mint(&d->jwt, user, uid, time(NULL),
	    d->session_lifetime, jwt, &c) == 0) {
		snprintf(exp, sizeof(exp), "%lld", (long long)c.exp);
		send_line(fd, "OK", "session", jwt, "expires", exp);
		log_event("login", "result=ok user=%s uid=%u service=%s jti=%s",
		    user, (unsigned)uid, d->login_service, c.jti);
		sodium_memzero(jwt, sizeof(jwt));
		rc = 0;
	} else {
		send_line(fd, "ERR", "code", "login-failed", "message",
		    "login failed (wrong answer, or the account is not allowed)");
		log_event("login", "result=refused user=%s uid=%u service=%s "
		    "reason=%s", user, (unsigned)uid, d->login_service,
		    ph ? pam_reason(rc) : "pam-start-failed");
		rc = 1;
	}
	if (ph != NULL)
		pam_end(ph, rc == 0 ? PAM_SUCCESS : PAM_AUTH_ERR);
	jwt_keys_wipe(&d->jwt);
	sodium_memzero(d->key, sizeof(d->key));
	_exit(rc);
}

static bool
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether /etc/pam.conf has a line for svc (its first field). */
static bool
pam_conf_has(const char *svc)
{
	char line[1024], *p;
	size_t n = strlen(svc);
	FILE *f;
	bool found = false;

	if ((f = fopen("/etc/pam.conf", "re")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		p = line + strspn(line, " \t");
		found = strncasecmp(p, svc, n) == 0 && (p[n] == ' ' ||
		    p[n] == '\t');
	}
	fclose(f);
	return found;
}

int
login_stack(const struct patd *d, char *where, size_t n)
{
	char svc[sizeof(d->login_service)];
	size_t i;

	/* pam_start lowercases the service name before looking it up */
	for (i = 0; d->login_service[i] != '\0'; i++)
		svc[i] = (char)tolower((unsigned char)d->login_service[i]);
	svc[i] = '\0';
	if (d->login_pam_dir[0] != '\0') {
		snprintf(where, n, "%s/%s", d->login_pam_dir, svc);
		return is_file(where);
	}
	if (is_dir("/etc/pam.d") || is_dir("/usr/lib/pam.d")) {
		/* the vendor directory (Debian's libpam reads it) second */
		snprintf(where, n, "/etc/pam.d/%s", svc);
		if (is_file(where))
			return 1;
		snprintf(where, n, "/usr/lib/pam.d/%s", svc);
		if (is_file(where))
			return 1;
		snprintf(where, n, "/etc/pam.d/%s", svc);
		return 0;
	}
	snprintf(where, n, "/etc/pam.conf");
	return pam_conf_has(svc);
}

static void
close_others(int keep)
{
	struct dirent *de;
	socklen_t len;
	DIR *dir;
	int fd, type, dfd;
	long max;

	/* the child must not hold other clients' connections (or the
	 * listening socket) open; it keeps libsystemd's journal socket, a
	 * datagram socket, so its login events still reach the journal.
	 * Every open fd, however high max_conns put them: /proc/self/fd,
	 * else every number up to the fd limit */
	if ((dir = opendir("/proc/self/fd")) != NULL) {
		dfd = dirfd(dir);
		while ((de = readdir(dir)) != NULL) {
			fd = atoi(de->d_name);
			len = sizeof(type);
			if (fd < 3 || fd == keep || fd == dfd ||
			    (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type,
			    &len) == 0 && type == SOCK_DGRAM))
				continue;
			close(fd);
		}
		closedir(dir);
		return;
	}
	max = sysconf(_SC_OPEN_MAX);
	for (fd = 3; fd < (max > 0 ? max : 65536 + 64); fd++) {
		len = sizeof(type);
		if (fd == keep || (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type,
		    &len) == 0 && type == SOCK_DGRAM))
			continue;
		close(fd);
	}
}

int
login_begin(struct patd *d, int fd, const struct peer *p, const char *pending,
    size_t npending, struct pat_buf *out)
{
	struct passwd *pw;
	char key[RL_KEY_MAX], user[STORE_USER_MAX + 1], stack[600], msg[900];
	int64_t now = (int64_t)time(NULL), wait;
	unsigned i, mine;
	pid_t pid;

	snprintf(key, sizeof(key), "login:%u", (unsigned)p->uid);
	if ((wait = rl_wait(&d->rl_login, key, now, NULL)) > 0) {
		if (refusal_log_ok(d, p->uid, now))
			log_event("login", "result=refused reason=rate-limited "
			    "uid=%u", (unsigned)p->uid);
		goto limited;
	}
	for (i = 0, mine = 0; i < d->nlogins; i++)
		mine += d->logins[i].uid == p->uid;
	if (d->nlogins >= LOGIN_MAX || mine >= LOGIN_MAX_PER_UID) {
		if (refusal_log_ok(d, p->uid, now))
			log_event("login", "result=refused reason=busy uid=%u",
			    (unsigned)p->uid);
		pat_buf_adds(out, "ERR code=busy message=too%20many%20logins"
		    "%20under%20way;%20try%20again%20shortly\n");
		return 0;
	}
	if (!d->login_fallback && login_stack(d, stack, sizeof(stack)) == 0) {
		/* PAM would run "other": a 2FA login silently becomes 1FA */
		if (refusal_log_ok(d, p->uid, now))
			log_event("login", "result=refused reason=no-pam-stack "
			    "uid=%u service=%s", (unsigned)p->uid,
			    d->login_service);
		pat_line_begin(out, "ERR");
		pat_line_field(out, "code", "login-unavailable");
		snprintf(msg, sizeof(msg), "logins are off: there is no PAM "
		    "stack %s for patd's login service, and PAM would fall "
		    "back to its \"other\" stack (often a password alone, not "
		    "2FA); an admin must create it (see docs/login.md) or set "
		    "login_allow_fallback = yes in patd.conf", stack);
		pat_line_field(out, "message", msg);
		pat_line_end(out);
		return 0;
	}
	if ((pw = getpwuid(p->uid)) == NULL ||
	    strlen(pw->pw_name) > STORE_USER_MAX) {
		pat_buf_adds(out, "ERR code=not-found message=your%20uid%20has"
		    "%20no%20user%20name\n");
		return 0;
	}
	snprintf(user, sizeof(user), "%s", pw->pw_name);
	if ((pid = fork()) < 0) {
		pat_buf_adds(out, "ERR code=internal message=cannot%20start%20"
		    "the%20login\n");
		return 0;
	}
	if (pid == 0) {
		/* the child never touches the store (not even a round's
		 * write transaction it may inherit) and leaves by _exit() */
		close_others(fd);
		login_child(d, fd, user, p->uid, pending, npending);
	}
	d->logins[d->nlogins].pid = pid;
	d->logins[d->nlogins].uid = p->uid;
	d->nlogins++;
	return 1;
limited:
	pat_line_begin(out, "ERR");
	pat_line_field(out, "code", "rate-limited");
	pat_line_fieldi(out, "retry_after", wait);
	pat_line_field(out, "message", "too many failed logins; try again "
	    "later");
	pat_line_end(out);
	return 0;
}

void
login_reap(struct patd *d)
{
	char key[RL_KEY_MAX];
	unsigned i;
	pid_t pid;
	int st;

	while (d->nlogins > 0 && (pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < d->nlogins; i++) {
			if (d->logins[i].pid != pid)
				continue;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				snprintf(key, sizeof(key), "login:%u",
				    (unsigned)d->logins[i].uid);
				rl_fail(&d->rl_login, key, (int64_t)time(NULL));
			}
			d->logins[i] = d->logins[--d->nlogins];
			break;
		}
	}
}
