/* args.c - each command's options and arguments, parsed one way. */
#include <string.h>

#include "ctl.h"

static bool
is_help(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

bool
args_want_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (is_help(argv[i]))
			return true;
	return false;
}

/* The option argv[i] names ("--x" or "--x=v"), or NULL. */
static const struct opt *
find(const struct opt *opts, const char *a, const char **inline_val)
{
	size_t n;

	*inline_val = NULL;
	for (; opts != NULL && opts->name != NULL; opts++) {
		n = strlen(opts->name);
		if (strncmp(a, opts->name, n) != 0)
			continue;
		if (a[n] == '\0')
			return opts;
		if (a[n] == '=') {
			*inline_val = a + n + 1;
			return opts;
		}
	}
	return NULL;
}

int
args_parse(struct ctl *c, int argc, char **argv, const struct opt *opts,
    const char **pos, int maxpos, int *npos)
{
	const struct opt *o;
	const char *v;
	bool dashdash = false;
	int i;

	*npos = 0;
	/* help first, wherever it is: nothing else is looked at or done */
	if (args_want_help(argc, argv)) {
		help_print(c, c->cmd);
		return EX_HELP;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (*npos >= maxpos)
				return ctl_usage(c, "unexpected argument '%s'",
				    a);
			pos[(*npos)++] = a;
			continue;
		}
		if ((o = find(opts, a, &v)) == NULL) {
			if (a[1] != '-' && strspn(a + 1, "0123456789") ==
			    strlen(a + 1))
				return ctl_usage(c, "'%s' is not a valid "
				    "value here (numbers start from 1)", a);
			return ctl_usage(c, "unknown option '%s'", a);
		}
		if (o->flag != NULL) {
			if (v != NULL)
				return ctl_usage(c, "%s takes no value",
				    o->name);
			*o->flag = true;
			continue;
		}
		if (v == NULL) {
			if (i + 1 >= argc)
				return ctl_usage(c, "%s needs a value",
				    o->name);
			v = argv[++i];
			if (v[0] == '-' && v[1] != '\0')
				return ctl_usage(c, "%s needs a value, not "
				    "the option-like '%s' (if you mean it, "
				    "write %s=%s)", o->name, v, o->name, v);
		}
		if (*v == '\0')
			return ctl_usage(c, "%s needs a value", o->name);
		*o->val = v;
	}
	return EX_OK;
}
