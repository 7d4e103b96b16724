/* SPDX-License-Identifier: ISC */
/*
 * fcgi-proto.c: the FastCGI record layer (see fcgi-proto.h). Whole records only, lengths
 * checked in size_t before anything is kept, padding skipped, PARAMS bounded, one request
 * per connection at a time. Nothing here reads a socket or a clock.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <fastcgi.h>

#include "fcgi-proto.h"
#include "util.h"

#define OUT_MAX		65536	/* protocol answers pending before the client is given up */
#define STDIN_CHUNK	32768	/* content of one re-encoded STDIN record */

/* --- byte buffers -------------------------------------------------------------------- */

int
bytes_put(struct bytes *b, const void *src, size_t len)
{
	unsigned char	*grown;
	size_t		 cap;

	if (len > b->cap - b->len) {
		if (len > SIZE_MAX / 4 - b->len)
			return -1;
		cap = b->cap > 0 ? b->cap : 256;
		while (cap - b->len < len)
			cap *= 2;
		if ((grown = malloc(cap)) == NULL)
			return -1;
		if (b->len > 0) {
			memcpy(grown, b->data, b->len);
			OPENSSL_cleanse(b->data, b->len);
		}
		free(b->data);
		b->data = grown;
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->data + b->len, src, len);
	b->len += len;
	return 0;
}

void
bytes_wipe(struct bytes *b)
{
	if (b->len > 0)
		OPENSSL_cleanse(b->data, b->len);
	b->len = 0;
}

void
bytes_consume(struct bytes *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	if (n == 0)
		return;
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	OPENSSL_cleanse(b->data + b->len, n);	/* the tail's old copy, or the taken bytes */
}

void
bytes_free(struct bytes *b)
{
	bytes_wipe(b);
	free(b->data);
	b->data = NULL;
	b->cap = 0;
}

/* --- the parser and its request ------------------------------------------------------ */

static void
request_clear(struct fcgi_request *req)
{
	bytes_free(&req->params);
	bytes_free(&req->body);
	free(req->pairs);
	memset(req, 0, sizeof(*req));
}

void
fcgi_parser_init(struct fcgi_parser *p, size_t body_cap, unsigned max_conns)
{
	memset(p, 0, sizeof(*p));
	p->body_cap = body_cap;
	p->max_conns = max_conns;
}

void
fcgi_parser_free(struct fcgi_parser *p)
{
	request_clear(&p->req);
	bytes_free(&p->out);
	p->active = false;
}

void
fcgi_parser_next(struct fcgi_parser *p)
{
	request_clear(&p->req);
	p->active = false;
	p->error = NULL;
}

bool
fcgi_request_started(const struct fcgi_parser *p)
{
	return p->active && p->req.params_done;
}

/* --- writing records ----------------------------------------------------------------- */

static void
put_header(unsigned char h[FCGI_HEADER_LEN], int type, uint16_t id, size_t len)
{
	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = 0;		/* no padding */
	h[7] = 0;
}

int
fcgi_put_record(struct bytes *out, int type, uint16_t id, const void *content, size_t len)
{
	const unsigned char	*at = content;
	unsigned char		 h[FCGI_HEADER_LEN];
	size_t			 chunk;

	do {
		chunk = len > FCGI_MAX_LENGTH ? FCGI_MAX_LENGTH : len;
		put_header(h, type, id, chunk);
		if (bytes_put(out, h, sizeof(h)) == -1 || bytes_put(out, at, chunk) == -1)
			return -1;
		if (chunk == 0)
			break;		/* an empty record: the end of a stream */
		at += chunk;
		len -= chunk;
	} while (len > 0);
	return 0;
}

int
fcgi_put_end_request(struct bytes *out, uint16_t id, uint32_t app_status, int protocol_status)
{
	unsigned char	 body[8] = {
		(unsigned char)(app_status >> 24), (unsigned char)(app_status >> 16),
		(unsigned char)(app_status >> 8), (unsigned char)app_status,
		(unsigned char)protocol_status, 0, 0, 0
	};

	return fcgi_put_record(out, FCGI_END_REQUEST, id, body, sizeof(body));
}

