/* SPDX-License-Identifier: ISC */
/*
 * fcgi-loop.c: the FastCGI shell. The main thread is the edge: it accepts connections and
 * reads every one of them without blocking, through the record layer (fcgi-proto.c), each
 * against one deadline per request. Only a complete, checked request reaches a worker
 * thread, which gives libfcgi a clean re-encoding of it (through a memfd of its own; see
 * feed_libfcgi()), runs handle_request() over libfcgi's FCGX_* streams and sends the
 * reply. An idle kept connection holds no worker; pipelined requests are served in order.
 * SIGTERM or SIGINT: no new connection is taken, the requests begun are finished.
 */
#include "autoconf.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include <openssl/crypto.h>

#include "config.h"
#include "fcgi-loop.h"
#include "fcgi-proto.h"
#include "handler.h"
#include "util.h"

#define IN_MAX		(FCGI_RECORD_MAX + 16384)	/* unparsed bytes per connection */
#define READ_CHUNK	16384
#define REPLY_GRACE_MS	1000	/* to send a reply whose deadline passed while it was made */
#define LINGER_MS	2000	/* to read what a refused client still sends, before close */
#define ACCEPT_PAUSE_MS	100	/* after EMFILE and the like */
#define EPOLL_BATCH	64

enum conn_state {
	CONN_READING,		/* a request is on its way (or the first one is awaited) */
	CONN_IDLE,		/* kept after a request, nothing begun: no deadline */
	CONN_BUSY,		/* a worker has it */
	CONN_LINGER,		/* answered and shut down for writing; reading to the end */
};

struct conn {
	int			 fd;
	enum conn_state		 state;
	int64_t			 deadline;	/* ms, monotonic; READING and LINGER */
	int64_t			 idle_since;
	bool			 served;	/* has answered a request */
	bool			 armed;		/* registered with epoll */
	bool			 close_after;	/* the worker's verdict: do not keep */
	bool			 linger;	/* ... and read to the end first */
	struct bytes		 in;		/* read, not yet taken by the parser */
	struct fcgi_parser	 parser;
	struct conn		*prev, *next;	/* every connection: the edge's list */
	struct conn		*queued;	/* the work queue or the return list */
};

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

struct edge {
	struct service		*svc;
	int			 listen_fd, epfd, sigfd, wakefd;
	int			 io_timeout_ms;
	unsigned		 max_conns;
	unsigned		 nconns;
	int			 threads;
	int			 busy;		/* connections queued or with a worker */
	bool			 listening;	/* listen_fd is in the epoll set */
	int64_t			 accept_after;	/* a pause after EMFILE */
	bool			 stopping;
	struct conn		*conns;		/* newest first */
	const char		*withheld[3];	/* credential parameters kept from libfcgi */

	pthread_mutex_t		 lock;		/* the two lists below */
	pthread_cond_t		 work_ready;
	struct conn		*work_head, *work_tail;
	struct conn		*returned;
	bool			 closing;	/* workers: no more work will come */
};

/* epoll's data for the three descriptors that are not connections. */
static char	 listen_tag, signal_tag, wake_tag;

/* --- the work queue and the way back ------------------------------------------------ */

static void
queue_push(struct edge *e, struct conn *c)
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
		msg("eventfd: write: %s", strerror(errno));
}

static struct conn *
take_returned(struct edge *e)
{
	struct conn	*list;
	uint64_t	 count;

	if (read(e->wakefd, &count, sizeof(count)) == -1 && errno != EAGAIN)
		msg("eventfd: read: %s", strerror(errno));
	pthread_mutex_lock(&e->lock);
	list = e->returned;
	e->returned = NULL;
	pthread_mutex_unlock(&e->lock);
	return list;
}

/* --- writing to a client ------------------------------------------------------------ */

/* Send all of buf by the deadline (non-blocking socket); 0, or -1. */
static int
send_by(int fd, const unsigned char *buf, size_t len, int64_t deadline)
{
	struct pollfd	 pfd = { fd, POLLOUT, 0 };
	ssize_t		 n;
	int64_t		 left;

	while (len > 0) {
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN)
			return -1;
		if ((left = deadline - monotonic_ms()) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			return -1;
	}
	return 0;
}

