/* SPDX-License-Identifier: ISC */
/*
 * metrics.h: counters for the whole deployment, kept in the shared state file next to the
 * log (shm.h), so every process adds to the same totals and they outlive process
 * restarts (not a reboot: the state file is made anew then, and counters start at 0,
 * which Prometheus reads as a counter reset). All updates are relaxed atomics.
 */
#ifndef IDW_METRICS_H
#define IDW_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The counters are part of the state file's layout (shm.c), so their sizes are fixed here,
 * not taken from the tables they count: changing one changes SHM_VERSION (shm.c asserts
 * the sizes of its version). Each is at least what it counts: the responder's reply codes
 * (asserted in prometheus.c), the event types and outcomes of idwise.h (metrics.c).
 */
#define METRICS_REPLY_SLOTS	15
#define METRICS_TYPE_SLOTS	11
#define METRICS_OUTCOME_SLOTS	7
#define METRICS_BUCKETS		14
#define METRICS_PROCESSES	256

struct histogram {
	_Atomic uint64_t	 buckets[METRICS_BUCKETS];	/* not cumulative */
	_Atomic uint64_t	 count;
	_Atomic uint64_t	 sum_us;
};

struct metrics {
	_Atomic uint64_t	 requests[METRICS_REPLY_SLOTS];	/* by reply code */
	_Atomic uint64_t	 events[METRICS_TYPE_SLOTS][METRICS_OUTCOME_SLOTS];
	_Atomic uint64_t	 status_requests;
	struct histogram	 append;	/* lock + write + fdatasync */
	struct histogram	 sync;		/* fdatasync alone */
	_Atomic uint64_t	 log_bytes;
	_Atomic uint64_t	 last_seq;
	_Atomic int64_t		 last_event_ms;
	_Atomic int32_t		 pids[METRICS_PROCESSES];	/* processes attached */
};

/* One request answered with the reply code (decide.h), below METRICS_REPLY_SLOTS. */
void	metrics_reply(struct metrics *, unsigned reply);
/* One event stored, by its record's `type` and `outcome` (idwise.h). */
void	metrics_event(struct metrics *, const char *type, const char *outcome);
void	metrics_status_request(struct metrics *);
void	metrics_observe(struct histogram *, double seconds);
void	metrics_stored(struct metrics *, uint64_t seq, int64_t received_ms, size_t bytes);

/* Count this process in (at attach) and out (at exit). */
void	metrics_join(struct metrics *);
void	metrics_leave(struct metrics *);
int	metrics_processes(struct metrics *);

/* Upper bounds of the latency buckets, in seconds (+Inf is implied). */
extern const double metrics_bucket_bounds[METRICS_BUCKETS - 1];

#endif
