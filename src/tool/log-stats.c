/* SPDX-License-Identifier: ISC */
/*
 * log-stats.c: `idwise-log stats`: records by type and outcome, per UTC day, distinct and
 * repeated ids, conflicts, first and last seq and time; a table, or JSON with --json.
 */
#include "autoconf.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "idset.h"
#include "idwise-log.h"
#include "idwise.h"
#include "log-check.h"
#include "log-scan.h"
#include "util.h"

#define WHY_LEN		256
#define MS_PER_DAY	INT64_C(86400000)
#define DATE_LEN	10	/* 2026-11-25 */

static const char duplicates_note[] =
    "Redeliveries answered \"duplicate\" are never appended: they are not in the log and\n"
    "not counted here. The responder counts them: idwise_duplicates_total on its status\n"
    "page (status_path).\n";

struct day_count {
	int64_t		 day;		/* days since 1970-01-01, UTC */
	uint64_t	 records;
};

struct stats {
	struct log_reader *reader;
	uint64_t	 records;
	uint64_t	 first_seq, last_seq;
	int64_t		 first_ms, last_ms;
	uint64_t	 by[IDWISE_TYPES][IDWISE_OUTCOMES];
	uint64_t	 conflicts;
	uint64_t	 repeated;	/* records whose id an earlier one has */
	struct idset	*ids;
	struct day_count *days;
	size_t		 ndays, daysize;
	char		 why[WHY_LEN];
};

/* Division rounding down, for times before 1970 too. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a - 1) / b) - 1;
}

static int64_t
day_of(int64_t ms)
{
	return floor_div(ms, MS_PER_DAY);
}

static void
format_ms(int64_t ms, char out[RFC3339_MS_LEN + 1])
{
	struct timespec	 ts;

	ts.tv_sec = (time_t)floor_div(ms, 1000);
	ts.tv_nsec = (long)(ms - floor_div(ms, 1000) * 1000) * 1000000;
	format_rfc3339_ms(&ts, out);
}

static void
format_day(int64_t day, char out[DATE_LEN + 1])
{
	char	 text[RFC3339_MS_LEN + 1];

	format_ms(day * MS_PER_DAY, text);
	memcpy(out, text, DATE_LEN);
	out[DATE_LEN] = '\0';
}

/* One more record on its day; records come in time order, so it is nearly always the last. */
static int
count_day(struct stats *st, int64_t day)
{
	struct day_count	*grown;
	size_t			 i;

	for (i = st->ndays; i > 0; i--) {
		if (st->days[i - 1].day == day) {
			st->days[i - 1].records++;
			return 0;
		}
	}
	if (st->ndays == st->daysize) {
		st->daysize = st->daysize == 0 ? 64 : st->daysize * 2;
		if ((grown = realloc(st->days, st->daysize * sizeof(*grown))) == NULL)
			return -1;
		st->days = grown;
	}
	st->days[st->ndays].day = day;
	st->days[st->ndays++].records = 1;
	return 0;
}

static int
count_record(struct stats *st, const struct log_record *rec)
{
	int	 fresh;

	if (st->records++ == 0) {
		st->first_seq = rec->view.seq;
		st->first_ms = rec->view.received_ms;
	}
	st->last_seq = rec->view.seq;
	st->last_ms = rec->view.received_ms;
	st->by[rec->type][rec->outcome]++;
	if (rec->view.conflict)
		st->conflicts++;
	if ((fresh = idset_add(st->ids, rec->view.id, rec->view.id_len)) == -1)
		return -1;
	if (fresh == 0)
		st->repeated++;
	return count_day(st, day_of(rec->view.received_ms));
}

static int
stats_line(const struct scan_line *line, void *arg)
{
	struct stats		*st = arg;
	struct log_record	 rec;
	int			 rc;

	if (log_record_read(st->reader, line->text, line->len, &rec, st->why,
	    sizeof(st->why)) == -1)
		return 1;
	if ((rc = count_record(st, &rec)) == -1)
		snprintf(st->why, sizeof(st->why), "out of memory");
	log_record_free(&rec);
	return rc == 0 ? 0 : 1;
}

