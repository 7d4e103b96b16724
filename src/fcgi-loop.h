/* fcgi-loop.h: serving requests: FastCGI with worker threads, or one plain CGI request. */
#ifndef IDW_FCGI_LOOP_H
#define IDW_FCGI_LOOP_H

struct config;
struct eventlog;

/*
 * Accept FastCGI requests on listen_fd with nthreads workers until SIGTERM or SIGINT;
 * the requests in hand are finished first. Returns 0, or -1 if it could not start.
 */
int	serve_fastcgi(const struct config *, struct eventlog *, int listen_fd, int nthreads);
/* One request from the environment and stdin, reply on stdout. */
int	serve_cgi(const struct config *, struct eventlog *);

#endif
