/*
 * fleetwait - the time until a line with PATTERN appears in LOG, counted
 * from T0 (CLOCK_REALTIME in ns, `date +%s%N` taken just before the
 * process that writes LOG was started).  Reads what LOG gains every
 * millisecond.  Prints "ms=<elapsed> line=<the line>" and exits 0; exits
 * 1 after TIMEOUT seconds without it.  For the fleet rows of make bench:
 * patd logs "event=fleet result=refresh-done entries=N ..." at the end of
 * each refresh.
 *   fleetwait LOG PATTERN T0_NS TIMEOUT_S
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
since_ms(long long t0_ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec - t0_ns) /
	    1e6;
}

int
main(int argc, char **argv)
{
	static char buf[1 << 16];
	long long t0;
	size_t have = 0;
	double limit;
	FILE *f = NULL;
	char *nl, *p;

	if (argc != 5)
		return 2;
	t0 = atoll(argv[3]);
	limit = atof(argv[4]) * 1000;
	while (since_ms(t0) < limit) {
		size_t k;

		if (f == NULL && (f = fopen(argv[1], "r")) == NULL) {
			usleep(1000);
			continue;
		}
		k = fread(buf + have, 1, sizeof(buf) - 1 - have, f);
		if (k == 0) {
			clearerr(f);
			usleep(1000);
			continue;
		}
		have += k;
		buf[have] = '\0';
		/* complete lines only; a long line without a match is dropped */
		for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			*nl = '\0';
			if (strstr(p, argv[2]) != NULL) {
				printf("ms=%.1f line=%s\n", since_ms(t0), p);
				return 0;
			}
		}
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		if (have == sizeof(buf) - 1)
			have = 0;
	}
	fprintf(stderr, "fleetwait: no \"%s\" in %s after %s s\n", argv[2],
	    argv[1], argv[4]);
	return 1;
}
