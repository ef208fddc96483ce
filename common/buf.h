/*
 * buf.h - a growable byte buffer with a hard size limit.
 *
 * The buffer owns its memory.  Every growth is checked against `max`, so a
 * peer can never make us allocate more than the limit the owner chose.
 * pat_buf_free() wipes the contents first: buffers often carry secrets.
 */
#ifndef PAT_BUF_H
#define PAT_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct pat_buf {
	char	*data;		/* always NUL-terminated when len > 0 */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* largest len allowed */
};

/* Initialise an empty buffer that may grow to `max` bytes. */
void	pat_buf_init(struct pat_buf *b, size_t max);
/* Wipe and release; safe on a zeroed or already freed buffer. */
void	pat_buf_free(struct pat_buf *b);
/* Drop the first n bytes (consumed input). */
void	pat_buf_consume(struct pat_buf *b, size_t n);
/* Wipe contents, keep the allocation. */
void	pat_buf_reset(struct pat_buf *b);

/* Append; -E2BIG past max, -ENOMEM.  On error the buffer is unchanged. */
int	pat_buf_add(struct pat_buf *b, const void *p, size_t n);
int	pat_buf_adds(struct pat_buf *b, const char *s);
int	pat_buf_addf(struct pat_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
