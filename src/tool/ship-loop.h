/* SPDX-License-Identifier: ISC */
/*
 * ship-loop.h: idwise-log ship's loop: the log's records published to a JetStream stream,
 * the cursor moved past those the stream acknowledged (ship-loop.c says how).
 */
#ifndef IDW_SHIP_LOOP_H
#define IDW_SHIP_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "js-stream.h"

/* What `idwise-log ship` was asked to do (log-ship.c reads the command line into it). */
struct ship_opts {
	struct js_link_opts	 link;
	struct js_stream_want	 stream;
	const char		*prefix;	/* subjects PREFIX.ENV.TYPE */
	const char		*cursor;
	const char		*log;
	const char		*host;		/* the Idwise-Host header */
	const char		*metrics;	/* a textfile for node_exporter, or NULL */
	const char		*checkpoint;	/* a checkpoint file to publish, or NULL */
	uint64_t		 replicas;	/* for a stream to make; 0: the default */
	uint64_t		 from_seq;	/* where to begin without a position in the cursor */
	uint64_t		 window;	/* publishes in flight at most */
	bool			 once;		/* stop once all that is there is acknowledged */
};

/* Run until a stop signal (0), the end with --once (0), or a failure (its exit status). */
int	ship_run(const struct ship_opts *);

#endif
