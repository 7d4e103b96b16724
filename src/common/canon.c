/* SPDX-License-Identifier: ISC */
/* canon.c: a digest of a JSON value that does not depend on whitespace or member order. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "jsonwrite.h"

#define TEXT_LOCAL	4096	/* a usual IDWise body's canonical text fits on the stack */
#define NAMES_LOCAL	32	/* and so do its objects' member names */

static int	canon_value(struct jsonwrite *, json_object *);

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
canon_members(struct jsonwrite *w, json_object *obj, const char **names, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if ((i > 0 && jw_char(w, ',') == -1) ||
		    jw_string(w, names[i], strlen(names[i])) == -1 ||
		    jw_char(w, ':') == -1 ||
		    canon_value(w, json_object_object_get(obj, names[i])) == -1)
			return -1;
	}
	return 0;
}

static int
canon_object(struct jsonwrite *w, json_object *obj)
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
	rc = jw_char(w, '{') == 0 && canon_members(w, obj, names, n) == 0 &&
	    jw_char(w, '}') == 0 ? 0 : -1;
	if (names != local)
		free(names);
	return rc;
}

static int
canon_array(struct jsonwrite *w, json_object *arr)
{
	size_t	 i, n = json_object_array_length(arr);

	if (jw_char(w, '[') == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((i > 0 && jw_char(w, ',') == -1) ||
		    canon_value(w, json_object_array_get_idx(arr, i)) == -1)
			return -1;
	}
	return jw_char(w, ']');
}

static int
canon_value(struct jsonwrite *w, json_object *value)
{
	switch (json_object_get_type(value)) {
	case json_type_object:
		return canon_object(w, value);
	case json_type_array:
		return canon_array(w, value);
	default:
		return jw_scalar(w, value);
	}
}

/*
 * The canonical text is written whole into one buffer (the stack's for a usual body) and
 * digested once.
 */
int
canon_digest(json_object *value, unsigned char out[SHA256_LEN])
{
	struct jsonwrite	 w;
	char			 local[TEXT_LOCAL];
	int			 rc;

	jw_init(&w, local, sizeof(local));
	if ((rc = canon_value(&w, value)) == 0)
		sha256(w.p, w.len, out);
	jw_free(&w);
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
