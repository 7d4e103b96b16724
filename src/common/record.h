/* SPDX-License-Identifier: ISC */
/* record.h: the event log's line (idwise-events(5)): built from an event, and read back. */
#ifndef IDW_RECORD_H
#define IDW_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util.h"

struct event;

#define RECORD_VERSION	1

/* What the writer adds under its lock. */
struct record_place {
	uint64_t	 seq;
	char		 prev[SHA256_HEX_LEN + 1];
	struct timespec	 received;
	bool		 conflict;
};

/* The whole line, '\n'-terminated (and NUL after), malloc'd; NULL when out of memory. */
char	*record_line(const struct event *, const struct record_place *, size_t *len);

/* What a reader needs from a line. Strings point into json and live as long as it. */
struct record_view {
	void		*json;		/* the parsed line; record_view_free() releases it */
	uint64_t	 seq;
	char		 prev[SHA256_HEX_LEN + 1];
	int64_t		 received_ms;
	const char	*id;
	size_t		 id_len;
	const char	*type;
	const char	*outcome;
	bool		 conflict;
};

/*
 * The SHA-256 of the record's body in canonical form (canon.h), what dedup compares to
 * tell a redelivery from a conflict: only the writer needs it, so a reader (log-check.h)
 * leaves it out and the writer asks for it. 0, or -1 when memory ran out.
 */
int	record_body_digest(const struct record_view *, unsigned char [SHA256_LEN]);

void	record_view_free(struct record_view *);

/*
 * NULL when the record comes right after the one numbered last_seq whose line hashed to
 * last_hash (last_seq 0: the log's start), else why not.
 */
const char *record_follows(const struct record_view *, uint64_t last_seq,
	    const unsigned char last_hash[SHA256_LEN]);

#endif
