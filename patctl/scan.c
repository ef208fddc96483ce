/* scan.c - patctl scan: find leaked tokens in files, and revoke them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "ctl.h"
#include "token.h"

/*
 * A token is "<id>|pat-<40 base62>", or with the '|' written %7C as in a
 * URL or a web server's log.  Only strings whose checksum is right count:
 * a look-alike is one in 2^32 luck, so every hit is a real token (live or
 * not).  The id is the run of digits before the separator (at most 18);
 * the checksum covers the 34 random characters, not the id.
 */
#define CHUNK		65536
#define BACK		(PAT_TOKEN_ID_DIGITS + 1)	/* digits, and one more */
#define AHEAD		(3 + 4 + PAT_TOKEN_BODY_LEN + 1)	/* "%7C" "pat-" body,
								 * boundary */
#define DEPTH_MAX	64	/* directories deep */

struct scan {
	struct ctl	*c;
	bool		 revoke;
	size_t		 found, revoked, items, unreadable;
	int		 ex;		/* the worst outcome so far */
	FILE		*out;		/* the items (--json: a memory stream) */
};

static void
worse(struct scan *s, int ex)
{
	if (ex > s->ex)
		s->ex = ex;
}

/* A file that could not be scanned: said on stderr at once (also with
 * --json, whose document then ends in an error), and the scan goes on. */
static void
skipped(struct scan *s, const char *path, const char *why)
{
	fprintf(stderr, "patctl scan: %s: %s\n", shown(path), why);
	s->unreadable++;
	worse(s, EX_FAILED);
}

static bool
b62(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= 'a' && ch <= 'z');
}

static bool
digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}


/* REVOKE token=: whoever holds the secret may; no other credential. */
static int
revoke_text(struct scan *s, const char *text, const char **state)
{
	struct pat_msg ok = { 0 };
	struct pat_buf req;
	struct ctl *c = s->c;
	int ex;

	pat_buf_init(&req, PAT_LINE_MAX);
	pat_line_begin(&req, "REVOKE");
	pat_line_field(&req, "token", text);
	ex = ctl_call(c, &req, NULL, NULL, &ok);
	pat_buf_free(&req);
	*state = "error";
	if (ex == EX_OK) {
		*state = pat_msg_get(&ok, "already") != NULL ? "already" :
		    "revoked";
		if (pat_msg_get(&ok, "already") == NULL)
			s->revoked++;
	} else if (strcmp(c->err_code, "invalid-token") == 0)
		*state = "unknown";	/* not this patd's, or purged */
	pat_msg_wipe(&ok);
	return ex;
}

/* One hit: file:line:id, never the secret. */
static void
hit(struct scan *s, const char *file, unsigned long long line,
    const char *text, unsigned long long id)
{
	const char *state = NULL;
	struct ctl *c = s->c;
	bool json = c->json;

	s->found++;
	worse(s, EX_REFUSED);
	if (s->revoke) {
		/* a refusal for this token is part of the report, not the
		 * command's failure; only patd unreachable/failing is */
		c->json = false;
		c->failed = false;
		(void)revoke_text(s, text, &state);
		c->json = json;
		if (strcmp(state, "error") == 0)
			worse(s, EX_FAILED);
	}
	if (json) {
		fputs(s->items++ ? "," : "", s->out);
		fputs("{\"file\":", s->out);
		json_str(s->out, file);
		fprintf(s->out, ",\"line\":%llu,\"id\":%llu", line, id);
		if (state != NULL) {
			fputs(",\"revoke\":", s->out);
			json_str(s->out, state);
		}
		fputc('}', s->out);
	} else {
		fprintf(s->out, "%s:%llu:%llu", shown(file), line, id);
		if (state != NULL)
			fprintf(s->out, "\t%s", state);
		fputc('\n', s->out);
	}
}

/* A token starting at sep (the '|' or "%7C") of buf[0..n)?  at_end: no
 * more bytes follow buf. */
static void
try_at(struct scan *s, const char *file, unsigned long long line,
    const unsigned char *buf, size_t n, size_t sep, bool at_end)
{
	char text[PAT_TOKEN_BUFSZ];
	size_t j = sep, w = buf[sep] == '|' ? 1 : 3, b, len;
	unsigned long long id;
	uint64_t v;

	while (j > 0 && digit(buf[j - 1]) && sep - j <= PAT_TOKEN_ID_DIGITS)
		j--;
	if (j == sep || sep - j > PAT_TOKEN_ID_DIGITS)
		return;
	b = sep + w;
	if (n - b < 4 + PAT_TOKEN_BODY_LEN || memcmp(buf + b, "pat-", 4) != 0)
		return;
	b += 4;
	for (len = 0; len < PAT_TOKEN_BODY_LEN; len++)
		if (!b62(buf[b + len]))
			return;
	if (b + len < n ? b62(buf[b + len]) : !at_end)
		return;		/* longer than a token: not one */
	len = sep - j;
	memcpy(text, buf + j, len);
	memcpy(text + len, "|pat-", 5);
	memcpy(text + len + 5, buf + b, PAT_TOKEN_BODY_LEN);
	len += 5 + PAT_TOKEN_BODY_LEN;
	text[len] = '\0';
	if (pat_token_parse(text, len, &v) == 0) {
		id = v;
		hit(s, file, line, text, id);
	}
	sodium_memzero(text, sizeof(text));
}

