/* SPDX-License-Identifier: ISC */
/*
 * js-consume.h: idwise-log follow and exec reading the records `ship` published to a
 * JetStream stream, in place of a log file: through a durable pull consumer (--durable
 * NAME), which keeps the position on the servers as the cursor file does for a log.
 *
 * A record is acknowledged once the command has handled it (follow: written; exec: the
 * command exited 0), told to come again after a delay when the command asks for that
 * (exec's backoff: a nak with a delay), and terminated when the command gave up on it
 * (exec's dead-letter file). --type and --env, when each is given once, become the
 * consumer's subject filter (PREFIX.ENV.TYPE, with * for the one not given); --since
 * becomes its start time (15 minutes earlier, for clocks that differ); every filter is
 * still applied to each record as on a file. A message that is not a record (a
 * checkpoint on PREFIX.checkpoints) is acknowledged and passed over.
 */
#ifndef IDW_JS_CONSUME_H
#define IDW_JS_CONSUME_H

#include "jetstream.h"

struct consume_opts;
struct consumer;

/* Where to read from: link.urls set means the stream, not a log. */
struct js_consume_opts {
	struct js_link_opts	 link;
	const char		*stream;
	const char		*durable;
	const char		*prefix;	/* NULL: ship's default */
};

/* The options are complete and fit together (no LOG, no --cursor); 0, or -1 said why. */
int	js_consume_check(const struct consume_opts *);
/* The loop: as consume() on a log, with the stream's consumer as the cursor. */
int	js_consume_run(const struct consume_opts *, struct consumer *);

#endif
