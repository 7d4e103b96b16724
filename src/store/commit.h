/* SPDX-License-Identifier: ISC */
/*
 * commit.h: group commit. A writer appends its line under the append lock and leaves
 * it; then it waits until its record is on disk. One waiter at a time, the one holding
 * the sync lock, runs fdatasync for every record written so far by every thread and
 * process. The others sleep until a sync ends (a futex on the count of syncs ended, so
 * one wake reaches them all); those it covered return, one of the rest syncs next.
 *
 * A ticket says which record to wait for and which file it is in (file numbers count
 * the files written to, so that a sync of one file is not taken for another's). Files
 * before the current one are on disk already: a writer syncs the file the chain was in
 * before it opens the next one (follow.c).
 *
 * A sync that fails spoils every later one: Linux reports a failed writeback to one
 * fdatasync only and may drop the pages it could not write, so a later sync that
 * returns 0 proves nothing about what was written before it. From then on nothing that
 * was not on disk before the failure counts as synced, for as long as the state file
 * lives (a reboot, or an operator making it anew: idwise-fcgi(8), "A failed fdatasync").
 */
#ifndef IDW_COMMIT_H
#define IDW_COMMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct commit {
	pthread_mutex_t	 sync_lock;	/* robust, process-shared: who syncs now */
	uint64_t	 written;	/* file number << 48 | the last seq written */
	uint64_t	 dev, ino;	/* the file of that record (under the append lock) */
	uint64_t	 synced;	/* every seq up to this one is on disk */
	uint32_t	 syncs_ended;	/* a futex: waiters sleep until it moves */
	uint32_t	 failed;	/* a sync failed: none after it counts */
};

/* The seq in the file it is in: what commit_wait() waits for. */
typedef uint64_t	commit_ticket;

typedef int	(*commit_sync_fn)(int fd, void *);

/* In a new shared state file: 0 or an errno value. */
int	commit_init(struct commit *);
/* Under the append lock: record seq was written to the file dev/ino. */
commit_ticket	commit_written(struct commit *, uint64_t seq, uint64_t dev, uint64_t ino);
/* Under the append lock: a ticket for a stored record seq (a duplicate's). */
commit_ticket	commit_stored(struct commit *, uint64_t seq);
/* Is the record of the ticket on disk already? */
int	commit_done(struct commit *, commit_ticket);
/* Has a sync failed (so that nothing not yet on disk will be)? */
int	commit_failed(struct commit *);
/* Are the flags ones commit.c writes (in a file others may have written to)? */
bool	commit_flags_plausible(const struct commit *);
/*
 * Under the append lock, the log's last record being last_seq: do the counters agree
 * with it (nothing written or synced past it)? If not (the state file was written to, or
 * the log was replaced by a shorter chain), commit_distrust() before going on.
 */
bool	commit_believable(struct commit *, uint64_t last_seq);
void	commit_distrust(struct commit *);
/* A sync of the log outside commit_wait() failed: the same as one in it. */
void	commit_fail(struct commit *);

#define COMMIT_SYNC_FAILED	(-1)	/* this wait's sync failed; sync_fn said why */
#define COMMIT_FAILED_BEFORE	(-2)	/* an earlier sync failed (commit_failed()) */
/*
 * Without the append lock: return once the ticket's record is on disk, syncing fd (the
 * file the ticket names, or a later one) with sync_fn if no one else has. 0;
 * COMMIT_SYNC_FAILED or COMMIT_FAILED_BEFORE when it will not be; else an errno value
 * from the sync lock.
 */
int	commit_wait(struct commit *, commit_ticket, int fd, commit_sync_fn, void *arg,
	    int timeout_ms);

#endif
