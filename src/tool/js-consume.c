/* SPDX-License-Identifier: ISC */
/*
 * js-consume.c: follow and exec over a JetStream stream (see js-consume.h). The durable
 * consumer is made on the first start and found again after; its acknowledgements are
 * waited for, and tried again through a broker outage, so that a record the command
 * handled is not handed out again (it would be only if the ack never got through).
 */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "idwise-log.h"
#include "js-consume.h"
#include "js-durable.h"
#include "js-stream.h"
#include "log-check.h"
#include "log-consume.h"
#include "seqring.h"
#include "ship-msg.h"
#include "util.h"

#define FETCH_MS	1000		/* a fetch's wait: stop signals are looked at after it */
#define RETRY_MS	1000		/* between tries while the broker is away */
/*
 * How long the stream waits for an answer before it hands a record out again. A record
 * whose delivery was lost (a fetch cut by a broker outage) holds exec up that long, so it
 * is short; a command that runs longer keeps its record with "in progress" every
 * PROGRESS_MS. An ack that does not get through is tried again for far longer, through a
 * broker outage: nothing is fetched meanwhile, so the ack gets there before the record
 * can be handed out again (to this consumer; another one on the same durable could have
 * it). After ACK_TRIES_MS it is given up, and the record will come again.
 */
#define ACK_WAIT_NS	(15LL * 1000000000LL)
#define PROGRESS_MS	5000
#define ACK_TRIES_MS	(300LL * 1000)
#define SINCE_MARGIN_MS	(15LL * 60 * 1000)	/* --since as the consumer's start time */
#define CHECKPOINTS	".checkpoints"

struct jsc {
	const struct consume_opts	*o;
	struct consumer			*c;
	struct js_link			*link;
	natsSubscription		*sub;
	struct log_reader		*reader;
	const char			*prefix;
	char				 filter[SHIP_SUBJECT_MAX];
	struct js_durable_want		 want;
	struct cursor			 cursor;	/* with --cursor: the last seq handled */
	uint64_t			 cursor_start;	/* where the cursor was at the start */
	unsigned char			 start_hash[SHA256_LEN];	/* and its message's hash */
	struct seqring			 handled;	/* the seqs this run handled */
	uint64_t			 said_other;	/* the last seq said to have changed */
	bool				 have_cursor;
	bool				 said_seen;	/* a run of records seen before */
	bool				 said_again;	/* a run of records this run handled */
	bool				 by_batch;	/* follow: acks once a batch is on disk */
	bool				 down;		/* said so */
};

/* ---- checking the options ---- */

int
js_consume_check(const struct consume_opts *o)
{
	const struct js_consume_opts	*n = &o->nats;

	if (o->log != NULL || o->from_seq != 0) {
		msg("with --nats, no LOG and no --from-seq: the durable consumer keeps the "
		    "position");
		return -1;
	}
	if (n->stream == NULL || n->durable == NULL) {
		msg("with --nats, --stream NAME and --durable NAME are needed");
		return -1;
	}
	if (!ship_name_valid(n->stream) || !ship_name_valid(n->durable)) {
		msg("--stream and --durable: names of letters, digits, '_' and '-' (at most %d)",
		    SHIP_NAME_MAX);
		return -1;
	}
	if (n->prefix != NULL && !ship_prefix_valid(n->prefix)) {
		msg("--subject: a subject prefix such as idwise (no wildcard): %s", n->prefix);
		return -1;
	}
	return js_link_opts_check(&n->link);
}

/* PREFIX.ENV.TYPE with * for a filter not given once; PREFIX.> when neither is. */
static void
filter_subject(struct jsc *j)
{
	const struct strset	*env = &j->o->filter.want[FILTER_ENV];
	const struct strset	*type = &j->o->filter.want[FILTER_TYPE];
	char			 e[SHIP_TOKEN_SIZE] = "*", t[SHIP_TOKEN_SIZE] = "*";

	if (env->n == 1)
		ship_token(env->v[0], e);
	if (type->n == 1)
		ship_token(type->v[0], t);
	if (env->n != 1 && type->n != 1)
		snprintf(j->filter, sizeof(j->filter), "%s.>", j->prefix);
	else
		snprintf(j->filter, sizeof(j->filter), "%s.%s.%s", j->prefix, e, t);
}

