/*
 * Issue 13: pat-gate behind a real nginx and a real Caddy, driven by real
 * curl.  Each test starts its own patd, a pat-gate as carol (uid 1003, in
 * patd-verify) on a Unix socket, an app that echoes the request headers it
 * got (tests/tools/echo_upstream.py, a separate process on a Unix socket),
 * and the proxy with its own prefix, configuration, pid and log files in
 * the test's directory and a loopback port chosen free at run time.  The
 * proxies' site configurations are read from docs/web.md (the blocks marked
 * "pat-test: NAME"); only socket paths, the port and the app's address are
 * changed, and each change must find its text, so the documentation and
 * the tests cannot drift apart.
 *
 * Tokens travel to curl on its stdin (curl -K -), never on a command line,
 * and no answer that holds a token is printed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "token.h"

/* curl's own bound for one request: generous, it only stops a hung test */
#define CURL_MAX_S	20

struct web {
	struct tpatd t;
	char	gate_sock[128];
	char	app_sock[128];
	char	pdir[128];	/* the proxy's prefix directory */
	pid_t	gate, app, proxy;
	int	port;
	bool	git;		/* nginx also serves docs/web.md's git block */
	char	*alice;		/* alice's token, role reader (api.read) */
	char	*alice2;	/* a second one of hers */
	char	*bob;		/* bob's token, role writer (api.write) */
};

struct resp {
	int	status;
	char	*head;	/* status line and headers */
	char	*body;
	char	*raw;
};

static struct web w;

static void
teardown(void)
{
	t_free(w.alice);
	t_free(w.alice2);
	t_free(w.bob);
	w.alice = w.alice2 = w.bob = NULL;
	t_stop(&w.t);
}

TestSuite(web, .fini = teardown, .timeout = 120);

static const char *
src_dir(void)
{
	const char *s = getenv("PAT_SRC");

	return s && *s ? s : ".";
}

/* Where carol finds pat-gate and libpat.so.1: the run's 0755 copy when it
 * has them, else the build directory itself. */
static const char *
gate_dir(void)
{
	static char dir[512];
	const char *b = getenv("PAT_TEST_BIN");

	snprintf(dir, sizeof(dir), "%s/pat-gate", b ? b : "");
	if (b == NULL || access(dir, X_OK) != 0)
		b = getenv("PAT_BUILD") ? getenv("PAT_BUILD") : "build";
	snprintf(dir, sizeof(dir), "%s", b);
	return dir;
}

static bool
have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* Skip loudly what cannot run here; none of it is a verdict on pat. */
static void
need(const char *proxy)
{
	char path[600];

	t_need_root();	/* the gate runs as carol through setpriv */
	snprintf(path, sizeof(path), "%s/pat-gate",
	    getenv("PAT_BUILD") ? getenv("PAT_BUILD") : "build");
	if (access(path, X_OK) != 0)
		cr_skip_test("SKIPPED: build/pat-gate missing (%s): the proxy "
		    "tests need the gate", path);
	if (!have("curl"))
		cr_skip_test("SKIPPED: curl missing (scripts/deps.sh test "
		    "installs it)");
	if (!have("python3"))
		cr_skip_test("SKIPPED: python3 missing (the echoing app)");
	if (proxy != NULL && !have(proxy))
		cr_skip_test("SKIPPED: %s missing (scripts/deps.sh test installs "
		    "nginx-light and caddy)", proxy);
}

