/* SPDX-License-Identifier: ISC */
/*
 * eventlog.c: appending records. Under the shared lock: bring the index up to the log
 * (follow a rotation, take in records a crashed writer left, cut a torn tail), look the id
 * up, write the whole line with one write(2), index it. After the lock: wait until the
 * record is on disk, with one fdatasync for every record written meanwhile by any thread
 * or process (group commit, commit.h).
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commit.h"
#include "dedup.h"
#include "eventlog.h"
#include "idwise.h"
#include "logfile.h"
#include "metrics.h"
#include "record.h"
#include "rotation.h"
#include "shm.h"

#define LOCK_TIMEOUT_MS		10000
#define EXPIRE_PER_APPEND	4	/* ids forgotten per append, oldest first */
#define INDEX_ALL		INT64_MIN

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
	char			*log_path;
	char			*shm_path;
	char			*idx_path;
	char			*torn_path;
};

/* What a scan of the log found after the index's head. */
struct scan {
	struct eventlog	*el;
	off_t		 bad_at;	/* -1, or where the first line that does not fit is */
	off_t		 bad_end;	/* and where it ends */
	char		 bad_why[160];	/* why (copied: the parser's reason is reused) */
	bool		 any_record;	/* for the damage check: a record seen */
	bool		 dedup_failed;
	bool		 open_start;	/* the first record may have any seq */
	bool		 bad_is_record;	/* the line at bad_at is a record out of chain */
	int64_t		 index_since;	/* older records are not indexed (dedup_window) */
	const char	*path;		/* the file being read, for messages */
	bool		 warn_jump;	/* false: a jump at open_start was already told */
};

static char *
path_with(const char *path, const char *suffix)
{
	char	*s;

	if (asprintf(&s, "%s%s", path, suffix) == -1)
		return NULL;
	return s;
}

static void
free_paths(struct eventlog *el)
{
	free(el->log_path);
	free(el->shm_path);
	free(el->idx_path);
	free(el->torn_path);
}

struct eventlog *
eventlog_new(const struct eventlog_settings *set)
{
	struct eventlog	*el;

	if ((el = calloc(1, sizeof(*el))) == NULL)
		return NULL;
	el->sync_data = set->sync_data;
	el->dedup_window_ms = set->dedup_window_ms;
	el->log_path = strdup(set->path);
	logfile_init(&el->log, el->log_path);
	el->shm_path = path_with(set->path, ".shm");
	el->idx_path = path_with(set->path, ".idx");
	el->torn_path = path_with(set->path, ".torn");
	if (el->log_path == NULL || el->shm_path == NULL || el->idx_path == NULL ||
	    el->torn_path == NULL || pthread_mutex_init(&el->attach_mutex, NULL) != 0) {
		free_paths(el);
		free(el);
		return NULL;
	}
	return el;
}

void
eventlog_free(struct eventlog *el)
{
	if (el == NULL)
		return;
	dedup_close(el->dedup);
	shm_detach(el->shm);
	while (el->nretired > 0)
		shm_detach(el->retired[--el->nretired]);
	free(el->retired);
	logfile_close(&el->log);
	pthread_mutex_destroy(&el->attach_mutex);
	free_paths(el);
	free(el);
}

static struct shm *
current_shm(struct eventlog *el)
{
	return __atomic_load_n(&el->shm, __ATOMIC_ACQUIRE);
}

/* Holding attach_mutex: attach to the file at the path; say why not unless quiet. */
static struct shm *
attach_locked(struct eventlog *el, bool quiet)
{
	struct shm	*shm;
	char		 err[512];

	if ((shm = shm_attach(el->shm_path, err, sizeof(err))) == NULL && !quiet)
		msg("%s", err);
	__atomic_store_n(&el->shm, shm, __ATOMIC_RELEASE);
	return shm;
}

/*
 * The shared state file, attached once per process; retried on the next request after a
 * failure. Quiet for the metrics: the append that follows says what is wrong, once.
 */
static struct shm *
attach(struct eventlog *el, bool quiet)
{
	struct shm	*shm;

	if ((shm = current_shm(el)) != NULL)
		return shm;
	pthread_mutex_lock(&el->attach_mutex);
	if ((shm = current_shm(el)) == NULL)
		shm = attach_locked(el, quiet);
	pthread_mutex_unlock(&el->attach_mutex);
	return shm;
}

