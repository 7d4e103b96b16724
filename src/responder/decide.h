/* SPDX-License-Identifier: ISC */
/*
 * decide.h: what a request gets and what record it would produce. A pure function of the
 * request and the config: no sockets, no files, no clock. The FastCGI shell calls
 * decide_head() before reading the body and decide_body() after.
 */
#ifndef IDW_DECIDE_H
#define IDW_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "idwise.h"
#include "util.h"

struct config;

/* The replies of idwise-fcgi(8), in the order the checks run. */
enum reply_code {
	REPLY_CONTINUE,		/* head checks passed: read the body */
	REPLY_ACCEPTED,
	REPLY_DUPLICATE,
	REPLY_CONFLICT,
	REPLY_METHOD,
	REPLY_FORBIDDEN,
	REPLY_UNAUTHORIZED,
	REPLY_TOO_LARGE,
	REPLY_BAD_LENGTH,
	REPLY_TRUNCATED,
	REPLY_MEDIA_TYPE,
	REPLY_BAD_JSON,
	REPLY_NOT_ENVELOPE,
	REPLY_UNKNOWN_EVENT,
	REPLY_UNAVAILABLE,
	REPLY_COUNT
};

struct reply_info {
	int		 status;
	const char	*name;		/* short reason, in replies and on stderr */
	const char	*label;		/* the same as a metrics label value */
};

extern const struct reply_info reply_table[REPLY_COUNT];

/* What the web server told us, as CGI variables, plus the body once read. */
struct request {
	const char		*method;		/* REQUEST_METHOD */
	const char		*content_length;	/* CONTENT_LENGTH, may be NULL */
	const char		*content_type;		/* CONTENT_TYPE, may be NULL or "" */
	const char		*remote_addr;		/* REMOTE_ADDR */
	const char		*authorization;		/* HTTP_AUTHORIZATION */
	const char		*custom_header;		/* the header of auth = header */
	const unsigned char	*body;
	size_t			 body_len;
};

#define BODY_LEN_UNKNOWN	((size_t)-1)

/*
 * Method, source, credential and size. On REPLY_CONTINUE, *want is the number of body
 * bytes to read, or BODY_LEN_UNKNOWN (no CONTENT_LENGTH, an empty one, or "-1", which
 * Caddy passes for chunked and length-less HTTP/2 bodies: read to the end, at most
 * max_body + 1 bytes).
 */
enum reply_code	decide_head(const struct config *, const struct request *, size_t *want);

/* The CONTENT_LENGTH shown in a REPLY_BAD_LENGTH line: its first bytes, escaped. */
#define LENGTH_SHOWN_MAX	32
#define LENGTH_DETAIL_LEN	(sizeof("got \"\"") + SHOWN_ESCAPED_LEN(LENGTH_SHOWN_MAX))
const char	*decide_length_detail(const struct request *, char [LENGTH_DETAIL_LEN]);

/*
 * The body: length, content type, JSON, envelope, event type. On REPLY_ACCEPTED, ev is
 * filled and must be released with event_free(); otherwise *detail says why.
 */
enum reply_code	decide_body(const struct config *, const struct request *, size_t want,
		    struct event *ev, const char **detail);

#endif
