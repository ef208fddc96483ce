/* libFuzzer: the wire decoder.  Whatever parses must re-encode to a line
 * that parses back to the same verb and values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pat_msg m, back;
	struct pat_buf b;
	size_t i;

	if (pat_msg_parse(&m, (const char *)data, size) != 0)
		return 0;
	pat_buf_init(&b, 4 * PAT_LINE_MAX);
	pat_line_begin(&b, m.verb);
	for (i = 0; i < m.nfields; i++)
		pat_line_field(&b, m.f[i].key, m.f[i].val);
	if (pat_msg_parse(&back, b.data, b.len) != 0 && b.len <= PAT_LINE_MAX)
		abort();	/* our own encoding must parse */
	if (b.len <= PAT_LINE_MAX) {
		if (strcmp(back.verb, m.verb) != 0 || back.nfields != m.nfields)
			abort();
		for (i = 0; i < m.nfields; i++)
			if (strcmp(back.f[i].val, m.f[i].val) != 0)
				abort();
	}
	pat_buf_free(&b);
	return 0;
}
