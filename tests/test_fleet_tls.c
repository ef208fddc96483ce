/*
 * Issue 16: fleet mode as production runs it.
 *
 * Suite fleet_tls: patd reaches a real slapd over TLS with a client
 * certificate and binds with SASL EXTERNAL (no bind DN, no password): the
 * directory maps the certificate's subject onto cn=HOST,ou=hosts (slapd's
 * olcAuthzRegexp, tests/fleet/slapd.sh with PAT_SLAPD_TLS), so the access
 * rules of fleet/slapd-acl.ldif apply unchanged.  ldaps:// and StartTLS on
 * ldap://; and the refusals: a client certificate from another CA, a
 * provider whose certificate fleet_tls_cacert did not sign, a certificate
 * mapped outside ou=hosts.  Certificates come from tests/fleet/certs.sh.
 *
 * Suite fleet_mirror: two providers in mirror mode (server ids 1 and 2,
 * each a syncrepl consumer of the other: slapd.sh start-pair): a change
 * made on either reaches a patd of the other; failover from one to the
 * other with patd's cookie, not a full resend; the cookie patd keeps
 * never holds sid= (the trap: shown by what provider 2 sends after the
 * failover, and read from the store); a provider restarted keeps its
 * session log (accesslog), so a consumer resumes without a present phase.
 *
 * Helpers are copied from tests/test_fleet.c for now.  Passwords the ldap
 * tools need are read from files (-y), never put on a command line.
 * Skipped loudly without root, slapd, ldap-utils or openssl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "fleetbox.h"
#include "harness.h"
#include "keyfile.h"
#include "store.h"
#include "token.h"

#define BASE	"dc=example,dc=org"
#define ldap(...)	fb_ldap(&t, __VA_ARGS__)
/* VERIFY for pam.sshd on h */
#define verify_on(h, tok) fb_verify((h), (tok), "pam.sshd")
#define until_on(h, tok, want, ms) fb_until((h), (tok), "pam.sshd", (want), (ms))
/* ldap tool arguments: a simple bind on ldap://127.0.0.1:PORT with the
 * password in DIR/NAME.pw (format arguments: port, t.dir) */
#define ISSUER	"-x -H ldap://127.0.0.1:%d -D cn=issuer-1,ou=hosts," BASE \
		" -y %s/issuer-1.pw"
#define HOST2	"-x -H ldap://127.0.0.1:%d -D cn=host-2,ou=hosts," BASE \
		" -y %s/host-2.pw"
#define ADMIN	"-x -H ldap://127.0.0.1:%d -D cn=admin," BASE " -y %s/admin.pw"

static struct tpatd t;	/* the host under test */
static struct tpatd ti;	/* fleet_tls: an issuer patd (issuer-1's certificate) */
static char sdir[128];	/* slapd's directory (start-pair: sdir/1 and sdir/2) */
static char cdir[128];	/* certificates (fleet_tls) */
static int port;	/* fleet_tls: ldap:// (StartTLS); fleet_mirror: provider 1 */
static int port2;	/* fleet_tls: ldaps://; fleet_mirror: provider 2 */
static bool pair;
static uint8_t key[PAT_HASH_KEY_LEN];

/* Skip (loudly) unless this machine can run a slapd of our own. */
static void
need_slapd(bool tls)
{
	if (geteuid() != 0)
		cr_skip_test("SKIPPED (environment, not a verdict on pat): "
		    "needs root (slapd's ldapi peer credentials, setpriv); run "
		    "make test as root");
	if (access("/usr/sbin/slapd", X_OK) != 0 ||
	    access("/usr/bin/ldapadd", X_OK) != 0 ||
	    access("/usr/bin/ldapwhoami", X_OK) != 0)
		cr_skip_test("SKIPPED (environment, not a verdict on pat): "
		    "slapd or ldap-utils missing; scripts/deps.sh test "
		    "installs them");
	if (tls && access("/usr/bin/openssl", X_OK) != 0)
		cr_skip_test("SKIPPED (environment, not a verdict on pat): "
		    "openssl missing (tests/fleet/certs.sh); scripts/deps.sh "
		    "test installs it");
}

