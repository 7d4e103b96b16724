/* SPDX-License-Identifier: ISC */
/*
 * ship-loop.c: idwise-log ship's loop: publish every record of the log, in seq order and across
 * rotations, to a NATS JetStream stream, with many publishes in flight at once (a window
 * of --window records), and move the cursor only to the highest seq below which the
 * stream has acknowledged every record. A record is published as its line without the
 * '\n', on PREFIX.ENV.TYPE, with the Nats-Msg-Id of ship-msg.h and headers that name the
 * host, the seq and the line's hash.
 *
 * A broker that cannot be reached, or a stream that does not acknowledge (no quorum), is
 * waited for: what was not acknowledged is sent again with backoff, the cursor stays, and
 * the change of state is said once. A restart sends again what followed the cursor; the
 * stream drops what it already holds by its Msg-Id, within its duplicate window.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "idwise-log.h"
#include "js-stream.h"
#include "log-consume.h"
#include "log-filter.h"
#include "rotation.h"
#include "ship-checkpoint.h"
#include "ship-metrics.h"
#include "textfile.h"
#include "ship-loop.h"
#include "ship-msg.h"
#include "ship-window.h"
#include "util.h"

#define ACK_WAIT_MS	5000	/* a publish not acknowledged by then is sent again */
#define READ_BATCH	64	/* records read before the acks are looked at again */
#define SAVE_EVERY_MS	200
#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	8000
#define IDLE_MS		100	/* a wait while the broker is away */
#define ACK_POLL_MS	20	/* a wait for acks with nothing more to read */
#define DRAIN_MS	3000	/* on the way out, for the acks of what is in flight */
#define CONNECT_EVERY_MS 1000	/* before the first connection */

struct ship {
	const struct ship_opts	*o;
	const sigset_t		*wait_mask;
	struct stream		*s;
	struct cursor		 cursor;
	struct js_link		*link;
	struct window		*w;
	struct ship_checkpoint	*checkpoint;	/* NULL without --checkpoint */
	struct log_pos		 acked;		/* every record up to it is in the stream */
	struct ship_stats	 stats;
	enum ship_state		 state;
	bool			 ensured;	/* the stream is there and fits */
	bool			 at_end;	/* the last read found no record */
	bool			 acked_since;	/* an ack came since the last look */
	int64_t			 saved_ms;
	struct textfile		 metrics;	/* --metrics, every second */
	int64_t			 retry_ms;	/* when to send the failed ones again */
	int64_t			 backoff_ms;
	int64_t			 connect_ms;	/* when to try to connect again */
	unsigned int		 reconnects;	/* the link's count, as last said */
};

/* What is said when the link enters each state, before "(detail)". */
static const char *const state_says[SHIP_NSTATES] = {
	[SHIP_CONNECTING] = "nats: no server reachable yet; trying again every second",
	[SHIP_UP] = "nats: shipping",
	[SHIP_DOWN] = "nats: connection lost; reconnecting",
	[SHIP_FAILING] = "nats: the stream does not acknowledge; trying again with backoff",
};

/* ---- the link's state, said once per change ---- */

static void
enter(struct ship *sh, enum ship_state state, const char *detail)
{
	if (state == sh->state)
		return;
	sh->state = state;
	msg("%s (%s); every record up to seq %" PRIu64 " is in stream %s", state_says[state],
	    detail, sh->acked.seq, sh->o->stream.name);
}

static void
backoff(struct ship *sh)
{
	sh->retry_ms = monotonic_ms() + sh->backoff_ms;
	sh->backoff_ms = sh->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    sh->backoff_ms * 2;
}

/* Connected: make sure of the stream first (0, or EX_CONFIG when it does not fit). */
static int
ensure(struct ship *sh)
{
	char		 why[256], server[256];

	if (monotonic_ms() < sh->retry_ms)
		return 0;
	switch (js_stream_ensure(sh->link, &sh->o->stream, why, sizeof(why))) {
	case JS_ENSURED:
		sh->ensured = true;
		sh->retry_ms = 0;
		/* With records in flight, up is when they are acknowledged (track_state). */
		if (window_in_flight(sh->w) == 0) {
			sh->backoff_ms = BACKOFF_MIN_MS;
			js_link_server(sh->link, server, sizeof(server));
			enter(sh, SHIP_UP, server);
		}
		return 0;
	case JS_ENSURE_RETRY:
		enter(sh, SHIP_FAILING, why);
		backoff(sh);
		return 0;
	default:
		return EX_CONFIG;
	}
}

