/* libFuzzer: the token parser.  Parsing never reads past the input and
 * agrees with the shape check and the id range. */
#include <stdint.h>
#include <stdlib.h>

#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	uint64_t id = 0;

	if (pat_token_parse(s, size, &id) == 0 &&
	    (!pat_token_shaped(s, size) || id == 0 || id > PAT_TOKEN_ID_MAX))
		abort();
	return 0;
}
