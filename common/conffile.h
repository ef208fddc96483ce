/*
 * conffile.h - the one reader of "key = value" files (patd.conf,
 * pat-gate.conf).
 *
 * Lines are "key = value", blank, or comments from '#' to the end of the
 * line; spaces around key and value are dropped.  A line longer than
 * line_max bytes, a line without '=', an empty value, a key set twice, or
 * whatever `set` refuses stops the read with "PATH:LINE: why" in err.  The
 * reader knows nothing of the keys: `set` checks and stores each pair (in
 * a copy the caller keeps only when the whole file was read).
 */
#ifndef PAT_CONFFILE_H
#define PAT_CONFFILE_H

#include <stddef.h>

#define PAT_CONF_KEYS_MAX	64	/* distinct keys one file may set */
#define PAT_CONF_KEY_MAX	63

/* 0 when key and value were taken; -1 with why (whylen bytes) filled. */
typedef int (*pat_conf_set_fn)(void *arg, const char *key, const char *value,
	    char *why, size_t whylen);

/*
 * Read path.  0 when every line was taken; -ENOENT (and the like, err
 * says "PATH: strerror") when it cannot be opened; -EINVAL when a line
 * was refused (err says where and why).
 */
int	pat_conf_read(const char *path, size_t line_max, pat_conf_set_fn set,
	    void *arg, char *err, size_t errlen);

#endif
