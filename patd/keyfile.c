/* keyfile.c - load or create the installation key; see keyfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"

static int
create_key(int dfd, const char *name, uint8_t key[PAT_HASH_KEY_LEN],
    const char **why)
{
	char tmp[300];
	int fd, r = 0;

	/* write a temporary file, fsync, rename: never a half-written key */
	if (snprintf(tmp, sizeof(tmp), "%s.new", name) >= (int)sizeof(tmp)) {
		*why = "key file name too long";
		return -ENAMETOOLONG;
	}
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		*why = "cannot create the key file";
		return -errno;
	}
	randombytes_buf(key, PAT_HASH_KEY_LEN);
	if (write(fd, key, PAT_HASH_KEY_LEN) != PAT_HASH_KEY_LEN ||
	    fsync(fd) < 0) {
		r = errno ? -errno : -EIO;
		*why = "cannot write the key file";
	}
	close(fd);
	if (r == 0 && renameat(dfd, tmp, dfd, name) < 0) {
		r = -errno;
		*why = "cannot rename the key file into place";
	}
	/* the new name must survive a crash too */
	if (r == 0 && fsync(dfd) < 0) {
		r = -errno;
		*why = "cannot sync the state directory";
	}
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
		sodium_memzero(key, PAT_HASH_KEY_LEN);
	}
	return r;
}

int
keyfile_load(int dfd, const char *name, uint8_t key[PAT_HASH_KEY_LEN],
    const char **why)
{
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return create_key(dfd, name, key, why);
	if (fd < 0) {
		*why = "cannot open the key file";
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		*why = "cannot stat the key file";
	} else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		r = -EPERM;
		*why = "the key file is not a regular file owned by patd's user";
	} else if (st.st_mode & 077) {
		r = -EPERM;
		*why = "the key file is readable by others (want mode 0600)";
	} else if (st.st_nlink != 1) {
		r = -EMLINK;
		*why = "the key file has other hard links (want exactly one)";
	} else if (st.st_size != PAT_HASH_KEY_LEN) {
		r = -EINVAL;
		*why = "the key file has the wrong size (want 32 bytes)";
	} else if ((n = read(fd, key, PAT_HASH_KEY_LEN)) != PAT_HASH_KEY_LEN) {
		r = n < 0 ? -errno : -EIO;
		*why = "cannot read the key file";
	}
	close(fd);
	if (r < 0)
		sodium_memzero(key, PAT_HASH_KEY_LEN);
	return r;
}
