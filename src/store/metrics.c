/* SPDX-License-Identifier: ISC */
/* metrics.c: the shared counters of every process of a deployment. */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include "idwise.h"
#include "metrics.h"

_Static_assert(IDWISE_TYPES <= METRICS_TYPE_SLOTS &&
    IDWISE_OUTCOMES <= METRICS_OUTCOME_SLOTS,
    "more event types or outcomes than the state file has slots: see metrics.h");

#define RELAXED	memory_order_relaxed

/* Upper bounds of the latency buckets, in seconds (+Inf is implied). */
const double metrics_bucket_bounds[METRICS_BUCKETS - 1] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5,
};

void
metrics_reply(struct metrics *m, unsigned reply)
{
	if (m != NULL && reply < METRICS_REPLY_SLOTS)
		atomic_fetch_add_explicit(&m->requests[reply], 1, RELAXED);
}

void
metrics_event(struct metrics *m, const char *type, const char *outcome)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->events[idwise_type_index(type)]
		    [idwise_outcome_index(outcome)], 1, RELAXED);
}

void
metrics_status_request(struct metrics *m)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->status_requests, 1, RELAXED);
}

void
metrics_observe(struct histogram *h, double seconds)
{
	int	 i;

	for (i = 0; i < METRICS_BUCKETS - 1 && seconds > metrics_bucket_bounds[i]; i++)
		;
	atomic_fetch_add_explicit(&h->buckets[i], 1, RELAXED);
	atomic_fetch_add_explicit(&h->count, 1, RELAXED);
	atomic_fetch_add_explicit(&h->sum_us, (uint64_t)(seconds * 1e6 + 0.5), RELAXED);
}

/* Under the append lock, so last_seq only grows. */
void
metrics_stored(struct metrics *m, uint64_t seq, int64_t received_ms, size_t bytes)
{
	if (m == NULL)
		return;
	atomic_fetch_add_explicit(&m->log_bytes, bytes, RELAXED);
	atomic_store_explicit(&m->last_seq, seq, RELAXED);
	atomic_store_explicit(&m->last_event_ms, received_ms, RELAXED);
}

static int
pid_alive(int32_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Take a free slot, or one of a process that is gone. */
void
metrics_join(struct metrics *m)
{
	int32_t	 me = (int32_t)getpid(), seen;
	int	 i;

	for (i = 0; i < METRICS_PROCESSES; i++) {
		seen = atomic_load_explicit(&m->pids[i], RELAXED);
		if (seen == me)
			return;
		if ((seen == 0 || !pid_alive(seen)) &&
		    atomic_compare_exchange_strong(&m->pids[i], &seen, me))
			return;
	}
}

void
metrics_leave(struct metrics *m)
{
	int32_t	 me = (int32_t)getpid();
	int	 i;

	for (i = 0; i < METRICS_PROCESSES; i++)
		if (atomic_load_explicit(&m->pids[i], RELAXED) == me)
			atomic_store_explicit(&m->pids[i], 0, RELAXED);
}

int
metrics_processes(struct metrics *m)
{
	int	 i, n = 0;

	for (i = 0; i < METRICS_PROCESSES; i++)
		if (pid_alive(atomic_load_explicit(&m->pids[i], RELAXED)))
			n++;
	return n;
}