/* --- name-value pairs ---------------------------------------------------------------- */

/* A name-value length: one byte below 0x80, else four with the top bit cleared. */
static int
read_length(const unsigned char *buf, size_t len, size_t *pos, size_t *value)
{
	if (*pos >= len)
		return -1;
	if (buf[*pos] < 0x80) {
		*value = buf[*pos];
		*pos += 1;
		return 0;
	}
	if (len - *pos < 4)
		return -1;
	*value = (size_t)(buf[*pos] & 0x7f) << 24 | (size_t)buf[*pos + 1] << 16 |
	    (size_t)buf[*pos + 2] << 8 | (size_t)buf[*pos + 3];
	*pos += 4;
	return 0;
}

/* The next pair of buf[0..len) at *pos: its name and value as offsets into buf. */
static int
next_pair(const unsigned char *buf, size_t len, size_t *pos, struct fcgi_pair *pair)
{
	size_t	 name_len, value_len;

	if (read_length(buf, len, pos, &name_len) == -1 ||
	    read_length(buf, len, pos, &value_len) == -1)
		return -1;
	if (name_len > len - *pos || value_len > len - *pos - name_len)
		return -1;
	pair->name = *pos;
	pair->name_len = name_len;
	pair->value = *pos + name_len;
	pair->value_len = value_len;
	*pos += name_len + value_len;
	return 0;
}

/* A name libfcgi and CGI can carry: not empty, no '=' and no NUL; a value without NUL. */
static bool
pair_fits(const unsigned char *buf, const struct fcgi_pair *pair)
{
	if (pair->name_len == 0 || memchr(buf + pair->name, '=', pair->name_len) != NULL ||
	    memchr(buf + pair->name, '\0', pair->name_len) != NULL)
		return false;
	return memchr(buf + pair->value, '\0', pair->value_len) == NULL;
}

static int
add_pair(struct fcgi_request *req, const struct fcgi_pair *pair)
{
	struct fcgi_pair	*grown;
	size_t			 cap;

	if (req->npairs == req->pairs_cap) {
		cap = req->pairs_cap > 0 ? req->pairs_cap * 2 : 32;
		if ((grown = realloc(req->pairs, cap * sizeof(*grown))) == NULL)
			return -1;
		req->pairs = grown;
		req->pairs_cap = cap;
	}
	req->pairs[req->npairs++] = *pair;
	return 0;
}

/* The PARAMS stream ended: index its pairs. */
static const char *
index_params(struct fcgi_request *req)
{
	struct fcgi_pair	 pair;
	size_t			 pos = 0;

	while (pos < req->params.len) {
		if (next_pair(req->params.data, req->params.len, &pos, &pair) == -1)
			return "malformed FastCGI parameters";
		if (!pair_fits(req->params.data, &pair))
			return "a FastCGI parameter with '=' or NUL in its name or NUL in its value";
		if (add_pair(req, &pair) == -1)
			return "out of memory";
	}
	req->params_done = true;
	return NULL;
}

const char *
fcgi_request_param(const struct fcgi_request *req, const char *name, size_t *len)
{
	size_t	 i, name_len = strlen(name);

	for (i = 0; i < req->npairs; i++) {
		const struct fcgi_pair	*pair = &req->pairs[i];

		if (pair->name_len == name_len &&
		    memcmp(req->params.data + pair->name, name, name_len) == 0) {
			*len = pair->value_len;
			return (const char *)req->params.data + pair->value;
		}
	}
	return NULL;
}

/* --- management records -------------------------------------------------------------- */

static const struct {
	const char	*name;
	int		 kind;		/* 0 MAX_CONNS, 1 MAX_REQS, 2 MPXS_CONNS */
} known_values[] = {
	{ FCGI_MAX_CONNS, 0 },
	{ FCGI_MAX_REQS, 1 },
	{ FCGI_MPXS_CONNS, 2 },
};
#define KNOWN_VALUES	nitems(known_values)

