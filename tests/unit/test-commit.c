/*
 * test-commit.c: group commit. One sync covers every record written before it; a sync
 * of an older file does not count for a newer one; a failed sync counts for nothing.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdatomic.h>
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

/* A sync that fails counts for nothing: the next waiter syncs again. */
static void
test_failed_sync(void)
{
	struct commit	 c;
	commit_ticket	 t;

	commit_init(&c);
	atomic_store(&syncs, 0);
	t = commit_written(&c, 1, 1, 10);
	atomic_store(&fail_next, 1);
	is_int(commit_wait(&c, t, 7, fake_sync, NULL, TIMEOUT_MS), -1, "a failed sync: -1");
	ok(!commit_done(&c, t), "  the record is not taken as synced");
	is_int(commit_wait(&c, t, 7, fake_sync, NULL, TIMEOUT_MS), 0,
	    "  the next wait syncs again");
	is_int(atomic_load(&syncs), 2, "  two syncs");
	pthread_mutex_destroy(&c.sync_lock);
}

int
main(void)
{
	test_one_sync_for_all();
	test_older_file();
	test_stored();
	test_failed_sync();
	return done_testing();
}
