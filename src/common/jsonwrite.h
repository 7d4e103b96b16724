/* SPDX-License-Identifier: ISC */
/*
 * jsonwrite.h: JSON text put together in one growing buffer, byte for byte as json-c 0.16
 * writes it with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE: the record's
 * members and canon.c's sorted text, without building json-c objects for them. Numbers,
 * objects and arrays are json-c's own serializer's text.
 */
#ifndef IDW_JSONWRITE_H
#define IDW_JSONWRITE_H

#include <stddef.h>

#include <json-c/json.h>

struct jsonwrite {
	char	*p;
	size_t	 len;
	size_t	 cap;
	char	*local;		/* the caller's first buffer (may be NULL), never freed here */
};

/* Start in the caller's buffer of cap bytes, or on the heap when local is NULL. */
int	jw_init(struct jsonwrite *, char *local, size_t cap);
/* The text, malloc'd, NUL-terminated (the NUL not counted in len): the caller frees it. */
char	*jw_take(struct jsonwrite *, size_t *len);
void	jw_free(struct jsonwrite *);

int	jw_raw(struct jsonwrite *, const char *, size_t);
int	jw_char(struct jsonwrite *, char);
/* A string value or member name, quoted and escaped as json-c does. */
int	jw_string(struct jsonwrite *, const char *, size_t);
/* A C string from outside (the web server), invalid UTF-8 as U+FFFD: jsonstrict_new_string. */
int	jw_string_utf8(struct jsonwrite *, const char *);
/* null, a boolean, a number or a string (numbers as json-c writes them). */
int	jw_scalar(struct jsonwrite *, json_object *);
/* Any value, members in their order: json_object_to_json_string_ext's text (its own). */
int	jw_value(struct jsonwrite *, json_object *);

#endif
