/* record.c: the event log's line (SPEC §4), written with json-c and read back. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "canon.h"
#include "idwise.h"
#include "record.h"

#define TO_STRING_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define RECORD_MAX_DEPTH	40

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

static json_object *
new_string(const char *s)
{
	return json_object_new_string(s != NULL ? s : "");
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

static json_object *
member(json_object *rec, const char *name, json_type type)
{
	json_object	*value;

	if (!json_object_object_get_ex(rec, name, &value) || !json_object_is_type(value, type))
		return NULL;
	return value;
}

static const char *
view_fill(struct record_view *view, json_object *rec)
{
	json_object	*v, *seq, *prev, *received, *id, *type, *outcome, *conflict, *body;

	if ((v = member(rec, "v", json_type_int)) == NULL ||
	    json_object_get_int64(v) != RECORD_VERSION)
		return "no record version 1";
	if ((seq = member(rec, "seq", json_type_int)) == NULL || json_object_get_int64(seq) < 1)
		return "no valid seq";
	if ((prev = member(rec, "prev", json_type_string)) == NULL ||
	    json_object_get_string_len(prev) != SHA256_HEX_LEN)
		return "no valid prev";
	if ((received = member(rec, "received_at", json_type_string)) == NULL ||
	    parse_rfc3339_ms(json_object_get_string(received), &view->received_ms) == -1)
		return "no valid received_at";
	if ((id = member(rec, "id", json_type_string)) == NULL)
		return "no id";
	if ((type = member(rec, "type", json_type_string)) == NULL ||
	    (outcome = member(rec, "outcome", json_type_string)) == NULL)
		return "no type or outcome";
	if ((body = member(rec, "body", json_type_object)) == NULL ||
	    canon_digest(body, view->body_digest) == -1)
		return "no body";
	conflict = member(rec, "conflict", json_type_boolean);
	view->seq = (uint64_t)json_object_get_int64(seq);
	memcpy(view->prev, json_object_get_string(prev), SHA256_HEX_LEN + 1);
	view->id = json_object_get_string(id);
	view->id_len = (size_t)json_object_get_string_len(id);
	view->type = json_object_get_string(type);
	view->outcome = json_object_get_string(outcome);
	view->conflict = conflict != NULL && json_object_get_boolean(conflict);
	return NULL;
}

int
record_parse(const char *line, size_t len, struct record_view *view, const char **why)
{
	struct json_tokener	*tok;
	json_object		*rec;

	memset(view, 0, sizeof(*view));
	if (len > INT32_MAX || memchr(line, '\n', len) != NULL) {
		*why = "not one line";
		return -1;
	}
	if ((tok = json_tokener_new_ex(RECORD_MAX_DEPTH)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	rec = json_tokener_parse_ex(tok, line, (int)len);
	if (rec == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(rec, json_type_object))
		*why = "not a JSON object";
	else
		*why = view_fill(view, rec);
	json_tokener_free(tok);
	if (*why != NULL) {
		json_object_put(rec);
		return -1;
	}
	view->json = rec;
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
