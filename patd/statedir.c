/* statedir.c - trust only directories patd's user controls; see statedir.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statedir.h"

#define FIX_PLAIN	"give it as a plain absolute path (no . or .. parts)"
#define FIX_REACH	"check the path: it must exist up to its last part, " \
			"and patd's user must be able to reach it"
#define FIX_LINK	"give the real path instead (readlink -f): patd " \
			"follows no symbolic link to or in its directories"
#define FIX_ABOVE	"choose a place where every directory on the way is " \
			"owned by root or patd's user and writable only by its " \
			"owner (root's sticky /tmp is fine): mktemp -d makes one"
#define FIX_OWNER	"another user may have written it: remove it and let " \
			"patd make the state afresh (a new directory from " \
			"mktemp -d, or the default /var/lib/patd); chown it to " \
			"patd's user only after checking every file"
#define FIX_MODE	"chmod go-w it (patd makes its directory 0700 and its " \
			"files 0600)"
#define FIX_TYPE	"move it out: patd keeps only regular files in its " \
			"state directory"
#define FIX_NLINK	"remove the other hard links to it (or replace it " \
			"with a copy)"
#define FIX_BUSY	"stop that patd first (systemctl stop patd.socket " \
			"patd.service), or give this one a --state of its own"
#define FIX_SOCKET	"that is another user's file: choose a socket path in " \
			"a directory patd's user owns (mktemp -d), or remove it " \
			"once you know whose it is"

static int problem(struct statedir_problem *, int, const char *,
	    const char *, ...) __attribute__((format(printf, 4, 5)));

/* Fill *p; returns err for the caller to return. */
static int
problem(struct statedir_problem *p, int err, const char *fix,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->what, sizeof(p->what), fmt, ap);
	va_end(ap);
	p->fix = fix;
	return err;
}

static const char *
writers(mode_t mode)
{
	if ((mode & 022) == 022)
		return "group and others";
	return mode & 002 ? "others" : "its group";
}

/* A directory on the way: root's or ours, and writable by nobody else
 * unless root made it sticky (then nobody else can move our entry). */
static int
check_above(const struct stat *st, const char *shown,
    struct statedir_problem *p)
{
	uid_t me = geteuid();

	if (!S_ISDIR(st->st_mode))
		return problem(p, -ENOTDIR, FIX_REACH, "%s is not a directory",
		    shown);
	if (st->st_uid != 0 && st->st_uid != me)
		return problem(p, -EPERM, FIX_ABOVE, "directory %s belongs to "
		    "uid %u, neither root nor patd's uid %u", shown,
		    (unsigned)st->st_uid, (unsigned)me);
	if ((st->st_mode & 022) != 0 &&
	    !(st->st_uid == 0 && (st->st_mode & S_ISVTX)))
		return problem(p, -EPERM, FIX_ABOVE, "directory %s is writable "
		    "by %s (mode %04o)", shown, writers(st->st_mode),
		    (unsigned)(st->st_mode & 07777));
	return 0;
}

/* An entry of the state directory (or a file patd opened from it). */
static int
check_entry(const struct stat *st, const char *name,
    struct statedir_problem *p)
{
	uid_t me = geteuid();

	if (S_ISLNK(st->st_mode))
		return problem(p, -ELOOP, FIX_TYPE, "%s is a symbolic link",
		    name);
	/* patd's own socket (--socket DIR/patd.sock): 0666 by design, and
	 * nothing is ever read from a socket inode */
	if (S_ISSOCK(st->st_mode) && st->st_uid == me)
		return 0;
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return problem(p, -EPERM, FIX_TYPE, "%s is not a regular file",
		    name);
	if (st->st_uid != me)
		return problem(p, -EPERM, FIX_OWNER, "%s belongs to uid %u, "
		    "not to patd's uid %u", name, (unsigned)st->st_uid,
		    (unsigned)me);
	if (st->st_mode & 022)
		return problem(p, -EPERM, FIX_MODE, "%s is writable by %s "
		    "(mode %04o)", name, writers(st->st_mode),
		    (unsigned)(st->st_mode & 07777));
	if (S_ISREG(st->st_mode) && st->st_nlink > 1)
		return problem(p, -EMLINK, FIX_NLINK, "%s has %lu hard links "
		    "(want 1)", name, (unsigned long)st->st_nlink);
	return 0;
}

/* openat a directory, never through a symbolic link; shown names it. */
static int
open_dir(int at, const char *name, int flags, const char *shown, int *fd,
    struct statedir_problem *p)
{
	struct stat st;
	int f, e;

	f = openat(at, name, flags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (f >= 0) {
		*fd = f;
		return 0;
	}
	e = errno;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return problem(p, -ELOOP, FIX_LINK, "%s is a symbolic link",
		    shown);
	if (e == ENOTDIR)
		return problem(p, -e, FIX_REACH, "%s is not a directory",
		    shown);
	return problem(p, -e, FIX_REACH, "cannot open %s: %s", shown,
	    strerror(e));
}

/* Open the directory holding path's last part, checking it and every
 * directory above it, one openat at a time (nothing can be swapped in
 * behind a check).  The last part's name goes to leaf. */
static int
open_parent(const char *path, int *pfd, char leaf[NAME_MAX + 1],
    struct statedir_problem *p)
{
	char shown[PATH_MAX], comp[NAME_MAX + 1];
	const char *s = path, *e, *next;
	struct stat st;
	int fd = -1, nfd, r;
	size_t len;

