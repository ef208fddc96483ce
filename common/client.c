/* client.c - blocking-with-deadline protocol client; see client.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "client.h"

static int
remaining(const struct pat_client *c)
{
	int64_t left = c->deadline_ms - pat_monotonic_ms();

	return left > 0 ? (int)(left > 60000 ? 60000 : left) : 0;
}

/* Wait for `events` on the socket until the deadline. */
static int
wait_for(struct pat_client *c, short events)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	int r, left;

	for (;;) {
		if ((left = remaining(c)) == 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

const char *
pat_client_socket_path(const char *explicit_path)
{
	const char *env;

	if (explicit_path != NULL && *explicit_path != '\0')
		return explicit_path;
	if ((env = secure_getenv("PATD_SOCKET")) != NULL && *env != '\0')
		return env;
	return PAT_DEFAULT_SOCKET;
}

/* Check 1: the socket file.  lstat: a symlink is not a socket. */
static int
check_file(const char *path, uid_t trusted, uid_t *owner)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	*owner = st.st_uid;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	if (st.st_uid != 0 && st.st_uid != trusted)
		return -EPERM;
	return 0;
}

/* Check 2: the process that accepted the connection. */
static int
check_peer(int fd, uid_t trusted, uid_t *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*peer = cred.uid;
	if (cred.uid != 0 && cred.uid != trusted)
		return -EPERM;
	return 0;
}

int
pat_client_connect(struct pat_client *c, const char *path, int timeout_ms,
    uid_t trusted)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, nfd, r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->deadline_ms = pat_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	c->failed_at = PAT_STEP_FILE;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	if ((r = check_file(path, trusted, &c->other_uid)) < 0)
		return r;

	c->failed_at = PAT_STEP_CONNECT;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (fd <= 2) {
		/* a host that closed stdio must not see our replies there */
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		r = -errno;
		close(fd);
		if (nfd < 0)
			return r;
		fd = nfd;
	}
	c->fd = fd;
	/* A full backlog answers EAGAIN on a Unix socket: retry until late. */
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			r = -errno;
			goto fail;
		}
		if (remaining(c) == 0) {
			r = -ETIMEDOUT;
			goto fail;
		}
		usleep(1000);
	}

	c->failed_at = PAT_STEP_PEER;
	if ((r = check_peer(fd, trusted, &c->other_uid)) < 0)
		goto fail;
	c->failed_at = PAT_STEP_DONE;
	return 0;
fail:
	pat_client_close(c);
	return r;
}

int
pat_client_send(struct pat_client *c, const struct pat_buf *req)
{
	size_t off = 0;
	ssize_t n;
	int r;

	while (off < req->len) {
		n = send(c->fd, req->data + off, req->len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if ((r = wait_for(c, POLLOUT)) < 0)
			return r;
	}
	return 0;
}

int
pat_client_read(struct pat_client *c, struct pat_msg *m)
{
	char *nl;
	size_t linelen;
	ssize_t n;
	int r;

	for (;;) {
		if ((nl = memchr(c->rbuf, '\n', c->rlen)) != NULL) {
			linelen = (size_t)(nl - c->rbuf);
			r = pat_msg_parse(m, c->rbuf, linelen);
			memmove(c->rbuf, nl + 1, c->rlen - linelen - 1);
			c->rlen -= linelen + 1;
			explicit_bzero(c->rbuf + c->rlen, linelen + 1);
			return r < 0 ? -EPROTO : 0;
		}
		if (c->rlen >= PAT_LINE_MAX + 1)
			return -EPROTO;	/* a line longer than any patd sends */
		n = recv(c->fd, c->rbuf + c->rlen, PAT_LINE_MAX + 1 - c->rlen, 0);
		if (n > 0) {
			c->rlen += (size_t)n;
			continue;
		}
		if (n == 0) {
			c->eof = 1;
			return -EPROTO;	/* closed before a whole answer */
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if ((r = wait_for(c, POLLIN)) < 0)
			return r;
	}
}

void
pat_client_set_timeout(struct pat_client *c, int timeout_ms)
{
	c->deadline_ms = pat_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
}

void
pat_client_close(struct pat_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	explicit_bzero(c->rbuf, sizeof(c->rbuf));
	c->rlen = 0;
}
