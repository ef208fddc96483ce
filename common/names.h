/*
 * names.h - what a role, user, group and token name may be: one rule for
 * patd, which enforces it, and patctl, which checks first so a person is
 * told in plain words what is wrong.
 */
#ifndef PAT_NAMES_H
#define PAT_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define PAT_ROLE_NAME_MAX	64	/* bytes */
#define PAT_USER_NAME_MAX	64
#define PAT_TOKEN_NAME_MAX	128
#define PAT_ROLE_PERMS_MAX	64	/* patterns in one role */

/* Letters, digits, '.', '_', '-'; 1 to PAT_ROLE_NAME_MAX bytes. */
bool	pat_role_name_valid(const char *s);
/* A user or group name: letters, digits, '.', '_', '-', '@', '$' (what
 * useradd and SSSD produce), not starting with '-'; 1 to
 * PAT_USER_NAME_MAX bytes. */
bool	pat_user_name_valid(const char *s);
/* A token's name: printable ASCII (spaces allowed), at most
 * PAT_TOKEN_NAME_MAX bytes; may be empty. */
bool	pat_token_name_valid(const char *s);
/* A value a peer gives that patd stores and logs (VERIFY's service=,
 * rhost=): printable ASCII without space (0x21-0x7e), at most max bytes,
 * so it never carries a line break, a space-like character or bytes a log
 * reader would decode into a second record.  May be empty. */
bool	pat_plain_value_valid(const char *s, size_t max);

#endif
