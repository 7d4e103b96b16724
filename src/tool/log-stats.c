/* SPDX-License-Identifier: ISC */
/*
 * log-stats.c: `idwise-log stats`: records by type and outcome, per UTC day, distinct and
 * repeated ids, conflicts, first and last seq and time; a table, or JSON with --json. With
 * --journey, --reference or --id, of the records that have it only.
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
#include "log-filter.h"
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
	struct filter	 filter;
	uint64_t	 records;
	uint64_t	 first_seq, last_seq;
	int64_t		 first_ms, last_ms;
	uint64_t	 by[IDWISE_TYPES][IDWISE_OUTCOMES];
	uint64_t	 by_type[IDWISE_TYPES];		/* totals of by[] */
	uint64_t	 by_outcome[IDWISE_OUTCOMES];
	uint64_t	 conflicts;
	uint64_t	 repeated;	/* records whose id an earlier one has */
	struct idset	*ids;
	struct day_count *days;
	size_t		 ndays, daysize;
	char		 why[WHY_LEN];
};

/* --- counting ------------------------------------------------------------------------ */

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
	st->by_type[rec->type]++;
	st->by_outcome[rec->outcome]++;
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
	int			 rc = 0;

	if (!filter_may_match(&st->filter, line->text, line->len))
		return 0;
	if (log_record_read(st->reader, line->text, line->len, &rec, st->why,
	    sizeof(st->why)) == -1)
		return 1;
	if (filter_match(&st->filter, &rec.view) && (rc = count_record(st, &rec)) == -1)
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

/* --- the table ----------------------------------------------------------------------- */

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
		    digits(st->by_outcome[o]));
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
		if (st->by_type[t] > 0)
			print_row(idwise_type_name((int)t), namew, st->by[t], st->by_type[t],
			    widths);
	print_row("total", namew, st->by_outcome, st->records, widths);
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

/* --- JSON ---------------------------------------------------------------------------- */

static json_object *
new_count(uint64_t n)
{
	return json_object_new_int64((int64_t)n);
}

/* obj when every member went in (rc 0); else NULL, obj released. */
static json_object *
filled(json_object *obj, int rc)
{
	if (rc == 0)
		return obj;
	json_object_put(obj);
	return NULL;
}

/* {"first": a, "last": b}. */
static json_object *
new_range(json_object *first, json_object *last)
{
	json_object	*range;
	int		 rc;

	if (first == NULL || last == NULL || (range = json_object_new_object()) == NULL) {
		json_object_put(first);
		json_object_put(last);
		return NULL;
	}
	rc = json_put(range, "first", first);
	rc |= json_put(range, "last", last);
	return filled(range, rc);
}

static json_object *
new_time(int64_t ms)
{
	char	 text[RFC3339_MS_LEN + 1];

	format_ms(ms, text);
	return json_object_new_string(text);
}