/* Append NAME and VALUE (both short) in name-value form. */
static void
put_short_pair(unsigned char *out, size_t *at, const char *name, const char *value)
{
	size_t	 name_len = strlen(name), value_len = strlen(value);

	out[(*at)++] = (unsigned char)name_len;
	out[(*at)++] = (unsigned char)value_len;
	memcpy(out + *at, name, name_len);
	*at += name_len;
	memcpy(out + *at, value, value_len);
	*at += value_len;
}

/* FCGI_GET_VALUES: each known name asked for answered once; -1 if malformed. */
static int
answer_get_values(struct fcgi_parser *p, const unsigned char *c, size_t len)
{
	unsigned char		 result[128];
	char			 conns[16];
	const char		*value;
	struct fcgi_pair	 pair;
	bool			 given[KNOWN_VALUES] = { false };
	size_t			 pos = 0, at = 0, k;

	snprintf(conns, sizeof(conns), "%u", p->max_conns);
	while (pos < len) {
		if (next_pair(c, len, &pos, &pair) == -1)
			return -1;
		for (k = 0; k < KNOWN_VALUES; k++) {
			if (given[k] || pair.name_len != strlen(known_values[k].name) ||
			    memcmp(c + pair.name, known_values[k].name, pair.name_len) != 0)
				continue;
			value = known_values[k].kind == 2 ? "0" : conns;
			put_short_pair(result, &at, known_values[k].name, value);
			given[k] = true;
		}
	}
	return fcgi_put_record(&p->out, FCGI_GET_VALUES_RESULT, FCGI_NULL_REQUEST_ID,
	    result, at);
}

static int
answer_unknown_type(struct fcgi_parser *p, int type, uint16_t id)
{
	unsigned char	 body[8] = { (unsigned char)type, 0, 0, 0, 0, 0, 0, 0 };

	return fcgi_put_record(&p->out, FCGI_UNKNOWN_TYPE, id, body, sizeof(body));
}

/* --- reading records ----------------------------------------------------------------- */

static enum fcgi_step
fail(struct fcgi_parser *p, enum fcgi_step step, const char *why)
{
	p->error = why;
	return step;
}

static enum fcgi_step
take_management(struct fcgi_parser *p, int type, const unsigned char *c, size_t len)
{
	if (type != FCGI_GET_VALUES)
		return answer_unknown_type(p, type, FCGI_NULL_REQUEST_ID) == -1 ?
		    fail(p, FCGI_STEP_CLOSE, "out of memory") : FCGI_STEP_MORE;
	if (answer_get_values(p, c, len) == -1)
		return fail(p, FCGI_STEP_CLOSE, "malformed FCGI_GET_VALUES");
	return FCGI_STEP_MORE;
}

static enum fcgi_step
take_begin(struct fcgi_parser *p, uint16_t id, const unsigned char *c, size_t len)
{
	int	 role;
	bool	 keep;

	if (len < 8)
		return fail(p, FCGI_STEP_CLOSE, "short BEGIN_REQUEST record");
	role = c[0] << 8 | c[1];
	keep = (c[2] & FCGI_KEEP_CONN) != 0;
	if (p->active && id == p->req.id)
		return fail(p, FCGI_STEP_CLOSE, "BEGIN_REQUEST twice for one request");
	if (p->active) {
		if (fcgi_put_end_request(&p->out, id, 0, FCGI_CANT_MPX_CONN) == -1)
			return fail(p, FCGI_STEP_CLOSE, "out of memory");
		return FCGI_STEP_MORE;
	}
	if (role != FCGI_RESPONDER) {
		if (fcgi_put_end_request(&p->out, id, 0, FCGI_UNKNOWN_ROLE) == -1)
			return fail(p, FCGI_STEP_CLOSE, "out of memory");
		return keep ? FCGI_STEP_MORE :
		    fail(p, FCGI_STEP_CLOSE, "a role other than responder");
	}
	p->active = true;
	p->req.id = id;
	p->req.keep_conn = keep;
	return FCGI_STEP_MORE;
}

