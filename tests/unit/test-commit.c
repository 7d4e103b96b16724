/* SPDX-License-Identifier: ISC */
/*
 * test-commit.c: group commit. One sync covers every record written before it; a sync
 * of an older file does not count for a newer one; a failed sync spoils every later one;
 * the waiters a sync covered do not wait for the next one; a syncer that died or hangs
 * does not wedge the others; with others appending, a syncer waits the commit delay.
 */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "commit.h"
#include "tap.h"

#define WAITERS		8
#define TIMEOUT_MS	5000

static atomic_int	 syncs;		/* calls of fake_sync */
static atomic_int	 fail_next;	/* the next sync fails */
static int		 synced_fds[64];

/* commit_sync_fn: count, note the fd, take a while so that others queue up. */
static int
fake_sync(int fd, void *arg)
{
	int	 n = atomic_fetch_add(&syncs, 1);

	(void)arg;
	if (n < (int)(sizeof(synced_fds) / sizeof(synced_fds[0])))
		synced_fds[n] = fd;
	usleep(20000);
	return atomic_exchange(&fail_next, 0) ? -1 : 0;
}

struct waiter {
	struct commit	*c;
	commit_ticket	 ticket;
	int		 rc;
};

static void *
wait_one(void *arg)
{
	struct waiter	*w = arg;

	w->rc = commit_wait(w->c, w->ticket, 100, fake_sync, NULL, TIMEOUT_MS);
	return NULL;
}

/* WAITERS records written, then everyone waits at once: one sync for all. */
static void
test_one_sync_for_all(void)
{
	struct commit	 c;
	struct waiter	 w[WAITERS];
	pthread_t	 tid[WAITERS];
	int		 i, failed = 0;

	commit_init(&c);
	atomic_store(&syncs, 0);
	for (i = 0; i < WAITERS; i++) {
		w[i].c = &c;
		w[i].ticket = commit_written(&c, (uint64_t)i + 1, 1, 1);
	}
	for (i = 0; i < WAITERS; i++)
		pthread_create(&tid[i], NULL, wait_one, &w[i]);
	for (i = 0; i < WAITERS; i++) {
		pthread_join(tid[i], NULL);
		failed += w[i].rc != 0;
	}
	is_int(failed, 0, "%d waiters all return 0", WAITERS);
	is_int(atomic_load(&syncs), 1, "one sync covered the %d records written before it",
	    WAITERS);
	ok(commit_done(&c, commit_written(&c, WAITERS, 1, 1)), "the last one is done");
	ok(!commit_done(&c, commit_written(&c, WAITERS + 1, 1, 1)),
	    "a record written after the sync is not");
	pthread_mutex_destroy(&c.sync_lock);
}

/* A record in a file before the one written to last: its sync covers only itself. */
static void
test_older_file(void)
{
	struct commit	 c;
	commit_ticket	 old, new;

	commit_init(&c);
	atomic_store(&syncs, 0);
	old = commit_written(&c, 1, 1, 10);
	new = commit_written(&c, 2, 1, 11);
	is_int(commit_wait(&c, old, 7, fake_sync, NULL, TIMEOUT_MS), 0,
	    "a record in the file before the rotation: synced");
	ok(!commit_done(&c, new), "  that sync does not count for the record in the new file");
	is_int(commit_wait(&c, new, 8, fake_sync, NULL, TIMEOUT_MS), 0,
	    "  which gets a sync of its own");
	is_int(atomic_load(&syncs), 2, "  two syncs");
	is_int(synced_fds[1], 8, "  the second of the new file's fd");
	pthread_mutex_destroy(&c.sync_lock);
}

/* A duplicate's stored record: a sync of the file written to last covers it. */
static void
test_stored(void)
{
	struct commit	 c;
	commit_ticket	 dup;

	commit_init(&c);
	atomic_store(&syncs, 0);
	(void)commit_written(&c, 5, 1, 10);
	dup = commit_stored(&c, 3);
	ok(!commit_done(&c, dup), "a duplicate of a record not yet synced waits");
	is_int(commit_wait(&c, dup, 7, fake_sync, NULL, TIMEOUT_MS), 0, "  for a sync");
	ok(commit_done(&c, commit_written(&c, 5, 1, 10)),
	    "  which covers every record written before it");
	dup = commit_stored(&c, 4);
	is_int(commit_wait(&c, dup, 7, fake_sync, NULL, TIMEOUT_MS), 0,
	    "a duplicate of a synced record");
	is_int(atomic_load(&syncs), 1, "  needs no sync");
	pthread_mutex_destroy(&c.sync_lock);
}

