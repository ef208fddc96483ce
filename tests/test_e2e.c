/*
 * End to end, as root, in private mount and network namespaces: a real
 * sshd on loopback and a real sudo accept tokens through pam_pat.so, with
 * the documented per-service stack and with the pam-auth-update profile
 * (tests/e2e/sshd_sudo.sh does the work and prints one line per check).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

Test(e2e, real_sshd_and_sudo_accept_and_refuse_tokens, .timeout = 180)
{
	struct tpatd t;
	char *out = NULL, *err = NULL;
	int rc;

	t_need_root();
	t_start(&t, NULL);
	if (t_sh(&t, 0, NULL, NULL, NULL, "unshare --net --mount true") != 0) {
		t_stop(&t);
		cr_skip_test("SKIPPED: no network/mount namespaces here");
	}
	if (t_sh(&t, 0, NULL, NULL, NULL, "test -x /usr/sbin/sshd && command "
	    "-v sudo && command -v sshpass && command -v openssl") != 0) {
		t_stop(&t);
		cr_skip_test("SKIPPED: sshd, sudo, sshpass or openssl missing "
		    "(scripts/deps.sh test installs them)");
	}
	rc = t_sh(&t, 0, NULL, &out, &err, "unshare --net --mount --propagation "
	    "private %s/tests/e2e/sshd_sudo.sh \"$(dirname \"$PATCTL\")\" %s",
	    getenv("PAT_SRC") ? getenv("PAT_SRC") : ".", t.dir);
	{
		const char *p = strstr(out, " passed, "), *ls = p;

		while (ls != NULL && ls > out && ls[-1] != '\n')
			ls--;
		if (ls != NULL)
			t_figure("sshd/sudo end to end: %.*s",
			    (int)strcspn(ls, "\n"), ls);
	}
	cr_assert_eq(rc, 0, "end-to-end checks failed:\n%s\n%s", out, err);
	cr_assert_null(strstr(out, "not ok"), "%s", out);
	cr_assert(strstr(out, "17 passed, 0 failed"), "%s", out);
	free(out);
	free(err);
	t_stop(&t);
}