static bool
can_connect_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool
can_connect_port(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A loopback port nobody listens on right now (the kernel's choice). */
static int
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	cr_assert_geq(fd, 0, "environment: socket: %s", strerror(errno));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0,
	    "environment: bind: %s", strerror(errno));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Has the background process pid ended?  (Not reaped: t_bg_stop does.) */
static bool
ended(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0
	    && si.si_pid == pid;
}

/* ---- docs/web.md's blocks ------------------------------------------- */

/* The fenced block after "<!-- pat-test: NAME " in docs/web.md. */
static char *
docs_block(const char *name)
{
	char path[600], mark[64], *doc, *p, *start, *end, *block;

	snprintf(path, sizeof(path), "%s/docs/web.md", src_dir());
	doc = t_slurp(path);
	cr_assert(*doc, "environment: cannot read %s", path);
	snprintf(mark, sizeof(mark), "<!-- pat-test: %s ", name);
	p = strstr(doc, mark);
	cr_assert_not_null(p, "docs/web.md has no block marked \"%s\"", mark);
	start = strstr(p, "\n```");
	cr_assert_not_null(start, "docs/web.md: no code block after %s", mark);
	start = strchr(start + 1, '\n');	/* past the opening fence */
	cr_assert_not_null(start);
	start++;
	end = strstr(start, "\n```\n");
	cr_assert_not_null(end, "docs/web.md: block %s is not closed", name);
	block = strndup(start, (size_t)(end - start) + 1);
	cr_assert_not_null(block);
	free(doc);
	return block;
}

/* Replace every `from` in *text by `to`; docs/web.md must still hold it. */
static void
subst(char **text, const char *block, const char *from, const char *to)
{
	size_t n = 0, fl = strlen(from), tl = strlen(to);
	char *p, *out, *o;

	for (p = strstr(*text, from); p != NULL; p = strstr(p + fl, from))
		n++;
	cr_assert_gt(n, 0, "docs/web.md's \"%s\" block no longer holds \"%s\", "
	    "which the test replaces: update the test with the docs", block,
	    from);
	out = malloc(strlen(*text) + n * tl + 1);
	cr_assert_not_null(out);
	for (o = out, p = *text; ; ) {
		char *q = strstr(p, from);

		if (q == NULL) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
	free(*text);
	*text = out;
}

/* ---- the stack: patd, tokens, gate, app ------------------------------ */

static void
wait_unix(const char *path, pid_t pid, const char *what, const char *log)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (can_connect_unix(path))
			return;
		if (ended(pid))
			break;
		usleep(10000);
	}
	cr_assert_fail("%s did not come up on %s; its stderr:\n%s", what, path,
	    t_slurp(log));
}