/* A reply of the edge's own, for a request it cannot hand on. */
static void
put_refusal(struct bytes *out, uint16_t id, const char *why)
{
	static const char	 head[] = "Status: 400 Bad Request\r\n"
	    "Content-Type: application/json\r\n\r\n{\"error\":\"";
	struct bytes		 text = { NULL, 0, 0 };

	if (bytes_put(&text, head, sizeof(head) - 1) == 0 &&
	    bytes_put(&text, why, strlen(why)) == 0 && bytes_put(&text, "\"}\n", 3) == 0 &&
	    fcgi_put_record(out, FCGI_STDOUT, id, text.data, text.len) == 0 &&
	    fcgi_put_record(out, FCGI_STDOUT, id, NULL, 0) == 0)
		(void)fcgi_put_end_request(out, id, 0, FCGI_REQUEST_COMPLETE);
	bytes_free(&text);
}

/* --- the connections ---------------------------------------------------------------- */

static int
arm(struct edge *e, struct conn *c)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
	ev.data.ptr = c;
	if (epoll_ctl(e->epfd, c->armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		msg("epoll_ctl: %s", strerror(errno));
		return -1;
	}
	c->armed = true;
	return 0;
}

static void
conn_free(struct edge *e, struct conn *c)
{
	if (close(c->fd) == -1)
		msg("close: %s", strerror(errno));
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		e->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bytes_free(&c->in);
	fcgi_parser_free(&c->parser);
	free(c);
	e->nconns--;
}

static struct conn *
conn_new(struct edge *e, int fd)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		msg("calloc: %s", strerror(errno));
		return NULL;
	}
	c->fd = fd;
	c->state = CONN_READING;
	c->deadline = monotonic_ms() + e->io_timeout_ms;
	fcgi_parser_init(&c->parser, e->svc->cfg->max_body + 1, e->max_conns);
	c->next = e->conns;
	if (e->conns != NULL)
		e->conns->prev = c;
	e->conns = c;
	e->nconns++;
	return c;
}

/* Answered and not kept, with bytes perhaps still coming: read them away, then close. */
static void
conn_linger(struct edge *e, struct conn *c)
{
	if (shutdown(c->fd, SHUT_WR) == -1 || e->stopping) {
		conn_free(e, c);
		return;
	}
	c->state = CONN_LINGER;
	c->deadline = monotonic_ms() + LINGER_MS;
	if (arm(e, c) == -1)
		conn_free(e, c);
}

/*
 * Write the protocol's own answers the parser queued, without waiting: they are small, and
 * a client that lets its socket fill instead of reading them is given up (-1), so that it
 * cannot slow the edge down.
 */
static int
flush_answers(struct conn *c)
{
	int	 rc = 0;

	if (c->parser.out.len == 0)
		return 0;
	rc = send_by(c->fd, c->parser.out.data, c->parser.out.len, monotonic_ms());
	bytes_wipe(&c->parser.out);
	return rc;
}

static void	stop_listening(struct edge *);

/*
 * A connection is taken only while a worker is free for it: a process does not hoard
 * connections it cannot serve now, which its siblings on the same socket could.
 */
static void
hand_to_worker(struct edge *e, struct conn *c)
{
	c->state = CONN_BUSY;
	if (++e->busy >= e->threads)
		stop_listening(e);
	queue_push(e, c);
}

static void
refuse(struct edge *e, struct conn *c)
{
	msg_reject("refused a FastCGI request: %s", c->parser.error);
	put_refusal(&c->parser.out, c->parser.req.id, c->parser.error);
	if (flush_answers(c) == -1) {
		conn_free(e, c);
		return;
	}
	conn_linger(e, c);
}

static void	resume(struct edge *, struct conn *);

static void
stop_listening(struct edge *e)
{
	if (!e->listening)
		return;
	if (epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->listen_fd, NULL) == -1)
		msg("epoll_ctl: %s", strerror(errno));
	e->listening = false;
}

static void
start_listening(struct edge *e)
{
	struct epoll_event	 ev;

	if (e->listening || e->stopping || e->nconns >= e->max_conns ||
	    e->busy >= e->threads || monotonic_ms() < e->accept_after)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;	/* one process of several is woken */
	ev.data.ptr = &listen_tag;
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->listen_fd, &ev) == -1) {
		msg("epoll_ctl: %s", strerror(errno));
		e->accept_after = monotonic_ms() + ACCEPT_PAUSE_MS;
		return;
	}
	e->listening = true;
}