/* Not connected yet: try (every CONNECT_EVERY_MS); 0, or the exit status of a refusal. */
static int
connect_now(struct ship *sh)
{
	char	 why[256];
	int	 rc;

	if (monotonic_ms() < sh->connect_ms)
		return 0;
	sh->connect_ms = monotonic_ms() + CONNECT_EVERY_MS;
	if ((rc = js_link_connect(sh->link, why, sizeof(why))) == -1) {
		enter(sh, SHIP_CONNECTING, why);
		return 0;
	}
	return rc;
}

/* A failure the stream's absence explains: look at the stream again before sending. */
static bool
stream_gone(const struct window_failure *f)
{
	return f->status == NATS_NO_RESPONDERS || f->code == JSStreamNotFoundErr;
}

static int
track_state(struct ship *sh)
{
	struct window_failure	 f;
	char			 server[256];
	natsStatus		 rc;

	switch (js_link_state(sh->link)) {
	case JS_CONNECTING:
		return connect_now(sh);
	case JS_DOWN:
		enter(sh, SHIP_DOWN, "the client reconnects every second");
		sh->retry_ms = 0;	/* once back, send again at once */
		sh->backoff_ms = BACKOFF_MIN_MS;
		return 0;
	case JS_CLOSED:
		/* The client gives up only when the servers refuse it (credentials). */
		rc = js_link_error(sh->link, server, sizeof(server));
		msg("nats: the connection was refused for good: %s", server);
		return rc == NATS_CONNECTION_AUTH_FAILED || rc == NATS_NOT_PERMITTED ?
		    EX_NOPERM : EX_UNAVAILABLE;
	default:
		break;
	}
	if (js_link_reconnects(sh->link) != sh->reconnects) {
		sh->reconnects = js_link_reconnects(sh->link);
		js_link_server(sh->link, server, sizeof(server));
		msg("nats: reconnected to %s", server);
	}
	if (!sh->ensured)
		return ensure(sh);
	window_failure(sh->w, &f);
	if (f.failed > 0) {
		enter(sh, SHIP_FAILING, f.text);
		sh->ensured = !stream_gone(&f);
	} else if (sh->state != SHIP_UP && (sh->acked_since || window_in_flight(sh->w) == 0)) {
		js_link_server(sh->link, server, sizeof(server));
		enter(sh, SHIP_UP, server);
		sh->backoff_ms = BACKOFF_MIN_MS;
	}
	sh->acked_since = false;
	return 0;
}

/* ---- acks, the cursor and the metrics ---- */

static void
collect(struct ship *sh)
{
	struct window_acks	 a;

	window_collect(sh->w, &a);
	if (a.acked == 0)
		return;
	sh->acked = a.pos;
	sh->acked_since = true;
	sh->stats.shipped += a.acked;
	sh->stats.duplicates += a.duplicates;
	sh->stats.last_seq = a.pos.seq;
	sh->stats.last_ack_ms = realtime_ms();
}

static int
save(struct ship *sh, bool now)
{
	static const struct out_pos	 no_output;
	int				 rc;

	if (cursor_holds(&sh->cursor, &sh->acked))
		return 0;
	if (!now && monotonic_ms() - sh->saved_ms < SAVE_EVERY_MS &&
	    window_in_flight(sh->w) > 0)
		return 0;
	if ((rc = cursor_save(&sh->cursor, &sh->acked, &no_output)) != 0)
		return rc;
	sh->saved_ms = monotonic_ms();
	return 0;
}

/* The log's last seq: its file's last record, or what was read if that is empty. */
static uint64_t
head_seq(struct ship *sh)
{
	struct log_ends	 ends;
	uint64_t	 read = stream_pos(sh->s)->seq;

	if (rotation_ends(sh->o->log, &ends) == 0 && ends.last_seq > read)
		read = ends.last_seq;
	return read > sh->stats.head_seq ? read : sh->stats.head_seq;
}

