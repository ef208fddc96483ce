/* fleetbox.c - helpers the fleet tests share; see fleetbox.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <sodium.h>

#include "fleetbox.h"

static int
vldap(struct tpatd *t, bool quiet, const char *ldif, const char *fmt,
    va_list ap)
{
	char cmd[800], *out = NULL, *err = NULL;
	int rc;

	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	rc = t_sh(t, 0, ldif, &out, &err, "PATH=$PATH:/usr/sbin; %s", cmd);
	if (rc != 0 && !quiet)
		cr_log_warn("%s: exit %d: %s%s", cmd, rc, out ? out : "",
		    err ? err : "");
	free(out);
	free(err);
	return rc;
}

int
fb_ldap(struct tpatd *t, const char *ldif, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vldap(t, false, ldif, fmt, ap);
	va_end(ap);
	return rc;
}

int
fb_ldap_try(struct tpatd *t, const char *ldif, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vldap(t, true, ldif, fmt, ap);
	va_end(ap);
	return rc;
}

char *
fb_verify(struct tpatd *h, const char *tok, const char *perm)
{
	char req[200];

	snprintf(req, sizeof(req), "VERIFY token=%s perm=%s\n", tok, perm);
	return t_raw(h, req, 1);
}

long long
fb_until(struct tpatd *h, const char *tok, const char *perm,
    const char *want, long long limit_ms)
{
	long long t0 = pat_monotonic_ms(), now;
	char *r;

	for (;;) {
		r = fb_verify(h, tok, perm);
		now = pat_monotonic_ms();
		if (strncmp(r, want, strlen(want)) == 0) {
			free(r);
			return now - t0;
		}
		free(r);
		if (now - t0 > limit_ms)
			return -1;
		usleep(2000);
	}
}

char *
fb_status(struct tpatd *h, const char *field)
{
	char *r = t_raw(h, "STATUS\n", 1), *v = t_field(r, "OK", field);

	cr_assert_not_null(v, "STATUS has no %s=: %s", field, r);
	free(r);
	return v;
}

long
fb_status_num(struct tpatd *h, const char *field)
{
	char *v = fb_status(h, field);
	long n = atol(v);

	free(v);
	return n;
}

long long
fb_until_status(struct tpatd *h, const char *field, const char *want,
    long long limit_ms)
{
	long long t0 = pat_monotonic_ms();
	char *v;
	bool ok;

	for (;;) {
		v = fb_status(h, field);
		ok = strcmp(v, want) == 0;
		free(v);
		if (ok)
			return pat_monotonic_ms() - t0;
		if (pat_monotonic_ms() - t0 > limit_ms)
			return -1;
		usleep(5000);
	}
}

int
fb_log_count(struct tpatd *h, const char *what)
{
	char *log = t_slurp(h->log);
	const char *p;
	int n = 0;

	for (p = log; p != NULL && (p = strstr(p, what)) != NULL; p++)
		n++;
	free(log);
	return n;
}

void
fb_add_token(struct tpatd *t, const uint8_t *key, const char *base,
    uint64_t id, const char *user, char tok[PAT_TOKEN_BUFSZ],
    const char *fmt, ...)
{
	char *ldif = NULL, cmd[800];
	size_t len = 0;
	FILE *fp = open_memstream(&ldif, &len);
	va_list ap;

	cr_assert_not_null(fp);
	fb_token_entry(fp, key, base, id, user, tok);
	cr_assert_eq(fclose(fp), 0);
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(fb_ldap(t, ldif, "%s", cmd), 0);
	free(ldif);
}

void
fb_token_entry(FILE *fp, const uint8_t *key, const char *base, uint64_t id,
    const char *user, char tok[PAT_TOKEN_BUFSZ])
{
	uint8_t h[PAT_HASH_LEN];
	char b64[64];

	cr_assert_eq(pat_token_generate(id, tok), 0);
	pat_token_hash(key, tok, strlen(tok), h);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL);
	fprintf(fp, "dn: patId=%llu,ou=tokens,%s\nobjectClass: patToken\n"
	    "patId: %llu\npatHash:: %s\npatUid: 1001\npatUser: %s\n"
	    "patRoleName: ops\npatCap: pam.*\npatCreated: %lld\npatBy: root\n"
	    "patName: t%llu\n\n", (unsigned long long)id, base,
	    (unsigned long long)id, b64, user, (long long)time(NULL),
	    (unsigned long long)id);
}

void
fb_tokens_file(const char *path, const uint8_t *key, const char *base,
    uint64_t first, size_t n, char *toks)
{
	char tok[PAT_TOKEN_BUFSZ];
	FILE *fp;
	size_t i;

	cr_assert_not_null(fp = fopen(path, "w"));
	for (i = 0; i < n; i++) {
		fb_token_entry(fp, key, base, first + i, "alice", tok);
		if (toks != NULL)
			memcpy(toks + i * PAT_TOKEN_BUFSZ, tok, PAT_TOKEN_BUFSZ);
	}
	cr_assert_eq(fclose(fp), 0);
}