/* Take what the parser can from c->in and act on it; false if c was handed on or freed. */
static bool
advance(struct edge *e, struct conn *c)
{
	enum fcgi_step	 step;
	size_t		 used;

	step = fcgi_feed(&c->parser, c->in.data, c->in.len, &used);
	bytes_consume(&c->in, used);
	if (flush_answers(c) == -1) {
		conn_free(e, c);
		return false;
	}
	switch (step) {
	case FCGI_STEP_REQUEST:
		hand_to_worker(e, c);
		return false;
	case FCGI_STEP_REFUSE:
		refuse(e, c);
		return false;
	case FCGI_STEP_CLOSE:
		msg_reject("closed a FastCGI connection: %s", c->parser.error);
		conn_free(e, c);
		return false;
	case FCGI_STEP_MORE:
		break;
	}
	if (c->served && !c->parser.active && c->in.len == 0) {
		if (e->stopping) {
			conn_free(e, c);
			return false;
		}
		c->state = CONN_IDLE;
		c->idle_since = monotonic_ms();
	}
	return true;
}

/* Read what the client sent: into the parser, or thrown away after a refusal. */
static void
on_readable(struct edge *e, struct conn *c)
{
	unsigned char	 buf[READ_CHUNK];
	ssize_t		 n;
	int		 rc;

	for (;;) {
		n = read(c->fd, buf, c->state == CONN_LINGER ? sizeof(buf) :
		    IN_MAX - c->in.len < sizeof(buf) ? IN_MAX - c->in.len : sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_free(e, c);
			return;
		}
		if (c->state == CONN_LINGER)
			continue;
		if (c->state == CONN_IDLE) {
			c->state = CONN_READING;
			c->deadline = monotonic_ms() + e->io_timeout_ms;
		}
		rc = bytes_put(&c->in, buf, (size_t)n);
		OPENSSL_cleanse(buf, (size_t)n);
		if (rc == -1) {
			msg("out of memory reading a FastCGI connection");
			conn_free(e, c);
			return;
		}
		if (!advance(e, c))
			return;
	}
	if (arm(e, c) == -1)
		conn_free(e, c);
}

/* The oldest idle kept connection goes, to make room; false if there is none. */
static bool
evict_idle(struct edge *e)
{
	struct conn	*c, *oldest = NULL;

	for (c = e->conns; c != NULL; c = c->next)
		if (c->state == CONN_IDLE && (oldest == NULL || c->idle_since < oldest->idle_since))
			oldest = c;
	if (oldest == NULL)
		return false;
	conn_free(e, oldest);
	return true;
}

static void
accept_all(struct edge *e)
{
	struct conn	*c;
	int		 fd;

	while (!e->stopping && e->busy < e->threads) {
		if (e->nconns >= e->max_conns && !evict_idle(e)) {
			stop_listening(e);
			return;
		}
		fd = accept4(e->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd == -1 && errno == EAGAIN)
			return;
		if (fd == -1) {
			msg("accept: %s", strerror(errno));
			e->accept_after = monotonic_ms() + ACCEPT_PAUSE_MS;
			stop_listening(e);
			return;
		}
		if ((c = conn_new(e, fd)) == NULL) {
			(void)close(fd);
			continue;
		}
		on_readable(e, c);	/* the request is often there already */
	}
}

/* A deadline passed: a begun request is answered with what came, anything else closed. */
static void
expire(struct edge *e, struct conn *c)
{
	if (c->state == CONN_READING && fcgi_request_started(&c->parser)) {
		c->close_after = c->linger = true;
		hand_to_worker(e, c);
		return;
	}
	if (c->state == CONN_READING)
		msg_reject("closed a FastCGI connection: no whole request in %d s",
		    e->io_timeout_ms / 1000);
	conn_free(e, c);
}

/* Expire what is due; the ms until the next deadline, or -1 for none. */
static int
next_timeout(struct edge *e)
{
	struct conn	*c, *next;
	int64_t		 now = monotonic_ms(), soonest = INT64_MAX;

	for (c = e->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state != CONN_READING && c->state != CONN_LINGER)
			continue;
		if (c->deadline <= now)
			expire(e, c);
		else if (c->deadline < soonest)
			soonest = c->deadline;
	}
	if (!e->listening && !e->stopping && e->accept_after > now &&
	    e->accept_after < soonest)
		soonest = e->accept_after;
	if (soonest == INT64_MAX)
		return -1;
	return soonest - now > 60000 ? 60000 : (int)(soonest - now);
}