/* ---- the broker's state, said once per change ---- */

static void
say_down(struct jsc *j, const char *why)
{
	if (j->down)
		return;
	j->down = true;
	msg("nats: stream %s, durable %s: %s; trying again every second", j->o->nats.stream,
	    j->o->nats.durable, why);
}

static void
say_up(struct jsc *j)
{
	char	 server[256];

	if (!j->down)
		return;
	j->down = false;
	js_link_server(j->link, server, sizeof(server));
	msg("nats: stream %s, durable %s: reading again (%s)", j->o->nats.stream,
	    j->o->nats.durable, server);
}

/* Connected, and subscribed to the durable consumer: 0, -1 when stopped, or the status. */
static int
attach(struct jsc *j)
{
	char	 why[256];
	int	 rc;

	while (!consume_stopping()) {
		if ((rc = js_link_connect(j->link, why, sizeof(why))) == 0 &&
		    (rc = js_durable_subscribe(j->link, &j->want, &j->sub, why,
		    sizeof(why))) == 0) {
			say_up(j);
			return 0;
		}
		if (rc != -1)
			return rc;
		say_down(j, why);
		consume_pause(RETRY_MS);
	}
	return -1;
}

/* ---- each message ---- */

/*
 * The command handled it: the ack must get through, or the record comes again. Tried
 * again while the broker is away, for most of the time the stream waits for it.
 */
static void
ack(struct jsc *j, natsMsg *m, uint64_t seq)
{
	int64_t		 until = monotonic_ms() + ACK_TRIES_MS;
	jsErrCode	 ec = 0;
	natsStatus	 s;
	char		 why[256];

	while ((s = natsMsg_AckSync(m, NULL, &ec)) != NATS_OK) {
		js_describe(s, ec, why, sizeof(why));
		if (monotonic_ms() >= until || consume_stopping()) {
			msg("stream %s seq %" PRIu64 ": the ack did not get through (%s): it will be "
			    "handed out again", j->o->nats.stream, seq, why);
			return;
		}
		say_down(j, why);
		consume_pause(RETRY_MS);
	}
	say_up(j);
}

/* ---- a command that runs long keeps its record ---- */

struct keepalive {
	pthread_t	 thread;
	pthread_mutex_t	 mutex;
	pthread_cond_t	 cond;
	natsMsg		*msg;
	bool		 done;
	bool		 running;
};

static void *
keepalive_run(void *arg)
{
	struct keepalive	*k = arg;
	struct timespec		 until;

	pthread_mutex_lock(&k->mutex);
	while (!k->done) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += PROGRESS_MS / 1000;
		if (pthread_cond_timedwait(&k->cond, &k->mutex, &until) == ETIMEDOUT &&
		    !k->done)
			natsMsg_InProgress(k->msg, NULL);
	}
	pthread_mutex_unlock(&k->mutex);
	return NULL;
}

/* While the command handles m, tell the stream every PROGRESS_MS that it still does. */
static void
keepalive_start(struct keepalive *k, natsMsg *m)
{
	memset(k, 0, sizeof(*k));
	k->msg = m;
	pthread_mutex_init(&k->mutex, NULL);
	pthread_cond_init(&k->cond, NULL);
	k->running = pthread_create(&k->thread, NULL, keepalive_run, k) == 0;
}

static void
keepalive_stop(struct keepalive *k)
{
	if (k->running) {
		pthread_mutex_lock(&k->mutex);
		k->done = true;
		pthread_cond_signal(&k->cond);
		pthread_mutex_unlock(&k->mutex);
		pthread_join(k->thread, NULL);
	}
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->mutex);
}

/* The command's answer for the record of m. */
static enum act
act(struct jsc *j, natsMsg *m, const struct stream_rec *sr)
{
	struct keepalive	 k;
	enum act		 a;

	if (j->by_batch)	/* follow: a batch is written at once */
		return j->c->act(j->c, sr);
	keepalive_start(&k, m);
	a = j->c->act(j->c, sr);
	keepalive_stop(&k);
	return a;
}

