/*
 * fleetprop - revocation propagation, from the LDAP write to the last of N
 * consumers.  Revokes the first REVS tokens of TOKFILE (bench/fleetgen's
 * VERIFY lines) one at a time on the provider, as a host does (patRevoked
 * and patRevokedReason added, bound as BINDDN), and times each from just
 * before the modify is sent until every consumer has it:
 *   patd mode (SOCK...): real patds, one connection each; round after
 *     round, a VERIFY of the token to every patd not yet refusing it, then
 *     every answer, until each has answered a refusal that says revoked
 *     (PAUSE µs between rounds, so the poller leaves the CPUs to slapd and
 *     the patds on a small machine);
 *   ldap mode (-n N): N simulated hosts in this process, each an RFC 4533
 *     refreshAndPersist consumer of ou=tokens on a connection of its own
 *     (ldap_search_ext with the sync control, one poll() loop over all:
 *     the shape of patd's thread), until each has received the modify
 *     that carries patRevoked.
 * Every revocation waits until all have it (or 10 s: then it counts as
 * lost) and 100 ms more before the next.  Per revocation a line on
 * stderr; on stdout one line:
 *   n=N revs=R ready_ms=T p50_ms=… p99_ms=… max_ms=… first_p50_ms=…
 *   write_p50_ms=… lost=L round_ms=…
 * (p99 is nearest-rank: with 100 revocations or fewer it is the slowest;
 * round_ms, patd mode: a round's mean time, the resolution of the figures.)
 *   fleetprop -H URI -D BINDDN -y PWFILE -b BASE -t TOKFILE -r REVS
 *             [-p PAUSE_US] (-n N | SOCK...)
 * Exit 0, 1 on an error (said on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>

#define WAIT_MS		10000.0	/* a revocation not everywhere by then: lost */
#define GAP_MS		100.0	/* between two revocations */
#define MAX_REVS	1000

struct tok {
	char	text[256];	/* the VERIFY line */
	char	id[24];
};

struct conn {
	LDAP	*ld;		/* ldap mode */
	int	 msgid, fd;
	bool	 refreshed, seen;
	char	 buf[4096];	/* patd mode: an answer */
};

static const char *uri, *binddn, *base;
static char password[256];
static struct tok toks[MAX_REVS];
static int ntoks;
static struct conn *C;
static int N;
static const char *target;	/* the id being revoked, or NULL */
static int nseen;
static double t_first, t_last;
static double round_ms;		/* patd mode: time in rounds */
static long rounds;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* nearest rank */
static double
pct(const double *sorted, int n, double q)
{
	int k = (int)(q * n + 0.999999);

	if (n == 0)
		return -1;
	return sorted[k < 1 ? 0 : k > n ? n - 1 : k - 1];
}

static int
read_password(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(password, 1, sizeof(password) - 1, f);
	fclose(f);
	while (n > 0 && (password[n - 1] == '\n' || password[n - 1] == '\r'))
		n--;
	password[n] = '\0';
	return 0;
}

static int
read_tokens(const char *path, int want)
{
	FILE *f = fopen(path, "r");
	char line[256], *t, *bar;

	if (f == NULL)
		return -1;
	while (ntoks < want && fgets(line, sizeof(line), f)) {
		if ((t = strstr(line, "token=")) == NULL ||
		    (bar = strchr(t, '|')) == NULL || bar - t - 6 >= 24)
			continue;
		memcpy(toks[ntoks].text, line, sizeof(line));
		memcpy(toks[ntoks].id, t + 6, (size_t)(bar - t - 6));
		toks[ntoks].id[bar - t - 6] = '\0';
		ntoks++;
	}
	fclose(f);
	return ntoks;
}