/* The newest bg.N.err in t's directory: the stderr of the last t_bg. */
static char *
last_bg_err(struct tpatd *t)
{
	char *out = NULL;

	t_sh(t, 0, NULL, &out, NULL, "ls -t %s/bg.*.err | head -1", t->dir);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* patd (conf: patd.conf text or NULL), roles, tokens, gate, app. */
static void
start_stack(const char *proxy, const char *patd_conf)
{
	char *err;

	need(proxy);
	memset(&w, 0, sizeof(w));
	t_start(&w.t, NULL);
	if (patd_conf != NULL)
		t_reconfigure(&w.t, patd_conf);
	t_role(&w.t, "reader", "api.read");
	t_role(&w.t, "writer", "api.write");
	t_grant(&w.t, "reader", "--user alice");
	t_grant(&w.t, "writer", "--user bob");
	w.alice = t_token(&w.t, "alice", "reader");
	w.alice2 = t_token(&w.t, "alice", "reader");
	w.bob = t_token(&w.t, "bob", "writer");

	/* the gate, as carol, makes its socket in a directory of hers */
	snprintf(w.gate_sock, sizeof(w.gate_sock), "%s/gate/gate.sock",
	    w.t.dir);
	cr_assert_eq(t_sh(&w.t, 0, NULL, NULL, NULL, "mkdir -m 0755 %s/gate && "
	    "chown %d:%d %s/gate", w.t.dir, CAROL, CAROL, w.t.dir), 0);
	w.gate = t_bg(&w.t, CAROL, "LD_LIBRARY_PATH=%s exec %s/pat-gate "
	    "--config /dev/null --listen unix:%s --socket %s", gate_dir(),
	    gate_dir(), w.gate_sock, w.t.sock);
	err = last_bg_err(&w.t);
	wait_unix(w.gate_sock, w.gate, "pat-gate", err);
	free(err);

	snprintf(w.app_sock, sizeof(w.app_sock), "%s/app.sock", w.t.dir);
	w.app = t_bg(&w.t, 0, "exec python3 %s/tests/tools/echo_upstream.py %s",
	    src_dir(), w.app_sock);
	err = last_bg_err(&w.t);
	wait_unix(w.app_sock, w.app, "the echoing app", err);
	free(err);
}

/* Start a proxy with `cmd_fmt` (one %d: the port) after writing its
 * configuration with write_conf(port); a port taken meanwhile by someone
 * else makes the proxy exit: then again with another. */
static void
start_proxy(const char *what, void (*write_conf)(int port), const char *cmd)
{
	char *err;
	int tries, i;

	for (tries = 0; tries < 4; tries++) {
		w.port = free_port();
		write_conf(w.port);
		w.proxy = t_bg(&w.t, 0, "%s", cmd);
		for (i = 0; i < 1000; i++) {
			if (ended(w.proxy) || can_connect_port(w.port))
				break;
			usleep(10000);
		}
		if (!ended(w.proxy) && can_connect_port(w.port))
			return;
		t_bg_stop(w.proxy, SIGTERM);
	}
	err = last_bg_err(&w.t);
	cr_assert_fail("environment: %s did not start (4 tries); its stderr:\n%s",
	    what, t_slurp(err));
}

static void
write_nginx_conf(int port)
{
	char path[300], listen[64], app[200], repo[200], fcgi[200], *site, *git,
	    *conf;
	size_t n;

	site = docs_block("nginx");
	snprintf(listen, sizeof(listen), "listen 127.0.0.1:%d;", port);
	snprintf(app, sizeof(app), "http://unix:%s:", w.app_sock);
	if (w.git)	/* the git server listens on port; the API elsewhere */
		snprintf(listen, sizeof(listen), "listen 127.0.0.1:%d;",
		    free_port());
	subst(&site, "nginx", "listen 80;", listen);
	subst(&site, "nginx", "http://127.0.0.1:3000", app);
	subst(&site, "nginx", "/run/pat-gate/gate.sock", w.gate_sock);
	if (w.git) {
		git = docs_block("nginx-git");
		snprintf(listen, sizeof(listen), "listen 127.0.0.1:%d;", port);
		snprintf(repo, sizeof(repo), "GIT_PROJECT_ROOT %s/git;", w.t.dir);
		snprintf(fcgi, sizeof(fcgi), "fastcgi_pass unix:%s/fcgi.sock;",
		    w.t.dir);
		subst(&git, "nginx-git", "listen 443 ssl;", listen);
		subst(&git, "nginx-git", "GIT_PROJECT_ROOT /srv/git;", repo);
		subst(&git, "nginx-git", "fastcgi_pass unix:/run/fcgiwrap.socket;",
		    fcgi);
		n = strlen(site) + strlen(git) + 2;
		site = realloc(site, n);
		cr_assert_not_null(site);
		strcat(site, "\n");
		strcat(site, git);
		free(git);
	}
	snprintf(path, sizeof(path), "%s/site.conf", w.pdir);
	t_write(path, site, 0644);
	free(site);

	n = 2048 + 6 * strlen(w.pdir);
	conf = malloc(n);
	cr_assert_not_null(conf);
	/* everything nginx writes is under pdir; the system's nginx.conf,
	 * pid file, logs and temp directories are never touched.  fastcgi_params
	 * is nginx's own file, read only */
	snprintf(conf, n,
	    "user root;\n"
	    "worker_processes 1;\n"
	    "pid %s/nginx.pid;\n"
	    "error_log %s/error.log info;\n"
	    "events { worker_connections 512; }\n"
	    "http {\n"
	    "    access_log off;\n"
	    "    client_body_temp_path %s/tmp/body;\n"
	    "    proxy_temp_path %s/tmp/proxy;\n"
	    "    fastcgi_temp_path %s/tmp/fastcgi;\n"
	    "    uwsgi_temp_path %s/tmp/uwsgi;\n"
	    "    scgi_temp_path %s/tmp/scgi;\n"
	    "    include %s/site.conf;\n"
	    "}\n", w.pdir, w.pdir, w.pdir, w.pdir, w.pdir, w.pdir, w.pdir,
	    w.pdir);
	snprintf(path, sizeof(path), "%s/nginx.conf", w.pdir);
	t_write(path, conf, 0644);
	free(conf);
	/* fastcgi_params: include resolves it against the configuration's
	 * directory */
	if (w.git)
		cr_assert_eq(t_sh(&w.t, 0, NULL, NULL, NULL, "cp /etc/nginx/"
		    "fastcgi_params %s/", w.pdir), 0, "environment: no "
		    "/etc/nginx/fastcgi_params");
}

static void
start_nginx(void)
{
	char cmd[1200];

	snprintf(w.pdir, sizeof(w.pdir), "%s/nginx", w.t.dir);
	cr_assert_eq(t_sh(&w.t, 0, NULL, NULL, NULL, "mkdir -p %s/tmp",
	    w.pdir), 0);
	snprintf(cmd, sizeof(cmd), "exec nginx -p %s/ -c %s/nginx.conf -e "
	    "%s/error.log -g 'daemon off;'", w.pdir, w.pdir, w.pdir);
	start_proxy("nginx", write_nginx_conf, cmd);
}

static void
write_caddyfile(int port)
{
	char path[300], site_addr[64], app[200], *site, *conf;
	size_t n;

	site = docs_block("caddy");
	snprintf(site_addr, sizeof(site_addr), "http://127.0.0.1:%d {", port);
	snprintf(app, sizeof(app), "reverse_proxy unix/%s {", w.app_sock);
	subst(&site, "caddy", "api.example.com {", site_addr);
	subst(&site, "caddy", "reverse_proxy 127.0.0.1:3000 {", app);
	subst(&site, "caddy", "/run/pat-gate/gate.sock", w.gate_sock);
	n = strlen(site) + 512;
	conf = malloc(n);
	cr_assert_not_null(conf);
	/* no admin endpoint, no certificates: nothing outside pdir */
	snprintf(conf, n, "{\n\tadmin off\n\tauto_https off\n\tstorage "
	    "file_system %s/data\n}\n\n%s", w.pdir, site);
	snprintf(path, sizeof(path), "%s/Caddyfile", w.pdir);
	t_write(path, conf, 0644);
	free(conf);
	free(site);
}

static void
start_caddy(void)
{
	char cmd[1200];

	snprintf(w.pdir, sizeof(w.pdir), "%s/caddy", w.t.dir);
	cr_assert_eq(t_sh(&w.t, 0, NULL, NULL, NULL, "mkdir -p %s/home",
	    w.pdir), 0);
	snprintf(cmd, sizeof(cmd), "cd %s && HOME=%s/home XDG_CONFIG_HOME=%s/"
	    "home/config XDG_DATA_HOME=%s/home/data exec caddy run --config "
	    "%s/Caddyfile --adapter caddyfile", w.pdir, w.pdir, w.pdir, w.pdir,
	    w.pdir);
	start_proxy("caddy", write_caddyfile, cmd);
}

/* ---- requests ----------------------------------------------------------- */

/*
 * One request through the proxy with curl; cfg holds curl config lines
 * (header = "...", user = "..."), read from stdin.  Fails the test when
 * curl itself fails (no answer within its bound), saying so.
 */
static struct resp
req(const char *path, const char *cfg)
{
	struct resp r = { 0 };
	char *err = NULL, *sep;
	int rc;

	rc = t_sh(&w.t, 0, cfg ? cfg : "", &r.raw, &err, "curl -sS -K - -D - "
	    "--max-time %d 'http://127.0.0.1:%d%s'", CURL_MAX_S, w.port, path);
	cr_assert_eq(rc, 0, "curl %s exited %d (no answer from the proxy): %s",
	    path, rc, err);
	free(err);
	cr_assert_eq(sscanf(r.raw, "HTTP/%*s %d", &r.status), 1,
	    "no status line from the proxy");
	sep = strstr(r.raw, "\r\n\r\n");
	cr_assert_not_null(sep, "no end of headers from the proxy");
	*sep = '\0';
	r.head = r.raw;
	r.body = sep + 4;
	return r;
}

static void
resp_free(struct resp *r)
{
	t_free(r->raw);
	memset(r, 0, sizeof(*r));
}

/* What a message may show of an answer: nothing that holds a token. */
static const char *
shown(const char *text)
{
	const char *toks[] = { w.alice, w.alice2, w.bob };
	size_t i;

	for (i = 0; i < 3; i++)
		if (toks[i] != NULL && strstr(text, strchr(toks[i], '|') ?
		    strchr(toks[i], '|') : toks[i]) != NULL)
			return "(withheld: it holds a token)";
	return text;
}

/* Lines "Name: value" in text (headers or the app's echo) named name,
 * case-insensitively: how many, and the first value in *val (malloc'd). */
static int
lines_named(const char *text, const char *name, char **val)
{
	size_t nl = strlen(name);
	const char *p = text;
	int n = 0;

	if (val)
		*val = NULL;
	while (p && *p) {
		size_t len = strcspn(p, "\r\n");

		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			if (n++ == 0 && val) {
				const char *v = p + nl + 1;

				while (*v == ' ')
					v++;
				*val = strndup(v, len - (size_t)(v - p));
			}
		}
		p += len;
		p += strspn(p, "\r\n");
	}
	return n;
}

