/* SPDX-License-Identifier: ISC */
/* test-fcgi-proto.c: the FastCGI record layer on hand-made byte streams. */
#include "autoconf.h"

#include <fastcgi.h>

#include "fcgi-proto.h"
#include "tap.h"

#define BODY_CAP	1025

/* A record with padding of pad bytes, each pad_byte. */
static void
rec(struct bytes *out, int type, uint16_t id, const void *content, size_t len, size_t pad,
    unsigned char pad_byte)
{
	unsigned char	 h[8] = { 1, (unsigned char)type, (unsigned char)(id >> 8),
	    (unsigned char)id, (unsigned char)(len >> 8), (unsigned char)len,
	    (unsigned char)pad, 0 };
	unsigned char	 padding[255];

	memset(padding, pad_byte, sizeof(padding));
	bytes_put(out, h, 8);
	bytes_put(out, content, len);
	bytes_put(out, padding, pad);
}

static void
begin(struct bytes *out, uint16_t id, int role, int flags)
{
	unsigned char	 b[8] = { (unsigned char)(role >> 8), (unsigned char)role,
	    (unsigned char)flags, 0, 0, 0, 0, 0 };

	rec(out, FCGI_BEGIN_REQUEST, id, b, 8, 0, 0);
}

/* NAME=VALUE in name-value form, 1-byte lengths where they fit. */
static void
pair(struct bytes *out, const char *name, const char *value)
{
	size_t		 lens[2] = { strlen(name), strlen(value) };
	unsigned char	 b[4];
	int		 i;

	for (i = 0; i < 2; i++) {
		if (lens[i] < 128) {
			b[0] = (unsigned char)lens[i];
			bytes_put(out, b, 1);
			continue;
		}
		b[0] = (unsigned char)(0x80 | lens[i] >> 24);
		b[1] = (unsigned char)(lens[i] >> 16);
		b[2] = (unsigned char)(lens[i] >> 8);
		b[3] = (unsigned char)lens[i];
		bytes_put(out, b, 4);
	}
	bytes_put(out, name, lens[0]);
	bytes_put(out, value, lens[1]);
}

/* A whole request: BEGIN, one PARAMS record of pairs, its end, STDIN body, its end. */
static void
request(struct bytes *out, uint16_t id, int flags, const char *auth, const char *body)
{
	struct bytes	 nv = { NULL, 0, 0 };

	begin(out, id, FCGI_RESPONDER, flags);
	pair(&nv, "REQUEST_METHOD", "POST");
	pair(&nv, "HTTP_AUTHORIZATION", auth);
	rec(out, FCGI_PARAMS, id, nv.data, nv.len, 3, 0);
	rec(out, FCGI_PARAMS, id, NULL, 0, 0, 0);
	if (body[0] != '\0')
		rec(out, FCGI_STDIN, id, body, strlen(body), 1, 0);
	rec(out, FCGI_STDIN, id, NULL, 0, 0, 0);
	bytes_free(&nv);
}

static enum fcgi_step
feed_all(struct fcgi_parser *p, const struct bytes *in, size_t *used)
{
	return fcgi_feed(p, in->data, in->len, used);
}

static const char *
param(const struct fcgi_parser *p, const char *name, char *buf, size_t buflen)
{
	const char	*v;
	size_t		 len;

	if ((v = fcgi_request_param(&p->req, name, &len)) == NULL || len >= buflen)
		return NULL;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return buf;
}

static void
test_get_values(void)
{
	struct fcgi_parser	 p;
	struct bytes		 in = { NULL, 0, 0 }, nv = { NULL, 0, 0 };
	size_t			 used;
	int			 i;
	static const unsigned char want[] = {
		1, FCGI_GET_VALUES_RESULT, 0, 0, 0, 19, 0, 0,
		14, 3, 'F', 'C', 'G', 'I', '_', 'M', 'A', 'X', '_', 'C', 'O', 'N', 'N', 'S',
		'2', '5', '6'
	};

	for (i = 0; i < 4; i++)
		pair(&nv, "FCGI_MAX_CONNS", "");
	rec(&in, FCGI_GET_VALUES, 0, nv.data, nv.len, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 256);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_MORE, "GET_VALUES x4: taken");
	is_int(used, in.len, "  all of it");
	ok(p.out.len == sizeof(want) && memcmp(p.out.data, want, sizeof(want)) == 0,
	    "  answered once for the name asked four times, no padding");
	fcgi_parser_free(&p);

	bytes_wipe(&in);
	bytes_wipe(&nv);
	pair(&nv, "FCGI_MPXS_CONNS", "");
	pair(&nv, "NO_SUCH_VALUE", "");
	pair(&nv, "FCGI_MAX_REQS", "");
	rec(&in, FCGI_GET_VALUES, 0, nv.data, nv.len, 5, 0xAA);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_MORE, "GET_VALUES of three names");
	ok(p.out.len == 8 + 2 + 15 + 1 + 2 + 13 + 1 &&
	    memcmp(p.out.data + 10, "FCGI_MPXS_CONNS0", 16) == 0 &&
	    memcmp(p.out.data + 28, "FCGI_MAX_REQS7", 14) == 0,
	    "  the two known ones, in the order asked");
	fcgi_parser_free(&p);

	bytes_wipe(&in);
	rec(&in, FCGI_GET_VALUES, 0, "\x7f\x01" "AB", 4, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_CLOSE, "a malformed GET_VALUES closes");
	fcgi_parser_free(&p);

	bytes_wipe(&in);
	rec(&in, 77, 0, "x", 1, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_MORE, "an unknown management record");
	ok(p.out.len == 16 && p.out.data[1] == FCGI_UNKNOWN_TYPE && p.out.data[8] == 77,
	    "  is answered FCGI_UNKNOWN_TYPE naming it");
	fcgi_parser_free(&p);
	bytes_free(&in);
	bytes_free(&nv);
}

