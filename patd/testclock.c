/* testclock.c - patd's wall clock; see testclock.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "log.h"
#include "proto.h"
#include "testclock.h"

/* The offset FILE holds, after the same checks as at start. */
static int
read_offset(const char *path, int64_t *off, struct statedir_problem *p)
{
	char buf[32];
	long long v;
	ssize_t n;
	size_t len;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		p->fix = "make it a file of patd's user holding a number of "
		    "seconds";
		snprintf(p->what, sizeof(p->what), "%s: %s", path,
		    strerror(-r));
		return r;
	}
	if ((r = statedir_check_fd(fd, path, p)) < 0) {
		close(fd);
		return r;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (pat_parse_i64(buf, &v) < 0 || v > PAT_DURATION_MAX ||
	    v < -PAT_DURATION_MAX) {
		p->fix = "write a whole number of seconds, such as 86400 or "
		    "-60";
		snprintf(p->what, sizeof(p->what), "%s holds no number of "
		    "seconds (at most 100 years either way)", path);
		return -EINVAL;
	}
	*off = (int64_t)v;
	return 0;
}

int
testclock_check(const char *path, struct statedir_problem *p)
{
	int64_t off;
	int r;

	if (path[0] != '/') {
		p->fix = "give an absolute path";
		snprintf(p->what, sizeof(p->what), "%s is not an absolute path",
		    path);
		return -EINVAL;
	}
	/* the directories above, as for a socket patd binds */
	if ((r = statedir_check_socket(path, p)) < 0)
		return r;
	return read_offset(path, &off, p);
}

int64_t
patd_now(struct patd *d)
{
	struct statedir_problem p;
	int64_t now = (int64_t)time(NULL), off;

	if (d->test_clock[0] == '\0')
		return now;
	if (read_offset(d->test_clock, &off, &p) < 0) {
		if (!d->test_clock_bad)
			log_warn("test clock: %s — %s; counting no offset",
			    p.what, p.fix);
		d->test_clock_bad = true;
		return now;
	}
	d->test_clock_bad = false;
	return now + off;
}
