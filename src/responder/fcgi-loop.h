/* SPDX-License-Identifier: ISC */
/* fcgi-loop.h: serving requests: FastCGI with worker threads, or one plain CGI request. */
#ifndef IDW_FCGI_LOOP_H
#define IDW_FCGI_LOOP_H

struct config;
struct running_config;
struct service;

struct edge_limits {
	int	 threads;	/* worker threads: requests served at once */
	int	 io_timeout;	/* seconds from accept (or a kept connection's next request's
				   first byte) to the last byte of the reply */
	int	 max_conns;	/* connections held at once */
};

/*
 * Accept FastCGI connections on listen_fd until SIGTERM or SIGINT; the requests begun are
 * finished first. Each request is served with the configuration it began under; SIGHUP
 * reloads it (running_config_reload()). Returns 0, or -1 if it could not start.
 */
int	serve_fastcgi(struct service *, struct running_config *, int listen_fd,
	    const struct edge_limits *);
/* One request from the environment and stdin, reply on stdout. */
int	serve_cgi(struct service *, const struct config *);

#endif
