/* mhd_floor.c - make bench's floor for pat-gate: libmicrohttpd with the gate's threading and limits, answering every request 200 and doing nothing else. */
/*
 * Usage: mhd_floor HOST:PORT [THREADS]   (IPv4; THREADS default 4, the
 * gate's default).  Runs until SIGTERM/SIGINT.  The daemon flags and
 * options are pat-gate's (pat_gate/main.c): an internal polling thread
 * pool on poll(), the same connection limit, idle timeout and per-
 * connection memory, and the answer queued once the request has ended, as
 * the gate does (answering from the first call makes MHD 0.9.75 close the
 * connection).  What the gate adds on top — reading the headers, asking
 * patd, logging — is what the bench row measures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#define FLOOR_CONN_MEMORY	(64 * 1024)	/* GATE_CONN_MEMORY */
#define FLOOR_MAX_CONNECTIONS	512		/* max_connections */
#define FLOOR_IDLE_TIMEOUT	10		/* request_timeout */

static const char body[] = "ok\n";

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (*req_cls == NULL) {
		*req_cls = (void *)(uintptr_t)1;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, "Content-Type",
	    "text/plain; charset=us-ascii") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static int
listen_on(const char *spec)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(spec, ':');
	int fd, one = 1;
	long port;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, host,
	    &sin.sin_addr) != 1)
		return -EINVAL;
	sin.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 512) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	unsigned threads = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 4;
	struct MHD_Daemon *d;
	sigset_t sigs;
	int fd, sig;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: mhd_floor HOST:PORT [THREADS]\n");
		return 2;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((fd = listen_on(argv[1])) < 0) {
		fprintf(stderr, "mhd_floor: cannot listen on %s: %s\n", argv[1],
		    strerror(-fd));
		return 1;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL, handler, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)FLOOR_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)FLOOR_IDLE_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)FLOOR_CONN_MEMORY,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "mhd_floor: libmicrohttpd would not start\n");
		close(fd);
		return 1;
	}
	while (sigwait(&sigs, &sig) != 0)
		;
	MHD_stop_daemon(d);
	return 0;
}