/* patd's state, its token.key, and the tools' password files */
static void
start_host(void)
{
	char path[200];
	const char *why = "";
	int dfd;

	t_start(&t, NULL);
	dfd = open(t.state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(keyfile_load(dfd, "token.key", key, &why), 0, "%s", why);
	close(dfd);
	/* -y takes the whole file: no newline */
	snprintf(path, sizeof(path), "%s/issuer-1.pw", t.dir);
	t_write(path, "issuer-1", 0600);
	snprintf(path, sizeof(path), "%s/host-2.pw", t.dir);
	t_write(path, "host-2", 0600);
	snprintf(path, sizeof(path), "%s/admin.pw", t.dir);
	t_write(path, "admin", 0600);
}

/* slapd (one, with TLS; or the mirror pair) on free ports */
static void
slapd_up(void)
{
	int tries, rc;

	for (tries = 0; tries < 5; tries++) {
		/* below the kernel's ephemeral ports (32768 on): a port
		 * free now cannot be taken by an outgoing connection while
		 * its slapd is stopped for a restart */
		port = 20000 + (int)((unsigned)getpid() * 7919u + tries * 263u) %
		    12000;
		port2 = port + 1;
		t_tmpname(sdir, sizeof(sdir), "slapd");
		cr_assert_not_null(mkdtemp(sdir));
		if (pair)
			rc = t_sh(&t, 0, NULL, NULL, NULL, "PATH=$PATH:/usr/sbin "
			    "\"$PAT_SRC\"/tests/fleet/slapd.sh start-pair %s %d "
			    "%d", sdir, port, port2);
		else
			rc = t_sh(&t, 0, NULL, NULL, NULL, "PATH=$PATH:/usr/sbin "
			    "PAT_SLAPD_TLS=%s PAT_SLAPD_LDAPS_PORT=%d "
			    "\"$PAT_SRC\"/tests/fleet/slapd.sh start %s %d", cdir,
			    port2, sdir, port);
		if (rc == 0)
			return;
		t_sh(&t, 0, NULL, NULL, NULL, "S=\"$PAT_SRC\"/tests/fleet/"
		    "slapd.sh; $S stop %s; $S stop %s/1; $S stop %s/2; rm -rf %s",
		    sdir, sdir, sdir, sdir);
	}
	sdir[0] = '\0';
	cr_assert_fail("slapd did not start (tests/fleet/slapd.sh)");
}

/* slapd.sh stop|again on DIR (n: 0 the single slapd, 1 or 2 a provider) */
static void
slapd_do(const char *what, int n)
{
	char d[160];

	if (n == 0)
		snprintf(d, sizeof(d), "%s", sdir);
	else
		snprintf(d, sizeof(d), "%s/%d", sdir, n);
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "PATH=$PATH:/usr/sbin "
	    "\"$PAT_SRC\"/tests/fleet/slapd.sh %s %s", what, d), 0,
	    "slapd.sh %s %s", what, d);
}

/* what the tokens need: a role and a grant to alice, on provider port p */
static void
role_and_grant(int p)
{
	cr_assert_eq(ldap("dn: patRoleName=ops,ou=roles," BASE "\n"
	    "objectClass: patRole\npatRoleName: ops\npatPermission: pam.*\n\n"
	    "dn: patGrantUser=alice+patRoleName=ops,ou=grants," BASE "\n"
	    "objectClass: patGrant\npatGrantUser: alice\npatRoleName: ops\n",
	    "ldapadd " ISSUER, p, t.dir), 0);
}

static void
teardown(void)
{
	if (ti.pid > 0)
		t_stop(&ti);
	if (sdir[0]) {
		t_sh(&t, 0, NULL, NULL, NULL, "S=\"$PAT_SRC\"/tests/fleet/"
		    "slapd.sh; $S stop %s; $S stop %s/1; $S stop %s/2; rm -rf %s",
		    sdir, sdir, sdir, sdir);
		sdir[0] = '\0';
	}
	if (cdir[0]) {
		t_sh(&t, 0, NULL, NULL, NULL, "rm -rf %s", cdir);
		cdir[0] = '\0';
	}
	t_stop(&t);
}

static void
setup_tls(void)
{
	need_slapd(true);
	start_host();
	t_tmpname(cdir, sizeof(cdir), "certs");
	cr_assert_not_null(mkdtemp(cdir));
	cr_assert_eq(t_sh(&t, 0, NULL, NULL, NULL, "\"$PAT_SRC\"/tests/fleet/"
	    "certs.sh %s", cdir), 0, "tests/fleet/certs.sh failed");
	pair = false;
	slapd_up();
	role_and_grant(port);
}

static void
setup_mirror(void)
{
	need_slapd(false);
	start_host();
	pair = true;
	slapd_up();
	role_and_grant(port);
}

TestSuite(fleet_tls, .init = setup_tls, .fini = teardown, .timeout = 90);
TestSuite(fleet_mirror, .init = setup_mirror, .fini = teardown,
    .timeout = 120);

/* h's patd.conf (and a restart, kill -9): fresh drops its store first,
 * so the next connection is a first refresh */
static void
reconf(struct tpatd *h, const char *conf, bool fresh)
{
	char path[200];

	snprintf(path, sizeof(path), "%s/patd.conf", h->dir);
	t_write(path, conf, 0644);
	t_kill9(h);
	if (fresh)
		cr_assert_eq(t_sh(h, 0, NULL, NULL, NULL, "rm -f %s/pat.mdb "
		    "%s/pat.mdb-lock", h->state, h->state), 0);
	snprintf(h->extra, sizeof(h->extra), "--config %s", path);
	t_restart(h);
}

