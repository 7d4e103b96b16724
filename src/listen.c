/* listen.c: making a listening socket for --listen. */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "util.h"

#define BACKLOG	128

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
		msg("%s: unlink: %s", bound_path, strerror(errno));
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

static int
listen_unix(const char *path, mode_t mode)
{
	struct sockaddr_un	 sun;
	int			 fd;

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
		msg("socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, mode) == -1 || listen(fd, BACKLOG) == -1) {
		msg("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	remember_socket(path);
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
listen_on(const char *spec, mode_t mode)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(spec + 5, mode);
	return listen_tcp(spec);
}
