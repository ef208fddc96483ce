/*
 * rhost.h - whom a client address stands for, as a rate-limit key.
 *
 * A verifier (a web gate, sshd through pam_pat) serves many clients; with
 * rhost= it says which one is asking, and that client's failures count
 * against its address.  Addresses aggregate as OpenSSH's
 * PerSourceNetBlockSize does: an IPv4 address is itself (/32); an IPv6
 * address counts by its network of `prefix6` bits (64 by default: one
 * subscriber gets a /64 for nothing, so its addresses are one client); an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as the IPv4 address.
 * Brackets ("[2001:db8::1]", "[…]:port"), a zone ("fe80::1%eth0") and an
 * IPv4 ":port" are dropped first.  Anything else (a host name from
 * PAM_RHOST) counts as the exact string.
 */
#ifndef PATD_RHOST_H
#define PATD_RHOST_H

#include <stddef.h>

/*
 * The key for rhost in out (n ≥ RL_KEY_MAX): "rhost:203.0.113.5",
 * "rhost:2001:db8:0:0/64", or "rhost:name:<rhost>" (a name too long for the
 * key is cut and ends in a hash of the whole, so two names never share
 * a key by their first bytes alone).  prefix6 is 1..128.
 */
void	rhost_key(char *out, size_t n, const char *rhost, unsigned prefix6);

/*
 * The address rhost names, read as rhost_key reads it (brackets, port and
 * zone dropped; IPv4-mapped IPv6 as IPv4): AF_INET with 4 bytes in addr,
 * AF_INET6 with 16, or 0 when rhost is no address (a host name).
 */
int	rhost_addr(const char *rhost, unsigned char addr[16]);

#endif
