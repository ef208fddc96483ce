/* names.c - the shapes of role, user and token names; see names.h. */
#include <string.h>

#include "names.h"

static bool
name_chars(const char *s, size_t max, const char *extra)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(extra, c) != NULL))
			return false;
	}
	return true;
}

bool
pat_role_name_valid(const char *s)
{
	return name_chars(s, PAT_ROLE_NAME_MAX, "._-");
}

bool
pat_user_name_valid(const char *s)
{
	return name_chars(s, PAT_USER_NAME_MAX, "._-@$") && s[0] != '-';
}

bool
pat_token_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n > PAT_TOKEN_NAME_MAX)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

bool
pat_plain_value_valid(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || (unsigned char)s[i] < 0x21 ||
		    (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}