/* A worker is done with c: keep it for the next request, or let it go. */
static void
resume(struct edge *e, struct conn *c)
{
	e->busy--;
	if (c->close_after) {
		if (c->linger)
			conn_linger(e, c);
		else
			conn_free(e, c);
		return;
	}
	c->served = true;
	c->state = CONN_READING;
	c->deadline = monotonic_ms() + e->io_timeout_ms;
	if (!advance(e, c))
		return;
	if (arm(e, c) == -1)
		conn_free(e, c);
}

static void
begin_stop(struct edge *e)
{
	struct conn	*c, *next;

	e->stopping = true;
	stop_listening(e);
	for (c = e->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == CONN_IDLE || c->state == CONN_LINGER ||
		    (c->state == CONN_READING && !c->parser.active && c->in.len == 0))
			conn_free(e, c);
	}
}

static void
on_signal(struct edge *e)
{
	struct signalfd_siginfo	 si;

	if (read(e->sigfd, &si, sizeof(si)) == -1 && errno != EAGAIN) {
		msg("signalfd: read: %s", strerror(errno));
		return;
	}
	begin_stop(e);
}

static void
dispatch(struct edge *e, const struct epoll_event *ev)
{
	struct conn	*c, *next;

	if (ev->data.ptr == &listen_tag) {
		accept_all(e);
		return;
	}
	if (ev->data.ptr == &signal_tag) {
		on_signal(e);
		return;
	}
	if (ev->data.ptr == &wake_tag) {
		for (c = take_returned(e); c != NULL; c = next) {
			next = c->queued;
			resume(e, c);
		}
		return;
	}
	c = ev->data.ptr;
	if (c->state == CONN_READING || c->state == CONN_IDLE || c->state == CONN_LINGER)
		on_readable(e, c);
}

