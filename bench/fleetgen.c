/*
 * fleetgen - patToken entries for the fleet rows of make bench: an LDIF on
 * stdout for tokens FIRST .. FIRST+COUNT-1, hashed as patd hashes them
 * under KEYDIR/token.key (created when absent; every patd of the bench
 * gets a copy, so the tokens verify on all of them).  Owner root (the one
 * user every host has: patd skips tokens of users unknown to it), role
 * "bench", cap "*", like bench/load.c's.  Writes VERIFY request lines to
 * SAMPLE for bench/drive and bench/fleetprop: up to 2 000 spread over the
 * range, or every token with "all".
 *   fleetgen KEYDIR BASE FIRST COUNT SAMPLE [all] | slapadd ...
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "keyfile.h"
#include "token.h"

int
main(int argc, char **argv)
{
	uint8_t key[PAT_HASH_KEY_LEN], h[PAT_HASH_LEN];
	char tok[PAT_TOKEN_BUFSZ], b64[sodium_base64_ENCODED_LEN(PAT_HASH_LEN,
	    sodium_base64_VARIANT_ORIGINAL)];
	unsigned long long first, count, i, every;
	const char *why = "", *base;
	long long now = (long long)time(NULL);
	bool all;
	FILE *sample;
	int dfd;

	if (argc < 6 || argc > 7 || sodium_init() < 0)
		return 2;
	base = argv[2];
	first = strtoull(argv[3], NULL, 10);
	count = strtoull(argv[4], NULL, 10);
	all = argc == 7 && strcmp(argv[6], "all") == 0;
	if (first == 0 || count == 0 || first + count > PAT_TOKEN_ID_MAX)
		return 2;
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    keyfile_load(dfd, "token.key", key, &why) < 0) {
		fprintf(stderr, "fleetgen: %s: %s\n", argv[1], why);
		return 1;
	}
	if ((sample = fopen(argv[5], "w")) == NULL) {
		perror(argv[5]);
		return 1;
	}
	every = all || count <= 2000 ? 1 : count / 2000;
	for (i = 0; i < count; i++) {
		unsigned long long id = first + i;

		if (pat_token_generate(id, tok) < 0)
			return 1;
		pat_token_hash(key, tok, strlen(tok), h);
		sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
		    sodium_base64_VARIANT_ORIGINAL);
		printf("dn: patId=%llu,ou=tokens,%s\nobjectClass: patToken\n"
		    "patId: %llu\npatHash:: %s\npatUid: 0\npatUser: root\n"
		    "patRoleName: bench\npatCap: *\npatCreated: %lld\n"
		    "patBy: root\npatName: bench-%llu\n\n", id, base, id, b64,
		    now, id);
		if (i % every == 0)
			fprintf(sample, "VERIFY token=%s perm=svc.bench:read\n",
			    tok);
	}
	sodium_memzero(key, sizeof(key));
	if (fclose(sample) != 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "fleetgen: write error\n");
		return 1;
	}
	return 0;
}
