/*
 * cleanup.h - between harness.c and cleanup.c: how the harness starts the
 * processes it owns (the contract for tests is in harness.h).
 */
#ifndef PAT_TESTS_CLEANUP_H
#define PAT_TESTS_CLEANUP_H

#include <stdbool.h>
#include <sys/types.h>

/* PAT_TEST_NO_CLEANUP is set: the old harness, for the leak check's
 * control runs. */
bool	t_no_cleanup(void);
/* fork(2) for the harness: tags the test first; the child dies with the
 * test's process (parent death signal) and, with group, leads a process
 * group of its own; with reg, the parent registers it for t_cleanup.
 * Returns as fork does (fails the test when fork fails). */
pid_t	t_owned_fork(bool group, bool reg);
/* PAT_TEST_FAIL_ONE: fails (or aborts) the running test when it is the
 * chosen one and this is the count-th helper it started; pid and what
 * name the helper in the message. */
void	t_fail_point(int count, pid_t pid, const char *what);
/* The t_bg and t_fork starts so far in this test. */
extern int t_helpers;
/* The processes half of t_cleanup (t_stop calls it before removing its
 * directory). */
void	t_stop_helpers(void);
/* The runner, before the first test: copies what other uids execute
 * (patd, patctl, pam_pat.so, the ASan module, pamcall, sockact) from build
 * into a fresh 0755 directory named after run and exports it as
 * PAT_TEST_BIN.  Returns 0 or a negative errno (then nothing is
 * exported and the harness runs build's own files). */
int	t_runbin_make(const char *run, const char *build);
/* The runner, after the last test: removes that directory. */
void	t_runbin_remove(void);

#endif
