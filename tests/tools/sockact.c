/*
 * sockact - what systemd does for a socket unit with Accept=no, for tests
 * on machines without systemd as PID 1: bind PATH once and keep it; when a
 * connection waits and the service is not running, start it with the
 * listening socket as fd 3 (LISTEN_FDS=1, LISTEN_PID); when it exits, keep
 * listening.  systemd-socket-activate starts a service only once, so it
 * cannot show patd leaving when idle and coming back.
 *
 *   sockact PATH STARTS-FILE -- COMMAND [ARG...]
 *
 * Each start appends a line to STARTS-FILE.  SIGTERM stops the service and
 * sockact.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sigaction sa = { .sa_handler = on_term };
	pid_t child = 0;
	int lfd, st;
	FILE *log;

	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: sockact PATH STARTS-FILE -- CMD...\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(lfd, 128) < 0) {
		perror("sockact");
		return 1;
	}
	chmod(argv[1], 0666);
	while (!stop) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };

		if (child > 0) {
			if (waitpid(child, &st, WNOHANG) == child)
				child = 0;
			else {
				usleep(20000);
				continue;
			}
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((log = fopen(argv[2], "a")) != NULL) {
			fputs("start\n", log);
			fclose(log);
		}
		if ((child = fork()) == 0) {
			char pid[32];

			dup2(lfd, 3);
			if (lfd != 3)
				close(lfd);
			snprintf(pid, sizeof(pid), "%d", (int)getpid());
			setenv("LISTEN_FDS", "1", 1);
			setenv("LISTEN_PID", pid, 1);
			execv(argv[4], argv + 4);
			_exit(127);
		}
	}
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, &st, 0);
	}
	unlink(argv[1]);
	return 0;
}