/*
 * Every second (or now): the metrics file, if asked for; true when it was time.
 * A failure is said once (until it works again), and is not fatal.
 */
static bool
write_metrics(struct ship *sh, bool now)
{
	if (!textfile_due(&sh->metrics, now))
		return false;
	if (sh->o->metrics == NULL)
		return true;
	sh->stats.head_seq = head_seq(sh);
	sh->stats.in_flight = window_in_flight(sh->w);
	sh->stats.state = sh->state < SHIP_NSTATES ? sh->state : SHIP_CONNECTING;
	textfile_rewrite(&sh->metrics, ship_metrics_fill, &sh->stats);
	return true;
}

/* ---- reading and publishing ---- */

static natsMsg *
record_msg(struct ship *sh, const struct stream_rec *rec)
{
	char		 subject[SHIP_SUBJECT_MAX], id[SHA256_HEX_LEN + 1], seq[24];
	unsigned char	 digest[SHA256_LEN];
	natsMsg		*m = NULL;
	natsStatus	 s = NATS_ERR;

	if (ship_subject(subject, sizeof(subject), sh->o->prefix,
	    record_string(&rec->view, "env"), rec->view.type) == -1 || rec->len > INT32_MAX ||
	    record_body_digest(&rec->view, digest) == -1)
		return NULL;
	ship_msg_id(rec->view.id, rec->view.id_len, digest, id);
	snprintf(seq, sizeof(seq), "%" PRIu64, rec->view.seq);
	if ((s = natsMsg_Create(&m, subject, NULL, rec->line, (int)rec->len)) == NATS_OK &&
	    (s = natsMsgHeader_Set(m, JS_HDR_MSG_ID, id)) == NATS_OK &&
	    (s = natsMsgHeader_Set(m, JS_HDR_EXPECTED_STREAM, sh->o->stream.name)) == NATS_OK &&
	    (s = natsMsgHeader_Set(m, SHIP_HDR_HOST, sh->o->host)) == NATS_OK &&
	    (s = natsMsgHeader_Set(m, SHIP_HDR_SEQ, seq)) == NATS_OK)
		return m;
	natsMsg_Destroy(m);
	return NULL;
}

/* Take the record and publish it; 0, or the exit status. */
static int
ship_record(struct ship *sh, const struct stream_rec *rec)
{
	const struct log_pos	*pos;
	char			 hash[SHA256_HEX_LEN + 1];
	uint64_t		 seq = rec->view.seq;
	natsMsg			*m;

	if ((m = record_msg(sh, rec)) == NULL) {
		msg("seq %" PRIu64 ": the message cannot be made (out of memory?)", seq);
		return EX_SOFTWARE;
	}
	stream_take(sh->s);
	pos = stream_pos(sh->s);
	hex_encode(pos->hash, SHA256_LEN, hash);
	if (natsMsgHeader_Set(m, SHIP_HDR_LINE_SHA256, hash) != NATS_OK) {
		natsMsg_Destroy(m);
		msg("out of memory");
		return EX_OSERR;
	}
	window_send(sh->w, js_link_ctx(sh->link), m, seq, pos);
	return 0;
}

/* Publish what the log holds, while the window has room. */
static int
fill(struct ship *sh)
{
	struct stream_rec	*rec;
	int			 n, rc;

	for (n = 0; n < READ_BATCH && !window_full(sh->w); n++) {
		if ((rc = stream_next(sh->s, &rec)) == -1)
			return stream_status(sh->s);
		if ((sh->at_end = rc == 0))
			return 0;
		if ((rc = ship_record(sh, rec)) != 0)
			return rc;
	}
	return 0;
}

/* ---- the loop ---- */

/* Up, with nothing failed: wait for more of the log, or for acks, as the case may be. */
static int
wait_some(struct ship *sh)
{
	if (!sh->at_end) {
		if (window_full(sh->w))
			window_wait(sh->w, IDLE_MS);
		return 0;
	}
	if (window_in_flight(sh->w) > 0) {
		window_wait(sh->w, ACK_POLL_MS);
		return 0;
	}
	return stream_wait(sh->s, sh->wait_mask) == -1 ? stream_status(sh->s) : 0;
}

/*
 * Connected to a stream that fits: send the failed ones again when due; else, while the
 * stream acknowledges, the next records; while it does not, wait for its acks.
 */
