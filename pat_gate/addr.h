/*
 * addr.h - the client's address, for patd's rhost=.
 *
 * Pure functions: no MHD, no I/O.  The peer of a connection is trusted
 * when it came over a Unix socket (only what may open the gate's socket
 * file, the local proxy, can be there) or its IP address lies in
 * trusted_proxies.  Only a trusted peer's forwarding headers count:
 *
 *   1. X-Real-IP, when it is exactly one valid IP address;
 *   2. else X-Forwarded-For, read from the right: entries that are
 *      themselves trusted proxies are skipped, the first other one is the
 *      client; an entry that is not an IP address ends the walk (what lies
 *      left of it came from the client and proves nothing), and the peer's
 *      own address is used instead;
 *   3. else the peer's address (none for a Unix-socket peer: http.c
 *      then names it "unix:", never no one).
 *
 * An untrusted peer's headers are ignored: its address is the answer.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, a dual-stack listener) are
 * read as IPv4, for matching and for the result.  The result is what
 * inet_ntop prints: printable ASCII without space, well under 128 bytes.
 */
#ifndef PAT_GATE_ADDR_H
#define PAT_GATE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define GATE_CIDRS_MAX		64
#define GATE_RHOST_SIZE		64	/* INET6_ADDRSTRLEN and a margin */
#define GATE_XFF_MAX		16	/* X-Forwarded-For headers read */
#define GATE_XFF_ENTRIES	32	/* entries walked, from the right */

struct gate_cidr {
	int	family;		/* AF_INET or AF_INET6 */
	uint8_t	addr[16];	/* network order; IPv4 in the first 4 */
	unsigned bits;
};

struct gate_cidrs {
	size_t	n;
	struct gate_cidr v[GATE_CIDRS_MAX];
};

/*
 * Parse a comma-separated list ("127.0.0.1/32, ::1, 10.0.0.0/8"; a bare
 * address is a /32 or /128) into *out.  Host bits set below the prefix
 * are refused (a typo, most likely).  Returns 0, -EINVAL (bad entry),
 * -E2BIG (more than GATE_CIDRS_MAX); *out is untouched on error.
 */
int	gate_cidrs_parse(const char *list, struct gate_cidrs *out);
/* Is the address (AF_INET: 4 bytes, AF_INET6: 16) in one of them? */
bool	gate_cidrs_match(const struct gate_cidrs *c, int family,
	    const uint8_t *addr);

struct gate_peer {
	int	family;		/* AF_UNIX, AF_INET, AF_INET6 (mapped
				 * IPv4 already turned into AF_INET) */
	uint8_t	addr[16];
};

/* From a connection's sockaddr (NULL or an unknown family: AF_UNSPEC). */
void	gate_peer_from_sockaddr(const struct sockaddr *sa,
	    struct gate_peer *out);

/*
 * The client's address into out (GATE_RHOST_SIZE bytes; "" when there is
 * none to give: a Unix-socket peer with no usable header).  x_real_ip may
 * be NULL; xff holds nxff X-Forwarded-For header values in the order they
 * came (each may list several entries).  Returns true when the peer was
 * trusted.
 */
bool	gate_client_addr(const struct gate_peer *peer,
	    const struct gate_cidrs *trusted, const char *x_real_ip,
	    const char *const *xff, size_t nxff, char out[GATE_RHOST_SIZE]);

#endif
