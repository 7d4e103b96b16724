/* SPDX-License-Identifier: ISC */
/* reply.c: the CGI header block and the JSON body of every reply idwise-fcgi(8) lists. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "config.h"
#include "reply.h"

#define RETRY_AFTER_SECONDS	60

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/* {"error":"reason: detail"}, escaped by json-c: the detail may come from json-c's parser. */
static json_object *
error_body(enum reply_code code, const char *detail)
{
	json_object	*body;
	char		 reason[256];

	if ((body = json_object_new_object()) == NULL)
		return NULL;
	if (detail != NULL)
		snprintf(reason, sizeof(reason), "%s: %s", reply_table[code].name, detail);
	else
		snprintf(reason, sizeof(reason), "%s", reply_table[code].name);
	json_object_object_add(body, "error", json_object_new_string(reason));
	return body;
}

/*
 * {"status":"accepted","seq":N}, {"status":"duplicate","seq":N} or
 * {"status":"accepted","seq":N,"conflict":true}: nothing to escape, so written directly,
 * the bytes json-c wrote for them before.
 */
static int
format_stored(char *buf, size_t len, enum reply_code code, uint64_t seq)
{
	return snprintf(buf, len, "{\"status\":\"%s\",\"seq\":%" PRId64 "%s}",
	    code == REPLY_DUPLICATE ? "duplicate" : "accepted", (int64_t)seq,
	    code == REPLY_CONFLICT ? ",\"conflict\":true" : "");
}

/* The headers some replies need besides Status and Content-Type. */
static int
extra_headers(const struct config *cfg, enum reply_code code, char *buf, size_t len)
{
	const char	*challenge;

	switch (code) {
	case REPLY_METHOD:
		return snprintf(buf, len, "Allow: POST\r\n");
	case REPLY_UNAUTHORIZED:
		challenge = auth_challenge(cfg);
		if (challenge == NULL)
			break;
		return snprintf(buf, len, "WWW-Authenticate: %s\r\n", challenge);
	case REPLY_UNAVAILABLE:
		return snprintf(buf, len, "Retry-After: %d\r\n", RETRY_AFTER_SECONDS);
	default:
		break;
	}
	buf[0] = '\0';
	return 0;
}

static int
format_reply(char *buf, int status, const char *extra, const char *text)
{
	return snprintf(buf, REPLY_MAX, "Status: %d %s\r\nContent-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n%s\r\n%s\n", status, status_text(status), extra, text);
}

size_t
reply_format(const struct config *cfg, enum reply_code code, uint64_t seq, const char *detail,
    char buf[REPLY_MAX])
{
	json_object	*body;
	const char	*text;
	char		 extra[256], stored[128];	/* the longest 200 body: 65 bytes */
	int		 status = reply_table[code].status, n;

	extra_headers(cfg, code, extra, sizeof(extra));
	if (status == 200) {
		n = format_stored(stored, sizeof(stored), code, seq);
		if (n >= 0 && (size_t)n < sizeof(stored))
			n = format_reply(buf, status, extra, stored);
		else
			n = -1;
	} else {
		body = error_body(code, detail);
		text = body != NULL ? json_object_to_json_string_ext(body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) :
		    "{\"error\":\"out of memory\"}";
		n = format_reply(buf, status, extra, text);
		json_object_put(body);
	}
	if (n < 0)
		return 0;
	return (size_t)n < REPLY_MAX ? (size_t)n : REPLY_MAX - 1;
}
