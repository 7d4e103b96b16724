/* SPDX-License-Identifier: ISC */
/* audit.c: stderr lines for decisions, and the reject log (JSON Lines, one write each). */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "audit.h"
#include "config.h"
#include "jsonstrict.h"
#include "ownfile.h"
#include "util.h"

#define REJECT_LOG_MODE	0640
#define SHOWN_MAX	64	/* characters of a client-given value on stderr */

struct audit {
	pthread_mutex_t		 mutex;		/* the reject log's fd */
	int			 fd;
	dev_t			 dev;
	ino_t			 ino;
};

struct audit *
audit_new(void)
{
	struct audit	*au = calloc(1, sizeof(*au));

	if (au == NULL || pthread_mutex_init(&au->mutex, NULL) != 0) {
		free(au);
		return NULL;
	}
	au->fd = -1;
	return au;
}

void
audit_free(struct audit *au)
{
	if (au == NULL)
		return;
	if (au->fd != -1)
		close(au->fd);
	pthread_mutex_destroy(&au->mutex);
	free(au);
}

/* A value from the client or the web server, made safe for a one-line message. */
static const char *
shown(const char *s, char buf[SHOWN_MAX + 1])
{
	size_t	 i;

	if (s == NULL || *s == '\0')
		return "-";
	for (i = 0; i < SHOWN_MAX && s[i] != '\0'; i++)
		buf[i] = (unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/*
 * The reject log at its path now (it may have been rotated, or a reload named another),
 * opened for appending; a regular file of the service's user (ownfile.h). Anything else
 * there (a FIFO, a symbolic link, another user's file) is not written to: the line is
 * dropped, and that is said.
 */
static int
reject_log_fd(struct audit *au, const char *path)
{
	struct stat	 st;
	char		 why[OWNFILE_WHY_LEN];
	int		 fd;

	if (au->fd != -1 && lstat(path, &st) == 0 && st.st_dev == au->dev &&
	    st.st_ino == au->ino)
		return au->fd;
	if ((fd = ownfile_open(path, O_WRONLY | O_APPEND | O_CREAT,
	    REJECT_LOG_MODE, &st, why, sizeof(why))) == -1) {
		msg("%s: %s; the reject line is dropped", path, why);
		return -1;
	}
	if (au->fd != -1)
		close(au->fd);
	au->fd = fd;
	au->dev = st.st_dev;
	au->ino = st.st_ino;
	return fd;
}

/* Values may come from a client talking FastCGI directly: keep the line UTF-8. */
static void
add_string(json_object *obj, const char *name, const char *value)
{
	json_object_object_add(obj, name, value != NULL ? jsonstrict_new_string(value) : NULL);
}

static json_object *
reject_record(const struct config *cfg, const struct decision_report *r)
{
	struct timespec	 now;
	json_object	*obj;
	char		 time[RFC3339_MS_LEN + 1];

	if ((obj = json_object_new_object()) == NULL)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &now);
	format_rfc3339_ms(&now, time);
	add_string(obj, "time", time);
	add_string(obj, "request_id", r->request_id);
	add_string(obj, "remote_addr", r->remote_addr);
	add_string(obj, "method", r->method);
	json_object_object_add(obj, "status", json_object_new_int(r->status));
	add_string(obj, "reason", r->reason);
	add_string(obj, "detail", r->detail);
	add_string(obj, "body_sha256", r->body_sha256);
	add_string(obj, "env", cfg->env);
	return obj;
}

static void
write_reject(struct audit *au, const struct config *cfg, const struct decision_report *r)
{
	json_object	*obj;
	const char	*text;
	char		*line;
	size_t		 len;
	ssize_t		 n;
	int		 fd;

	if ((obj = reject_record(cfg, r)) == NULL)
		return;
	text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if ((line = malloc(len + 1)) != NULL) {
		memcpy(line, text, len);
		line[len] = '\n';
		pthread_mutex_lock(&au->mutex);
		if ((fd = reject_log_fd(au, cfg->reject_log)) != -1 &&
		    (n = write(fd, line, len + 1)) != (ssize_t)len + 1)
			msg("%s: write: %s", cfg->reject_log, n == -1 ? strerror(errno) :
			    "short write");
		pthread_mutex_unlock(&au->mutex);
		free(line);
	}
	json_object_put(obj);
}

void
audit_reject(struct audit *au, const struct config *cfg, const struct decision_report *r)
{
	char	 id[SHOWN_MAX + 1], addr[SHOWN_MAX + 1];

	msg_reject("rejected request %s from %s: %d %s%s%s", shown(r->request_id, id),
	    shown(r->remote_addr, addr), r->status, r->reason, r->detail != NULL ? ": " : "",
	    r->detail != NULL ? r->detail : "");
	if (cfg->reject_log != NULL)
		write_reject(au, cfg, r);
}

bool
audit_logs_accepts(const struct config *cfg)
{
	return cfg->log_level == LOG_LEVEL_DEBUG;
}

void
audit_accept(const struct config *cfg, const struct decision_report *r)
{
	char	 id[SHOWN_MAX + 1], addr[SHOWN_MAX + 1], key[SHOWN_MAX + 1];

	if (!audit_logs_accepts(cfg))
		return;
	msg_reject("%s request %s from %s: seq %llu id %s type %s", r->reason,
	    shown(r->request_id, id), shown(r->remote_addr, addr),
	    (unsigned long long)r->seq, shown(r->id, key), r->type);
}