/* Scan one open file, in chunks: any size, any bytes, lines of any
 * length. */
static void
scan_fd(struct scan *s, int fd, const char *file)
{
	static unsigned char buf[BACK + CHUNK + AHEAD];
	unsigned long long line = 1;
	size_t n = 0, i = 0, stop, keep;
	ssize_t r;
	bool eof = false;

	while (!eof) {
		while (n < sizeof(buf)) {
			r = read(fd, buf + n, sizeof(buf) - n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				skipped(s, file, strerror(errno));
				goto out;
			}
			if (r == 0) {
				eof = true;
				break;
			}
			n += (size_t)r;
		}
		/* sep positions whose token would end inside buf */
		stop = eof ? n : n - AHEAD;
		for (; i < stop; i++) {
			if (buf[i] == '\n')
				line++;
			else if (buf[i] == '|' || (buf[i] == '%' && i + 2 < n &&
			    buf[i + 1] == '7' && (buf[i + 2] | 0x20) == 'c'))
				try_at(s, file, line, buf, n, i, eof);
		}
		if (eof)
			break;
		/* keep the digits a separator may look back on, and what is
		 * not scanned yet */
		keep = n - (stop - BACK);
		memmove(buf, buf + stop - BACK, keep);
		n = keep;
		i = BACK;
	}
out:
	sodium_memzero(buf, sizeof(buf));
}

static void scan_path(struct scan *s, int dirfd, const char *name,
    const char *path, int depth);

static void
scan_dir(struct scan *s, int fd, const char *path, int depth)
{
	struct dirent *e;
	char *sub;
	DIR *d;

	if ((d = fdopendir(fd)) == NULL) {
		skipped(s, path, strerror(errno));
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (asprintf(&sub, "%s/%s", path, e->d_name) < 0) {
			skipped(s, path, "out of memory");
			break;
		}
		scan_path(s, dirfd(d), e->d_name, sub, depth + 1);
		free(sub);
	}
	closedir(d);
}

/* A file, or a directory walked without following symbolic links (they
 * are reported nowhere: what they point to is scanned where it lies). */
static void
scan_path(struct scan *s, int dirfd, const char *name, const char *path,
    int depth)
{
	struct stat st;
	int fd;

	if (depth > DEPTH_MAX) {
		skipped(s, path, "too many directories deep; not scanned");
		return;
	}
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP && depth > 0)
			return;		/* a symbolic link inside a tree */
		skipped(s, path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0) {
		skipped(s, path, strerror(errno));
		close(fd);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		scan_dir(s, fd, path, depth);
		return;
	}
	/* regular files only (a FIFO or device could block or never end) */
	if (S_ISREG(st.st_mode))
		scan_fd(s, fd, path);
	close(fd);
}

int
cmd_scan(struct ctl *c, int argc, char **argv)
{
	bool revoke = false;
	const struct opt opts[] = { { "--revoke", NULL, &revoke },
		{ NULL, NULL, NULL } };
	struct scan s = { .c = c };
	const char **pos;
	char *doc = NULL;
	size_t len = 0;
	int i, n, ex;

	if ((pos = calloc((size_t)argc, sizeof(*pos))) == NULL)
		return ctl_err(c, EX_FAILED, "internal", "out of memory");
	if ((ex = args_parse(c, argc, argv, opts, pos, argc, &n)) != EX_OK)
		goto out;
	if (n == 0) {
		ex = ctl_usage(c, "what to scan? give files or directories, "
		    "or - for stdin (git log -p | patctl scan -)");
		goto out;
	}
	s.revoke = revoke;
	s.out = c->json ? open_memstream(&doc, &len) : c->out;
	if (s.out == NULL) {
		ex = ctl_err(c, EX_FAILED, "internal", "out of memory");
		goto out;
	}
	if (c->json)
		fputs("\"items\":[", s.out);
	for (i = 0; i < n; i++) {
		if (strcmp(pos[i], "-") == 0)
			scan_fd(&s, STDIN_FILENO, "(stdin)");
		else
			scan_path(&s, AT_FDCWD, pos[i], pos[i], 0);
	}
	c->failed = false;	/* each revoke's refusal was in its item */
	ex = s.ex;
	if (c->json) {
		fprintf(s.out, "],\"count\":%zu,\"revoked\":%zu,"
		    "\"unreadable\":%zu", s.found, s.revoked, s.unreadable);
		fclose(s.out);
		if (ex == EX_OK)
			fprintf(c->out, "{%s}\n", doc);
		else
			ctl_context(c, doc);
	}
	if (ex == EX_FAILED)
		ctl_err(c, ex, "scan-incomplete", "%zu token%s found; %zu "
		    "path%s could not be scanned%s", s.found, s.found == 1 ?
		    "" : "s", s.unreadable, s.unreadable == 1 ? "" : "s",
		    s.revoke ? " or a revocation failed" : "");
	else if (ex == EX_REFUSED)
		ctl_err(c, ex, "tokens-found", "%zu token%s found%s",
		    s.found, s.found == 1 ? "" : "s", s.revoke ? "" :
		    "; revoke them with --revoke (anyone holding a token may)");
out:
	if (doc != NULL)
		sodium_memzero(doc, len);
	free(doc);
	free(pos);
	return ex;
}