/*
 * The record of m is handled (done, given up on, passed over): with --cursor, its stream
 * seq is on disk before the stream is told, so that a redelivery (an ack lost in a broker
 * failover) is known for one. Forward only. 0, or the exit status.
 */
static int
mark(struct jsc *j, natsMsg *m, uint64_t seq)
{
	struct log_pos	 pos;

	if (!j->have_cursor || seq <= j->cursor.pos.seq)
		return 0;
	memset(&pos, 0, sizeof(pos));
	pos.seq = seq;
	sha256(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), pos.hash);
	return cursor_save(&j->cursor, &pos, NULL);
}

/* What the seq ring keeps of m: the first 8 bytes of its payload's SHA-256. */
static uint64_t
message_tag(natsMsg *m)
{
	unsigned char	 md[SHA256_LEN];
	uint64_t	 tag;

	sha256(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), md);
	memcpy(&tag, md, sizeof(tag));
	return tag;
}

/* Done with m (ack) or given up on it (term): 0, or -1 with the status in c. */
static int
settle(struct jsc *j, natsMsg *m, uint64_t seq, bool give_up)
{
	int	 rc;

	seqring_add(&j->handled, seq, message_tag(m));
	if (j->by_batch)
		return 0;	/* acknowledged with its batch, once on disk (fetch) */
	if ((rc = mark(j, m, seq)) != 0) {
		j->c->status = rc;
		natsMsg_Nak(m, NULL);
		return -1;
	}
	if (give_up)
		natsMsg_Term(m, NULL);
	else
		ack(j, m, seq);
	return 0;
}

/* What the command said, told to the stream: 0 to go on, -1 to stop (status in c). */
static int
answer(struct jsc *j, natsMsg *m, uint64_t seq, enum act a)
{
	struct out_pos	 out;
	int		 rc;

	switch (a) {
	case ACT_DONE:
		memset(&out, 0, sizeof(out));
		if (!j->by_batch && j->c->before_save != NULL &&
		    (rc = j->c->before_save(j->c, &out)) != 0) {
			j->c->status = rc;
			natsMsg_Nak(m, NULL);
			return -1;
		}
		return settle(j, m, seq, false);
	case ACT_GIVE_UP:
		return settle(j, m, seq, true);
	case ACT_RETRY:
		natsMsg_NakWithDelay(m, j->c->retry_ms, NULL);
		return 0;
	default:
		natsMsg_Nak(m, NULL);	/* for the next start, or another consumer, at once */
		return -1;
	}
}

/*
 * A record at or before where the cursor was at the start: handled by an earlier run, and
 * handed out again (its ack was lost). Acknowledged, not run again; unless it is not the
 * record the cursor named. (Within a run, what was handled is known seq by seq: the
 * stream may hand out a record after later ones, and that one must still run.)
 */
static int
seen_before(struct jsc *j, natsMsg *m, uint64_t seq)
{
	unsigned char	 hash[SHA256_LEN];

	sha256(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), hash);
	if (seq == j->cursor_start && memcmp(hash, j->start_hash, SHA256_LEN) != 0) {
		msg("stream %s seq %" PRIu64 ": not the message %s was saved after: the stream "
		    "was made again; move the cursor away to read it from its start",
		    j->o->nats.stream, seq, j->cursor.path);
		j->c->status = EXIT_DAMAGED;
		return -1;
	}
	if (!j->said_seen)
		msg("stream %s from seq %" PRIu64 " on: handled already (%s was at seq %" PRIu64
		    " at the start); acknowledged again, not run again", j->o->nats.stream, seq,
		    j->cursor.path, j->cursor_start);
	j->said_seen = true;
	return settle(j, m, seq, false);
}

/*
 * A record this run handled already, handed out again (an ack that the stream took too
 * late, or lost): acknowledged, not printed or run a second time.
 */
static int
handled_in_run(struct jsc *j, natsMsg *m, uint64_t seq)
{
	if (!j->said_again)
		msg("stream %s from seq %" PRIu64 " on: handed out again, handled already in "
		    "this run; acknowledged again, not handled again", j->o->nats.stream, seq);
	j->said_again = true;
	return settle(j, m, seq, false);
}

