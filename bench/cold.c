/*
 * cold - time from the first connection to a socket-activated patd to its
 * answer: bind the socket (as systemd would), start patd on it as fd 3
 * (LISTEN_FDS=1), connect, send STATUS, wait for the answer.  Repeats and
 * prints the median in microseconds.
 *   cold PATD STATE_DIR SOCKET REPEATS
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tmo = { 10, 0 };
	double t[64];
	int rep, n, lfd, c;
	char buf[512];

	if (argc != 5 || (n = atoi(argv[4])) < 1 || n > 64)
		return 2;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[3]);
	for (rep = 0; rep < n; rep++) {
		pid_t pid;
		double t0;

		unlink(argv[3]);
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
		    listen(lfd, 16) < 0)
			return 1;
		t0 = now_us();
		if ((pid = fork()) == 0) {
			char p[32];

			dup2(lfd, 3);
			snprintf(p, sizeof(p), "%d", (int)getpid());
			setenv("LISTEN_FDS", "1", 1);
			setenv("LISTEN_PID", p, 1);
			execl(argv[1], argv[1], "--state", argv[2], (char *)NULL);
			_exit(127);
		}
		c = socket(AF_UNIX, SOCK_STREAM, 0);
		/* a patd that exits without answering (it refused the state
		 * directory) ends the run instead of hanging it */
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
		connect(c, (struct sockaddr *)&sun, sizeof(sun));
		send(c, "STATUS\n", 7, MSG_NOSIGNAL);
		if (recv(c, buf, sizeof(buf), 0) <= 0) {
			fprintf(stderr, "cold: no answer from %s\n", argv[1]);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 1;
		}
		t[rep] = now_us() - t0;
		close(c);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		close(lfd);
	}
	qsort(t, (size_t)n, sizeof(*t), cmpd);
	printf("cold_us=%.0f\n", t[n / 2]);
	return 0;
}
