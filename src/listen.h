/* listen.h: the socket idwise-fcgi serves FastCGI on when it runs as its own daemon. */
#ifndef IDW_LISTEN_H
#define IDW_LISTEN_H

#include <sys/types.h>

/*
 * "unix:/path" (made with the given mode; a stale socket there is replaced, anything else
 * is refused) or "host:port" / "[v6addr]:port". Returns the listening fd or -1 (said why).
 */
int	listen_on(const char *spec, mode_t mode);
/* After serving: remove the unix socket listen_on() made, if it is still ours. */
void	listen_cleanup(void);

#endif
