/*
 * perm.h - permission patterns and sets of them.
 *
 * A permission is segments of [A-Za-z0-9_-] joined by '.' or ':', such as
 * "pam.sshd" or "svc.billing:read".  A pattern may end in a wildcard segment
 * ("svc.billing:*", "pam.*", "*") that covers every permission with that
 * prefix.  A set is kept normalised: sorted, and no member covered by another,
 * so two sets that grant the same thing compare equal.
 */
#ifndef PAT_PERM_H
#define PAT_PERM_H

#include <stdbool.h>
#include <stddef.h>

#define PAT_PERM_MAX_LEN	128
#define PAT_PERMSET_MAX		256

struct pat_permset {
	size_t	  n;
	char	**v;		/* owned strings, sorted, none covering another */
};

/* True when p is a well-formed permission or pattern. */
bool	pat_perm_valid(const char *p);
/* True when pattern `p` covers every permission `q` covers (q may itself be a
 * pattern).  Both must be valid. */
bool	pat_perm_covers(const char *p, const char *q);

void	pat_permset_init(struct pat_permset *s);
void	pat_permset_free(struct pat_permset *s);
/* Add one pattern.  -EINVAL when malformed, -E2BIG past PAT_PERMSET_MAX,
 * -ENOMEM.  On error the set is unchanged. */
int	pat_permset_add(struct pat_permset *s, const char *p);
/* Add every pattern of a comma- or space-separated list (empty is fine). */
int	pat_permset_add_list(struct pat_permset *s, const char *list);
int	pat_permset_union(struct pat_permset *dst, const struct pat_permset *src);
/* out = a ∩ b: exactly the permissions both cover.  out is reset first. */
int	pat_permset_intersect(const struct pat_permset *a,
	    const struct pat_permset *b, struct pat_permset *out);
/* True when some member covers q. */
bool	pat_permset_covers(const struct pat_permset *s, const char *q);
/* Comma-joined text in a malloc'd string ("" for the empty set), or NULL. */
char   *pat_permset_join(const struct pat_permset *s);

#endif
