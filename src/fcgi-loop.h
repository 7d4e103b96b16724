/* fcgi-loop.h: serving requests: FastCGI with worker threads, or one plain CGI request. */
#ifndef IDW_FCGI_LOOP_H
#define IDW_FCGI_LOOP_H

struct service;

/*
 * Accept FastCGI requests on listen_fd with nthreads workers until SIGTERM or SIGINT;
 * the requests in hand are finished first. A connection that sends or takes nothing for
 * io_timeout seconds is given up. Returns 0, or -1 if it could not start.
 */
int	serve_fastcgi(struct service *, int listen_fd, int nthreads, int io_timeout);
/* One request from the environment and stdin, reply on stdout. */
int	serve_cgi(struct service *);

#endif