/* h as a TLS client: uri, the CA file it trusts (in cdir) and the
 * certificate and key named `cert` (in cdir); no bind DN: SASL EXTERNAL */
static void
tls_host(struct tpatd *h, const char *uri, const char *ca, const char *cert,
    bool fresh)
{
	char conf[1200];

	snprintf(conf, sizeof(conf), "fleet_uri = %s\nfleet_base = " BASE "\n"
	    "fleet_tls_cacert = %s/%s.pem\nfleet_tls_cert = %s/%s.pem\n"
	    "fleet_tls_key = %s/%s.key\nfleet_retry = 1\n"
	    "fleet_lastuse_interval = 1\n", uri, cdir, ca, cdir, cert, cdir,
	    cert);
	reconf(h, conf, fresh);
}

/* h as cn=who,ou=hosts with a simple bind (password file, 0600 root) */
static void
simple_host(struct tpatd *h, const char *uri, const char *who, bool fresh)
{
	char conf[1200], pw[200];

	snprintf(pw, sizeof(pw), "%s/fleet.pw", h->dir);
	t_write(pw, who, 0600);
	snprintf(conf, sizeof(conf), "fleet_uri = %s\nfleet_base = " BASE "\n"
	    "fleet_bind_dn = cn=%s,ou=hosts," BASE "\n"
	    "fleet_bind_password_file = %s\nfleet_retry = 1\n", uri, who, pw);
	reconf(h, conf, fresh);
}

/* A token for id (tok) and its directory entry, added as the issuer on
 * provider port p. */
static void
add_token(int p, uint64_t id, const char *user, char tok[PAT_TOKEN_BUFSZ])
{
	fb_add_token(&t, key, BASE, id, user, tok, "ldapadd " ISSUER, p,
	    t.dir);
}

/* n token entries (ids first…first+n-1, alice's) in one ldapadd on port
 * p; toks (n × PAT_TOKEN_BUFSZ, may be NULL) gets their secrets. */
static void
add_tokens_bulk(int p, uint64_t first, size_t n, char *toks)
{
	char path[200];

	snprintf(path, sizeof(path), "%s/bulk.ldif", t.dir);
	fb_tokens_file(path, key, BASE, first, n, toks);
	cr_assert_eq(ldap(NULL, "ldapadd -c " ISSUER " -f %s >/dev/null",
	    p, t.dir, path), 0);
}

/* patRevoked added to token id on provider port p, as host-2 */
static void
revoke_in_directory(int p, uint64_t id)
{
	char ldif[300];

	snprintf(ldif, sizeof(ldif), "dn: patId=%llu,ou=tokens," BASE "\n"
	    "changetype: modify\nadd: patRevoked\npatRevoked: %lld\n-\n"
	    "add: patRevokedReason\npatRevokedReason: reported\n-\n",
	    (unsigned long long)id, (long long)time(NULL));
	cr_assert_eq(ldap(ldif, "ldapmodify " HOST2, p, t.dir), 0);
}

/* STATUS read and polled (fleetbox.h); until_state: fleet= */
#define status_str	fb_status
#define status_num	fb_status_num
#define until_status	fb_until_status
#define until_state(h, state, ms) fb_until_status((h), "fleet", (state), (ms))

#define log_count	fb_log_count

/* The sync cookie h keeps in its store (h killed, then restarted). */
static void
stored_cookie(struct tpatd *h, char *ck, size_t n)
{
	struct store *s;
	MDB_txn *txn;
	size_t len = 0;

	t_kill9(h);
	cr_assert_eq(store_open(&s, h->state, (size_t)1024 << 20), 0);
	cr_assert_eq(store_begin(s, false, &txn), 0);
	cr_assert_eq(store_meta_get(s, txn, "fleet_cookie", ck, n - 1, &len),
	    0);
	ck[len] = '\0';
	store_abort(txn);
	store_close(s);
	t_restart(h);
}

/* ---- fleet_tls */

/* The identity slapd gives the holder of certificate `cert` (in cdir),
 * by ldapwhoami over ldaps with SASL EXTERNAL (malloc'd) */
static char *
whoami(const char *cert)
{
	char *out = NULL;

	t_sh(&t, 0, NULL, &out, NULL, "LDAPTLS_CACERT=%s/ca.pem "
	    "LDAPTLS_CERT=%s/%s.pem LDAPTLS_KEY=%s/%s.key ldapwhoami -Q -Y "
	    "EXTERNAL -H ldaps://127.0.0.1:%d 2>&1", cdir, cdir, cert, cdir,
	    cert, port2);
	return out;
}

