/*
 * conf.h - pat-gate's settings: defaults, then pat-gate.conf, then flags.
 *
 * The file holds `key = value` lines, '#' comments and blank lines, as
 * patd.conf.  An unknown key, a bad value or a key set twice stops the
 * gate with "FILE:LINE: reason" (exit 2): a typo must never leave a
 * setting silently at its default.  docs/man/pat-gate.8 lists the keys.
 */
#ifndef PAT_GATE_CONF_H
#define PAT_GATE_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#include "addr.h"

#define GATE_CONF_DEFAULT	"/etc/patd/pat-gate.conf"
#define GATE_LISTEN_DEFAULT	"unix:/run/pat-gate/gate.sock"
#define GATE_SERVICE_PREFIX	"http:"	/* fixed: patd's service= */
#define GATE_CONF_LINE_MAX	1024

struct gate_config {
	char		socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char		socket_owner[65];	/* USER or UID; "" = none */
	char		listen[128];		/* "" = systemd, else default */
	char		listen_group[65];	/* "" = the gate's own */
	unsigned	listen_mode;		/* of a unix: socket */
	struct gate_cidrs trusted_proxies;
	unsigned	patd_timeout_ms;
	unsigned	request_timeout;	/* seconds */
	unsigned	max_connections;
	unsigned	threads;
	unsigned	pool_size;
	unsigned	retry_after_default;	/* seconds */
};

void	gate_config_defaults(struct gate_config *c);
/* Set one key from its text; -ENOENT unknown key, -EINVAL bad value
 * (err says why, without the file name). */
int	gate_config_set(struct gate_config *c, const char *key,
	    const char *value, char *err, size_t errlen);
/* Read path over *c.  A missing file is fine unless `must_exist`.  On
 * error *c is untouched and err holds "path:line: reason". */
int	gate_config_load(struct gate_config *c, const char *path,
	    bool must_exist, char *err, size_t errlen);

/* Where to listen: "unix:/abs/path" or "IPv4:PORT" or "[IPv6]:PORT"
 * (numeric only: no name lookups).  Port 0 takes a free one. */
struct gate_listen {
	int		family;		/* AF_UNIX, AF_INET, AF_INET6 */
	char		path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	union {
		struct sockaddr_in  in;
		struct sockaddr_in6 in6;
	} sa;
};
int	gate_listen_parse(const char *spec, struct gate_listen *out);

#endif