static enum fcgi_step
take_abort(struct fcgi_parser *p)
{
	bool	 keep = p->req.keep_conn;

	if (fcgi_put_end_request(&p->out, p->req.id, 0, FCGI_REQUEST_COMPLETE) == -1)
		return fail(p, FCGI_STEP_CLOSE, "out of memory");
	fcgi_parser_next(p);
	return keep ? FCGI_STEP_MORE : fail(p, FCGI_STEP_CLOSE, "request aborted");
}

static enum fcgi_step
take_params(struct fcgi_parser *p, const unsigned char *c, size_t len)
{
	const char	*why;

	if (p->req.params_done)
		return fail(p, FCGI_STEP_CLOSE, "PARAMS after the end of PARAMS");
	if (len == 0) {
		if ((why = index_params(&p->req)) != NULL)
			return fail(p, FCGI_STEP_REFUSE, why);
		return FCGI_STEP_MORE;
	}
	if (len > FCGI_PARAMS_MAX - p->req.params.len)
		return fail(p, FCGI_STEP_REFUSE, "FastCGI parameters over 65536 bytes");
	if (bytes_put(&p->req.params, c, len) == -1)
		return fail(p, FCGI_STEP_REFUSE, "out of memory");
	return FCGI_STEP_MORE;
}

static enum fcgi_step
take_stdin(struct fcgi_parser *p, const unsigned char *c, size_t len)
{
	size_t	 room = p->body_cap - p->req.body.len;

	if (!p->req.params_done)
		return fail(p, FCGI_STEP_CLOSE, "STDIN before the end of PARAMS");
	if (len == 0) {
		p->req.body_done = true;
		return FCGI_STEP_REQUEST;
	}
	if (len > room) {
		len = room;
		p->req.body_over = true;
	}
	if (bytes_put(&p->req.body, c, len) == -1)
		return fail(p, FCGI_STEP_REFUSE, "out of memory");
	return p->req.body_over ? FCGI_STEP_REQUEST : FCGI_STEP_MORE;
}

static enum fcgi_step
take_record(struct fcgi_parser *p, int type, uint16_t id, const unsigned char *c, size_t len)
{
	bool	 ours = p->active && id == p->req.id;

	if (id == FCGI_NULL_REQUEST_ID)
		return take_management(p, type, c, len);
	switch (type) {
	case FCGI_BEGIN_REQUEST:
		return take_begin(p, id, c, len);
	case FCGI_ABORT_REQUEST:
		return ours ? take_abort(p) : FCGI_STEP_MORE;
	case FCGI_PARAMS:
		return ours ? take_params(p, c, len) : FCGI_STEP_MORE;
	case FCGI_STDIN:
		return ours ? take_stdin(p, c, len) : FCGI_STEP_MORE;
	case FCGI_DATA:
		return FCGI_STEP_MORE;		/* a responder has no DATA stream */
	default:
		return answer_unknown_type(p, type, id) == -1 ?
		    fail(p, FCGI_STEP_CLOSE, "out of memory") : FCGI_STEP_MORE;
	}
}

enum fcgi_step
fcgi_feed(struct fcgi_parser *p, const unsigned char *buf, size_t len, size_t *used)
{
	const unsigned char	*h;
	enum fcgi_step		 step;
	size_t			 content_len, total;

	*used = 0;
	while (len - *used >= FCGI_HEADER_LEN) {
		h = buf + *used;
		if (h[0] != FCGI_VERSION_1)
			return fail(p, FCGI_STEP_CLOSE, "not a FastCGI version 1 record");
		content_len = (size_t)h[4] << 8 | h[5];
		total = FCGI_HEADER_LEN + content_len + h[6];
		if (len - *used < total)
			break;
		*used += total;
		step = take_record(p, h[1], (uint16_t)(h[2] << 8 | h[3]), h + FCGI_HEADER_LEN,
		    content_len);
		if (step == FCGI_STEP_MORE && p->out.len > OUT_MAX)
			return fail(p, FCGI_STEP_CLOSE, "the client does not read its answers");
		if (step != FCGI_STEP_MORE)
			return step;
	}
	return FCGI_STEP_MORE;
}

