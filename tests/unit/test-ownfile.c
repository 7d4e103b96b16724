/* SPDX-License-Identifier: ISC */
/*
 * test-ownfile.c: what a responder opens next to the log (ownfile.h): a regular file of
 * its own user is opened (blocking again); a symbolic link, a FIFO (without blocking),
 * a directory or another user's file is refused with the reason. And what the state file
 * is checked with: lock words no real lock has (pmutex.h), counters past the log
 * (commit.h).
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "commit.h"
#include "ownfile.h"
#include "pmutex.h"
#include "tap.h"

static char	 dir[] = "/tmp/test-ownfile.XXXXXX";

/* A step of the set-up that must work. */
static void
must(int rc, const char *what)
{
	if (rc == -1) {
		printf("Bail out! %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

static char *
at(const char *name)
{
	static char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void
test_open(void)
{
	struct stat	 st;
	char		 why[OWNFILE_WHY_LEN], target[PATH_MAX];
	int		 fd, fl;

	fd = ownfile_open(at("log"), O_RDWR | O_APPEND | O_CREAT, 0640, &st, why,
	    sizeof(why));
	ok(fd != -1, "a new file of ours is opened");
	fl = fd != -1 ? fcntl(fd, F_GETFL) : 0;
	ok(fd != -1 && !(fl & O_NONBLOCK), "  blocking again (O_NONBLOCK taken off)");
	ok(fd != -1 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "  close-on-exec");
	ok(fd != -1 && S_ISREG(st.st_mode) && st.st_uid == geteuid(), "  its stat is given");
	if (fd != -1)
		close(fd);

	snprintf(target, sizeof(target), "%s", at("log"));
	must(symlink(target, at("link")), "symlink");
	fd = ownfile_open(at("link"), O_RDWR | O_CREAT, 0640, &st, why, sizeof(why));
	ok(fd == -1, "a symbolic link (to a file of ours) is refused");
	is_str(why, "a symbolic link, not followed", "  and said so");

	must(mkfifo(at("fifo"), 0600), "mkfifo");
	fd = ownfile_open(at("fifo"), O_WRONLY | O_APPEND | O_CREAT, 0640, &st, why,
	    sizeof(why));
	ok(fd == -1, "a FIFO without a reader: refused, the open did not block");
	is_str(why, "not a regular file", "  and said so");
	fl = open(at("fifo"), O_RDONLY | O_NONBLOCK);
	fd = ownfile_open(at("fifo"), O_WRONLY | O_APPEND, 0640, &st, why, sizeof(why));
	ok(fd == -1, "a FIFO with a reader: refused");
	is_str(why, "not a regular file", "  and said so");
	if (fl != -1)
		close(fl);

	must(mkdir(at("dir"), 0700), "mkdir");
	fd = ownfile_open(at("dir"), O_RDONLY, 0640, &st, why, sizeof(why));
	ok(fd == -1, "a directory is refused");
	is_str(why, "not a regular file", "  and said so");

	fd = ownfile_open(at("missing/x"), O_RDWR | O_CREAT, 0640, &st, why, sizeof(why));
	ok(fd == -1, "no such directory: refused");
	is_str(why, "open: No such file or directory", "  with the open's error");
}

/* As root: a file of another user; root's own; and the directory owner's. */
static void
test_owner(void)
{
	struct stat	 st;
	char		 why[OWNFILE_WHY_LEN], want[OWNFILE_WHY_LEN];
	int		 fd;

	if (geteuid() != 0) {
		ok(1, "# SKIP not root: no file of another user to make");
		return;
	}
	must(fd = open(at("theirs"), O_WRONLY | O_CREAT, 0666), "open");
	close(fd);
	must(chown(at("theirs"), 65534, 65534), "chown");
	fd = ownfile_open(at("theirs"), O_RDWR, 0640, &st, why, sizeof(why));
	ok(fd == -1, "as root, a file of uid 65534 in a directory of root's: refused");
	snprintf(want, sizeof(want), "owned by uid 65534, not by the service's user 0");
	is_str(why, want, "  and said so");
	must(chown(dir, 65534, 65534), "chown");
	fd = ownfile_open(at("theirs"), O_RDWR, 0640, &st, why, sizeof(why));
	ok(fd != -1, "  in a directory of uid 65534's (idwise-log reindex): opened");
	if (fd != -1)
		close(fd);
	must(chown(dir, 0, 0), "chown");
}

static void
test_mutex(void)
{
	pthread_mutex_t	 m;
	bool		 died;

	pmutex_init(&m);
	ok(pmutex_plausible(&m), "a new lock is plausible");
	pmutex_lock(&m, 1000, &died);
	ok(pmutex_plausible(&m), "  held");
	pthread_mutex_unlock(&m);
	ok(pmutex_plausible(&m), "  let go");
	m.__data.__kind |= 32;	/* priority inheritance */
	ok(!pmutex_plausible(&m), "another kind: not");
	pmutex_init(&m);
	m.__data.__lock = 0x3ffffff0;
	ok(!pmutex_plausible(&m), "a lock word naming no possible thread: not");
	pmutex_init(&m);
	m.__data.__owner = -5;
	ok(!pmutex_plausible(&m), "a negative owner: not");
	pmutex_init(&m);
	m.__data.__count = 7;
	ok(!pmutex_plausible(&m), "a count of 7 for a lock that is not recursive: not");
}

static void
test_counters(void)
{
	struct commit	 c;
	commit_ticket	 t;

	commit_init(&c);
	ok(commit_flags_plausible(&c), "a new commit state's flags are plausible");
	c.failed = 77;
	ok(!commit_flags_plausible(&c), "  failed = 77: not");
	commit_init(&c);
	t = commit_written(&c, 5, 1, 2);
	ok(commit_believable(&c, 5), "seq 5 written, the log ends at 5: believed");
	c.synced = 5;
	ok(commit_believable(&c, 5), "  synced up to 5: believed");
	ok(!commit_believable(&c, 4), "  the log ending at 4: not");
	c.synced = UINT64_C(1) << 40;
	ok(!commit_believable(&c, 5), "  synced up to 2^40: not");
	commit_distrust(&c);
	ok(commit_believable(&c, 5), "distrusted: believed again");
	ok(!commit_done(&c, t), "  and seq 5 waits for a sync again");
	ok(commit_written(&c, 6, 1, 2) >> 48 != t >> 48,
	    "  the next record counts as another file's (no old ticket is covered by it)");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_open();
	test_owner();
	test_mutex();
	test_counters();
	unlink(at("log"));
	unlink(at("link"));
	unlink(at("fifo"));
	unlink(at("theirs"));
	rmdir(at("dir"));
	rmdir(dir);
	return done_testing();
}
