/* SPDX-License-Identifier: ISC */
/* decide.c: idwise-fcgi(8)'s checks as a pure function: the reply, and the record's fields. */
#include "autoconf.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "allowlist.h"
#include "auth.h"
#include "canon.h"
#include "config.h"
#include "decide.h"
#include "jsonstrict.h"
#include "util.h"

#define JSON_MAX_DEPTH	32
/* json-c counts a scalar inside the innermost array or object as one level more. */
#define TOKENER_DEPTH	(JSON_MAX_DEPTH + 1)

const struct reply_info reply_table[REPLY_COUNT] = {
	[REPLY_CONTINUE] =	{ 100, "continue", "continue" },
	[REPLY_ACCEPTED] =	{ 200, "accepted", "accepted" },
	[REPLY_DUPLICATE] =	{ 200, "duplicate", "duplicate" },
	[REPLY_CONFLICT] =	{ 200, "conflict", "conflict" },
	[REPLY_METHOD] =	{ 405, "method not allowed", "method" },
	[REPLY_FORBIDDEN] =	{ 403, "source address not allowed", "forbidden" },
	[REPLY_UNAUTHORIZED] =	{ 401, "unauthorized", "unauthorized" },
	[REPLY_TOO_LARGE] =	{ 413, "body too large", "too_large" },
	[REPLY_BAD_LENGTH] =	{ 400, "bad Content-Length", "bad_length" },
	[REPLY_TRUNCATED] =	{ 400, "truncated body", "truncated" },
	[REPLY_MEDIA_TYPE] =	{ 415, "unsupported content type", "media_type" },
	[REPLY_BAD_JSON] =	{ 400, "invalid JSON", "bad_json" },
	[REPLY_NOT_ENVELOPE] =	{ 422, "not an IDWise event", "not_envelope" },
	[REPLY_UNKNOWN_EVENT] =	{ 422, "unknown event", "unknown_event" },
	[REPLY_UNAVAILABLE] =	{ 503, "log unavailable", "unavailable" },
};

/* CONTENT_LENGTH: 0 and *len, or -1 if it is not a decimal number. Huge saturates. */
static int
parse_content_length(const char *text, size_t *len)
{
	size_t	 n = 0;

	if (*text == '\0')
		return -1;
	for (; *text != '\0'; text++) {
		if (!isdigit((unsigned char)*text))
			return -1;
		if (n > (SIZE_MAX - 9) / 10)
			n = SIZE_MAX - 1;
		else
			n = n * 10 + (size_t)(*text - '0');
	}
	*len = n;
	return 0;
}

enum reply_code
decide_head(const struct config *cfg, const struct request *req, size_t *want)
{
	if (req->method == NULL || strcmp(req->method, "POST") != 0)
		return REPLY_METHOD;
	if (!allowlist_permits(cfg->allow, req->remote_addr))
		return REPLY_FORBIDDEN;
	if (!auth_permits(cfg, req->authorization, req->custom_header))
		return REPLY_UNAUTHORIZED;
	if (req->content_length == NULL || req->content_length[0] == '\0' ||
	    strcmp(req->content_length, "-1") == 0) {
		*want = BODY_LEN_UNKNOWN;
		return REPLY_CONTINUE;
	}
	if (parse_content_length(req->content_length, want) == -1)
		return REPLY_BAD_LENGTH;
	if (*want > cfg->max_body)
		return REPLY_TOO_LARGE;
	return REPLY_CONTINUE;
}

const char *
decide_length_detail(const struct request *req, char buf[LENGTH_DETAIL_LEN])
{
	char	 value[SHOWN_ESCAPED_LEN(LENGTH_SHOWN_MAX)];

	if (req->content_length == NULL)
		return NULL;
	escape_shown(req->content_length, LENGTH_SHOWN_MAX, value);
	snprintf(buf, LENGTH_DETAIL_LEN, "got \"%s\"", value);
	return buf;
}

/* No header, or application/json with or without parameters. */
static bool
is_json_type(const char *type)
{
	static const char	 json[] = "application/json";

	if (type == NULL)
		return true;
	while (*type == ' ' || *type == '\t')
		type++;
	if (*type == '\0')
		return true;
	if (strncasecmp(type, json, sizeof(json) - 1) != 0)
		return false;
	type += sizeof(json) - 1;
	while (*type == ' ' || *type == '\t')
		type++;
	return *type == '\0' || *type == ';';
}

static enum reply_code
fail_body(const char **detail, const char *why, enum reply_code code)
{
	*detail = why;
	return code;
}

/* Why root is not the one object a request must hold, or NULL. */
static const char *
check_parsed(struct json_tokener *tok, json_object *root, size_t len, size_t names)
{
	if (root == NULL && json_tokener_get_error(tok) != json_tokener_continue)
		return json_tokener_error_desc(json_tokener_get_error(tok));
	if (root == NULL || json_tokener_get_parse_end(tok) != len)
		return "incomplete or trailing data";
	if (!json_object_is_type(root, json_type_object))
		return "not a JSON object";
	if (canon_depth(root) > JSON_MAX_DEPTH)
		return "nesting too deep";
	if (canon_count_members(root) != names)
		return "duplicate member name";
	return NULL;
}

