/* SPDX-License-Identifier: ISC */
/*
 * eventlog.h: the append-only event log. Appends are serialized across every thread and
 * process by a lock in a shared state file next to the log; a dedup index (LMDB) next to
 * the log knows every stored id; the log itself is the truth the index is rebuilt from.
 */
#ifndef IDW_EVENTLOG_H
#define IDW_EVENTLOG_H

#include <stdbool.h>
#include <stdint.h>

struct event;
struct metrics;

enum append_result {
	APPEND_STORED,		/* new: appended */
	APPEND_CONFLICT,	/* known id, different body: appended with conflict */
	APPEND_DUPLICATE,	/* known id and body: nothing appended */
	APPEND_FAILED		/* nothing appended; the reason went to stderr */
};

struct eventlog;

/* What the log needs of the configuration (the caller fills it from idwise-fcgi.conf). */
struct eventlog_settings {
	const char	*path;		/* the log; <path>.shm, .idx and .torn are next to it */
	bool		 sync_data;	/* sync = data: each record is on disk before it is acked */
	int64_t		 dedup_window_ms;	/* ids are known at least this long */
};

/* Remembers the settings (a copy); touches no file until the first append. */
struct eventlog	*eventlog_new(const struct eventlog_settings *);
/* Store ev durably (as configured). *seq is the new record's, or the stored one's. */
enum append_result eventlog_append(struct eventlog *, const struct event *, uint64_t *seq);
void	eventlog_free(struct eventlog *);
/* The deployment's shared counters (in the same state file); NULL if it cannot be had. */
struct metrics	*eventlog_metrics(struct eventlog *);
/* Has an fdatasync of the log failed (commit.h), so that nothing more is appended? */
bool	eventlog_sync_failed(struct eventlog *);

/*
 * How far a reindex is, told after each record it reads: the records read, and the bytes
 * read of total, the bytes of every file it reads. Called holding the append lock: it must
 * be quick (idwise-log's progress line reads the clock, and draws 4 times a second).
 */
struct eventlog_progress {
	void	(*fn)(void *arg, uint64_t records, uint64_t bytes, uint64_t total);
	void	*arg;
};

/*
 * Rebuild the index from the log now (idwise-log reindex): from a new index file, reading
 * the rotated files back to dedup_window. *last_seq is where the chain ends. progress may
 * be NULL. 0 or -1.
 */
int	eventlog_reindex(struct eventlog *, uint64_t *last_seq,
	    const struct eventlog_progress *progress);

#endif
