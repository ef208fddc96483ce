/* pool.c - a bounded pool of persistent patd connections; see pool.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"

struct gate_pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* a slot was given back */
	unsigned	 size;
	unsigned	 nfree;
	pat_conn	**conn;		/* NULL: closed, open on next use */
	bool		*busy;
	int		 timeout_ms;
	bool		 have_trusted;
	uid_t		 trusted;
	char		*socket;
};

int
gate_pool_new(struct gate_pool **pp, const char *socket_path, int timeout_ms,
    bool have_trusted, uid_t trusted_uid, unsigned size)
{
	struct gate_pool *p;
	pthread_condattr_t ca;
	int r = -ENOMEM;

	if (size == 0)
		return -EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->size = p->nfree = size;
	p->timeout_ms = timeout_ms;
	p->have_trusted = have_trusted;
	p->trusted = trusted_uid;
	if ((p->conn = calloc(size, sizeof(*p->conn))) == NULL ||
	    (p->busy = calloc(size, sizeof(*p->busy))) == NULL ||
	    (p->socket = strdup(socket_path)) == NULL)
		goto fail;
	/* waits are measured on the monotonic clock: a clock step must not
	 * stretch or cut them */
	if ((r = -pthread_condattr_init(&ca)) < 0)
		goto fail;
	if ((r = -pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) < 0 ||
	    (r = -pthread_cond_init(&p->cv, &ca)) < 0) {
		pthread_condattr_destroy(&ca);
		goto fail;
	}
	pthread_condattr_destroy(&ca);
	if ((r = -pthread_mutex_init(&p->mu, NULL)) < 0) {
		pthread_cond_destroy(&p->cv);
		goto fail;
	}
	*pp = p;
	return 0;
fail:
	free(p->conn);
	free(p->busy);
	free(p->socket);
	free(p);
	return r;
}

/* A free slot's index, waiting until the deadline; -1 when none came. */
static int
take(struct gate_pool *p)
{
	struct timespec until;
	unsigned i;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += p->timeout_ms / 1000;
	until.tv_nsec += (long)(p->timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	while (p->nfree == 0 && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&p->cv, &p->mu, &until);
	if (p->nfree == 0) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	/* prefer an open connection: fewer connects to patd */
	for (i = 0; i < p->size; i++)
		if (!p->busy[i] && p->conn[i] != NULL)
			break;
	if (i == p->size)
		for (i = 0; i < p->size && p->busy[i]; i++)
			;
	p->busy[i] = true;
	p->nfree--;
	pthread_mutex_unlock(&p->mu);
	return (int)i;
}

static void
give_back(struct gate_pool *p, int i)
{
	pthread_mutex_lock(&p->mu);
	p->busy[i] = false;
	p->nfree++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int
gate_pool_verify(struct gate_pool *p, const struct pat_request *rq,
    struct pat_identity *who, int *retry_after)
{
	pat_conn *c;
	int i, r;

	*retry_after = 0;
	if ((i = take(p)) < 0)
		return GATE_POOL_BUSY;
	/* the slot is ours alone until give_back: no lock needed for it */
	if ((c = p->conn[i]) == NULL) {
		r = p->have_trusted ? pat_open_trusted(&c, p->socket,
		    p->timeout_ms, p->trusted) : pat_open(&c, p->socket,
		    p->timeout_ms);
		if (r != PAT_OK)
			goto out;
		p->conn[i] = c;
	}
	r = pat_verify(c, rq, who);
	if (r == PAT_E_RATE_LIMITED)
		*retry_after = pat_retry_after(c);
	if (r != PAT_OK && !pat_is_refusal(r) && r != PAT_E_ARGUMENT &&
	    r != PAT_E_SERVER) {
		/* no verdict through this connection (patd gone, timed out,
		 * garbled): it is suspect, start afresh.  ARGUMENT (refused
		 * before sending) and SERVER (patd answered "busy") leave
		 * it sound. */
		pat_close(c);
		p->conn[i] = NULL;
	}
out:
	give_back(p, i);
	return r;
}

void
gate_pool_free(struct gate_pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	for (i = 0; i < p->size; i++)
		pat_close(p->conn[i]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->conn);
	free(p->busy);
	free(p->socket);
	free(p);
}
