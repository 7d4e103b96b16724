/* SPDX-License-Identifier: ISC */
/* log-filter.h: which records a consumer of the log wants: by type, outcome, env and time. */
#ifndef IDW_LOG_FILTER_H
#define IDW_LOG_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct record_view;

/* The record members a filter can ask for; each may be given several values (OR). */
enum filter_key {
	FILTER_TYPE,
	FILTER_OUTCOME,
	FILTER_ENV,
	FILTER_NKEYS
};

struct strset {
	const char	**v;
	size_t		  n;
};

struct filter {
	struct strset	 want[FILTER_NKEYS];
	bool		 have_since;
	int64_t		 since_ms;
};

/* Add a wanted value (the string is not copied); -1 when out of memory. */
int	filter_add(struct filter *, enum filter_key, const char *);
/* Only records received at or after an RFC 3339 time; -1 when it is not one. */
int	filter_since(struct filter *, const char *);
/* Every key given matches one of its values (AND across keys), and the time is not before. */
bool	filter_match(const struct filter *, const struct record_view *);
void	filter_free(struct filter *);

/* A string member of the record; NULL when it is null, missing or not a string. */
const char *record_string(const struct record_view *, const char *name);

/* RFC 3339 date-time (any fraction, Z or an offset) or full-date, to ms since the epoch. */
int	parse_rfc3339(const char *, int64_t *);

#endif
