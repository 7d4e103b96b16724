/* SPDX-License-Identifier: ISC */
/* test-listen.c: systemd's LISTEN_FDS protocol and the unix socket --listen makes. */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "tap.h"

static char	 dir[] = "/tmp/test-listen.XXXXXX";

/* A listening unix socket at dir/name, moved to fd 3. */
static int
listener_on_fd3(const char *name)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", dir, name);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 || listen(fd, 1) == -1 ||
	    dup2(fd, 3) == -1)
		return -1;
	if (fd != 3)
		close(fd);
	return 0;
}

static void
set_env(const char *pid, const char *fds)
{
	char	 self[32];

	if (pid == NULL) {
		snprintf(self, sizeof(self), "%ld", (long)getpid());
		pid = self;
	}
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", fds, 1);
	setenv("LISTEN_FDNAMES", "idwise", 1);
}

static int
env_gone(void)
{
	return getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL &&
	    getenv("LISTEN_FDNAMES") == NULL;
}

static void
test_listen_fds(void)
{
	char	 other[32];
	int	 fd, rc;

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	rc = listen_from_env(&fd);
	ok(rc == 0 && fd == -1, "no LISTEN_FDS: no socket, no error");

	ok(listener_on_fd3("a.sock") == 0, "a listening socket on fd 3");
	set_env(NULL, "1");
	rc = listen_from_env(&fd);
	ok(rc == 0 && fd == 3, "LISTEN_PID is us, LISTEN_FDS=1: fd 3");
	ok(env_gone(), "  LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are unset");
	ok((fcntl(3, F_GETFD) & FD_CLOEXEC) != 0, "  fd 3 is made close-on-exec");

	snprintf(other, sizeof(other), "%ld", (long)getpid() + 1);
	set_env(other, "1");
	rc = listen_from_env(&fd);
	ok(rc == 0 && fd == -1, "LISTEN_PID of another process: not ours, no error");
	ok(env_gone(), "  and the variables are unset all the same");

	set_env(NULL, "0");
	rc = listen_from_env(&fd);
	ok(rc == 0 && fd == -1, "LISTEN_FDS=0: no socket");
	set_env(NULL, "one");
	rc = listen_from_env(&fd);
	ok(rc == 0 && fd == -1, "LISTEN_FDS not a number: no socket");
	set_env(NULL, "2");
	rc = listen_from_env(&fd);
	ok(rc == -1 && fd == -1, "LISTEN_FDS=2: an error (one socket is served)");
	ok(env_gone(), "  the variables are unset");

	close(3);
	set_env(NULL, "1");
	ok(listen_from_env(&fd) == -1, "LISTEN_FDS=1 with fd 3 closed: an error");
	ok(open("/dev/null", O_RDONLY) == 3, "/dev/null on fd 3");
	set_env(NULL, "1");
	ok(listen_from_env(&fd) == -1, "LISTEN_FDS=1 with a file on fd 3: an error");
	close(3);
}

static void
test_listen_unix(void)
{
	struct socket_access	 sa = { 0620, (uid_t)-1, getgid() };
	struct stat		 st;
	char			 spec[160], path[128];
	int			 fd;

	snprintf(path, sizeof(path), "%s/b.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	fd = listen_on(spec, &sa);
	ok(fd >= 0, "listen_on unix: a socket");
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "  at the path");
	is_int(st.st_mode & 07777, 0620, "  with the mode asked for");
	is_int(st.st_gid, getgid(), "  and the group");
	ok(listen_is_unix(spec) && !listen_is_unix("127.0.0.1:9000"), "listen_is_unix");
	close(fd);
	listen_cleanup();
	ok(lstat(path, &st) == -1, "listen_cleanup removes the socket");
}

int
main(void)
{
	char	 cmd[64];

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_listen_fds();
	test_listen_unix();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		ok(0, "remove %s", dir);
	return done_testing();
}
