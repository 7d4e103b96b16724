/* SPDX-License-Identifier: ISC */
/*
 * fcgi-loop.c: the FastCGI shell. The main thread is the edge: it accepts connections and
 * reads every one of them without blocking, through the record layer (fcgi-proto.c), each
 * against one deadline per request. Only a complete, checked request reaches a worker
 * thread, which gives libfcgi a clean re-encoding of it (through a memfd of its own; see
 * run_handler() in fcgi-worker.c), runs handle_request() over libfcgi's FCGX_* streams and
 * sends the reply. An idle kept connection holds no worker; pipelined requests are served
 * in order. SIGTERM or SIGINT: no new connection is taken, the requests begun are finished.
 * SIGHUP: the configuration is read again (reload.c), for the requests begun after it.
 *
 * This file is the loop (epoll, taking connections, deadlines, signals), starting and
 * stopping it, and plain CGI; fcgi-conn.c is one connection, fcgi-worker.c the workers.
 */
#include "autoconf.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi-edge.h"
#include "fcgi-loop.h"
#include "handler.h"
#include "reload.h"
#include "util.h"

#define ACCEPT_PAUSE_MS	100	/* after EMFILE and the like */
#define EPOLL_BATCH	64

/* epoll's data for the three descriptors that are not connections. */
static char	 listen_tag, signal_tag, wake_tag;

/* --- taking connections -------------------------------------------------------------- */

void
edge_stop_listening(struct edge *e)
{
	if (!e->listening)
		return;
	if (epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->listen_fd, NULL) == -1)
		msg_errno("epoll_ctl");
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
		msg_errno("epoll_ctl");
		e->accept_after = monotonic_ms() + ACCEPT_PAUSE_MS;
		return;
	}
	e->listening = true;
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
			edge_stop_listening(e);
			return;
		}
		fd = accept4(e->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd == -1 && errno == EAGAIN)
			return;
		if (fd == -1) {
			msg_errno("accept");
			e->accept_after = monotonic_ms() + ACCEPT_PAUSE_MS;
			edge_stop_listening(e);
			return;
		}
		if ((c = conn_new(e, fd)) == NULL) {
			(void)close(fd);
			continue;
		}
		conn_read(e, c);	/* the request is often there already */
	}
}

/* --- the loop ------------------------------------------------------------------------ */

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
			conn_expire(e, c);
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

static void
begin_stop(struct edge *e)
{
	struct conn	*c, *next;

	e->stopping = true;
	edge_stop_listening(e);
	for (c = e->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == CONN_IDLE || c->state == CONN_LINGER ||
		    (c->state == CONN_READING && !c->parser.active && c->in.len == 0))
			conn_free(e, c);
	}
}

static void
reload(struct edge *e)
{
	(void)running_config_reload(e->running);	/* said either way */
}

/* What each signal the edge takes does; every other one has its default effect. */
static const struct {
	int	 signo;
	void	(*act)(struct edge *);
} edge_signals[] = {
	{ SIGTERM,	begin_stop },
	{ SIGINT,	begin_stop },
	{ SIGHUP,	reload },
};

static void
on_signal(struct edge *e)
{
	struct signalfd_siginfo	 si;
	size_t			 i;

	if (read(e->sigfd, &si, sizeof(si)) == -1) {
		if (errno != EAGAIN)
			msg_errno("signalfd: read");
		return;
	}
	for (i = 0; i < nitems(edge_signals); i++)
		if ((int)si.ssi_signo == edge_signals[i].signo)
			edge_signals[i].act(e);
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
		for (c = workers_returned(e); c != NULL; c = next) {
			next = c->queued;
			conn_resume(e, c);
		}
		return;
	}
	c = ev->data.ptr;
	if (c->state == CONN_READING || c->state == CONN_IDLE || c->state == CONN_LINGER)
		conn_read(e, c);
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
			msg_errno("epoll_wait");
			break;
		}
		for (i = 0; i < n; i++)
			dispatch(e, &events[i]);
	}
}

/* --- starting and stopping ----------------------------------------------------------- */

/* The signals of edge_signals[] arrive as reads of a signalfd, blocked in every thread. */
static int
open_signals(struct edge *e)
{
	sigset_t	 taken;
	size_t		 i;

	sigemptyset(&taken);
	for (i = 0; i < nitems(edge_signals); i++)
		sigaddset(&taken, edge_signals[i].signo);
	if (pthread_sigmask(SIG_BLOCK, &taken, NULL) != 0 ||
	    (e->sigfd = signalfd(-1, &taken, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		msg_errno("signalfd");
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
		msg_errno("epoll_ctl");
		return -1;
	}
	return 0;
}

static int
edge_open(struct edge *e, struct service *svc, struct running_config *running,
    int listen_fd, const struct edge_limits *lim)
{
	int	 flags;

	memset(e, 0, sizeof(*e));
	e->svc = svc;
	e->running = running;
	e->listen_fd = listen_fd;
	e->epfd = e->sigfd = e->wakefd = -1;
	e->io_timeout_ms = lim->io_timeout * 1000;
	e->max_conns = (unsigned)lim->max_conns;
	e->threads = lim->threads;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->work_ready, NULL);
	if ((flags = fcntl(listen_fd, F_GETFL)) == -1 ||
	    fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		msg_errno("listening socket: fcntl");
		return -1;
	}
	if ((e->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (e->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		msg_errno("epoll");
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
serve_fastcgi(struct service *svc, struct running_config *running, int listen_fd,
    const struct edge_limits *lim)
{
	struct edge	 edge;
	struct worker	*workers = NULL;
	int		 started = 0;

	if (FCGX_Init() != 0) {
		msg("FCGX_Init failed");
		return -1;
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		msg_errno("signal");
		return -1;
	}
	if (edge_open(&edge, svc, running, listen_fd, lim) == 0 &&
	    (workers = workers_start(&edge, lim->threads, &started)) != NULL && started > 0) {
		edge.threads = started;
		edge_run(&edge);
	}
	workers_stop(&edge, workers, lim->threads);
	edge_close(&edge);
	return started > 0 ? 0 : -1;
}

/* --- plain CGI ----------------------------------------------------------------------- */

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
	(void)ctx;
	return write_all(STDOUT_FILENO, buf, len);
}

int
serve_cgi(struct service *svc, const struct config *cfg)
{
	struct exchange	 io = { NULL, cgi_param, cgi_read, cgi_write };

	handle_request(svc, cfg, &io);
	return 0;
}
