/*
 * pamcall - a tiny PAM application for the tests, on real libpam with a
 * private configuration directory (pam_start_confdir), so /etc/pam.d is
 * never touched.
 *
 *   pamcall [--confdir DIR] [--service S] [--user U] [--rhost H]
 *           [--repeat N] [--direct MODULE.so [ARG...]]
 *
 * Answers to prompts come from stdin, one line each, and are replayed for
 * every repetition.  Without --direct the service's stack runs through
 * pam_authenticate; with --direct, MODULE's pam_sm_authenticate is called
 * on a real handle so its own return code is seen.  One line per
 * authentication on stdout:
 *   result=PAM_SUCCESS prompts=1 PAT_ID=3 PAT_ROLE=ops info="…"
 * plus "fds_before=N fds_after=M" at the end.  Exit status: the last
 * result's numeric code.  Answers are never printed.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#define MAX_ANSWERS	8

struct convdata {
	char	*answers[MAX_ANSWERS];
	int	 nanswers;
	int	 next;
	int	 prompts;
	char	 info[512];
};

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct convdata *cd = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			cd->prompts++;
			if (cd->next < cd->nanswers)
				r[i].resp = strdup(cd->answers[cd->next++]);
			else
				r[i].resp = strdup("");
			break;
		case PAM_TEXT_INFO:
		case PAM_ERROR_MSG:
			snprintf(cd->info + strlen(cd->info),
			    sizeof(cd->info) - strlen(cd->info), "%s%s",
			    cd->info[0] ? " | " : "", msg[i]->msg);
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n - 1;	/* the directory's own fd */
}

static const char *
code_name(int r)
{
	switch (r) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
	case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
	case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
	case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
	case PAM_MAXTRIES: return "PAM_MAXTRIES";
	case PAM_CONV_ERR: return "PAM_CONV_ERR";
	default: return "PAM_OTHER";
	}
}

int
main(int argc, char **argv)
{
	const char *confdir = NULL, *service = "pattest", *user = "alice";
	const char *rhost = NULL, *module = NULL;
	int (*sm_auth)(pam_handle_t *, int, int, const char **) = NULL;
	struct convdata cd = { .nanswers = 0 };
	struct pam_conv pc = { conv, &cd };
	char line[1024];
	int i, repeat = 1, r = PAM_SYSTEM_ERR, fds0, margc = 0;
	const char **margv = NULL;
	void *dl = NULL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--confdir") == 0 && i + 1 < argc)
			confdir = argv[++i];
		else if (strcmp(argv[i], "--service") == 0 && i + 1 < argc)
			service = argv[++i];
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else if (strcmp(argv[i], "--rhost") == 0 && i + 1 < argc)
			rhost = argv[++i];
		else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (strcmp(argv[i], "--direct") == 0 && i + 1 < argc) {
			module = argv[++i];
			margv = (const char **)argv + i + 1;
			margc = argc - i - 1;
			break;
		} else {
			fprintf(stderr, "pamcall: bad argument %s\n", argv[i]);
			return 99;
		}
	}
	while (cd.nanswers < MAX_ANSWERS && fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		cd.answers[cd.nanswers++] = strdup(line);
	}
	if (module != NULL) {
		if ((dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL ||
		    (sm_auth = (int (*)(pam_handle_t *, int, int,
		    const char **))dlsym(dl, "pam_sm_authenticate")) == NULL) {
			fprintf(stderr, "pamcall: %s\n", dlerror());
			return 98;
		}
	}
	fds0 = count_fds();
	for (i = 0; i < repeat; i++) {
		pam_handle_t *ph = NULL;
		const char *v;

		cd.next = cd.prompts = 0;
		cd.info[0] = '\0';
		r = pam_start_confdir(service, user, &pc, confdir, &ph);
		if (r != PAM_SUCCESS) {
			fprintf(stderr, "pamcall: pam_start: %d\n", r);
			return 97;
		}
		if (rhost)
			pam_set_item(ph, PAM_RHOST, rhost);
		r = sm_auth ? sm_auth(ph, 0, margc, margv) :
		    pam_authenticate(ph, 0);
		printf("result=%s prompts=%d", code_name(r), cd.prompts);
		if ((v = pam_getenv(ph, "PAT_ID")) != NULL)
			printf(" PAT_ID=%s", v);
		if ((v = pam_getenv(ph, "PAT_ROLE")) != NULL)
			printf(" PAT_ROLE=%s", v);
		if (cd.info[0])
			printf(" info=\"%s\"", cd.info);
		printf("\n");
		pam_end(ph, r);
	}
	printf("fds_before=%d fds_after=%d\n", fds0, count_fds());
	if (dl != NULL)
		dlclose(dl);
	for (i = 0; i < cd.nanswers; i++) {
		memset(cd.answers[i], 0, strlen(cd.answers[i]));
		free(cd.answers[i]);
	}
	return r;
}
