/* SPDX-License-Identifier: ISC */
/*
 * log-filter.h: which records a consumer of the log wants: by type, outcome, env, journey,
 * reference number, id and time; and a quick test on a raw line that rules most lines out
 * before they are parsed.
 */
#ifndef IDW_LOG_FILTER_H
#define IDW_LOG_FILTER_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct record_view;

/* The record members a filter can ask for; each may be given several values (OR). */
enum filter_key {
	FILTER_TYPE,
	FILTER_OUTCOME,
	FILTER_ENV,
	FILTER_JOURNEY,		/* journey_id */
	FILTER_REFERENCE,	/* reference_no */
	FILTER_ID,		/* id */
	FILTER_NKEYS
};

/*
 * The filter options as getopt_long rows, each with the code FILTER_OPT + its key:
 * --type, --outcome and --env (follow and exec), --journey, --reference and --id (those
 * two, stats and show). filter_option() takes them.
 */
#define FILTER_OPT	0x1000
#define FILTER_MEMBER_LONG_OPTIONS					\
	{ "type",	required_argument, NULL, FILTER_OPT + FILTER_TYPE },	\
	{ "outcome",	required_argument, NULL, FILTER_OPT + FILTER_OUTCOME },	\
	{ "env",	required_argument, NULL, FILTER_OPT + FILTER_ENV }
#define FILTER_LOOKUP_LONG_OPTIONS					\
	{ "journey",	required_argument, NULL, FILTER_OPT + FILTER_JOURNEY },	\
	{ "reference",	required_argument, NULL, FILTER_OPT + FILTER_REFERENCE }, \
	{ "id",		required_argument, NULL, FILTER_OPT + FILTER_ID }

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
/* getopt_long's ch and optarg: 1 one of the options above, taken; 0 not one; -1 (said why). */
int	filter_option(struct filter *, int ch, const char *arg);
/* Only records received at or after an RFC 3339 time; -1 when it is not one. */
int	filter_since(struct filter *, const char *);
/* Every key given matches one of its values (AND across keys), and the time is not before. */
bool	filter_match(const struct filter *, const struct record_view *);
/* Is a value asked for (of any key)? Then filter_may_match() can rule lines out. */
bool	filter_has_values(const struct filter *);
/*
 * Could the raw line (a record as the writer writes it, idwise-events(5)) match? false
 * only when it cannot: for some key, no value asked for is in it as a JSON string. A value
 * the writer would escape (a '"', '\' or control character) is not looked for. A line it
 * passes must still be parsed and checked with filter_match().
 */
bool	filter_may_match(const struct filter *, const char *line, size_t len);
void	filter_free(struct filter *);

/* A string member of the record; NULL when it is null, missing or not a string. */
const char *record_string(const struct record_view *, const char *name);

/* RFC 3339 date-time (any fraction, Z or an offset) or full-date, to ms since the epoch. */
int	parse_rfc3339(const char *, int64_t *);

#endif
