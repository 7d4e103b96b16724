/* SPDX-License-Identifier: ISC */
/* commit.c: group commit across threads and processes, in the shared state file. */
#include "autoconf.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include <linux/futex.h>
#include <sys/syscall.h>

#include "commit.h"
#include "pmutex.h"
#include "util.h"

#define SEQ_BITS	48
#define SEQ_MASK	((UINT64_C(1) << SEQ_BITS) - 1)
/* A waiter looks again this often, in case a syncing process died. */
#define NAP_MS		100

static uint64_t
seq_of(uint64_t ticket)
{
	return ticket & SEQ_MASK;
}

static uint64_t
file_of(uint64_t ticket)
{
	return ticket >> SEQ_BITS;
}

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* *p = max(*p, value), against other processes doing the same. */
static void
raise_to(uint64_t *p, uint64_t value)
{
	uint64_t	 seen = load(p);

	while (seen < value && !__atomic_compare_exchange_n(p, &seen, value, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		continue;
}

int
commit_init(struct commit *c)
{
	c->written = 0;
	c->dev = c->ino = 0;
	c->synced = 0;
	c->syncs_ended = 0;
	c->failed = 0;
	c->appending = 0;
	return pmutex_init(&c->sync_lock);
}

commit_ticket
commit_written(struct commit *c, uint64_t seq, uint64_t dev, uint64_t ino)
{
	uint64_t	 file = file_of(load(&c->written));

	if (dev != c->dev || ino != c->ino) {
		file = (file + 1) & (UINT64_MAX >> SEQ_BITS);
		c->dev = dev;
		c->ino = ino;
	}
	__atomic_store_n(&c->written, file << SEQ_BITS | (seq & SEQ_MASK), __ATOMIC_RELEASE);
	return file << SEQ_BITS | (seq & SEQ_MASK);
}

/*
 * A stored record is in the file last written to or in one before it, which is on disk
 * (see commit.h); so a sync of the file last written to covers it.
 */
commit_ticket
commit_stored(struct commit *c, uint64_t seq)
{
	return file_of(load(&c->written)) << SEQ_BITS | (seq & SEQ_MASK);
}

int
commit_done(struct commit *c, commit_ticket ticket)
{
	return load(&c->synced) >= seq_of(ticket);
}

int
commit_failed(struct commit *c)
{
	return __atomic_load_n(&c->failed, __ATOMIC_ACQUIRE) != 0;
}

bool
commit_flags_plausible(const struct commit *c)
{
	return c->failed == 0 || c->failed == 1;
}

bool
commit_believable(struct commit *c, uint64_t last_seq)
{
	return seq_of(load(&c->written)) <= last_seq && load(&c->synced) <= last_seq;
}

/*
 * Nothing is taken as synced any more, and the next record starts another file number,
 * so that no ticket is taken as covered by a sync of what the counters said. Lowering
 * synced is always safe: at worst a record is synced twice.
 */
void
commit_distrust(struct commit *c)
{
	uint64_t	 file = file_of(load(&c->written));

	c->dev = c->ino = 0;
	__atomic_store_n(&c->written, ((file + 1) & (UINT64_MAX >> SEQ_BITS)) << SEQ_BITS,
	    __ATOMIC_RELEASE);
	__atomic_store_n(&c->synced, 0, __ATOMIC_RELEASE);
}

void
commit_fail(struct commit *c)
{
	__atomic_store_n(&c->failed, 1, __ATOMIC_RELEASE);
}

/*
 * Holding the sync lock: sync fd. When the ticket's file is still the one last written
 * to, the sync covers every record written so far; else (a later file was opened, so
 * the ticket's is on disk) just the ticket's.
 */
static int
sync_for(struct commit *c, commit_ticket ticket, int fd, commit_sync_fn sync_fn, void *arg)
{
	uint64_t	 written = load(&c->written), upto = seq_of(ticket);

	if (file_of(written) == file_of(ticket) && seq_of(written) > upto)
		upto = seq_of(written);
	if (sync_fn(fd, arg) == -1) {
		commit_fail(c);
		return COMMIT_SYNC_FAILED;
	}
	raise_to(&c->synced, upto);
	return 0;
}

/*
 * Sleep while c->syncs_ended is still seen, at most ms. A shared futex (not private: the
 * word is in a file every process maps); pthread has no wait-for-a-word to use instead,
 * and a process-shared condition variable is not safe against a waiter's death.
 */
static void
nap(struct commit *c, uint32_t seen, int64_t ms)
{
	struct timespec	 timeout = { ms / 1000, (long)(ms % 1000) * 1000000 };

	(void)syscall(SYS_futex, &c->syncs_ended, FUTEX_WAIT, seen, &timeout, NULL, 0);
}

static void
wake_all(struct commit *c)
{
	__atomic_add_fetch(&c->syncs_ended, 1, __ATOMIC_ACQ_REL);
	(void)syscall(SYS_futex, &c->syncs_ended, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* --- the commit delay: waiting for more records --------------------------------- */

void
commit_arrive(struct commit *c)
{
	__atomic_add_fetch(&c->appending, 1, __ATOMIC_RELAXED);
}

void
commit_leave(struct commit *c)
{
	__atomic_sub_fetch(&c->appending, 1, __ATOMIC_RELAXED);
}

/* Holding the sync lock, about to sync: with enough others appending, let them write. */
static void
delay(struct commit *c)
{
	struct timespec	 nap_for = { 0, COMMIT_DELAY_US * 1000L };

	/* The syncer is one of them. */
	if (__atomic_load_n(&c->appending, __ATOMIC_RELAXED) < COMMIT_SIBLINGS + 1)
		return;
	while (nanosleep(&nap_for, &nap_for) == -1 && errno == EINTR)
		continue;
}

/* --- syncing ------------------------------------------------------------------------ */

/* Holding the sync lock: sync unless someone did, let it go, wake the sleepers. */
static int
lead(struct commit *c, commit_ticket ticket, int fd, commit_sync_fn sync_fn, void *arg)
{
	int	 rc = 0;

	if (!commit_done(c, ticket) && !commit_failed(c))
		delay(c);
	if (!commit_done(c, ticket))
		rc = commit_failed(c) ? COMMIT_FAILED_BEFORE :
		    sync_for(c, ticket, fd, sync_fn, arg);
	pthread_mutex_unlock(&c->sync_lock);
	wake_all(c);
	return rc;
}

/*
 * The sync lock is only tried: a waiter that finds it taken sleeps until that sync
 * ends (or NAP_MS, in case its process died) and looks again, so that every waiter
 * the sync covered returns at once instead of queuing for the lock in turn.
 */
int
commit_wait(struct commit *c, commit_ticket ticket, int fd, commit_sync_fn sync_fn,
    void *arg, int timeout_ms)
{
	int64_t		 deadline = monotonic_ms() + timeout_ms, left;
	uint32_t	 seen;
	bool		 holder_died;
	int		 rc;

	for (;;) {
		seen = __atomic_load_n(&c->syncs_ended, __ATOMIC_ACQUIRE);
		if (commit_done(c, ticket))
			return 0;
		if (commit_failed(c))
			return COMMIT_FAILED_BEFORE;
		/* A syncer that died leaves nothing to mend: the sync is run again. */
		rc = pmutex_trylock(&c->sync_lock, &holder_died);
		if (rc == 0)
			return lead(c, ticket, fd, sync_fn, arg);
		if (rc != EBUSY)
			return rc;
		if ((left = deadline - monotonic_ms()) <= 0)
			return ETIMEDOUT;
		nap(c, seen, left < NAP_MS ? left : NAP_MS);
	}
}
