/* libFuzzer: the session JWT verifier.  Nothing an attacker can send
 * without the signing key is ever accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jwt_keys k;
	static int ready;
	struct jwt_claims c;
	char *tok;

	if (!ready) {
		uint8_t seed[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };

		if (sodium_init() < 0)
			abort();
		jwt_keys_from_seed(&k, seed);
		ready = 1;
	}
	if ((tok = malloc(size + 1)) == NULL)
		return 0;
	memcpy(tok, data, size);
	tok[size] = '\0';
	if (jwt_verify(&k, tok, 1800000000, &c) == JWT_OK)
		abort();	/* a forgery */
	free(tok);
	return 0;
}