static void
test_lengths(void)
{
	struct fcgi_parser	 p;
	struct bytes		 in = { NULL, 0, 0 };
	size_t			 used;
	static const unsigned char overflow1[] = { 0xff, 0xff, 0xff, 0xfe, 1, 'A' };
	static const unsigned char overflow2[] = { 0xc0, 0, 0, 0, 0xc0, 0, 0, 0, 'A' };

	begin(&in, 1, FCGI_RESPONDER, 0);
	rec(&in, FCGI_PARAMS, 1, overflow1, sizeof(overflow1), 0, 0);
	rec(&in, FCGI_PARAMS, 1, NULL, 0, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_REFUSE, "nameLen 0x7ffffffe + valueLen 1");
	ok(p.error != NULL && strstr(p.error, "malformed") != NULL, "  is malformed");
	fcgi_parser_free(&p);

	bytes_wipe(&in);
	begin(&in, 1, FCGI_RESPONDER, 0);
	rec(&in, FCGI_PARAMS, 1, overflow2, sizeof(overflow2), 0, 0);
	rec(&in, FCGI_PARAMS, 1, NULL, 0, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_REFUSE, "lengths 0x40000000 twice refused");
	fcgi_parser_free(&p);

	bytes_wipe(&in);
	begin(&in, 1, FCGI_RESPONDER, 0);
	rec(&in, FCGI_PARAMS, 1, "\x03\x01" "A=BC", 6, 0, 0);
	rec(&in, FCGI_PARAMS, 1, NULL, 0, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_REFUSE, "a name with '=' is refused");
	fcgi_parser_free(&p);
	bytes_free(&in);
}

static void
test_params_bound(void)
{
	struct fcgi_parser	 p;
	struct bytes		 in = { NULL, 0, 0 }, nv = { NULL, 0, 0 };
	char			 value[200];
	size_t			 used;
	int			 i;

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (i = 0; i < 200; i++)
		pair(&nv, "HTTP_X_PAD", value);
	begin(&in, 1, FCGI_RESPONDER, 0);
	for (i = 0; i < 3; i++)
		rec(&in, FCGI_PARAMS, 1, nv.data, nv.len, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_REFUSE, "PARAMS over 65536 bytes: refused");
	ok(used < in.len, "  before the whole stream is taken");
	ok(p.req.params.len <= FCGI_PARAMS_MAX, "  nothing beyond the bound is kept");
	fcgi_parser_free(&p);
	bytes_free(&in);
	bytes_free(&nv);
}

static void
test_padding(void)
{
	struct fcgi_parser	 p;
	struct bytes		 in = { NULL, 0, 0 }, nv = { NULL, 0, 0 }, hidden = { NULL, 0, 0 };
	size_t			 used;

	/* A whole STDIN record hidden in the padding of the final empty PARAMS record. */
	rec(&hidden, FCGI_STDIN, 1, "HIDDEN", 6, 0, 0);
	begin(&in, 1, FCGI_RESPONDER, 0);
	pair(&nv, "REQUEST_METHOD", "POST");
	rec(&in, FCGI_PARAMS, 1, nv.data, nv.len, 0, 0);
	{
		unsigned char	 h[8] = { 1, FCGI_PARAMS, 0, 1, 0, 0,
		    (unsigned char)hidden.len, 0 };

		bytes_put(&in, h, 8);
		bytes_put(&in, hidden.data, hidden.len);
	}
	rec(&in, FCGI_STDIN, 1, "VISIBLE", 7, 7, 'P');
	rec(&in, FCGI_STDIN, 1, NULL, 0, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_REQUEST, "padding holding a record");
	ok(p.req.body.len == 7 && memcmp(p.req.body.data, "VISIBLE", 7) == 0,
	    "  is skipped: the body is the visible STDIN");
	fcgi_parser_free(&p);
	bytes_free(&in);
	bytes_free(&nv);
	bytes_free(&hidden);
}