/* A message that is no record: a checkpoint is passed over quietly, anything else said. */
static int
not_a_record(struct jsc *j, natsMsg *m, uint64_t seq, const char *why)
{
	const char	*subject = natsMsg_GetSubject(m);
	size_t		 n = strlen(subject), k = strlen(CHECKPOINTS);

	if (n < k || strcmp(subject + n - k, CHECKPOINTS) != 0)
		msg("stream %s seq %" PRIu64 " (%s): not a record (%s); passed over",
		    j->o->nats.stream, seq, subject, why);
	return settle(j, m, seq, false);
}

/* A message not handled before: its record to the command (if the filters want it). */
static int
handle_new(struct jsc *j, natsMsg *m, uint64_t seq, uint64_t delivery)
{
	struct log_record	 rec;
	struct stream_rec	 sr;
	char			 why[160];
	int			 rc;

	j->said_seen = false;
	j->said_again = false;
	sr.line = natsMsg_GetData(m);
	sr.len = (size_t)natsMsg_GetDataLength(m);
	if (log_record_read(j->reader, sr.line, sr.len, &rec, why, sizeof(why)) == -1)
		return not_a_record(j, m, seq, why);
	sr.view = rec.view;
	j->c->delivery = delivery > 0 ? delivery : 1;
	if (!filter_match(&j->o->filter, &sr.view))
		rc = settle(j, m, seq, false);
	else
		rc = answer(j, m, seq, act(j, m, &sr));
	log_record_free(&rec);
	return rc;
}

/* A seq handled, handed out again with another message: said once; it is handled anew. */
static void
said_changed(struct jsc *j, uint64_t seq)
{
	if (j->said_other == seq)
		return;
	msg("stream %s seq %" PRIu64 ": handed out again with another message than the one "
	    "this run handled there (the stream's servers disagree on what it holds); handled "
	    "as a new one", j->o->nats.stream, seq);
	j->said_other = seq;
}

static int
handle(struct jsc *j, natsMsg *m)
{
	jsMsgMetaData		*meta = NULL;
	enum seqring_seen	 seen;
	uint64_t		 seq;
	int			 rc;

	if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
		msg("stream %s: a message without JetStream metadata; passed over",
		    j->o->nats.stream);
		return 0;
	}
	seq = meta->Sequence.Stream;
	seen = seqring_seen(&j->handled, seq, message_tag(m));
	if (seen == SEQRING_OTHER)
		said_changed(j, seq);
	if (seen == SEQRING_SAME)
		rc = handled_in_run(j, m, seq);
	else if (j->have_cursor && seq <= j->cursor_start)
		rc = seen_before(j, m, seq);
	else
		rc = handle_new(j, m, seq, meta->NumDelivered);
	jsMsgMetaData_Destroy(meta);
	return rc;
}

/* A message's stream seq; 0 without JetStream metadata. */
static uint64_t
stream_seq(natsMsg *m)
{
	jsMsgMetaData	*meta = NULL;
	uint64_t	 seq = 0;

	if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
		seq = meta->Sequence.Stream;
		jsMsgMetaData_Destroy(meta);
	}
	return seq;
}

/*
 * by_batch: what the batch printed is on disk (before_save), the cursor at its highest
 * seq, then each of its n messages acknowledged, the last one waited for. Each ack is the
 * message's own: one that does not get through brings that message again, and the run
 * knows it (seqring). 0, or the status.
 */
