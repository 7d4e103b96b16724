/* SPDX-License-Identifier: ISC */
/*
 * fcgi-edge.h: what the parts of the FastCGI shell share, and nothing else includes. The
 * edge is the main thread: fcgi-loop.c waits on epoll, takes connections and keeps the
 * deadlines; fcgi-conn.c moves one connection through its states; fcgi-worker.c serves a
 * complete request in a worker thread, through libfcgi. A connection is the edge's except
 * while it is CONN_BUSY: then it is the worker's that took it, until given back.
 */
#ifndef IDW_FCGI_EDGE_H
#define IDW_FCGI_EDGE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fcgi-proto.h"

struct running_config;
struct service;
struct snapshot;

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
	struct snapshot		*config;	/* the request's, from its first byte until
						   answered; NULL between requests */
	struct conn		*prev, *next;	/* every connection: the edge's list */
	struct conn		*queued;	/* the work queue or the return list */
};

struct edge {
	struct service		*svc;
	struct running_config	*running;	/* what a request begun now is served with */
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

	pthread_mutex_t		 lock;		/* the two lists below */
	pthread_cond_t		 work_ready;
	struct conn		*work_head, *work_tail;
	struct conn		*returned;
	bool			 closing;	/* workers: no more work will come */
};

/* fcgi-loop.c: no connection is taken until edge_run() listens again. */
void	edge_stop_listening(struct edge *);

/* fcgi-conn.c: one connection, on the edge's thread. NULL: out of memory (said). */
struct conn *conn_new(struct edge *, int fd);
void	conn_free(struct edge *, struct conn *);	/* closed and unlinked */
void	conn_read(struct edge *, struct conn *);	/* readable: read, parse, act */
void	conn_expire(struct edge *, struct conn *);	/* its deadline passed */
void	conn_resume(struct edge *, struct conn *);	/* a worker gave it back */
/* All of buf to the client by deadline (ms, monotonic); 0, or -1. Any thread. */
int	conn_send(const struct conn *, const unsigned char *buf, size_t len,
	    int64_t deadline);

/*
 * fcgi-worker.c: n worker threads (how many started in *started; NULL: none could be
 * made); workers_stop() lets them finish what they have, then frees them (NULL too).
 * workers_hand() queues a connection whose request is complete; workers_returned() takes
 * those the workers are done with (after a write to wakefd), as a list through ->queued.
 */
struct worker;
struct worker	*workers_start(struct edge *, int n, int *started);
void		 workers_stop(struct edge *, struct worker *, int n);
void		 workers_hand(struct edge *, struct conn *);
struct conn	*workers_returned(struct edge *);

#endif