/* Header `name` of the answer is there exactly once with value `want`. */
static void
assert_header(const struct resp *r, const char *name, const char *want)
{
	char *v = NULL;
	int n = lines_named(r->head, name, &v);

	cr_assert_eq(n, 1, "%d %s headers, want 1:\n%s", n, name, shown(r->head));
	cr_assert_str_eq(v, want, "%s", shown(r->head));
	free(v);
}

/* The app saw header `name` exactly once, as `want`. */
static void
assert_app_saw(const struct resp *r, const char *name, const char *want)
{
	char *v = NULL;
	int n = lines_named(r->body, name, &v);

	cr_assert_eq(n, 1, "the app saw %d %s headers, want 1:\n%s", n, name,
	    shown(r->body));
	cr_assert_str_eq(v, want, "the app saw %s: %s", name, v);
	free(v);
}

static char *
bearer(const char *tok)
{
	char *cfg = NULL;

	cr_assert_geq(asprintf(&cfg, "header = \"Authorization: Bearer %s\"\n",
	    tok), 0);
	return cfg;
}

static char *
basic(const char *user, const char *tok)
{
	char *cfg = NULL;

	cr_assert_geq(asprintf(&cfg, "user = \"%s:%s\"\n", user, tok), 0);
	return cfg;
}

