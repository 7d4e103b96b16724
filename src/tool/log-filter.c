/* SPDX-License-Identifier: ISC */
/* log-filter.c: record filters for idwise-log follow, exec, stats and show. */
#include "autoconf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "idwise.h"
#include "log-filter.h"
#include "record.h"
#include "util.h"

/* What each key matches in the record, and how a value is known (NULL: any value). */
static const struct {
	const char	*member;
	const char	*option;
	int		 (*lookup)(const char *);	/* -1: no record can have it */
} keys[FILTER_NKEYS] = {
	[FILTER_TYPE] =		{ "type",	"--type",	idwise_type_lookup },
	[FILTER_OUTCOME] =	{ "outcome",	"--outcome",	idwise_outcome_lookup },
	[FILTER_ENV] =		{ "env",	"--env",	NULL },
	[FILTER_JOURNEY] =	{ "journey_id",	"--journey",	NULL },
	[FILTER_REFERENCE] =	{ "reference_no", "--reference", NULL },
	[FILTER_ID] =		{ "id",		"--id",		NULL },
};

static bool
in_set(const struct strset *set, const char *s)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->v[i], s) == 0)
			return true;
	return false;
}

int
filter_add(struct filter *f, enum filter_key key, const char *value)
{
	struct strset	*set = &f->want[key];
	const char	**grown;

	if (keys[key].lookup != NULL && keys[key].lookup(value) == -1)
		msg("%s %s: no record of this log format has that %s; it will match nothing "
		    "unless a newer writer makes one", keys[key].option, value, keys[key].member);
	if ((grown = reallocarray(set->v, set->n + 1, sizeof(*set->v))) == NULL)
		return -1;
	set->v = grown;
	set->v[set->n++] = value;
	return 0;
}

int
filter_option(struct filter *f, int ch, const char *arg)
{
	if (ch < FILTER_OPT || ch >= FILTER_OPT + FILTER_NKEYS)
		return 0;
	if (filter_add(f, (enum filter_key)(ch - FILTER_OPT), arg) == -1) {
		msg("out of memory");
		return -1;
	}
	return 1;
}

int
filter_since(struct filter *f, const char *text)
{
	if (parse_rfc3339(text, &f->since_ms) == -1)
		return -1;
	f->have_since = true;
	return 0;
}

const char *
record_string(const struct record_view *view, const char *name)
{
	json_object	*value;

	if (!json_object_object_get_ex(view->json, name, &value) ||
	    !json_object_is_type(value, json_type_string))
		return NULL;
	return json_object_get_string(value);
}

bool
filter_match(const struct filter *f, const struct record_view *view)
{
	const char	*value;
	size_t		 k;

	if (f->have_since && view->received_ms < f->since_ms)
		return false;
	for (k = 0; k < FILTER_NKEYS; k++) {
		if (f->want[k].n == 0)
			continue;
		if ((value = record_string(view, keys[k].member)) == NULL ||
		    !in_set(&f->want[k], value))
			return false;
	}
	return true;
}

bool
filter_has_values(const struct filter *f)
{
	size_t	 k;

	for (k = 0; k < FILTER_NKEYS; k++)
		if (f->want[k].n > 0)
			return true;
	return false;
}

/* Would the writer write s as it is between quotes (idwise-events(5): the line, byte for byte)? */
static bool
written_verbatim(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* Is "value" (with its quotes) in the line? */
static bool
has_quoted(const char *line, size_t len, const char *value)
{
	size_t		 n = strlen(value);
	const char	*p = line, *end = line + len;

	while ((size_t)(end - p) >= n + 2 && (p = memmem(p + 1, (size_t)(end - p) - 1, value,
	    n)) != NULL) {
		if (p + n < end && p[-1] == '"' && p[n] == '"')
			return true;
	}
	return false;
}

/* Could the line hold one of the set's values? */
static bool
may_hold(const struct strset *set, const char *line, size_t len)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		if (!written_verbatim(set->v[i]) || has_quoted(line, len, set->v[i]))
			return true;
	return false;
}

bool
filter_may_match(const struct filter *f, const char *line, size_t len)
{
	size_t	 k;

	for (k = 0; k < FILTER_NKEYS; k++)
		if (f->want[k].n > 0 && !may_hold(&f->want[k], line, len))
			return false;
	return true;
}

void
filter_free(struct filter *f)
{
	size_t	 k;

	for (k = 0; k < FILTER_NKEYS; k++)
		free(f->want[k].v);
	memset(f, 0, sizeof(*f));
}

/* ".123456" → milliseconds (further digits dropped); returns where it stopped. */
static const char *
parse_fraction(const char *p, int64_t *ms)
{
	int64_t	 scale = 100;

	*ms = 0;
	if (*p != '.')
		return p;
	if (!isdigit((unsigned char)*++p))
		return NULL;
	for (; isdigit((unsigned char)*p); p++, scale /= 10)
		*ms += (*p - '0') * scale;
	return p;
}

/* "Z", or "+HH:MM" / "-HH:MM": minutes east of UTC. */
static const char *
parse_offset(const char *p, int *minutes)
{
	int	 sign;

	if (*p == 'Z' || *p == 'z') {
		*minutes = 0;
		return p + 1;
	}
	if (*p != '+' && *p != '-')
		return NULL;
	sign = *p == '-' ? -1 : 1;
	if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
	    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
		return NULL;
	*minutes = sign * (((p[1] - '0') * 10 + (p[2] - '0')) * 60 +
	    (p[4] - '0') * 10 + (p[5] - '0'));
	return p + 6;
}

int
parse_rfc3339(const char *text, int64_t *ms)
{
	struct tm	 tm;
	const char	*p;
	int64_t		 frac = 0;
	int		 offset = 0;
	time_t		 secs;

	memset(&tm, 0, sizeof(tm));
	if (!isdigit((unsigned char)*text) || (p = strptime(text, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*p != '\0') {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -1;
		if ((p = strptime(p + 1, "%H:%M:%S", &tm)) == NULL ||
		    (p = parse_fraction(p, &frac)) == NULL ||
		    (p = parse_offset(p, &offset)) == NULL || *p != '\0')
			return -1;
	}
	if ((secs = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms = (int64_t)secs * 1000 + frac - (int64_t)offset * 60 * 1000;
	return 0;
}
