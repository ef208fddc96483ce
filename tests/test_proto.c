/* Unit tests: the wire codec (parse, encode, limits). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "proto.h"

static struct pat_msg m;

Test(proto, parses_verb_and_fields)
{
	const char *l = "VERIFY token=17|pat-x user=alice perm=pam.sshd";

	cr_assert_eq(pat_msg_parse(&m, l, strlen(l)), 0);
	cr_assert_str_eq(m.verb, "VERIFY");
	cr_assert_eq(m.nfields, 3);
	cr_assert_str_eq(pat_msg_get(&m, "token"), "17|pat-x");
	cr_assert_str_eq(pat_msg_get(&m, "perm"), "pam.sshd");
	cr_assert_null(pat_msg_get(&m, "rhost"));
}

Test(proto, round_trips_awkward_values)
{
	static const char *vals[] = { "deploy key #2", "100%", "a=b", "",
		"tab\there?", "ünïcode" };
	struct pat_buf b;
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(*vals); i++) {
		pat_buf_init(&b, 1024);
		pat_line_begin(&b, "OK");
		cr_assert_eq(pat_line_field(&b, "name", vals[i]), 0);
		cr_assert_null(strchr(b.data, '\t'));
		cr_assert_null(strchr(b.data + 3, ' '));
		if (strchr(vals[i], '\t') != NULL) {
			/* control characters are never accepted back */
			cr_assert_eq(pat_msg_parse(&m, b.data, b.len), -EINVAL);
		} else {
			cr_assert_eq(pat_msg_parse(&m, b.data, b.len), 0);
			cr_assert_str_eq(pat_msg_get(&m, "name"), vals[i]);
		}
		pat_buf_free(&b);
	}
}

Test(proto, rejects_malformed_lines)
{
	static const char *bad[] = { "", " ", "verify x=1", "VERIFY x", "VERIFY =1",
		"VERIFY X=1", "VERIFY a=1 a=2", "VERIFY a=%zz", "VERIFY a=%0a",
		"VERIFY a=%7f", "VERIFY a=%2", "VERIFY a.b=1" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(pat_msg_parse(&m, bad[i], strlen(bad[i])), -EINVAL,
		    "case %zu: %s", i, bad[i]);
	cr_assert_eq(pat_msg_parse(&m, "OK a\0=1", 7), -EINVAL);
}

Test(proto, limits)
{
	char line[PAT_LINE_MAX + 64];
	struct pat_buf b;
	int i;

	memset(line, 'A', sizeof(line));
	cr_assert_eq(pat_msg_parse(&m, line, PAT_LINE_MAX + 1), -E2BIG);

	pat_buf_init(&b, 8192);
	pat_line_begin(&b, "STATUS");
	for (i = 0; i < PAT_FIELDS_MAX; i++)
		pat_buf_addf(&b, " k%d=v", i);
	cr_assert_eq(pat_msg_parse(&m, b.data, b.len), 0);
	pat_buf_adds(&b, " one=more");
	cr_assert_eq(pat_msg_parse(&m, b.data, b.len), -EINVAL);
	pat_buf_free(&b);

	pat_buf_init(&b, 16);
	cr_assert_eq(pat_line_field(&b, "k", "this is far too long"), -E2BIG);
	pat_buf_free(&b);
}

Test(proto, tolerates_crlf_and_extra_spaces)
{
	const char *l = "STATUS  a=1 \r";

	cr_assert_eq(pat_msg_parse(&m, l, strlen(l)), 0);
	cr_assert_str_eq(pat_msg_get(&m, "a"), "1");
}

Test(proto, numbers_are_strict)
{
	unsigned long long u;
	long long i;

	cr_assert_eq(pat_parse_u64("17", 100, &u), 0);
	cr_assert_eq(u, 17);
	cr_assert_eq(pat_parse_u64("101", 100, &u), -EINVAL);
	cr_assert_eq(pat_parse_u64("-1", ~0ull, &u), -EINVAL);
	cr_assert_eq(pat_parse_u64("1x", ~0ull, &u), -EINVAL);
	cr_assert_eq(pat_parse_u64("", ~0ull, &u), -EINVAL);
	cr_assert_eq(pat_parse_u64("99999999999999999999999", ~0ull, &u), -EINVAL);
	cr_assert_eq(pat_parse_i64("-5", &i), 0);
	cr_assert_eq(i, -5);
	cr_assert_eq(pat_parse_i64(" 5", &i), -EINVAL);
}
