/* check.c - what a person typed, checked before anything goes to patd,
 * with what is wrong said in their terms. */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "names.h"
#include "perm.h"
#include "token.h"

#define EXPIRY_UNITS	"units: m minutes, h hours, d days, w weeks, y years " \
			"of 365 days"
#define YEARS_MAX	100	/* beyond this a duration is a typo */

int
check_id(struct ctl *c, const char *s, unsigned long long *id)
{
	if (pat_parse_u64(s, PAT_TOKEN_ID_MAX, id) < 0 || *id == 0)
		return ctl_usage(c, "'%s' is not a token id: ids are whole "
		    "numbers from 1, as patctl list shows them", s);
	return EX_OK;
}

int
check_role(struct ctl *c, const char *what, const char *s)
{
	if (!pat_role_name_valid(s))
		return ctl_usage(c, "%s '%s' is not a valid role name: use "
		    "letters, digits, '.', '_' and '-', at most %d", what, s,
		    PAT_ROLE_NAME_MAX);
	return EX_OK;
}

int
check_user(struct ctl *c, const char *what, const char *s)
{
	if (!pat_user_name_valid(s))
		return ctl_usage(c, "%s '%s' is not a valid %s name: letters, "
		    "digits, '.', '_', '-', '@' and '$', not starting with '-', "
		    "at most %d", what, s, strcmp(what, "--group") == 0 ?
		    "group" : "user", PAT_USER_NAME_MAX);
	return EX_OK;
}

int
check_token_name(struct ctl *c, const char *s)
{
	if (!pat_token_name_valid(s))
		return ctl_usage(c, "--name '%s' cannot be a token name: use "
		    "at most %d printable ASCII characters (letters, digits, "
		    "punctuation, spaces)", s, PAT_TOKEN_NAME_MAX);
	return EX_OK;
}

/* --from / --service: a comma-separated list patd reads (and judges). */
int
check_binding(struct ctl *c, const char *what, const char *s)
{
	if (!pat_plain_value_valid(s, 1024))
		return ctl_usage(c, "%s: give a comma-separated list of "
		    "printable ASCII without spaces", what);
	return EX_OK;
}

int
check_perm(struct ctl *c, const char *s, bool pattern)
{
	if (!pat_perm_valid(s) || strlen(s) > PAT_PERM_MAX_LEN)
		return ctl_usage(c, "'%s' is not a permission: words of "
		    "letters, digits, '_' and '-' joined by '.' or ':', such as "
		    "pam.sshd or svc.billing:read%s", s, pattern ? ", or a "
		    "pattern ending in * such as pam.*" : "");
	if (!pattern && strchr(s, '*') != NULL)
		return ctl_usage(c, "--perm '%s': give one permission such as "
		    "pam.sshd, without a wildcard", s);
	return EX_OK;
}

int
check_days(struct ctl *c, const char *what, const char *s,
    unsigned long long *days)
{
	if (pat_parse_u64(s, 36500, days) < 0 || *days == 0)
		return ctl_usage(c, "%s '%s': give a number of days from 1 to "
		    "36500", what, s);
	return EX_OK;
}

int
check_duration(struct ctl *c, const char *what, const char *s, int64_t *secs)
{
	if ((*secs = parse_duration(s)) < 0)
		return ctl_usage(c, "cannot read %s '%s': give a duration such "
		    "as 30m, 36h, 1d12h, 2w or 1y (" EXPIRY_UNITS ")", what, s);
	if (*secs == 0)
		return ctl_usage(c, "%s '%s' is no time at all: give a duration "
		    "longer than 0, or leave %s out for no such limit", what, s,
		    what);
	return EX_OK;
}

/* "1d12h": a sum of NUMBER UNIT parts, each unit once.  -1 when not. */
int64_t
parse_duration(const char *s)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 'y', 365 * 86400 }, { 'w', 7 * 86400 }, { 'd', 86400 },
		{ 'h', 3600 }, { 'm', 60 } };
	int64_t total = 0, v;
	unsigned seen = 0;
	size_t i;

	if (*s == '\0')
		return -1;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -1;
		for (v = 0; isdigit((unsigned char)*s); s++) {
			v = v * 10 + (*s - '0');
			if (v > (int64_t)YEARS_MAX * 365 * 24 * 60)
				return -1;
		}
		for (i = 0; i < sizeof(units) / sizeof(*units); i++)
			if (*s == units[i].unit)
				break;
		if (i == sizeof(units) / sizeof(*units) || (seen & 1u << i))
			return -1;
		seen |= 1u << i;
		total += v * units[i].secs;
		if (total > (int64_t)YEARS_MAX * 366 * 86400)
			return -1;
		s++;
	}
	return total;
}

int64_t
parse_expiry(const char *s, int64_t now)
{
	struct tm tm;
	const char *end;
	int64_t d;

	if (strcmp(s, "never") == 0)
		return 0;
	if ((d = parse_duration(s)) >= 0)
		return now + d;
	memset(&tm, 0, sizeof(tm));
	tm.tm_isdst = -1;
	if (((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) != NULL ||
	    (end = strptime(s, "%Y-%m-%dT%H:%M", &tm)) != NULL ||
	    (end = strptime(s, "%Y-%m-%d %H:%M", &tm)) != NULL ||
	    (end = strptime(s, "%Y-%m-%d", &tm)) != NULL) && *end == '\0')
		return (int64_t)mktime(&tm);
	return -1;
}

int
check_expiry(struct ctl *c, const char *s, int64_t now, int64_t *when)
{
	char tb[48];

	if ((*when = parse_expiry(s, now)) < 0)
		return ctl_usage(c, "cannot read --expires '%s': give a "
		    "duration such as 30m, 36h, 1d12h, 2w or 1y (" EXPIRY_UNITS
		    "), a local date YYYY-MM-DD or YYYY-MM-DDTHH:MM, or never",
		    s);
	if (*when == now)
		return ctl_usage(c, "--expires '%s' is no time at all: give "
		    "a duration longer than 0", s);
	if (*when != 0 && *when <= now)
		return ctl_usage(c, "--expires '%s' is in the past (%s): give "
		    "a later date, or a duration such as 30d", s,
		    fmt_time(*when, "-", true, tb, sizeof(tb)));
	return EX_OK;
}
