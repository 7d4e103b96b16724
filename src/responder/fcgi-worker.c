/* SPDX-License-Identifier: ISC */
/*
 * fcgi-worker.c: the worker threads of the FastCGI shell (see fcgi-edge.h). A worker takes
 * a connection whose request is complete and checked, gives libfcgi a clean re-encoding
 * of it through a memfd of its own (libfcgi reads the request from it and writes its
 * output records after it), runs handle_request() over libfcgi's FCGX_* streams, frames
 * libfcgi's STDOUT again and sends the reply; then it gives the connection back to the
 * edge. The credentials (HTTP_AUTHORIZATION, the custom header of the request's
 * configuration) are left out of what libfcgi reads: served_param() answers them from the
 * parsed request.
 */
#include "autoconf.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "config.h"
#include "fcgi-edge.h"
#include "handler.h"
#include "reload.h"
#include "util.h"

#define REPLY_GRACE_MS	1000	/* to send a reply whose deadline passed while it was made */

struct worker {
	pthread_t		 thread;
	bool			 started;
	struct edge		*edge;
	int			 chan;		/* the memfd libfcgi reads and writes */
	int			 chan_keep;	/* a second descriptor of it, ours */
	FCGX_Request		 req;
	struct bytes		 stream;	/* the request re-encoded for libfcgi */
	struct bytes		 output;	/* libfcgi's output records */
	struct bytes		 reply;		/* what goes to the client */
	struct bytes		 held;		/* the withheld credentials, as C strings */
};

struct served {
	const char		*withheld[3];	/* credential parameters kept from libfcgi */
	FCGX_Request		*req;
	const char		*held[2];	/* the values of withheld, or NULL */
};

/* --- the work queue and the way back ------------------------------------------------- */

void
workers_hand(struct edge *e, struct conn *c)
{
	c->queued = NULL;
	pthread_mutex_lock(&e->lock);
	if (e->work_tail != NULL)
		e->work_tail->queued = c;
	else
		e->work_head = c;
	e->work_tail = c;
	pthread_cond_signal(&e->work_ready);
	pthread_mutex_unlock(&e->lock);
}

/* The next connection with a request to serve; NULL once the edge is closing. */
static struct conn *
queue_pop(struct edge *e)
{
	struct conn	*c;

	pthread_mutex_lock(&e->lock);
	while (e->work_head == NULL && !e->closing)
		pthread_cond_wait(&e->work_ready, &e->lock);
	if ((c = e->work_head) != NULL) {
		e->work_head = c->queued;
		if (e->work_head == NULL)
			e->work_tail = NULL;
	}
	pthread_mutex_unlock(&e->lock);
	return c;
}