/*
 * The state file at the path is no longer old (removed, or made anew by a process that
 * found it removed): move to the one there now, for one lock across the deployment.
 * The old one stays mapped for threads still using it.
 */
static struct shm *
reattach(struct eventlog *el, struct shm *old)
{
	struct shm	**grown, *shm;

	pthread_mutex_lock(&el->attach_mutex);
	if ((shm = current_shm(el)) == old) {
		grown = realloc(el->retired, (el->nretired + 1) * sizeof(*grown));
		if (grown == NULL) {
			pthread_mutex_unlock(&el->attach_mutex);
			msg("%s: out of memory", el->shm_path);
			return NULL;
		}
		el->retired = grown;
		el->retired[el->nretired++] = old;
		msg("%s: replaced or removed while in use; moving to the one there now",
		    el->shm_path);
		shm = attach_locked(el, false);
	}
	pthread_mutex_unlock(&el->attach_mutex);
	return shm;
}

static void
drop_index(struct eventlog *el, bool remove)
{
	dedup_close(el->dedup);
	el->dedup = NULL;
	if (remove && dedup_remove(el->idx_path) == -1)
		msg("%s: unlink: %s", el->idx_path, strerror(errno));
}

/* Has another process replaced the index file since we opened it (or put a link there)? */
static bool
index_replaced(const struct eventlog *el)
{
	struct stat	 st;

	return lstat(el->idx_path, &st) == -1 || (uint64_t)st.st_dev != el->dedup_dev ||
	    (uint64_t)st.st_ino != el->dedup_ino;
}

/*
 * Open the index; one LMDB will not open is removed and made anew. What is at the path
 * is not removed when it is not ours to use (a symbolic link, a FIFO, another user's
 * file): nothing is appended until its owner removes it.
 */
static struct dedup *
index_at_path(struct eventlog *el)
{
	struct dedup	*dd;
	char		 err[512];
	bool		 refused;

	if ((dd = dedup_open(el->idx_path, &refused, err, sizeof(err))) != NULL)
		return dd;
	if (refused) {
		msg("%s; not appending until it is removed", err);
		return NULL;
	}
	msg("%s; removing it to rebuild it from the log", err);
	if (dedup_remove(el->idx_path) == -1) {
		msg("%s: unlink: %s", el->idx_path, strerror(errno));
		return NULL;
	}
	if ((dd = dedup_open(el->idx_path, &refused, err, sizeof(err))) == NULL)
		msg("%s", err);
	return dd;
}

/* Under the lock: an index we can use, new after a reboot (it was never synced). */
static int
open_index(struct eventlog *el)
{
	if (shm_is_fresh(el->locked))
		drop_index(el, true);
	else if (el->dedup != NULL && index_replaced(el))
		drop_index(el, false);
	if (el->dedup != NULL)
		return 0;
	if ((el->dedup = index_at_path(el)) == NULL)
		return -1;
	dedup_identity(el->dedup, &el->dedup_dev, &el->dedup_ino);
	return 0;
}

static int
index_failed(struct eventlog *el, const char *what)
{
	msg("%s: %s: %s; it will be rebuilt from the log", el->idx_path, what,
	    dedup_error(el->dedup));
	drop_index(el, true);
	return -1;
}

static int
stop_at(struct scan *sc, off_t at, size_t len, const char *why, bool record)
{
	sc->bad_at = at;
	sc->bad_end = at + (off_t)len + 1;
	snprintf(sc->bad_why, sizeof(sc->bad_why), "%s", why);
	sc->bad_is_record = record;
	return 1;
}

/*
 * The first record of a file read with open_start need not follow the head: the file
 * before it is not at hand (head.seq 0), or the chain has a gap between rotated files,
 * which idwise-log verify reports; the index just goes on from there.
 */
