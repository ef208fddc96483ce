/* conf.c - pat-gate.conf and defaults; see conf.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pat/pat.h>

#include "conffile.h"
#include "conf.h"
#include "names.h"

enum kind { K_PATH, K_OWNER, K_LISTEN, K_GROUP, K_MODE, K_CIDRS, K_UINT };

static const struct key {
	const char	*name;
	enum kind	 kind;
	size_t		 off;
	size_t		 size;		/* strings: buffer size */
	unsigned	 min, max;	/* numbers */
} keys[] = {
#define S(n, k, f) { n, k, offsetof(struct gate_config, f), \
	sizeof(((struct gate_config *)0)->f), 0, 0 }
#define U(n, f, lo, hi) { n, K_UINT, offsetof(struct gate_config, f), 0, lo, hi }
	S("socket", K_PATH, socket),
	S("socket_owner", K_OWNER, socket_owner),
	S("listen", K_LISTEN, listen),
	S("listen_group", K_GROUP, listen_group),
	{ "listen_mode", K_MODE, offsetof(struct gate_config, listen_mode), 0,
	  0, 0777 },
	{ "trusted_proxies", K_CIDRS, offsetof(struct gate_config,
	  trusted_proxies), 0, 0, 0 },
	U("patd_timeout_ms", patd_timeout_ms, 50, 60000),
	U("request_timeout", request_timeout, 1, 3600),
	U("max_connections", max_connections, 1, 65536),
	U("threads", threads, 1, 256),
	U("pool_size", pool_size, 1, 1024),
	U("retry_after_default", retry_after_default, 1, 86400),
#undef S
#undef U
};

void
gate_config_defaults(struct gate_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket, sizeof(c->socket), "%s", PAT_DEFAULT_SOCKET);
	c->listen_mode = 0660;
	c->patd_timeout_ms = 2000;
	c->request_timeout = 10;
	c->max_connections = 512;
	c->threads = 4;
	c->pool_size = 4;
	c->retry_after_default = 60;
}

static const struct key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Digits only, base `base`, at most max. */
static int
parse_uint(const char *s, unsigned base, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	unsigned d;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || (d = (unsigned)(*s - '0')) >= base)
			return -EINVAL;
		if (v > (max - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int
gate_listen_parse(const char *spec, struct gate_listen *out)
{
	struct gate_listen l;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned long port;
	size_t n;

	memset(&l, 0, sizeof(l));
	if (strncmp(spec, "unix:", 5) == 0) {
		if (spec[5] != '/' || strlen(spec + 5) >= sizeof(l.path))
			return -EINVAL;
		l.family = AF_UNIX;
		memcpy(l.path, spec + 5, strlen(spec + 5) + 1);
		*out = l;
		return 0;
	}
	if ((colon = strrchr(spec, ':')) == NULL ||
	    (n = (size_t)(colon - spec)) >= sizeof(host) ||
	    parse_uint(colon + 1, 10, 65535, &port) < 0)
		return -EINVAL;
	memcpy(host, spec, n);
	host[n] = '\0';
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &l.sa.in6.sin6_addr) != 1)
			return -EINVAL;
		l.family = l.sa.in6.sin6_family = AF_INET6;
		l.sa.in6.sin6_port = htons((uint16_t)port);
	} else {
		if (inet_pton(AF_INET, host, &l.sa.in.sin_addr) != 1)
			return -EINVAL;
		l.family = l.sa.in.sin_family = AF_INET;
		l.sa.in.sin_port = htons((uint16_t)port);
	}
	*out = l;
	return 0;
}

int
gate_config_set(struct gate_config *c, const char *key, const char *value,
    char *err, size_t errlen)
{
	const struct key *k = find_key(key);
	struct gate_listen l;
	unsigned long v;
	char *dst;
	int r;

	if (k == NULL) {
		snprintf(err, errlen, "unknown key '%.64s'", key);
		return -ENOENT;
	}
	dst = (char *)c + k->off;
	switch (k->kind) {
	case K_PATH:
		if (value[0] != '/' || strlen(value) >= k->size) {
			snprintf(err, errlen, "%s must be an absolute path "
			    "shorter than %zu bytes", key, k->size);
			return -EINVAL;
		}
		break;
	case K_OWNER:
		if (!pat_user_name_valid(value)) {
			snprintf(err, errlen, "%s must be a user name or a "
			    "uid", key);
			return -EINVAL;
		}
		break;
	case K_GROUP:
		if (!pat_user_name_valid(value)) {
			snprintf(err, errlen, "%s must be a group name or a "
			    "gid", key);
			return -EINVAL;
		}
		break;
	case K_LISTEN:
		if (strlen(value) >= k->size ||
		    gate_listen_parse(value, &l) < 0) {
			snprintf(err, errlen, "%s must be unix:/PATH, "
			    "IPv4:PORT or [IPv6]:PORT", key);
			return -EINVAL;
		}
		break;
	case K_MODE:
		if (value[0] != '0' || parse_uint(value, 8, k->max, &v) < 0) {
			snprintf(err, errlen, "%s must be an octal mode such "
			    "as 0660", key);
			return -EINVAL;
		}
		*(unsigned *)(void *)dst = (unsigned)v;
		return 0;
	case K_CIDRS:
		if ((r = gate_cidrs_parse(value, &c->trusted_proxies)) < 0) {
			snprintf(err, errlen, "%s must be a comma-separated "
			    "list of at most %d IP addresses or networks "
			    "(10.0.0.0/8, ::1)%s", key, GATE_CIDRS_MAX,
			    r == -EINVAL ? " without host bits past the prefix" :
			    "");
			return -EINVAL;
		}
		return 0;
	case K_UINT:
		if (parse_uint(value, 10, k->max, &v) < 0 || v < k->min) {
			snprintf(err, errlen, "%s must be a whole number from "
			    "%u to %u", key, k->min, k->max);
			return -EINVAL;
		}
		*(unsigned *)(void *)dst = (unsigned)v;
		return 0;
	}
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

/* pat_conf_read's callback: one pair into the copy being filled. */
static int
set_pair(void *arg, const char *key, const char *value, char *why,
    size_t whylen)
{
	return gate_config_set(arg, key, value, why, whylen);
}

int
gate_config_load(struct gate_config *c, const char *path, bool must_exist,
    char *err, size_t errlen)
{
	struct gate_config next = *c;
	int r;

	r = pat_conf_read(path, GATE_CONF_LINE_MAX, set_pair, &next, err, errlen);
	if (r == -ENOENT && !must_exist)
		return 0;	/* no file: the defaults */
	if (r == 0)
		*c = next;
	return r;
}
