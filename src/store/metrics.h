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
#include <stdint.h>
#include <stdio.h>

#include "decide.h"
#include "idwise.h"

#define METRICS_BUCKETS		14
#define METRICS_PROCESSES	256

struct histogram {
	_Atomic uint64_t	 buckets[METRICS_BUCKETS];	/* not cumulative */
	_Atomic uint64_t	 count;
	_Atomic uint64_t	 sum_us;
};

struct metrics {
	_Atomic uint64_t	 requests[REPLY_COUNT];
	_Atomic uint64_t	 events[IDWISE_TYPES][IDWISE_OUTCOMES];
	_Atomic uint64_t	 status_requests;
	struct histogram	 append;	/* lock + write + fdatasync */
	struct histogram	 sync;		/* fdatasync alone */
	_Atomic uint64_t	 log_bytes;
	_Atomic uint64_t	 last_seq;
	_Atomic int64_t		 last_event_ms;
	_Atomic int32_t		 pids[METRICS_PROCESSES];	/* processes attached */
};

void	metrics_reply(struct metrics *, enum reply_code);
void	metrics_event(struct metrics *, const char *type, const char *outcome);
void	metrics_status_request(struct metrics *);
void	metrics_observe(struct histogram *, double seconds);
void	metrics_stored(struct metrics *, uint64_t seq, int64_t received_ms, size_t bytes);

/* Count this process in (at attach) and out (at exit). */
void	metrics_join(struct metrics *);
void	metrics_leave(struct metrics *);
int	metrics_processes(struct metrics *);

/* What the status page adds from outside the counters. */
struct health {
	int		 log_writable;
	int		 sync_failed;	/* an fdatasync failed: nothing more is stored */
	uint64_t	 disk_free;
	uint64_t	 last_seq;
	int64_t		 last_event_ms;
};

/* Upper bounds of the latency buckets, in seconds (+Inf is implied). */
extern const double metrics_bucket_bounds[METRICS_BUCKETS - 1];

/* Prometheus text format (0.0.4); m may be NULL when the state file cannot be had
 * (prometheus.c, in the responder: it names the reply codes). */
void	metrics_write_prometheus(FILE *, struct metrics *, const struct health *);

#endif
