/* SPDX-License-Identifier: ISC */
/* handler.c: one request: CGI variables and body in, decision, event log, reply out. */
#include "autoconf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "config.h"
#include "decide.h"
#include "eventlog.h"
#include "handler.h"
#include "idwise.h"
#include "metrics.h"
#include "reply.h"
#include "status.h"
#include "util.h"

#define DRAIN_MAX	((size_t)64 << 20)	/* read and drop at most this of a refused body */

/* One request as it goes through: what came in, what was decided. */
struct exchange_state {
	struct request	 req;
	const char	*request_id;
	char		 own_id[48];
	char		 body_sha256[SHA256_HEX_LEN + 1];
	enum reply_code	 code;
	const char	*detail;
	char		 length_detail[LENGTH_DETAIL_LEN];
	uint64_t	 seq;
};

static void
send_reply(const struct config *cfg, const struct exchange *io, const struct exchange_state *st)
{
	char	 buf[REPLY_MAX];
	size_t	 len;

	len = reply_format(cfg, st->code, st->seq, st->detail, buf);
	/* A client that went away gets nothing; that is no error of ours. */
	(void)io->write(io->ctx, buf, len);
}

/*
 * Read the body the web server is sending, so that it never meets a closed socket while
 * it still writes (nginx would turn that into a 502), but keep none of it.
 */
static void
drain_body(const struct exchange *io, size_t want)
{
	char	 scratch[16384];
	size_t	 total = 0, chunk;
	ssize_t	 n;

	if (want == BODY_LEN_UNKNOWN || want > DRAIN_MAX)
		want = DRAIN_MAX;
	while (total < want) {
		chunk = want - total < sizeof(scratch) ? want - total : sizeof(scratch);
		if ((n = io->read(io->ctx, scratch, chunk)) <= 0)
			return;
		total += (size_t)n;
	}
}

/* want bytes, or up to max_body + 1 when the length is unknown. */
static unsigned char *
read_body(const struct config *cfg, const struct exchange *io, size_t want, size_t *got)
{
	unsigned char	*body;
	size_t		 room = want == BODY_LEN_UNKNOWN ? cfg->max_body + 1 : want;
	ssize_t		 n;

	*got = 0;
	if ((body = malloc(room + 1)) == NULL)
		return NULL;
	while (*got < room) {
		if ((n = io->read(io->ctx, body + *got, room - *got)) <= 0)
			break;
		*got += (size_t)n;
	}
	return body;
}

/* The web server's request id (nginx $request_id, Apache mod_unique_id), else our own. */
static const char *
request_id(const struct exchange *io, char *own, size_t ownlen)
{
	static atomic_ulong	 counter;
	const char		*id;

	if ((id = io->param(io->ctx, "REQUEST_ID")) != NULL && *id != '\0')
		return id;
	if ((id = io->param(io->ctx, "UNIQUE_ID")) != NULL && *id != '\0')
		return id;
	snprintf(own, ownlen, "%ld-%lu", (long)getpid(), atomic_fetch_add(&counter, 1) + 1);
	return own;
}

static void
collect_request(const struct config *cfg, const struct exchange *io,
    struct exchange_state *st)
{
	struct request	*req = &st->req;

	memset(st, 0, sizeof(*st));
	req->method = io->param(io->ctx, "REQUEST_METHOD");
	req->content_length = io->param(io->ctx, "CONTENT_LENGTH");
	req->content_type = io->param(io->ctx, "CONTENT_TYPE");
	req->remote_addr = io->param(io->ctx, "REMOTE_ADDR");
	req->authorization = io->param(io->ctx, "HTTP_AUTHORIZATION");
	if (cfg->header_param != NULL)
		req->custom_header = io->param(io->ctx, cfg->header_param);
	st->request_id = request_id(io, st->own_id, sizeof(st->own_id));
}

/* Once checked, the credential the client sent is of no more use: wipe our copy. */
static void
forget_credentials(struct request *req)
{
	if (req->authorization != NULL)
		OPENSSL_cleanse((char *)req->authorization, strlen(req->authorization));
	if (req->custom_header != NULL)
		OPENSSL_cleanse((char *)req->custom_header, strlen(req->custom_header));
	req->authorization = NULL;
	req->custom_header = NULL;
}