static LDAP *
ldap_open_bound(void)
{
	struct berval cred = { strlen(password), password };
	int v = LDAP_VERSION3, rc;
	LDAP *ld;

	if (ldap_initialize(&ld, uri) != LDAP_SUCCESS)
		return NULL;
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v);
	rc = ldap_sasl_bind_s(ld, binddn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
	    NULL);
	if (rc != LDAP_SUCCESS) {
		fprintf(stderr, "fleetprop: bind as %s: %s\n", binddn,
		    ldap_err2string(rc));
		ldap_unbind_ext(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

/* Send the revocation of id; its message id, or -1. */
static int
send_revoke(LDAP *w, const char *id)
{
	char dn[300], when[32], *v1[] = { when, NULL }, *v2[] = { "reported",
	    NULL };
	LDAPMod m1 = { .mod_op = LDAP_MOD_ADD, .mod_type = "patRevoked",
	    .mod_values = v1 };
	LDAPMod m2 = { .mod_op = LDAP_MOD_ADD, .mod_type = "patRevokedReason",
	    .mod_values = v2 };
	LDAPMod *mods[] = { &m1, &m2, NULL };
	int msgid, rc;

	snprintf(dn, sizeof(dn), "patId=%s,ou=tokens,%s", id, base);
	snprintf(when, sizeof(when), "%lld", (long long)time(NULL));
	rc = ldap_modify_ext(w, dn, mods, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		fprintf(stderr, "fleetprop: modify %s: %s\n", dn,
		    ldap_err2string(rc));
		return -1;
	}
	return msgid;
}

/* 1 when the write's answer came (success), 0 not yet, -1 failed. */
static int
write_done(LDAP *w, int msgid, bool block)
{
	struct timeval zero = { 0, 0 }, ten = { 10, 0 };
	LDAPMessage *res;
	int r, err = 0;

	r = ldap_result(w, msgid, LDAP_MSG_ALL, block ? &ten : &zero, &res);
	if (r == 0)
		return block ? -1 : 0;
	if (r < 0)
		return -1;
	ldap_parse_result(w, res, &err, NULL, NULL, NULL, NULL, 1);
	if (err != LDAP_SUCCESS) {
		fprintf(stderr, "fleetprop: revoke refused: %s\n",
		    ldap_err2string(err));
		return -1;
	}
	return 1;
}

/* ---- ldap mode: simulated consumers */

static int
consumer_start(struct conn *c)
{
	LDAPControl ctrl = { 0 }, *ctrls[2] = { &ctrl, NULL };
	char sbase[300], *attrs[] = { "patId", "patRevoked", NULL };
	BerElement *ber;
	int rc;

	if ((c->ld = ldap_open_bound()) == NULL)
		return -1;
	ber = ber_alloc_t(LBER_USE_DER);
	ber_printf(ber, "{eb}", LDAP_SYNC_REFRESH_AND_PERSIST, 0);
	ber_flatten2(ber, &ctrl.ldctl_value, 0);
	ctrl.ldctl_oid = LDAP_CONTROL_SYNC;
	ctrl.ldctl_iscritical = 1;
	snprintf(sbase, sizeof(sbase), "ou=tokens,%s", base);
	rc = ldap_search_ext(c->ld, sbase, LDAP_SCOPE_ONELEVEL,
	    "(objectClass=patToken)", attrs, 0, ctrls, NULL, NULL, 0,
	    &c->msgid);
	ber_free(ber, 1);
	if (rc != LDAP_SUCCESS) {
		fprintf(stderr, "fleetprop: sync search: %s\n",
		    ldap_err2string(rc));
		return -1;
	}
	ldap_get_option(c->ld, LDAP_OPT_DESC, &c->fd);
	return 0;
}

/* The entry is the modify of the target with patRevoked in it. */
static bool
is_target_revoked(LDAP *ld, LDAPMessage *e)
{
	struct berval **id, **rv;
	bool yes;

	if (target == NULL)
		return false;
	id = ldap_get_values_len(ld, e, "patId");
	rv = ldap_get_values_len(ld, e, "patRevoked");
	yes = id && id[0] && rv && rv[0] && id[0]->bv_len == strlen(target) &&
	    memcmp(id[0]->bv_val, target, id[0]->bv_len) == 0;
	ldap_value_free_len(id);
	ldap_value_free_len(rv);
	return yes;
}

/* One message of consumer c; -1 when its search failed. */
static int
consumer_message(struct conn *c, LDAPMessage *m)
{
	struct berval *data = NULL;
	char *oid = NULL;
	BerElement *ber;
	ber_len_t len;
	ber_tag_t tag;
	int rd, err = 0;

	switch (ldap_msgtype(m)) {
	case LDAP_RES_SEARCH_ENTRY:
		if (c->refreshed && !c->seen && is_target_revoked(c->ld, m)) {
			double t = now_ms();

			c->seen = true;
			if (nseen++ == 0)
				t_first = t;
			t_last = t;
		}
		return 0;
	case LDAP_RES_INTERMEDIATE:
		if (ldap_parse_intermediate(c->ld, m, &oid, &data, NULL, 0) ||
		    oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0 ||
		    data == NULL) {
			ldap_memfree(oid);
			ber_bvfree(data);
			return 0;
		}
		ber = ber_init(data);
		tag = ber_peek_tag(ber, &len);
		if (tag == LDAP_TAG_SYNC_REFRESH_DELETE ||
		    tag == LDAP_TAG_SYNC_REFRESH_PRESENT) {
			rd = 1;
			ber_scanf(ber, "{");
			if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE)
				ber_scanf(ber, "x");
			if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDONE)
				ber_scanf(ber, "b", &rd);
			if (rd)
				c->refreshed = true;
		}
		ber_free(ber, 1);
		ldap_memfree(oid);
		ber_bvfree(data);
		return 0;
	case LDAP_RES_SEARCH_RESULT:
		ldap_parse_result(c->ld, m, &err, NULL, NULL, NULL, NULL, 0);
		fprintf(stderr, "fleetprop: a consumer's search ended: %s\n",
		    ldap_err2string(err));
		return -1;
	}
	return 0;
}

