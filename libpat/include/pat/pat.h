/*
 * pat.h - libpat: ask patd whether a Personal Access Token is good.
 *
 * One call answers "may this token do PERM (as USER)?" for a C service,
 * a web gate or a PAM module:
 *
 *	struct pat_request rq = { .token = tok, .perm = "api.read",
 *	    .service = "myapp", .rhost = addr };
 *	struct pat_identity who;
 *	int r = pat_verify(NULL, &rq, &who);	// one-shot connection
 *	if (r == PAT_OK) ... who.user, who.uid, who.id, who.role ...
 *	else if (pat_is_refusal(r)) ... 401/403: the token is not good ...
 *	else ... patd could not answer: fail closed (503) ...
 *
 * Connections.  pat_open() connects to patd's socket and checks, before
 * sending anything, that the socket file (lstat, no symlink followed) and
 * the process that accepted (SO_PEERCRED) belong to root or to the trusted
 * uid (default: this process's euid), the same two checks pam_pat.so has
 * always made.  A connection may be reused for any number of pat_verify()
 * calls; when patd has closed it meanwhile (idle exit, restart), the next
 * pat_verify() reconnects once, with the same checks, before it fails.
 *
 * Timeouts.  Every pat_verify() has its own deadline, timeout_ms from its
 * start (pat_open's argument; <= 0 means PAT_DEFAULT_TIMEOUT_MS), covering
 * connect, send and answer.  Nothing in libpat blocks longer.
 *
 * Threads.  libpat has no global state.  A pat_conn must be used by one
 * thread at a time (the caller serialises, or keeps one per thread);
 * different pat_conns may be used concurrently.  pat_verify(NULL, ...) is
 * safe from any thread.  The library never installs signal handlers;
 * writes use MSG_NOSIGNAL, so a closed peer never raises SIGPIPE.
 *
 * Errors.  Functions return PAT_OK (0) or a negative PAT_E_* code;
 * pat_strerror() names it.  Out-parameters are left untouched on failure.
 * Refusals (pat_is_refusal() true) are patd's verdict on the token or the
 * request; every other error means no verdict was obtained, and a caller
 * must then refuse access (fail closed).  No secret is ever copied into
 * an error or out-parameter; the token buffer is the caller's to wipe.
 *
 * Link with `pkg-config --libs pat`; symbols are versioned (PAT_1).
 */
#ifndef PAT_PAT_H
#define PAT_PAT_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PAT_DEFAULT_SOCKET	"/run/patd/patd.sock"
#define PAT_DEFAULT_TIMEOUT_MS	3000

/* Sizes of the identity strings, including the terminating NUL. */
#define PAT_USER_SIZE		65
#define PAT_ROLE_SIZE		65
#define PAT_NAME_SIZE		129
#define PAT_PERMS_SIZE		4097

enum pat_status {
	PAT_OK			=   0,
	/* refusals: patd's verdict (pat_is_refusal) */
	PAT_E_MALFORMED		=  -1,	/* not token-shaped / bad checksum;
					 * decided without asking for a token
					 * over 256 bytes or with a byte
					 * outside 0x21-0x7e */
	PAT_E_INVALID		=  -2,	/* unknown token or wrong secret */
	PAT_E_REVOKED		=  -3,
	PAT_E_EXPIRED		=  -4,
	PAT_E_OWNER_GONE	=  -5,	/* the owner no longer exists */
	PAT_E_WRONG_USER	=  -6,	/* the token is not rq->user's */
	PAT_E_PERMISSION	=  -7,	/* the token does not grant rq->perm */
	PAT_E_DENIED		=  -8,	/* this process may not verify it */
	PAT_E_RATE_LIMITED	=  -9,	/* too many failures: wait */
	PAT_E_TOO_DEEP		= -10,	/* more parents than patd allows */
	PAT_E_IDLE		= -11,	/* unused for longer than its role's
					 * max_idle */
	PAT_E_BINDING		= -12,	/* bound to other networks or
					 * services than rq's rhost/service */
	/* no verdict: fail closed */
	PAT_E_ARGUMENT		= -20,	/* no token, or another request field
					 * too long or not printable ASCII
					 * (checked before connecting) */
	PAT_E_NOMEM		= -21,
	PAT_E_NO_SOCKET		= -22,	/* no socket at the path */
	PAT_E_UNTRUSTED		= -23,	/* socket file or its peer is not
					 * root's or the trusted uid's */
	PAT_E_CONNECT		= -24,	/* cannot reach patd (refused, ...) */
	PAT_E_TIMEOUT		= -25,	/* the deadline passed */
	PAT_E_PROTOCOL		= -26,	/* a garbled, closed or inconsistent
					 * answer */
	PAT_E_SERVER		= -27,	/* patd could not answer (busy,
					 * internal, store-full, ...) */
};

