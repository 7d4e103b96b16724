/* SPDX-License-Identifier: ISC */
/*
 * refjson.h: a second JSON checker, written apart from src/jsonstrict.c and json-c, that the
 * fuzzers hold the core against. It says what the contract (idwise-fcgi(8), "Checks and
 * replies") says a body must be: RFC 8259 text, one value, strict UTF-8 and escapes, no
 * \u0000 in member names, no duplicate member names (compared decoded), integers that fit
 * 64 bits, finite numbers of at most 400 characters, nesting at most maxdepth.
 */
#ifndef IDW_REFJSON_H
#define IDW_REFJSON_H

#include <stdbool.h>
#include <stddef.h>

#define REFJSON_NAME_MAX	256

/* What the root holds, when it is an object. */
struct refjson_top {
	bool		 object;	/* the root is an object */
	bool		 event_string;	/* it has "event", a string */
	bool		 body_object;	/* it has "body", an object */
	char		 event[REFJSON_NAME_MAX];	/* "event" decoded, cut at the size */
	size_t		 event_len;	/* its whole decoded length */
};

/* 0 when the text is valid as above, -1 otherwise. top may be NULL. */
int	refjson_check(const unsigned char *, size_t, int maxdepth, struct refjson_top *);

#endif