/* Read what has come, waiting up to ms for something. */
static int
consumers_pump(struct pollfd *pf, int ms)
{
	struct timeval zero = { 0, 0 };
	LDAPMessage *m;
	int i, r;

	if (poll(pf, (nfds_t)N, ms) < 0 && errno != EINTR)
		return -1;
	for (i = 0; i < N; i++) {
		if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		while ((r = ldap_result(C[i].ld, C[i].msgid, LDAP_MSG_ONE,
		    &zero, &m)) > 0) {
			r = consumer_message(&C[i], m);
			ldap_msgfree(m);
			if (r < 0)
				return -1;
		}
		if (r < 0) {
			fprintf(stderr, "fleetprop: consumer %d lost its "
			    "connection\n", i);
			return -1;
		}
	}
	return 0;
}

/* ---- patd mode */

static int
dial(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "fleetprop: %s: %s\n", path, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int
ask(struct conn *c, const char *line)
{
	size_t n = strlen(line);

	return send(c->fd, line, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* The answer's first line into c->buf; -1 when none came. */
static int
answer(struct conn *c)
{
	size_t got = 0;
	ssize_t k;

	while (got + 1 < sizeof(c->buf)) {
		if ((k = recv(c->fd, c->buf + got, sizeof(c->buf) - 1 - got,
		    0)) <= 0)
			return -1;
		got += (size_t)k;
		c->buf[got] = '\0';
		if (strchr(c->buf, '\n') != NULL)
			return 0;
	}
	return -1;
}

/* Every patd verifies every token to be revoked: they have them all. */
static int
patds_ready(void)
{
	double t0 = now_ms();
	int i, k;

	for (k = 0; k < ntoks; k++)
		for (i = 0; i < N; i++)
			for (;;) {
				if (ask(&C[i], toks[k].text) < 0 ||
				    answer(&C[i]) < 0)
					return -1;
				if (strncmp(C[i].buf, "OK", 2) == 0)
					break;
				if (now_ms() - t0 > 60000) {
					fprintf(stderr, "fleetprop: patd %d "
					    "never verified token %s: %s", i,
					    toks[k].id, C[i].buf);
					return -1;
				}
				usleep(10000);
			}
	return 0;
}

/* One round: a VERIFY to each patd that does not refuse yet, then the
 * answers. */
static int
patds_round(const char *line)
{
	double t0 = now_ms();
	int i;

	rounds++;
	for (i = 0; i < N; i++)
		if (!C[i].seen && ask(&C[i], line) < 0)
			return -1;
	for (i = 0; i < N; i++) {
		if (C[i].seen)
			continue;
		if (answer(&C[i]) < 0) {
			fprintf(stderr, "fleetprop: patd %d did not answer\n",
			    i);
			return -1;
		}
		if (strncmp(C[i].buf, "OK", 2) == 0)
			continue;
		if (strstr(C[i].buf, "revoked") == NULL) {
			fprintf(stderr, "fleetprop: patd %d refused for "
			    "another reason: %s", i, C[i].buf);
			return -1;
		}
		C[i].seen = true;
		t_last = now_ms();
		if (nseen++ == 0)
			t_first = t_last;
	}
	round_ms += now_ms() - t0;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: fleetprop -H URI -D BINDDN -y PWFILE -b BASE "
	    "-t TOKFILE -r REVS [-p PAUSE_US] (-n N | SOCK...)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static double last[MAX_REVS], first[MAX_REVS], wr[MAX_REVS];
	const char *pwfile = NULL, *tokfile = NULL;
	struct pollfd *pf = NULL;
	int o, i, k, revs = 0, sim = 0, pause_us = 1000, nok = 0, lost = 0;
	double t0, ready_ms;
	LDAP *w;

	while ((o = getopt(argc, argv, "H:D:y:b:t:r:p:n:")) != -1) {
		switch (o) {
		case 'H': uri = optarg; break;
		case 'D': binddn = optarg; break;
		case 'y': pwfile = optarg; break;
		case 'b': base = optarg; break;
		case 't': tokfile = optarg; break;
		case 'r': revs = atoi(optarg); break;
		case 'p': pause_us = atoi(optarg); break;
		case 'n': sim = atoi(optarg); break;
		default: usage();
		}
	}
	if (!uri || !binddn || !pwfile || !base || !tokfile || revs < 1 ||
	    revs > MAX_REVS || pause_us < 0 || (sim > 0) == (optind < argc))
		usage();
	if (read_password(pwfile) < 0 || read_tokens(tokfile, revs) < revs) {
		fprintf(stderr, "fleetprop: %s or %s: missing or too few "
		    "tokens\n", pwfile, tokfile);
		return 1;
	}
	N = sim > 0 ? sim : argc - optind;
	if ((C = calloc((size_t)N, sizeof(*C))) == NULL ||
	    (pf = calloc((size_t)N, sizeof(*pf))) == NULL)
		return 1;
	t0 = now_ms();
	for (i = 0; i < N; i++) {
		if (sim > 0 ? consumer_start(&C[i]) < 0 :
		    (C[i].fd = dial(argv[optind + i])) < 0) {
			fprintf(stderr, "fleetprop: consumer %d of %d did not "
			    "start\n", i, N);
			return 1;
		}
		pf[i].fd = C[i].fd;
		pf[i].events = POLLIN;
	}
	if (sim > 0) {
		for (;;) {
			for (k = 0, i = 0; i < N; i++)
				k += C[i].refreshed;
			if (k == N)
				break;
			if (now_ms() - t0 > 120000) {
				fprintf(stderr, "fleetprop: %d of %d "
				    "consumers refreshed in 120 s\n", k, N);
				return 1;
			}
			if (consumers_pump(pf, 100) < 0)
				return 1;
		}
	} else if (patds_ready() < 0)
		return 1;
	ready_ms = now_ms() - t0;
	if ((w = ldap_open_bound()) == NULL)
		return 1;
	for (k = 0; k < revs; k++) {
		double ts, wdone = -1;
		int msgid, wr_state = 0;

		for (i = 0; i < N; i++)
			C[i].seen = false;
		nseen = 0;
		target = toks[k].id;
		ts = now_ms();
		if ((msgid = send_revoke(w, target)) < 0)
			return 1;
		while (nseen < N && now_ms() - ts < WAIT_MS) {
			if (sim > 0 ? consumers_pump(pf, 20) < 0 :
			    patds_round(toks[k].text) < 0)
				return 1;
			if (wr_state == 0) {
				if ((wr_state = write_done(w, msgid, false)) < 0)
					return 1;
				if (wr_state == 1)
					wdone = now_ms() - ts;
			}
			if (sim == 0 && nseen < N && pause_us > 0)
				usleep((useconds_t)pause_us);
		}
		if (wr_state == 0) {
			if (write_done(w, msgid, true) < 0)
				return 1;
			wdone = now_ms() - ts;
		}
		target = NULL;
		if (nseen < N) {
			fprintf(stderr, "fleetprop: revocation of %s reached "
			    "%d of %d consumers in %.0f ms\n", toks[k].id,
			    nseen, N, WAIT_MS);
			lost++;
		} else {
			first[nok] = t_first - ts;
			last[nok] = t_last - ts;
			wr[nok] = wdone;
			fprintf(stderr, "rev id=%s write_ms=%.2f first_ms=%.2f "
			    "last_ms=%.2f\n", toks[k].id, wr[nok], first[nok],
			    last[nok]);
			nok++;
		}
		/* a quiet gap (the consumers' own reads still served) */
		for (ts = now_ms(); now_ms() - ts < GAP_MS;) {
			if (sim == 0)
				usleep(20000);
			else if (consumers_pump(pf, 20) < 0)
				return 1;
		}
	}
	qsort(last, (size_t)nok, sizeof(double), cmp_d);
	qsort(first, (size_t)nok, sizeof(double), cmp_d);
	qsort(wr, (size_t)nok, sizeof(double), cmp_d);
	printf("n=%d revs=%d ready_ms=%.0f p50_ms=%.1f p99_ms=%.1f "
	    "max_ms=%.1f first_p50_ms=%.1f write_p50_ms=%.1f lost=%d "
	    "round_ms=%.2f\n", N, revs, ready_ms, pct(last, nok, 0.50),
	    pct(last, nok, 0.99), nok ? last[nok - 1] : -1.0,
	    pct(first, nok, 0.50), pct(wr, nok, 0.50), lost,
	    rounds ? round_ms / rounds : 0.0);
	for (i = 0; i < N; i++) {
		if (C[i].ld != NULL)
			ldap_unbind_ext(C[i].ld, NULL, NULL);
		else
			close(C[i].fd);
	}
	ldap_unbind_ext(w, NULL, NULL);
	return 0;
}