static void
test_pipelined(void)
{
	struct fcgi_parser	 p;
	struct bytes		 in = { NULL, 0, 0 };
	char			 buf[64];
	size_t			 used, used2;

	request(&in, 1, FCGI_KEEP_CONN, "Bearer one", "{\"n\":1}");
	request(&in, 2, FCGI_KEEP_CONN, "Bearer two", "{\"n\":2}");
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_REQUEST, "two pipelined requests: one");
	ok(used < in.len && p.req.id == 1 && p.req.keep_conn, "  the first, the rest left");
	is_str(param(&p, "HTTP_AUTHORIZATION", buf, sizeof(buf)), "Bearer one", "  its params");
	fcgi_parser_next(&p);
	is_int(fcgi_feed(&p, in.data + used, in.len - used, &used2), FCGI_STEP_REQUEST,
	    "  then the second");
	ok(used + used2 == in.len && p.req.id == 2 &&
	    p.req.body.len == 7 && memcmp(p.req.body.data, "{\"n\":2}", 7) == 0,
	    "  with its own body");
	fcgi_parser_free(&p);
	bytes_free(&in);
}

static void
test_roles_and_mpx(void)
{
	struct fcgi_parser	 p;
	struct bytes		 in = { NULL, 0, 0 };
	size_t			 used;

	begin(&in, 5, FCGI_AUTHORIZER, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_CLOSE, "role 2 without keep_conn: close");
	ok(p.out.len == 16 && p.out.data[1] == FCGI_END_REQUEST && p.out.data[3] == 5 &&
	    p.out.data[12] == FCGI_UNKNOWN_ROLE, "  after END_REQUEST FCGI_UNKNOWN_ROLE");
	fcgi_parser_free(&p);

	bytes_wipe(&in);
	begin(&in, 5, FCGI_FILTER, FCGI_KEEP_CONN);
	request(&in, 6, FCGI_KEEP_CONN, "x", "");
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_REQUEST, "role 3 with keep_conn: answered");
	ok(p.req.id == 6 && p.out.data[12] == FCGI_UNKNOWN_ROLE, "  and the next request served");
	fcgi_parser_free(&p);

	bytes_wipe(&in);
	begin(&in, 1, FCGI_RESPONDER, 0);
	begin(&in, 2, FCGI_RESPONDER, 0);
	rec(&in, FCGI_PARAMS, 2, "\x01\x01" "AB", 4, 0, 0);
	rec(&in, FCGI_PARAMS, 1, NULL, 0, 0, 0);
	rec(&in, FCGI_STDIN, 1, NULL, 0, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_REQUEST, "a second BEGIN_REQUEST");
	ok(p.out.len == 16 && p.out.data[3] == 2 && p.out.data[12] == FCGI_CANT_MPX_CONN &&
	    p.req.id == 1 && p.req.npairs == 0,
	    "  is answered FCGI_CANT_MPX_CONN; its records are ignored; the first goes on");
	fcgi_parser_free(&p);

	bytes_wipe(&in);
	begin(&in, 1, FCGI_RESPONDER, 0);
	rec(&in, FCGI_PARAMS, 1, NULL, 0, 0, 0);
	rec(&in, FCGI_ABORT_REQUEST, 1, NULL, 0, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_CLOSE, "ABORT_REQUEST: closed");
	ok(p.out.len == 16 && p.out.data[1] == FCGI_END_REQUEST && !p.active,
	    "  after END_REQUEST, nothing served");
	fcgi_parser_free(&p);
	bytes_free(&in);
}

static void
test_broken_streams(void)
{
	struct fcgi_parser	 p;
	struct bytes		 in = { NULL, 0, 0 };
	size_t			 used;

	rec(&in, FCGI_GET_VALUES, 0, NULL, 0, 0, 0);
	in.data[0] = 2;
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_CLOSE, "version 2: close");
	fcgi_parser_free(&p);

	bytes_wipe(&in);
	begin(&in, 1, FCGI_RESPONDER, 0);
	rec(&in, FCGI_STDIN, 1, "x", 1, 0, 0);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_CLOSE, "STDIN before the end of PARAMS");
	fcgi_parser_free(&p);

	bytes_wipe(&in);
	begin(&in, 1, FCGI_RESPONDER, 0);
	bytes_put(&in, "\x01\x04\x00", 3);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_MORE, "half a header: more is needed");
	is_int(used, 16, "  the whole records before it are taken");
	ok(p.active && !fcgi_request_started(&p), "  a request begun, not started");
	fcgi_parser_free(&p);
	bytes_free(&in);
}

