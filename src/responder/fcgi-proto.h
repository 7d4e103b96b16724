/* SPDX-License-Identifier: ISC */
/*
 * fcgi-proto.h: the FastCGI record layer, pure: the bytes a connection sends in, complete
 * and checked requests and the protocol's own answers out; no sockets, no clock. Every
 * byte a client sends passes through here before libfcgi or the handler sees anything.
 */
#ifndef IDW_FCGI_PROTO_H
#define IDW_FCGI_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FCGI_PARAMS_MAX		65536	/* the name-value bytes of one request's PARAMS */
#define FCGI_RECORD_MAX		(8 + 65535 + 255)

/* A growable byte buffer. */
struct bytes {
	unsigned char	*data;
	size_t		 len, cap;
};

int	bytes_put(struct bytes *, const void *, size_t);	/* 0, or -1 out of memory */
void	bytes_wipe(struct bytes *);	/* cleanse the bytes in use, keep the room */
/* Drop the first n bytes, cleansed; the rest moves to the front. */
void	bytes_consume(struct bytes *, size_t n);
void	bytes_free(struct bytes *);	/* cleanse and release */

struct fcgi_pair {
	size_t		 name, name_len;	/* offsets into fcgi_request.params */
	size_t		 value, value_len;
};

/* One request as the record layer assembles it. */
struct fcgi_request {
	uint16_t		 id;
	bool			 keep_conn;
	struct bytes		 params;	/* the raw name-value stream */
	struct fcgi_pair	*pairs;		/* once PARAMS ended */
	size_t			 npairs, pairs_cap;
	struct bytes		 body;		/* STDIN, at most body_cap bytes */
	bool			 params_done;	/* the empty PARAMS record came */
	bool			 body_done;	/* the empty STDIN record came */
	bool			 body_over;	/* more STDIN than body_cap: answer, then close */
};

enum fcgi_step {
	FCGI_STEP_MORE,		/* all whole records taken; more bytes are needed */
	FCGI_STEP_REQUEST,	/* parser.req is complete: serve it, then fcgi_parser_next() */
	FCGI_STEP_REFUSE,	/* the request cannot be served (parser.error says why):
				   answer 400 and close */
	FCGI_STEP_CLOSE,	/* the stream is not FastCGI we serve: close at once */
};

struct fcgi_parser {
	size_t			 body_cap;	/* max_body + 1 */
	unsigned		 max_conns;	/* what FCGI_MAX_CONNS answers */
	bool			 active;	/* a BEGIN_REQUEST is being served */
	struct fcgi_request	 req;
	struct bytes		 out;		/* protocol answers to write, in order */
	const char		*error;		/* for REFUSE and CLOSE */
};

void	fcgi_parser_init(struct fcgi_parser *, size_t body_cap, unsigned max_conns);
void	fcgi_parser_free(struct fcgi_parser *);
/* After a served request: forget it (its bytes wiped), ready for the next one. */
void	fcgi_parser_next(struct fcgi_parser *);

/*
 * Take whole records from buf[0..len): *used is how many bytes were taken (a partial
 * record at the end is left). Stops at the first complete request. Answers the protocol
 * asks for (FCGI_GET_VALUES_RESULT, FCGI_UNKNOWN_TYPE, END_REQUEST for a role we do not
 * play or a second request on the connection) are appended to parser.out.
 */
enum fcgi_step	fcgi_feed(struct fcgi_parser *, const unsigned char *buf, size_t len,
		    size_t *used);

/* True once a request has begun and its PARAMS are complete (worth answering). */
bool	fcgi_request_started(const struct fcgi_parser *);

/* The value of NAME in a complete request, as a length-counted string; NULL if absent. */
const char *fcgi_request_param(const struct fcgi_request *, const char *name, size_t *len);

/* Append one record (content split at 65535 bytes, no padding) to out. */
int	fcgi_put_record(struct bytes *out, int type, uint16_t id, const void *, size_t);
int	fcgi_put_end_request(struct bytes *out, uint16_t id, uint32_t app_status,
	    int protocol_status);

/*
 * The request re-encoded for libfcgi: BEGIN_REQUEST (responder, keep the connection),
 * PARAMS without the names in withheld (NULL-terminated; withheld NULL: no params at all),
 * STDIN, each ended by an empty record. Only what fcgi_feed() accepted goes in, with no
 * padding.
 */
int	fcgi_encode_request(const struct fcgi_request *, const char *const *withheld,
	    struct bytes *out);

/*
 * The STDOUT content of a responder's output records in buf[0..len) (libfcgi's), appended
 * to content. 0 once an END_REQUEST is found, -1 if the records are malformed or incomplete.
 */
int	fcgi_collect_stdout(const unsigned char *buf, size_t len, struct bytes *content);

#endif
