/* SPDX-License-Identifier: ISC */
/*
 * listen.c: the listening socket: made for --listen (a unix socket with the mode, owner and
 * group asked for, or TCP), or passed by systemd (LISTEN_FDS/LISTEN_PID, fd 3).
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "util.h"

#define BACKLOG		128
#define LISTEN_FDS_START	3	/* the first fd systemd passes (SD_LISTEN_FDS_START) */

/* The unix socket we made, to remove at exit unless another process replaced it. */
static char	 bound_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static dev_t	 bound_dev;
static ino_t	 bound_ino;

static void
remember_socket(const char *path)
{
	struct stat	 st;

	if (stat(path, &st) == -1)
		return;
	snprintf(bound_path, sizeof(bound_path), "%s", path);
	bound_dev = st.st_dev;
	bound_ino = st.st_ino;
}

void
listen_cleanup(void)
{
	struct stat	 st;

	if (bound_path[0] == '\0' || stat(bound_path, &st) == -1 ||
	    st.st_dev != bound_dev || st.st_ino != bound_ino)
		return;
	if (unlink(bound_path) == -1)
		msg_errno("%s: unlink", bound_path);
	bound_path[0] = '\0';
}

/* Remove a socket left by an earlier run; refuse to remove anything else. */
static int
remove_stale_socket(const char *path)
{
	struct stat	 st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	return unlink(path);
}

/* Give the new socket its owner, group and mode; until then only its maker can connect. */
static int
set_socket_access(const char *path, const struct socket_access *sa)
{
	if ((sa->uid != (uid_t)-1 || sa->gid != (gid_t)-1) &&
	    chown(path, sa->uid, sa->gid) == -1) {
		msg_errno("%s: chown", path);
		return -1;
	}
	if (chmod(path, sa->mode) == -1) {
		msg_errno("%s: chmod", path);
		return -1;
	}
	return 0;
}

static int
listen_unix(const char *path, const struct socket_access *sa)
{
	struct sockaddr_un	 sun;
	mode_t			 old_umask;
	int			 fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		msg("%s: socket path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (remove_stale_socket(path) == -1) {
		msg("%s: %s", path, errno == EEXIST ? "exists and is not a socket" :
		    strerror(errno));
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		msg_errno("socket");
		return -1;
	}
	/* Born 0600: nobody else can connect before its group and mode are set. */
	old_umask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (rc == -1) {
		msg_errno("%s: bind", path);
		close(fd);
		return -1;
	}
	remember_socket(path);
	if (set_socket_access(path, sa) == -1) {
		close(fd);
		listen_cleanup();
		return -1;
	}
	if (listen(fd, BACKLOG) == -1) {
		msg_errno("%s: listen", path);
		close(fd);
		listen_cleanup();
		return -1;
	}
	return fd;
}

/* "host:port" or "[host]:port" into its two parts (host may be empty: any). */
static int
split_host_port(const char *spec, char *host, size_t hostlen, const char **port)
{
	const char	*colon, *start = spec, *end;

	if (spec[0] == '[') {
		start = spec + 1;
		if ((end = strchr(start, ']')) == NULL || end[1] != ':')
			return -1;
		colon = end + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			return -1;
		end = colon;
	}
	if ((size_t)(end - start) >= hostlen || colon[1] == '\0')
		return -1;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	*port = colon + 1;
	return 0;
}

static int
bind_first(struct addrinfo *list, const char *spec)
{
	struct addrinfo	*ai;
	int		 fd = -1, one = 1, saved = 0;

	for (ai = list; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, BACKLOG) == 0)
			return fd;
		saved = errno;
		close(fd);
		fd = -1;
	}
	msg("%s: %s", spec, strerror(saved ? saved : EADDRNOTAVAIL));
	return -1;
}

static int
listen_tcp(const char *spec)
{
	struct addrinfo	 hints, *list;
	char		 host[256];
	const char	*port;
	int		 rc, fd;

	if (split_host_port(spec, host, sizeof(host), &port) == -1) {
		msg("%s: not unix:PATH, HOST:PORT or [ADDR]:PORT", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &list)) != 0) {
		msg("%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = bind_first(list, spec);
	freeaddrinfo(list);
	return fd;
}

int
listen_on(const char *spec, const struct socket_access *sa)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(spec + 5, sa);
	return listen_tcp(spec);
}

bool
listen_is_unix(const char *spec)
{
	return strncmp(spec, "unix:", 5) == 0;
}

/* A decimal number in [1, max] from the environment, or 0 when unset or not one. */
static long
env_number(const char *name, long max)
{
	const char	*text = getenv(name);
	long long	 v;

	if (text == NULL || parse_number(text, 10, 1, max, &v) == -1)
		return 0;
	return (long)v;
}

static void
unset_listen_env(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* fd is a listening stream socket; marked close-on-exec like every other fd of ours. */
static int
check_passed_socket(int fd)
{
	struct stat	 st;
	socklen_t	 len;
	int		 accepting = 0, type = 0, flags;

	if (fstat(fd, &st) == -1) {
		msg_errno("LISTEN_FDS: fd %d", fd);
		return -1;
	}
	len = sizeof(accepting);
	if (!S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == -1 ||
	    (len = sizeof(type), getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len)) == -1 ||
	    !accepting || type != SOCK_STREAM) {
		msg("LISTEN_FDS: fd %d is not a listening stream socket", fd);
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFD)) == -1 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
		msg_errno("LISTEN_FDS: fd %d: fcntl", fd);
		return -1;
	}
	return 0;
}

int
listen_from_env(int *fd)
{
	long	 pid, nfds;
	int	 rc = 0;

	*fd = -1;
	if (getenv("LISTEN_FDS") == NULL && getenv("LISTEN_PID") == NULL)
		return 0;
	pid = env_number("LISTEN_PID", LONG_MAX);
	nfds = env_number("LISTEN_FDS", INT_MAX - LISTEN_FDS_START);
	if (pid == (long)getpid() && nfds > 0) {
		if (nfds != 1) {
			msg("LISTEN_FDS=%ld: idwise-fcgi serves one socket; pass one", nfds);
			rc = -1;
		} else if ((rc = check_passed_socket(LISTEN_FDS_START)) == 0)
			*fd = LISTEN_FDS_START;
	}
	/* Meant for us or not, our children (none today) must not take them for theirs. */
	unset_listen_env();
	return rc;
}
