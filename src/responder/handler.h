/* SPDX-License-Identifier: ISC */
/*
 * handler.h: one request, start to end, over whatever carries it (FastCGI or plain CGI):
 * read the CGI variables and the body, ask decide, store through the event log, reply.
 */
#ifndef IDW_HANDLER_H
#define IDW_HANDLER_H

#include <stddef.h>
#include <sys/types.h>

struct audit;
struct config;
struct eventlog;

/*
 * What a process serves with: built once at start, shared by its threads. The
 * configuration comes with each request: the one it began under (reload.h).
 */
struct service {
	struct eventlog		*log;
	struct audit		*audit;
};

struct exchange {
	void		*ctx;
	const char	*(*param)(void *ctx, const char *name);
	/* Up to len bytes; fewer only at the end of the body or on error (then -1). */
	ssize_t		 (*read)(void *ctx, void *buf, size_t len);
	int		 (*write)(void *ctx, const void *buf, size_t len);
};

void	handle_request(struct service *, const struct config *, const struct exchange *);

#endif