Test(fleet_tls, ldaps_with_a_client_certificate_binds_as_its_host_and_replicates)
{
	char uri[100], a[PAT_TOKEN_BUFSZ], b[PAT_TOKEN_BUFSZ], req[100], *r,
	    *tok;
	long long t0, ms, connect_ms;
	unsigned long long id;

	/* the premise: slapd maps the certificate onto the host's DN */
	r = whoami("host-3");
	cr_assert_str_eq(r, "dn:cn=host-3,ou=hosts," BASE "\n");
	free(r);
	snprintf(uri, sizeof(uri), "ldaps://127.0.0.1:%d", port2);
	add_token(port, 101, "alice", a);
	t0 = pat_monotonic_ms();
	tls_host(&t, uri, "ca", "host-3", true);
	cr_assert_geq(until_state(&t, "connected", 5000), 0, "patd never "
	    "connected over ldaps with its client certificate (SASL "
	    "EXTERNAL)");
	connect_ms = pat_monotonic_ms() - t0;
	ms = until_on(&t, a, "OK", 3000);
	cr_assert_geq(ms, 0, "a token in the directory before patd started "
	    "does not verify after its first refresh over ldaps");
	t_figure("fleet_tls: patd restart to fleet=connected over ldaps + "
	    "SASL EXTERNAL %lld ms, first token verified %lld ms after",
	    connect_ms, pat_monotonic_ms() - t0);
	r = t_slurp(t.log);
	cr_assert(strstr(r, "event=fleet result=connected") != NULL, "%s", r);
	free(r);
	/* a change while it persists */
	add_token(port, 102, "alice", b);
	ms = until_on(&t, b, "OK", 1000);
	cr_assert_geq(ms, 0, "a token added while patd runs did not verify "
	    "within 1 s over ldaps");
	t_figure("fleet_tls: a token added in the directory verified after "
	    "%lld ms (ldaps)", ms);
	revoke_in_directory(port, 102);
	ms = until_on(&t, b, "ERR", 1000);
	cr_assert_geq(ms, 0, "a directory revocation did not refuse the token "
	    "within 1 s over ldaps");
	t_figure("fleet_tls: a directory revocation refused the token after "
	    "%lld ms (ldaps)", ms);
	/* the ACLs apply to the mapped identity: host-3 may revoke (only
	 * entries under ou=hosts may add patRevoked)… */
	r = t_raw(&t, "REVOKE id=101\n", 1);
	cr_assert(strncmp(r, "OK", 2) == 0 && strstr(r, " fleet=sent") !=
	    NULL, "host-3's REVOKE over ldaps: %s", r);
	free(r);
	cr_assert_eq(ldap(NULL, "ldapsearch -LLL " HOST2 " -b patId=101,"
	    "ou=tokens," BASE " -s base patRevoked | grep -q '^patRevoked: '",
	    port, t.dir), 0, "host-3's revocation is not in the directory");
	/* …but not mint: the id counter is the issuers' */
	cr_assert_geq(until_state(&t, "connected", 1000), 0);
	cr_assert_geq(until_status(&t, "fleet_issuer", "no", 3000), 0,
	    "host-3 (its certificate) is no issuer");
	/* issuer-1's certificate is mapped into the issuers group: a patd
	 * holding it mints, and host-3 verifies what it minted */
	t_start(&ti, NULL);
	cr_assert_eq(t_sh(&ti, 0, NULL, NULL, NULL, "cp -p %s/token.key "
	    "%s/token.key", t.state, ti.state), 0);
	tls_host(&ti, uri, "ca", "issuer-1", true);
	cr_assert_geq(until_status(&ti, "fleet_issuer", "yes", 5000), 0,
	    "issuer-1 (its certificate) never took token ids");
	tok = t_token(&ti, "alice", "ops");
	id = strtoull(tok, NULL, 10);
	ms = until_on(&t, tok, "OK", 2000);
	cr_assert_geq(ms, 0, "a token minted by the issuer over ldaps did not "
	    "reach host-3");
	t_figure("fleet_tls: minted on the issuer (CREATE over ldaps), "
	    "verified on host-3 after %lld ms", ms);
	/* host-3 records that use under its own name, which it learns from
	 * the directory (whoami: the certificate's mapped DN); the issuer
	 * reads it back */
	snprintf(req, sizeof(req), "SHOW id=%llu\n", id);
	for (int i = 0; i < 100; i++) {
		r = t_raw(&ti, req, 1);
		bool seen = strstr(r, " fleet_last_host=host-3") != NULL;

		free(r);
		if (seen)
			break;
		usleep(100000);
	}
	r = t_raw(&ti, req, 1);
	cr_assert(strstr(r, " fleet_last_host=host-3") != NULL, "the "
	    "issuer's SHOW does not say host-3 used the token: %s", r);
	free(r);
	snprintf(req, sizeof(req), "REVOKE id=%llu\n", id);
	r = t_raw(&t, req, 1);
	cr_assert(strstr(r, " fleet=sent") != NULL, "%s", r);
	free(r);
	cr_assert_geq(until_on(&ti, tok, "ERR", 1000), 0, "host-3's "
	    "revocation did not reach the issuer within 1 s");
	t_free(tok);
}

