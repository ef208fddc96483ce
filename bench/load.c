/*
 * load - bulk-load N tokens into a patd state directory, fast: one
 * transaction per 100 000 tokens instead of one durable commit each.
 * Makes role "bench" (svc.bench:read) granted to root, and writes the
 * first 2000 token texts to DIR/sample (one per line) for the drivers.
 * With BATCH, commits (durably) every BATCH tokens and prints the rate:
 * what group commit would buy patd's one-commit-per-create.  With
 * LOAD_TREE set in the environment, every token after the first is a
 * child of token 1 (a tree to revoke).
 *   load STATE_DIR N [BATCH]
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "keyfile.h"
#include "store.h"

int
main(int argc, char **argv)
{
	struct pat_permset role;
	struct store *s;
	struct tok_rec rec;
	MDB_txn *txn = NULL;
	uint8_t key[PAT_HASH_KEY_LEN];
	char text[PAT_TOKEN_BUFSZ], path[600];
	const char *why = "";
	long n, i, batch = 100000;
	bool tree = getenv("LOAD_TREE") != NULL;
	struct timespec t0, t1;
	FILE *sample;
	int r, dfd;

	if (argc < 3 || argc > 4 || (n = atol(argv[2])) < 1 ||
	    sodium_init() < 0)
		return 2;
	if (argc == 4 && (batch = atol(argv[3])) < 1)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mkdir(argv[1], 0700);
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    keyfile_load(dfd, "token.key", key, &why) < 0 ||
	    store_open(&s, argv[1], (size_t)4096 << 20) < 0) {
		fprintf(stderr, "load: %s\n", why);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/sample", argv[1]);
	sample = fopen(path, "w");
	pat_permset_init(&role);
	pat_permset_add(&role, "svc.bench:read");
	store_begin(s, true, &txn);
	store_role_put(s, txn, "bench", &role);
	store_grant_put(s, txn, 'u', "root", "bench");
	for (i = 0; i < n; i++) {
		memset(&rec, 0, sizeof(rec));
		if ((r = store_next_id(s, txn, &rec.id)) < 0)
			break;
		pat_token_generate(rec.id, text);
		pat_token_hash(key, text, strlen(text), rec.hash);
		rec.created = time(NULL);
		snprintf(rec.user, sizeof(rec.user), "root");
		snprintf(rec.role, sizeof(rec.role), "bench");
		snprintf(rec.by, sizeof(rec.by), "root");
		snprintf(rec.cap, sizeof(rec.cap), "*");
		snprintf(rec.name, sizeof(rec.name), "bench-%ld", i);
		if (tree && i > 0) {	/* all below the first: one tree */
			rec.parent = 1;
			snprintf(rec.by, sizeof(rec.by), "pat:1");
		}
		if ((r = store_token_put(s, txn, &rec, 0)) < 0)
			break;
		/* a spread of ids across the whole store, not just the first */
		if (i % (n > 2000 ? n / 2000 : 1) == 0)
			fprintf(sample, "VERIFY token=%s perm=svc.bench:read\n",
			    text);
		if ((i + 1) % batch == 0) {
			if ((r = store_commit(txn)) < 0 ||
			    (r = store_begin(s, true, &txn)) < 0)
				break;
		}
	}
	if (r == 0 || r == 1)
		r = store_commit(txn);
	fclose(sample);
	store_close(s);
	if (r < 0) {
		fprintf(stderr, "load: %s\n", store_strerror(r));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (argc == 4)
		printf("creates_per_s=%.0f\n", (double)n / ((double)(t1.tv_sec -
		    t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
	return 0;
}