static void
start_anywhere(struct scan *sc, const struct record_view *view)
{
	struct log_head	*head = &sc->el->head;

	if (record_follows(view, head->seq, head->hash) == NULL)
		return;
	if (head->seq != 0 && sc->warn_jump)
		msg("%s: its first record (seq %llu) does not follow seq %llu of the file "
		    "before it; check the files with idwise-log verify", sc->path,
		    (unsigned long long)view->seq, (unsigned long long)head->seq);
	head->seq = view->seq - 1;
	if (hex_decode(view->prev, SHA256_HEX_LEN, head->hash) == -1)
		memset(head->hash, 0xff, sizeof(head->hash));
}

/* A line of the log, in order: take it into the index if it continues the chain. */
static int
take_line(const char *line, size_t len, off_t at, void *arg)
{
	struct scan		*sc = arg;
	struct eventlog		*el = sc->el;
	struct record_view	 view;
	const char		*why;

	if (record_parse(line, len, &view, &why) == -1)
		return stop_at(sc, at, len, why, false);
	if (sc->open_start && el->head.seq != 0 && view.seq <= el->head.seq) {
		/* A repeated or misplaced line: the index only goes forward. */
		record_view_free(&view);
		return stop_at(sc, at, len, "seq goes back", false);
	}
	if (sc->open_start)
		start_anywhere(sc, &view);
	sc->open_start = false;
	if ((why = record_follows(&view, el->head.seq, el->head.hash)) != NULL) {
		record_view_free(&view);
		return stop_at(sc, at, len, why, true);
	}
	if (view.received_ms >= sc->index_since && dedup_add(el->dedup, view.id,
	    view.id_len, view.body_digest, view.seq, view.received_ms) == -1) {
		record_view_free(&view);
		sc->dedup_failed = true;
		return -1;
	}
	el->head.seq = view.seq;
	sha256(line, len + 1, el->head.hash);
	el->head.end = (uint64_t)at + len + 1;
	record_view_free(&view);
	return 0;
}

/* Is there any whole record after a line that did not fit? Then it is damage, not a tear. */
static int
spot_record(const char *line, size_t len, off_t at, void *arg)
{
	struct scan		*sc = arg;
	struct record_view	 view;
	const char		*why;

	(void)at;
	if (record_parse(line, len, &view, &why) == -1)
		return 0;
	record_view_free(&view);
	sc->any_record = true;
	return 1;
}

/*
 * Under the lock: an fdatasync outside the group commit (a file about to be let go, a
 * torn tail just cut). A failure spoils later syncs just the same (commit.h).
 */
static int
sync_file(struct eventlog *el, int fd, const char *path)
{
	if (fdatasync(fd) == 0)
		return 0;
	msg("%s: fdatasync: %s", path, strerror(errno));
	commit_fail(shm_commit(el->locked));
	return -1;
}

/*
 * After a scan stopped at `at` (a line that is no record, or an unfinished last line):
 * cut the rest into the .torn file, unless it is a record out of the chain or whole
 * records follow, which means the log was damaged: then stop appending and say so.
 */
static int
handle_tail(struct eventlog *el, struct logfile *lf, struct scan *sc, off_t at, off_t size)
{
	off_t	 end;

	if (at >= size)
		return 0;
	if (sc->bad_is_record)
		sc->any_record = true;
	else if (sc->bad_at != -1 &&
	    logfile_lines(lf->fd, at + 1, size, spot_record, sc, &end) == -1) {
		msg("%s: read: %s", lf->path, strerror(errno));
		return -1;
	}
	if (sc->any_record) {
		msg("%s: damaged at byte %lld: %s; records follow it, so nothing is appended "
		    "until the log is repaired (check it with idwise-log verify)", lf->path,
		    (long long)at, sc->bad_why);
		return -1;
	}
	if (logfile_cut(lf, at, el->torn_path) == -1)
		return -1;
	return sync_file(el, lf->fd, lf->path);
}

/*
 * Take in the records from `from` to the end of the open file lf, and cut a torn tail.
 * With open_start, the first record may start the chain anywhere (see start_anywhere()).
 */
