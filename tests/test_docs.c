/*
 * Issue 12, item 9: the documents an admin reads say what is true.  Man
 * pages render under LANG=C with no warning (no raw UTF-8, no bad
 * escapes); README, patd(8) and operations.md name every state file; make
 * install writes nothing in /etc, as README says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

static struct tpatd t;

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(docs, .fini = teardown);

Test(docs, man_pages_render_under_lang_c_without_a_warning)
{
	char *out = NULL, *err = NULL;
	int rc;

	t_start(&t, NULL);
	if (t_sh(&t, 0, NULL, NULL, NULL, "command -v groff") != 0)
		cr_skip_test("SKIPPED: groff is missing (groff-base)");
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "cd \"$PAT_SRC\" && ls "
	    "docs/man/*.? | wc -l"), 0);
	cr_assert_geq(atoi(out), 4, "man pages: %s", out);
	free(out);
	/* exactly the command: groff exits 0 even when it warns */
	rc = t_sh(&t, 0, NULL, &out, &err, "cd \"$PAT_SRC\" && LANG=C groff -ww "
	    "-z -man docs/man/*.?");
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(err, "", "groff warns:\n%s", err);
	free(out);
	free(err);
	rc = t_sh(&t, 0, NULL, &out, NULL, "cd \"$PAT_SRC\" && LC_ALL=C grep -n "
	    "'[^ -~\t]' docs/man/*.?");
	cr_assert_eq(rc, 1, "bytes that are not printable ASCII:\n%s", out);
	free(out);
}

Test(docs, every_state_file_is_listed_and_install_leaves_etc_alone)
{
	static const char *files[] = {
		"pat.mdb", "pat.mdb-lock", "token.key", "session.key",
	};
	static const char *docs[] = {
		"README.md", "docs/man/patd.8", "docs/operations.md",
	};
	char *out = NULL;
	size_t i, j;

	t_start(&t, NULL);
	for (i = 0; i < sizeof(docs) / sizeof(*docs); i++)
		for (j = 0; j < sizeof(files) / sizeof(*files); j++)
			cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "grep -qwF "
			    "'%s' \"$PAT_SRC\"/%s", files[j], docs[i]), 0,
			    "%s does not name %s", docs[i], files[j]);
	/* patd(8) lists each under FILES, and says what to back up */
	for (j = 0; j < sizeof(files) / sizeof(*files); j++)
		cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "sed -n '/^.SH FILES/,"
		    "/^.SH [^F]/p' \"$PAT_SRC\"/docs/man/patd.8 | grep -qx "
		    "'/var/lib/patd/%s'", files[j]), 0, "patd(8) FILES lacks %s",
		    files[j]);
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "grep -q '^.SH BACKUP' "
	    "\"$PAT_SRC\"/docs/man/patd.8"), 0);
	/* install: the sysusers.d entry, the example config, nothing in /etc */
	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "make -s -n -C \"$PAT_SRC\" "
	    "install DESTDIR=/D PREFIX=/P | grep -v '^make'"), 0);
	cr_assert(strstr(out, "/D/P/lib/sysusers.d/patd.conf") &&
	    strstr(out, "/D/P/share/doc/pat/"), "%s", out);
	cr_assert_null(strstr(out, "/etc"), "make install writes /etc:\n%s",
	    out);
	free(out);
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "grep -qF 'g patd-verify -' "
	    "\"$PAT_SRC\"/systemd/patd.sysusers"), 0);
}
