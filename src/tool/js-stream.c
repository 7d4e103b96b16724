/* SPDX-License-Identifier: ISC */
/*
 * js-stream.c: the JetStream stream idwise-log ship publishes to (see js-stream.h): made
 * or checked, and one message published and acknowledged.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "js-stream.h"
#include "ship-msg.h"
#include "util.h"

/* ---- the stream ---- */

static bool
covered(const jsStreamConfig *cfg, const char *prefix)
{
	int	 i;

	for (i = 0; i < cfg->SubjectsLen; i++)
		if (ship_subject_covers(cfg->Subjects[i], prefix))
			return true;
	return false;
}

/* Why the stream that is there does not do; NULL if it does. */
static const char *
misfit(const jsStreamConfig *cfg, const struct js_stream_want *want, char *why, size_t len)
{
	char	 have[32], asked[32];

	if (!covered(cfg, want->prefix)) {
		snprintf(why, len, "its subjects do not cover %s.>: add that subject to the "
		    "stream, or choose another --subject or --stream", want->prefix);
		return why;
	}
	if (cfg->Duplicates < want->duplicates) {
		ship_format_duration(cfg->Duplicates, have, sizeof(have));
		ship_format_duration(want->duplicates, asked, sizeof(asked));
		snprintf(why, len, "its duplicate window is %s, shorter than the %s asked "
		    "(--duplicate-window): widen it, or ask for less", have, asked);
		return why;
	}
	if (cfg->Sealed) {
		snprintf(why, len, "it is sealed: it takes no message");
		return why;
	}
	return NULL;
}

static enum js_ensure
check_existing(const jsStreamInfo *si, const struct js_stream_want *want)
{
	char	 why[256];

	if (misfit(si->Config, want, why, sizeof(why)) != NULL) {
		msg("stream %s: %s", want->name, why);
		return JS_ENSURE_REFUSED;
	}
	if (si->Config->Storage != js_FileStorage)
		msg("stream %s: kept in memory, not on disk: a restart of its servers loses it",
		    want->name);
	if (want->replicas != 0 && si->Config->Replicas != want->replicas)
		msg("stream %s: has %lld replicas, not the %lld asked; shipping to it as it is",
		    want->name, (long long)si->Config->Replicas, (long long)want->replicas);
	return JS_ENSURED;
}

static enum js_ensure
create(struct js_link *link, const struct js_stream_want *want, int64_t replicas,
    char *why, size_t whylen)
{
	jsStreamConfig	 cfg;
	jsStreamInfo	*si = NULL;
	jsErrCode	 ec = 0;
	natsStatus	 s;
	char		 subject[SHIP_SUBJECT_MAX], window[32];
	const char	*subjects[1] = { subject };

	snprintf(subject, sizeof(subject), "%s.>", want->prefix);
	jsStreamConfig_Init(&cfg);
	cfg.Name = want->name;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.Replicas = replicas;
	cfg.Duplicates = want->duplicates;
	if ((s = js_AddStream(&si, js_link_ctx(link), &cfg, NULL, &ec)) == NATS_OK) {
		ship_format_duration(want->duplicates, window, sizeof(window));
		msg("stream %s: made (subjects %s, file storage, %lld replicas, duplicate window "
		    "%s)", want->name, subject, (long long)replicas, window);
		jsStreamInfo_Destroy(si);
		return JS_ENSURED;
	}
	if (ec == JSStreamReplicasNotSupportedErr && want->replicas == 0 && replicas > 1)
		return create(link, want, 1, why, whylen);	/* a single server */
	if (ec == JSStreamSubjectOverlapErr) {
		msg("stream %s: cannot be made: %s.> is another stream's subject already",
		    want->name, want->prefix);
		return JS_ENSURE_REFUSED;
	}
	js_describe(s, ec, why, whylen);
	return JS_ENSURE_RETRY;
}

enum js_ensure
js_stream_ensure(struct js_link *link, const struct js_stream_want *want, char *why,
    size_t whylen)
{
	jsStreamInfo	*si = NULL;
	jsErrCode	 ec = 0;
	natsStatus	 s;
	enum js_ensure	 rc;

	s = js_GetStreamInfo(&si, js_link_ctx(link), want->name, NULL, &ec);
	if (s == NATS_OK) {
		rc = check_existing(si, want);
		jsStreamInfo_Destroy(si);
		return rc;
	}
	if (s == NATS_NOT_FOUND || ec == JSStreamNotFoundErr)
		return create(link, want, want->replicas != 0 ? want->replicas :
		    JS_REPLICAS_DEFAULT, why, whylen);
	js_describe(s, ec, why, whylen);
	return JS_ENSURE_RETRY;
}

/* ---- publishing one message ---- */

int
js_publish_sync(struct js_link *link, const char *stream, const char *subject,
    const void *data, size_t len, const char *msg_id, char *why, size_t whylen)
{
	jsPubOptions	 po;
	jsPubAck	*pa = NULL;
	jsErrCode	 ec = 0;
	natsMsg		*m = NULL;
	natsStatus	 s;

	if (len > INT32_MAX) {
		snprintf(why, whylen, "too long for one message");
		return -1;
	}
	jsPubOptions_Init(&po);
	po.MaxWait = JS_WAIT_MS;
	s = natsMsg_Create(&m, subject, NULL, data, (int)len);
	if (s == NATS_OK && msg_id != NULL)
		s = natsMsgHeader_Set(m, JS_HDR_MSG_ID, msg_id);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, JS_HDR_EXPECTED_STREAM, stream);
	if (s == NATS_OK)
		s = js_PublishMsg(&pa, js_link_ctx(link), m, &po, &ec);
	natsMsg_Destroy(m);
	jsPubAck_Destroy(pa);
	if (s == NATS_OK)
		return 0;
	js_describe(s, ec, why, whylen);
	return -1;
}

int
js_publish_checkpoint(struct js_link *link, const char *stream, const char *prefix,
    const char *note, size_t len, char *why, size_t whylen)
{
	unsigned char	 md[SHA256_LEN];
	char		 subject[SHIP_SUBJECT_MAX], id[sizeof("checkpoint-") + SHA256_HEX_LEN];

	if (ship_checkpoint_subject(subject, sizeof(subject), prefix) == -1) {
		snprintf(why, whylen, "the subject prefix is too long");
		return -1;
	}
	sha256(note, len, md);
	memcpy(id, "checkpoint-", sizeof("checkpoint-") - 1);
	hex_encode(md, SHA256_LEN, id + sizeof("checkpoint-") - 1);
	return js_publish_sync(link, stream, subject, note, len, id, why, whylen);
}
