/*
 * drive - load generator: CLIENTS threads send request lines to SOCKET for
 * SECONDS and wait for each answer line.  "reuse" keeps one connection per
 * thread; "new" opens one per request (what pam_pat.so does).  Requests
 * come round-robin from REQFILE (one line each).  Prints
 *   rps=<requests per second> p50_us=<median latency> p99_us=<…>
 *   drive SOCKET reuse|new CLIENTS SECONDS REQFILE
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SAMPLES	200000

static const char *sock_path;
static int reuse;
static double seconds;
static char **reqs;
static size_t nreqs;

struct worker {
	pthread_t	th;
	unsigned	seed;
	long		done;
	size_t		nlat;
	uint32_t	*lat;	/* microseconds */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
dial(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		usleep(100);
	return fd;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	double end = now_s() + seconds, t0;
	char buf[8192];
	int fd = reuse ? dial() : -1;
	size_t i = w->seed % nreqs;

	while ((t0 = now_s()) < end) {
		const char *r = reqs[i++ % nreqs];
		ssize_t k;
		size_t got = 0;

		if (!reuse)
			fd = dial();
		if (send(fd, r, strlen(r), MSG_NOSIGNAL) < 0)
			break;
		while ((k = recv(fd, buf + got, sizeof(buf) - got, 0)) > 0) {
			got += (size_t)k;
			if (memchr(buf, '\n', got))
				break;
		}
		if (k <= 0)
			break;
		if (!reuse)
			close(fd);
		if (w->nlat < SAMPLES)
			w->lat[w->nlat++] = (uint32_t)((now_s() - t0) * 1e6);
		w->done++;
	}
	if (reuse)
		close(fd);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static struct worker w[256];
	uint32_t *all;
	size_t n = 0, cap = 16;
	char line[8192];
	long total = 0;
	int clients, i;
	FILE *f;
	double t0;

	if (argc != 6)
		return 2;
	sock_path = argv[1];
	reuse = strcmp(argv[2], "reuse") == 0;
	clients = atoi(argv[3]);
	seconds = atof(argv[4]);
	if (clients < 1 || clients > 256 || (f = fopen(argv[5], "r")) == NULL)
		return 2;
	reqs = malloc(cap * sizeof(*reqs));
	while (fgets(line, sizeof(line), f)) {
		if (nreqs == cap)
			reqs = realloc(reqs, (cap *= 2) * sizeof(*reqs));
		reqs[nreqs++] = strdup(line);
	}
	fclose(f);
	if (nreqs == 0)
		return 2;
	t0 = now_s();
	for (i = 0; i < clients; i++) {
		w[i].seed = (unsigned)i * 7919u;
		w[i].lat = malloc(SAMPLES * sizeof(uint32_t));
		pthread_create(&w[i].th, NULL, run, &w[i]);
	}
	for (i = 0; i < clients; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].done;
		n += w[i].nlat;
	}
	t0 = now_s() - t0;
	all = malloc((n + 1) * sizeof(*all));
	for (n = 0, i = 0; i < clients; i++) {
		memcpy(all + n, w[i].lat, w[i].nlat * sizeof(*all));
		n += w[i].nlat;
	}
	qsort(all, n, sizeof(*all), cmp);
	printf("rps=%.0f p50_us=%u p99_us=%u\n", (double)total / t0,
	    n ? all[n / 2] : 0, n ? all[n * 99 / 100] : 0);
	return 0;
}
