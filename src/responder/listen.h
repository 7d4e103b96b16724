/* SPDX-License-Identifier: ISC */
/* listen.h: the socket idwise-fcgi serves FastCGI on when it runs as its own daemon. */
#ifndef IDW_LISTEN_H
#define IDW_LISTEN_H

#include <sys/types.h>

#include <stdbool.h>

/* What a unix socket made by listen_on() gets; (uid_t)-1 and (gid_t)-1 leave them be. */
struct socket_access {
	mode_t	 mode;
	uid_t	 uid;
	gid_t	 gid;
};

/*
 * "unix:/path" (made with the access asked for; a stale socket there is replaced, anything
 * else is refused) or "host:port" / "[v6addr]:port". Returns the listening fd or -1 (said
 * why).
 */
int	listen_on(const char *spec, const struct socket_access *);
bool	listen_is_unix(const char *spec);
/* After serving: remove the unix socket listen_on() made, if it is still ours. */
void	listen_cleanup(void);

/*
 * The socket-activation protocol of systemd (sd_listen_fds(3)): when LISTEN_PID is this
 * process and LISTEN_FDS is 1, *fd is 3, checked to be a listening stream socket and made
 * close-on-exec; otherwise *fd is -1. LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are unset
 * either way. Returns 0, or -1 (said why) when the variables are for us but unusable
 * (more than one socket, fd 3 not a listening socket).
 */
int	listen_from_env(int *fd);

#endif