static char *
token_id(const char *tok)
{
	return strndup(tok, strcspn(tok, "|"));
}

/* ---- what both proxies must show --------------------------------------- */

static void
check_answers(const char *proxy)
{
	struct resp r;
	char *cfg, *id, *forged;

	/* no credentials: 401 and RFC 6750's plain challenge */
	r = req("/hello", NULL);
	cr_assert_eq(r.status, 401, "%s, no header: %d", proxy, r.status);
	assert_header(&r, "WWW-Authenticate", "Bearer realm=\"pat\"");
	resp_free(&r);

	/* something that is not a token: invalid_token */
	r = req("/hello", "header = \"Authorization: Bearer not-a-token\"\n");
	cr_assert_eq(r.status, 401, "%s, garbage: %d", proxy, r.status);
	assert_header(&r, "WWW-Authenticate",
	    "Bearer realm=\"pat\", error=\"invalid_token\"");
	resp_free(&r);

	/* alice's token, with who-she-is headers of the client's own
	 * making: the app sees the gate's answer once, never the forgery,
	 * and never the token */
	cfg = bearer(w.alice);
	cr_assert_geq(asprintf(&forged, "%sheader = \"X-Pat-User: mallory\"\n"
	    "header = \"X-Pat-Role: admin\"\nheader = \"X-Pat-Uid: 0\"\n"
	    "header = \"X-Pat-Id: 1\"\n", cfg), 0);
	r = req("/hello", forged);
	cr_assert_eq(r.status, 200, "%s, alice's token: %d\n%s", proxy,
	    r.status, shown(r.raw));
	id = token_id(w.alice);
	assert_app_saw(&r, "X-Pat-User", "alice");
	assert_app_saw(&r, "X-Pat-Uid", "1001");
	assert_app_saw(&r, "X-Pat-Role", "reader");
	assert_app_saw(&r, "X-Pat-Id", id);
	cr_assert_null(strstr(r.body, "mallory"), "a forged X-Pat-User reached "
	    "the app through %s", proxy);
	cr_assert_null(strstr(r.body, "admin"), "a forged X-Pat-Role reached "
	    "the app through %s", proxy);
	cr_assert_eq(lines_named(r.body, "Authorization", NULL), 0,
	    "the token reached the app through %s", proxy);
	cr_assert_null(strstr(r.body, strchr(w.alice, '|')),
	    "the token reached the app through %s", proxy);
	resp_free(&r);
	t_free(forged);
	t_free(cfg);

	/* a forged X-Pat-User alone opens nothing */
	r = req("/hello", "header = \"X-Pat-User: alice\"\n");
	cr_assert_eq(r.status, 401, "%s let a bare X-Pat-User in: %d", proxy,
	    r.status);
	resp_free(&r);

	/* bob's token lacks api.read */
	cfg = bearer(w.bob);
	r = req("/hello", cfg);
	cr_assert_eq(r.status, 403, "%s, bob's api.write token: %d", proxy,
	    r.status);
	assert_header(&r, "WWW-Authenticate", "Bearer realm=\"pat\", "
	    "error=\"insufficient_scope\", scope=\"api.read\"");
	resp_free(&r);

	/* the permission is the proxy's, never the client's: neither an
	 * X-Pat-Perm header nor ?perm= of its own lets bob's token in */
	cr_assert_geq(asprintf(&forged, "%sheader = \"X-Pat-Perm: api.write\"\n",
	    cfg), 0);
	r = req("/hello", forged);
	cr_assert_eq(r.status, 403, "%s, bob with his own X-Pat-Perm: %d", proxy,
	    r.status);
	resp_free(&r);
	r = req("/hello?perm=api.write", cfg);
	cr_assert(r.status == 403 || r.status == 500, "%s, bob with ?perm=: %d "
	    "(403, or 500 where the proxy passes the query on and the gate "
	    "refuses two permissions)", proxy, r.status);
	resp_free(&r);
	t_free(forged);
	t_free(cfg);

	/* Basic, as git and curl -u send it: the owner's name and token */
	cfg = basic("alice", w.alice);
	r = req("/hello", cfg);
	cr_assert_eq(r.status, 200, "%s, Basic alice:her token: %d", proxy,
	    r.status);
	assert_app_saw(&r, "X-Pat-User", "alice");
	resp_free(&r);
	t_free(cfg);

	/* ... and with another user's name: refused */
	cfg = basic("bob", w.alice);
	r = req("/hello", cfg);
	cr_assert_eq(r.status, 401, "%s, Basic bob:alice's token: %d", proxy,
	    r.status);
	assert_header(&r, "WWW-Authenticate",
	    "Bearer realm=\"pat\", error=\"invalid_token\"");
	resp_free(&r);
	t_free(cfg);
	free(id);
}

