/* SPDX-License-Identifier: ISC */
/* ownfile.c: opening the files next to the log for writing, none of them another's. */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ownfile.h"

/* Root may also write the files of the account that owns the directory path is in. */
static bool
root_may_use(const char *path, uid_t owner, uid_t *dir_owner)
{
	struct stat	 st;
	char		*copy;
	int		 rc;

	if ((copy = strdup(path)) == NULL)
		return false;
	rc = stat(dirname(copy), &st);
	free(copy);
	if (rc == -1)
		return false;
	*dir_owner = st.st_uid;
	return owner == st.st_uid;
}

bool
ownfile_check(const char *path, const struct stat *st, char *why, size_t whylen)
{
	uid_t	 me = geteuid(), dir_owner;

	if (!S_ISREG(st->st_mode)) {
		snprintf(why, whylen, "not a regular file");
		return false;
	}
	if (st->st_uid == me)
		return true;
	if (me == 0 && root_may_use(path, st->st_uid, &dir_owner))
		return true;
	snprintf(why, whylen, "owned by uid %lu, not by the service's user %lu",
	    (unsigned long)st->st_uid, (unsigned long)me);
	return false;
}

/*
 * open(2) failed: say so, plainly when what is at the path is the reason (ELOOP for a
 * symbolic link under O_NOFOLLOW, ENXIO for a FIFO without a reader under O_NONBLOCK).
 */
static void
open_failed(const char *path, int error, char *why, size_t whylen)
{
	struct stat	 st;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		snprintf(why, whylen, "a symbolic link, not followed");
	else if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		snprintf(why, whylen, "not a regular file");
	else
		snprintf(why, whylen, "open: %s", strerror(error));
}

int
ownfile_open(const char *path, int flags, mode_t mode, struct stat *st, char *why,
    size_t whylen)
{
	int	 fd, fl;

	fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
	if (fd == -1) {
		open_failed(path, errno, why, whylen);
		return -1;
	}
	if (fstat(fd, st) == -1) {
		snprintf(why, whylen, "fstat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!ownfile_check(path, st, why, whylen)) {
		close(fd);
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		snprintf(why, whylen, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
