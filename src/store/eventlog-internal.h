/* SPDX-License-Identifier: ISC */
/*
 * eventlog-internal.h: the event log writer (eventlog.h) in its parts, one job a file, and
 * the struct eventlog they share. Not for use outside them.
 *
 *   eventlog.c	a writer; one record appended under the lock; the group commit after it
 *   attach.c	the state file (shm.h), once per process, and its append lock
 *   index.c	the dedup index file (dedup.h): opened, made anew, dropped
 *   follow.c	the head brought up to the log as it is now: rotations, dead writers
 *   recovery.c	records read into the index, a torn tail cut, the index rebuilt
 *
 * The head (el->head) is where the last record indexed ends: its seq, hash and file.
 * Everything below but el_attach() and el_lock() is called holding the append lock, with
 * el->locked the state file it is in.
 */
#ifndef IDW_EVENTLOG_INTERNAL_H
#define IDW_EVENTLOG_INTERNAL_H

#include <sys/types.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commit.h"
#include "dedup.h"
#include "logfile.h"

#define LOCK_TIMEOUT_MS		10000
#define INDEX_ALL		INT64_MIN	/* index_since: every record, however old */

struct shm;
struct log_reader;
struct eventlog_progress;

/* A rebuild's progress, for eventlog_reindex's callback (none: to is NULL). */
struct rebuild_progress {
	const struct eventlog_progress *to;
	uint64_t		 records;
	uint64_t		 done;		/* the bytes of the files read before this one */
	uint64_t		 total;
};

struct eventlog {
	bool			 sync_data;	/* the settings (eventlog.h) */
	int64_t			 dedup_window_ms;
	pthread_mutex_t		 attach_mutex;
	struct shm		*shm;		/* atomic: current_shm() */
	struct shm		**retired;	/* replaced ones, kept mapped: threads use them */
	size_t			 nretired;
	struct shm		*locked;	/* the one whose lock is held */
	commit_ticket		 ticket;	/* under the lock: the record to wait for */
	struct dedup		*dedup;
	uint64_t		 dedup_dev, dedup_ino;
	struct logfile		 log;
	struct log_head		 head;		/* valid while appending */
	struct log_reader	*reader;	/* recovery's parser, used under the lock */
	struct rebuild_progress	 progress;	/* during eventlog_reindex */
	char			*log_path;
	char			*shm_path;
	char			*idx_path;
	char			*torn_path;
};

/* attach.c: the state file; quiet: say nothing if it cannot be had (the metrics). */
struct shm	*el_attach(struct eventlog *, bool quiet);
/* Attach, then take the append lock: the state file locked (el->locked), or NULL. */
struct shm	*el_lock(struct eventlog *);
void		 el_unlock(struct eventlog *, struct shm *);

/* index.c: an index to use in el->dedup (0), or -1 (it said why). */
int	el_open_index(struct eventlog *);
/* Close the index; remove: its file too, so that it is rebuilt from the log. */
void	el_drop_index(struct eventlog *, bool remove);
/* A call on the index failed: say so, drop it (it is rebuilt), return -1. */
int	el_index_failed(struct eventlog *, const char *what);

/* follow.c: bring the head up to the log, and keep it in the index if that moved it. */
int	el_catch_up(struct eventlog *);
/* Go on in the file at the log's path, the one open now synced first. */
int	el_reopen_log(struct eventlog *);

/*
 * recovery.c: take in the records from `from` to the end of lf (the file the head is in),
 * indexing those received since index_since, and cut a torn tail. open_start: the first
 * record may start the chain anywhere (a file whose predecessor is not at hand).
 */
int	el_roll_forward(struct eventlog *, struct logfile *lf, off_t from, bool open_start,
	    int64_t index_since);
/* Start the index over: the rotated files back to the dedup window, then the log. */
int	el_rebuild(struct eventlog *);
/* An fdatasync outside the group commit; a failure spoils later syncs (commit.h). */
int	el_sync_file(struct eventlog *, int fd, const char *path);

#endif
