/* SPDX-License-Identifier: ISC */
/* checkconfig.c: the summary --check-config prints, and the checks behind it. */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "checkconfig.h"
#include "config.h"
#include "util.h"

static const char *
user_name(void)
{
	struct passwd	*pw = getpwuid(geteuid());

	return pw != NULL ? pw->pw_name : "?";
}

/* Can this user create and append to a file at path? (access() uses the real ids.) */
static int
check_writable(const char *what, const char *path)
{
	const char	*user = user_name();	/* first: getpwuid() may set errno */
	char		*copy, *dir;
	int		 rc = 0;

	if ((copy = strdup(path)) == NULL)
		return -1;
	dir = dirname(copy);
	if (access(dir, W_OK | X_OK) == -1) {
		msg_errno("%s: %s: directory not writable by user %s (uid %ld)", what, dir,
		    user, (long)geteuid());
		rc = -1;
	} else if (access(path, W_OK) == -1 && errno != ENOENT) {
		msg_errno("%s: %s: not writable by user %s (uid %ld)", what, path, user,
		    (long)geteuid());
		rc = -1;
	}
	free(copy);
	return rc;
}

/*
 * Warn (stderr, "warning: ...") when others, or a group, may write path: whoever may
 * can rewrite the config (which names the secret files root reads) or the log's chain.
 */
static void
warn_writable(const char *what, const char *path)
{
	struct stat	 st;

	if (stat(path, &st) == -1)
		return;		/* said by check_writable, or made later */
	if ((st.st_mode & S_IWOTH) != 0)
		msg("warning: %s: %s: others may write it (mode %04o)", what, path,
		    (unsigned int)(st.st_mode & 07777));
	else if ((st.st_mode & S_IWGRP) != 0)
		msg("warning: %s: %s: its group (gid %lu) may write it (mode %04o)", what,
		    path, (unsigned long)st.st_gid, (unsigned int)(st.st_mode & 07777));
}

/* The directory path is in, for warn_writable. */
static void
warn_writable_dir(const char *what, const char *path)
{
	char	*copy;

	if ((copy = strdup(path)) == NULL)
		return;
	warn_writable(what, dirname(copy));
	free(copy);
}

static void
print_duration(FILE *out, int64_t ms)
{
	if (ms % (24 * 3600 * 1000) == 0)
		fprintf(out, "%lldd", (long long)(ms / (24 * 3600 * 1000)));
	else if (ms % (3600 * 1000) == 0)
		fprintf(out, "%lldh", (long long)(ms / (3600 * 1000)));
	else if (ms % (60 * 1000) == 0)
		fprintf(out, "%lldm", (long long)(ms / (60 * 1000)));
	else
		fprintf(out, "%llds", (long long)(ms / 1000));
}

static void
print_auth(FILE *out, const struct config *cfg)
{
	size_t	 n = cfg->creds != NULL ? credset_count(cfg->creds) : 0;

	fprintf(out, "  %-18s %s", "auth", config_auth_name(cfg->auth));
	switch (cfg->auth) {
	case AUTH_BASIC:
		fprintf(out, ": user %s, %zu password(s) from %s", cfg->basic_user, n,
		    cfg->basic_password_file);
		break;
	case AUTH_BEARER:
		fprintf(out, ": %zu token(s) from %s", n, cfg->bearer_token_file);
		break;
	case AUTH_HEADER:
		fprintf(out, ": header %s, %zu value(s) from %s", cfg->header_name, n,
		    cfg->header_value_file);
		break;
	default:
		fprintf(out, ": anyone who can reach the endpoint may post");
		break;
	}
	fprintf(out, "%s\n", n > 0 ? " (secrets not shown)" : "");
}

static void
print_summary(FILE *out, const struct config *cfg)
{
	fprintf(out, "%s: configuration ok\n", cfg->path);
	fprintf(out, "  %-18s %s\n", "log", cfg->log);
	fprintf(out, "  %-18s %s\n", "env", cfg->env);
	print_auth(out, cfg);
	fprintf(out, "  %-18s %s\n", "allow_from", cfg->allow_text != NULL ?
	    cfg->allow_text : "any address");
	fprintf(out, "  %-18s %zu bytes\n", "max_body", cfg->max_body);
	fprintf(out, "  %-18s %s\n", "unknown_events",
	    cfg->unknown_events == UNKNOWN_REJECT ? "reject" : "accept");
	fprintf(out, "  %-18s %s\n", "sync", cfg->sync == SYNC_DATA ?
	    "data (fdatasync before every 200)" : "none (NOT durable: tests only)");
	fprintf(out, "  %-18s ", "dedup_window");
	print_duration(out, cfg->dedup_window_ms);
	fprintf(out, "\n  %-18s %s\n", "reject_log", cfg->reject_log != NULL ?
	    cfg->reject_log : "none");
	fprintf(out, "  %-18s %s\n", "log_level",
	    cfg->log_level == LOG_LEVEL_DEBUG ? "debug" : "info");
	fprintf(out, "  %-18s %s\n", "status_path", cfg->status_path != NULL ?
	    cfg->status_path : "none");
	fprintf(out, "  %-18s %s\n", "status_allow_from", cfg->status_allow_text != NULL ?
	    cfg->status_allow_text : "127.0.0.1, ::1");
	fprintf(out, "  %-18s %s (uid %ld)\n", "checked as user", user_name(),
	    (long)geteuid());
}

int
check_config(const struct config *cfg, FILE *out)
{
	if (check_writable("log", cfg->log) == -1)
		return -1;
	if (cfg->reject_log != NULL && check_writable("reject_log", cfg->reject_log) == -1)
		return -1;
	warn_writable("config", cfg->path);
	warn_writable_dir("log directory", cfg->log);
	if (cfg->reject_log != NULL)
		warn_writable_dir("reject_log directory", cfg->reject_log);
	print_summary(out, cfg);
	return 0;
}
