/* SPDX-License-Identifier: ISC */
/*
 * minimal-fcgi.c: the benchmark's baseline (bench/run.sh). A FastCGI responder with
 * idwise-fcgi's threading model: N worker threads, each with its own FCGX_Request,
 * accepting on the socket inherited on fd 0 (spawn-fcgi, mod_fcgid) or on the one --listen
 * makes. Each request: read the whole body, answer 200 with a small JSON body shaped like
 * idwise-fcgi's. No parsing, no checks, no disk: what the FastCGI path alone costs.
 *
 * With --durable DIR, the floor of a durable receiver instead: each process appends every
 * body as a line to a file of its own in DIR with one write(2) under a mutex, and answers
 * once the line is on disk, by idwise-fcgi's group commit (src/commit.c: one fdatasync for
 * every line its threads wrote meanwhile). Still no parsing, checks, chain or index.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "commit.h"
#include "listen.h"
#include "util.h"

#define THREADS_MAX	256
#define BODY_MAX	(1 << 20)
#define WAIT_MS		10000

/* --durable: this process's file, its append lock, its group commit. */
struct durable {
	int		 fd;
	pthread_mutex_t	 append_lock;
	uint64_t	 lines;
	struct commit	 commit;
};

struct worker {
	pthread_t	 thread;
	int		 listen_fd;
};

static atomic_ulong	 served;
static struct durable	*durable;

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: minimal-fcgi [--listen unix:PATH | --listen HOST:PORT]\n"
	    "                    [--socket-mode MODE] [--threads N] [--durable DIR]\n"
	    "A FastCGI responder that reads each body and answers 200: the benchmark's\n"
	    "baseline for idwise-fcgi. --durable: first appends it to DIR/minimal.PID.log\n"
	    "and syncs it (group commit).\n");
}

/* Read the body to its end; the bytes are dropped. */
static void
drop_body(FCGX_Request *req)
{
	char	 buf[16384];

	while (FCGX_GetStr(buf, sizeof(buf), req->in) > 0)
		;
}

/* Read the body to its end into *body (a line: '\n' added); its length, or -1. */
static ssize_t
read_line(FCGX_Request *req, char **body, size_t *room)
{
	size_t	 len = 0;
	char	*grown;
	int	 n;

	for (;;) {
		if (*room - len < 16384 + 1) {
			if (*room >= BODY_MAX ||
			    (grown = realloc(*body, *room * 2 + 16384 + 1)) == NULL)
				return -1;
			*body = grown;
			*room = *room * 2 + 16384 + 1;
		}
		if ((n = FCGX_GetStr(*body + len, 16384, req->in)) <= 0)
			break;
		len += (size_t)n;
	}
	(*body)[len++] = '\n';
	return (ssize_t)len;
}

static int
sync_fd(int fd, void *arg)
{
	(void)arg;
	if (fdatasync(fd) == 0)
		return 0;
	msg("fdatasync: %s", strerror(errno));
	return -1;
}

/* Append the line and wait until it is on disk: 0, or -1. */
static int
store_durably(const char *line, size_t len)
{
	commit_ticket	 ticket = 0;
	ssize_t		 n;

	pthread_mutex_lock(&durable->append_lock);
	n = write(durable->fd, line, len);
	if (n == (ssize_t)len)
		ticket = commit_written(&durable->commit, ++durable->lines, 0, 0);
	pthread_mutex_unlock(&durable->append_lock);
	if (n != (ssize_t)len) {
		msg("write: %s", n == -1 ? strerror(errno) : "short write");
		return -1;
	}
	return commit_wait(&durable->commit, ticket, durable->fd, sync_fd, NULL, WAIT_MS) == 0 ?
	    0 : -1;
}

static void
refuse(FCGX_Request *req)
{
	FCGX_FPrintF(req->out,
	    "Status: 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\n"
	    "\r\n"
	    "{\"error\":\"log unavailable\"}\n");
}

