/* SPDX-License-Identifier: ISC */
/*
 * follow.c: under the lock, the head (the last record indexed) brought up to the log as it
 * is now: the log rotated away, a file the head is in finished first, a file shorter than
 * the head, what a writer that died left at the end.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "dedup.h"
#include "eventlog-internal.h"
#include "logfile.h"
#include "logformat.h"
#include "shm.h"
#include "util.h"

static bool
head_in_open_file(const struct eventlog *el)
{
	return el->log.fd != -1 && el->head.dev == el->log.dev && el->head.ino == el->log.ino;
}

/*
 * Go on in the file at the log's path. The file open now is synced first, so that what
 * any writer put there is on disk before anything is written to the new one; and if the
 * new one is empty, the directory, so that its name is.
 */
int
el_reopen_log(struct eventlog *el)
{
	off_t	 size;
	int	 rc;

	if (el->log.fd != -1 && el_sync_file(el, el->log.fd, el->log.path) == -1)
		return -1;
	if (logfile_reopen(&el->log, &size) == -1)
		return -1;
	if (size > 0)
		return 0;
	/*
	 * New (made now, or by logrotate): its name is on disk before a record in it is.
	 * If not, it is let go again, so that the next append tries again.
	 */
	if ((rc = logfile_sync_dir(el->log.path)) == 0)
		return 0;
	if (rc == LOGFILE_DIR_UNSYNCED)
		commit_fail(shm_commit(el->locked));
	logfile_close(&el->log);
	return -1;
}

/* Take in what a writer that died left at the end of lf, the file the head is in. */
static int
finish_head_file(struct eventlog *el, struct logfile *lf)
{
	off_t	 size;

	if ((size = logfile_size(lf)) == -1)
		return -1;
	if ((uint64_t)size <= el->head.end)
		return 0;
	return el_roll_forward(el, lf, (off_t)el->head.end, false, INDEX_ALL);
}

/*
 * The head is in a file rotated away that this process does not have open (it started
 * since, or the file was rotated twice). Finish it, and make it durable before anything
 * goes into the next file (commit.h counts on that). Gone (removed, compressed): nothing
 * to do.
 */
static int
finish_rotated_head_file(struct eventlog *el)
{
	struct logfile	 old;
	char		*path;
	int		 rc;

	if ((rc = logformat_find_rotated(el->log.path, el->head.dev, el->head.ino,
	    &path)) == -1) {
		/* As when it is gone: the writer that had it open finished it, or nobody can. */
		msg_errno("%s: looking for the file rotated away", el->log.path);
		return 0;
	}
	if (rc == 0)
		return 0;
	logfile_init(&old, path);
	rc = logfile_open_existing(&old);
	if (rc == 0)
		rc = finish_head_file(el, &old);
	if (rc == 0)
		rc = el_sync_file(el, old.fd, path);
	logfile_close(&old);
	free(path);
	return rc;
}

/*
 * The log was renamed away (rotated) or removed since this process last looked, or it
 * has not opened it yet. Take in what a writer that died left at the end of the file the
 * head is in, then go on in the file at the path.
 */
static int
follow_rotation(struct eventlog *el)
{
	bool	 had_head_file = head_in_open_file(el);

	if (had_head_file && finish_head_file(el, &el->log) == -1)
		return -1;
	if (el_reopen_log(el) == -1)
		return -1;
	if (!had_head_file && el->head.seq != 0 && !head_in_open_file(el))
		return finish_rotated_head_file(el);
	return 0;
}

/* Under the lock: make el->head and the open file agree with the log as it is now. */
static int
reconcile(struct eventlog *el, int found)
{
	off_t	 size = -1;

	if (logfile_look(&el->log, &size) && follow_rotation(el) == -1)
		return -1;
	if (found == 1)
		return el_rebuild(el);
	if (!head_in_open_file(el)) {
		/* The first append to a file made since the last record. */
		el->head.dev = el->log.dev;
		el->head.ino = el->log.ino;
		el->head.end = 0;
	}
	if (size == -1 && (size = logfile_size(&el->log)) == -1)
		return -1;
	if ((uint64_t)size == el->head.end)
		return 0;
	if ((uint64_t)size > el->head.end)
		return el_roll_forward(el, &el->log, (off_t)el->head.end, false, INDEX_ALL);
	/*
	 * Shorter than the last record's end: a new file that got the inode number of the one
	 * rotated away (freed when it was compressed or removed), or the log was truncated.
	 * Within one boot the head is right (the index is only ahead of the disk after a
	 * reboot, and then it is rebuilt), so the chain goes on from it in this file.
	 */
	msg("%s: shorter than its last record's end (%lld < %llu bytes): taken as a new file "
	    "(rotated away and its inode reused, or truncated); the chain goes on from seq %llu",
	    el->log.path, (long long)size, (unsigned long long)el->head.end,
	    (unsigned long long)el->head.seq);
	el->head.end = 0;
	return el_roll_forward(el, &el->log, 0, false, INDEX_ALL);
}

/* Bring the head up to the log, and keep it in the index if that moved it. */
int
el_catch_up(struct eventlog *el)
{
	struct log_head	 was;
	int		 found;

	if ((found = dedup_get_head(el->dedup, &el->head)) == -1)
		return el_index_failed(el, "reading the head");
	was = el->head;
	if (reconcile(el, found) == -1)
		return -1;
	if (found == 0 && memcmp(&was, &el->head, sizeof(was)) == 0)
		return 0;
	if (dedup_put_head(el->dedup, &el->head) == -1)
		return el_index_failed(el, "writing the head");
	return 0;
}
