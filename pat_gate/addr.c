/* addr.c - the client's address from the peer and trusted forwarding headers; see addr.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* One IP address of exactly n bytes (no port, no zone, no spaces). */
static bool
parse_ip(const char *s, size_t n, int *family, uint8_t addr[16])
{
	char buf[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return false;
	*family = AF_INET6;
	if (memcmp(addr, v4mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return true;
}

static bool
in_cidr(const struct gate_cidr *c, int family, const uint8_t *a)
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (c->family != family)
		return false;
	if (memcmp(c->addr, a, full) != 0)
		return false;
	return rest == 0 || ((c->addr[full] ^ a[full]) &
	    (uint8_t)(0xff << (8 - rest))) == 0;
}

bool
gate_cidrs_match(const struct gate_cidrs *c, int family, const uint8_t *addr)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (in_cidr(&c->v[i], family, addr))
			return true;
	return false;
}

static int
parse_cidr(const char *s, size_t n, struct gate_cidr *out)
{
	const char *slash = memchr(s, '/', n);
	unsigned long bits;
	unsigned max, i;
	char num[4], *end;
	size_t alen = slash ? (size_t)(slash - s) : n, k;

	memset(out, 0, sizeof(*out));
	if (!parse_ip(s, alen, &out->family, out->addr))
		return -EINVAL;
	max = out->family == AF_INET ? 32 : 128;
	bits = max;
	if (slash != NULL) {
		k = n - alen - 1;
		if (k == 0 || k >= sizeof(num) || slash[1] < '0' ||
		    slash[1] > '9')
			return -EINVAL;
		memcpy(num, slash + 1, k);
		num[k] = '\0';
		bits = strtoul(num, &end, 10);
		if (*end != '\0' || bits > max || (k > 1 && num[0] == '0'))
			return -EINVAL;
	}
	out->bits = (unsigned)bits;
	/* no host bits below the prefix: 10.0.0.1/8 is a typo */
	for (i = out->bits; i < max; i++)
		if (out->addr[i / 8] & (0x80 >> (i % 8)))
			return -EINVAL;
	return 0;
}

int
gate_cidrs_parse(const char *list, struct gate_cidrs *out)
{
	struct gate_cidrs *c = calloc(1, sizeof(*c));
	const char *p = list, *e;
	size_t n;
	int r = 0;

	if (c == NULL)
		return -ENOMEM;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (c->n >= GATE_CIDRS_MAX) {
			r = -E2BIG;
			goto out;
		}
		if ((r = parse_cidr(p, n, &c->v[c->n])) < 0)
			goto out;
		c->n++;
		if (*e == '\0')
			break;
		p = e + 1;
		if (*p == '\0') {	/* a trailing comma */
			r = -EINVAL;
			goto out;
		}
	}
	*out = *c;
out:
	free(c);
	return r;
}

void
gate_peer_from_sockaddr(const struct sockaddr *sa, struct gate_peer *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_UNSPEC;
	if (sa == NULL)
		return;
	switch (sa->sa_family) {
	case AF_UNIX:
		out->family = AF_UNIX;
		break;
	case AF_INET:
		out->family = AF_INET;
		memcpy(out->addr, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
		break;
	case AF_INET6:
		out->family = AF_INET6;
		memcpy(out->addr, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 16);
		if (memcmp(out->addr, v4mapped, 12) == 0) {
			memmove(out->addr, out->addr + 12, 4);
			memset(out->addr + 4, 0, 12);
			out->family = AF_INET;
		}
		break;
	}
}

static void
print_ip(int family, const uint8_t *a, char out[GATE_RHOST_SIZE])
{
	if (inet_ntop(family, a, out, GATE_RHOST_SIZE) == NULL)
		out[0] = '\0';
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The rightmost X-Forwarded-For entry that is not a trusted proxy.
 * 1: found (in family/addr); 0: no usable answer (fall back to the peer).
 */
static int
walk_xff(const struct gate_cidrs *trusted, const char *const *xff,
    size_t nxff, int *family, uint8_t addr[16])
{
	const char *s, *p, *q, *e;
	size_t h, walked = 0, n;
	uint8_t a[16];
	int fam, found = 0;

	for (h = nxff; h-- > 0;) {
		s = xff[h];
		p = s + strlen(s);	/* the end of the current entry */
		for (;;) {
			for (q = p; q > s && q[-1] != ','; q--)
				;
			for (e = q; e < p && is_ows(*e); e++)
				;
			for (n = (size_t)(p - e); n > 0 && is_ows(e[n - 1]); n--)
				;
			if (++walked > GATE_XFF_ENTRIES || !parse_ip(e, n, &fam, a))
				return 0;
			/* remember it: should every hop be a trusted proxy,
			 * the leftmost is still a genuine address */
			*family = fam;
			memcpy(addr, a, 16);
			found = 1;
			if (!gate_cidrs_match(trusted, fam, a))
				return 1;
			if (q == s)
				break;
			p = q - 1;	/* the ',' */
		}
	}
	return found;
}

bool
gate_client_addr(const struct gate_peer *peer,
    const struct gate_cidrs *trusted, const char *x_real_ip,
    const char *const *xff, size_t nxff, char out[GATE_RHOST_SIZE])
{
	uint8_t a[16];
	bool ok;
	int fam;

	out[0] = '\0';
	ok = peer->family == AF_UNIX || ((peer->family == AF_INET ||
	    peer->family == AF_INET6) && gate_cidrs_match(trusted,
	    peer->family, peer->addr));
	if (ok && x_real_ip != NULL) {
		const char *s = x_real_ip;
		size_t n = strlen(s);

		while (n > 0 && is_ows(*s)) {
			s++;
			n--;
		}
		while (n > 0 && is_ows(s[n - 1]))
			n--;
		if (parse_ip(s, n, &fam, a)) {
			print_ip(fam, a, out);
			return ok;
		}
	}
	if (ok && nxff > 0 && walk_xff(trusted, xff, nxff, &fam, a) == 1) {
		print_ip(fam, a, out);
		return ok;
	}
	if (peer->family == AF_INET || peer->family == AF_INET6)
		print_ip(peer->family, peer->addr, out);
	return ok;
}