Test(fleet_tls, starttls_on_ldap_with_a_client_certificate)
{
	char uri[100], a[PAT_TOKEN_BUFSZ], *out = NULL;
	long long ms, t0;

	/* without TLS there is no EXTERNAL identity: the bind below works
	 * only because patd started TLS */
	cr_assert_neq(t_sh(&t, 0, NULL, &out, NULL, "ldapwhoami -Q -Y "
	    "EXTERNAL -H ldap://127.0.0.1:%d 2>&1", port), 0,
	    "SASL EXTERNAL without TLS worked: %s", out);
	free(out);
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d", port);
	t0 = pat_monotonic_ms();
	tls_host(&t, uri, "ca", "host-3", true);
	cr_assert_geq(until_state(&t, "connected", 5000), 0, "patd never "
	    "connected with StartTLS");
	t_figure("fleet_tls: patd restart to fleet=connected with StartTLS + "
	    "SASL EXTERNAL %lld ms", pat_monotonic_ms() - t0);
	add_token(port, 201, "alice", a);
	ms = until_on(&t, a, "OK", 1000);
	cr_assert_geq(ms, 0, "a token did not reach patd over StartTLS");
	revoke_in_directory(port, 201);
	cr_assert_geq(until_on(&t, a, "ERR", 1000), 0);
}

/*
 * A patd configured with (ca, cert) must not get anything new: a token
 * it had (from a good connection) still verifies, one added meanwhile
 * does not, and for 2.5 s (two retries) fleet= is never "connected".
 * Then the good configuration again: the new token arrives (it was there
 * to be had).  why: what the log must say.
 */
static void
refused(const char *ca, const char *cert, const char *why)
{
	char uri[100], a[PAT_TOKEN_BUFSZ], b[PAT_TOKEN_BUFSZ], *r, *v;
	long long t0;
	int before;

	snprintf(uri, sizeof(uri), "ldaps://127.0.0.1:%d", port2);
	tls_host(&t, uri, "ca", "host-3", true);
	add_token(port, 301, "alice", a);
	cr_assert_geq(until_on(&t, a, "OK", 3000), 0, "the good configuration "
	    "does not work");
	before = log_count(&t, "result=disconnected");
	tls_host(&t, uri, ca, cert, false);
	add_token(port, 302, "alice", b);
	for (t0 = pat_monotonic_ms(); pat_monotonic_ms() - t0 < 2500; usleep(20000)) {
		v = status_str(&t, "fleet");
		cr_assert_str_neq(v, "connected", "patd connected with CA %s "
		    "and certificate %s", ca, cert);
		free(v);
	}
	r = verify_on(&t, b);
	cr_assert_eq(strncmp(r, "ERR", 3), 0, "a token added while patd was "
	    "refused verifies: %s", r);
	free(r);
	r = verify_on(&t, a);
	cr_assert_eq(strncmp(r, "OK", 2), 0, "what patd had stopped "
	    "verifying: %s", r);
	free(r);
	cr_assert_eq(status_num(&t, "tokens"), 1);
	cr_assert_gt(log_count(&t, "result=disconnected"), before);
	r = t_slurp(t.log);
	cr_assert(strstr(r, why) != NULL, "the log does not say '%s': %s",
	    why, r);
	free(r);
	/* the control: the same store with the good configuration */
	tls_host(&t, uri, "ca", "host-3", false);
	cr_assert_geq(until_on(&t, b, "OK", 3000), 0, "the good configuration "
	    "does not bring the token");
}

Test(fleet_tls, a_client_certificate_from_another_ca_is_refused)
{
	char *r = whoami("rogue-3");

	/* the same subject as host-3's, another issuer: slapd refuses it */
	cr_assert_null(strstr(r, "dn:"), "%s", r);
	free(r);
	refused("ca", "rogue-3", "result=disconnected reason=");
}

Test(fleet_tls, a_provider_whose_certificate_fleet_tls_cacert_did_not_sign_is_refused)
{
	refused("other-ca", "host-3", "result=disconnected reason=");
}

