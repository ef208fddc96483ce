/*
 * fleetbox.h - what the fleet tests (test_fleet.c, test_fleet_tls.c) share:
 * the clock they time propagation with, the ldap tools run as root, STATUS
 * read and polled, and pat token entries built with patd's own hashing
 * under a state's token.key, as an issuer would add them.
 */
#ifndef PAT_TESTS_FLEETBOX_H
#define PAT_TESTS_FLEETBOX_H

#include <stdint.h>
#include <stdio.h>

#include "clock.h"	/* pat_monotonic_ms: the clock they time with */
#include "harness.h"
#include "token.h"

/* An ldap tool command line (a shell fragment), as root with /usr/sbin on
 * PATH and ldif (may be NULL) on stdin; its exit status, and a warning
 * with its output when not 0. */
int	fb_ldap(struct tpatd *t, const char *ldif, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The same without the warning, for polls whose early failures are
 * expected: a warning makes Criterion's exit status 1 however the test
 * ends. */
int	fb_ldap_try(struct tpatd *t, const char *ldif, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* VERIFY of tok for perm on h: the first answer line (malloc'd). */
char   *fb_verify(struct tpatd *h, const char *tok, const char *perm);
/* Poll VERIFY on h until its answer starts with want: the ms it took, or
 * -1 after limit_ms. */
long long fb_until(struct tpatd *h, const char *tok, const char *perm,
	    const char *want, long long limit_ms);
/* The value of field in h's STATUS answer (malloc'd); the test fails
 * when STATUS has no such field. */
char   *fb_status(struct tpatd *h, const char *field);
/* The same as a number. */
long	fb_status_num(struct tpatd *h, const char *field);
/* Poll STATUS on h until field is want: the ms it took, or -1 after
 * limit_ms. */
long long fb_until_status(struct tpatd *h, const char *field,
	    const char *want, long long limit_ms);
/* How often what occurs in h's log. */
int	fb_log_count(struct tpatd *h, const char *what);
/* Write to fp the LDIF of a token entry patId=id,ou=tokens,base of user
 * (role ops, cap pam.*) hashed under key; its secret into tok. */
void	fb_token_entry(FILE *fp, const uint8_t *key, const char *base,
	    uint64_t id, const char *user, char tok[PAT_TOKEN_BUFSZ]);

/* A token for id (its secret into tok) and its directory entry, added
 * by the ldap tool command line fmt (which reads the LDIF on stdin). */
void	fb_add_token(struct tpatd *t, const uint8_t *key, const char *base,
	    uint64_t id, const char *user, char tok[PAT_TOKEN_BUFSZ],
	    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* n token entries (ids first…first+n-1, alice's) in the file path, for one
 * ldapadd -f; toks (n × PAT_TOKEN_BUFSZ, may be NULL) gets their secrets. */
void	fb_tokens_file(const char *path, const uint8_t *key, const char *base,
	    uint64_t first, size_t n, char *toks);

#endif