/*
 * A sync that fails spoils every later one (commit.h): no wait after it succeeds, nor
 * syncs; a record on disk before the failure is still done.
 */
static void
test_failed_sync(void)
{
	struct commit	 c;
	commit_ticket	 before, t, later;

	commit_init(&c);
	atomic_store(&syncs, 0);
	before = commit_written(&c, 1, 1, 10);
	is_int(commit_wait(&c, before, 7, fake_sync, NULL, TIMEOUT_MS), 0, "a record synced");
	t = commit_written(&c, 2, 1, 10);
	atomic_store(&fail_next, 1);
	is_int(commit_wait(&c, t, 7, fake_sync, NULL, TIMEOUT_MS), COMMIT_SYNC_FAILED,
	    "then a sync fails: COMMIT_SYNC_FAILED");
	ok(!commit_done(&c, t), "  its record is not taken as synced");
	ok(commit_failed(&c), "  commit_failed() says so");
	is_int(commit_wait(&c, t, 7, fake_sync, NULL, TIMEOUT_MS), COMMIT_FAILED_BEFORE,
	    "  a second wait for it: COMMIT_FAILED_BEFORE (a second sync might say 0)");
	later = commit_written(&c, 3, 1, 11);
	is_int(commit_wait(&c, later, 8, fake_sync, NULL, TIMEOUT_MS), COMMIT_FAILED_BEFORE,
	    "  so does a wait for a record written after it, even in a new file");
	is_int(atomic_load(&syncs), 2, "  neither synced");
	is_int(commit_wait(&c, before, 7, fake_sync, NULL, TIMEOUT_MS), 0,
	    "  the record synced before the failure is still on disk");
	pthread_mutex_destroy(&c.sync_lock);
}

/* fake_sync's twin for test_covered_not_queued: says it began, waits for the gate. */
static sem_t	 sync_began, gate;

static int
gated_sync(int fd, void *arg)
{
	(void)fd;
	(void)arg;
	atomic_fetch_add(&syncs, 1);
	sem_post(&sync_began);
	sem_wait(&gate);
	return 0;
}

struct gated_waiter {
	struct commit	*c;
	commit_ticket	 ticket;
	atomic_int	 returned;
};

static void *
wait_gated(void *arg)
{
	struct gated_waiter	*w = arg;

	(void)commit_wait(w->c, w->ticket, 100, gated_sync, NULL, TIMEOUT_MS);
	atomic_store(&w->returned, 1);
	return NULL;
}

/* Whether waiter w returns within ms. */
static int
returns_within(struct gated_waiter *w, int ms)
{
	for (; ms > 0 && !atomic_load(&w->returned); ms -= 5)
		usleep(5000);
	return atomic_load(&w->returned);
}

static void
start_gated(struct gated_waiter *w, pthread_t *tid, struct commit *c, commit_ticket t)
{
	w->c = c;
	w->ticket = t;
	atomic_store(&w->returned, 0);
	pthread_create(tid, NULL, wait_gated, w);
}

/*
 * Records 1-4 written; 1's waiter syncs; record 5 is written during that sync. The
 * waiters of 2-4 were covered by it and return when it ends, although 5's waiter
 * (queued before them) is by then in a sync that does not end until the gate opens.
 */
static void
test_covered_not_queued(void)
{
	struct commit		 c;
	struct gated_waiter	 w[5];
	pthread_t		 tid[5];
	commit_ticket		 t[5];
	int			 i, back = 0;

	commit_init(&c);
	atomic_store(&syncs, 0);
	sem_init(&sync_began, 0, 0);
	sem_init(&gate, 0, 0);
	for (i = 0; i < 4; i++)
		t[i] = commit_written(&c, (uint64_t)i + 1, 1, 1);
	start_gated(&w[0], &tid[0], &c, t[0]);
	sem_wait(&sync_began);
	t[4] = commit_written(&c, 5, 1, 1);
	start_gated(&w[4], &tid[4], &c, t[4]);
	usleep(50000);
	for (i = 1; i < 4; i++)
		start_gated(&w[i], &tid[i], &c, t[i]);
	usleep(50000);
	sem_post(&gate);
	ok(returns_within(&w[0], 2000), "the first sync ends");
	sem_wait(&sync_began);
	for (i = 1; i < 4; i++)
		back += returns_within(&w[i], 2000);
	is_int(back, 3, "the 3 waiters it covered return while the next sync runs");
	ok(!atomic_load(&w[4].returned), "  the record written during it waits for that one");
	sem_post(&gate);
	ok(returns_within(&w[4], 2000), "  and returns when it ends");
	is_int(atomic_load(&syncs), 2, "  two syncs in all");
	for (i = 0; i < 5; i++)
		pthread_join(tid[i], NULL);
	sem_destroy(&sync_began);
	sem_destroy(&gate);
	pthread_mutex_destroy(&c.sync_lock);
}

