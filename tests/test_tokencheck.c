/* test_tokencheck.c - the whole secret hash and owner-gone matter (#17). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "harness.h"
#include "keyfile.h"
#include "store.h"

static struct tpatd t;

static void
setup(void)
{
	cr_assert(sodium_init() >= 0);
	t_start(&t, NULL);
	t_role(&t, "ssh", "pam.sshd");
	t_grant(&t, "ssh", "--user alice");
}

static void
teardown(void)
{
	t_stop(&t);
}

TestSuite(tokencheck, .init = setup, .fini = teardown, .timeout = 60);

/* patd's answer code to VERIFY of tok as root (malloc'd), "OK" when it
 * accepts, "none" when it says nothing. */
static char *
verify(const char *tok, const char *user)
{
	char req[256], *r, *code;

	snprintf(req, sizeof(req), "VERIFY token=%s%s%s perm=pam.sshd\n", tok,
	    user ? " user=" : "", user ? user : "");
	r = t_raw(&t, req, 1);
	if (strncmp(r, "OK", 2) == 0)
		code = strdup("OK");
	else if ((code = t_field(r, "ERR", "code")) == NULL)
		code = strdup("none");
	t_free(r);
	return code;
}

static void
expect_verify(const char *tok, const char *user, const char *want,
    const char *why)
{
	char *got = verify(tok, user);

	cr_assert_str_eq(got, want, "%s", why);
	free(got);
}

/* The stored record of token id, with patd stopped: `edit` changes it. */
static void
edit_record(uint64_t id, void (*edit)(struct tok_rec *))
{
	struct tok_rec rec;
	struct store *s;
	MDB_txn *txn;

	t_kill9(&t);
	cr_assert_eq(store_open(&s, t.state, (size_t)1024 << 20), 0);
	cr_assert_eq(store_begin(s, true, &txn), 0);
	cr_assert_eq(store_token_get(s, txn, id, &rec), 0);
	edit(&rec);
	cr_assert_eq(store_token_put(s, txn, &rec, rec.parent), 0);
	cr_assert_eq(store_commit(txn), 0);
	sodium_memzero(&rec, sizeof(rec));
	store_close(s);
	t_restart(&t);
}

static void
flip_last_hash_byte(struct tok_rec *rec)
{
	rec->hash[PAT_HASH_LEN - 1] ^= 0x01;
}

/*
 * A token whose stored hash differs from its own only in the last byte is
 * refused: a comparison of any prefix of the hash would accept it.
 */
Test(tokencheck, a_hash_wrong_only_in_its_last_byte_is_refused)
{
	char *tok = t_token(&t, "alice", "ssh");

	expect_verify(tok, "alice", "OK", "control: the real token");
	edit_record(strtoull(tok, NULL, 10), flip_last_hash_byte);
	expect_verify(tok, "alice", "invalid-token", "the stored hash differs "
	    "in its last byte only, and the token was accepted");
	edit_record(strtoull(tok, NULL, 10), flip_last_hash_byte);
	expect_verify(tok, "alice", "OK", "control: the hash put back");
	t_free(tok);
}

/*
 * A candidate with the real token's id and a valid checksum whose keyed
 * hash matches the real one in its first 2 bytes (found offline with the
 * installation's key, ~65k tries) is refused; random wrong secrets differ
 * in the first byte 255 times in 256 and would not show this.
 */
Test(tokencheck, a_secret_whose_hash_shares_a_prefix_is_refused)
{
	uint8_t key[PAT_HASH_KEY_LEN], real[PAT_HASH_LEN], h[PAT_HASH_LEN];
	char cand[PAT_TOKEN_BUFSZ], *tok = t_token(&t, "alice", "ssh");
	const char *why = "";
	uint64_t id = strtoull(tok, NULL, 10), got;
	long tries;
	int dfd;

	dfd = open(t.state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(keyfile_load(dfd, "token.key", key, &why), 0, "%s", why);
	close(dfd);
	pat_token_hash(key, tok, strlen(tok), real);
	for (tries = 0; tries < 4000000; tries++) {
		cr_assert_eq(pat_token_generate(id, cand), 0);
		pat_token_hash(key, cand, strlen(cand), h);
		if (memcmp(h, real, 2) == 0 && memcmp(h, real, PAT_HASH_LEN))
			break;
	}
	sodium_memzero(key, sizeof(key));
	cr_assert_lt(tries, 4000000, "no candidate found");
	cr_assert_eq(pat_token_parse(cand, strlen(cand), &got), 0,
	    "the candidate is well formed");
	cr_assert_eq(got, id);
	t_figure("tokencheck: a secret whose hash shares 2 bytes with the "
	    "real one found in %ld tries", tries + 1);
	expect_verify(tok, "alice", "OK", "control: the real token");
	expect_verify(cand, "alice", "invalid-token", "a secret whose hash "
	    "matches only in its first 2 bytes was accepted");
	expect_verify(cand, NULL, "invalid-token", "… without user= too");
	sodium_memzero(cand, sizeof(cand));
	sodium_memzero(h, sizeof(h));
	t_free(tok);
}

/* The NSS users patd sees, with alice as given (NULL: no alice). */
static void
users(const char *alice)
{
	char pw[512];

	snprintf(pw, sizeof(pw), "root:x:0:0:root:/root:/bin/sh\n%s"
	    "bob:x:1002:1002:Bob:/tmp:/bin/sh\n"
	    "carol:x:1003:1003:Carol:/tmp:/bin/sh\n", alice ? alice : "");
	t_write(t.passwd, pw, 0644);
}

static void
expect_pam(const char *tok, const char *want, const char *why)
{
	char *got = t_pam_login(&t, "sshd", "alice", tok, NULL);

	cr_assert_str_eq(got, want, "%s", why);
	free(got);
}

/* A token's owner deleted: refused as owner-gone, by patd and through
 * pam_pat.so; alice back with her uid, the token works again. */
Test(tokencheck, a_token_whose_owner_was_deleted_is_owner_gone)
{
	char *tok = t_token(&t, "alice", "ssh");

	expect_verify(tok, "alice", "OK", "control: alice exists");
	expect_pam(tok, "PAM_SUCCESS", "control: through pam_pat.so");
	users(NULL);
	expect_verify(tok, "alice", "owner-gone", "alice was deleted");
	expect_verify(tok, NULL, "owner-gone", "alice was deleted (no user=)");
	expect_pam(tok, "PAM_AUTH_ERR", "alice was deleted (pam_pat.so)");
	users("alice:x:1001:1001:Alice:/tmp:/bin/sh\n");
	expect_verify(tok, "alice", "OK", "alice is back with uid 1001");
	t_free(tok);
}

/* A token's owner deleted and the name given to a new uid: the new alice
 * is not the token's owner. */
Test(tokencheck, a_token_whose_owner_name_has_a_new_uid_is_owner_gone)
{
	char *tok = t_token(&t, "alice", "ssh");

	expect_verify(tok, "alice", "OK", "control: alice exists");
	users("alice:x:1005:1005:Alice II:/tmp:/bin/sh\n");
	expect_verify(tok, "alice", "owner-gone", "alice re-created as 1005");
	expect_verify(tok, NULL, "owner-gone", "alice re-created (no user=)");
	expect_pam(tok, "PAM_AUTH_ERR", "alice re-created (pam_pat.so)");
	t_free(tok);
}
