/* server.c - poll() event loop over the listening socket; see server.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <systemd/sd-daemon.h>

#include "access.h"
#include "clock.h"
#include "log.h"
#include "login.h"
#include "server.h"
#include "testclock.h"

struct conn {
	int		fd;
	struct peer	peer;
	int64_t		last;		/* last progress, ms */
	bool		eof;		/* peer shut down its side */
	bool		drop;		/* close once out is sent */
	bool		waiting;	/* out waits for the round's commit */
	/* fleet mode: out waits for the directory (fop submitted once the
	 * round committed: fleet_wait) */
	struct fleet_op	*fop;
	bool		fleet_wait;
	int64_t		fleet_since;	/* ms: submitted then */
	int		fleet_kind;	/* FLEET_ANSWER_*: what it adds */
	size_t		inlen;
	char		in[PAT_LINE_MAX + 2];
	struct pat_buf	out;
};

static void
conn_close(struct patd *d, struct conn **cs, unsigned *n, unsigned i)
{
	struct conn *c = cs[i];

	close(c->fd);
	fleet_op_release(c->fop);	/* the thread keeps its reference */
	pat_buf_free(&c->out);
	sodium_memzero(c->in, sizeof(c->in));
	free(c);
	cs[i] = cs[--*n];
	d->nconns = *n;
}

/* Best effort, for a peer we are about to drop anyway. */
static void
say_and_close(int fd, const char *line)
{
	(void)send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* Connections uid holds now. */
static unsigned
held_by(struct conn **cs, unsigned n, uid_t uid)
{
	unsigned i, k = 0;

	for (i = 0; i < n; i++)
		k += cs[i]->peer.uid == uid;
	return k;
}

#define STALLED_MS	1000	/* an answer unread this long: the peer
				 * is not reading, its place may go */

/*
 * Make room for a privileged newcomer.  A connection may go when it has no
 * request in progress (nothing queued, not waiting for a commit, not
 * handed to a login) or its peer left an answer unread for STALLED_MS;
 * for root and patd's uid, as a last resort, any connection of another
 * uid that is not waiting for a commit.  Taken first from the uid holding
 * the most connections (whoever floods pays), then the idlest.  False
 * when nothing may go.
 */
static bool
evict_for(struct patd *d, struct conn **cs, unsigned *n, uid_t newcomer,
    bool super, int64_t now)
{
	unsigned i, best = *n, best_held = 0, held;
	int pass;

	for (pass = 0; pass < 2 && best == *n; pass++) {
		if (pass == 1 && !super)
			break;
		for (i = 0; i < *n; i++) {
			const struct conn *c = cs[i];
			bool idle = c->out.len == 0,
			    stalled = c->out.len > 0 &&
			    now - c->last > STALLED_MS;

			if (c->waiting || c->fleet_wait || c->drop)
				continue;
			if (pass == 0 && !idle && !stalled)
				continue;
			if (pass == 1 && (c->peer.uid == 0 ||
			    c->peer.uid == d->self_uid))
				continue;
			held = held_by(cs, *n, c->peer.uid);
			if (best == *n || held > best_held || (held ==
			    best_held && c->last < cs[best]->last)) {
				best = i;
				best_held = held;
			}
		}
	}
	if (best == *n)
		return false;
	log_warn("closing uid %u's connection (it holds %u, idle %lld ms) to "
	    "make room for uid %u", (unsigned)cs[best]->peer.uid, best_held,
	    (long long)(now - cs[best]->last), (unsigned)newcomer);
	conn_close(d, cs, n, best);
	return true;
}

/*
 * Who may connect.  Everyone shares max_conns - reserved, at most
 * max_per_uid each.  Privileged peers (root, patd's uid, the verify group:
 * logins and the admin) may also use the reserved part, are not held to
 * max_per_uid, and when even max_conns is full take the place of the
 * connection idle longest; so no flood, whoever starts it, leaves root
 * without a connection.  The verify group costs an NSS lookup: asked only
 * when the shared limits say no.
 */
static const char *
admit(struct patd *d, struct conn **cs, unsigned *n,
    const struct server_limits *lim, const struct ucred *cred)
{
	unsigned reserved = lim->reserved < lim->max_conns / 2 ?
	    lim->reserved : lim->max_conns / 2;

	if (*n < lim->max_conns - reserved &&
	    held_by(cs, *n, cred->uid) < lim->max_per_uid)
		return NULL;
	if (!access_is_verifier(d, cred->uid, cred->gid))
		return *n >= lim->max_conns - reserved ? "too many connections" :
		    "too many connections from that uid";
	if (*n < lim->max_conns || evict_for(d, cs, n, cred->uid,
	    access_is_superuser(d, cred->uid), pat_monotonic_ms()))
		return NULL;
	return "too many connections, none of them idle";
}

static struct conn *
accept_one(struct patd *d, int lfd, struct conn **cs, unsigned *n,
    const struct server_limits *lim)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;
	const char *why;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept: %s", strerror(errno));
		return NULL;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(fd);
		return NULL;
	}
	if ((why = admit(d, cs, n, lim, &cred)) != NULL) {
		if (refusal_log_ok(d, cred.uid, patd_now(d)))
			log_warn("refusing connection from uid %u: %s",
			    (unsigned)cred.uid, why);
		say_and_close(fd, "ERR code=busy message=too%20many%20"
		    "connections;%20try%20again%20later\n");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->last = pat_monotonic_ms();
	pat_buf_init(&c->out, lim->out_max);
	cs[(*n)++] = c;
	d->nconns = *n;
	d->accepted++;
	return c;
}

