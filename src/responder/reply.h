/* SPDX-License-Identifier: ISC */
/* reply.h: the HTTP reply (CGI header block and small JSON body) for a decision. */
#ifndef IDW_REPLY_H
#define IDW_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"

struct config;

#define REPLY_MAX	1024

/*
 * Write the whole reply into buf: "Status:", Content-Type, the extra headers the code
 * needs (Allow, WWW-Authenticate, Retry-After), a blank line, the JSON body. seq is for
 * the 200s, detail (may be NULL) adds to an error's reason. Returns the length.
 */
size_t	reply_format(const struct config *, enum reply_code, uint64_t seq, const char *detail,
	    char buf[REPLY_MAX]);

#endif
