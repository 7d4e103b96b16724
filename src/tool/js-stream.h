/* SPDX-License-Identifier: ISC */
/*
 * js-stream.h: the JetStream stream idwise-log ship publishes to: made if it is missing
 * (subjects PREFIX.>, file storage, the replicas and duplicate window asked), refused if
 * the one that is there does not fit, and one message published and acknowledged.
 */
#ifndef IDW_JS_STREAM_H
#define IDW_JS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "jetstream.h"

#define JS_STREAM_DEFAULT	"IDWISE"
#define JS_REPLICAS_DEFAULT	3	/* on a cluster; 1 on a single server */
#define JS_REPLICAS_MAX		5
#define JS_DUPLICATES_DEFAULT	((int64_t)24 * 3600 * 1000000000LL)	/* ns: 24 h */

/* Headers NATS reads: the id the stream keeps one message for, and the stream it must be. */
#define JS_HDR_MSG_ID		"Nats-Msg-Id"
#define JS_HDR_EXPECTED_STREAM	"Nats-Expected-Stream"

/* The stream ship publishes to, as asked on its command line. */
struct js_stream_want {
	const char	*name;
	const char	*prefix;	/* subjects PREFIX.> */
	int64_t		 replicas;	/* 0: JS_REPLICAS_DEFAULT, or 1 on a single server */
	int64_t		 duplicates;	/* ns */
};

enum js_ensure {
	JS_ENSURED,		/* it is there (maybe made now) and fits */
	JS_ENSURE_RETRY,	/* no answer, or not now (why in the buffer): try again later */
	JS_ENSURE_REFUSED	/* it is there and does not fit: said why, exit EX_CONFIG */
};

/*
 * Make the stream if it is missing (subjects PREFIX.>, file storage, the replicas and
 * duplicate window asked). An existing one must cover PREFIX.>, keep duplicates at least
 * as long as asked and not be sealed.
 */
enum js_ensure	js_stream_ensure(struct js_link *, const struct js_stream_want *, char *why,
		    size_t whylen);

/*
 * Publish one message and wait for the stream's ack (JS_WAIT_MS at most); 0, or -1 with
 * why. msg_id (may be NULL) is its Nats-Msg-Id: the stream keeps one message per id
 * within its duplicate window.
 */
int	js_publish_sync(struct js_link *, const char *stream, const char *subject,
	    const void *data, size_t len, const char *msg_id, char *why, size_t whylen);

/*
 * A signed checkpoint of the log (issue 17: `idwise-log checkpoint`'s note, as written)
 * published on PREFIX.checkpoints with the Nats-Msg-Id "checkpoint-" and the hex SHA-256
 * of the note, so that publishing one again stores nothing new. 0, or -1 with why.
 */
int	js_publish_checkpoint(struct js_link *, const char *stream, const char *prefix,
	    const char *note, size_t len, char *why, size_t whylen);

#endif
