/*
 * Many clients verifying while others create and revoke: no answer is
 * ever wrong — once a revocation was acknowledged, that token is never
 * accepted again.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define NTOK		150
#define VERIFIERS	4

struct shared {
	atomic_int	revoked[NTOK];	/* set after the REVOKE was acked */
	atomic_int	stop;
	atomic_long	verifications, accepted, violations, creates;
	char		tokens[NTOK][80];
};

static struct tpatd t;

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(concurrency, .fini = teardown, .timeout = 120);

static void
verifier(struct shared *sh, unsigned seed)
{
	char req[160], *r;

	srand(seed);
	while (!atomic_load(&sh->stop)) {
		int i = rand() % NTOK;
		int was_revoked = atomic_load(&sh->revoked[i]);

		snprintf(req, sizeof(req), "VERIFY token=%s perm=pam.sshd\n",
		    sh->tokens[i]);
		if ((r = t_ask(&t, req)) == NULL)
			continue;
		atomic_fetch_add(&sh->verifications, 1);
		if (strncmp(r, "OK", 2) == 0) {
			atomic_fetch_add(&sh->accepted, 1);
			if (was_revoked)
				atomic_fetch_add(&sh->violations, 1);
		}
		free(r);
	}
	_exit(0);
}

static void
creator(struct shared *sh)
{
	char *r;

	while (!atomic_load(&sh->stop)) {
		if ((r = t_ask(&t, "CREATE role=ssh user=bob\n")) != NULL &&
		    strncmp(r, "OK", 2) == 0)
			atomic_fetch_add(&sh->creates, 1);
		free(r);
	}
	_exit(0);
}

Test(concurrency, no_token_is_accepted_after_its_revocation_was_acknowledged)
{
	struct shared *sh;
	pid_t kids[VERIFIERS + 1];
	char req[64], *r, *tok;
	int i;

	t_start(&t, NULL);
	/* refusals are wanted */
	t_reconfigure(&t, "rate_limit_failures = 1000000\n" T_BULK_CONF);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	t_grant(&t, "ssh", "--user bob");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < NTOK; i++) {
		r = t_raw(&t, "CREATE role=ssh user=alice\n", 1);
		tok = t_field(r, "OK", "token");
		cr_assert_not_null(tok);
		snprintf(sh->tokens[i], sizeof(sh->tokens[i]), "%s", tok);
		t_free(tok);
		t_free(r);
	}
	for (i = 0; i < VERIFIERS; i++)
		if ((kids[i] = t_fork()) == 0)
			verifier(sh, 100 + (unsigned)i);
	if ((kids[VERIFIERS] = t_fork()) == 0)
		creator(sh);
	/* revoke one token after another while they run */
	for (i = 0; i < NTOK; i++) {
		snprintf(req, sizeof(req), "REVOKE id=%d\n", i + 1);
		r = t_ask(&t, req);
		cr_assert(r && strncmp(r, "OK revoked=1", 12) == 0, "%s", r);
		atomic_store(&sh->revoked[i], 1);
		free(r);
		usleep(10000);
	}
	usleep(300000);	/* verifiers keep trying the revoked ones */
	atomic_store(&sh->stop, 1);
	for (i = 0; i <= VERIFIERS; i++)
		waitpid(kids[i], NULL, 0);
	cr_assert_eq(atomic_load(&sh->violations), 0,
	    "%ld verifications accepted a token after its revocation was "
	    "acknowledged", atomic_load(&sh->violations));
	cr_assert_gt(atomic_load(&sh->accepted), 0, "nothing was ever accepted");
	cr_assert_gt(atomic_load(&sh->verifications) -
	    atomic_load(&sh->accepted), 0, "nothing was ever refused");
	t_figure("concurrency: %d verifiers made %ld verifications (%ld "
	    "accepted) while %d revokes and %ld creates went on; 0 wrong "
	    "answers", VERIFIERS, atomic_load(&sh->verifications),
	    atomic_load(&sh->accepted), NTOK, atomic_load(&sh->creates));
	munmap(sh, sizeof(*sh));
}
