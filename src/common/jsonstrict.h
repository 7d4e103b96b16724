/* SPDX-License-Identifier: ISC */
/*
 * jsonstrict.h: the RFC 8259 rules json-c 0.16's tokener does not enforce, checked on the raw
 * bytes before json-c parses them: strict UTF-8 (no overlong forms, no surrogates), string
 * escapes with paired surrogates and no \u0000 in member names, no raw control characters,
 * only JSON's literals and number grammar, numbers that fit, nothing after the value.
 * It also counts member names, so that duplicate names (which json-c folds) show.
 */
#ifndef IDW_JSONSTRICT_H
#define IDW_JSONSTRICT_H

#include <stddef.h>

/* Length of the UTF-8 sequence at p (p < end), or 0 if it is not a valid, shortest-form scalar. */
size_t	utf8_sequence(const unsigned char *, const unsigned char *end);

/* 0 if the text passes, else -1 and *why. *names gets the number of member names seen. */
int	jsonstrict_check(const unsigned char *, size_t, size_t *names, const char **why);

/*
 * A JSON string of bytes that came from outside a checked body (CGI variables): each byte
 * that is not part of valid UTF-8 becomes U+FFFD, so that lines stay UTF-8. NULL when
 * memory ran out.
 */
struct json_object;
struct json_object *jsonstrict_new_string(const char *);

#endif