/* gate_gone: what the proxy answers with no gate (docs/web.md's table) */
static void
check_revoked_then_patd_gone(const char *proxy, int gate_gone)
{
	struct resp r;
	char *cfg = bearer(w.alice), *cfg2 = bearer(w.alice2), *id, *err = NULL;
	int st;

	r = req("/", cfg);
	cr_assert_eq(r.status, 200, "%s, before revoking: %d", proxy, r.status);
	resp_free(&r);
	id = token_id(w.alice);
	cr_assert_eq(t_ctl(&w.t, 0, NULL, NULL, &err, "revoke %s", id), 0,
	    "revoke: %s", err);
	free(err);
	/* the very next request: no cache anywhere lets it through */
	r = req("/", cfg);
	cr_assert_eq(r.status, 401, "%s, revoked token: %d", proxy, r.status);
	assert_header(&r, "WWW-Authenticate",
	    "Bearer realm=\"pat\", error=\"invalid_token\"");
	resp_free(&r);
	r = req("/", cfg2);
	cr_assert_eq(r.status, 200, "%s, her other token: %d", proxy, r.status);
	resp_free(&r);

	/* patd hangs (stopped): the gate gives up at its own timeout and
	 * fails closed; curl's bound (CURL_MAX_S) is all that is timed */
	cr_assert_eq(kill(w.t.pid, SIGSTOP), 0);
	r = req("/", cfg2);
	cr_assert_eq(r.status, 503, "%s, patd stopped: %d\n%s", proxy, r.status,
	    shown(r.raw));
	resp_free(&r);
	/* patd gone: refused at once, 503 again */
	kill(w.t.pid, SIGKILL);
	waitpid(w.t.pid, &st, 0);
	w.t.pid = 0;
	r = req("/", cfg2);
	cr_assert_eq(r.status, 503, "%s, patd gone: %d\n%s", proxy, r.status,
	    shown(r.raw));
	resp_free(&r);
	/* the gate gone too: the proxy's own error, still no way in */
	t_bg_stop(w.gate, SIGTERM);
	r = req("/", cfg2);
	cr_assert_eq(r.status, gate_gone, "%s, gate gone: %d, docs/web.md "
	    "says %d", proxy, r.status, gate_gone);
	resp_free(&r);
	free(id);
	t_free(cfg);
	t_free(cfg2);
}

/*
 * Brute force: 1,000 well-formed guesses at alice's token (her id, wrong
 * secrets) from one client address, with patd's default limits, are
 * refused after rhost_failures (10) with 429 — while a second address's
 * valid token gets 200 at once.  The two addresses are real ones,
 * 127.0.0.2 and 127.0.0.3 (all of 127/8 is loopback; curl --interface
 * binds them), so the proxy runs docs/web.md's configuration unchanged
 * and learns the address from the connection.  The attacker also sends an
 * X-Real-IP and an X-Forwarded-For of its own, new each time: were they
 * passed to the gate, which trusts its Unix-socket peer's headers, every
 * guess would count against another address and none would be refused.
 */
#define GUESSES		1000
#define RHOST_LIMIT	10	/* patd's default rhost_failures */

