/* SPDX-License-Identifier: ISC */
/* jsonwrite.c: json-c 0.16's plain JSON text, written into one buffer (see jsonwrite.h). */
#include "autoconf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonstrict.h"
#include "jsonwrite.h"

#define TO_STRING_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define HEAP_START	1024

int
jw_init(struct jsonwrite *w, char *local, size_t cap)
{
	w->len = 0;
	w->local = local;
	if (local != NULL) {
		w->p = local;
		w->cap = cap;
		return 0;
	}
	w->cap = cap > 0 ? cap : HEAP_START;
	return (w->p = malloc(w->cap)) != NULL ? 0 : -1;
}

void
jw_free(struct jsonwrite *w)
{
	if (w->p != w->local)
		free(w->p);
	w->p = NULL;
	w->len = w->cap = 0;
}

static int
grow(struct jsonwrite *w, size_t more)
{
	size_t	 cap = w->cap > 0 ? w->cap : HEAP_START;
	char	*p;

	if (more > SIZE_MAX / 4 - w->len)
		return -1;
	while (cap - w->len < more)
		cap *= 2;
	if (w->p == w->local) {
		if ((p = malloc(cap)) == NULL)
			return -1;
		if (w->len > 0)
			memcpy(p, w->local, w->len);
	} else if ((p = realloc(w->p, cap)) == NULL)
		return -1;
	w->p = p;
	w->cap = cap;
	return 0;
}

char *
jw_take(struct jsonwrite *w, size_t *len)
{
	char	*p;

	if (jw_char(w, '\0') == -1)
		return NULL;
	w->len--;
	if (w->p == w->local) {
		if ((p = malloc(w->len + 1)) == NULL)
			return NULL;
		memcpy(p, w->local, w->len + 1);
	} else
		p = w->p;
	*len = w->len;
	w->p = w->local;
	w->len = 0;
	return p;
}

int
jw_raw(struct jsonwrite *w, const char *s, size_t len)
{
	if (w->cap - w->len < len && grow(w, len) == -1)
		return -1;
	if (len > 0)
		memcpy(w->p + w->len, s, len);
	w->len += len;
	return 0;
}

int
jw_char(struct jsonwrite *w, char c)
{
	if (w->cap == w->len && grow(w, 1) == -1)
		return -1;
	w->p[w->len++] = c;
	return 0;
}

/* One character the way json-c 0.16's json_escape_str writes it (no "\/"). */
static int
escaped_char(struct jsonwrite *w, unsigned char c)
{
	static const char	 hex[] = "0123456789abcdef";
	const char		 u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };

	switch (c) {
	case '\b': return jw_raw(w, "\\b", 2);
	case '\n': return jw_raw(w, "\\n", 2);
	case '\r': return jw_raw(w, "\\r", 2);
	case '\t': return jw_raw(w, "\\t", 2);
	case '\f': return jw_raw(w, "\\f", 2);
	case '"': return jw_raw(w, "\\\"", 2);
	case '\\': return jw_raw(w, "\\\\", 2);
	default: return jw_raw(w, u, sizeof(u));
	}
}

static bool
needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* The escaped text of s, without quotes. */
static int
escaped(struct jsonwrite *w, const char *s, size_t len)
{
	size_t	 i, run = 0;

	for (i = 0; i < len; i++) {
		if (!needs_escape((unsigned char)s[i]))
			continue;
		if (jw_raw(w, s + run, i - run) == -1 ||
		    escaped_char(w, (unsigned char)s[i]) == -1)
			return -1;
		run = i + 1;
	}
	return jw_raw(w, s + run, len - run);
}

int
jw_string(struct jsonwrite *w, const char *s, size_t len)
{
	if (jw_char(w, '"') == -1 || escaped(w, s, len) == -1)
		return -1;
	return jw_char(w, '"');
}

int
jw_string_utf8(struct jsonwrite *w, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s, *end = p + strlen(s);
	size_t			 n;

	if (jw_char(w, '"') == -1)
		return -1;
	for (; p < end; p += n) {
		if ((n = utf8_sequence(p, end)) == 0) {
			if (jw_raw(w, "\xef\xbf\xbd", 3) == -1)	/* U+FFFD */
				return -1;
			n = 1;
		} else if (escaped(w, (const char *)p, n) == -1)
			return -1;
	}
	return jw_char(w, '"');
}

/*
 * Numbers, objects and arrays: json-c's own text (a parsed double keeps the text it was
 * read from).
 */
static int
json_c_text(struct jsonwrite *w, json_object *value)
{
	const char	*s;
	size_t		 len;

	if ((s = json_object_to_json_string_length(value, TO_STRING_FLAGS, &len)) == NULL)
		return -1;
	return jw_raw(w, s, len);
}

int
jw_scalar(struct jsonwrite *w, json_object *value)
{
	switch (json_object_get_type(value)) {
	case json_type_null:
		return jw_raw(w, "null", 4);
	case json_type_string:
		return jw_string(w, json_object_get_string(value),
		    (size_t)json_object_get_string_len(value));
	case json_type_boolean:
		return json_object_get_boolean(value) ? jw_raw(w, "true", 4) :
		    jw_raw(w, "false", 5);
	default:
		return json_c_text(w, value);
	}
}

/* Objects and arrays as json-c's own serializer writes them. */
int
jw_value(struct jsonwrite *w, json_object *value)
{
	switch (json_object_get_type(value)) {
	case json_type_object:
	case json_type_array:
		return json_c_text(w, value);
	default:
		return jw_scalar(w, value);
	}
}
