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

/* What a member must be; why is what it is not. */
enum rule {
	R_VERSION, R_SEQ, R_TIME, R_ID, R_STRING, R_STRING_OR_NULL, R_SHA256, R_TRUE, R_OBJECT,
	R_COUNT
};

static const struct {
	bool		(*ok)(json_object *);	/* the value is NULL for JSON null */
	const char	*why;
} rules[R_COUNT] = {
	[R_VERSION] =		{ is_version,		"not 1" },
	[R_SEQ] =		{ is_seq,		"not a number from 1" },
	[R_TIME] =		{ is_time,		"not an RFC 3339 time with milliseconds" },
	[R_ID] =		{ is_nonempty_string,	"not a non-empty string" },
	[R_STRING] =		{ is_string,		"not a string" },
	[R_STRING_OR_NULL] =	{ is_string_or_null,	"not a string or null" },
	[R_SHA256] =		{ is_sha256_hex,	"not 64 lower-case hex digits" },
	[R_TRUE] =		{ is_true,		"there but not true" },
	[R_OBJECT] =		{ is_object,		"not an object" },
};

/* Each member's name and rule; only conflict may be absent. */
static const struct {
	const char	*name;
	enum rule	 rule;
} members[M_COUNT] = {
	[M_V] =			{ "v",			R_VERSION },
	[M_SEQ] =		{ "seq",		R_SEQ },
	[M_RECEIVED_AT] =	{ "received_at",	R_TIME },
	[M_ID] =		{ "id",			R_ID },
	[M_TYPE] =		{ "type",		R_STRING },
	[M_EVENT] =		{ "event",		R_STRING },
	[M_JOURNEY_ID] =	{ "journey_id",		R_STRING_OR_NULL },
	[M_REFERENCE_NO] =	{ "reference_no",	R_STRING_OR_NULL },
	[M_OUTCOME] =		{ "outcome",		R_STRING },
	[M_ENV] =		{ "env",		R_STRING },
	[M_REMOTE_ADDR] =	{ "remote_addr",	R_STRING },
	[M_BODY_SHA256] =	{ "body_sha256",	R_SHA256 },
	[M_CONFLICT] =		{ "conflict",		R_TRUE },
	[M_BODY] =		{ "body",		R_OBJECT },
	[M_PREV] =		{ "prev",		R_SHA256 },
};

struct log_reader *
log_reader_new(void)
{
	struct log_reader	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->tok = json_tokener_new_ex(RECORD_DEPTH)) == NULL) {
		free(r);
		return NULL;
	}
	json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	return r;
}

void
log_reader_free(struct log_reader *r)
{
	if (r != NULL)
		json_tokener_free(r->tok);
	free(r);
}

/* Each member by its rule: -1, or the first member that breaks it. */
static int
check_members(json_object *rec, json_object *values[M_COUNT])
{
	int	 i;

	for (i = 0; i < M_COUNT; i++) {
		if (!json_object_object_get_ex(rec, members[i].name, &values[i])) {
			values[i] = NULL;
			if (i == M_CONFLICT)
				continue;
			return i;
		}
		if (!rules[members[i].rule].ok(values[i]))
			return i;
	}
	return -1;
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
	int		 bad;

	memset(rec, 0, sizeof(*rec));
	if ((rec->view.json = parse_line(r, line, len)) == NULL) {
		snprintf(why, whylen, "not a JSON object");
		return -1;
	}
	if ((bad = check_members(rec->view.json, values)) != -1)
		snprintf(why, whylen, "not a record: %s is %s", members[bad].name,
		    rules[members[bad].rule].why);
	else if ((reason = fill(rec, values)) != NULL)
		snprintf(why, whylen, "not a record: %s", reason);
	else
		return 0;
	log_record_free(rec);
	return -1;
}

void
log_record_free(struct log_record *rec)
{
	json_object_put(rec->view.json);
	memset(rec, 0, sizeof(*rec));
}

/* --- the seq alone --------------------------------------------------------------------- */

#define LINE_START	"{\"v\":1,\"seq\":"

int
log_line_seq(const char *line, size_t len, uint64_t *seq)
{
	size_t		 at = sizeof(LINE_START) - 1, digits;
	uint64_t	 n = 0;

	if (len <= at || memcmp(line, LINE_START, at) != 0 || line[at] < '1' || line[at] > '9')
		return -1;
	for (digits = 0; at < len && line[at] >= '0' && line[at] <= '9'; at++, digits++) {
		if (digits == 19)	/* more than 2^63 - 1 can have */
			return -1;
		n = n * 10 + (uint64_t)(line[at] - '0');
	}
	if (at == len || line[at] != ',' || n > INT64_MAX)
		return -1;
	*seq = n;
	return 0;
}
