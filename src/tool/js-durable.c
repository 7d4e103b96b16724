/* SPDX-License-Identifier: ISC */
/* js-durable.c: the durable pull consumer follow and exec --nats read through. */
#include "autoconf.h"

#include <string.h>
#include <sysexits.h>

#include "js-durable.h"
#include "util.h"

static void
consumer_config(const struct js_durable_want *w, jsConsumerConfig *cc)
{
	jsConsumerConfig_Init(cc);
	cc->Durable = w->durable;
	cc->AckPolicy = js_AckExplicit;	/* each record's own: never one for those before it */
	cc->AckWait = w->ack_wait_ns;
	cc->FilterSubject = w->filter;
	cc->MaxAckPending = w->max_ack_pending;
	cc->MaxDeliver = -1;		/* the command's --max-attempts decides */
	if (w->start_ns > 0) {
		cc->DeliverPolicy = js_DeliverByStartTime;
		cc->OptStartTime = w->start_ns;
	}
}

/* The consumer there must read what was asked: 0, or EX_CONFIG once said. */
static int
check_consumer(const struct js_durable_want *w, const jsConsumerInfo *ci)
{
	const char	*have = ci->Config->FilterSubject;

	if (have == NULL || strcmp(have, w->filter) != 0) {
		msg("durable %s of stream %s reads %s, not %s: give the same --type and --env as "
		    "when it was made, or another --durable", w->durable, w->stream,
		    have != NULL && *have != '\0' ? have : "every subject", w->filter);
		return EX_CONFIG;
	}
	if (ci->Config->AckPolicy != js_AckExplicit ||
	    ci->Config->MaxAckPending != w->max_ack_pending) {
		msg("durable %s of stream %s was made for %s: give each command a durable of "
		    "its own", w->durable, w->stream, ci->Config->AckPolicy != js_AckExplicit ?
		    "another ack policy" : w->by_batch ? "exec (one record at a time)" :
		    "follow (records by batch)");
		return EX_CONFIG;
	}
	return 0;
}

/* 0 once the consumer is there and fits; -1 and why to try again later; or the status. */
static int
ensure(struct js_link *link, const struct js_durable_want *w, char *why, size_t whylen)
{
	jsConsumerConfig	 cc;
	jsConsumerInfo		*ci = NULL;
	jsErrCode		 ec = 0;
	natsStatus		 s;
	int			 rc;

	s = js_GetConsumerInfo(&ci, js_link_ctx(link), w->stream, w->durable, NULL, &ec);
	if (s != NATS_OK && (ec == JSConsumerNotFoundErr || s == NATS_NOT_FOUND)) {
		consumer_config(w, &cc);
		s = js_AddConsumer(&ci, js_link_ctx(link), w->stream, &cc, NULL, &ec);
		if (s == NATS_OK)
			msg("stream %s: durable %s made, reading %s", w->stream, w->durable,
			    w->filter);
	}
	if (s != NATS_OK) {
		js_describe(s, ec, why, whylen);
		return -1;
	}
	rc = check_consumer(w, ci);
	jsConsumerInfo_Destroy(ci);
	return rc;
}

int
js_durable_subscribe(struct js_link *link, const struct js_durable_want *w,
    natsSubscription **sub, char *why, size_t whylen)
{
	jsSubOptions	 so;
	jsErrCode	 ec = 0;
	natsStatus	 s;
	int		 rc;

	*sub = NULL;
	if ((rc = ensure(link, w, why, whylen)) != 0)
		return rc;
	jsSubOptions_Init(&so);
	so.Stream = w->stream;
	so.Consumer = w->durable;	/* bound: the client never deletes it */
	if ((s = js_PullSubscribe(sub, js_link_ctx(link), w->filter, w->durable, NULL, &so,
	    &ec)) == NATS_OK)
		return 0;
	*sub = NULL;
	js_describe(s, ec, why, whylen);
	return -1;
}

bool
js_durable_done(struct js_link *link, const struct js_durable_want *w)
{
	jsConsumerInfo	*ci = NULL;
	bool		 done;

	if (js_GetConsumerInfo(&ci, js_link_ctx(link), w->stream, w->durable, NULL, NULL) !=
	    NATS_OK)
		return false;
	done = ci->NumPending == 0 && ci->NumAckPending == 0;
	jsConsumerInfo_Destroy(ci);
	return done;
}
