/* SPDX-License-Identifier: ISC */
/* exec-env.c: idwise-log exec's command's environment and standard input (exec-env.h). */
#include "autoconf.h"

#include <sys/mman.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec-env.h"
#include "log-filter.h"
#include "util.h"

extern char **environ;

/* The record members a command finds in its environment (null or missing: ""). */
static const struct {
	const char	*var;
	const char	*member;
} env_members[] = {
	{ "IDWISE_ID",			"id" },
	{ "IDWISE_TYPE",		"type" },
	{ "IDWISE_OUTCOME",		"outcome" },
	{ "IDWISE_JOURNEY_ID",		"journey_id" },
	{ "IDWISE_REFERENCE_NO",	"reference_no" },
	{ "IDWISE_ENV",			"env" },
};
#define NMEMBERS	nitems(env_members)
#define NOURS		(NMEMBERS + 2)	/* and IDWISE_SEQ, IDWISE_ATTEMPT */

/* Is this environ entry one of the variables we set? */
static bool
ours(const char *entry)
{
	static const char *const extra[] = { "IDWISE_SEQ", "IDWISE_ATTEMPT" };
	size_t	 i, n;

	for (i = 0; i < NOURS; i++) {
		const char *name = i < NMEMBERS ? env_members[i].var : extra[i - NMEMBERS];

		n = strlen(name);
		if (strncmp(entry, name, n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

static int
env_add(struct cmd_env *env, size_t *k, const char *var, const char *value)
{
	if (asprintf(&env->v[*k], "%s=%s", var, value != NULL ? value : "") == -1) {
		env->v[*k] = NULL;
		return -1;
	}
	(*k)++;
	return 0;
}

void
exec_env_free(struct cmd_env *env)
{
	size_t	 i;

	if (env->v == NULL)
		return;
	for (i = env->own_from; env->v[i] != NULL; i++)
		free(env->v[i]);
	free(env->v);
	env->v = NULL;
}

int
exec_env_build(struct cmd_env *env, const struct stream_rec *rec, uint64_t attempt)
{
	char	 num[2][24];
	size_t	 n, i, k = 0;
	int	 rc = 0;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env->v = calloc(n + NOURS + 1, sizeof(*env->v))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!ours(environ[i]))
			env->v[k++] = environ[i];
	env->own_from = k;
	snprintf(num[0], sizeof(num[0]), "%" PRIu64, rec->view.seq);
	snprintf(num[1], sizeof(num[1]), "%" PRIu64, attempt);
	rc |= env_add(env, &k, "IDWISE_SEQ", num[0]);
	rc |= env_add(env, &k, "IDWISE_ATTEMPT", num[1]);
	for (i = 0; i < NMEMBERS && rc == 0; i++)
		rc |= env_add(env, &k, env_members[i].var,
		    record_string(&rec->view, env_members[i].member));
	if (rc != 0)
		exec_env_free(env);
	return rc;
}

int
exec_input_new(const struct stream_rec *rec)
{
	int	 fd;

	if ((fd = memfd_create("idwise-record", MFD_CLOEXEC)) == -1) {
		msg_errno("memfd_create");
		return -1;
	}
	if (write_all(fd, rec->line, rec->len) == -1 || write_all(fd, "\n", 1) == -1) {
		msg_errno("memfd: write");
		close(fd);
		return -1;
	}
	return fd;
}