typedef struct pat_conn pat_conn;

struct pat_request {
	const char	*token;		/* required: "17|pat-..." */
	const char	*user;		/* NULL, or the token must be this
					 * user's */
	const char	*perm;		/* NULL, or one permission without
					 * wildcard the token must grant */
	const char	*service;	/* NULL, or <= 64 bytes 0x21-0x7e:
					 * recorded as last use */
	const char	*rhost;		/* NULL, or <= 128 bytes 0x21-0x7e:
					 * the client's address */
};

struct pat_identity {
	uint64_t	id;
	uid_t		uid;
	int64_t		expires;		/* Unix time; 0: never */
	char		user[PAT_USER_SIZE];
	char		role[PAT_ROLE_SIZE];
	char		name[PAT_NAME_SIZE];
	char		perms[PAT_PERMS_SIZE];	/* effective, comma-separated */
	int		new_host;	/* 1: rq->rhost is not among the
					 * last 8 hosts the token was used
					 * from (its first use ever is not
					 * new); else 0 */
};

/* Sizes of struct pat_refusal's strings, including the NUL. */
#define PAT_WHY_SIZE		24

/*
 * Why patd refused a token whose secret matched (PAT_E_REVOKED,
 * PAT_E_EXPIRED, PAT_E_IDLE): for telling its owner.  Never given for an
 * unknown token or a wrong secret.
 */
struct pat_refusal {
	uint64_t	id;		/* the token's id */
	char		why[PAT_WHY_SIZE];	/* "reported" (revoked by
					 * someone who held its secret),
					 * "rotated-token-reused" (its
					 * family was revoked when a
					 * rotated-away token came back),
					 * "revoked", "expired",
					 * "max_lifetime" (its role's),
					 * "idle" */
	char		role[PAT_ROLE_SIZE];
	int64_t		ended;		/* when it stopped working (Unix
					 * time); 0: not said */
	int64_t		max_idle;	/* "idle": the role's limit in
					 * seconds; else 0 */
};

/*
 * Connect.  socket_path NULL: PAT_DEFAULT_SOCKET (libpat never reads the
 * environment: it runs inside setuid programs and PAM stacks).  On
 * success *cp owns a connection the caller frees with pat_close().
 */
int	pat_open(pat_conn **cp, const char *socket_path, int timeout_ms);
/* The same, trusting socket files and peers of `trusted_uid` besides
 * root's (pat_open trusts geteuid()). */
int	pat_open_trusted(pat_conn **cp, const char *socket_path,
	    int timeout_ms, uid_t trusted_uid);
/* Close and free; NULL is fine. */
void	pat_close(pat_conn *c);

/*
 * Verify.  c NULL: a one-shot connection to PAT_DEFAULT_SOCKET with the
 * default timeout.  On PAT_OK *who (may be NULL) describes the token.
 * On a refusal or error *who is untouched.
 */
int	pat_verify(pat_conn *c, const struct pat_request *rq,
	    struct pat_identity *who);

/* After PAT_E_RATE_LIMITED on c: the seconds patd said to wait (its
 * `retry_after=`, at least 1); 0 after any other result. */
int	pat_retry_after(const pat_conn *c);

/* After a refusal on c that came with a reason (see struct pat_refusal):
 * fills *out and returns 1; else returns 0 and leaves *out untouched. */
int	pat_refusal_detail(const pat_conn *c, struct pat_refusal *out);
/* The code's name ("revoked", "timeout", ...); never NULL. */
const char *pat_strerror(int status);
/* 1 when status is patd's verdict against the token or request. */
int	pat_is_refusal(int status);

#ifdef __cplusplus
}
#endif

#endif