/* Answer the first complete line in c->in, if any and if out is drained. */
/* c's answer waits for the directory: its op goes to the fleet thread. */
static void
conn_fleet_submit(struct patd *d, struct conn *c)
{
	fleet_submit(d->fleet, c->fop);
	c->fleet_wait = true;
	c->fleet_since = pat_monotonic_ms();
}

static void
handle_line(struct patd *d, struct conn *c)
{
	static struct pat_msg msg;	/* one thread, one request at a time */
	struct pat_msg *m = &msg;
	char *nl;
	size_t linelen;
	int r;

	if (c->out.len > 0 || c->drop)
		return;
	if ((nl = memchr(c->in, '\n', c->inlen)) == NULL) {
		if (c->inlen > PAT_LINE_MAX) {
			if (refusal_log_ok(d, c->peer.uid, patd_now(d)))
				log_warn("dropping uid %u: request line over "
				    "%d bytes", (unsigned)c->peer.uid,
				    PAT_LINE_MAX);
			pat_buf_adds(&c->out, "ERR code=too-long message="
			    "request%20line%20too%20long\n");
			c->drop = true;
		}
		return;
	}
	linelen = (size_t)(nl - c->in);
	r = pat_msg_parse(m, c->in, linelen);
	memmove(c->in, nl + 1, c->inlen - linelen - 1);
	c->inlen -= linelen + 1;
	sodium_memzero(c->in + c->inlen, linelen + 1);
	if (r == 0 && strcmp(m->verb, "LOGIN") == 0) {
		/* a child takes the connection over for the PAM conversation */
		if (login_begin(d, c->fd, &c->peer, c->in, c->inlen, &c->out))
			c->drop = true;
	} else if (r < 0) {
		if (refusal_log_ok(d, c->peer.uid, patd_now(d)))
			log_warn("dropping uid %u: malformed request",
			    (unsigned)c->peer.uid);
		pat_buf_adds(&c->out, "ERR code=bad-request message=malformed"
		    "%20request%20line%20(see%20docs/protocol.md)\n");
		c->drop = true;
	} else if ((r = verbs_dispatch(d, &c->peer, m, &c->out, &c->fop,
	    &c->fleet_kind)) < 0) {
		log_warn("dropping uid %u: answer too large",
		    (unsigned)c->peer.uid);
		pat_buf_reset(&c->out);
		pat_buf_adds(&c->out, "ERR code=too-large message=answer%20"
		    "too%20large\n");
		c->drop = true;
	} else {
		c->waiting = r == VERB_WAIT_COMMIT;
		if (c->fop != NULL && !c->waiting)	/* SHOW: at once */
			conn_fleet_submit(d, c);
	}
	pat_msg_wipe(m);
}

/* Read what is there; false when the connection should go. */
static bool
conn_read(struct patd *d, struct conn *c)
{
	ssize_t k;

	while (!c->eof && c->inlen < sizeof(c->in) - 1) {
		size_t room = sizeof(c->in) - 1 - c->inlen;

		k = recv(c->fd, c->in + c->inlen, room, 0);
		if (k > 0) {
			c->inlen += (size_t)k;
			c->last = pat_monotonic_ms();
			/* short read: drained; poll() says when more comes,
			 * so no recv() that only answers EAGAIN */
			if ((size_t)k < room)
				break;
			continue;
		}
		if (k == 0)
			c->eof = true;
		else if (errno == EAGAIN || errno == EINTR)
			break;
		else
			return false;
	}
	handle_line(d, c);
	return true;
}

