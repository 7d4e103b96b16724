/* handler.c: one request: CGI variables and body in, decision, event log, reply out. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decide.h"
#include "eventlog.h"
#include "handler.h"
#include "idwise.h"
#include "reply.h"
#include "util.h"

#define DRAIN_MAX	((size_t)64 << 20)	/* read and drop at most this of a refused body */

static void
send_reply(const struct config *cfg, const struct exchange *io, enum reply_code code,
    uint64_t seq, const char *detail)
{
	char	 buf[REPLY_MAX];
	size_t	 len;

	len = reply_format(cfg, code, seq, detail, buf);
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

static void
collect_request(const struct config *cfg, const struct exchange *io, struct request *req)
{
	memset(req, 0, sizeof(*req));
	req->method = io->param(io->ctx, "REQUEST_METHOD");
	req->content_length = io->param(io->ctx, "CONTENT_LENGTH");
	req->content_type = io->param(io->ctx, "CONTENT_TYPE");
	req->remote_addr = io->param(io->ctx, "REMOTE_ADDR");
	req->authorization = io->param(io->ctx, "HTTP_AUTHORIZATION");
	if (cfg->header_param != NULL)
		req->custom_header = io->param(io->ctx, cfg->header_param);
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

void
handle_request(const struct config *cfg, struct eventlog *log, const struct exchange *io)
{
	struct request	 req;
	struct event	 ev;
	enum reply_code	 code;
	const char	*detail = NULL;
	unsigned char	*body;
	uint64_t	 seq = 0;
	size_t		 want = BODY_LEN_UNKNOWN;

	collect_request(cfg, io, &req);
	if ((code = decide_head(cfg, &req, &want)) != REPLY_CONTINUE) {
		drain_body(io, want);
		send_reply(cfg, io, code, 0, NULL);
		return;
	}
	if ((body = read_body(cfg, io, want, &req.body_len)) == NULL) {
		send_reply(cfg, io, REPLY_UNAVAILABLE, 0, "out of memory");
		return;
	}
	req.body = body;
	code = decide_body(cfg, &req, want, &ev, &detail);
	if (code == REPLY_ACCEPTED) {
		code = store_event(log, &ev, &seq);
		event_free(&ev);
	}
	free(body);
	send_reply(cfg, io, code, seq, detail);
}