static void *
lock_and_exit(void *arg)
{
	pthread_mutex_lock(arg);
	return NULL;
}

static void *
lock_and_hold(void *arg)
{
	pthread_mutex_lock(arg);
	sem_wait(&gate);
	pthread_mutex_unlock(arg);
	return NULL;
}

/* A syncer that died holding the sync lock: the next waiter syncs. One that hangs: a
 * waiter gives up at its timeout with ETIMEDOUT. */
static void
test_dead_or_stuck_syncer(void)
{
	struct commit	 c;
	pthread_t	 tid;
	commit_ticket	 t;

	commit_init(&c);
	atomic_store(&syncs, 0);
	pthread_create(&tid, NULL, lock_and_exit, &c.sync_lock);
	pthread_join(tid, NULL);
	t = commit_written(&c, 1, 1, 1);
	is_int(commit_wait(&c, t, 7, fake_sync, NULL, TIMEOUT_MS), 0,
	    "the sync lock's holder died: the waiter syncs");
	is_int(atomic_load(&syncs), 1, "  once");

	sem_init(&gate, 0, 0);
	pthread_create(&tid, NULL, lock_and_hold, &c.sync_lock);
	while (pthread_mutex_trylock(&c.sync_lock) == 0)
		pthread_mutex_unlock(&c.sync_lock);
	t = commit_written(&c, 2, 1, 1);
	is_int(commit_wait(&c, t, 7, fake_sync, NULL, 300), ETIMEDOUT,
	    "a syncer that hangs: ETIMEDOUT at the timeout");
	sem_post(&gate);
	pthread_join(tid, NULL);
	is_int(commit_wait(&c, t, 7, fake_sync, NULL, TIMEOUT_MS), 0,
	    "  and once it is gone the wait syncs");
	sem_destroy(&gate);
	pthread_mutex_destroy(&c.sync_lock);
}

static long
elapsed_us(const struct timespec *since)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000000L + (now.tv_nsec - since->tv_nsec) / 1000;
}

static struct timespec	 wait_start;
static long		 synced_after_us;	/* when timed_sync was called */

/* commit_sync_fn: count, and note how long after wait_start the sync began. */
static int
timed_sync(int fd, void *arg)
{
	(void)fd;
	(void)arg;
	synced_after_us = elapsed_us(&wait_start);
	atomic_fetch_add(&syncs, 1);
	return 0;
}

/* With COMMIT_SIBLINGS others appending the syncer waits the commit delay, then syncs;
 * with fewer, it syncs at once (not measured: no bound on a busy machine's timing). */
static void
test_commit_delay(void)
{
	struct commit	 c;
	commit_ticket	 t;
	int		 i;

	commit_init(&c);
	atomic_store(&syncs, 0);
	for (i = 0; i <= COMMIT_SIBLINGS; i++)
		commit_arrive(&c);
	t = commit_written(&c, 1, 1, 1);
	clock_gettime(CLOCK_MONOTONIC, &wait_start);
	is_int(commit_wait(&c, t, 7, timed_sync, NULL, TIMEOUT_MS), 0,
	    "others appending: the syncer syncs");
	ok(synced_after_us >= COMMIT_DELAY_US, "  after waiting the commit delay for them");
	is_int(atomic_load(&syncs), 1, "  once");
	for (i = 0; i <= COMMIT_SIBLINGS; i++)
		commit_leave(&c);
	is_int((int)c.appending, 0, "arrive and leave balance");
	pthread_mutex_destroy(&c.sync_lock);
}

int
main(void)
{
	test_one_sync_for_all();
	test_older_file();
	test_stored();
	test_failed_sync();
	test_covered_not_queued();
	test_dead_or_stuck_syncer();
	test_commit_delay();
	return done_testing();
}
