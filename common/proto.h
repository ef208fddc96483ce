/*
 * proto.h - the patd wire format (version 1), shared by patd and clients.
 *
 * One message is one line: a VERB (or OK / ERR / a data tag such as ITEM)
 * followed by space-separated key=value fields.  Values are percent-encoded:
 * every byte outside '!'..'~', and '%' itself, is written %XX.  Decoded values
 * may not hold control characters, so a value can never forge a line or a
 * log entry.  docs/protocol.md is the reference.
 */
#ifndef PAT_PROTO_H
#define PAT_PROTO_H

#include <stddef.h>

#include "buf.h"

#define PAT_PROTO_VERSION	1
#define PAT_LINE_MAX		4096	/* bytes in one line, without '\n' */
#define PAT_FIELDS_MAX		32
#define PAT_KEY_MAX		32

struct pat_field {
	const char	*key;
	const char	*val;
};

struct pat_msg {
	const char	*verb;
	size_t		 nfields;
	struct pat_field f[PAT_FIELDS_MAX];
	size_t		 len;				/* bytes of text used */
	char		 text[PAT_LINE_MAX + 1];	/* decoded storage */
};

/*
 * Parse one line (without its '\n').  Returns 0, or -EINVAL for anything
 * malformed (bad verb or key, duplicate key, bad escape, control byte,
 * too many fields), -E2BIG for a line over PAT_LINE_MAX.  What m held
 * before is wiped first.  Initialise m with pat_msg_init (or zeroes).
 */
int		 pat_msg_parse(struct pat_msg *m, const char *line, size_t len);
/* Value of a field, or NULL when absent. */
const char	*pat_msg_get(const struct pat_msg *m, const char *key);
/* Wipe: a message may carry a token.  Costs what the last line used. */
void		 pat_msg_wipe(struct pat_msg *m);

/* Start a line with VERB / OK / ERR / a data tag. */
int		 pat_line_begin(struct pat_buf *b, const char *verb);
/* Append " key=<encoded value>". */
int		 pat_line_field(struct pat_buf *b, const char *key, const char *val);
int		 pat_line_fieldu(struct pat_buf *b, const char *key,
		    unsigned long long v);
int		 pat_line_fieldi(struct pat_buf *b, const char *key, long long v);
/* Terminate the line with '\n'. */
int		 pat_line_end(struct pat_buf *b);

/* Strict decimal parse of a whole string into [0, max]; -EINVAL otherwise. */
int		 pat_parse_u64(const char *s, unsigned long long max,
		    unsigned long long *out);
int		 pat_parse_i64(const char *s, long long *out);

#endif
