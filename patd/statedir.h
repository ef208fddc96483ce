/*
 * statedir.h - may patd trust the directories it keeps its state and
 * socket in?
 *
 * Whoever can write patd's store can grant himself anything and move a
 * token to root; whoever can replace its socket can answer for it.  So,
 * as OpenSSH's StrictModes:
 *   - every directory from / down to the state directory's parent, and to
 *     the directory that holds the socket, is owned by root or by patd's
 *     euid and is not writable by group or others — except a sticky
 *     directory owned by root (/tmp), where others may add entries but
 *     cannot rename or remove ours;
 *   - the state directory itself and every entry in it are owned by patd's
 *     euid and not writable by group or others (a socket of patd's euid
 *     is let be: patd's own, when --socket is inside the state directory);
 *   - no symbolic link anywhere on the way or in the directory, and no
 *     regular file with a second hard link.
 * patd's euid is geteuid() at the time of the call.
 *
 * Every function returns 0 or a negative errno (-EPERM: wrong owner or
 * mode, -ELOOP: a symbolic link, -EMLINK: hard links, -EINVAL: not a plain
 * absolute path, -ENOTDIR, -EBUSY: in use by another patd, or what the system said) and then fills *p with
 * the problem and what to do about it.  Nothing here logs.
 */
#ifndef PATD_STATEDIR_H
#define PATD_STATEDIR_H

struct statedir_problem {
	char		 what[768];	/* the path and what is wrong with it */
	const char	*fix;		/* what to do, in words (static) */
};

/*
 * Open the state directory dir (an absolute path), creating it with mode
 * 0700 when it is absent (its parent must exist), and check it, the
 * directories above it and every entry in it.  On success *dfd is an
 * O_RDONLY|O_DIRECTORY descriptor the caller closes; on failure *dfd is
 * left alone.
 */
int	statedir_open(const char *dir, int *dfd, struct statedir_problem *p);

/*
 * Take the exclusive lock (flock) on the state directory dfd, without
 * waiting: one patd per state directory.  It lasts while dfd (or a copy
 * of it) is open: patd keeps dfd for its lifetime; forked children must
 * close it.  -EBUSY when another process holds it.
 */
int	statedir_lock(int dfd, const char *dir, struct statedir_problem *p);

/* Check an open file of the state directory (the store's, once LMDB has
 * it): a regular file of patd's euid, one link, not group/other-writable.
 * name is only for the message. */
int	statedir_check_fd(int fd, const char *name, struct statedir_problem *p);

/* The same for entry name of the directory dfd, without following a
 * symbolic link; -ENOENT (p filled) when there is no such entry. */
int	statedir_check_at(int dfd, const char *name,
	    struct statedir_problem *p);

/*
 * A socket path patd is about to bind: the directory that holds it and
 * every one above it follow the rule for directories above, and an entry
 * already at path must belong to patd's euid (patd never removes or
 * replaces another user's file).  0 whether or not something is there.
 */
int	statedir_check_socket(const char *path, struct statedir_problem *p);

#endif
