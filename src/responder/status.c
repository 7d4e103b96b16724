/* SPDX-License-Identifier: ISC */
/* status.c: health and metrics for the operator. */
#include "autoconf.h"

#include <sys/statvfs.h>

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "allowlist.h"
#include "config.h"
#include "eventlog.h"
#include "handler.h"
#include "metrics.h"
#include "prometheus.h"
#include "rotation.h"
#include "status.h"
#include "util.h"

bool
status_wanted(const struct config *cfg, const char *uri)
{
	size_t	 len;

	if (cfg->status_path == NULL || uri == NULL)
		return false;
	len = strlen(cfg->status_path);
	return strncmp(uri, cfg->status_path, len) == 0 &&
	    (uri[len] == '\0' || uri[len] == '?');
}

/* Does the query string ask for name=value? */
static bool
query_has(const char *query, const char *pair)
{
	size_t	 len = strlen(pair);
	const char *p;

	for (p = query; p != NULL && *p != '\0'; p = strchr(p, '&')) {
		if (*p == '&')
			p++;
		if (strncmp(p, pair, len) == 0 && (p[len] == '\0' || p[len] == '&'))
			return true;
	}
	return false;
}

static void
log_health(const struct config *cfg, struct metrics *m, struct health *h)
{
	struct statvfs	 vfs;
	struct log_ends	 ends;
	char		*copy, *dir;

	memset(h, 0, sizeof(*h));
	if ((copy = strdup(cfg->log)) == NULL)
		return;
	dir = dirname(copy);
	h->log_writable = access(dir, W_OK) == 0 &&
	    (access(cfg->log, W_OK) == 0 || errno == ENOENT);
	if (statvfs(dir, &vfs) == 0)
		h->disk_free = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	free(copy);
	if (m != NULL && (h->last_seq = atomic_load(&m->last_seq)) != 0) {
		h->last_event_ms = atomic_load(&m->last_event_ms);
		return;
	}
	/* Nothing stored since the state file was made (a reboot): read the log's end. */
	if (rotation_ends(cfg->log, &ends) == 0) {
		h->last_seq = ends.last_seq;
		h->last_event_ms = ends.last_ms;
	}
}

static bool
health_ok(const struct health *h)
{
	return h->log_writable && !h->sync_failed;
}

static void
write_health_json(FILE *out, const struct config *cfg, struct metrics *m,
    const struct health *h)
{
	struct timespec	 ts;
	json_object	*obj;
	char		 when[RFC3339_MS_LEN + 1];

	if ((obj = json_object_new_object()) == NULL)
		return;
	json_object_object_add(obj, "status", json_object_new_string(health_ok(h) ?
	    "ok" : "failing"));
	json_object_object_add(obj, "env", json_object_new_string(cfg->env));
	json_object_object_add(obj, "log", json_object_new_string(cfg->log));
	json_object_object_add(obj, "log_writable", json_object_new_boolean(h->log_writable));
	json_object_object_add(obj, "sync_failed", json_object_new_boolean(h->sync_failed));
	json_object_object_add(obj, "last_seq", json_object_new_int64((int64_t)h->last_seq));
	if (h->last_event_ms != 0) {
		ts.tv_sec = h->last_event_ms / 1000;
		ts.tv_nsec = (h->last_event_ms % 1000) * 1000000;
		format_rfc3339_ms(&ts, when);
		json_object_object_add(obj, "last_event_at", json_object_new_string(when));
	} else
		json_object_object_add(obj, "last_event_at", NULL);
	json_object_object_add(obj, "disk_free_bytes",
	    json_object_new_int64((int64_t)h->disk_free));
	json_object_object_add(obj, "processes",
	    m != NULL ? json_object_new_int(metrics_processes(m)) : NULL);
	fprintf(out, "%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

static void
send_page(const struct exchange *io, int status, const char *reason, const char *type,
    const char *extra, const char *body, size_t len, bool head_only)
{
	char	 headers[512];
	int	 n;

	n = snprintf(headers, sizeof(headers), "Status: %d %s\r\nContent-Type: %s\r\n"
	    "Cache-Control: no-store\r\n%s\r\n", status, reason, type, extra);
	if (n < 0 || (size_t)n >= sizeof(headers))
		return;
	if (io->write(io->ctx, headers, (size_t)n) == 0 && !head_only && len > 0)
		(void)io->write(io->ctx, body, len);
}

static void
send_error(const struct exchange *io, int status, const char *reason, const char *extra)
{
	char	 body[128];

	snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", reason);
	send_page(io, status, reason, "application/json", extra, body, strlen(body), false);
}

void
status_serve(struct service *svc, const struct config *cfg, const struct exchange *io)
{
	struct metrics	*m;
	struct health	 h;
	const char	*method = io->param(io->ctx, "REQUEST_METHOD");
	const char	*query = io->param(io->ctx, "QUERY_STRING");
	char		*body = NULL;
	size_t		 len = 0;
	FILE		*out;
	bool		 json = query_has(query, "format=json");

	if (method == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
		send_error(io, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
		return;
	}
	if (!allowlist_permits(cfg->status_allow, io->param(io->ctx, "REMOTE_ADDR"))) {
		send_error(io, 403, "Forbidden", "");
		return;
	}
	m = eventlog_metrics(svc->log);
	metrics_status_request(m);
	log_health(cfg, m, &h);
	h.sync_failed = eventlog_sync_failed(svc->log);
	if ((out = open_memstream(&body, &len)) == NULL) {
		send_error(io, 503, "Service Unavailable", "Retry-After: 60\r\n");
		return;
	}
	if (json)
		write_health_json(out, cfg, m, &h);
	else
		prometheus_write(out, m, &h);
	fclose(out);
	if (json && !health_ok(&h))
		send_page(io, 503, "Service Unavailable", "application/json", "", body, len,
		    method[0] == 'H');
	else
		send_page(io, 200, "OK", json ? "application/json" :
		    "text/plain; version=0.0.4; charset=utf-8", "", body, len, method[0] == 'H');
	free(body);
}
