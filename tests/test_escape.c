/* Unit tests: patctl's escaping of untrusted text (patctl/escape.c). */
#include <string.h>

#include <criterion/criterion.h>

#include "escape.h"

static char out[1024];

static const char *
text(const char *s)
{
	cr_assert_lt(esc_text(out, sizeof(out), s), sizeof(out));
	return out;
}

static const char *
json(const char *s)
{
	cr_assert_lt(esc_json(out, sizeof(out), s), sizeof(out));
	return out;
}

Test(escape, printable_text_and_utf8_are_kept)
{
	cr_assert_str_eq(text("deploy key #2 (ünïcode, 日本, 🙂)"),
	    "deploy key #2 (ünïcode, 日本, 🙂)");
	cr_assert_str_eq(text("\xc2\xa0nbsp \xef\xbf\xbd"),
	    "\xc2\xa0nbsp \xef\xbf\xbd");
	cr_assert_str_eq(json("ünïcode 🙂 / ok"), "ünïcode 🙂 / ok");
	cr_assert_str_eq(text(""), "");
	cr_assert_str_eq(json(""), "");
}

Test(escape, c0_controls_esc_and_del)
{
	cr_assert_str_eq(text("a\x1b[2Jb"), "a\\x1b[2Jb");
	cr_assert_str_eq(text("l1\nl2\r\t\x01\x7f"),
	    "l1\\x0al2\\x0d\\x09\\x01\\x7f");
	cr_assert_str_eq(json("a\x1b[2Jb"), "a\\u001b[2Jb");
	cr_assert_str_eq(json("l1\nl2\t\x7f"), "l1\\u000al2\\u0009\\u007f");
}

Test(escape, c1_controls_csi_and_osc)
{
	/* U+009B CSI and U+009D OSC … U+009C ST, as UTF-8 */
	cr_assert_str_eq(text("x\xc2\x9b" "2Jy"), "x\\xc2\\x9b2Jy");
	cr_assert_str_eq(text("\xc2\x9d" "0;title\xc2\x9c"),
	    "\\xc2\\x9d0;title\\xc2\\x9c");
	cr_assert_str_eq(text("\xc2\x80\xc2\x9f"), "\\xc2\\x80\\xc2\\x9f");
	cr_assert_str_eq(json("x\xc2\x9b" "2Jy"), "x\\u009b2Jy");
	cr_assert_str_eq(json("\xc2\x80\xc2\x9f"), "\\u0080\\u009f");
}

Test(escape, line_and_paragraph_separators)
{
	cr_assert_str_eq(text("a\xe2\x80\xa8" "b\xe2\x80\xa9"),
	    "a\\xe2\\x80\\xa8b\\xe2\\x80\\xa9");
	cr_assert_str_eq(json("a\xe2\x80\xa8" "b\xe2\x80\xa9"),
	    "a\\u2028b\\u2029");
	/* their neighbours are ordinary text */
	cr_assert_str_eq(text("\xe2\x80\xa7"), "\xe2\x80\xa7");
}

Test(escape, invalid_utf8_byte_by_byte)
{
	/* a lone C1 byte (raw CSI), 0xff, a truncated sequence, an overlong
	 * '/', a UTF-16 surrogate, a code point past U+10FFFF */
	cr_assert_str_eq(text("a\x9b" "b\xff"), "a\\x9bb\\xff");
	cr_assert_str_eq(text("\xe2\x80"), "\\xe2\\x80");
	cr_assert_str_eq(text("\xc0\xaf"), "\\xc0\\xaf");
	cr_assert_str_eq(text("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	cr_assert_str_eq(text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	cr_assert_str_eq(json("a\x9b" "b\xff"), "a\\ufffdb\\ufffd");
	cr_assert_str_eq(json("\xe2\x80" "z"), "\\ufffd\\ufffdz");
	cr_assert_str_eq(json("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
	/* a valid sequence right after an invalid byte survives */
	cr_assert_str_eq(text("\xc3\xc3\xa9"), "\\xc3\xc3\xa9");
}

Test(escape, backslash_and_quote)
{
	cr_assert_str_eq(text("a\\x1b \"q\""), "a\\\\x1b \"q\"");
	cr_assert_str_eq(json("a\\b \"q\""), "a\\\\b \\\"q\\\"");
}

Test(escape, like_snprintf_and_never_half_an_escape)
{
	char small[6];
	const char *s = "ab\x1b" "cd";

	cr_assert_eq(esc_text(NULL, 0, s), strlen("ab\\x1bcd"));
	cr_assert_eq(esc_text(small, sizeof(small), s), strlen("ab\\x1bcd"));
	cr_assert_str_eq(small, "ab", "the escape did not fit whole");
	cr_assert_eq(esc_json(small, sizeof(small), "\xff"), 6);
	cr_assert_str_eq(small, "");
	/* the documented bound holds for the worst input */
	memset(out, 0xff, 100);
	out[100] = '\0';
	{
		char in[101];

		memcpy(in, out, sizeof(in));
		cr_assert_leq(esc_json(NULL, 0, in) + 1, ESC_MAX(100));
		cr_assert_leq(esc_text(NULL, 0, in) + 1, ESC_MAX(100));
	}
}