Test(fleet_tls, a_certificate_mapped_outside_ou_hosts_replicates_nothing)
{
	char uri[100], a[PAT_TOKEN_BUFSZ], *r;
	long long t0;

	/* a valid certificate of the fleet's CA, mapped to a DN the rules
	 * give nothing */
	r = whoami("stranger");
	cr_assert_str_eq(r, "dn:cn=stranger,ou=guests," BASE "\n");
	free(r);
	add_token(port, 401, "alice", a);
	snprintf(uri, sizeof(uri), "ldaps://127.0.0.1:%d", port2);
	tls_host(&t, uri, "ca", "stranger", true);
	for (t0 = pat_monotonic_ms(); pat_monotonic_ms() - t0 < 2500; usleep(20000)) {
		r = verify_on(&t, a);
		cr_assert_eq(strncmp(r, "ERR", 3), 0, "a token reached a host "
		    "mapped outside ou=hosts: %s", r);
		free(r);
	}
	cr_assert_eq(status_num(&t, "tokens"), 0);
	cr_assert_eq(status_num(&t, "roles"), 0);
	/* it binds but may not search: never "connected", and said once,
	 * not at every retry */
	r = t_raw(&t, "STATUS\n", 1);
	cr_assert_null(strstr(r, " fleet=connected"), "%s", r);
	free(r);
	r = t_slurp(t.log);
	cr_assert_null(strstr(r, "result=connected"), "%s", r);
	cr_assert(strstr(r, "result=disconnected") != NULL && strstr(strstr(r,
	    "result=disconnected") + 1, "result=disconnected") == NULL,
	    "the failing search is logged at every retry: %s", r);
	free(r);
	r = t_raw(&t, "REVOKE id=401\n", 1);
	cr_assert_null(strstr(r, " fleet=sent"), "a host mapped outside "
	    "ou=hosts revoked in the directory: %s", r);
	free(r);
	cr_assert_eq(ldap(NULL, "ldapsearch -LLL " HOST2 " -b patId=401,"
	    "ou=tokens," BASE " -s base patRevoked | grep -c '^patRevoked: ' "
	    "| grep -qx 0", port, t.dir), 0, "the directory took a revocation "
	    "from a host mapped outside ou=hosts");
}

/* ms from a restart of h on an empty store to all n tokens in it */
static long long
first_refresh_ms(struct tpatd *h, bool tls, long n)
{
	char uri[100];
	long long t0 = pat_monotonic_ms();
	int i;

	if (tls) {
		snprintf(uri, sizeof(uri), "ldaps://127.0.0.1:%d", port2);
		tls_host(h, uri, "ca", "host-3", true);
	} else {
		snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d", port);
		simple_host(h, uri, "host-2", true);
	}
	for (i = 0; i < 3000 && status_num(h, "tokens") < n; i++)
		usleep(2000);
	cr_assert_eq(status_num(h, "tokens"), n);
	return pat_monotonic_ms() - t0;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

Test(fleet_tls, a_first_refresh_over_tls_and_over_plain_ldap)
{
	char *toks = calloc(5000, PAT_TOKEN_BUFSZ);
	long long plain[5], tls[5];
	int i;

	cr_assert_not_null(toks);
	add_tokens_bulk(port, 5001, 5000, toks);
	/* alternately, so both see the same machine */
	for (i = 0; i < 5; i++) {
		plain[i] = first_refresh_ms(&t, false, 5000);
		tls[i] = first_refresh_ms(&t, true, 5000);
	}
	cr_assert_geq(until_on(&t, toks + 4999 * PAT_TOKEN_BUFSZ, "OK", 1000),
	    0);
	qsort(plain, 5, sizeof(*plain), cmp_ll);
	qsort(tls, 5, sizeof(*tls), cmp_ll);
	t_figure("fleet_tls: patd restart on an empty store to 5,000 tokens "
	    "(first refresh), median of 5 [min-max]: ldaps + SASL EXTERNAL "
	    "%lld ms [%lld-%lld], plain ldap + simple bind %lld ms "
	    "[%lld-%lld]", tls[2], tls[0], tls[4], plain[2], plain[0],
	    plain[4]);
	free(toks);
}

/* ---- fleet_mirror */

Test(fleet_mirror, a_change_on_provider_2_reaches_a_host_of_provider_1)
{
	char uri[100], a[PAT_TOKEN_BUFSZ], *r;
	long long ms;

	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d", port);
	simple_host(&t, uri, "host-2", true);
	cr_assert_geq(until_state(&t, "connected", 5000), 0);
	add_token(port2, 901, "alice", a);
	ms = until_on(&t, a, "OK", 2000);
	cr_assert_geq(ms, 0, "a token added on provider 2 did not reach a "
	    "host of provider 1");
	t_figure("fleet_mirror: added on provider 2, verified on a host of "
	    "provider 1 after %lld ms", ms);
	revoke_in_directory(port2, 901);
	ms = until_on(&t, a, "ERR", 1000);
	cr_assert_geq(ms, 0, "a revocation on provider 2 was not refused on "
	    "a host of provider 1 within 1 s");
	t_figure("fleet_mirror: revoked on provider 2, refused on a host of "
	    "provider 1 after %lld ms", ms);
	r = verify_on(&t, a);
	cr_assert(strstr(r, "revoked") != NULL, "%s", r);
	free(r);
	/* the host never left provider 1 */
	cr_assert_eq(log_count(&t, "result=disconnected"), 0);
}

/* The last "event=fleet result=connected" in h's log and what follows
 * (malloc'd, from the log's copy) */
static char *
since_last_connect(struct tpatd *h)
{
	char *log = t_slurp(h->log), *last = NULL, *p, *out;

	for (p = log; (p = strstr(p, "event=fleet result=connected")); p++)
		last = p;
	cr_assert_not_null(last, "no fleet connected event: %s", log);
	out = strdup(last);
	free(log);
	return out;
}

/* Wait until h's log has more than n "result=refresh-done" lines; the
 * entries the last one counted */
static long
refreshed_after(struct tpatd *h, int n)
{
	char *tail;
	const char *p;
	long entries;
	int i;

	for (i = 0; i < 500 && log_count(h, "result=refresh-done") <= n; i++)
		usleep(10000);
	cr_assert_gt(log_count(h, "result=refresh-done"), n, "no refresh "
	    "ended");
	tail = since_last_connect(h);
	p = strstr(tail, "event=fleet result=refresh-done entries=");
	cr_assert_not_null(p, "%.300s", tail);
	entries = strtol(p + 40, NULL, 10);
	free(tail);
	return entries;
}

/* Every server id of provider p's contextCSN has a CSN in cookie ck */
static void
cookie_names_every_server(int p, const char *ck)
{
	char *out = NULL, *line, *save = NULL, sid[8];
	int n = 0;

	cr_assert_eq(t_sh(&t, 0, NULL, &out, NULL, "ldapsearch -LLL " ADMIN
	    " -b " BASE " -s base contextCSN | grep ^contextCSN:", p, t.dir),
	    0);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "contextCSN: ", 12) != 0 ||
		    strlen(line) < 12 + 27)
			continue;
		/* 20261128095551.461209Z#000000#001#000000: "#001#" */
		snprintf(sid, sizeof(sid), "%.5s", line + 12 + 22 + 7);
		cr_assert(strstr(ck, sid) != NULL, "the cookie patd keeps "
		    "has no CSN of server %s, which the provider's "
		    "contextCSN has (%s): it will resend every entry; the "
		    "cookie: %s", sid, line + 12, ck);
		n++;
	}
	cr_assert_geq(n, 2, "the provider's contextCSN names one server");
	free(out);
}

