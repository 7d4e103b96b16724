/* SPDX-License-Identifier: ISC */
/*
 * ship-metrics.h: how far idwise-log ship has got, as a Prometheus text file for
 * node_exporter's textfile collector (written through textfile.h).
 */
#ifndef IDW_SHIP_METRICS_H
#define IDW_SHIP_METRICS_H

#include <stdint.h>
#include <stdio.h>

struct ship_stats {
	const char	*log;		/* labels of every sample */
	const char	*stream;
	uint64_t	 shipped;	/* records the stream acknowledged since the start */
	uint64_t	 duplicates;	/* of them, ones it already held */
	uint64_t	 failures;	/* publishes that failed (and were tried again) */
	uint64_t	 last_seq;	/* every record up to it is in the stream */
	uint64_t	 head_seq;	/* the log's last record */
	uint64_t	 in_flight;
	int		 state;		/* enum ship_state */
	int64_t		 last_ack_ms;	/* wall clock, 0: none yet */
};

/* Where the link to the broker stands. */
enum ship_state {
	SHIP_CONNECTING,	/* no server reached yet, or the stream not checked yet */
	SHIP_UP,		/* the stream acknowledges */
	SHIP_DOWN,		/* the connection is lost; reconnecting */
	SHIP_FAILING,		/* connected, but publishes are not acknowledged */
	SHIP_NSTATES
};

/* Each state's name: the metric's label value. */
extern const char *const ship_state_names[SHIP_NSTATES];

/* The samples of a struct ship_stats: a textfile_fill_fn (textfile.h). */
void	ship_metrics_fill(FILE *, const void *stats);

#endif
