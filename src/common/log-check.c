/* SPDX-License-Identifier: ISC */
/* log-check.c: a log line as a record, held to the rules every record the writer makes keeps. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "idwise.h"
#include "log-check.h"

#define RECORD_DEPTH	40	/* the body's 32 levels, the record and some room */

struct log_reader {
	struct json_tokener	*tok;
};

/* The members a record has, in the writer's order; values[] below follows it. */
enum member {
	M_V, M_SEQ, M_RECEIVED_AT, M_ID, M_TYPE, M_EVENT, M_JOURNEY_ID, M_REFERENCE_NO,
	M_OUTCOME, M_ENV, M_REMOTE_ADDR, M_BODY_SHA256, M_CONFLICT, M_BODY, M_PREV, M_COUNT
};

/* A member's rule; value is NULL for JSON null. */
struct member_rule {
	const char	*name;
	bool		 optional;	/* may be absent */
	bool		(*ok)(json_object *);
	const char	*why;
};

static bool
is_version(json_object *v)
{
	return json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) == RECORD_VERSION;
}

static bool
is_seq(json_object *v)
{
	return json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 1;
}

static bool
is_string(json_object *v)
{
	return json_object_is_type(v, json_type_string);
}

static bool
is_nonempty_string(json_object *v)
{
	return is_string(v) && json_object_get_string_len(v) > 0;
}

static bool
is_string_or_null(json_object *v)
{
	return v == NULL || is_string(v);
}

static bool
is_time(json_object *v)
{
	return is_string(v) && json_object_get_string_len(v) == RFC3339_MS_LEN;
}

static bool
is_true(json_object *v)
{
	return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static bool
is_object(json_object *v)
{
	return json_object_is_type(v, json_type_object);
}

/* 64 lower-case hex digits, as hex_encode writes a SHA-256. */
static bool
is_sha256_hex(json_object *v)
{
	const char	*s;
	size_t		 n;

	if (!is_string(v) || json_object_get_string_len(v) != SHA256_HEX_LEN)
		return false;
	s = json_object_get_string(v);
	n = strspn(s, "0123456789abcdef");
	return n == SHA256_HEX_LEN;
}

static const struct member_rule member_rules[M_COUNT] = {
	[M_V] =			{ "v", false, is_version, "v is not 1" },
	[M_SEQ] =		{ "seq", false, is_seq, "seq is not a number from 1" },
	[M_RECEIVED_AT] =	{ "received_at", false, is_time,
				    "received_at is not an RFC 3339 time with milliseconds" },
	[M_ID] =		{ "id", false, is_nonempty_string, "id is not a non-empty string" },
	[M_TYPE] =		{ "type", false, is_string, "type is not a string" },
	[M_EVENT] =		{ "event", false, is_string, "event is not a string" },
	[M_JOURNEY_ID] =	{ "journey_id", false, is_string_or_null,
				    "journey_id is not a string or null" },
	[M_REFERENCE_NO] =	{ "reference_no", false, is_string_or_null,
				    "reference_no is not a string or null" },
	[M_OUTCOME] =		{ "outcome", false, is_string, "outcome is not a string" },
	[M_ENV] =		{ "env", false, is_string, "env is not a string" },
	[M_REMOTE_ADDR] =	{ "remote_addr", false, is_string, "remote_addr is not a string" },
	[M_BODY_SHA256] =	{ "body_sha256", false, is_sha256_hex,
				    "body_sha256 is not 64 lower-case hex digits" },
	[M_CONFLICT] =		{ "conflict", true, is_true, "conflict is there but not true" },
	[M_BODY] =		{ "body", false, is_object, "body is not an object" },
	[M_PREV] =		{ "prev", false, is_sha256_hex,
				    "prev is not 64 lower-case hex digits" },
};

struct log_reader *
log_reader_new(void)
{
	struct log_reader	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->tok = json_tokener_new_ex(RECORD_DEPTH)) == NULL) {
		free(r);
		return NULL;
	}
	json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	return r;
}

void
log_reader_free(struct log_reader *r)
{
	if (r == NULL)
		return;
	json_tokener_free(r->tok);
	free(r);
}

/* Each member by the rules; NULL, or why not. */
static const char *
check_members(json_object *rec, json_object *values[M_COUNT])
{
	size_t	 i;

	for (i = 0; i < M_COUNT; i++) {
		if (!json_object_object_get_ex(rec, member_rules[i].name, &values[i])) {
			values[i] = NULL;
			if (member_rules[i].optional)
				continue;
			return member_rules[i].why;
		}
		if (!member_rules[i].ok(values[i]))
			return member_rules[i].why;
	}
	return NULL;
}

/* The view from members that passed their rules; NULL, or why not. */
static const char *
fill(struct log_record *rec, json_object *values[M_COUNT])
{
	struct record_view	*view = &rec->view;
	int			 i;

	if (parse_rfc3339_ms(json_object_get_string(values[M_RECEIVED_AT]),
	    &view->received_ms) == -1)
		return "received_at is not an RFC 3339 time with milliseconds";
	view->type = json_object_get_string(values[M_TYPE]);
	if ((i = idwise_type_lookup(view->type)) == -1)
		return "type is not a known value";
	rec->type = (size_t)i;
	view->outcome = json_object_get_string(values[M_OUTCOME]);
	if ((i = idwise_outcome_lookup(view->outcome)) == -1)
		return "outcome is not a known value";
	rec->outcome = (size_t)i;
	view->seq = (uint64_t)json_object_get_int64(values[M_SEQ]);
	memcpy(view->prev, json_object_get_string(values[M_PREV]), SHA256_HEX_LEN + 1);
	view->id = json_object_get_string(values[M_ID]);
	view->id_len = (size_t)json_object_get_string_len(values[M_ID]);
	view->conflict = values[M_CONFLICT] != NULL;
	return NULL;
}

/* The line as one JSON object, or NULL. */
static json_object *
parse_line(struct log_reader *r, const char *line, size_t len)
{
	json_object	*obj;

	if (len > INT32_MAX || memchr(line, '\n', len) != NULL)
		return NULL;
	json_tokener_reset(r->tok);
	obj = json_tokener_parse_ex(r->tok, line, (int)len);
	if (obj != NULL && json_tokener_get_parse_end(r->tok) == len &&
	    json_object_is_type(obj, json_type_object))
		return obj;
	json_object_put(obj);
	return NULL;
}

int
log_record_read(struct log_reader *r, const char *line, size_t len, struct log_record *rec,
    char *why, size_t whylen)
{
	json_object	*values[M_COUNT];
	const char	*reason;

	memset(rec, 0, sizeof(*rec));
	if ((rec->view.json = parse_line(r, line, len)) == NULL) {
		snprintf(why, whylen, "not a JSON object");
		return -1;
	}
	if ((reason = check_members(rec->view.json, values)) != NULL ||
	    (reason = fill(rec, values)) != NULL) {
		snprintf(why, whylen, "not a record: %s", reason);
		log_record_free(rec);
		return -1;
	}
	return 0;
}

void
log_record_free(struct log_record *rec)
{
	json_object_put(rec->view.json);
	memset(rec, 0, sizeof(*rec));
}
