/* record.c: the event log's line (SPEC §4), written with json-c and read back. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "canon.h"
#include "idwise.h"
#include "jsonstrict.h"
#include "log-check.h"
#include "record.h"

#define TO_STRING_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Adds value (a reference the caller gives up; NULL is JSON null) under a constant name. */
static int
add(json_object *obj, const char *name, json_object *value)
{
	if (json_object_object_add_ex(obj, name, value,
	    JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT) == 0)
		return 0;
	json_object_put(value);
	return -1;
}

/* Adds a value just made, which is NULL only when memory ran out. */
static int
add_new(json_object *obj, const char *name, json_object *value)
{
	return value != NULL ? add(obj, name, value) : -1;
}

/* A string from outside the body (the web server's REMOTE_ADDR), kept UTF-8. */
static json_object *
new_string(const char *s)
{
	return jsonstrict_new_string(s != NULL ? s : "");
}

static int
build(json_object *rec, const struct event *ev, const struct record_place *at)
{
	char	 received[RFC3339_MS_LEN + 1];
	int	 rc = 0;

	format_rfc3339_ms(&at->received, received);
	rc |= add_new(rec, "v", json_object_new_int(RECORD_VERSION));
	rc |= add_new(rec, "seq", json_object_new_int64((int64_t)at->seq));
	rc |= add_new(rec, "received_at", json_object_new_string(received));
	rc |= add(rec, "id", json_object_get(ev->id));
	rc |= add_new(rec, "type", json_object_new_string(ev->type));
	rc |= add(rec, "event", json_object_get(ev->event_name));
	rc |= add(rec, "journey_id", json_object_get(ev->journey_id));
	rc |= add(rec, "reference_no", json_object_get(ev->reference_no));
	rc |= add_new(rec, "outcome", json_object_new_string(ev->outcome));
	rc |= add_new(rec, "env", new_string(ev->env));
	rc |= add_new(rec, "remote_addr", new_string(ev->remote_addr));
	rc |= add_new(rec, "body_sha256", json_object_new_string(ev->body_sha256));
	if (at->conflict)
		rc |= add_new(rec, "conflict", json_object_new_boolean(1));
	rc |= add(rec, "body", json_object_get(ev->body));
	rc |= add_new(rec, "prev", json_object_new_string(at->prev));
	return rc == 0 ? 0 : -1;
}

char *
record_line(const struct event *ev, const struct record_place *at, size_t *len)
{
	json_object	*rec;
	const char	*text;
	char		*line = NULL;
	size_t		 textlen;

	if ((rec = json_object_new_object()) == NULL)
		return NULL;
	if (build(rec, ev, at) == 0 &&
	    (text = json_object_to_json_string_length(rec, TO_STRING_FLAGS, &textlen)) != NULL &&
	    (line = malloc(textlen + 2)) != NULL) {
		memcpy(line, text, textlen);
		line[textlen] = '\n';
		line[textlen + 1] = '\0';
		*len = textlen + 1;
	}
	json_object_put(rec);
	return line;
}

/*
 * One set of rules for a record, log-check.c's, plus the body's digest the writer needs
 * for conflicts. A parser per call: the writer reads lines only when it recovers.
 */
int
record_parse(const char *line, size_t len, struct record_view *view, const char **why)
{
	static _Thread_local char	 reason[160];
	struct log_reader		*reader;
	struct log_record		 rec;
	json_object			*body;
	int				 rc;

	memset(view, 0, sizeof(*view));
	*why = reason;
	if ((reader = log_reader_new()) == NULL) {
		snprintf(reason, sizeof(reason), "out of memory");
		return -1;
	}
	rc = log_record_read(reader, line, len, &rec, reason, sizeof(reason));
	log_reader_free(reader);
	if (rc == -1)
		return -1;
	if (!json_object_object_get_ex(rec.view.json, "body", &body) ||
	    canon_digest(body, rec.view.body_digest) == -1) {
		snprintf(reason, sizeof(reason), "out of memory");
		log_record_free(&rec);
		return -1;
	}
	*view = rec.view;
	*why = NULL;
	return 0;
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