static void
check_brute_force(const char *proxy)
{
	char path[300], *cfg, tok[PAT_TOKEN_BUFSZ], *out = NULL, *err = NULL,
	    *log, *line, *save = NULL, *retry = NULL;
	unsigned long long id = strtoull(w.alice, NULL, 10);
	int i, n401 = 0, n429 = 0, nother = 0, rc;
	size_t len = 0, cap = GUESSES * 400;
	struct resp r;
	FILE *f;

	cfg = malloc(cap);
	cr_assert_not_null(cfg);
	for (i = 0; i < GUESSES; i++) {
		cr_assert_eq(pat_token_generate(id, tok), 0);
		len += (size_t)snprintf(cfg + len, cap - len,
		    "url = \"http://127.0.0.1:%d/\"\n"
		    "interface = \"127.0.0.2\"\n"
		    "header = \"Authorization: Bearer %s\"\n"
		    "header = \"X-Real-IP: 10.%d.%d.1\"\n"
		    "header = \"X-Forwarded-For: 10.%d.%d.2\"\n"
		    "output = \"/dev/null\"\n"
		    "write-out = \"%%{http_code}\\n\"\n"
		    "max-time = %d\n"
		    "%s", w.port, tok, i / 256, i % 256, i / 256, i % 256,
		    CURL_MAX_S, i + 1 < GUESSES ? "next\n" : "");
		cr_assert_lt(len, cap);
	}
	explicit_bzero(tok, sizeof(tok));
	snprintf(path, sizeof(path), "%s/guesses.curl", w.t.dir);
	f = fopen(path, "we");
	cr_assert_not_null(f);
	fputs(cfg, f);
	fclose(f);
	free(cfg);

	/* one curl, one keep-alive connection, no pause */
	rc = t_sh(&w.t, 0, NULL, &out, &err, "curl -sS -K %s", path);
	cr_assert_eq(rc, 0, "environment: curl exited %d: %s", rc, err);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "401") == 0)
			n401++;
		else if (strcmp(line, "429") == 0)
			n429++;
		else
			nother++;
	}
	free(out);
	free(err);
	t_figure("%s brute force: %d guesses from one address: %d refused "
	    "401, %d refused 429, %d other", proxy, GUESSES, n401, n429, nother);
	cr_assert_eq(n401 + n429 + nother, GUESSES, "%s: %d answers to %d "
	    "guesses", proxy, n401 + n429 + nother, GUESSES);
	cr_assert_eq(nother, 0, "%s: %d guesses got neither 401 nor 429",
	    proxy, nother);
	/* at most two windows' worth got a verdict, should one end meanwhile */
	cr_assert_leq(n401, 2 * RHOST_LIMIT, "%s let %d of %d guesses from one "
	    "address be checked: the per-address limit did not hold (did the "
	    "proxy pass the client's own X-Real-IP/X-Forwarded-For on?)", proxy,
	    n401, GUESSES);
	cr_assert_geq(n429, GUESSES - 2 * RHOST_LIMIT);

	/* at once, a second address: alice's other token works */
	cr_assert_geq(asprintf(&cfg, "interface = \"127.0.0.3\"\n"
	    "header = \"Authorization: Bearer %s\"\n", w.alice2), 0);
	r = req("/", cfg);
	cr_assert_eq(r.status, 200, "%s: a second address's valid token got %d "
	    "after the first address's guesses", proxy, r.status);
	resp_free(&r);
	t_free(cfg);
	/* the first address stays refused even with a good token (a guess
	 * that happens to be right tells it nothing), with a Retry-After */
	cr_assert_geq(asprintf(&cfg, "interface = \"127.0.0.2\"\n"
	    "header = \"Authorization: Bearer %s\"\n", w.alice2), 0);
	r = req("/", cfg);
	cr_assert_eq(r.status, 429, "%s: the guessing address got %d", proxy,
	    r.status);
	cr_assert_eq(lines_named(r.head, "Retry-After", &retry), 1, "%s: %s",
	    proxy, r.head);
	cr_assert_gt(atoi(retry), 0, "Retry-After: %s", retry);
	free(retry);
	resp_free(&r);
	t_free(cfg);

	/* patd saw the real address, never the forged ones */
	log = t_slurp(w.t.log);
	cr_assert_not_null(strstr(log, "rhost=127.0.0.2"), "%s: patd's log "
	    "names no rhost=127.0.0.2", proxy);
	cr_assert_null(strstr(log, "rhost=10."), "%s: a client's forged "
	    "address reached patd", proxy);
	free(log);
}

Test(web, nginx_brute_force_from_one_address_is_refused_not_others)
{
	start_stack("nginx", NULL);
	start_nginx();
	check_brute_force("nginx");
}

Test(web, caddy_brute_force_from_one_address_is_refused_not_others)
{
	start_stack("caddy", NULL);
	start_caddy();
	check_brute_force("caddy");
}

Test(web, nginx_answers_as_documented)
{
	start_stack("nginx", NULL);
	start_nginx();
	check_answers("nginx");
}

Test(web, nginx_revoked_at_once_and_patd_gone_is_503)
{
	start_stack("nginx", NULL);
	start_nginx();
	check_revoked_then_patd_gone("nginx", 500);
}

Test(web, caddy_answers_as_documented)
{
	start_stack("caddy", NULL);
	start_caddy();
	check_answers("caddy");
}

Test(web, caddy_revoked_at_once_and_patd_gone_is_503)
{
	start_stack("caddy", NULL);
	start_caddy();
	check_revoked_then_patd_gone("caddy", 502);
}