static int
work(struct ship *sh)
{
	struct window_failure	 f;
	int			 rc;

	window_failure(sh->w, &f);
	if (f.failed > 0 && monotonic_ms() >= sh->retry_ms) {
		sh->stats.failures += f.failed;
		window_resend(sh->w, js_link_ctx(sh->link));
		backoff(sh);
	}
	if (f.failed > 0 || sh->state != SHIP_UP) {
		window_wait(sh->w, IDLE_MS);
		return 0;
	}
	if ((rc = fill(sh)) != 0)
		return rc;
	return wait_some(sh);
}

static int
step(struct ship *sh)
{
	int	 rc;

	collect(sh);
	if ((rc = track_state(sh)) != 0 || (rc = save(sh, false)) != 0)
		return rc;
	if (write_metrics(sh, false) && sh->checkpoint != NULL && sh->state == SHIP_UP)
		ship_checkpoint_publish(sh->checkpoint, sh->link, sh->o->stream.name,
		    sh->o->prefix);
	if (sh->o->once && sh->ensured && sh->at_end && window_in_flight(sh->w) == 0)
		return -1;
	if (sh->ensured && js_link_state(sh->link) == JS_UP)
		return work(sh);
	consume_pause(IDLE_MS);
	return 0;
}

/* On the way out: the acks of what is in flight, for a while, then the cursor. */
static int
finish(struct ship *sh, int status)
{
	int64_t	 until = monotonic_ms() + DRAIN_MS;
	int	 rc;

	while (window_in_flight(sh->w) > 0 && js_link_state(sh->link) == JS_UP &&
	    monotonic_ms() < until) {
		window_wait(sh->w, ACK_POLL_MS);
		collect(sh);
	}
	collect(sh);
	if ((rc = save(sh, true)) != 0 && status == 0)
		status = rc;
	write_metrics(sh, true);
	return status;
}

static int
run(struct ship *sh)
{
	int	 status = 0;

	while (status == 0 && !consume_stopping())
		status = step(sh);
	return finish(sh, status == -1 ? 0 : status);
}

/* ---- setting up ---- */

static int
open_all(struct ship *sh)
{
	struct js_link_opts	 lo = sh->o->link;
	int			 rc;

	if ((sh->s = stream_new(sh->o->log)) == NULL ||
	    (sh->w = window_new(sh->o->window, ACK_WAIT_MS)) == NULL ||
	    (sh->o->checkpoint != NULL &&
	    (sh->checkpoint = ship_checkpoint_new(sh->o->checkpoint)) == NULL)) {
		msg("out of memory");
		return EX_OSERR;
	}
	if ((rc = cursor_open(&sh->cursor, sh->o->cursor)) != 0)
		return rc;
	sh->acked = sh->cursor.pos;
	sh->stats.last_seq = sh->acked.seq;
	if (stream_start(sh->s, &sh->cursor.pos, sh->o->from_seq, true) == -1)
		return stream_status(sh->s);
	lo.ack_handler = window_on_ack;
	lo.ack_closure = sh->w;
	lo.max_pending = (int64_t)sh->o->window * 2;
	return js_link_open(&sh->link, &lo);
}

int
ship_run(const struct ship_opts *o)
{
	struct ship	 sh;
	int		 rc;

	memset(&sh, 0, sizeof(sh));
	sh.o = o;
	sh.metrics.path = o->metrics;
	sh.cursor.fd = -1;
	sh.state = SHIP_NSTATES;	/* none yet: the first state is said */
	sh.backoff_ms = BACKOFF_MIN_MS;
	sh.stats.log = o->log;
	sh.stats.stream = o->stream.name;
	if ((rc = consume_setup(&sh.wait_mask)) == 0 && (rc = open_all(&sh)) == 0)
		rc = run(&sh);
	js_link_close(sh.link);
	window_drop(sh.w);		/* while the client can still free messages */
	if (sh.link != NULL)
		js_link_free(sh.link);	/* no callback into the window after this */
	window_free(sh.w);
	ship_checkpoint_free(sh.checkpoint);
	if (sh.cursor.fd != -1)
		cursor_close(&sh.cursor);
	stream_free(sh.s);
	return rc;
}
