/*
 * http.h - pat-gate's answer to a forward-auth request (any method, any
 * path): read the permission, the credentials and the client's address,
 * ask patd through the pool, map its verdict to a status (pat-gate(8)
 * lists them), and log one line.
 */
#ifndef PAT_GATE_HTTP_H
#define PAT_GATE_HTTP_H

#include <stddef.h>

#include <microhttpd.h>

#include "conf.h"
#include "pool.h"

#define GATE_BODY_MAX	(64 * 1024)	/* a body is read and dropped */

struct gate_http {
	const struct gate_config *cfg;
	struct gate_pool	 *pool;
};

/* MHD_AccessHandlerCallback; cls is a struct gate_http. */
enum MHD_Result gate_http_handler(void *cls, struct MHD_Connection *conn,
	    const char *url, const char *method, const char *version,
	    const char *upload_data, size_t *upload_data_size, void **req_cls);

#endif
