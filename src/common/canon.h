/* SPDX-License-Identifier: ISC */
/* canon.h: a digest of a JSON value that ignores whitespace and member order. */
#ifndef IDW_CANON_H
#define IDW_CANON_H

#include <json-c/json.h>

#include "util.h"

/* SHA-256 over the value written compactly with every object's members sorted by name. */
int	canon_digest(json_object *, unsigned char [SHA256_LEN]);
/* The number of object members in the whole value, nested ones included. */
size_t	canon_count_members(json_object *);
/* How many objects and arrays deep the value goes: 0 for a scalar, 1 for {} or [1]. */
int	canon_depth(json_object *);

#endif
