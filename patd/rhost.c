/* rhost.c - a client address as a rate-limit key; see rhost.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"
#include "rhost.h"
#include "store.h"

/* Append src to out (length *len, size n), cut to fit. */
static void
add(char *out, size_t n, size_t *len, const char *src)
{
	size_t m = strlen(src);

	if (*len + m >= n)
		m = n - *len - 1;
	memcpy(out + *len, src, m);
	*len += m;
	out[*len] = '\0';
}

static bool
digits(const char *s, size_t max)
{
	size_t m = strspn(s, "0123456789");

	return m > 0 && m <= max && s[m] == '\0';
}

/*
 * The address inside s (rewritten in place): brackets and a port after
 * them, an IPv6 zone, an IPv4 ":port".  AF_INET / AF_INET6 with the
 * address in a4 / a6, or 0 when s is no address.
 */
static int
parse(char *s, struct in_addr *a4, struct in6_addr *a6)
{
	char *e;

	if (s[0] == '[') {
		if ((e = strchr(s, ']')) == NULL ||
		    (e[1] != '\0' && (e[1] != ':' || !digits(e + 2, 5))))
			return 0;
		*e = '\0';
		memmove(s, s + 1, (size_t)(e - s));
	}
	if (inet_pton(AF_INET, s, a4) == 1)
		return AF_INET;
	if ((e = strchr(s, ':')) != NULL && strchr(e + 1, ':') == NULL &&
	    digits(e + 1, 5)) {
		*e = '\0';
		return inet_pton(AF_INET, s, a4) == 1 ? AF_INET : 0;
	}
	if ((e = strchr(s, '%')) != NULL)
		*e = '\0';
	if (e == s || inet_pton(AF_INET6, s, a6) != 1)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(a6)) {
		memcpy(&a4->s_addr, &a6->s6_addr[12], 4);
		return AF_INET;
	}
	return AF_INET6;
}

/* Decimal of v (< 1000) into p; returns the end. */
static char *
dec(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/*
 * The text of an address's key, by hand: inet_ntop cost more than the
 * rest of a verification's rate-limit work.  IPv4 dotted; IPv6 as the
 * hex groups the prefix touches, uncompressed, then "/prefix"
 * ("2001:db8:0:0/64").  A key is matched, never shown or parsed.
 */
static void
addr_text(char *out, int af, const unsigned char *b, unsigned prefix6)
{
	static const char hex[] = "0123456789abcdef";
	unsigned g, v, groups = (prefix6 + 15) / 16;
	char *p = out;
	bool lead;
	int sh;

	if (af == AF_INET) {
		for (g = 0; g < 4; g++) {
			p = dec(p, b[g]);
			*p++ = g < 3 ? '.' : '\0';
		}
		return;
	}
	for (g = 0; g < groups; g++) {
		v = (unsigned)b[2 * g] << 8 | b[2 * g + 1];
		for (sh = 12, lead = true; sh >= 0; sh -= 4) {
			if (lead && sh > 0 && ((v >> sh) & 15) == 0)
				continue;
			lead = false;
			*p++ = hex[(v >> sh) & 15];
		}
		*p++ = g + 1 < groups ? ':' : '/';
	}
	p = dec(p, prefix6);
	*p = '\0';
}

int
rhost_addr(const char *rhost, unsigned char addr[16])
{
	char s[STORE_RHOST_MAX + 1];
	struct in_addr a4;
	struct in6_addr a6;
	size_t rlen = strlen(rhost);
	int af;

	if (rlen >= sizeof(s))
		return 0;
	memcpy(s, rhost, rlen + 1);
	if ((af = parse(s, &a4, &a6)) == AF_INET)
		memcpy(addr, &a4.s_addr, 4);
	else if (af == AF_INET6)
		memcpy(addr, a6.s6_addr, 16);
	return af;
}

void
rhost_key(char *out, size_t n, const char *rhost, unsigned prefix6)
{
	char s[STORE_RHOST_MAX + 1], txt[64];
	unsigned char h[8];
	struct in_addr a4;
	struct in6_addr a6;
	size_t len = 0, i, keep, rlen = strlen(rhost);
	int af = 0;

	out[0] = '\0';
	add(out, n, &len, "rhost:");
	if (rlen < sizeof(s)) {
		memcpy(s, rhost, rlen + 1);
		af = parse(s, &a4, &a6);
	}
	if (af == AF_INET) {
		addr_text(txt, AF_INET, (const unsigned char *)&a4.s_addr, 32);
		add(out, n, &len, txt);
		return;
	}
	if (af == AF_INET6) {
		if (prefix6 < 1 || prefix6 > 128)
			prefix6 = 64;
		for (i = prefix6; i < 128; i = (i | 7) + 1)
			a6.s6_addr[i / 8] &= (unsigned char)~(0xffu >> (i % 8));
		addr_text(txt, AF_INET6, a6.s6_addr, prefix6);
		add(out, n, &len, txt);
		return;
	}
	add(out, n, &len, "name:");
	/* a name that fits leaves the key short of full, so it never
	 * equals a cut-and-hashed one, which fills the key exactly */
	if (len + rlen < n - 1 || n < len + 2 + 2 * sizeof(h) + 8) {
		add(out, n, &len, rhost);
		return;
	}
	/* too long: a cut, '#', then a hash of the whole; n - 1 bytes */
	keep = n - len - 1 - 1 - 2 * sizeof(h);
	memcpy(out + len, rhost, keep);
	len += keep;
	out[len++] = '#';
	crypto_generichash(h, sizeof(h), (const unsigned char *)rhost, rlen,
	    NULL, 0);
	for (i = 0; i < sizeof(h); i++) {
		out[len++] = "0123456789abcdef"[h[i] >> 4];
		out[len++] = "0123456789abcdef"[h[i] & 15];
	}
	out[len] = '\0';
}
