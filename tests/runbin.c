/* runbin.c - the run's copy of every program other uids execute; see cleanup.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

/*
 * A checkout in a 0700 directory (/root/pat) is closed to alice, bob and
 * carol: run as them, $PAT_BUILD/patctl fails with exit 126 before patctl
 * even starts.  So the runner copies what they execute or load, once per
 * run, into a 0755 directory of its own, /tmp/pat-test.<run>.binXXXXXX
 * (mkdtemp: no one else can have made it first), with the layout of
 * build/.  The harness points PATCTL, PATD, PAM_PAT, … there.  The
 * runner removes it after the last test; should it crash, the name
 * carries the run's tag, so the leak check finds and removes it.
 */
static const char *const progs[] = {
	"patd", "patctl", "pam_pat.so", "asan/pam_pat.so", "tests/pamcall",
	"tests/sockact", "pat-gate", "libpat.so.1",
};

static char bindir[128];

static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t k;
	int in, out, rc = 0;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -errno;	/* not built: the
							 * tests that need it say so */
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	while ((k = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)k) != k) {
			rc = -EIO;
			break;
		}
	if (k < 0)
		rc = -errno;
	if (fchmod(out, 0755) < 0 || close(out) < 0)
		rc = rc ? rc : -errno;
	close(in);
	return rc;
}

int
t_runbin_make(const char *run, const char *build)
{
	char from[512], to[512];
	size_t i;
	int rc;

	snprintf(bindir, sizeof(bindir), "/tmp/pat-test.%s.binXXXXXX", run);
	if (mkdtemp(bindir) == NULL) {
		bindir[0] = '\0';
		return -errno;
	}
	snprintf(to, sizeof(to), "%s/asan", bindir);
	if (chmod(bindir, 0755) < 0 || mkdir(to, 0755) < 0)
		return -errno;
	snprintf(to, sizeof(to), "%s/tests", bindir);
	if (mkdir(to, 0755) < 0)
		return -errno;
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		snprintf(from, sizeof(from), "%s/%s", build, progs[i]);
		snprintf(to, sizeof(to), "%s/%s", bindir, progs[i]);
		if ((rc = copy_file(from, to)) < 0)
			return rc;
	}
	return setenv("PAT_TEST_BIN", bindir, 1) < 0 ? -errno : 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void
t_runbin_remove(void)
{
	if (bindir[0] != '\0')
		nftw(bindir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	bindir[0] = '\0';
}