/* {"NAME": n, ...}: counts[i] under name(i). */
static json_object *
new_counts(const char *(*name)(int), const uint64_t *counts, size_t n)
{
	json_object	*obj;
	size_t		 i;
	int		 rc = 0;

	if ((obj = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		rc |= json_put(obj, name((int)i), new_count(counts[i]));
	return filled(obj, rc);
}

/* {"approved": n, ..., "total": n} for one type. */
static json_object *
new_type_counts(const struct stats *st, size_t type)
{
	json_object	*counts;

	if ((counts = new_counts(idwise_outcome_name, st->by[type], IDWISE_OUTCOMES)) == NULL)
		return NULL;
	return filled(counts, json_put(counts, "total", new_count(st->by_type[type])));
}

/* The types that have records, each with its counts by outcome. */
static json_object *
new_by_type(const struct stats *st)
{
	json_object	*by = json_object_new_object();
	size_t		 t;
	int		 rc = by != NULL ? 0 : -1;

	for (t = 0; t < IDWISE_TYPES && rc == 0; t++)
		if (st->by_type[t] > 0)
			rc = json_put(by, idwise_type_name((int)t), new_type_counts(st, t));
	return filled(by, rc);
}

static json_object *
new_by_day(const struct stats *st)
{
	json_object	*by;
	char		 date[DATE_LEN + 1];
	size_t		 i;
	int		 rc = 0;

	if ((by = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < st->ndays; i++) {
		format_day(st->days[i].day, date);
		rc |= json_put(by, date, new_count(st->days[i].records));
	}
	return filled(by, rc);
}

static json_object *
new_files(char *const files[], int nfiles)
{
	json_object	*list, *name;
	int		 i, rc = 0;

	if ((list = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < nfiles; i++) {
		name = json_object_new_string(files[i]);
		if (name == NULL || json_object_array_add(list, name) != 0) {
			json_object_put(name);
			rc = -1;
		}
	}
	return filled(list, rc);
}

/* seq and received_at, first and last: null for an empty log. */
static int
put_ranges(json_object *out, const struct stats *st)
{
	int	 rc = 0;

	if (st->records == 0) {
		rc |= json_object_object_add(out, "seq", NULL);
		rc |= json_object_object_add(out, "received_at", NULL);
		return rc == 0 ? 0 : -1;
	}
	rc |= json_put(out, "seq", new_range(new_count(st->first_seq), new_count(st->last_seq)));
	rc |= json_put(out, "received_at", new_range(new_time(st->first_ms), new_time(st->last_ms)));
	return rc == 0 ? 0 : -1;
}

static int
print_json(const struct stats *st, char *const files[], int nfiles)
{
	json_object	*out;
	int		 rc = 0;

	if ((out = json_object_new_object()) == NULL)
		return -1;
	rc |= json_put(out, "files", new_files(files, nfiles));
	rc |= json_put(out, "records", new_count(st->records));
	rc |= put_ranges(out, st);
	rc |= json_put(out, "distinct_ids", new_count(idset_count(st->ids)));
	rc |= json_put(out, "repeated_ids", new_count(st->repeated));
	rc |= json_put(out, "conflicts", new_count(st->conflicts));
	rc |= json_put(out, "by_type", new_by_type(st));
	rc |= json_put(out, "by_outcome", new_counts(idwise_outcome_name, st->by_outcome,
	    IDWISE_OUTCOMES));
	rc |= json_put(out, "by_day", new_by_day(st));
	if (rc == 0)
		printf("%s\n", json_object_to_json_string_ext(out,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	return rc == 0 ? 0 : -1;
}

/* --- the command --------------------------------------------------------------------- */

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

static void
stats_free(struct stats *st)
{
	filter_free(&st->filter);
	log_reader_free(st->reader);
	idset_free(st->ids);
	free(st->days);
	free(st);
}

static const struct option stats_options[] = {
	{ "json",	no_argument,	NULL, 'j' },
	FILTER_LOOKUP_LONG_OPTIONS,
	{ NULL,		0,		NULL, 0 }
};

/* "[--json] [--journey ID]... [--reference REF]... [--id ID]... FILE...": EX_OK or EX_USAGE. */
static int
stats_args(struct stats *st, int argc, char **argv, bool *json)
{
	int	 ch;

	*json = false;
	while ((ch = getopt_long(argc, argv, "", stats_options, NULL)) != -1) {
		if (ch == 'j')
			*json = true;
		else if (filter_option(&st->filter, ch, optarg) != 1)
			return cmd_usage(argv[0]);
	}
	return optind < argc ? EX_OK : cmd_usage(argv[0]);
}

int
cmd_stats(int argc, char **argv)
{
	struct stats	*st;
	struct scan_at	 at;
	bool		 json;
	int		 rc;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		msg("out of memory");
		return EXIT_UNREADABLE;
	}
	if ((st->ids = idset_new()) == NULL || (st->reader = log_reader_new()) == NULL) {
		msg("out of memory");
		stats_free(st);
		return EXIT_UNREADABLE;
	}
	if ((rc = stats_args(st, argc, argv, &json)) != EX_OK) {
		stats_free(st);
		return rc;
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