static int
roll_forward_in(struct eventlog *el, struct logfile *lf, off_t from, bool open_start,
    int64_t index_since)
{
	struct scan	 sc;
	off_t		 size, end;
	int		 rc;

	memset(&sc, 0, sizeof(sc));
	sc.el = el;
	sc.bad_at = -1;
	sc.open_start = open_start;
	sc.warn_jump = true;
	sc.index_since = index_since;
	sc.path = lf->path;
	if ((size = logfile_size(lf)) == -1)
		return -1;
	rc = logfile_lines(lf->fd, from, size, take_line, &sc, &end);
	if (sc.dedup_failed)
		return index_failed(el, "adding a record");
	if (rc == -1) {
		msg("%s: read: %s", lf->path, strerror(errno));
		return -1;
	}
	return handle_tail(el, lf, &sc, sc.bad_at != -1 ? sc.bad_at : end, size);
}

static int
roll_forward(struct eventlog *el, off_t from, bool open_start, int64_t index_since)
{
	return roll_forward_in(el, &el->log, from, open_start, index_since);
}

/*
 * A rotated file, read-only: index its records of the window. One older than the window
 * only gives the head, for the file after it to follow. Rotated files are not repaired: a
 * line that is no record is skipped and a break in the chain is reported, and the index
 * goes on past both, so that no stored id is forgotten.
 */
