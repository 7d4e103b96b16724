/* SPDX-License-Identifier: ISC */
/* record.c: the event log's line, written as text (jsonwrite.c), read with json-c. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "canon.h"
#include "idwise.h"
#include "jsonwrite.h"
#include "log-check.h"
#include "record.h"

#define LINE_START	2048	/* a usual record's line, so that it seldom grows */

/* Constant text: punctuation and member names with nothing to escape. */
static int
name(struct jsonwrite *w, const char *text)
{
	return jw_raw(w, text, strlen(text));
}

static int
head(struct jsonwrite *w, const struct event *ev, const struct record_place *at)
{
	char	 received[RFC3339_MS_LEN + 1], num[64];
	int	 n;

	format_rfc3339_ms(&at->received, received);
	n = snprintf(num, sizeof(num), "{\"v\":%d,\"seq\":%" PRId64, RECORD_VERSION,
	    (int64_t)at->seq);
	if (n < 0 || (size_t)n >= sizeof(num))
		return -1;
	return jw_raw(w, num, (size_t)n) == 0 &&
	    name(w, ",\"received_at\":") == 0 && jw_string(w, received, strlen(received)) == 0 &&
	    name(w, ",\"id\":") == 0 && jw_value(w, ev->id) == 0 &&
	    name(w, ",\"type\":") == 0 && jw_string(w, ev->type, strlen(ev->type)) == 0 &&
	    name(w, ",\"event\":") == 0 && jw_value(w, ev->event_name) == 0 ? 0 : -1;
}

static int
fields(struct jsonwrite *w, const struct event *ev, const struct record_place *at)
{
	return name(w, ",\"journey_id\":") == 0 && jw_value(w, ev->journey_id) == 0 &&
	    name(w, ",\"reference_no\":") == 0 && jw_value(w, ev->reference_no) == 0 &&
	    name(w, ",\"outcome\":") == 0 &&
	    jw_string(w, ev->outcome, strlen(ev->outcome)) == 0 &&
	    name(w, ",\"env\":") == 0 && jw_string_utf8(w, ev->env != NULL ? ev->env : "") == 0 &&
	    name(w, ",\"remote_addr\":") == 0 &&
	    jw_string_utf8(w, ev->remote_addr != NULL ? ev->remote_addr : "") == 0 &&
	    name(w, ",\"body_sha256\":") == 0 &&
	    jw_string(w, ev->body_sha256, strlen(ev->body_sha256)) == 0 &&
	    (!at->conflict || name(w, ",\"conflict\":true") == 0) ? 0 : -1;
}

/*
 * The members in the record's order, written straight into the line: the bytes json-c wrote
 * for the same record built as an object (PLAIN, NOSLASHESCAPE), without building it.
 */
char *
record_line(const struct event *ev, const struct record_place *at, size_t *len)
{
	struct jsonwrite	 w;
	char			*line = NULL;

	if (jw_init(&w, NULL, LINE_START) == -1)
		return NULL;
	if (head(&w, ev, at) == 0 && fields(&w, ev, at) == 0 &&
	    name(&w, ",\"body\":") == 0 && jw_value(&w, ev->body) == 0 &&
	    name(&w, ",\"prev\":") == 0 && jw_string(&w, at->prev, strlen(at->prev)) == 0 &&
	    name(&w, "}\n") == 0)
		line = jw_take(&w, len);
	jw_free(&w);
	return line;
}

int
record_body_digest(const struct record_view *view, unsigned char digest[SHA256_LEN])
{
	json_object	*body;

	if (!json_object_object_get_ex(view->json, "body", &body))
		return -1;
	return canon_digest(body, digest);
}

void
record_view_free(struct record_view *view)
{
	json_object_put(view->json);
	memset(view, 0, sizeof(*view));
}

const char *
record_follows(const struct record_view *view, uint64_t last_seq,
    const unsigned char last_hash[SHA256_LEN])
{
	char	 want[SHA256_HEX_LEN + 1];

	if (view->seq != last_seq + 1)
		return "seq does not follow the previous record's";
	hex_encode(last_hash, SHA256_LEN, want);
	if (strcmp(view->prev, want) != 0)
		return "prev is not the hash of the previous line";
	return NULL;
}