/* --- re-encoding a request for libfcgi ----------------------------------------------- */

static bool
withheld_name(const char *const *withheld, const unsigned char *name, size_t len)
{
	for (; withheld != NULL && *withheld != NULL; withheld++)
		if (strlen(*withheld) == len && memcmp(*withheld, name, len) == 0)
			return true;
	return false;
}

static int
put_length(struct bytes *out, size_t len)
{
	unsigned char	 b[4] = {
		(unsigned char)(len >> 24 | 0x80), (unsigned char)(len >> 16),
		(unsigned char)(len >> 8), (unsigned char)len
	};

	if (len < 0x80) {
		b[0] = (unsigned char)len;
		return bytes_put(out, b, 1);
	}
	return bytes_put(out, b, sizeof(b));
}

static int
encode_params(const struct fcgi_request *req, const char *const *withheld, struct bytes *nv)
{
	const unsigned char	*base = req->params.data;
	size_t			 i;

	for (i = 0; i < req->npairs; i++) {
		const struct fcgi_pair	*pair = &req->pairs[i];

		if (withheld_name(withheld, base + pair->name, pair->name_len))
			continue;
		if (put_length(nv, pair->name_len) == -1 ||
		    put_length(nv, pair->value_len) == -1 ||
		    bytes_put(nv, base + pair->name, pair->name_len) == -1 ||
		    bytes_put(nv, base + pair->value, pair->value_len) == -1)
			return -1;
	}
	return 0;
}

static int
put_stream(struct bytes *out, int type, uint16_t id, const struct bytes *content)
{
	size_t	 at, chunk;

	for (at = 0; at < content->len; at += chunk) {
		chunk = content->len - at > STDIN_CHUNK ? STDIN_CHUNK : content->len - at;
		if (fcgi_put_record(out, type, id, content->data + at, chunk) == -1)
			return -1;
	}
	return fcgi_put_record(out, type, id, NULL, 0);
}

int
fcgi_encode_request(const struct fcgi_request *req, const char *const *withheld,
    struct bytes *out)
{
	unsigned char	 begin[8] = { 0, FCGI_RESPONDER, FCGI_KEEP_CONN, 0, 0, 0, 0, 0 };
	struct bytes	 nv = { NULL, 0, 0 };
	int		 rc = -1;

	if (fcgi_put_record(out, FCGI_BEGIN_REQUEST, req->id, begin, sizeof(begin)) == -1)
		return -1;
	if ((withheld == NULL || encode_params(req, withheld, &nv) == 0) &&
	    put_stream(out, FCGI_PARAMS, req->id, &nv) == 0 &&
	    put_stream(out, FCGI_STDIN, req->id, &req->body) == 0)
		rc = 0;
	bytes_free(&nv);
	return rc;
}

/* --- reading libfcgi's output -------------------------------------------------------- */

int
fcgi_collect_stdout(const unsigned char *buf, size_t len, struct bytes *content)
{
	size_t	 at = 0, content_len, total;

	while (len - at >= FCGI_HEADER_LEN) {
		const unsigned char	*h = buf + at;

		content_len = (size_t)h[4] << 8 | h[5];
		total = FCGI_HEADER_LEN + content_len + h[6];
		if (h[0] != FCGI_VERSION_1 || len - at < total)
			return -1;
		if (h[1] == FCGI_END_REQUEST)
			return 0;
		if (h[1] == FCGI_STDOUT &&
		    bytes_put(content, h + FCGI_HEADER_LEN, content_len) == -1)
			return -1;
		at += total;
	}
	return -1;
}