static int
batch_done(struct jsc *j, natsMsg **msgs, int n)
{
	struct out_pos	 out;
	natsMsg		*top = NULL;
	uint64_t	 seq, top_seq = 0;
	int		 i, rc;

	memset(&out, 0, sizeof(out));
	if (j->c->before_save != NULL && (rc = j->c->before_save(j->c, &out)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if ((seq = stream_seq(msgs[i])) > top_seq) {
			top_seq = seq;
			top = msgs[i];
		}
	if (top != NULL && (rc = mark(j, top, top_seq)) != 0)
		return rc;
	for (i = 0; i < n - 1; i++)
		natsMsg_Ack(msgs[i], NULL);
	ack(j, msgs[n - 1], stream_seq(msgs[n - 1]));
	return 0;
}

/* One fetch and its messages: 0 to go on, 1 at the end (--once), -1 to stop. */
static int
fetch(struct jsc *j)
{
	jsFetchRequest	 req;
	natsMsgList	 list;
	jsErrCode	 ec;
	natsStatus	 s;
	char		 why[256];
	int		 i, rc = 0, rc2;

	/* Expires: the servers stop delivering before the client stops waiting. */
	jsFetchRequest_Init(&req);
	req.Batch = j->c->batch > 0 ? (int)j->c->batch : 1;
	req.Expires = (FETCH_MS - 100) * 1000000LL;
	s = natsSubscription_FetchRequest(&list, j->sub, &req);
	ec = 0;
	if (s == NATS_TIMEOUT)
		return j->o->once && js_durable_done(j->link, &j->want) ? 1 : 0;
	if (s != NATS_OK) {
		js_describe(s, ec, why, sizeof(why));
		say_down(j, why);
		consume_pause(RETRY_MS);
		return 0;
	}
	say_up(j);
	for (i = 0; i < list.Count && (rc = handle(j, list.Msgs[i])) == 0; i++)
		;
	/* By batch: those handled are acknowledged once on disk. */
	if (j->by_batch && i > 0 && (rc2 = batch_done(j, list.Msgs, i)) != 0) {
		j->c->status = rc2;
		rc = -1;
	}
	for (; i < list.Count; i++)
		natsMsg_Nak(list.Msgs[i], NULL);	/* not handled: for the next start */
	natsMsgList_Destroy(&list);
	return rc;
}

static int
run(struct jsc *j)
{
	int	 rc;

	if ((rc = attach(j)) != 0)
		return rc == -1 ? 0 : rc;
	for (;;) {
		consume_tick(j->c);
		if (consume_stopping() || (rc = fetch(j)) != 0)
			break;
	}
	return rc == -1 ? j->c->status : 0;
}

int
js_consume_run(const struct consume_opts *o, struct consumer *c)
{
	struct js_link_opts	 lo = o->nats.link;
	struct jsc		 j;
	char			 name[SHIP_NAME_MAX + 32];
	int			 rc;

	memset(&j, 0, sizeof(j));
	j.o = o;
	j.c = c;
	j.prefix = o->nats.prefix != NULL ? o->nats.prefix : SHIP_PREFIX_DEFAULT;
	j.by_batch = c->batch > 1;
	j.want.stream = o->nats.stream;
	j.want.durable = o->nats.durable;
	j.want.filter = j.filter;
	j.want.by_batch = j.by_batch;
	j.want.max_ack_pending = c->batch > 0 ? c->batch : 1;
	j.want.ack_wait_ns = ACK_WAIT_NS;
	if (o->filter.have_since)
		j.want.start_ns = (o->filter.since_ms - SINCE_MARGIN_MS) * 1000000LL;
	filter_subject(&j);
	snprintf(name, sizeof(name), "idwise-log %s", o->nats.durable);
	lo.name = name;
	if ((j.reader = log_reader_new()) == NULL) {
		msg("out of memory");
		return EX_OSERR;
	}
	if (o->cursor != NULL && (rc = cursor_open(&j.cursor, o->cursor)) != 0) {
		log_reader_free(j.reader);
		return rc;
	}
	j.have_cursor = o->cursor != NULL;
	if (j.have_cursor) {
		j.cursor_start = j.cursor.pos.seq;
		memcpy(j.start_hash, j.cursor.pos.hash, SHA256_LEN);
	}
	if ((rc = c->start != NULL ? c->start(c, NULL) : 0) == 0 &&
	    (rc = js_link_open(&j.link, &lo)) == 0)
		rc = run(&j);
	if (j.sub != NULL)
		natsSubscription_Destroy(j.sub);	/* not Unsubscribe: the consumer stays */
	js_link_close(j.link);
	if (j.link != NULL)
		js_link_free(j.link);
	log_reader_free(j.reader);
	if (j.have_cursor)
		cursor_close(&j.cursor);
	return rc;
}
