/* SPDX-License-Identifier: ISC */
/*
 * exec-metrics.h: how far idwise-log exec has got, and how big its dead-letter file is, as
 * a Prometheus text file for node_exporter's textfile collector (--metrics FILE, written
 * through textfile.h: whole, then renamed; every second and at the exit).
 */
#ifndef IDW_EXEC_METRICS_H
#define IDW_EXEC_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "textfile.h"

struct exec_stats {
	const char	*log;		/* labels: the log, or (--nats) the stream and durable */
	const char	*stream;
	const char	*durable;
	const char	*dead_letter;	/* NULL: no --dead-letter, and no sample of its size */
	uint64_t	 runs;		/* the command started (first attempts and retries) */
	uint64_t	 done;		/* records it exited 0 for */
	uint64_t	 failures;	/* runs that failed: a status other than 0, or a signal */
	uint64_t	 given_up;	/* records put in the dead-letter file */
	uint64_t	 last_seq;	/* the last record done or given up on; 0: none yet */
	uint64_t	 dead_letter_bytes;
};

struct exec_metrics {
	struct textfile		 file;		/* file.path NULL: no --metrics */
	struct exec_stats	 stats;
	bool			 started;	/* written once: written again at the exit */
};

/*
 * The file again, if a second has passed since the last time or now is true, with the
 * size of the dead-letter file dl_fd (-1: none) as it is. Nothing before m->started.
 */
void	exec_metrics_tick(struct exec_metrics *, int dl_fd, bool now);

#endif
