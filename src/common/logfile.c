/* SPDX-License-Identifier: ISC */
/* logfile.c: opening the log at its path, syncing it and its directory, cutting a torn tail. */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logfile.h"
#include "ownfile.h"
#include "util.h"

#define LOG_MODE	0640

void
logfile_init(struct logfile *lf, const char *path)
{
	memset(lf, 0, sizeof(*lf));
	lf->path = (char *)path;
	lf->fd = -1;
}

struct fdref {
	int		 fd;
	unsigned	 holds;
	const char	*path;	/* for messages */
};

/* lf->fd is open now: it is held once, by lf. */
static int
hold_new(struct logfile *lf)
{
	if ((lf->ref = malloc(sizeof(*lf->ref))) == NULL) {
		msg_errno("%s", lf->path);
		close(lf->fd);
		lf->fd = -1;
		return -1;
	}
	lf->ref->fd = lf->fd;
	lf->ref->holds = 1;
	lf->ref->path = lf->path;
	return 0;
}

struct fdref *
logfile_hold(struct logfile *lf, int *fd)
{
	if (lf->ref == NULL)
		return NULL;
	__atomic_add_fetch(&lf->ref->holds, 1, __ATOMIC_RELAXED);
	*fd = lf->ref->fd;
	return lf->ref;
}

void
logfile_release(struct fdref *ref)
{
	if (ref == NULL || __atomic_sub_fetch(&ref->holds, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (close(ref->fd) == -1)
		msg_errno("%s: close", ref->path);
	free(ref);
}

void
logfile_close(struct logfile *lf)
{
	logfile_release(lf->ref);
	lf->ref = NULL;
	lf->fd = -1;
}

bool
logfile_look(const struct logfile *lf, off_t *size)
{
	struct stat	 st;

	if (lf->fd == -1 || stat(lf->path, &st) == -1 || (uint64_t)st.st_dev != lf->dev ||
	    (uint64_t)st.st_ino != lf->ino)
		return true;
	*size = st.st_size;
	return false;
}

bool
logfile_moved(const struct logfile *lf)
{
	off_t	 size;

	return logfile_look(lf, &size);
}

/* Open the file at the path for appending, a regular file of ours; its fd and identity, or -1. */
static int
open_regular(const char *path, int flags, struct stat *st)
{
	char	 why[OWNFILE_WHY_LEN];
	int	 fd;

	if ((fd = ownfile_open(path, O_RDWR | O_APPEND | flags, LOG_MODE, st, why,
	    sizeof(why))) == -1)
		msg("%s: %s", path, why);
	return fd;
}

/* fd, just opened at lf's path and found to be st, is lf's file now. */
static int
adopt(struct logfile *lf, int fd, const struct stat *st)
{
	lf->fd = fd;
	if (hold_new(lf) == -1)
		return -1;
	lf->dev = (uint64_t)st->st_dev;
	lf->ino = (uint64_t)st->st_ino;
	return 0;
}

int
logfile_open_existing(struct logfile *lf)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open_regular(lf->path, 0, &st)) == -1)
		return -1;
	return adopt(lf, fd, &st);
}

int
logfile_reopen(struct logfile *lf, off_t *size)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open_regular(lf->path, O_CREAT, &st)) == -1)
		return -1;
	logfile_close(lf);
	*size = st.st_size;
	return adopt(lf, fd, &st);
}

int
logfile_sync_dir(const char *path)
{
	char	*copy, *dir;
	int	 fd, rc = 0;

	if ((copy = strdup(path)) == NULL) {
		msg_errno("%s", path);
		return LOGFILE_DIR_UNOPENED;
	}
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		msg_errno("%s: open", dir);
		rc = LOGFILE_DIR_UNOPENED;
	} else if (fsync(fd) == -1) {
		msg_errno("%s: fsync", dir);
		rc = LOGFILE_DIR_UNSYNCED;
	}
	if (fd != -1)
		close(fd);
	free(copy);
	return rc;
}

off_t
logfile_size(const struct logfile *lf)
{
	struct stat	 st;

	if (fstat(lf->fd, &st) == -1) {
		msg_errno("%s: fstat", lf->path);
		return -1;
	}
	return st.st_size;
}

/* Copy [at, size) of the log to the end of the torn file, then make that durable. */
static int
keep_tail(struct logfile *lf, off_t at, off_t size, const char *torn_path)
{
	struct stat	 st;
	char		 why[OWNFILE_WHY_LEN], *tail;
	ssize_t		 n;
	int		 fd, rc = -1;

	if ((tail = malloc((size_t)(size - at) + 1)) == NULL)
		return -1;
	n = pread(lf->fd, tail, (size_t)(size - at), at);
	if (n != size - at) {
		msg("%s: read of torn tail: %s", lf->path, n == -1 ? strerror(errno) : "short");
		free(tail);
		return -1;
	}
	if (tail[n - 1] != '\n')
		tail[n++] = '\n';
	fd = ownfile_open(torn_path, O_WRONLY | O_APPEND | O_CREAT, LOG_MODE, &st, why,
	    sizeof(why));
	if (fd == -1)
		msg("%s: %s; the torn tail stays in the log", torn_path, why);
	else if (write_all(fd, tail, (size_t)n) == -1 || fsync(fd) == -1)
		msg_errno("%s: write", torn_path);
	else
		rc = 0;
	if (fd != -1)
		close(fd);
	free(tail);
	return rc;
}

int
logfile_cut(struct logfile *lf, off_t at, const char *torn_path)
{
	off_t	 size;

	if ((size = logfile_size(lf)) == -1)
		return -1;
	if (size <= at)
		return 0;
	if (keep_tail(lf, at, size, torn_path) == -1)
		return -1;
	if (ftruncate(lf->fd, at) == -1) {
		msg_errno("%s: truncate", lf->path);
		return -1;
	}
	msg("%s: cut a torn tail of %lld bytes at offset %lld; kept in %s", lf->path,
	    (long long)(size - at), (long long)at, torn_path);
	return 0;
}