Test(fleet_mirror, a_restart_after_changes_from_both_providers_is_no_full_resend)
{
	char uri[100], a[PAT_TOKEN_BUFSZ], b[PAT_TOKEN_BUFSZ], ck[4097];
	long n;

	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d", port);
	simple_host(&t, uri, "host-2", true);
	cr_assert_eq(refreshed_after(&t, 0), 2);	/* the role and grant */
	/* changes in the persist phase, written on each provider */
	add_tokens_bulk(port, 1501, 100, NULL);
	add_token(port, 1601, "alice", a);
	add_token(port2, 1602, "alice", b);
	cr_assert_geq(until_on(&t, a, "OK", 3000), 0);
	cr_assert_geq(until_on(&t, b, "OK", 3000), 0);
	stored_cookie(&t, ck, sizeof(ck));	/* kill -9, read, restart */
	cookie_names_every_server(port, ck);
	cr_assert_null(strstr(ck, "sid="), "%s", ck);
	n = refreshed_after(&t, 1);
	cr_assert_leq(n, 1, "a restart after changes in the persist phase "
	    "was a full resend: %ld entries", n);
}

Test(fleet_mirror, failover_to_provider_2_resumes_with_the_cookie_and_no_sid)
{
	char uri[200], *toks = calloc(200, PAT_TOKEN_BUFSZ), a[PAT_TOKEN_BUFSZ],
	    c[PAT_TOKEN_BUFSZ], ck[4097], *tail;
	long long t0, ms;
	long before, after, n;
	int connects;

	cr_assert_not_null(toks);
	/* both providers, in order: libldap tries the next when one fails */
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d ldap://127.0.0.1:%d",
	    port, port2);
	simple_host(&t, uri, "host-2", true);
	cr_assert_eq(refreshed_after(&t, 0), 2);
	/* 200 tokens reach patd from provider 1 (the persist phase) */
	add_tokens_bulk(port, 1001, 200, toks);
	cr_assert_geq(until_on(&t, toks + 199 * PAT_TOKEN_BUFSZ, "OK", 5000),
	    0);
	/* provider 2 has them all before provider 1 goes */
	for (n = 0; n < 500; n++) {
		if (fb_ldap_try(&t, NULL, "ldapsearch -LLL " HOST2 " -b "
		    "patId=1200,ou=tokens," BASE " -s base dn | grep -q ^dn:",
		    port2, t.dir) == 0)
			break;
		usleep(10000);
	}
	cr_assert_lt(n, 500, "provider 2 never had the 200th token");
	before = status_num(&t, "fleet_entries");
	connects = log_count(&t, "event=fleet result=connected");
	/* provider 1 goes: patd moves to provider 2 with its cookie */
	t0 = pat_monotonic_ms();
	slapd_do("stop", 1);
	for (ms = -1; pat_monotonic_ms() - t0 < 10000; usleep(10000))
		if (log_count(&t, "event=fleet result=connected") > connects) {
			ms = pat_monotonic_ms() - t0;
			break;
		}
	cr_assert_geq(ms, 0, "patd did not reconnect to provider 2");
	t_figure("fleet_mirror: provider 1 stopped, patd connected to provider "
	    "2 after %lld ms (fleet_retry = 1)", ms);
	n = refreshed_after(&t, 1);
	tail = since_last_connect(&t);
	cr_assert_eq(strncmp(tail, "event=fleet result=connected "
	    "cookie=resumed", 43), 0, "%.200s", tail);
	cr_assert_null(strstr(tail, "reason=not-present"), "a present phase "
	    "after the failover: %.300s", tail);
	free(tail);
	cr_assert_leq(n, 1, "the failover was a full resend: %ld entries", n);
	/* a change made on provider 2 after that reaches patd */
	add_token(port2, 1301, "alice", a);
	revoke_in_directory(port2, 1001);
	cr_assert_geq(until_on(&t, a, "OK", 2000), 0, "a token added on "
	    "provider 2 after the failover did not arrive");
	cr_assert_geq(until_on(&t, toks, "ERR", 1000), 0, "a revocation on "
	    "provider 2 after the failover did not arrive");
	/* about the two changes, not the 202 entries again */
	after = status_num(&t, "fleet_entries");
	cr_assert(after - before >= 2 && after - before <= 5,
	    "fleet_entries grew by %ld over the failover and two changes: "
	    "not the changes alone", after - before);
	/*
	 * The sid= trap: had patd handed provider 2 a cookie saying sid=001,
	 * provider 2 would take it for provider 1 and never send it what
	 * provider 1 writes.  Provider 1 returns; a token added there
	 * reaches patd, still on provider 2.
	 */
	slapd_do("again", 1);
	add_token(port, 1302, "alice", c);
	ms = until_on(&t, c, "OK", 5000);
	cr_assert_geq(ms, 0, "a token added on provider 1 did not reach patd "
	    "through provider 2: patd's cookie passed it off as server 1?");
	t_figure("fleet_mirror: provider 1 back, a token added there reached "
	    "patd (on provider 2) after %lld ms", ms);
	cr_assert_eq(log_count(&t, "event=fleet result=connected"),
	    connects + 1, "patd left provider 2");
	/* and the cookie in the store: no sid=, every server's CSN */
	stored_cookie(&t, ck, sizeof(ck));
	cr_assert(strstr(ck, "csn=") != NULL && strstr(ck, "sid=") == NULL,
	    "the cookie kept from provider 2: %s", ck);
	cookie_names_every_server(port2, ck);
	free(toks);
}