static enum reply_code
store_event(struct eventlog *log, const struct event *ev, uint64_t *seq)
{
	switch (eventlog_append(log, ev, seq)) {
	case APPEND_STORED:
		return REPLY_ACCEPTED;
	case APPEND_DUPLICATE:
		return REPLY_DUPLICATE;
	case APPEND_CONFLICT:
		msg("conflict: event id %s arrived again with a different body; "
		    "stored again as seq %llu", json_object_to_json_string_ext(ev->id,
		    JSON_C_TO_STRING_PLAIN), (unsigned long long)*seq);
		return REPLY_CONFLICT;
	default:
		return REPLY_UNAVAILABLE;
	}
}

static void
report(struct service *svc, const struct config *cfg, const struct exchange_state *st,
    const struct event *ev)
{
	struct decision_report	 r;
	struct metrics		*m = eventlog_metrics(svc->log);

	memset(&r, 0, sizeof(r));
	r.request_id = st->request_id;
	r.remote_addr = st->req.remote_addr;
	r.method = st->req.method;
	r.status = reply_table[st->code].status;
	r.reason = reply_table[st->code].name;
	r.detail = st->detail;
	r.body_sha256 = st->body_sha256[0] != '\0' ? st->body_sha256 : NULL;
	metrics_reply(m, st->code);
	if (st->code == REPLY_ACCEPTED || st->code == REPLY_CONFLICT)
		metrics_event(m, ev->type, ev->outcome);
	if (r.status != 200) {
		audit_reject(svc->audit, cfg, &r);
		return;
	}
	/* Serializing the id costs an allocation: only for a line that is written. */
	if (!audit_logs_accepts(cfg))
		return;
	r.seq = st->seq;
	r.id = json_object_to_json_string_ext(ev->id, JSON_C_TO_STRING_PLAIN);
	r.type = ev->type;
	audit_accept(cfg, &r);
}

/* Decide on the body, store what is accepted, and account for it. */
static void
decide_and_store(struct service *svc, const struct config *cfg, struct exchange_state *st,
    size_t want)
{
	struct event	 ev;
	unsigned char	 digest[SHA256_LEN];

	st->code = decide_body(cfg, &st->req, want, &ev, &st->detail);
	if (st->code != REPLY_ACCEPTED) {
		sha256(st->req.body, st->req.body_len, digest);
		hex_encode(digest, SHA256_LEN, st->body_sha256);
		report(svc, cfg, st, NULL);
		return;
	}
	memcpy(st->body_sha256, ev.body_sha256, sizeof(st->body_sha256));
	st->code = store_event(svc->log, &ev, &st->seq);
	report(svc, cfg, st, &ev);
	event_free(&ev);
}

void
handle_request(struct service *svc, const struct config *cfg, const struct exchange *io)
{
	struct exchange_state	 st;
	unsigned char		*body;
	size_t			 want = BODY_LEN_UNKNOWN;

	if (status_wanted(cfg, io->param(io->ctx, "REQUEST_URI"))) {
		status_serve(svc, cfg, io);
		return;
	}
	collect_request(cfg, io, &st);
	st.code = decide_head(cfg, &st.req, &want);
	forget_credentials(&st.req);
	if (st.code == REPLY_BAD_LENGTH)
		st.detail = decide_length_detail(&st.req, st.length_detail);
	if (st.code != REPLY_CONTINUE) {
		drain_body(io, want);
		report(svc, cfg, &st, NULL);
		send_reply(cfg, io, &st);
		return;
	}
	if ((body = read_body(cfg, io, want, &st.req.body_len)) == NULL) {
		st.code = REPLY_UNAVAILABLE;
		st.detail = "out of memory";
		report(svc, cfg, &st, NULL);
		send_reply(cfg, io, &st);
		return;
	}
	st.req.body = body;
	decide_and_store(svc, cfg, &st, want);
	free(body);
	send_reply(cfg, io, &st);
}