static void
answer(FCGX_Request *req)
{
	unsigned long	 seq;

	seq = atomic_fetch_add(&served, 1) + 1;
	FCGX_FPrintF(req->out,
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "\r\n"
	    "{\"status\":\"accepted\",\"seq\":%lu}\n", seq);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	FCGX_Request	 req;
	char		*body = NULL;
	size_t		 room = 0;
	ssize_t		 len;

	if (FCGX_InitRequest(&req, w->listen_fd, 0) != 0) {
		msg("FCGX_InitRequest failed");
		return NULL;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		if (durable == NULL) {
			drop_body(&req);
			answer(&req);
		} else if ((len = read_line(&req, &body, &room)) == -1 ||
		    store_durably(body, (size_t)len) == -1)
			refuse(&req);
		else
			answer(&req);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	free(body);
	return NULL;
}

/* --durable DIR: this process's file DIR/minimal.PID.log, made anew. */
static int
durable_open(const char *dir)
{
	char	 path[4096];
	int	 rc;

	if ((durable = calloc(1, sizeof(*durable))) == NULL) {
		msg("calloc: %s", strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/minimal.%ld.log", dir, (long)getpid());
	if ((durable->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		msg("%s: open: %s", path, strerror(errno));
		return -1;
	}
	if ((rc = pthread_mutex_init(&durable->append_lock, NULL)) != 0 ||
	    (rc = commit_init(&durable->commit)) != 0) {
		msg("mutex: %s", strerror(rc));
		return -1;
	}
	return 0;
}

static int
serve(int listen_fd, int nthreads)
{
	struct worker	*workers;
	int		 i, rc, started = 0;

	if (FCGX_Init() != 0) {
		msg("FCGX_Init failed");
		return EX_OSERR;
	}
	/* libfcgi only notes SIGTERM for the next accept; the baseline just ends. */
	signal(SIGTERM, SIG_DFL);
	if ((workers = calloc((size_t)nthreads, sizeof(*workers))) == NULL) {
		msg("calloc: %s", strerror(errno));
		return EX_OSERR;
	}
	for (i = 0; i < nthreads; i++) {
		workers[i].listen_fd = listen_fd;
		if ((rc = pthread_create(&workers[i].thread, NULL, worker_main,
		    &workers[i])) != 0) {
			msg("pthread_create: %s", strerror(rc));
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	free(workers);
	return started > 0 ? EX_OK : EX_OSERR;
}

enum { OPT_LISTEN = 256, OPT_SOCKET_MODE, OPT_THREADS, OPT_DURABLE, OPT_HELP };

static const struct option long_options[] = {
	{ "listen",		required_argument,	NULL, OPT_LISTEN },
	{ "socket-mode",	required_argument,	NULL, OPT_SOCKET_MODE },
	{ "threads",		required_argument,	NULL, OPT_THREADS },
	{ "durable",		required_argument,	NULL, OPT_DURABLE },
	{ "help",		no_argument,		NULL, OPT_HELP },
	{ NULL,			0,			NULL, 0 }
};

int
main(int argc, char **argv)
{
	struct socket_access	 sa = { 0660, (uid_t)-1, (gid_t)-1 };
	const char		*listen_spec = NULL, *durable_dir = NULL;
	long long		 v;
	int			 ch, threads = 1, fd = 0, rc;

	set_progname(argv[0]);
	while ((ch = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (ch) {
		case OPT_LISTEN:
			listen_spec = optarg;
			break;
		case OPT_SOCKET_MODE:
			if (parse_number(optarg, 8, 0, 0777, &v) == -1) {
				msg("--socket-mode: not an octal mode: %s", optarg);
				return EX_USAGE;
			}
			sa.mode = (mode_t)v;
			break;
		case OPT_THREADS:
			if (parse_number(optarg, 10, 1, THREADS_MAX, &v) == -1) {
				msg("--threads: not a number from 1 to %d: %s", THREADS_MAX,
				    optarg);
				return EX_USAGE;
			}
			threads = (int)v;
			break;
		case OPT_DURABLE:
			durable_dir = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (listen_spec != NULL && (fd = listen_on(listen_spec, &sa)) == -1)
		return EX_OSERR;
	if (listen_spec == NULL && FCGX_IsCGI()) {
		msg("fd 0 is not a FastCGI socket: run me under spawn-fcgi or mod_fcgid, "
		    "or give --listen");
		return EX_USAGE;
	}
	if (durable_dir != NULL && durable_open(durable_dir) == -1)
		return EX_CANTCREAT;
	rc = serve(fd, threads);
	listen_cleanup();
	return rc;
}
