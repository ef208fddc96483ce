/* bind.c - a token's binding: networks and service names; see bind.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "rhost.h"

struct net {
	int		af;
	unsigned char	a[16];
	unsigned	bits;
};

/* One network of canonical or user text; 0, or -EINVAL with why. */
static int
net_parse(const char *s, size_t len, struct net *nt, char *why, size_t nwhy)
{
	char buf[64], *slash;
	unsigned long bits;
	unsigned i, max;
	char *end;

	if (len == 0 || len >= sizeof(buf)) {
		snprintf(why, nwhy, "an empty or overlong network in the list");
		return -EINVAL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	memset(nt, 0, sizeof(*nt));
	if (inet_pton(AF_INET, buf, nt->a) == 1) {
		nt->af = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, nt->a) == 1) {
		nt->af = AF_INET6;
		max = 128;
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)nt->a)) {
			snprintf(why, nwhy, "%.48s is IPv4-mapped IPv6: write "
			    "it as IPv4 (it is matched as IPv4)", buf);
			return -EINVAL;
		}
	} else {
		snprintf(why, nwhy, "%.48s is not an IPv4 or IPv6 address",
		    buf);
		return -EINVAL;
	}
	bits = max;
	if (slash != NULL && (slash[1] < '0' || slash[1] > '9' ||
	    (bits = strtoul(slash + 1, &end, 10)) > max || *end != '\0' ||
	    end - (slash + 1) > 3)) {
		snprintf(why, nwhy, "%.48s: the prefix length after / must be "
		    "0 to %u", buf, max);
		return -EINVAL;
	}
	nt->bits = (unsigned)bits;
	for (i = nt->bits; i < max; i++)
		if (nt->a[i / 8] & (0x80u >> (i % 8))) {
			snprintf(why, nwhy, "%.48s/%u has host bits set (a "
			    "typo?): write the network's first address, or "
			    "the address alone for one host", buf, nt->bits);
			return -EINVAL;
		}
	return 0;
}

/* Whether the first bits of a and b agree. */
static bool
prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	return rest == 0 ||
	    ((a[full] ^ b[full]) & (unsigned char)(0xff00u >> rest)) == 0;
}

static bool
net_within(const struct net *in, const struct net *out)
{
	return in->af == out->af && in->bits >= out->bits &&
	    prefix_eq(in->a, out->a, out->bits);
}

/* Next comma-separated item of *p: its start and length; false at end. */
static bool
next_item(const char **p, const char **item, size_t *len)
{
	const char *c;

	if (**p == '\0')
		return false;
	*item = *p;
	c = strchr(*p, ',');
	*len = c != NULL ? (size_t)(c - *p) : strlen(*p);
	*p = c != NULL ? c + 1 : *p + *len;
	return true;
}

int
bind_from_parse(const char *list, char *out, size_t n, char *why, size_t nwhy)
{
	char txt[INET6_ADDRSTRLEN];
	const char *p = list, *it;
	struct net nt;
	size_t len, used = 0, count = 0;
	int w;

	out[0] = '\0';
	while (next_item(&p, &it, &len)) {
		if (net_parse(it, len, &nt, why, nwhy) < 0)
			return -EINVAL;
		if (++count > BIND_FROM_N) {
			snprintf(why, nwhy, "at most %d networks", BIND_FROM_N);
			return -EINVAL;
		}
		inet_ntop(nt.af, nt.a, txt, sizeof(txt));
		w = snprintf(out + used, n - used, "%s%s/%u", used ? "," : "",
		    txt, nt.bits);
		if (w < 0 || (size_t)w >= n - used)
			return -EINVAL;
		used += (size_t)w;
	}
	if (count == 0 || list[strlen(list) - 1] == ',') {
		snprintf(why, nwhy, "an empty network in the list");
		return -EINVAL;
	}
	return 0;
}

int
bind_service_parse(const char *list, char *out, size_t n, char *why,
    size_t nwhy)
{
	const char *p = list, *it;
	size_t len, i, count = 0, total = strlen(list);

	out[0] = '\0';
	while (next_item(&p, &it, &len)) {
		if (len == 0 || len > 64) {
			snprintf(why, nwhy, "a service name must be 1 to 64 "
			    "characters");
			return -EINVAL;
		}
		for (i = 0; i < len; i++)
			if (it[i] < 0x21 || it[i] > 0x7e) {
				snprintf(why, nwhy, "a service name is "
				    "printable ASCII without spaces");
				return -EINVAL;
			}
		if (++count > BIND_SERVICE_N) {
			snprintf(why, nwhy, "at most %d service names",
			    BIND_SERVICE_N);
			return -EINVAL;
		}
	}
	if (count == 0 || list[total - 1] == ',' || total >= n) {
		snprintf(why, nwhy, "an empty service name in the list");
		return -EINVAL;
	}
	memcpy(out, list, total + 1);
	return 0;
}

bool
bind_from_within(const char *inner, const char *outer, char *bad, size_t nbad)
{
	const char *p = inner, *q, *it, *ot;
	struct net a, b;
	size_t len, olen;
	char why[8];
	bool in;

	if (outer[0] == '\0')
		return true;
	while (next_item(&p, &it, &len)) {
		if (net_parse(it, len, &a, why, sizeof(why)) < 0)
			return false;
		for (in = false, q = outer; !in && next_item(&q, &ot, &olen);)
			in = net_parse(ot, olen, &b, why, sizeof(why)) == 0 &&
			    net_within(&a, &b);
		if (!in) {
			snprintf(bad, nbad, "%.*s", (int)len, it);
			return false;
		}
	}
	return true;
}

/* Whether name (len bytes) is one of list's. */
static bool
has_name(const char *list, const char *name, size_t len)
{
	const char *p = list, *it;
	size_t l;

	while (next_item(&p, &it, &l))
		if (l == len && memcmp(it, name, len) == 0)
			return true;
	return false;
}

bool
bind_service_within(const char *inner, const char *outer, char *bad,
    size_t nbad)
{
	const char *p = inner, *it;
	size_t len;

	if (outer[0] == '\0')
		return true;
	while (next_item(&p, &it, &len))
		if (!has_name(outer, it, len)) {
			snprintf(bad, nbad, "%.*s", (int)len, it);
			return false;
		}
	return true;
}

bool
bind_from_allows(const char *from, const char *rhost)
{
	const char *p = from, *it;
	struct net a, b;
	size_t len;
	char why[8];

	if (from[0] == '\0')
		return true;
	if (rhost == NULL)
		return false;	/* bound to addresses, none known: fail closed */
	memset(&a, 0, sizeof(a));
	if ((a.af = rhost_addr(rhost, a.a)) == 0)
		return false;	/* a host name proves nothing */
	a.bits = a.af == AF_INET ? 32 : 128;
	while (next_item(&p, &it, &len))
		if (net_parse(it, len, &b, why, sizeof(why)) == 0 &&
		    net_within(&a, &b))
			return true;
	return false;
}

bool
bind_service_allows(const char *service, const char *svc)
{
	if (service[0] == '\0')
		return true;
	return svc != NULL && has_name(service, svc, strlen(svc));
}