static bool
conn_write(struct patd *d, struct conn *c)
{
	ssize_t k;

	if (c->waiting || c->fleet_wait)
		return true;	/* not acknowledged before it is durable */
	while (c->out.len > 0) {
		k = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (k > 0) {
			pat_buf_consume(&c->out, (size_t)k);
			c->last = pat_monotonic_ms();
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		return false;
	}
	if (c->drop)
		return false;
	handle_line(d, c);	/* pipelined requests wait for their turn */
	return true;
}

/* After reading or writing: send what may go; false when c should go. */
static bool
conn_settle(struct patd *d, struct conn *c, bool ok)
{
	if (ok && c->out.len > 0 && !c->waiting && !c->fleet_wait)
		ok = conn_write(d, c);
	if (ok && c->drop && c->out.len == 0)
		ok = false;	/* handed over, or done */
	if (ok && c->eof && c->out.len == 0 &&
	    memchr(c->in, '\n', c->inlen) == NULL)
		ok = false;
	return ok;
}

/*
 * Make this round's writes durable with one commit, then release the
 * answers that waited for it (or refuse them all when it failed).  An
 * answer sent may let a pipelined write start the next round, which the
 * next turn of the loop ends.
 */
static void
end_round(struct patd *d, struct conn **cs, unsigned *n)
{
	unsigned i;
	int r;

	if (d->round == NULL)
		return;
	r = verbs_round_end(d);
	for (i = *n; i-- > 0;) {
		struct conn *c = cs[i];

		if (!c->waiting)
			continue;
		c->waiting = false;
		if (r < 0)
			verbs_round_failed(&c->out, r);
		if (c->fop != NULL && r == 0) {
			/* committed here (a REVOKE's outbox) or nothing to
			 * commit (a directory verb): now the directory */
			conn_fleet_submit(d, c);
			continue;
		}
		fleet_op_release(c->fop);	/* the round failed: no op */
		c->fop = NULL;
		if (!conn_settle(d, c, true))
			conn_close(d, cs, n, i);
	}
}

/* Answers that waited for the directory and may go now: done, or
 * waiting longer than FLEET_ANSWER_MS (the thread keeps its reference
 * and finishes the op unseen). */
static void
fleet_answers(struct patd *d, struct conn **cs, unsigned *n, int64_t now)
{
	const char *code, *msg;
	unsigned i;

	for (i = *n; i-- > 0;) {
		struct conn *c = cs[i];

		if (!c->fleet_wait)
			continue;
		if (fleet_op_state(c->fop, &code, &msg) != FLEET_OP_PENDING)
			verbs_fleet_done(&c->out, c->fop, c->fleet_kind);
		else if (now - c->fleet_since > FLEET_ANSWER_MS)
			verbs_fleet_late(&c->out, c->fleet_kind);
		else
			continue;
		fleet_op_release(c->fop);
		c->fop = NULL;
		c->fleet_wait = false;
		c->last = pat_monotonic_ms();
		if (!conn_settle(d, c, true))
			conn_close(d, cs, n, i);
	}
}

/* One batch of revocations left to mark, between rounds: requests wait at
 * most one batch (SWEEP_BATCH records, one commit) for it. */
static void
background(struct patd *d, bool stopping)
{
	bool more = false;
	int r;

	if (!d->sweep_pending || d->round != NULL || stopping)
		return;
	if ((r = sweep_step(d, &more)) < 0)
		log_warn("cannot mark revoked descendants yet: %s (they are "
		    "refused all the same; retrying)", store_strerror(r));
	d->sweep_pending = more;
}

static int
signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);	/* login children */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* True when a client waits in the listen backlog. */
static bool
backlog_waiting(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static void
notify_status(const struct patd *d, unsigned n)
{
	sd_notifyf(0, "STATUS=%u connection%s, %llu accepted since start", n,
	    n == 1 ? "" : "s", (unsigned long long)d->accepted);
}

int
server_run(struct patd *d, int lfd, const struct server_limits *lim)
{
	struct conn **cs, *fresh;
	struct pollfd *pfd;
	int64_t now, next_flush, next_dog, last_busy, stop_by = 0;
	unsigned n = 0, i, base, last_n = ~0u;
	int sfd, r = 0, k;
	bool stopping = false;

	if ((sfd = signals_fd()) < 0)
		return -errno;
	cs = calloc(lim->max_conns + 1, sizeof(*cs));
	pfd = calloc(lim->max_conns + 3, sizeof(*pfd));
	if (cs == NULL || pfd == NULL) {
		r = -ENOMEM;
		goto out;
	}
	now = pat_monotonic_ms();
	next_flush = now + lim->flush_ms;
	next_dog = now;
	last_busy = now;
	for (;;) {
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = stopping ? -1 : lfd;	/* stopping: accept no more */
		pfd[1].events = POLLIN;
		pfd[2].fd = d->fleet != NULL ? fleet_event_fd(d->fleet) : -1;
		pfd[2].events = POLLIN;
		pfd[2].revents = 0;
		base = 3;
		for (i = 0; i < n; i++) {
			/* an answer waiting for the directory: not polled (a
			 * peer's hang-up would wake us at every turn) */
			pfd[base + i].fd = cs[i]->fleet_wait ? -1 : cs[i]->fd;
			pfd[base + i].events = cs[i]->waiting ||
			    cs[i]->fleet_wait ? 0 :
			    cs[i]->out.len > 0 ? POLLOUT :
			    cs[i]->eof || stopping ? 0 : POLLIN;
			pfd[base + i].revents = 0;
		}
		/* a round begun by a pipelined write, or revocations left to
		 * mark: get on with it without sleeping */
		k = poll(pfd, base + n, d->round != NULL || d->sweep_pending ?
		    0 : 250);
		if (k < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		now = pat_monotonic_ms();
		/* a role with a lifetime policy came from the fleet */
		if (d->fleet != NULL && fleet_take_policy_news(d->fleet))
			d->no_policies = false;
		if (k > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) > 0 &&
			    si.ssi_signo != SIGCHLD) {
				if (!stopping) {
					log_info("signal %u: finishing answers "
					    "and stopping", si.ssi_signo);
					sd_notify(0, "STOPPING=1");
				}
				stopping = true;
				stop_by = now + 2000;
			}
		}
		login_reap(d);
		/* walk backwards: closing moves the last conn into the hole */
		for (i = n; k > 0 && i-- > 0;) {
			struct conn *c = cs[i];
			short re = pfd[base + i].revents;
			bool ok = true;

			if (re & (POLLERR | POLLNVAL))
				ok = false;
			else if (re & POLLOUT)
				ok = conn_write(d, c);
			else if (re & (POLLIN | POLLHUP))
				ok = conn_read(d, c);
			if (!conn_settle(d, c, ok))
				conn_close(d, cs, &n, i);
		}
		/* a client connects and sends at once (pam_pat.so does): read
		 * right away instead of in the next turn of the loop */
		if (!stopping && k > 0 && (pfd[1].revents & POLLIN) &&
		    (fresh = accept_one(d, lfd, cs, &n, lim)) != NULL &&
		    !conn_settle(d, fresh, conn_read(d, fresh)))
			conn_close(d, cs, &n, n - 1);
		end_round(d, cs, &n);
		/* after the walk above: closing reorders cs, not pfd */
		if (d->fleet != NULL) {
			if (pfd[2].revents & POLLIN)	/* an op finished */
				fleet_event_clear(d->fleet);
			fleet_answers(d, cs, &n, now);
		}
		background(d, stopping);
		for (i = n; i-- > 0;)
			if ((now - cs[i]->last > lim->idle_ms &&
			    !cs[i]->fleet_wait) ||
			    (stopping && cs[i]->out.len == 0))
				conn_close(d, cs, &n, i);
		if (stopping && (n == 0 || now >= stop_by))
			break;
		if (n > 0)
			last_busy = now;
		if (!stopping && lim->idle_exit_ms > 0 && n == 0 &&
		    d->nlogins == 0 && !d->sweep_pending &&
		    now - last_busy >= lim->idle_exit_ms && !backlog_waiting(lfd)) {
			log_info("idle for %lld s: exiting until the next "
			    "connection", (long long)(lim->idle_exit_ms / 1000));
			break;
		}
		if (now >= next_flush) {
			if ((k = lastuse_flush(d)) < 0)
				log_warn("cannot record last use: %s",
				    store_strerror(k));
			if (d->log_suppressed > 0) {
				log_event("log-suppressed", "refusals=%llu "
				    "reason=over-log_refusals-per-uid",
				    (unsigned long long)d->log_suppressed);
				d->log_suppressed = 0;
			}
			if (d->uses_quiet > 0) {
				log_event("log-suppressed", "uses=%llu "
				    "reason=over-log_refusals-per-token",
				    (unsigned long long)d->uses_quiet);
				d->uses_quiet = 0;
			}
			if (d->limited_quiet > 0) {
				log_event("log-suppressed", "refusals=%llu "
				    "reason=rate-limited-again",
				    (unsigned long long)d->limited_quiet);
				d->limited_quiet = 0;
			}
			if (d->rl_rhost.dropped > 0) {
				log_event("rhost-table-full", "uncounted=%llu "
				    "slots=%zu", (unsigned long long)
				    d->rl_rhost.dropped, d->rl_rhost.cap);
				d->rl_rhost.dropped = 0;
			}
			if ((k = purge_step(d)) < 0)
				log_warn("cannot purge old records: %s",
				    store_strerror(k));
			d->sweep_pending = true;	/* retry one that failed */
			next_flush = now + lim->flush_ms;
		}
		if (lim->watchdog_us > 0 && now >= next_dog) {
			sd_notify(0, "WATCHDOG=1");
			next_dog = now + (int64_t)(lim->watchdog_us / 2000);
		}
		if (n != last_n) {
			notify_status(d, n);
			last_n = n;
		}
	}
out:
	end_round(d, cs, &n);
	while (n > 0)
		conn_close(d, cs, &n, n - 1);
	free(cs);
	free(pfd);
	close(sfd);
	return r;
}