static int
take_rotated(struct eventlog *el, const struct log_ends *file, int64_t since)
{
	struct scan	 sc;
	struct stat	 st;
	off_t		 from = 0, end;
	int		 fd, rc;

	if (file->last_ms < since) {
		el->head.seq = file->last_seq;
		memcpy(el->head.hash, file->last_hash, SHA256_LEN);
		return 0;
	}
	if ((fd = open(file->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		msg("%s: %s", file->path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	memset(&sc, 0, sizeof(sc));
	sc.el = el;
	sc.open_start = true;
	sc.warn_jump = true;
	sc.index_since = since;
	sc.path = file->path;
	do {
		sc.bad_at = -1;
		rc = logfile_lines(fd, from, st.st_size, take_line, &sc, &end);
		if (rc == -1 || sc.dedup_failed || sc.bad_at == -1)
			break;
		msg("%s: %s at byte %lld; check it with idwise-log verify", file->path,
		    sc.bad_why, (long long)sc.bad_at);
		/* A record out of chain is taken from there on; anything else is skipped. */
		from = sc.bad_is_record ? sc.bad_at : sc.bad_end;
		sc.open_start = true;
		sc.warn_jump = false;
	} while (from < st.st_size);
	close(fd);
	if (sc.dedup_failed)
		return index_failed(el, "adding a record");
	if (rc == -1)
		msg("%s: read error at byte %lld", file->path, (long long)end);
	return 0;
}

/*
 * Start the index over: the rotated files that hold the chain back to the dedup window
 * (found by following the chain from the current file), then the whole current file.
 */
static int
rebuild(struct eventlog *el)
{
	struct log_ends	 current, *files;
	int64_t		 since = realtime_ms() - el->dedup_window_ms;
	size_t		 n, i;
	bool		 have_current;
	int		 rc = 0;

	if (dedup_clear(el->dedup) == -1)
		return index_failed(el, "clearing");
	memset(&el->head, 0, sizeof(el->head));
	have_current = rotation_ends(el->log.path, &current) == 0;
	if (rotation_chain(el->log.path, have_current ? &current : NULL, since, &files,
	    &n) == -1) {
		msg("%s: looking for rotated files: %s", el->log.path, strerror(errno));
		return -1;
	}
	if (!have_current && n == 0 && rotation_has_compressed(el->log.path)) {
		msg("%s: cannot find where the chain ends: the log has no record yet and the "
		    "rotated file before it is compressed; decompress the newest one (keep "
		    "delaycompress in the logrotate config) so that seq goes on, not from 1",
		    el->log.path);
		return -1;
	}
	for (i = 0; rc == 0 && i < n; i++)
		rc = take_rotated(el, &files[i], since);
	rotation_free(files, n);
	if (rc == -1)
		return -1;
	el->head.dev = el->log.dev;
	el->head.ino = el->log.ino;
	el->head.end = 0;
	return roll_forward(el, 0, true, since);
}

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
static int
reopen_log(struct eventlog *el)
{
	off_t	 size;
	int	 rc;

	if (el->log.fd != -1 && sync_file(el, el->log.fd, el->log.path) == -1)
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
	return roll_forward_in(el, lf, (off_t)el->head.end, false, INDEX_ALL);
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

	if ((path = rotation_find_file(el->log.path, el->head.dev, el->head.ino)) == NULL)
		return 0;
	logfile_init(&old, path);
	rc = logfile_open_existing(&old);
	if (rc == 0)
		rc = finish_head_file(el, &old);
	if (rc == 0)
		rc = sync_file(el, old.fd, path);
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
	if (reopen_log(el) == -1)
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
		return rebuild(el);
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
		return roll_forward(el, (off_t)el->head.end, false, INDEX_ALL);
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
	return roll_forward(el, 0, false, INDEX_ALL);
}

/* Bring the head up to the log, and keep it in the index if that moved it. */
static int
catch_up(struct eventlog *el)
{
	struct log_head	 was;
	int		 found;

	if ((found = dedup_get_head(el->dedup, &el->head)) == -1)
		return index_failed(el, "reading the head");
	was = el->head;
	if (reconcile(el, found) == -1)
		return -1;
	if (found == 0 && memcmp(&was, &el->head, sizeof(was)) == 0)
		return 0;
	if (dedup_put_head(el->dedup, &el->head) == -1)
		return index_failed(el, "writing the head");
	return 0;
}

/* The whole line with one write(2); on failure nothing of it stays. */
static int
write_line(struct eventlog *el, const char *line, size_t len)
{
	ssize_t	 n;

	do
		n = write(el->log.fd, line, len);
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;
	msg("%s: write: %s", el->log.path, n == -1 ? strerror(errno) : "short write");
	if (n > 0 && ftruncate(el->log.fd, (off_t)el->head.end) == -1)
		msg("%s: truncate after a short write: %s (the next append cuts it)",
		    el->log.path, strerror(errno));
	return -1;
}

/*
 * Has a sync failed (commit.h), so that nothing more is stored? Not with sync = none,
 * which promises nothing about the disk.
 */
static bool
sync_spoiled(const struct eventlog *el, struct shm *shm)
{
	return el->sync_data && commit_failed(shm_commit(shm));
}

/* After a failed fdatasync (commit.h): why nothing more is acknowledged. */
static void
say_sync_failed(const struct eventlog *el)
{
	msg("%s: not appending: an fdatasync of the log failed earlier, so what is written "
	    "now may never reach the disk; fix the disk, then reboot (README \"A failed "
	    "fdatasync\")", el->log.path);
}

static enum append_result
store(struct eventlog *el, const struct event *ev, bool conflict, uint64_t *seq)
{
	struct record_place	 at;
	struct log_head		 next;
	char			*line;
	size_t			 len;
	int			 forgotten;

	if (sync_spoiled(el, el->locked)) {
		say_sync_failed(el);
		return APPEND_FAILED;
	}
	memset(&at, 0, sizeof(at));
	at.seq = el->head.seq + 1;
	at.conflict = conflict;
	hex_encode(el->head.hash, SHA256_LEN, at.prev);
	clock_gettime(CLOCK_REALTIME, &at.received);
	if ((line = record_line(ev, &at, &len)) == NULL) {
		msg("%s: building a record: out of memory", el->log.path);
		return APPEND_FAILED;
	}
	next = el->head;
	next.seq = at.seq;
	sha256(line, len, next.hash);
	next.end += len;
	if (dedup_add(el->dedup, json_object_get_string(ev->id),
	    (size_t)json_object_get_string_len(ev->id), ev->body_digest, at.seq,
	    timespec_to_ms(&at.received)) == -1 || dedup_put_head(el->dedup, &next) == -1 ||
	    dedup_expire(el->dedup, timespec_to_ms(&at.received) - el->dedup_window_ms,
	    EXPIRE_PER_APPEND, &forgotten) == -1) {
		free(line);
		index_failed(el, "adding a record");
		return APPEND_FAILED;
	}
	if (write_line(el, line, len) == -1) {
		free(line);
		dedup_abort(el->dedup);
		return APPEND_FAILED;
	}
	free(line);
	/* If this fails the line stays: whole and chained, the next append takes it in. */
	if (dedup_commit(el->dedup) == -1) {
		index_failed(el, "commit");
		return APPEND_FAILED;
	}
	el->head = next;
	*seq = at.seq;
	el->ticket = commit_written(shm_commit(el->locked), at.seq, el->log.dev, el->log.ino);
	metrics_stored(shm_metrics(el->locked), at.seq, timespec_to_ms(&at.received), len);
	return conflict ? APPEND_CONFLICT : APPEND_STORED;
}

/*
 * Under the lock, the head caught up with the log: the group commit's counters are
 * believed only if they agree with it (nothing written or synced past its last record),
 * else a record could be taken as synced that never was.
 */
static void
check_counters(struct eventlog *el)
{
	struct commit	*c = shm_commit(el->locked);

	if (commit_believable(c, el->head.seq))
		return;
	msg("%s: says records past the log's last one (seq %llu) were written or synced; "
	    "not believed: what is written from now on is synced anew", el->shm_path,
	    (unsigned long long)el->head.seq);
	commit_distrust(c);
}

static enum append_result
append_locked(struct eventlog *el, const struct event *ev, uint64_t *seq)
{
	enum dedup_match	 match;

	if (open_index(el) == -1)
		return APPEND_FAILED;
	if (dedup_begin(el->dedup) == -1) {
		index_failed(el, "begin");
		return APPEND_FAILED;
	}
	if (catch_up(el) == -1) {
		if (el->dedup != NULL)
			dedup_abort(el->dedup);
		return APPEND_FAILED;
	}
	shm_clear_fresh(el->locked);
	check_counters(el);
	match = dedup_find(el->dedup, json_object_get_string(ev->id),
	    (size_t)json_object_get_string_len(ev->id), ev->body_digest, seq);
	switch (match) {
	case DEDUP_SAME:
		/* Records taken in by catch_up() must still be kept. */
		if (dedup_commit(el->dedup) == -1)
			index_failed(el, "commit");
		el->ticket = commit_stored(shm_commit(el->locked), *seq);
		return APPEND_DUPLICATE;
	case DEDUP_ERROR:
		index_failed(el, "lookup");
		return APPEND_FAILED;
	default:
		return store(el, ev, match == DEDUP_CONFLICT, seq);
	}
}

static double
seconds_since(const struct timespec *start)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

struct sync_arg {
	struct eventlog	*el;
	struct shm	*shm;
};

/* commit_sync_fn: one fdatasync, timed. */
static int
sync_log(int fd, void *arg)
{
	struct sync_arg	*sa = arg;
	struct timespec	 start;
	int		 rc;

	clock_gettime(CLOCK_MONOTONIC, &start);
	rc = fdatasync(fd);
	metrics_observe(&shm_metrics(sa->shm)->sync, seconds_since(&start));
	if (rc == -1) {
		msg("%s: fdatasync: %s", sa->el->log.path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The state file, then its lock. A holder that died is no matter: catch_up() checks. A
 * state file that was replaced is left for the one there now (reattach()).
 */
static struct shm *
lock_log(struct eventlog *el)
{
	struct shm	*shm;
	bool		 holder_died;
	int		 rc, tries;

	if ((shm = attach(el, false)) == NULL)
		return NULL;
	for (tries = 0; tries < 3 && shm != NULL; tries++) {
		if (!shm_locks_plausible(shm)) {
			msg("%s: its locks hold values no lock has (written to by someone "
			    "else?); not appending: stop every idwise-fcgi process of this log "
			    "and it is made anew", el->shm_path);
			return NULL;
		}
		if ((rc = shm_lock(shm, LOCK_TIMEOUT_MS, &holder_died)) != 0) {
			msg("%s: lock: %s", el->shm_path, strerror(rc));
			return NULL;
		}
		if (holder_died)
			msg("%s: a process died holding the lock; checking the log",
			    el->shm_path);
		if (!shm_replaced(shm, el->shm_path)) {
			el->locked = shm;
			return shm;
		}
		shm_unlock(shm);
		shm = reattach(el, shm);
	}
	if (shm != NULL)
		msg("%s: replaced again and again; not appending", el->shm_path);
	return NULL;
}

static void
unlock_log(struct eventlog *el, struct shm *shm)
{
	el->locked = NULL;
	shm_unlock(shm);
}

/*
 * Under the lock: hold the log's fd to sync the record with after the lock is let go
 * (another thread may reopen the log meanwhile); NULL if no sync is needed.
 */
static struct fdref *
fd_to_sync(struct eventlog *el, struct shm *shm, int *fd)
{
	if (!el->sync_data || commit_done(shm_commit(shm), el->ticket))
		return NULL;
	return logfile_hold(&el->log, fd);
}

/* After the lock: wait until the ticket's record is on disk (commit.h). */
static int
wait_durable(struct eventlog *el, struct shm *shm, commit_ticket ticket, int fd)
{
	struct sync_arg	 sa = { el, shm };
	int		 rc;

	rc = commit_wait(shm_commit(shm), ticket, fd, sync_log, &sa, LOCK_TIMEOUT_MS);
	if (rc == COMMIT_FAILED_BEFORE)
		say_sync_failed(el);
	else if (rc > 0)
		msg("%s: sync lock: %s", el->shm_path, strerror(rc));
	return rc == 0 ? 0 : -1;
}

enum append_result
eventlog_append(struct eventlog *el, const struct event *ev, uint64_t *seq)
{
	enum append_result	 result;
	struct timespec		 start;
	struct shm		*shm;
	struct fdref		*held = NULL;
	commit_ticket		 ticket;
	int			 fd = -1;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if ((shm = lock_log(el)) == NULL)
		return APPEND_FAILED;
	result = append_locked(el, ev, seq);
	if (result == APPEND_FAILED && el->dedup == NULL) {
		msg("%s: retrying with a rebuilt index", el->log.path);
		result = append_locked(el, ev, seq);
	}
	if (result != APPEND_FAILED)
		held = fd_to_sync(el, shm, &fd);
	ticket = el->ticket;
	unlock_log(el, shm);
	if (held != NULL && wait_durable(el, shm, ticket, fd) == -1)
		result = APPEND_FAILED;
	logfile_release(held);
	if (result == APPEND_STORED || result == APPEND_CONFLICT)
		metrics_observe(&shm_metrics(shm)->append, seconds_since(&start));
	return result;
}

bool
eventlog_sync_failed(struct eventlog *el)
{
	struct shm	*shm;

	if ((shm = attach(el, true)) == NULL)
		return false;
	return sync_spoiled(el, shm);
}

struct metrics *
eventlog_metrics(struct eventlog *el)
{
	struct shm	*shm;

	if ((shm = attach(el, true)) == NULL)
		return NULL;
	return shm_metrics(shm);
}

/* Run as root (idwise-log reindex), files we made must still be the service's (lchown: a
 * link put at the path is not followed). */
static void
give_to_log_owner(const struct eventlog *el, const char *path)
{
	struct stat	 st;

	if (geteuid() != 0 || fstat(el->log.fd, &st) == -1)
		return;
	if (lchown(path, st.st_uid, st.st_gid) == -1)
		msg("%s: lchown: %s", path, strerror(errno));
}

static int
reindex_locked(struct eventlog *el)
{
	drop_index(el, true);
	if (open_index(el) == -1)
		return -1;
	if (dedup_begin(el->dedup) == -1)
		return index_failed(el, "begin");
	if ((logfile_moved(&el->log) && reopen_log(el) == -1) ||
	    rebuild(el) == -1) {
		if (el->dedup != NULL)
			dedup_abort(el->dedup);
		return -1;
	}
	if (dedup_put_head(el->dedup, &el->head) == -1)
		return index_failed(el, "writing the head");
	if (dedup_commit(el->dedup) == -1)
		return index_failed(el, "commit");
	shm_clear_fresh(el->locked);
	give_to_log_owner(el, el->idx_path);
	give_to_log_owner(el, el->shm_path);
	return 0;
}

int
eventlog_reindex(struct eventlog *el, uint64_t *last_seq)
{
	struct shm	*shm;
	int		 rc;

	if ((shm = lock_log(el)) == NULL)
		return -1;
	rc = reindex_locked(el);
	*last_seq = el->head.seq;
	unlock_log(el, shm);
	return rc;
}
