/* SPDX-License-Identifier: ISC */
/*
 * fcgi-worker.c: the worker threads of the FastCGI shell (see fcgi-edge.h). A worker takes
 * a connection whose request is complete and checked, gives libfcgi a clean re-encoding
 * of it through a memfd of its own (libfcgi reads the request from it and writes its
 * output records after it), runs handle_request() over libfcgi's FCGX_* streams, frames
 * libfcgi's STDOUT again and sends the reply; then it gives the connection back to the
 * edge. The params (the credentials among them) are left out of what libfcgi reads:
 * served_param() answers them from the checked request.
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
/*
 * The memfd is emptied before every request. Emptying it only now and then saves two
 * system calls, but a memfd counts against RLIMIT_FSIZE like any file: under a file
 * size limit near the log's size (disk-full.sh), libfcgi's reply no longer fit, and a
 * full log's 503 became a 502.
 */
#define CHAN_RESET	0

struct worker {
	pthread_t		 thread;
	bool			 started;
	struct edge		*edge;
	int			 chan;		/* the memfd libfcgi reads and writes */
	int			 chan_keep;	/* a second descriptor of it, ours */
	size_t			 chan_end;	/* its size, where libfcgi reads on */
	FCGX_Request		 req;
	struct bytes		 stream;	/* the request re-encoded for libfcgi */
	struct bytes		 output;	/* libfcgi's output records */
	struct bytes		 reply;		/* what goes to the client */
	struct bytes		 values;	/* the request's param values, as C strings */
	size_t			*value_at;	/* where each pair's is in values */
	size_t			 value_cap;	/* room in value_at */
};

struct served {
	const struct worker		*w;
	const struct fcgi_request	*req;	/* the checked request */
	FCGX_Request			*fcgx;
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

/*
 * Only the first connection onto an empty list wakes the edge: it reads wakefd, then
 * takes the whole list (workers_returned()), so any pushed after the wake are taken too.
 */
static void
give_back(struct edge *e, struct conn *c)
{
	uint64_t	 one = 1;
	bool		 first;

	pthread_mutex_lock(&e->lock);
	first = e->returned == NULL;
	c->queued = e->returned;
	e->returned = c;
	pthread_mutex_unlock(&e->lock);
	if (first && write(e->wakefd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		msg_errno("eventfd: write");
}

/* wakefd is read before the list is taken: a push after the take wakes the edge again. */
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
 * FCGX_GetParam()'s answer (the value of the first NAME), from the checked request: the
 * params are not given to libfcgi at all (fcgi_encode_request() with no names), so that
 * it keeps no copy of the credentials and makes none of its per-param allocations.
 */
static const char *
served_param(void *ctx, const char *name)
{
	struct served	*s = ctx;
	size_t		 i, len = strlen(name);

	for (i = 0; i < s->req->npairs; i++) {
		const struct fcgi_pair	*pair = &s->req->pairs[i];

		if (pair->name_len == len &&
		    memcmp(s->req->params.data + pair->name, name, len) == 0)
			return (const char *)s->w->values.data + s->w->value_at[i];
	}
	return NULL;
}

static ssize_t
served_read(void *ctx, void *buf, size_t len)
{
	struct served	*s = ctx;
	int		 n;

	if (len > 1 << 30)
		len = 1 << 30;
	n = FCGX_GetStr(buf, (int)len, s->fcgx->in);
	if (n < (int)len && FCGX_GetError(s->fcgx->in) != 0)
		return -1;
	return n;
}

static int
served_write(void *ctx, const void *buf, size_t len)
{
	struct served	*s = ctx;

	return FCGX_PutStr(buf, (int)len, s->fcgx->out) == (int)len ? 0 : -1;
}

/* Every param value of req as a C string in w->values (they may hold credentials). */
static int
hold_values(struct worker *w, const struct fcgi_request *req)
{
	size_t	*grown, i;

	bytes_wipe(&w->values);
	if (req->npairs > w->value_cap) {
		if ((grown = reallocarray(w->value_at, req->npairs, sizeof(*grown))) == NULL)
			return -1;
		w->value_at = grown;
		w->value_cap = req->npairs;
	}
	for (i = 0; i < req->npairs; i++) {
		w->value_at[i] = w->values.len;
		if (bytes_put(&w->values, req->params.data + req->pairs[i].value,
		    req->pairs[i].value_len) == -1 || bytes_put(&w->values, "", 1) == -1)
			return -1;
	}
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

/* Empty the memfd, libfcgi to read from its start. */
static int
reset_chan(struct worker *w)
{
	w->chan_end = 0;
	if (ftruncate(w->chan_keep, 0) == -1 || lseek(w->chan_keep, 0, SEEK_SET) == -1) {
		msg_errno("memfd");
		return -1;
	}
	return 0;
}

/*
 * The re-encoded request at the end of the memfd, where libfcgi's reading goes on: its
 * last write (O_APPEND) left the offset libfcgi reads from at the end, and pwrite(2)
 * does not move it (with O_APPEND, Linux's pwrite appends). So a request costs one write,
 * and the memfd is emptied only now and then (and after anything went wrong).
 */
static int
load_chan(struct worker *w)
{
	ssize_t	 n;

	if (w->chan_end > CHAN_RESET && reset_chan(w) == -1)
		return -1;
	do
		n = pwrite(w->chan_keep, w->stream.data, w->stream.len, (off_t)w->chan_end);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)w->stream.len) {
		msg("memfd: pwrite: %s", n == -1 ? strerror(errno) : "short write");
		(void)reset_chan(w);
		return -1;
	}
	w->chan_end += w->stream.len;
	return 0;
}

/* What libfcgi wrote after the request: its output records, into w->output. */
static int
unload_chan(struct worker *w)
{
	unsigned char	 buf[8192];
	off_t		 at = (off_t)w->chan_end;
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
		at += n;
		if ((size_t)n < sizeof(buf))
			break;		/* the end: nobody writes to it now */
	}
	w->chan_end = (size_t)at;
	return 0;
}

/* --- serving a request --------------------------------------------------------------- */

/* handle_request() under cfg, over libfcgi's streams of the clean copy of req (no params). */
static int
run_handler(struct worker *w, const struct fcgi_request *req, const struct config *cfg)
{
	struct served	 s = { w, req, &w->req };
	struct exchange	 io = { &s, served_param, served_read, served_write };
	int		 rc;

	bytes_wipe(&w->stream);
	if (fcgi_encode_request(req, NULL, &w->stream) == -1 || hold_values(w, req) == -1) {
		msg("out of memory for a FastCGI request");
		return -1;
	}
	if (load_chan(w) == -1)
		return -1;
	w->req.ipcFd = w->chan;
	w->req.keepConnection = 1;
	if ((rc = FCGX_Accept_r(&w->req)) != 0) {
		msg("libfcgi did not take a checked request (%d)", rc);
		bytes_wipe(&w->values);
		(void)reset_chan(w);
		return w->req.ipcFd == w->chan ? -1 : (reopen_chan(w), -1);
	}
	handle_request(w->edge->svc, cfg, &io);
	FCGX_Finish_r(&w->req);
	bytes_wipe(&w->values);
	if (w->req.ipcFd != w->chan && (reset_chan(w), reopen_chan(w)) == -1)
		return -1;
	if (unload_chan(w) == -1) {
		(void)reset_chan(w);
		return -1;
	}
	return 0;
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
	else {
		msg("libfcgi's output for a request could not be read");
		(void)reset_chan(w);	/* where libfcgi reads on is not known */
	}
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
	bytes_free(&w->values);
	free(w->value_at);
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
