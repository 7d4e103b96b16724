/* SPDX-License-Identifier: ISC */
/* prometheus.h: the shared counters (metrics.h) as the status page's Prometheus text. */
#ifndef IDW_PROMETHEUS_H
#define IDW_PROMETHEUS_H

#include <stdint.h>
#include <stdio.h>

struct metrics;

/* What the status page adds from outside the counters. */
struct health {
	int		 log_writable;
	int		 sync_failed;	/* an fdatasync failed: nothing more is stored */
	uint64_t	 disk_free;
	uint64_t	 last_seq;
	int64_t		 last_event_ms;
};

/* Prometheus text format (0.0.4); m may be NULL when the state file cannot be had. */
void	prometheus_write(FILE *, struct metrics *, const struct health *);

#endif