static void
edge_run(struct edge *e)
{
	struct epoll_event	 events[EPOLL_BATCH];
	int			 i, n, timeout;

	start_listening(e);
	while (!e->stopping || e->conns != NULL) {
		timeout = next_timeout(e);
		start_listening(e);
		n = epoll_wait(e->epfd, events, EPOLL_BATCH, timeout);
		if (n == -1 && errno != EINTR) {
			msg("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			dispatch(e, &events[i]);
	}
}

/* --- a worker: the request through libfcgi and the handler ------------------------- */

struct served {
	const struct edge	*edge;
	FCGX_Request		*req;
	const char		*held[2];	/* the values of edge->withheld, or NULL */
};

/*
 * FCGX_GetParam()'s answer (the first NAME=value), with a cheap look at the first byte
 * before strncmp(); the withheld credentials come from the edge instead.
 */
static const char *
served_param(void *ctx, const char *name)
{
	struct served	*s = ctx;
	char		**p;
	size_t		  i, len;

	for (i = 0; s->edge->withheld[i] != NULL; i++)
		if (strcmp(name, s->edge->withheld[i]) == 0)
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
	for (i = 0; w->edge->withheld[i] != NULL; i++) {
		if ((value = fcgi_request_param(req, w->edge->withheld[i], &len)) == NULL)
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

static int
open_chan(struct worker *w)
{
	int	 flags;

	if ((w->chan_keep = memfd_create("idwise-fcgi-request", MFD_CLOEXEC)) == -1) {
		msg("memfd_create: %s", strerror(errno));
		return -1;
	}
	/* libfcgi's writes go after the request it read, wherever its reading stopped. */
	if ((flags = fcntl(w->chan_keep, F_GETFL)) == -1 ||
	    fcntl(w->chan_keep, F_SETFL, flags | O_APPEND) == -1 ||
	    (w->chan = fcntl(w->chan_keep, F_DUPFD_CLOEXEC, 0)) == -1) {
		msg("memfd: fcntl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* libfcgi closed its descriptor of the memfd (after an error of its own): give another. */
static int
reopen_chan(struct worker *w)
{
	if ((w->chan = fcntl(w->chan_keep, F_DUPFD_CLOEXEC, 0)) == -1) {
		msg("memfd: fcntl: %s", strerror(errno));
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
		msg("memfd: %s", strerror(errno));
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
			msg("memfd: pread: %s", strerror(errno));
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

/* handle_request() over libfcgi's streams of the clean copy of req. */
static int
run_handler(struct worker *w, const struct fcgi_request *req)
{
	struct served	 s = { w->edge, &w->req, { NULL, NULL } };
	struct exchange	 io = { &s, served_param, served_read, served_write };
	int		 rc;

	bytes_wipe(&w->stream);
	if (fcgi_encode_request(req, w->edge->withheld, &w->stream) == -1 ||
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
	handle_request(w->edge->svc, &io);
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

	if (run_handler(w, req) == 0 && frame_reply(w, req->id) == 0)
		sent = send_by(c->fd, w->reply.data, w->reply.len,
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

/* --- starting and stopping ---------------------------------------------------------- */

static int
start_workers(struct edge *e, struct worker *workers, int n)
{
	int	 i, rc, started = 0;

	for (i = 0; i < n; i++) {
		if (worker_init(&workers[i], e) == -1)
			break;
		if ((rc = pthread_create(&workers[i].thread, NULL, worker_main,
		    &workers[i])) != 0) {
			msg("pthread_create: %s", strerror(rc));
			break;
		}
		workers[i].started = true;
		started++;
	}
	return started;
}

static void
stop_workers(struct edge *e, struct worker *workers, int n)
{
	int	 i;

	pthread_mutex_lock(&e->lock);
	e->closing = true;
	pthread_cond_broadcast(&e->work_ready);
	pthread_mutex_unlock(&e->lock);
	for (i = 0; i < n; i++) {
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
		worker_free(&workers[i]);
	}
}

/* SIGTERM and SIGINT arrive as reads of a signalfd, blocked in every thread. */
static int
open_signals(struct edge *e)
{
	sigset_t	 stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0 ||
	    (e->sigfd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		msg("signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
watch(struct edge *e, int fd, void *tag)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = tag;
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		msg("epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
edge_open(struct edge *e, struct service *svc, int listen_fd, const struct edge_limits *lim)
{
	int	 flags;

	memset(e, 0, sizeof(*e));
	e->svc = svc;
	e->listen_fd = listen_fd;
	e->epfd = e->sigfd = e->wakefd = -1;
	e->io_timeout_ms = lim->io_timeout * 1000;
	e->max_conns = (unsigned)lim->max_conns;
	e->threads = lim->threads;
	e->withheld[0] = "HTTP_AUTHORIZATION";
	e->withheld[1] = svc->cfg->header_param;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->work_ready, NULL);
	if ((flags = fcntl(listen_fd, F_GETFL)) == -1 ||
	    fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		msg("listening socket: fcntl: %s", strerror(errno));
		return -1;
	}
	if ((e->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (e->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		msg("epoll: %s", strerror(errno));
		return -1;
	}
	if (open_signals(e) == -1 || watch(e, e->sigfd, &signal_tag) == -1 ||
	    watch(e, e->wakefd, &wake_tag) == -1)
		return -1;
	return 0;
}

static void
edge_close(struct edge *e)
{
	while (e->conns != NULL)
		conn_free(e, e->conns);
	if (e->epfd != -1)
		(void)close(e->epfd);
	if (e->sigfd != -1)
		(void)close(e->sigfd);
	if (e->wakefd != -1)
		(void)close(e->wakefd);
	pthread_cond_destroy(&e->work_ready);
	pthread_mutex_destroy(&e->lock);
}

int
serve_fastcgi(struct service *svc, int listen_fd, const struct edge_limits *lim)
{
	struct edge	 edge;
	struct worker	*workers;
	int		 started = 0;

	if (FCGX_Init() != 0) {
		msg("FCGX_Init failed");
		return -1;
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		msg("signal: %s", strerror(errno));
		return -1;
	}
	if ((workers = calloc((size_t)lim->threads, sizeof(*workers))) == NULL) {
		msg("calloc: %s", strerror(errno));
		return -1;
	}
	if (edge_open(&edge, svc, listen_fd, lim) == 0 &&
	    (started = start_workers(&edge, workers, lim->threads)) > 0) {
		edge.threads = started;
		edge_run(&edge);
	}
	stop_workers(&edge, workers, lim->threads);
	edge_close(&edge);
	free(workers);
	return started > 0 ? 0 : -1;
}

static const char *
cgi_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static ssize_t
cgi_read(void *ctx, void *buf, size_t len)
{
	size_t	 got = 0;
	ssize_t	 n;

	(void)ctx;
	while (got < len) {
		n = read(STDIN_FILENO, (char *)buf + got, len - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return got > 0 ? (ssize_t)got : -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int
cgi_write(void *ctx, const void *buf, size_t len)
{
	ssize_t	 n;

	(void)ctx;
	while (len > 0) {
		n = write(STDOUT_FILENO, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
	return 0;
}

int
serve_cgi(struct service *svc)
{
	struct exchange	 io = { NULL, cgi_param, cgi_read, cgi_write };

	handle_request(svc, &io);
	return 0;
}
