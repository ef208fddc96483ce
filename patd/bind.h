/*
 * bind.h - a token's binding (issue 14): where from and by which service
 * it may be verified.
 *
 * Stored with the token as canonical text: from is comma-joined networks
 * ("10.0.0.0/8,2001:db8::/32"), service comma-joined names ("sshd,
 * http:api.example.org"); "" is no binding.  Set at CREATE, never widened:
 * a child inherits its parent's, and may only narrow it.
 */
#ifndef PATD_BIND_H
#define PATD_BIND_H

#include <stdbool.h>
#include <stddef.h>

#define BIND_FROM_N	8	/* networks in one binding */
#define BIND_SERVICE_N	8	/* service names in one binding */
#define BIND_FROM_MAX	(BIND_FROM_N * 44)	/* "ffff:…:ffff/128," each */
#define BIND_SERVICE_MAX (BIND_SERVICE_N * 65)

/*
 * Read a CREATE's bind_from= list into its canonical text (out, n ≥
 * BIND_FROM_MAX + 1).  An address without "/bits" is one host.  0, or
 * -EINVAL with why (n ≥ 128) in words: not a network, host bits set (a
 * typo: 10.1.2.3/8 most likely meant 10.0.0.0/8 or 10.1.2.3), too many,
 * IPv4-mapped IPv6 (write it as IPv4).
 */
int	bind_from_parse(const char *list, char *out, size_t n, char *why,
	    size_t nwhy);
/* The same for bind_service=: names of printable ASCII other than ','. */
int	bind_service_parse(const char *list, char *out, size_t n, char *why,
	    size_t nwhy);

/* Whether every network of inner (canonical) lies within one of outer's;
 * into *bad the first that does not. */
bool	bind_from_within(const char *inner, const char *outer, char *bad,
	    size_t nbad);
/* Whether every name of inner is one of outer's. */
bool	bind_service_within(const char *inner, const char *outer, char *bad,
	    size_t nbad);

/* Whether a verification may go on: from "" or rhost an address inside
 * one of its networks (rhost NULL or a host name: no); service "" or svc
 * one of its names. */
bool	bind_from_allows(const char *from, const char *rhost);
bool	bind_service_allows(const char *service, const char *svc);

#endif
