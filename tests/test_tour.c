/*
 * Issue 12, item 10: README's five-minute tour runs as printed.  Every
 * ```sh block between "## A five-minute tour" and the next "## " heading is
 * run, line by line in one shell (variables carry over), as root on what
 * looks like a fresh machine: private mount namespace, a copy of /etc
 * (useradd, systemd-sysusers and make install's pam-configs write only
 * copies), empty /home, /var/log, /usr/local, a copy of PAM's module
 * directory, Debian's root PATH, TMPDIR inside the test.  Each step must
 * exit 0.
 *
 * The one convention the extractor knows: a line
 *   <!-- tour-test: skip: WHY -->
 * right before a block leaves that block out (it needs a person at a
 * terminal, say).  At most one block may be skipped, and it must say why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

#define TOUR_HEADING	"\n## A five-minute tour\n"
#define SKIP_MARK	"<!-- tour-test: skip: "
#define MAX_STEPS	64

static struct tpatd t;

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(tour, .fini = teardown, .timeout = 180);

struct tour {
	char	*step[MAX_STEPS];	/* one command each (continuations
					 * joined), as printed */
	int	 nsteps;
	int	 nblocks;
	int	 skipped;
};

/* The tour's section of README: its sh blocks, cut into steps. */
static void
extract(const char *readme, struct tour *tr)
{
	const char *sec = strstr(readme, TOUR_HEADING), *end, *line, *eol;
	bool in_block = false, skip = false, skip_next = false;
	char cmd[2048] = "";

	memset(tr, 0, sizeof(*tr));
	cr_assert_not_null(sec, "README.md has no \"## A five-minute tour\"");
	sec += strlen(TOUR_HEADING);
	end = strstr(sec, "\n## ");
	if (end == NULL)
		end = sec + strlen(sec);
	for (line = sec; line < end; line = eol + 1) {
		size_t len;

		eol = strchr(line, '\n');
		if (eol == NULL || eol > end)
			eol = end;
		len = (size_t)(eol - line);
		if (!in_block) {
			if (strncmp(line, SKIP_MARK, strlen(SKIP_MARK)) == 0) {
				cr_assert(len > strlen(SKIP_MARK) + 8,
				    "a skip mark must say why: %.*s", (int)len,
				    line);
				skip_next = true;
			} else if (len == 5 && strncmp(line, "```sh", 5) == 0) {
				in_block = true;
				skip = skip_next;
				skip_next = false;
				tr->nblocks++;
				tr->skipped += skip;
			} else if (len > 0 && skip_next)
				cr_assert_fail("a skip mark must come right "
				    "before its ```sh block");
			continue;
		}
		if (len == 3 && strncmp(line, "```", 3) == 0) {
			cr_assert_str_eq(cmd, "", "a block ends in a \\");
			in_block = false;
			continue;
		}
		if (skip)
			continue;
		/* a line of only a comment is prose; a line ending in \
		 * goes on */
		if (cmd[0] == '\0' && line[strspn(line, " \t")] == '#')
			continue;
		if (cmd[0] == '\0' && len == strspn(line, " \t"))
			continue;
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%.*s",
		    (int)len, line);
		if (len > 0 && line[len - 1] == '\\') {
			strcat(cmd, "\n");
			continue;
		}
		cr_assert_lt(tr->nsteps, MAX_STEPS);
		tr->step[tr->nsteps++] = strdup(cmd);
		cmd[0] = '\0';
	}
	cr_assert(!in_block, "the tour's last block is not closed");
}

Test(tour, readme_tour_runs_as_printed)
{
	char path[256], *readme, *status, *err, *p;
	struct tour tr;
	FILE *f;
	int i, rc;

	t_need_root();
	t_start(&t, NULL);
	if (t_sh(&t, 0, NULL, NULL, NULL, "unshare --mount true") != 0)
		cr_skip_test("SKIPPED: no mount namespaces here");
	snprintf(path, sizeof(path), "%s/README.md", getenv("PAT_SRC") ?
	    getenv("PAT_SRC") : ".");
	readme = t_slurp(path);
	extract(readme, &tr);
	free(readme);
	cr_assert_geq(tr.nsteps, 15, "only %d steps in the tour", tr.nsteps);
	cr_assert_leq(tr.skipped, 1, "%d of %d blocks skipped: keep that to "
	    "one", tr.skipped, tr.nblocks);

	/* the script: each step, then its exit status on fd 3 */
	snprintf(path, sizeof(path), "%s/tour.sh", t.dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "exec 3>%s/tour.status\n", t.dir);
	for (i = 0; i < tr.nsteps; i++)
		fprintf(f, "%s\necho \"%d $?\" >&3\n", tr.step[i], i);
	fclose(f);

	/* a fresh machine, as far as the tour can tell */
	rc = t_sh(&t, 0, NULL, NULL, &err, "unshare --mount --propagation "
	    "private sh -ec 'd=%s; "
	    "cp -a /etc $d/etc && mount --bind $d/etc /etc; "
	    "for m in /home /var/log /usr/local; do mount -t tmpfs -o mode=0755 "
	    "tmpfs $m; done; "
	    "if [ -d /var/mail ]; then mount -t tmpfs tmpfs /var/mail; fi; "
	    "pam=$(pkg-config --variable=libdir pam 2>/dev/null || echo /lib)"
	    "/security; cp -a $pam $d/pammods && mount --bind $d/pammods $pam; "
	    "cp -a /usr/share/pam-configs $d/pamcfg && mount --bind $d/pamcfg "
	    "/usr/share/pam-configs; "
	    "mkdir -m 1777 $d/tmp; cd \"$PAT_SRC\"; "
	    "exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
	    "/sbin:/bin HOME=/root USER=root LOGNAME=root SHELL=/bin/bash "
	    "LANG=C.UTF-8 TERM=dumb TMPDIR=$d/tmp PAT_TEST_RUN=$PAT_TEST_RUN "
	    "PAT_TEST_CASE=$PAT_TEST_CASE sh $d/tour.sh </dev/null "
	    ">$d/tour.out 2>$d/tour.err'", t.dir);
	free(err);
	snprintf(path, sizeof(path), "%s/tour.status", t.dir);
	status = t_slurp(path);
	snprintf(path, sizeof(path), "%s/tour.err", t.dir);
	err = t_slurp(path);	/* patd's and the commands' stderr: no
				 * secret goes there; stdout holds tokens */
	for (i = 0, p = status; i < tr.nsteps; i++) {
		int n = -1, st = -1;

		cr_assert(p != NULL && sscanf(p, "%d %d", &n, &st) == 2 &&
		    n == i, "the tour stopped before step %d (sh exit %d):\n"
		    "%s\nits stderr:\n%s", i + 1, rc, tr.step[i], err);
		cr_assert_eq(st, 0, "tour step %d exited %d:\n%s\nstderr of the "
		    "tour:\n%s", i + 1, st, tr.step[i], err);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	t_figure("README tour: %d steps in %d sh blocks ran as printed "
	    "(%d block skipped: needs a person)", tr.nsteps, tr.nblocks,
	    tr.skipped);
	free(status);
	free(err);
	for (i = 0; i < tr.nsteps; i++)
		free(tr.step[i]);
}
