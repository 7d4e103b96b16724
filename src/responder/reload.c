/* SPDX-License-Identifier: ISC */
/*
 * reload.c: the running configuration (see reload.h): a snapshot cell of struct config,
 * replaced whole when SIGHUP makes the edge read the file again; the keys only a restart
 * changes, one row each.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "reload.h"
#include "snapshot.h"
#include "util.h"

struct running_config {
	struct snapshot_cell	*cell;		/* of struct config */
	char			*path;		/* the file, read again on reload */
	struct file_owner	 service;
};

/* --- what only a restart changes ----------------------------------------------------- */

static bool
same_string(const void *a, const void *b)
{
	const char	*const *sa = a, *const *sb = b;

	return strcmp(*sa, *sb) == 0;
}

static bool
same_int(const void *a, const void *b)
{
	return *(const int *)a == *(const int *)b;
}

static bool
same_int64(const void *a, const void *b)
{
	return *(const int64_t *)a == *(const int64_t *)b;
}

/* The event log is opened with these at start (struct eventlog_settings, and env). */
static const struct {
	const char	*key;
	size_t		 field;		/* offsetof in struct config */
	bool		(*same)(const void *, const void *);
} restart_keys[] = {
	{ "log",		offsetof(struct config, log),			same_string },
	{ "env",		offsetof(struct config, env),			same_string },
	{ "sync",		offsetof(struct config, sync),			same_int },
	{ "dedup_window",	offsetof(struct config, dedup_window_ms),	same_int64 },
};

const char *
config_restart_key(const struct config *running, const struct config *next)
{
	size_t	 i;

	for (i = 0; i < nitems(restart_keys); i++)
		if (!restart_keys[i].same((const char *)running + restart_keys[i].field,
		    (const char *)next + restart_keys[i].field))
			return restart_keys[i].key;
	return NULL;
}

/* --- the snapshots ------------------------------------------------------------------- */

static void
free_config(void *cfg)
{
	config_free(cfg);
	free(cfg);
}

/* A copy of *cfg on the heap; *cfg is left zeroed. NULL: out of memory (cfg untouched). */
static struct config *
move_config(struct config *cfg)
{
	struct config	*copy;

	if ((copy = malloc(sizeof(*copy))) == NULL)
		return NULL;
	*copy = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	return copy;
}

struct running_config *
running_config_new(struct config *cfg, const struct file_owner *service)
{
	struct running_config	*rc;
	struct config		*first = NULL;

	if ((rc = calloc(1, sizeof(*rc))) == NULL || (rc->path = strdup(cfg->path)) == NULL ||
	    (first = move_config(cfg)) == NULL ||
	    (rc->cell = snapshot_cell_new(first, free_config)) == NULL) {
		msg_errno("the configuration");
		if (first != NULL)
			free_config(first);
		config_free(cfg);
		running_config_free(rc);
		return NULL;
	}
	rc->service = *service;
	return rc;
}

void
running_config_free(struct running_config *rc)
{
	if (rc == NULL)
		return;
	snapshot_cell_free(rc->cell);
	free(rc->path);
	free(rc);
}

struct snapshot *
running_config_take(struct running_config *rc)
{
	return snapshot_take(rc->cell);
}

const struct config *
snapshot_config(const struct snapshot *s)
{
	return snapshot_value(s);
}

/* --- reloading ----------------------------------------------------------------------- */

/* One line: why, and that nothing changed. Returns -1. */
static int __attribute__((format(printf, 1, 2)))
refuse(const char *fmt, ...)
{
	char	 why[CONFIG_ERR_LEN + 128];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	msg("reload refused, the configuration in use is kept: %s", why);
	return -1;
}

/* The file read again, unless it changes what only a restart changes. NULL: refused. */
static struct config *
load_next(const struct running_config *rc)
{
	struct config	 next;
	struct config	*copy;
	struct snapshot	*now;
	const char	*key;
	char		 err[CONFIG_ERR_LEN];

	if (config_load_as(&next, rc->path, &rc->service, err, sizeof(err)) == -1) {
		refuse("%s", err);
		return NULL;
	}
	now = snapshot_take(rc->cell);
	key = config_restart_key(snapshot_config(now), &next);
	snapshot_let_go(now);
	if (key != NULL) {
		refuse("%s: %s: changed, and only a restart changes it", rc->path, key);
		config_free(&next);
		return NULL;
	}
	if ((copy = move_config(&next)) == NULL) {
		refuse("%s: %s", rc->path, strerror(errno));
		config_free(&next);
	}
	return copy;
}

int
running_config_reload(struct running_config *rc)
{
	struct config	*next;

	if ((next = load_next(rc)) == NULL)
		return -1;
	if (snapshot_replace(rc->cell, next) == -1) {
		free_config(next);
		return refuse("%s: %s", rc->path, strerror(ENOMEM));
	}
	msg("%s: reloaded", rc->path);
	return 0;
}
