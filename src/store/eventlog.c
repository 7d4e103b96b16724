/* SPDX-License-Identifier: ISC */
/*
 * eventlog.c: appending records. Under the shared lock: bring the index up to the log
 * (follow a rotation, take in records a crashed writer left, cut a torn tail: follow.c,
 * recovery.c), look the id up, write the whole line with one write(2), index it. After
 * the lock: wait until the record is on disk, with one fdatasync for every record written
 * meanwhile by any thread or process (group commit, commit.h). The other parts of the
 * writer are listed in eventlog-internal.h.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commit.h"
#include "dedup.h"
#include "eventlog-internal.h"
#include "eventlog.h"
#include "idwise.h"
#include "log-check.h"
#include "logfile.h"
#include "logformat.h"
#include "metrics.h"
#include "record.h"
#include "shm.h"
#include "util.h"

#define EXPIRE_PER_APPEND	4	/* ids forgotten per append, oldest first */

/* --- a writer, one per process ------------------------------------------------------ */

/* The log's path and those of the files next to it, by where eventlog keeps each. */
static const struct {
	const char	*suffix;
	size_t		 offset;
} paths[] = {
	{ "",			offsetof(struct eventlog, log_path) },
	{ LOG_SUFFIX_STATE,	offsetof(struct eventlog, shm_path) },
	{ LOG_SUFFIX_INDEX,	offsetof(struct eventlog, idx_path) },
	{ LOG_SUFFIX_TORN,	offsetof(struct eventlog, torn_path) },
};

static char **
path_slot(struct eventlog *el, size_t i)
{
	return (char **)((char *)el + paths[i].offset);
}

/* 0, or -1 when out of memory (free_paths() then frees what was made). */
static int
make_paths(struct eventlog *el, const char *path)
{
	size_t	 i;

	for (i = 0; i < nitems(paths); i++)
		if (asprintf(path_slot(el, i), "%s%s", path, paths[i].suffix) == -1) {
			*path_slot(el, i) = NULL;
			return -1;
		}
	return 0;
}

static void
free_paths(struct eventlog *el)
{
	size_t	 i;

	for (i = 0; i < nitems(paths); i++)
		free(*path_slot(el, i));
}

void
eventlog_free(struct eventlog *el)
{
	if (el == NULL)
		return;
	while (el->nretired > 0)
		shm_detach(el->retired[--el->nretired]);
	free(el->retired);
	shm_detach(el->shm);
	dedup_close(el->dedup);
	logfile_close(&el->log);
	pthread_mutex_destroy(&el->attach_mutex);
	log_reader_free(el->reader);
	free_paths(el);
	free(el);
}

struct eventlog *
eventlog_new(const struct eventlog_settings *set)
{
	struct eventlog	*el;

	if ((el = calloc(1, sizeof(*el))) == NULL)
		return NULL;
	if (make_paths(el, set->path) == -1 || (el->reader = log_reader_new()) == NULL ||
	    pthread_mutex_init(&el->attach_mutex, NULL) != 0) {
		log_reader_free(el->reader);
		free_paths(el);
		free(el);
		return NULL;
	}
	el->sync_data = set->sync_data;
	el->dedup_window_ms = set->dedup_window_ms;
	logfile_init(&el->log, el->log_path);
	return el;
}

/* --- under the lock: one record ----------------------------------------------------- */

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
	    "now may never reach the disk; fix the disk, then reboot (idwise-fcgi(8), \"A failed "
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
		el_index_failed(el, "adding a record");
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
		el_index_failed(el, "commit");
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

	if (el_open_index(el) == -1)
		return APPEND_FAILED;
	if (dedup_begin(el->dedup) == -1) {
		el_index_failed(el, "begin");
		return APPEND_FAILED;
	}
	if (el_catch_up(el) == -1) {
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
		/* Records taken in by el_catch_up() must still be kept. */
		if (dedup_commit(el->dedup) == -1)
			el_index_failed(el, "commit");
		el->ticket = commit_stored(shm_commit(el->locked), *seq);
		return APPEND_DUPLICATE;
	case DEDUP_ERROR:
		el_index_failed(el, "lookup");
		return APPEND_FAILED;
	default:
		return store(el, ev, match == DEDUP_CONFLICT, seq);
	}
}

/* --- after the lock: the group commit ----------------------------------------------- */

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
		msg_errno("%s: fdatasync", sa->el->log.path);
		return -1;
	}
	return 0;
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
	if ((shm = el_lock(el)) == NULL)
		return APPEND_FAILED;
	result = append_locked(el, ev, seq);
	if (result == APPEND_FAILED && el->dedup == NULL) {
		msg("%s: retrying with a rebuilt index", el->log.path);
		result = append_locked(el, ev, seq);
	}
	if (result != APPEND_FAILED)
		held = fd_to_sync(el, shm, &fd);
	ticket = el->ticket;
	el_unlock(el, shm);
	if (held != NULL && wait_durable(el, shm, ticket, fd) == -1)
		result = APPEND_FAILED;
	logfile_release(held);
	if (result == APPEND_STORED || result == APPEND_CONFLICT)
		metrics_observe(&shm_metrics(shm)->append, seconds_since(&start));
	return result;
}

/* --- for the status page ------------------------------------------------------------ */

bool
eventlog_sync_failed(struct eventlog *el)
{
	struct shm	*shm;

	if ((shm = el_attach(el, true)) == NULL)
		return false;
	return sync_spoiled(el, shm);
}

struct metrics *
eventlog_metrics(struct eventlog *el)
{
	struct shm	*shm;

	if ((shm = el_attach(el, true)) == NULL)
		return NULL;
	return shm_metrics(shm);
}

/* --- idwise-log reindex ------------------------------------------------------------- */

/* Run as root (idwise-log reindex), files we made must still be the service's (lchown: a
 * link put at the path is not followed). */
static void
give_to_log_owner(const struct eventlog *el, const char *path)
{
	struct stat	 st;

	if (geteuid() != 0 || fstat(el->log.fd, &st) == -1)
		return;
	if (lchown(path, st.st_uid, st.st_gid) == -1)
		msg_errno("%s: lchown", path);
}

static int
reindex_locked(struct eventlog *el)
{
	el_drop_index(el, true);
	if (el_open_index(el) == -1)
		return -1;
	if (dedup_begin(el->dedup) == -1)
		return el_index_failed(el, "begin");
	if ((logfile_moved(&el->log) && el_reopen_log(el) == -1) ||
	    el_rebuild(el) == -1) {
		if (el->dedup != NULL)
			dedup_abort(el->dedup);
		return -1;
	}
	if (dedup_put_head(el->dedup, &el->head) == -1)
		return el_index_failed(el, "writing the head");
	if (dedup_commit(el->dedup) == -1)
		return el_index_failed(el, "commit");
	shm_clear_fresh(el->locked);
	give_to_log_owner(el, el->idx_path);
	give_to_log_owner(el, el->shm_path);
	return 0;
}

int
eventlog_reindex(struct eventlog *el, uint64_t *last_seq,
    const struct eventlog_progress *progress)
{
	struct shm	*shm;
	int		 rc;

	if ((shm = el_lock(el)) == NULL)
		return -1;
	memset(&el->progress, 0, sizeof(el->progress));
	el->progress.to = progress != NULL && progress->fn != NULL ? progress : NULL;
	rc = reindex_locked(el);
	memset(&el->progress, 0, sizeof(el->progress));
	*last_seq = el->head.seq;
	el_unlock(el, shm);
	return rc;
}
