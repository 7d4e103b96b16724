/* SPDX-License-Identifier: ISC */
/* logfile.h: the log file itself: opening it at its path, syncing it, cutting a torn tail. */
#ifndef IDW_LOGFILE_H
#define IDW_LOGFILE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logformat.h"

/* An open file and how many hold it: it is closed when the last one lets go. */
struct fdref;

struct logfile {
	char		*path;
	int		 fd;		/* -1 when not open */
	uint64_t	 dev;
	uint64_t	 ino;
	struct fdref	*ref;		/* the fd's, while open */
};

void	logfile_init(struct logfile *, const char *path);
/* Is the open file no longer the one at the path (renamed away, removed), or none open? */
bool	logfile_moved(const struct logfile *);
/* The same with one stat(2): when it has not moved, *size is the file's size. */
bool	logfile_look(const struct logfile *, off_t *size);
/*
 * Open the file at the path (creating it), and say its size; the old one is closed (the
 * caller synced it).
 */
int	logfile_reopen(struct logfile *, off_t *size);
/* Open the existing file at the path (a rotated one, to finish it); -1 if it cannot. */
int	logfile_open_existing(struct logfile *);
void	logfile_close(struct logfile *);

#define LOGFILE_DIR_UNOPENED	(-1)
#define LOGFILE_DIR_UNSYNCED	(-2)
/*
 * fsync the directory path is in, so that a name just made there is on disk. 0, or
 * LOGFILE_DIR_UNOPENED or LOGFILE_DIR_UNSYNCED (it said why).
 */
int	logfile_sync_dir(const char *path);
/*
 * Keep the open file open for use without the lock (another thread may reopen the log
 * meanwhile); its fd, and the hold to let go of with logfile_release(). NULL if none open.
 */
struct fdref	*logfile_hold(struct logfile *, int *fd);
void	logfile_release(struct fdref *);
/* The file's size, or -1. */
off_t	logfile_size(const struct logfile *);

/* Append the bytes from offset at to the end to torn_path, then cut the log there (the
 * caller syncs it). */
int	logfile_cut(struct logfile *, off_t at, const char *torn_path);

#endif
