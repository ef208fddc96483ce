/*
 * Issue 12, item 1: make test passes wherever the checkout is.  A checkout
 * in a 0700 directory (root's home) is closed to alice: the runner copies
 * what other uids execute into a 0755 directory of the run (runbin.c), and
 * without that copy a test acting as alice fails saying the environment is
 * at fault — it never passes, and never reads as a verdict on pat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "harness.h"

static struct tpatd t;

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(environment, .fini = teardown, .timeout = 120);

/* Alice is refused admin work: every assertion wants exit 1 exactly. */
#define INNER	"patd/a_plain_user_cannot_act_as_admin_or_for_others"

Test(environment, a_checkout_closed_to_other_uids_runs_and_never_fakes_a_verdict)
{
	const char *b = getenv("PAT_BUILD");
	char closed[200], *log;
	int rc;

	t_need_root();
	t_start(&t, NULL);
	/* the build as it would be in /root/pat/build: reachable by root only.
	 * The runners below are nested in this test's worker: BXFI_MAP would
	 * make them take themselves for Criterion workers. */
	snprintf(closed, sizeof(closed), "%s/closed", t.dir);
	cr_assert_eq(mkdir(closed, 0700), 0);
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "mkdir %s/build && cp -a "
	    "%s/patd %s/patctl %s/pam_pat.so %s/asan %s/tests %s/build/",
	    closed, b ? b : "build", b ? b : "build", b ? b : "build",
	    b ? b : "build", b ? b : "build", closed), 0);
	cr_assert_eq(t_sh(&t, ALICE, NULL, NULL, NULL, "test -x %s/build/patctl",
	    closed), 1, "alice can reach the closed build: the test proves nothing");

	/* without the run's copy (the old harness): an environment failure */
	rc = t_sh(&t, 0, NULL, NULL, NULL, "env -u BXFI_MAP PAT_TEST_NO_BINCOPY=1 "
	    "PAT_BUILD=%s/build "
	    "%s/build/tests/run --filter '" INNER "' >%s/without.log 2>&1",
	    closed, closed, t.dir);
	snprintf(closed + strlen(closed), sizeof(closed) - strlen(closed),
	    "/../without.log");
	log = t_slurp(closed);
	cr_assert_neq(rc, 0, "passed although alice could run nothing:\n%s", log);
	cr_assert(strstr(log, "environment: uid 1001 cannot execute") &&
	    strstr(log, "not a verdict on pat") &&
	    strstr(log, "Tested: 1 | Passing: 0 | Failing: 1"),
	    "not failed as an environment problem:\n%s", log);
	cr_assert_null(strstr(log, "revoked bob's token"), "%s", log);
	free(log);

	/* with it, as make test runs: the same test passes */
	closed[strlen(closed) - strlen("/../without.log")] = '\0';
	rc = t_sh(&t, 0, NULL, NULL, NULL, "env -u BXFI_MAP PAT_BUILD=%s/build "
	    "%s/build/tests/run "
	    "--filter '" INNER "' >%s/with.log 2>&1", closed, closed, t.dir);
	snprintf(closed, sizeof(closed), "%s/with.log", t.dir);
	log = t_slurp(closed);
	cr_assert_eq(rc, 0, "from a closed checkout:\n%s", log);
	cr_assert(strstr(log, "Tested: 1 | Passing: 1 | Failing: 0"), "%s", log);
	free(log);
}
