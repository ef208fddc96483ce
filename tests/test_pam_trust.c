/* test_pam_trust.c - pam_pat.so's two checks on the socket, each alone (#17). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "token.h"

static struct tpatd t;

static void
setup(void)
{
	t_start(&t, NULL);
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(pamtrust, .init = setup, .fini = teardown, .timeout = 60);

/* What a patd would answer for a good token of alice's at sshd. */
#define FAKE_OK	"OK id=1 user=alice uid=1001 role=ssh name= expires=0 " \
		"perms=pam.sshd\n"

/*
 * A fake patd that answers FAKE_OK to anything: it binds and listens at
 * path as `uid` (so SO_PEERCRED names uid), then the socket file is
 * chowned to root.  Returns its pid once it listens.
 */
static pid_t
fake_patd(const char *path, uid_t uid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int p[2], fd, c;
	char buf[2048], ready = 0;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	if ((pid = t_fork()) == 0) {
		close(p[0]);
		if (uid != 0 && (setgroups(0, NULL) < 0 || setgid(uid) < 0 ||
		    setuid(uid) < 0))
			_exit(1);
		/* after setuid: a change of credentials clears it */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) < 0 || listen(fd, 8) < 0)
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		close(p[1]);
		for (;;) {
			if ((c = accept(fd, NULL, NULL)) < 0)
				_exit(0);
			/* the request is one line; pam_pat then shuts down
			 * its writing side */
			if (read(c, buf, sizeof(buf)) < 0 ||
			    write(c, FAKE_OK, strlen(FAKE_OK)) < 0)
				_exit(1);
			close(c);
		}
	}
	close(p[1]);
	cr_assert_neq(pid, -1);
	if (read(p[0], &ready, 1) != 1 || ready != 'r') {
		close(p[0]);
		waitpid(pid, NULL, 0);
		cr_assert_fail("the fake patd did not start");
	}
	close(p[0]);
	return pid;
}

static void
stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* pam_pat.so at sshd for alice against the socket at path: its result. */
static char *
pam_at(const char *path, const char *token)
{
	struct tpatd u = t;	/* the same test, another socket */

	snprintf(u.sock, sizeof(u.sock), "%s", path);
	return t_pam_login(&u, "sshd", "alice", token, NULL);
}

/*
 * Issue 17, check 1 alone: the socket file is root's, so only the peer
 * check (SO_PEERCRED: the listener must be root) stands between alice's
 * listener and an "OK" for any token.  The same listener run by root is
 * believed: the answer itself is good, only its uid differs.
 */
Test(pamtrust, a_listener_run_by_alice_behind_a_root_socket_is_not_believed)
{
	char dir[128], path[160], tok[PAT_TOKEN_BUFSZ], *got, *ctl;
	struct stat st;
	pid_t fake;

	t_need_root();
	cr_assert_eq(pat_token_generate(1, tok), 0);
	snprintf(dir, sizeof(dir), "%s/alice", t.dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(chown(dir, ALICE, ALICE), 0);
	snprintf(path, sizeof(path), "%s/fake.sock", dir);
	fake = fake_patd(path, ALICE);
	/* chowned after alice bound it: the file owner check passes */
	if (chown(path, 0, 0) != 0 || lstat(path, &st) != 0 ||
	    st.st_uid != 0) {
		stop(fake);
		cr_assert_fail("could not give alice's socket file to root");
	}
	got = pam_at(path, tok);
	stop(fake);
	/* control: the very same answer from a root listener is accepted */
	snprintf(path, sizeof(path), "%s/root.sock", t.dir);
	fake = fake_patd(path, 0);
	ctl = pam_at(path, tok);
	stop(fake);
	cr_assert_str_eq(ctl, "PAM_SUCCESS", "control: the fake's answer from "
	    "root should be believed");
	cr_assert_str_eq(got, "PAM_AUTHINFO_UNAVAIL", "alice's listener behind "
	    "a root-owned socket file was believed (the peer check)");
	free(got);
	free(ctl);
	explicit_bzero(tok, sizeof(tok));
}

/*
 * Issue 17, check 2 alone: root's real patd answers, but its socket file
 * is alice's: the peer check passes, only the file owner check refuses.
 * Given back to root, the same socket works.
 */
Test(pamtrust, root_patd_behind_a_socket_file_alice_owns_is_not_believed)
{
	char *tok, *got, *ctl;

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	cr_assert_eq(chown(t.sock, ALICE, ALICE), 0);
	got = pam_at(t.sock, tok);
	cr_assert_eq(chown(t.sock, 0, 0), 0);
	ctl = pam_at(t.sock, tok);
	cr_assert_str_eq(ctl, "PAM_SUCCESS", "control: root's socket, root's "
	    "patd, alice's token");
	cr_assert_str_eq(got, "PAM_AUTHINFO_UNAVAIL", "a socket file owned by "
	    "alice was trusted (the socket owner check)");
	free(got);
	free(ctl);
	t_free(tok);
}

/*
 * A symbolic link is not a socket: alice's link to root's real socket is
 * refused (the file check uses lstat), although what it points at would
 * pass both checks.
 */
Test(pamtrust, a_symbolic_link_to_roots_socket_is_not_believed)
{
	char *tok, *got, *ctl, link[200];

	t_need_root();
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
	tok = t_token(&t, "alice", "ssh");
	snprintf(link, sizeof(link), "%s/link.sock", t.dir);
	cr_assert_eq(symlink(t.sock, link), 0);
	cr_assert_eq(lchown(link, ALICE, ALICE), 0);
	got = pam_at(link, tok);
	ctl = pam_at(t.sock, tok);
	unlink(link);
	cr_assert_str_eq(ctl, "PAM_SUCCESS", "control: root's socket itself");
	cr_assert_str_eq(got, "PAM_AUTHINFO_UNAVAIL", "a symbolic link to the "
	    "socket was followed");
	free(got);
	free(ctl);
	t_free(tok);
}
