/* duration.c - see duration.h. */
#include <stdio.h>
#include <string.h>

#include "duration.h"

static const struct unit {
	int64_t		 secs;
	const char	*word, *letter;
} units[] = {
	{ 86400, "day", "d" }, { 3600, "hour", "h" }, { 60, "minute", "m" },
	{ 1, "second", "s" },
};

#define NUNITS	(sizeof(units) / sizeof(*units))

const char *
pat_duration_words(int64_t secs, char *buf, size_t n)
{
	size_t i, len = 0;
	int parts = 0;
	int64_t v;

	if (secs < 0)
		secs = 0;
	buf[0] = '\0';
	for (i = 0; i < NUNITS && parts < 2; i++) {
		v = secs / units[i].secs;
		secs %= units[i].secs;
		if (v == 0 && (parts > 0 || i + 1 < NUNITS))
			continue;
		snprintf(buf + len, n - len, "%s%lld %s%s", parts ? " " : "",
		    (long long)v, units[i].word, v == 1 ? "" : "s");
		len = strlen(buf);
		parts++;
		if (parts == 1 && secs == 0)
			break;
	}
	return buf;
}

const char *
pat_duration_short(int64_t secs, char *buf, size_t n)
{
	size_t i, len = 0;
	int64_t v;

	if (secs < 0)
		secs = 0;
	snprintf(buf, n, "0");
	if (secs == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < NUNITS; i++) {
		v = secs / units[i].secs;
		secs %= units[i].secs;
		if (v == 0)
			continue;
		snprintf(buf + len, n - len, "%lld%s", (long long)v,
		    units[i].letter);
		len = strlen(buf);
	}
	return buf;
}
