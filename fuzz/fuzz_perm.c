/* libFuzzer: permission patterns.  A list that parses forms a set that
 * covers each of its members, and its intersection with itself is itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pat_permset s, self;
	char *text, *a, *b;
	size_t i;

	if (size > 8192 || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	pat_permset_init(&s);
	pat_permset_init(&self);
	if (pat_permset_add_list(&s, text) == 0) {
		for (i = 0; i < s.n; i++)
			if (!pat_perm_valid(s.v[i]) ||
			    !pat_permset_covers(&s, s.v[i]))
				abort();
		if (pat_permset_intersect(&s, &s, &self) == 0) {
			a = pat_permset_join(&s);
			b = pat_permset_join(&self);
			if (a && b && strcmp(a, b) != 0)
				abort();
			free(a);
			free(b);
		}
	}
	pat_permset_free(&s);
	pat_permset_free(&self);
	free(text);
	return 0;
}