Test(fleet_mirror, a_restarted_provider_keeps_its_session_log)
{
	char uri[100], a[PAT_TOKEN_BUFSZ], b[PAT_TOKEN_BUFSZ], *tail;
	long n;

	/* the tokens first: patd's cookie is then its first refresh's */
	add_token(port, 1401, "alice", a);
	add_token(port, 1402, "alice", b);
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d", port);
	simple_host(&t, uri, "host-2", true);
	cr_assert_eq(refreshed_after(&t, 0), 4);
	cr_assert_geq(until_on(&t, b, "OK", 3000), 0);
	t_kill9(&t);
	/* provider 1 restarts: an in-memory session log would be empty */
	slapd_do("stop", 1);
	slapd_do("again", 1);
	/* made after the restart: only the accesslog can tell a consumer */
	cr_assert_eq(ldap(NULL, "ldapdelete " ADMIN " patId=1402,ou=tokens,"
	    BASE, port, t.dir), 0);
	t_restart(&t);
	n = refreshed_after(&t, 1);
	cr_assert_geq(until_on(&t, b, "ERR", 3000), 0, "a token deleted "
	    "while patd was down still verifies");
	cr_assert_geq(until_on(&t, a, "OK", 1000), 0);
	tail = since_last_connect(&t);
	cr_assert_eq(strncmp(tail, "event=fleet result=connected "
	    "cookie=resumed", 43), 0, "%.200s", tail);
	/* the delete alone: no present phase naming every entry */
	cr_assert_null(strstr(tail, "reason=not-present"), "a present phase "
	    "after the provider's restart: %.600s", tail);
	cr_assert_leq(n, 1, "a full resend after the provider's restart: "
	    "%.600s", tail);
	free(tail);
	cr_assert_eq(status_num(&t, "tokens"), 1);
}