static void
give_back(struct edge *e, struct conn *c)
{
	uint64_t	 one = 1;

	pthread_mutex_lock(&e->lock);
	c->queued = e->returned;
	e->returned = c;
	pthread_mutex_unlock(&e->lock);
	if (write(e->wakefd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		msg_errno("eventfd: write");
}

struct conn *
workers_returned(struct edge *e)
{
	struct conn	*list;
	uint64_t	 count;

	if (read(e->wakefd, &count, sizeof(count)) == -1 && errno != EAGAIN)
		msg_errno("eventfd: read");
	pthread_mutex_lock(&e->lock);
	list = e->returned;
	e->returned = NULL;
	pthread_mutex_unlock(&e->lock);
	return list;
}

/* --- what handle_request() reads and writes ------------------------------------------ */

/*
 * FCGX_GetParam()'s answer (the first NAME=value), with a cheap look at the first byte
 * before strncmp(); the withheld credentials come from the parsed request instead.
 */
static const char *
served_param(void *ctx, const char *name)
{
	struct served	*s = ctx;
	char		**p;
	size_t		  i, len;

	for (i = 0; s->withheld[i] != NULL; i++)
		if (strcmp(name, s->withheld[i]) == 0)
			return s->held[i];
	if (s->req->envp == NULL || name[0] == '\0')
		return NULL;
	len = strlen(name);
	for (p = s->req->envp; *p != NULL; p++)
		if ((*p)[0] == name[0] && strncmp(name, *p, len) == 0 && (*p)[len] == '=')
			return *p + len + 1;
	return NULL;
}

static ssize_t
served_read(void *ctx, void *buf, size_t len)
{
	struct served	*s = ctx;
	int		 n;

	if (len > 1 << 30)
		len = 1 << 30;
	n = FCGX_GetStr(buf, (int)len, s->req->in);
	if (n < (int)len && FCGX_GetError(s->req->in) != 0)
		return -1;
	return n;
}

static int
served_write(void *ctx, const void *buf, size_t len)
{
	struct served	*s = ctx;

	return FCGX_PutStr(buf, (int)len, s->req->out) == (int)len ? 0 : -1;
}

/* The withheld credentials of req, as C strings in w->held. */
static int
hold_credentials(struct worker *w, const struct fcgi_request *req, struct served *s)
{
	const char	*value;
	size_t		 i, len, at[2];
	bool		 found[2] = { false, false };

	bytes_wipe(&w->held);
	for (i = 0; s->withheld[i] != NULL; i++) {
		if ((value = fcgi_request_param(req, s->withheld[i], &len)) == NULL)
			continue;
		at[i] = w->held.len;
		found[i] = true;
		if (bytes_put(&w->held, value, len) == -1 || bytes_put(&w->held, "", 1) == -1)
			return -1;
	}
	for (i = 0; i < 2; i++)
		s->held[i] = found[i] ? (const char *)w->held.data + at[i] : NULL;
	return 0;
}

/* --- libfcgi's side: the memfd ------------------------------------------------------- */

static int
open_chan(struct worker *w)
{
	int	 flags;

	if ((w->chan_keep = memfd_create("idwise-fcgi-request", MFD_CLOEXEC)) == -1) {
		msg_errno("memfd_create");
		return -1;
	}
	/* libfcgi's writes go after the request it read, wherever its reading stopped. */
	if ((flags = fcntl(w->chan_keep, F_GETFL)) == -1 ||
	    fcntl(w->chan_keep, F_SETFL, flags | O_APPEND) == -1 ||
	    (w->chan = fcntl(w->chan_keep, F_DUPFD_CLOEXEC, 0)) == -1) {
		msg_errno("memfd: fcntl");
		return -1;
	}
	return 0;
}

/* libfcgi closed its descriptor of the memfd (after an error of its own): give another. */
static int
reopen_chan(struct worker *w)
{
	if ((w->chan = fcntl(w->chan_keep, F_DUPFD_CLOEXEC, 0)) == -1) {
		msg_errno("memfd: fcntl");
		return -1;
	}
	w->req.ipcFd = -1;
	return 0;
}

/* The re-encoded request into the memfd, ready for libfcgi to read from its start. */
static int
load_chan(struct worker *w)
{
	if (ftruncate(w->chan_keep, 0) == -1 ||
	    write_all(w->chan_keep, w->stream.data, w->stream.len) == -1 ||
	    lseek(w->chan_keep, 0, SEEK_SET) == -1) {
		msg_errno("memfd");
		return -1;
	}
	return 0;
}

/* What libfcgi wrote after the request: its output records, into w->output. */
static int
unload_chan(struct worker *w)
{
	unsigned char	 buf[8192];
	off_t		 at = (off_t)w->stream.len;
	ssize_t		 n;

	bytes_wipe(&w->output);
	while ((n = pread(w->chan_keep, buf, sizeof(buf), at)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			msg_errno("memfd: pread");
			return -1;
		}
		if (bytes_put(&w->output, buf, (size_t)n) == -1)
			return -1;
		if ((size_t)n < sizeof(buf))
			break;		/* the end: nobody writes to it now */
		at += n;
	}
	return 0;
}

/* --- serving a request --------------------------------------------------------------- */

/* handle_request() under cfg, over libfcgi's streams of the clean copy of req. */
static int
run_handler(struct worker *w, const struct fcgi_request *req, const struct config *cfg)
{
	struct served	 s = { { "HTTP_AUTHORIZATION", cfg->header_param, NULL }, &w->req,
	    { NULL, NULL } };
	struct exchange	 io = { &s, served_param, served_read, served_write };
	int		 rc;

	bytes_wipe(&w->stream);
	if (fcgi_encode_request(req, s.withheld, &w->stream) == -1 ||
	    hold_credentials(w, req, &s) == -1) {
		msg("out of memory for a FastCGI request");
		return -1;
	}
	if (load_chan(w) == -1)
		return -1;
	w->req.ipcFd = w->chan;
	w->req.keepConnection = 1;
	if ((rc = FCGX_Accept_r(&w->req)) != 0) {
		msg("libfcgi did not take a checked request (%d)", rc);
		bytes_wipe(&w->held);
		return w->req.ipcFd == w->chan ? -1 : (reopen_chan(w), -1);
	}
	handle_request(w->edge->svc, cfg, &io);
	FCGX_Finish_r(&w->req);
	bytes_wipe(&w->held);
	if (w->req.ipcFd != w->chan && reopen_chan(w) == -1)
		return -1;
	return unload_chan(w);
}

/* The reply for the client: libfcgi's STDOUT, framed again by us. */
static int
frame_reply(struct worker *w, uint16_t id)
{
	struct bytes	 content = { NULL, 0, 0 };
	int		 rc = -1;

	bytes_wipe(&w->reply);
	if (fcgi_collect_stdout(w->output.data, w->output.len, &content) == 0 &&
	    fcgi_put_record(&w->reply, FCGI_STDOUT, id, content.data, content.len) == 0 &&
	    fcgi_put_record(&w->reply, FCGI_STDOUT, id, NULL, 0) == 0 &&
	    fcgi_put_end_request(&w->reply, id, 0, FCGI_REQUEST_COMPLETE) == 0)
		rc = 0;
	else
		msg("libfcgi's output for a request could not be read");
	bytes_free(&content);
	return rc;
}

static void
serve(struct worker *w, struct conn *c)
{
	const struct fcgi_request	*req = &c->parser.req;
	int64_t				 by = c->deadline, soonest = monotonic_ms() + REPLY_GRACE_MS;
	bool				 sent = false;

	if (run_handler(w, req, snapshot_config(c->config)) == 0 &&
	    frame_reply(w, req->id) == 0)
		sent = conn_send(c, w->reply.data, w->reply.len,
		    by > soonest ? by : soonest) == 0;
	if (!req->keep_conn || req->body_over || !req->body_done)
		c->close_after = true;
	c->linger = sent && (c->linger || req->body_over || !req->body_done);
	if (!sent)
		c->close_after = true;
	fcgi_parser_next(&c->parser);
	bytes_wipe(&w->reply);
	bytes_wipe(&w->output);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;

	while ((c = queue_pop(w->edge)) != NULL) {
		serve(w, c);
		give_back(w->edge, c);
	}
	return NULL;
}

/* --- starting and stopping ----------------------------------------------------------- */

static void
worker_free(struct worker *w)
{
	if (w->chan != -1)
		(void)close(w->chan);
	if (w->chan_keep != -1)
		(void)close(w->chan_keep);
	w->req.ipcFd = -1;
	FCGX_Free(&w->req, 0);
	bytes_free(&w->stream);
	bytes_free(&w->output);
	bytes_free(&w->reply);
	bytes_free(&w->held);
}

static int
worker_init(struct worker *w, struct edge *e)
{
	memset(w, 0, sizeof(*w));
	w->edge = e;
	w->chan = w->chan_keep = -1;
	if (FCGX_InitRequest(&w->req, -1, 0) != 0) {
		msg("FCGX_InitRequest failed");
		return -1;
	}
	return open_chan(w);
}

struct worker *
workers_start(struct edge *e, int n, int *started)
{
	struct worker	*workers;
	int		 i, rc;

	*started = 0;
	if ((workers = calloc((size_t)n, sizeof(*workers))) == NULL) {
		msg_errno("calloc");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (worker_init(&workers[i], e) == -1)
			break;
		if ((rc = pthread_create(&workers[i].thread, NULL, worker_main,
		    &workers[i])) != 0) {
			msg("pthread_create: %s", strerror(rc));
			break;
		}
		workers[i].started = true;
		(*started)++;
	}
	return workers;
}

void
workers_stop(struct edge *e, struct worker *workers, int n)
{
	int	 i;

	if (workers == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	e->closing = true;
	pthread_cond_broadcast(&e->work_ready);
	pthread_mutex_unlock(&e->lock);
	for (i = 0; i < n; i++) {
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
		if (workers[i].edge != NULL)	/* worker_init() ran: a start failed after */
			worker_free(&workers[i]);
	}
	free(workers);
}
