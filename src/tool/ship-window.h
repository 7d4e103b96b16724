/* SPDX-License-Identifier: ISC */
/*
 * ship-window.h: the records idwise-log ship has published and the stream has not yet
 * acknowledged, a bounded window of them in seq order. The client's thread reports each
 * ack or failure (window_on_ack); the shipper's thread takes the acknowledged records off
 * the front, never past one that is not acknowledged, and sends the failed ones again.
 *
 * So the position the window hands back is always one below which every record is in the
 * stream, which is the only place the cursor may move to.
 */
#ifndef IDW_SHIP_WINDOW_H
#define IDW_SHIP_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "log-cursor.h"

#define WINDOW_MAX	65536

struct window;

/* What the front of the window gave back (window_collect). */
struct window_acks {
	size_t		 acked;		/* records taken off, acknowledged */
	size_t		 duplicates;	/* of them, ones the stream already held */
	struct log_pos	 pos;		/* the last one's (seq 0: none taken) */
};

/* The latest failure, for the message said once per change. */
struct window_failure {
	size_t		 failed;	/* records waiting to be sent again */
	natsStatus	 status;
	jsErrCode	 code;
	char		 text[160];
};

/* Room for cap records (1 to WINDOW_MAX) in flight, each timed out after ack_wait_ms. */
struct window	*window_new(size_t cap, int64_t ack_wait_ms);
/*
 * Forget every record in it, freeing the messages it holds: once the connection is closed,
 * before the client library is (nats_Close), which frees what is left of its own.
 */
void		 window_drop(struct window *);
/* Once no callback can come any more (after nats_CloseAndWait). */
void		 window_free(struct window *);

/* The jsOptions.PublishAsync.AckHandler, with the window as its closure. */
void	window_on_ack(jsCtx *, natsMsg *, jsPubAck *, jsPubAckErr *, void *closure);

bool	window_full(struct window *);
size_t	window_in_flight(struct window *);

/*
 * Publish the message of record seq (the next one after the last sent: seqs come one by
 * one), to move the cursor to pos once acknowledged; the window takes msg. A publish the
 * client refuses at once counts as a failure to send again. The message must carry an
 * Idwise-Seq header with seq: the ack is matched to the record by it.
 */
void	window_send(struct window *, jsCtx *, natsMsg *msg, uint64_t seq,
	    const struct log_pos *pos);
/* Take the acknowledged records off the front. */
void	window_collect(struct window *, struct window_acks *);
/* How many failed, and the last reason (failure->failed 0: none). */
void	window_failure(struct window *, struct window_failure *);
/* Send every failed record again, in seq order; how many were sent. */
size_t	window_resend(struct window *, jsCtx *);
/* Wait until an ack or a failure comes, or ms pass. */
void	window_wait(struct window *, long ms);

#endif