	if (path[0] != '/')
		return problem(p, -EINVAL, FIX_PLAIN, "%s is not an absolute "
		    "path", path);
	if (strlen(path) >= sizeof(shown))
		return problem(p, -ENAMETOOLONG, FIX_PLAIN, "the path is too "
		    "long");
	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		r = problem(p, -errno, FIX_REACH, "cannot open /: %s",
		    strerror(errno));
		goto out;
	}
	if ((r = check_above(&st, "/", p)) < 0)
		goto out;
	for (;;) {
		while (*s == '/')
			s++;
		e = s + strcspn(s, "/");
		for (next = e; *next == '/'; next++)
			;
		len = (size_t)(e - s);
		if (len == 0 || len > NAME_MAX) {
			r = problem(p, -EINVAL, FIX_PLAIN, "%s names no "
			    "directory patd can use", path);
			goto out;
		}
		memcpy(comp, s, len);
		comp[len] = '\0';
		if (strcmp(comp, "..") == 0 ||
		    (strcmp(comp, ".") == 0 && *next == '\0')) {
			r = problem(p, -EINVAL, FIX_PLAIN, "%s has a . or .. "
			    "part", path);
			goto out;
		}
		if (*next == '\0')
			break;
		s = next;
		if (strcmp(comp, ".") == 0)
			continue;
		snprintf(shown, sizeof(shown), "%.*s", (int)(e - path), path);
		if ((r = open_dir(fd, comp, O_PATH, shown, &nfd, p)) < 0)
			goto out;
		close(fd);
		fd = nfd;
		if (fstat(fd, &st) < 0) {
			r = problem(p, -errno, FIX_REACH, "cannot stat %s: %s",
			    shown, strerror(errno));
			goto out;
		}
		if ((r = check_above(&st, shown, p)) < 0)
			goto out;
	}
	memcpy(leaf, comp, len + 1);
	*pfd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int
statedir_check_at(int dfd, const char *name, struct statedir_problem *p)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return problem(p, -errno, FIX_REACH, "cannot stat %s: %s",
		    name, strerror(errno));
	return check_entry(&st, name, p);
}

int
statedir_check_fd(int fd, const char *name, struct statedir_problem *p)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return problem(p, -errno, FIX_REACH, "cannot stat %s: %s",
		    name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return problem(p, -EPERM, FIX_TYPE, "%s is not a regular file",
		    name);
	return check_entry(&st, name, p);
}

/* Every entry of the open state directory. */
static int
check_entries(int dfd, const char *dir, struct statedir_problem *p)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if ((fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) < 0)
		return problem(p, -errno, FIX_REACH, "cannot read %s: %s", dir,
		    strerror(errno));
	if ((d = fdopendir(fd)) == NULL) {
		r = problem(p, -errno, FIX_REACH, "cannot read %s: %s", dir,
		    strerror(errno));
		close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				r = problem(p, -errno, FIX_REACH, "cannot read "
				    "%s: %s", dir, strerror(errno));
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((r = statedir_check_at(dfd, de->d_name, p)) < 0)
			break;
	}
	closedir(d);
	return r;
}

int
statedir_open(const char *dir, int *dfd, struct statedir_problem *p)
{
	char leaf[NAME_MAX + 1];
	struct stat st;
	uid_t me = geteuid();
	int pfd = -1, fd = -1, r;

	if ((r = open_parent(dir, &pfd, leaf, p)) < 0)
		return r;
	/* made here it is ours and private from birth; if it was there
	 * already, whoever made it is checked below */
	if (mkdirat(pfd, leaf, 0700) < 0 && errno != EEXIST) {
		r = problem(p, -errno, FIX_REACH, "cannot create %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	if ((r = open_dir(pfd, leaf, O_RDONLY, dir, &fd, p)) < 0)
		goto out;
	if (fstat(fd, &st) < 0) {
		r = problem(p, -errno, FIX_REACH, "cannot stat %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	if (st.st_uid != me) {
		r = problem(p, -EPERM, FIX_OWNER, "it belongs to uid %u, not "
		    "to patd's uid %u", (unsigned)st.st_uid, (unsigned)me);
		goto out;
	}
	if (st.st_mode & 022) {
		r = problem(p, -EPERM, FIX_MODE, "it is writable by %s (mode "
		    "%04o)", writers(st.st_mode),
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((r = check_entries(fd, dir, p)) < 0)
		goto out;
	*dfd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return r;
}

int
statedir_check_socket(const char *path, struct statedir_problem *p)
{
	char leaf[NAME_MAX + 1];
	struct stat st;
	uid_t me = geteuid();
	int pfd = -1, r;

	if ((r = open_parent(path, &pfd, leaf, p)) < 0)
		return r;
	if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = errno == ENOENT ? 0 : problem(p, -errno, FIX_REACH,
		    "cannot stat it: %s", strerror(errno));
	else if (S_ISLNK(st.st_mode))
		r = problem(p, -ELOOP, FIX_LINK, "it is a symbolic link");
	else if (st.st_uid != me)
		r = problem(p, -EPERM, FIX_SOCKET, "a file that belongs to "
		    "uid %u, not to patd's uid %u, is already there",
		    (unsigned)st.st_uid, (unsigned)me);
	close(pfd);
	return r;
}

int
statedir_lock(int dfd, const char *dir, struct statedir_problem *p)
{
	if (flock(dfd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return problem(p, -EBUSY, FIX_BUSY, "another patd is using %s "
		    "(it holds the directory's lock)", dir);
	return problem(p, -errno, FIX_REACH, "cannot lock %s: %s", dir,
	    strerror(errno));
}
