/*
 * floor - the fastest thing that could answer patd's clients: a poll()
 * server on the same kind of Unix socket that answers every line with
 * "OK\n" and does nothing else.  make bench compares patd to it.
 *   floor SOCKET [USER LOGFILE]
 * With USER and LOGFILE it also does, per line, the two things the spec
 * asks of every verification besides the token check itself: resolve the
 * owner through NSS (getpwnam_r) and write one log line.  That shows how
 * much of patd's distance to the bare floor the spec alone imposes.
 */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAXC 1024

static void
spec_work(const char *user, int logfd)
{
	static const char line[] = "patd: event=verify result=ok id=12 "
	    "user=root perm=svc.bench:read service=-\n";
	struct passwd pw, *res;
	char buf[4096];

	(void)getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (write(logfd, line, sizeof(line) - 1) < 0)
		abort();
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static struct pollfd p[MAXC + 1];
	static char buf[MAXC + 1][4096];
	static size_t len[MAXC + 1];
	const char *user = argc == 4 ? argv[2] : NULL;
	int lfd, n = 1, i, logfd = -1;

	if (argc != 2 && argc != 4)
		return 2;
	if (user != NULL &&
	    (logfd = open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(lfd, 128) < 0)
		return 1;
	p[0].fd = lfd;
	p[0].events = POLLIN;
	for (;;) {
		if (poll(p, (nfds_t)n, -1) <= 0)
			continue;
		if ((p[0].revents & POLLIN) && n <= MAXC) {
			int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

			if (c >= 0) {
				p[n].fd = c;
				p[n].events = POLLIN;
				p[n].revents = 0;	/* not this round's */
				len[n++] = 0;
			}
		}
		for (i = n - 1; i >= 1; i--) {
			ssize_t k;
			char *nl;

			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			k = recv(p[i].fd, buf[i] + len[i], sizeof(buf[i]) - len[i], 0);
			if (k < 0 && errno == EAGAIN)
				continue;
			if (k <= 0) {
				close(p[i].fd);
				p[i] = p[--n];
				memcpy(buf[i], buf[n], len[n]);
				len[i] = len[n];
				continue;
			}
			len[i] += (size_t)k;
			while ((nl = memchr(buf[i], '\n', len[i])) != NULL) {
				size_t used = (size_t)(nl - buf[i]) + 1;

				if (user != NULL)
					spec_work(user, logfd);
				(void)send(p[i].fd, "OK\n", 3, MSG_NOSIGNAL);
				memmove(buf[i], buf[i] + used, len[i] - used);
				len[i] -= used;
			}
		}
	}
}
