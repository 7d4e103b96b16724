/* SPDX-License-Identifier: ISC */
/*
 * js-durable.h: a durable pull consumer of a JetStream stream, for follow and exec --nats:
 * made on the first start with the filter subject and ack policy asked for, found again on
 * the next (and refused if it reads another subject or takes acks another way), and bound
 * to, so that the client never deletes it.
 */
#ifndef IDW_JS_DURABLE_H
#define IDW_JS_DURABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "jetstream.h"

struct js_durable_want {
	const char	*stream;
	const char	*durable;
	const char	*filter;	/* the subject it reads */
	bool		 by_batch;	/* follow: acks once a batch is on disk; exec: one by one */
	int64_t		 max_ack_pending;	/* records handed out and not yet answered */
	int64_t		 ack_wait_ns;	/* before an unanswered record is handed out again */
	int64_t		 start_ns;	/* 0: from the stream's start; else from that time */
};

/*
 * Make or find the consumer and subscribe to it: 0 with *sub; -1 and why when the stream
 * or the servers are not there now (try again later); EX_CONFIG once said when the
 * consumer that is there does not fit.
 */
int	js_durable_subscribe(struct js_link *, const struct js_durable_want *,
	    natsSubscription **sub, char *why, size_t whylen);
/* Has the consumer handed out every record there is, and had each one answered? */
bool	js_durable_done(struct js_link *, const struct js_durable_want *);

#endif