/*
 * git over HTTP with a token as the password: docs/web.md's nginx-git
 * block in front of a real `git http-backend` (through fcgiwrap), and real
 * git clients whose password comes from GIT_ASKPASS reading a file.
 */
static int git_as(const char *tokfile, char **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
git_as(const char *tokfile, char **err, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return t_sh(&w.t, 0, NULL, NULL, err, "cd %s && export HOME=%s/home "
	    "GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 GIT_ASKPASS=%s/askpass "
	    "PAT_TOKEN_FILE=%s GIT_HTTP_LOW_SPEED_LIMIT=1 "
	    "GIT_HTTP_LOW_SPEED_TIME=%d && %s", w.t.dir, w.t.dir, w.t.dir, tokfile,
	    CURL_MAX_S, cmd);
}

Test(web, git_clones_with_git_read_and_pushes_only_with_git_write)
{
	char *a, *b, path[300], url[200], *err = NULL;
	int rc;

	need("nginx");
	if (!have("git") || !have("fcgiwrap") ||
	    access("/usr/lib/git-core/git-http-backend", X_OK) != 0)
		cr_skip_test("SKIPPED: git or fcgiwrap missing (scripts/deps.sh "
		    "test installs them)");
	start_stack("nginx", NULL);
	w.git = true;
	t_role(&w.t, "git-reader", "git.read");
	t_role(&w.t, "git-writer", "git.read git.write");
	t_grant(&w.t, "git-reader", "--user alice");
	t_grant(&w.t, "git-writer", "--user bob");
	a = t_token(&w.t, "alice", "git-reader");
	b = t_token(&w.t, "bob", "git-writer");
	snprintf(path, sizeof(path), "%s/alice.tok", w.t.dir);
	t_write(path, a, 0600);
	snprintf(path, sizeof(path), "%s/bob.tok", w.t.dir);
	t_write(path, b, 0600);
	t_free(a);
	t_free(b);
	snprintf(path, sizeof(path), "%s/askpass", w.t.dir);
	t_write(path, "#!/bin/sh\nexec cat \"$PAT_TOKEN_FILE\"\n", 0700);
	cr_assert_eq(t_sh(&w.t, 0, NULL, NULL, NULL, "mkdir -p %s/home %s/git && "
	    "git init -q --bare %s/git/project.git", w.t.dir, w.t.dir, w.t.dir),
	    0);
	snprintf(path, sizeof(path), "%s/fcgi.sock", w.t.dir);
	w.app = t_bg(&w.t, 0, "exec fcgiwrap -s unix:%s", path);
	wait_unix(path, w.app, "fcgiwrap", w.t.log);
	start_nginx();

	/* bob (git.write) clones the empty repository and pushes */
	snprintf(url, sizeof(url), "http://bob@127.0.0.1:%d/git/project.git",
	    w.port);
	snprintf(path, sizeof(path), "%s/bob.tok", w.t.dir);
	rc = git_as(path, &err, "git clone -q %s bob", url);
	cr_assert_eq(rc, 0, "bob's clone: %s", err);
	free(err);
	rc = git_as(path, &err, "cd bob && echo hello >README && git add README "
	    "&& git -c user.name=bob -c user.email=bob@example.com commit -qm "
	    "first && git push -q origin HEAD:refs/heads/%s", "main");
	cr_assert_eq(rc, 0, "bob's push: %s", err);
	free(err);

	/* alice (git.read) clones and sees it */
	snprintf(url, sizeof(url), "http://alice@127.0.0.1:%d/git/project.git",
	    w.port);
	snprintf(path, sizeof(path), "%s/alice.tok", w.t.dir);
	rc = git_as(path, &err, "git clone -q -b main %s alice && grep -qx "
	    "hello alice/README", url);
	cr_assert_eq(rc, 0, "alice's clone: %s", err);
	free(err);
	/* ... but may not push: 403 */
	rc = git_as(path, &err, "cd alice && echo more >>README && git -c "
	    "user.name=alice -c user.email=alice@example.com commit -qam second "
	    "&& git push -q origin HEAD:refs/heads/%s", "main");
	cr_assert_neq(rc, 0, "alice pushed with a git.read token");
	cr_assert(strstr(err, "403"), "alice's push: %s", err);
	free(err);

	/* alice's token under bob's name: 401, whatever it may do */
	snprintf(url, sizeof(url), "http://bob@127.0.0.1:%d/git/project.git",
	    w.port);
	rc = git_as(path, &err, "git clone -q %s mallory", url);
	cr_assert_neq(rc, 0, "a clone as bob with alice's token worked");
	cr_assert(strstr(err, "Authentication failed"), "%s", err);
	free(err);
}
