/* canon.c: a digest of a JSON value that does not depend on whitespace or member order. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"

#define TO_STRING_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define TEXT_LOCAL	4096	/* a usual IDWise body's canonical text fits on the stack */
#define NAMES_LOCAL	32	/* and so do its objects' member names */

/*
 * The canonical text, written whole into one buffer and digested once: the stack's for a
 * usual body, the heap's past that.
 */
struct text {
	char	*p;
	size_t	 len;
	size_t	 cap;
	char	 local[TEXT_LOCAL];
};

static int	canon_value(struct text *, json_object *);

static int
grow(struct text *t, size_t more)
{
	size_t	 cap = t->cap;
	char	*p;

	if (more > SIZE_MAX / 2 - t->len)
		return -1;
	while (cap - t->len < more)
		cap *= 2;
	if (t->p == t->local) {
		if ((p = malloc(cap)) == NULL)
			return -1;
		memcpy(p, t->local, t->len);
	} else if ((p = realloc(t->p, cap)) == NULL)
		return -1;
	t->p = p;
	t->cap = cap;
	return 0;
}

static int
feed(struct text *t, const char *s, size_t len)
{
	if (t->cap - t->len < len && grow(t, len) == -1)
		return -1;
	memcpy(t->p + t->len, s, len);
	t->len += len;
	return 0;
}

static int
feed_char(struct text *t, char c)
{
	return feed(t, &c, 1);
}

/* One character of a string the way json-c 0.16 escapes it (json_escape_str, no "\/"). */
static int
feed_escaped_char(struct text *t, unsigned char c)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };

	switch (c) {
	case '\b': return feed(t, "\\b", 2);
	case '\n': return feed(t, "\\n", 2);
	case '\r': return feed(t, "\\r", 2);
	case '\t': return feed(t, "\\t", 2);
	case '\f': return feed(t, "\\f", 2);
	case '"': return feed(t, "\\\"", 2);
	case '\\': return feed(t, "\\\\", 2);
	default: return feed(t, u, sizeof(u));
	}
}

static bool
needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* A JSON string as json-c writes one with JSON_C_TO_STRING_NOSLASHESCAPE. */
static int
feed_string(struct text *t, const char *s, size_t len)
{
	size_t	 i, run = 0;

	if (feed_char(t, '"') == -1)
		return -1;
	for (i = 0; i < len; i++) {
		if (!needs_escape((unsigned char)s[i]))
			continue;
		if (feed(t, s + run, i - run) == -1 ||
		    feed_escaped_char(t, (unsigned char)s[i]) == -1)
			return -1;
		run = i + 1;
	}
	if (feed(t, s + run, len - run) == -1)
		return -1;
	return feed_char(t, '"');
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
feed_members(struct text *t, json_object *obj, const char **names, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if ((i > 0 && feed_char(t, ',') == -1) ||
		    feed_string(t, names[i], strlen(names[i])) == -1 ||
		    feed_char(t, ':') == -1 ||
		    canon_value(t, json_object_object_get(obj, names[i])) == -1)
			return -1;
	}
	return 0;
}

static int
canon_object(struct text *t, json_object *obj)
{
	const char	 *local[NAMES_LOCAL], **names = local;
	size_t		  n = 0, count = (size_t)json_object_object_length(obj);
	int		  rc;

	if (count > NAMES_LOCAL && (names = calloc(count, sizeof(*names))) == NULL)
		return -1;
	json_object_object_foreach(obj, name, value) {
		(void)value;
		names[n++] = name;
	}
	qsort(names, n, sizeof(*names), compare_names);
	rc = feed_char(t, '{') == 0 && feed_members(t, obj, names, n) == 0 &&
	    feed_char(t, '}') == 0 ? 0 : -1;
	if (names != local)
		free(names);
	return rc;
}

static int
canon_array(struct text *t, json_object *arr)
{
	size_t	 i, n = json_object_array_length(arr);

	if (feed_char(t, '[') == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((i > 0 && feed_char(t, ',') == -1) ||
		    canon_value(t, json_object_array_get_idx(arr, i)) == -1)
			return -1;
	}
	return feed_char(t, ']');
}

/* Numbers as json-c writes them (a parsed double keeps the text it was read from). */
static int
canon_number(struct text *t, json_object *value)
{
	const char	*s;
	size_t		 len;

	if ((s = json_object_to_json_string_length(value, TO_STRING_FLAGS, &len)) == NULL)
		return -1;
	return feed(t, s, len);
}

static int
canon_value(struct text *t, json_object *value)
{
	switch (json_object_get_type(value)) {
	case json_type_object:
		return canon_object(t, value);
	case json_type_array:
		return canon_array(t, value);
	case json_type_null:
		return feed(t, "null", 4);
	case json_type_string:
		return feed_string(t, json_object_get_string(value),
		    (size_t)json_object_get_string_len(value));
	case json_type_boolean:
		return json_object_get_boolean(value) ? feed(t, "true", 4) :
		    feed(t, "false", 5);
	default:
		return canon_number(t, value);
	}
}

int
canon_digest(json_object *value, unsigned char out[SHA256_LEN])
{
	struct text	 t;
	int		 rc;

	t.p = t.local;
	t.len = 0;
	t.cap = sizeof(t.local);
	if ((rc = canon_value(&t, value)) == 0)
		sha256(t.p, t.len, out);
	if (t.p != t.local)
		free(t.p);
	return rc;
}

size_t
canon_count_members(json_object *value)
{
	size_t	 count = 0, i, n;

	switch (json_object_get_type(value)) {
	case json_type_object: {
		json_object_object_foreach(value, name, member) {
			(void)name;
			count += 1 + canon_count_members(member);
		}
		break;
	}
	case json_type_array:
		n = json_object_array_length(value);
		for (i = 0; i < n; i++)
			count += canon_count_members(json_object_array_get_idx(value, i));
		break;
	default:
		break;
	}
	return count;
}

int
canon_depth(json_object *value)
{
	size_t	 i, n;
	int	 deepest = 0, d;

	switch (json_object_get_type(value)) {
	case json_type_object: {
		json_object_object_foreach(value, name, member) {
			(void)name;
			if ((d = canon_depth(member)) > deepest)
				deepest = d;
		}
		return deepest + 1;
	}
	case json_type_array:
		n = json_object_array_length(value);
		for (i = 0; i < n; i++)
			if ((d = canon_depth(json_object_array_get_idx(value, i))) > deepest)
				deepest = d;
		return deepest + 1;
	default:
		return 0;
	}
}
