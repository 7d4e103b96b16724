/*
 * fcgi-loop.c: the FastCGI shell. Workers each own one FCGX_Request and loop: accept, hand
 * the request to handle_request(), finish. The main thread waits for SIGTERM/SIGINT, then
 * sets FCGX_ShutdownPending() and interrupts (SIGUSR1) only the workers waiting in accept,
 * so the requests in hand run to their end.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "fcgi-loop.h"
#include "handler.h"
#include "util.h"

#define WAKE_INTERVAL_NS	(50 * 1000000L)
struct worker {
	pthread_t		 thread;
	bool			 started;
	bool			 in_accept;	/* under state_mutex */
	bool			 done;		/* under state_mutex */
	int			 listen_fd;
	int			 io_timeout;	/* seconds */
	struct service		*svc;
};

static pthread_mutex_t		 state_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool			 stopping;	/* under state_mutex */
static volatile sig_atomic_t	 stop_signal;

static void
on_stop_signal(int sig)
{
	stop_signal = sig;
	FCGX_ShutdownPending();
}

static void
on_wake_signal(int sig)
{
	(void)sig;
}

/* Without SA_RESTART, so that a blocked accept() returns. */
static int
install(int sig, void (*handler)(int))
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	return sigaction(sig, &sa, NULL);
}

/*
 * FCGX_GetParam()'s answer (the first NAME=value), with a cheap look at the first byte
 * before strncmp(): seven look-ups per request over some thirty parameters from nginx.
 */
static const char *
fcgi_param(void *ctx, const char *name)
{
	FCGX_Request	*req = ctx;
	char		**p;
	size_t		  len;

	if (name == NULL || req->envp == NULL || name[0] == '\0')
		return FCGX_GetParam(name, req->envp);
	len = strlen(name);
	for (p = req->envp; *p != NULL; p++)
		if ((*p)[0] == name[0] && strncmp(name, *p, len) == 0 && (*p)[len] == '=')
			return *p + len + 1;
	return NULL;
}

static ssize_t
fcgi_read(void *ctx, void *buf, size_t len)
{
	FCGX_Request	*req = ctx;
	int		 n;

	if (len > 1 << 30)
		len = 1 << 30;
	n = FCGX_GetStr(buf, (int)len, req->in);
	if (n < (int)len && FCGX_GetError(req->in) != 0)
		return -1;
	return n;
}

static int
fcgi_write(void *ctx, const void *buf, size_t len)
{
	FCGX_Request	*req = ctx;

	return FCGX_PutStr(buf, (int)len, req->out) == (int)len ? 0 : -1;
}

/* May this worker go on accepting? Marks it as waiting in accept if so. */
static bool
enter_accept(struct worker *w)
{
	bool	 go;

	pthread_mutex_lock(&state_mutex);
	go = !stopping;
	w->in_accept = go;
	pthread_mutex_unlock(&state_mutex);
	return go;
}

static void
leave_accept(struct worker *w)
{
	pthread_mutex_lock(&state_mutex);
	w->in_accept = false;
	pthread_mutex_unlock(&state_mutex);
}

/*
 * nginx and Apache hand over a whole buffered request at once; a client talking FastCGI
 * to us directly could stall mid-body and hold this worker forever.
 */
static void
bound_io(int fd, int seconds)
{
	struct timeval	 tv = { seconds, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		msg("setsockopt: %s", strerror(errno));
}

/* libfcgi takes every role the protocol has; we only play the responder. */
static void
refuse_role(FCGX_Request *req)
{
	static const char	 reply[] = "Status: 403 Forbidden\r\n"
	    "Content-Type: application/json\r\n\r\n"
	    "{\"error\":\"only the FastCGI responder role is served\"}\n";

	msg_reject("rejected a FastCGI request in role %d: only the responder role is served",
	    req->role);
	(void)FCGX_PutStr(reply, (int)sizeof(reply) - 1, req->out);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	FCGX_Request	 req;
	struct exchange	 io = { &req, fcgi_param, fcgi_read, fcgi_write };
	int		 rc;

	if (FCGX_InitRequest(&req, w->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		msg("FCGX_InitRequest failed");
		return NULL;
	}
	while (enter_accept(w)) {
		rc = FCGX_Accept_r(&req);
		leave_accept(w);
		if (rc < 0) {
			if (rc == -EINTR || stop_signal)
				continue;
			msg("accept: %s", strerror(-rc));
			/* Out of descriptors, say: pause rather than spin. */
			sleep(1);
			continue;
		}
		bound_io(req.ipcFd, w->io_timeout);
		if (req.role == FCGI_RESPONDER)
			handle_request(w->svc, &io);
		else
			refuse_role(&req);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	pthread_mutex_lock(&state_mutex);
	w->done = true;
	pthread_mutex_unlock(&state_mutex);
	return NULL;
}

/* Interrupt the workers waiting in accept; true once every worker has ended. */
static bool
wake_workers(struct worker *workers, int n)
{
	bool	 all_done = true;
	int	 i;

	pthread_mutex_lock(&state_mutex);
	stopping = true;
	for (i = 0; i < n; i++) {
		if (!workers[i].started || workers[i].done)
			continue;
		all_done = false;
		if (workers[i].in_accept)
			pthread_kill(workers[i].thread, SIGUSR1);
	}
	pthread_mutex_unlock(&state_mutex);
	return all_done;
}

static int
start_workers(struct worker *workers, int n)
{
	sigset_t	 block, old;
	int		 i, rc, started = 0;

	/* Workers never take SIGTERM/SIGINT: only the main thread waits for them. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < n; i++) {
		if ((rc = pthread_create(&workers[i].thread, NULL, worker_main,
		    &workers[i])) != 0) {
			msg("pthread_create: %s", strerror(rc));
			break;
		}
		workers[i].started = true;
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return started;
}

static void
wait_for_stop(void)
{
	sigset_t	 block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sigdelset(&old, SIGTERM);
	sigdelset(&old, SIGINT);
	while (!stop_signal)
		sigsuspend(&old);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
}

static void
stop_workers(struct worker *workers, int n)
{
	struct timespec	 pause = { 0, WAKE_INTERVAL_NS };
	int		 i;

	while (!wake_workers(workers, n))
		nanosleep(&pause, NULL);
	for (i = 0; i < n; i++)
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
}

int
serve_fastcgi(struct service *svc, int listen_fd, int nthreads, int io_timeout)
{
	struct worker	*workers;
	int		 i, started;

	if (FCGX_Init() != 0) {
		msg("FCGX_Init failed");
		return -1;
	}
	if (install(SIGTERM, on_stop_signal) == -1 || install(SIGINT, on_stop_signal) == -1 ||
	    install(SIGUSR1, on_wake_signal) == -1) {
		msg("sigaction: %s", strerror(errno));
		return -1;
	}
	if ((workers = calloc((size_t)nthreads, sizeof(*workers))) == NULL) {
		msg("calloc: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < nthreads; i++) {
		workers[i].listen_fd = listen_fd;
		workers[i].io_timeout = io_timeout;
		workers[i].svc = svc;
	}
	if ((started = start_workers(workers, nthreads)) > 0)
		wait_for_stop();
	stop_workers(workers, nthreads);
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
