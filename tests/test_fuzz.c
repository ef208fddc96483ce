/*
 * A short smoke pass of each libFuzzer target (fuzz/, ASan + UBSan) from
 * its seed corpus; make fuzz runs them for minutes.  New inputs go to a
 * temporary directory, never into the repository's seeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define SMOKE_SECONDS	8

static void
smoke(const char *target)
{
	struct tpatd t;
	char bin[512], *out = NULL, *p;
	const char *b = getenv("PAT_BUILD") ? getenv("PAT_BUILD") : "build";
	int rc;

	snprintf(bin, sizeof(bin), "%s/fuzz/fuzz_%s", b, target);
	if (access(bin, X_OK) != 0)
		cr_skip_test("SKIPPED: %s not built (clang with libFuzzer is "
		    "missing; scripts/deps.sh test installs it)", bin);
	t_start(&t, NULL);	/* for its temporary directory */
	rc = t_sh(&t, 0, NULL, NULL, &out, "mkdir -p %s/corpus && %s "
	    "-max_total_time=%d -print_final_stats=1 %s/corpus "
	    "\"$PAT_SRC\"/fuzz/corpus/%s", t.dir, bin, SMOKE_SECONDS, t.dir,
	    target);
	p = strstr(out, "stat::number_of_executed_units:");
	if (p != NULL)
		t_figure("fuzz_%s: %ld executions in %d s", target,
		    atol(p + strlen("stat::number_of_executed_units:")),
		    SMOKE_SECONDS);
	cr_assert_eq(rc, 0, "fuzz_%s found a problem:\n%s", target, out);
	cr_assert_not_null(p, "no statistics: %s", out);
	cr_assert_gt(atol(p + strlen("stat::number_of_executed_units:")), 1000);
	free(out);
	t_stop(&t);
}

Test(fuzz, protocol_decoder, .timeout = 60) { smoke("proto"); }
Test(fuzz, token_parser, .timeout = 60) { smoke("token"); }
Test(fuzz, permission_patterns, .timeout = 60) { smoke("perm"); }
Test(fuzz, session_jwt_verifier, .timeout = 60) { smoke("jwt"); }
Test(fuzz, gate_authorization_header, .timeout = 60) { smoke("authz"); }
