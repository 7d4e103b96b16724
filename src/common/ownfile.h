/* SPDX-License-Identifier: ISC */
/*
 * ownfile.h: opening a file next to the log for writing (the log, <log>.torn, <log>.idx,
 * <log>.shm, the reject log) so that nobody else's file is written to: no symbolic link
 * is followed, a FIFO or device never blocks the open, and the file must be a regular
 * file of the service's user.
 */
#ifndef IDW_OWNFILE_H
#define IDW_OWNFILE_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stdbool.h>
#include <stddef.h>

#define OWNFILE_WHY_LEN	128

/*
 * Open path with flags (O_RDWR or O_WRONLY, and O_APPEND, O_CREAT as wanted; O_CLOEXEC,
 * O_NOFOLLOW and O_NONBLOCK are added, O_NONBLOCK taken off again once open) and mode.
 * The file must be a regular file owned by the service's user (ownfile_check()). Its fd
 * and *st; or -1 and why not in why ("not a regular file", "owned by uid 0, not by the
 * service's user 65534", "open: Permission denied"), to be said after the path.
 */
int	ownfile_open(const char *path, int flags, mode_t mode, struct stat *st, char *why,
	    size_t whylen);
/*
 * Is st (of the file at path) a regular file of the service's user? The service's user
 * is the effective uid; for root (idwise-log reindex) also the owner of the directory
 * the file is in (the service account that owns the log's directory). If not, why.
 */
bool	ownfile_check(const char *path, const struct stat *st, char *why, size_t whylen);

#endif