static int
compare_days(const void *a, const void *b)
{
	const struct day_count	*x = a, *y = b;

	return (x->day > y->day) - (x->day < y->day);
}

static uint64_t
type_total(const struct stats *st, size_t type)
{
	uint64_t	 n = 0;
	size_t		 o;

	for (o = 0; o < IDWISE_OUTCOMES; o++)
		n += st->by[type][o];
	return n;
}

static uint64_t
outcome_total(const struct stats *st, size_t outcome)
{
	uint64_t	 n = 0;
	size_t		 t;

	for (t = 0; t < IDWISE_TYPES; t++)
		n += st->by[t][outcome];
	return n;
}

/* --- the table ------------------------------------------------------------------- */

static int
digits(uint64_t n)
{
	int	 d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

static int
max_int(int a, int b)
{
	return a > b ? a : b;
}

/* Each column as wide as its name or its widest number (the total is the widest). */
static void
column_widths(const struct stats *st, int widths[IDWISE_OUTCOMES + 1])
{
	size_t	 o;

	for (o = 0; o < IDWISE_OUTCOMES; o++)
		widths[o] = max_int((int)strlen(idwise_outcome_name((int)o)),
		    digits(outcome_total(st, o)));
	widths[IDWISE_OUTCOMES] = max_int((int)strlen("total"), digits(st->records));
}

static void
print_row(const char *name, int namew, const uint64_t counts[IDWISE_OUTCOMES],
    uint64_t total, const int widths[IDWISE_OUTCOMES + 1])
{
	size_t	 o;

	printf("%-*s", namew, name);
	for (o = 0; o < IDWISE_OUTCOMES; o++)
		printf("  %*" PRIu64, widths[o], counts[o]);
	printf("  %*" PRIu64 "\n", widths[IDWISE_OUTCOMES], total);
}

static void
print_types(const struct stats *st)
{
	uint64_t	 totals[IDWISE_OUTCOMES];
	int		 widths[IDWISE_OUTCOMES + 1], namew = (int)strlen("type");
	size_t		 t, o;

	for (t = 0; t < IDWISE_TYPES; t++)
		namew = max_int(namew, (int)strlen(idwise_type_name((int)t)));
	column_widths(st, widths);
	printf("%-*s", namew, "type");
	for (o = 0; o < IDWISE_OUTCOMES; o++)
		printf("  %*s", widths[o], idwise_outcome_name((int)o));
	printf("  %*s\n", widths[IDWISE_OUTCOMES], "total");
	for (t = 0; t < IDWISE_TYPES; t++)
		if (type_total(st, t) > 0)
			print_row(idwise_type_name((int)t), namew, st->by[t], type_total(st, t),
			    widths);
	for (o = 0; o < IDWISE_OUTCOMES; o++)
		totals[o] = outcome_total(st, o);
	print_row("total", namew, totals, st->records, widths);
}

static void
print_days(const struct stats *st)
{
	char	 date[DATE_LEN + 1];
	int	 w = max_int((int)strlen("records"), digits(st->records));
	size_t	 i;

	printf("%-*s  %*s\n", DATE_LEN, "day", w, "records");
	for (i = 0; i < st->ndays; i++) {
		format_day(st->days[i].day, date);
		printf("%s  %*" PRIu64 "\n", date, w, st->days[i].records);
	}
}

static void
print_table(const struct stats *st, char *const files[], int nfiles)
{
	char	 first[RFC3339_MS_LEN + 1], last[RFC3339_MS_LEN + 1];
	int	 i;

	printf("%-13s", "files");
	for (i = 0; i < nfiles; i++)
		printf(" %s", files[i]);
	printf("\n%-13s %" PRIu64 "\n", "records", st->records);
	if (st->records > 0) {
		format_ms(st->first_ms, first);
		format_ms(st->last_ms, last);
		printf("%-13s %" PRIu64 "..%" PRIu64 "\n", "seq", st->first_seq, st->last_seq);
		printf("%-13s %s .. %s\n", "received_at", first, last);
	}
	printf("%-13s %zu\n", "distinct ids", idset_count(st->ids));
	printf("%-13s %" PRIu64 " (records whose id an earlier record here has)\n",
	    "repeated ids", st->repeated);
	printf("%-13s %" PRIu64 " (records marked \"conflict\":true)\n", "conflicts",
	    st->conflicts);
	printf("\n%s\n", duplicates_note);
	print_types(st);
	printf("\n");
	print_days(st);
}

/* --- JSON -------------------------------------------------------------------------- */

/* Adds value (NULL when memory ran out) under name; -1 when it could not. */
static int
put(json_object *obj, const char *name, json_object *value)
{
	if (value == NULL)
		return -1;
	if (json_object_object_add(obj, name, value) == 0)
		return 0;
	json_object_put(value);
	return -1;
}

static json_object *
new_count(uint64_t n)
{
	return json_object_new_int64((int64_t)n);
}

/* {"first": a, "last": b}, or null for an empty log. */
static json_object *
new_range(json_object *first, json_object *last)
{
	json_object	*range;
	int		 rc = 0;

	if (first == NULL || last == NULL || (range = json_object_new_object()) == NULL) {
		json_object_put(first);
		json_object_put(last);
		return NULL;
	}
	rc |= put(range, "first", first);
	rc |= put(range, "last", last);
	if (rc == 0)
		return range;
	json_object_put(range);
	return NULL;
}

static json_object *
new_time(int64_t ms)
{
	char	 text[RFC3339_MS_LEN + 1];

	format_ms(ms, text);
	return json_object_new_string(text);
}

/* {"approved": n, ..., "total": n} for one type. */
static json_object *
new_type_counts(const struct stats *st, size_t type)
{
	json_object	*counts;
	size_t		 o;
	int		 rc = 0;

	if ((counts = json_object_new_object()) == NULL)
		return NULL;
	for (o = 0; o < IDWISE_OUTCOMES; o++)
		rc |= put(counts, idwise_outcome_name((int)o), new_count(st->by[type][o]));
	rc |= put(counts, "total", new_count(type_total(st, type)));
	if (rc == 0)
		return counts;
	json_object_put(counts);
	return NULL;
}

static int
put_by_type(json_object *out, const struct stats *st)
{
	json_object	*by;
	size_t		 t;
	int		 rc = 0;

	if ((by = json_object_new_object()) == NULL)
		return -1;
	for (t = 0; t < IDWISE_TYPES; t++)
		if (type_total(st, t) > 0)
			rc |= put(by, idwise_type_name((int)t), new_type_counts(st, t));
	if (rc == 0)
		return put(out, "by_type", by);
	json_object_put(by);
	return -1;
}

static int
put_by_outcome(json_object *out, const struct stats *st)
{
	json_object	*by;
	size_t		 o;
	int		 rc = 0;

	if ((by = json_object_new_object()) == NULL)
		return -1;
	for (o = 0; o < IDWISE_OUTCOMES; o++)
		rc |= put(by, idwise_outcome_name((int)o), new_count(outcome_total(st, o)));
	if (rc == 0)
		return put(out, "by_outcome", by);
	json_object_put(by);
	return -1;
}

static int
put_by_day(json_object *out, const struct stats *st)
{
	json_object	*by;
	char		 date[DATE_LEN + 1];
	size_t		 i;
	int		 rc = 0;

	if ((by = json_object_new_object()) == NULL)
		return -1;
	for (i = 0; i < st->ndays; i++) {
		format_day(st->days[i].day, date);
		rc |= put(by, date, new_count(st->days[i].records));
	}
	if (rc == 0)
		return put(out, "by_day", by);
	json_object_put(by);
	return -1;
}

static int
put_files(json_object *out, char *const files[], int nfiles)
{
	json_object	*list, *name;
	int		 i, rc = 0;

	if ((list = json_object_new_array()) == NULL)
		return -1;
	for (i = 0; i < nfiles; i++) {
		name = json_object_new_string(files[i]);
		if (name == NULL || json_object_array_add(list, name) != 0) {
			json_object_put(name);
			rc = -1;
		}
	}
	if (rc == 0)
		return put(out, "files", list);
	json_object_put(list);
	return -1;
}

static int
put_ranges(json_object *out, const struct stats *st)
{
	int	 rc = 0;

	if (st->records == 0) {
		rc |= json_object_object_add(out, "seq", NULL);
		rc |= json_object_object_add(out, "received_at", NULL);
		return rc == 0 ? 0 : -1;
	}
	rc |= put(out, "seq", new_range(new_count(st->first_seq), new_count(st->last_seq)));
	rc |= put(out, "received_at", new_range(new_time(st->first_ms), new_time(st->last_ms)));
	return rc == 0 ? 0 : -1;
}

static int
print_json(const struct stats *st, char *const files[], int nfiles)
{
	json_object	*out;
	int		 rc = 0;

	if ((out = json_object_new_object()) == NULL)
		return -1;
	rc |= put_files(out, files, nfiles);
	rc |= put(out, "records", new_count(st->records));
	rc |= put_ranges(out, st);
	rc |= put(out, "distinct_ids", new_count(idset_count(st->ids)));
	rc |= put(out, "repeated_ids", new_count(st->repeated));
	rc |= put(out, "conflicts", new_count(st->conflicts));
	rc |= put_by_type(out, st);
	rc |= put_by_outcome(out, st);
	rc |= put_by_day(out, st);
	if (rc == 0)
		printf("%s\n", json_object_to_json_string_ext(out,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	return rc == 0 ? 0 : -1;
}

/* --- the command ------------------------------------------------------------------- */

/* One line naming the file and line for damage found while reading. */
static int
report_scan(const struct stats *st, enum scan_end end, const struct scan_at *at)
{
	switch (end) {
	case SCAN_DONE:
		return EX_OK;
	case SCAN_STOPPED:
		msg("%s:%" PRIu64 ": %s", at->file, at->lineno, st->why);
		break;
	case SCAN_TORN:
		msg("%s:%" PRIu64 ": incomplete last line (torn)", at->file, at->lineno);
		break;
	case SCAN_TOO_LONG:
		msg("%s:%" PRIu64 ": line longer than %zu bytes", at->file, at->lineno,
		    LOG_LINE_MAX);
		break;
	case SCAN_UNREADABLE:
		return EXIT_UNREADABLE;
	}
	return EXIT_DAMAGED;
}

static const struct option stats_options[] = {
	{ "json",	no_argument,	NULL, 'j' },
	{ NULL,		0,		NULL, 0 }
};

static void
stats_free(struct stats *st)
{
	log_reader_free(st->reader);
	idset_free(st->ids);
	free(st->days);
	free(st);
}

int
cmd_stats(int argc, char **argv)
{
	struct stats	*st;
	struct scan_at	 at;
	bool		 json = false;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", stats_options, NULL)) != -1) {
		if (ch != 'j')
			return cmd_usage(argv[0]);
		json = true;
	}
	if (optind == argc)
		return cmd_usage(argv[0]);
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		msg("out of memory");
		return EXIT_UNREADABLE;
	}
	if ((st->ids = idset_new()) == NULL || (st->reader = log_reader_new()) == NULL) {
		msg("out of memory");
		stats_free(st);
		return EXIT_UNREADABLE;
	}
	rc = report_scan(st, log_scan(argv + optind, argc - optind, stats_line, st, &at), &at);
	if (rc == EX_OK) {
		if (st->ndays > 0)
			qsort(st->days, st->ndays, sizeof(*st->days), compare_days);
		if (json && print_json(st, argv + optind, argc - optind) == -1) {
			msg("out of memory");
			rc = EXIT_UNREADABLE;
		} else if (!json)
			print_table(st, argv + optind, argc - optind);
	}
	stats_free(st);
	return rc;
}
