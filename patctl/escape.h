/*
 * escape.h - text patctl did not write, made safe to print.
 *
 * Token names, last-use services, role names, PAM prompts and patd's
 * messages come from other people: a control character in them could
 * drive the reader's terminal (ESC, C1 CSI/OSC) or break a JSON reader.
 *
 * esc_text: for a terminal.  Valid printable UTF-8 is kept as is; every
 *   byte of a C0 control, DEL, a C1 control (U+0080-U+009F), U+2028 or
 *   U+2029, and every byte that is not part of valid UTF-8 becomes \xNN;
 *   a backslash becomes \\.
 * esc_json: the inside of a JSON string (no quotes).  " and \ escaped; C0,
 *   DEL and C1 as \u00XX; U+2028/U+2029 as \u2028/\u2029; each byte that is
 *   not valid UTF-8 as \ufffd.  The result is valid UTF-8.
 *
 * Both work like snprintf: at most n-1 bytes and a NUL go to out (nothing
 * when n is 0, and out may then be NULL), an escape is never cut in half,
 * and the return value is the length the whole result needs.  The result
 * is at most ESC_MAX(strlen(s)) bytes with its NUL.
 */
#ifndef PATCTL_ESCAPE_H
#define PATCTL_ESCAPE_H

#include <stddef.h>

#define ESC_MAX(len)	((len) * 6 + 1)

size_t	esc_text(char *out, size_t n, const char *s);
size_t	esc_json(char *out, size_t n, const char *s);

#endif