/*
 * One parser per thread, kept: a new one per request costs three allocations, one of them
 * over 1 KB (glibc then consolidates its fast bins). Freed when the thread ends.
 */
static pthread_once_t	 tokener_once = PTHREAD_ONCE_INIT;
static pthread_key_t	 tokener_key;
static int		 tokener_key_rc = -1;

static void
free_tokener(void *tok)
{
	json_tokener_free(tok);
}

static void
make_tokener_key(void)
{
	if ((tokener_key_rc = pthread_key_create(&tokener_key, free_tokener)) != 0)
		msg("pthread_key_create: %s", strerror(tokener_key_rc));
}

static struct json_tokener *
new_tokener(void)
{
	struct json_tokener	*tok;

	if ((tok = json_tokener_new_ex(TOKENER_DEPTH)) != NULL)
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	return tok;
}

/* This thread's parser, or one of its own (*owned) when it cannot be kept. */
static struct json_tokener *
get_tokener(bool *owned)
{
	struct json_tokener	*tok;
	int			 rc;

	*owned = true;
	if ((rc = pthread_once(&tokener_once, make_tokener_key)) != 0 || tokener_key_rc != 0)
		return new_tokener();
	if ((tok = pthread_getspecific(tokener_key)) != NULL) {
		*owned = false;
		return tok;
	}
	if ((tok = new_tokener()) == NULL)
		return NULL;
	if ((rc = pthread_setspecific(tokener_key, tok)) != 0) {
		msg("pthread_setspecific: %s", strerror(rc));
		return tok;
	}
	*owned = false;
	return tok;
}

/* Done with it: a kept parser is reset (what a failed parse left goes now). */
static void
put_tokener(struct json_tokener *tok, bool owned)
{
	if (owned)
		json_tokener_free(tok);
	else
		json_tokener_reset(tok);
}

/* Strict parse: RFC 8259 tokens, json-c structure with a depth limit, one object. */
static enum reply_code
parse_object(const unsigned char *body, size_t len, json_object **rootp, const char **detail)
{
	struct json_tokener	*tok;
	json_object		*root;
	size_t			 names;
	bool			 owned;

	*rootp = NULL;
	if (len == 0)
		return fail_body(detail, "empty body", REPLY_BAD_JSON);
	if (len > INT32_MAX || jsonstrict_check(body, len, &names, detail) == -1)
		return REPLY_BAD_JSON;
	if ((tok = get_tokener(&owned)) == NULL)
		return fail_body(detail, "out of memory", REPLY_UNAVAILABLE);
	root = json_tokener_parse_ex(tok, (const char *)body, (int)len);
	*detail = check_parsed(tok, root, len, names);
	put_tokener(tok, owned);
	if (*detail != NULL) {
		json_object_put(root);
		return REPLY_BAD_JSON;
	}
	*rootp = root;
	return REPLY_ACCEPTED;
}

static bool
is_envelope(json_object *root)
{
	json_object	*event, *body;

	return json_object_object_get_ex(root, "event", &event) &&
	    json_object_is_type(event, json_type_string) &&
	    json_object_object_get_ex(root, "body", &body) &&
	    json_object_is_type(body, json_type_object);
}

enum reply_code
decide_body(const struct config *cfg, const struct request *req, size_t want,
    struct event *ev, const char **detail)
{
	json_object	*root;
	enum reply_code	 code;
	int		 rc;

	*detail = NULL;
	if (want != BODY_LEN_UNKNOWN && req->body_len < want)
		return fail_body(detail, "body shorter than Content-Length", REPLY_TRUNCATED);
	if (req->body_len > cfg->max_body)
		return REPLY_TOO_LARGE;
	if (!is_json_type(req->content_type))
		return fail_body(detail, "use application/json", REPLY_MEDIA_TYPE);
	if ((code = parse_object(req->body, req->body_len, &root, detail)) != REPLY_ACCEPTED)
		return code;
	if (!is_envelope(root)) {
		json_object_put(root);
		return fail_body(detail, "need a string \"event\" and an object \"body\"",
		    REPLY_NOT_ENVELOPE);
	}
	rc = event_classify(ev, root, req->body, req->body_len, cfg->env, req->remote_addr);
	json_object_put(root);
	if (rc == -1)
		return fail_body(detail, "out of memory", REPLY_UNAVAILABLE);
	if (strcmp(ev->type, "unknown") == 0 && cfg->unknown_events == UNKNOWN_REJECT) {
		event_free(ev);
		return REPLY_UNKNOWN_EVENT;
	}
	return REPLY_ACCEPTED;
}
