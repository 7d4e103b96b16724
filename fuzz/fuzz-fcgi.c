/* SPDX-License-Identifier: ISC */
/*
 * fuzz-fcgi.c: the bytes of one FastCGI connection through the record layer, as the edge
 * feeds them: in reads of a size the first byte picks, each request taken, re-encoded for
 * libfcgi and parsed back. Oracles: nothing is taken past what is there, no bound is
 * passed, every answer is a well-formed record, and the re-encoding is the same request
 * without the withheld credential.
 */
#include "autoconf.h"

#include <string.h>

#include <fastcgi.h>

#include "fcgi-proto.h"
#include "fuzz.h"

static const char *const withheld[] = { "HTTP_AUTHORIZATION", NULL };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The protocol's answers: whole version 1 records with no padding. */
static void
check_answers(const struct bytes *out)
{
	size_t	 at = 0, len;

	while (at < out->len) {
		FUZZ_CHECK(out->len - at >= FCGI_HEADER_LEN, "an answer is a whole header");
		FUZZ_CHECK(out->data[at] == FCGI_VERSION_1 && out->data[at + 6] == 0,
		    "an answer is version 1 without padding");
		len = (size_t)out->data[at + 4] << 8 | out->data[at + 5];
		FUZZ_CHECK(out->len - at - FCGI_HEADER_LEN >= len, "an answer is whole");
		at += FCGI_HEADER_LEN + len;
	}
}

static size_t
kept_pairs(const struct fcgi_request *req)
{
	size_t	 n = req->npairs, len;

	if (fcgi_request_param(req, withheld[0], &len) != NULL) {
		size_t	 i;

		for (i = 0; i < req->npairs; i++)
			if (req->pairs[i].name_len == strlen(withheld[0]) &&
			    memcmp(req->params.data + req->pairs[i].name, withheld[0],
			    req->pairs[i].name_len) == 0)
				n--;
	}
	return n;
}

/* What libfcgi would be given parses back as the same request. */
static void
check_reencoding(const struct fcgi_parser *p)
{
	struct fcgi_parser	 q;
	struct bytes		 enc = { NULL, 0, 0 };
	size_t			 used;

	FUZZ_CHECK(p->req.params_done, "a request has its PARAMS");
	FUZZ_CHECK(p->req.params.len <= FCGI_PARAMS_MAX, "PARAMS bounded");
	FUZZ_CHECK(p->req.body.len <= p->body_cap, "body bounded");
	FUZZ_CHECK(fcgi_encode_request(&p->req, withheld, &enc) == 0, "re-encoded");
	fcgi_parser_init(&q, p->body_cap, 1);
	FUZZ_CHECK(fcgi_feed(&q, enc.data, enc.len, &used) == FCGI_STEP_REQUEST &&
	    used == enc.len, "the re-encoding is one whole request");
	FUZZ_CHECK(q.req.id == p->req.id && q.req.keep_conn && q.req.body_done,
	    "same id, kept, body ended");
	FUZZ_CHECK(q.req.body.len == p->req.body.len &&
	    (q.req.body.len == 0 || memcmp(q.req.body.data, p->req.body.data,
	    q.req.body.len) == 0), "same body");
	FUZZ_CHECK(q.req.npairs == kept_pairs(&p->req), "same params less the withheld");
	FUZZ_CHECK(fcgi_request_param(&q.req, withheld[0], &used) == NULL,
	    "the credential is withheld");
	fcgi_parser_free(&q);
	bytes_free(&enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fcgi_parser	 p;
	struct bytes		 in = { NULL, 0, 0 };
	enum fcgi_step		 step = FCGI_STEP_MORE;
	size_t			 chunk, at = 1, used, n;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] & 0x3f) * 16 + 1;
	fcgi_parser_init(&p, (size_t)(data[0] >> 6) * 300 + 1, 256);
	while (step == FCGI_STEP_MORE && at < size) {
		n = size - at < chunk ? size - at : chunk;
		bytes_put(&in, data + at, n);
		at += n;
		for (;;) {
			step = fcgi_feed(&p, in.data, in.len, &used);
			FUZZ_CHECK(used <= in.len, "taken no more than given");
			bytes_consume(&in, used);
			check_answers(&p.out);
			bytes_wipe(&p.out);
			if (step == FCGI_STEP_MORE)
				FUZZ_CHECK(in.len < FCGI_RECORD_MAX, "whole records are taken");
			if (step != FCGI_STEP_REQUEST)
				break;
			check_reencoding(&p);
			fcgi_parser_next(&p);
		}
	}
	if (step == FCGI_STEP_REFUSE || step == FCGI_STEP_CLOSE)
		FUZZ_CHECK(p.error != NULL, "a refusal says why");
	fcgi_parser_free(&p);
	bytes_free(&in);
	return 0;
}