static void
test_body_cap(void)
{
	struct fcgi_parser	 p;
	struct bytes		 in = { NULL, 0, 0 };
	char			 big[1100];
	size_t			 used;

	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	request(&in, 1, FCGI_KEEP_CONN, "x", big);
	fcgi_parser_init(&p, BODY_CAP, 7);
	is_int(feed_all(&p, &in, &used), FCGI_STEP_REQUEST, "a body over the cap");
	ok(p.req.body_over && p.req.body.len == BODY_CAP && !p.req.body_done,
	    "  is cut at the cap and marked");
	fcgi_parser_free(&p);
	bytes_free(&in);
}

static void
test_encode(void)
{
	static const char *const withheld[] = { "HTTP_AUTHORIZATION", NULL };
	struct fcgi_parser	 p, q;
	struct bytes		 in = { NULL, 0, 0 }, enc = { NULL, 0, 0 };
	struct bytes		 out = { NULL, 0, 0 }, content = { NULL, 0, 0 };
	char			 buf[64];
	size_t			 used;

	request(&in, 9, 0, "Bearer secret", "{\"a\":1}");
	fcgi_parser_init(&p, BODY_CAP, 7);
	(void)feed_all(&p, &in, &used);
	is_int(fcgi_encode_request(&p.req, withheld, &enc), 0, "re-encoded for libfcgi");
	ok(enc.data[1] == FCGI_BEGIN_REQUEST && enc.data[10] == FCGI_KEEP_CONN,
	    "  as a kept connection");
	ok(memmem(enc.data, enc.len, "secret", 6) == NULL, "  without the credential");
	fcgi_parser_init(&q, BODY_CAP, 7);
	is_int(fcgi_feed(&q, enc.data, enc.len, &used), FCGI_STEP_REQUEST,
	    "  and it parses back");
	ok(used == enc.len && q.req.id == 9 && q.req.body_done && q.req.body.len == 7,
	    "  whole, with the same id and body");
	is_str(param(&q, "REQUEST_METHOD", buf, sizeof(buf)), "POST", "  the other params kept");
	fcgi_parser_free(&q);
	bytes_wipe(&enc);
	is_int(fcgi_encode_request(&p.req, NULL, &enc), 0, "re-encoded with no params");
	ok(memmem(enc.data, enc.len, "secret", 6) == NULL &&
	    memmem(enc.data, enc.len, "REQUEST_METHOD", 14) == NULL, "  none of them in it");
	fcgi_parser_init(&q, BODY_CAP, 7);
	is_int(fcgi_feed(&q, enc.data, enc.len, &used), FCGI_STEP_REQUEST,
	    "  and it parses back");
	ok(used == enc.len && q.req.npairs == 0 && q.req.body.len == 7,
	    "  with no pair and the same body");
	fcgi_parser_free(&p);
	fcgi_parser_free(&q);

	fcgi_put_record(&out, FCGI_STDOUT, 9, "Status: 200", 11);
	fcgi_put_record(&out, FCGI_STDERR, 9, "noise", 5);
	fcgi_put_record(&out, FCGI_STDOUT, 9, "\r\n", 2);
	fcgi_put_record(&out, FCGI_STDOUT, 9, NULL, 0);
	is_int(fcgi_collect_stdout(out.data, out.len, &content), -1,
	    "output without END_REQUEST is incomplete");
	bytes_wipe(&content);
	fcgi_put_end_request(&out, 9, 0, FCGI_REQUEST_COMPLETE);
	is_int(fcgi_collect_stdout(out.data, out.len, &content), 0, "output with END_REQUEST");
	ok(content.len == 13 && memcmp(content.data, "Status: 200\r\n", 13) == 0,
	    "  gives the STDOUT content only");
	bytes_free(&in);
	bytes_free(&enc);
	bytes_free(&out);
	bytes_free(&content);
}

static void
test_consume(void)
{
	struct bytes	 b = { NULL, 0, 0 };
	unsigned char	*data;

	bytes_put(&b, "secretXY", 8);
	bytes_consume(&b, 6);
	data = b.data;
	ok(b.len == 2 && memcmp(data, "XY", 2) == 0, "consume moves the rest to the front");
	ok(memmem(data, 8, "secret", 6) == NULL && memmem(data, 8, "cret", 4) == NULL,
	    "  and no copy of the taken bytes is left in the buffer");
	bytes_free(&b);
}

int
main(void)
{
	test_get_values();
	test_lengths();
	test_params_bound();
	test_padding();
	test_pipelined();
	test_roles_and_mpx();
	test_broken_streams();
	test_body_cap();
	test_encode();
	test_consume();
	return done_testing();
}
