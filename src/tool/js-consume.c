/* SPDX-License-Identifier: ISC */
/*
 * js-consume.c: follow and exec over a JetStream stream (see js-consume.h). The durable
 * consumer is made on the first start and found again after; its acknowledgements are
 * waited for, and tried again through a broker outage, so that a record the command
 * handled is not handed out again (it would be only if the ack never got through).
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "idwise-log.h"
#include "js-consume.h"
#include "js-stream.h"
#include "log-check.h"
#include "log-consume.h"
#include "ship-msg.h"
#include "util.h"

#define FETCH_MS	1000		/* a fetch's wait: stop signals are looked at after it */
#define RETRY_MS	1000		/* between tries while the broker is away */
#define ACK_WAIT_NS	(300LL * 1000000000LL)	/* before the stream hands a record out again */
#define ACK_TRIES_MS	(240LL * 1000)	/* acks are tried again for most of that time */
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
	bool				 ack_all;	/* a batch's last ack answers for it */
	bool				 down;		/* said so */
};

/* ---- checking the options ---- */

int
js_consume_check(const struct consume_opts *o)
{
	const struct js_consume_opts	*n = &o->nats;

	if (o->log != NULL || o->cursor != NULL || o->from_seq != 0) {
		msg("with --nats, no LOG, --cursor or --from-seq: the durable consumer is the "
		    "cursor");
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

/* ---- the durable consumer ---- */

static void
consumer_config(struct jsc *j, jsConsumerConfig *cc)
{
	jsConsumerConfig_Init(cc);
	cc->Durable = j->o->nats.durable;
	cc->AckPolicy = j->ack_all ? js_AckAll : js_AckExplicit;
	cc->AckWait = ACK_WAIT_NS;
	cc->FilterSubject = j->filter;
	cc->MaxAckPending = j->c->batch > 0 ? j->c->batch : 1;
	cc->MaxDeliver = -1;		/* the command's --max-attempts decides */
	if (j->o->filter.have_since) {
		cc->DeliverPolicy = js_DeliverByStartTime;
		cc->OptStartTime = (j->o->filter.since_ms - SINCE_MARGIN_MS) * 1000000LL;
	}
}

/* The consumer there must read what was asked: 0, or EX_CONFIG once said. */
static int
check_consumer(struct jsc *j, const jsConsumerInfo *ci)
{
	const char	*have = ci->Config->FilterSubject;

	if (have == NULL || strcmp(have, j->filter) != 0) {
		msg("durable %s of stream %s reads %s, not %s: give the same --type and --env as "
		    "when it was made, or another --durable", j->o->nats.durable,
		    j->o->nats.stream, have != NULL && *have != '\0' ? have : "every subject",
		    j->filter);
		return EX_CONFIG;
	}
	if (ci->Config->AckPolicy != (j->ack_all ? js_AckAll : js_AckExplicit)) {
		msg("durable %s of stream %s was made for %s: give each command a durable of "
		    "its own", j->o->nats.durable, j->o->nats.stream,
		    j->ack_all ? "exec (acks one by one)" : "follow (acks by batch)");
		return EX_CONFIG;
	}
	return 0;
}

/* 0 once the consumer is there and fits; -1 and why to try again later; or the status. */
static int
ensure_consumer(struct jsc *j, char *why, size_t whylen)
{
	jsConsumerConfig	 cc;
	jsConsumerInfo		*ci = NULL;
	jsErrCode		 ec = 0;
	natsStatus		 s;
	int			 rc;

	s = js_GetConsumerInfo(&ci, js_link_ctx(j->link), j->o->nats.stream,
	    j->o->nats.durable, NULL, &ec);
	if (s != NATS_OK && (ec == JSConsumerNotFoundErr || s == NATS_NOT_FOUND)) {
		consumer_config(j, &cc);
		s = js_AddConsumer(&ci, js_link_ctx(j->link), j->o->nats.stream, &cc, NULL, &ec);
		if (s == NATS_OK)
			msg("stream %s: durable %s made, reading %s", j->o->nats.stream,
			    j->o->nats.durable, j->filter);
	}
	if (s != NATS_OK) {
		js_describe(s, ec, why, whylen);
		return -1;
	}
	rc = check_consumer(j, ci);
	jsConsumerInfo_Destroy(ci);
	return rc;
}

static int
subscribe(struct jsc *j, char *why, size_t whylen)
{
	jsSubOptions	 so;
	jsErrCode	 ec = 0;
	natsStatus	 s;
	int		 rc;

	if ((rc = ensure_consumer(j, why, whylen)) != 0)
		return rc;
	jsSubOptions_Init(&so);
	so.Stream = j->o->nats.stream;
	so.Consumer = j->o->nats.durable;	/* bound: the client never deletes it */
	s = js_PullSubscribe(&j->sub, js_link_ctx(j->link), j->filter, j->o->nats.durable,
	    NULL, &so, &ec);
	if (s == NATS_OK)
		return 0;
	j->sub = NULL;
	js_describe(s, ec, why, whylen);
	return -1;
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
		    (rc = subscribe(j, why, sizeof(why))) == 0) {
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

/*
 * What the command said, told to the stream: 0 to go on, -1 to stop (status in c). With
 * ack_all, a record done is acknowledged with the rest of its batch (fetch).
 */
static int
answer(struct jsc *j, natsMsg *m, uint64_t seq, enum act a)
{
	struct out_pos	 out;
	int		 rc;

	switch (a) {
	case ACT_DONE:
		if (j->ack_all)
			return 0;
		memset(&out, 0, sizeof(out));
		if (j->c->before_save != NULL && (rc = j->c->before_save(j->c, &out)) != 0) {
			j->c->status = rc;
			return -1;
		}
		ack(j, m, seq);
		return 0;
	case ACT_GIVE_UP:
		natsMsg_Term(m, NULL);
		return 0;
	case ACT_RETRY:
		natsMsg_NakWithDelay(m, j->c->retry_ms, NULL);
		return 0;
	default:
		natsMsg_Nak(m, NULL);	/* for the next start, or another consumer, at once */
		return -1;
	}
}

/* A message that is no record: a checkpoint is passed over quietly, anything else said. */
static void
not_a_record(struct jsc *j, natsMsg *m, uint64_t seq, const char *why)
{
	const char	*subject = natsMsg_GetSubject(m);
	size_t		 n = strlen(subject), k = strlen(CHECKPOINTS);

	if (n < k || strcmp(subject + n - k, CHECKPOINTS) != 0)
		msg("stream %s seq %" PRIu64 " (%s): not a record (%s); passed over",
		    j->o->nats.stream, seq, subject, why);
	if (!j->ack_all)
		ack(j, m, seq);
}

static int
handle(struct jsc *j, natsMsg *m)
{
	struct log_record	 rec;
	struct stream_rec	 sr;
	jsMsgMetaData		*meta = NULL;
	char			 why[160];
	uint64_t		 seq = 0;
	int			 rc = 0;

	if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
		msg("stream %s: a message without JetStream metadata; passed over",
		    j->o->nats.stream);
		return 0;
	}
	seq = meta->Sequence.Stream;
	sr.line = natsMsg_GetData(m);
	sr.len = (size_t)natsMsg_GetDataLength(m);
	if (log_record_read(j->reader, sr.line, sr.len, &rec, why, sizeof(why)) == -1) {
		not_a_record(j, m, seq, why);
	} else {
		sr.view = rec.view;
		j->c->delivery = meta->NumDelivered > 0 ? meta->NumDelivered : 1;
		if (!filter_match(&j->o->filter, &sr.view)) {
			if (!j->ack_all)
				ack(j, m, seq);
		} else
			rc = answer(j, m, seq, j->c->act(j->c, &sr));
		log_record_free(&rec);
	}
	jsMsgMetaData_Destroy(meta);
	return rc;
}

/* ---- the loop ---- */

/* --once: has the consumer handed out every record there is, and had them all answered? */
static bool
all_done(struct jsc *j)
{
	jsConsumerInfo	*ci = NULL;
	bool		 done;

	if (js_GetConsumerInfo(&ci, js_link_ctx(j->link), j->o->nats.stream,
	    j->o->nats.durable, NULL, NULL) != NATS_OK)
		return false;
	done = ci->NumPending == 0 && ci->NumAckPending == 0;
	jsConsumerInfo_Destroy(ci);
	return done;
}

/* ack_all: what the batch printed is on disk (before_save), then its last ack; or the status. */
static int
batch_done(struct jsc *j, natsMsg *last)
{
	struct out_pos	 out;
	int		 rc;

	jsMsgMetaData	*meta = NULL;
	uint64_t	 seq = 0;

	memset(&out, 0, sizeof(out));
	if (j->c->before_save != NULL && (rc = j->c->before_save(j->c, &out)) != 0)
		return rc;
	if (natsMsg_GetMetaData(&meta, last) == NATS_OK) {
		seq = meta->Sequence.Stream;
		jsMsgMetaData_Destroy(meta);
	}
	ack(j, last, seq);
	return 0;
}

/* One fetch and its messages: 0 to go on, 1 at the end (--once), -1 to stop. */
static int
fetch(struct jsc *j)
{
	natsMsgList	 list;
	jsErrCode	 ec = 0;
	natsStatus	 s;
	char		 why[256];
	int		 i, rc = 0, rc2;

	s = natsSubscription_Fetch(&list, j->sub, j->c->batch > 0 ? (int)j->c->batch : 1,
	    FETCH_MS, &ec);
	if (s == NATS_TIMEOUT)
		return j->o->once && all_done(j) ? 1 : 0;
	if (s != NATS_OK) {
		js_describe(s, ec, why, sizeof(why));
		say_down(j, why);
		consume_pause(RETRY_MS);
		return 0;
	}
	say_up(j);
	for (i = 0; i < list.Count && (rc = handle(j, list.Msgs[i])) == 0; i++)
		;
	/* With ack_all, the last one done answers for those before it, once on disk. */
	if (j->ack_all && i > 0 && (rc2 = batch_done(j, list.Msgs[i - 1])) != 0) {
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
	while (!consume_stopping() && (rc = fetch(j)) == 0)
		;
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
	j.ack_all = c->batch > 1;
	filter_subject(&j);
	snprintf(name, sizeof(name), "idwise-log %s", o->nats.durable);
	lo.name = name;
	if ((j.reader = log_reader_new()) == NULL) {
		msg("out of memory");
		return EX_OSERR;
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
	return rc;
}
