/* SPDX-License-Identifier: ISC */
/*
 * test-log-filter.c: the filters of idwise-log (log-filter.h): each key, several values
 * (OR) and several keys (AND), the options that add them, --since, and the quick test on
 * a raw line: it never rules out a line that matches, and rules out those that hold the
 * value only inside a longer string.
 */
#include "autoconf.h"

#include <getopt.h>
#include <stdbool.h>

#include "log-check.h"
#include "log-filter.h"
#include "tap.h"

#define PREV	"0000000000000000000000000000000000000000000000000000000000000000"
#define DIGEST	"281fe253b419c56eff1aff15274428b05a62b5ad9b28357da9f6940f96f47ac7"

/* A record as the writer writes it. */
static const char line[] =
    "{\"v\":1,\"seq\":7,\"received_at\":\"2026-11-25T16:40:26.000Z\","
    "\"id\":\"81e74ef5-e8e2-4d94-8ed9-04759531985d\",\"type\":\"finished_journey\","
    "\"event\":\"Finished Journey\",\"journey_id\":\"269e0d37f2a74de452e6b438\","
    "\"reference_no\":\"CUST-000840-23\",\"outcome\":\"approved\",\"env\":\"live\","
    "\"remote_addr\":\"192.0.2.10\",\"body_sha256\":\"" DIGEST "\",\"body\":{\"eventId\":"
    "\"81e74ef5-e8e2-4d94-8ed9-04759531985d\",\"journeyId\":\"269e0d37f2a74de452e6b438\","
    "\"referenceNo\":\"CUST-000840-23\",\"systemDecision\":\"Complete\",\"note\":"
    "\"see CUST-000840-2\"},\"prev\":\"" PREV "\"}";

static struct log_reader	*reader;
static struct log_record	 rec;

/* Does a filter of one value of one key match the record, and does the quick test pass it? */
static void
check_one(enum filter_key key, const char *value, bool want, const char *what)
{
	struct filter	 f = { 0 };

	if (filter_add(&f, key, value) == -1) {
		ok(0, "%s: filter_add", what);
		return;
	}
	is_int(filter_match(&f, &rec.view), want, "%s: filter_match", what);
	is_int(filter_may_match(&f, line, sizeof(line) - 1), want, "%s: filter_may_match",
	    what);
	filter_free(&f);
}

static void
check_keys(void)
{
	check_one(FILTER_JOURNEY, "269e0d37f2a74de452e6b438", true, "--journey, the record's");
	check_one(FILTER_JOURNEY, "269e0d37f2a74de452e6b43", false,
	    "--journey, a prefix of the record's");
	check_one(FILTER_REFERENCE, "CUST-000840-23", true, "--reference, the record's");
	check_one(FILTER_REFERENCE, "CUST-000840-2", false,
	    "--reference, a prefix that is in the body inside a longer string");
	check_one(FILTER_ID, "81e74ef5-e8e2-4d94-8ed9-04759531985d", true, "--id, the record's");
	check_one(FILTER_ID, "81e74ef5", false, "--id, a part of it");
	check_one(FILTER_TYPE, "finished_journey", true, "--type, the record's");
	check_one(FILTER_ENV, "sandbox", false, "--env, another");
}

static void
check_passed_not_matching(void)
{
	struct filter	 f = { 0 };

	filter_add(&f, FILTER_JOURNEY, "CUST-000840-23");
	ok(filter_may_match(&f, line, sizeof(line) - 1),
	    "the quick test passes a line that holds the value in another member");
	ok(!filter_match(&f, &rec.view), "and filter_match, on the record, rules it out");
	filter_free(&f);
	filter_add(&f, FILTER_REFERENCE, "CUST \"x\"");
	ok(filter_may_match(&f, line, sizeof(line) - 1),
	    "a value the writer would escape is not looked for: the line passes");
	ok(!filter_match(&f, &rec.view), "and is ruled out on the record");
	filter_free(&f);
}

static void
check_or_and(void)
{
	struct filter	 f = { 0 };

	filter_add(&f, FILTER_JOURNEY, "000000000000000000000000");
	filter_add(&f, FILTER_JOURNEY, "269e0d37f2a74de452e6b438");
	ok(filter_match(&f, &rec.view) && filter_may_match(&f, line, sizeof(line) - 1),
	    "two journeys: a record with either matches");
	filter_add(&f, FILTER_OUTCOME, "rejected");
	ok(!filter_match(&f, &rec.view) && !filter_may_match(&f, line, sizeof(line) - 1),
	    "and an outcome it does not have: it does not (keys AND)");
	filter_free(&f);
	ok(!filter_has_values(&f), "an empty filter asks for no value");
	ok(filter_match(&f, &rec.view) && filter_may_match(&f, line, sizeof(line) - 1),
	    "and passes every record");
}

static void
check_options(void)
{
	static const struct option options[] = {
		FILTER_MEMBER_LONG_OPTIONS, FILTER_LOOKUP_LONG_OPTIONS
	};
	struct filter	 f = { 0 };
	size_t		 i;
	int		 taken = 0;

	for (i = 0; i < nitems(options); i++)
		taken += filter_option(&f, options[i].val, "v") == 1;
	is_int(taken, FILTER_NKEYS, "each filter option is taken by filter_option");
	is_int(f.want[FILTER_ID].n, 1, "--id adds to the id key");
	is_str(f.want[FILTER_REFERENCE].v[0], "v", "with the value given");
	is_int(filter_option(&f, 'j', "v"), 0, "another option is not one of them");
	ok(filter_has_values(&f), "a filter with values has values");
	filter_free(&f);
	is_int(filter_since(&f, "2026-11-25T16:40:26Z"), 0, "--since takes an RFC 3339 time");
	ok(filter_match(&f, &rec.view), "a record received at that time passes");
	is_int(filter_since(&f, "2026-11-25T16:40:26.001Z"), 0, "--since a ms later");
	ok(!filter_match(&f, &rec.view), "the record is before it");
	is_int(filter_since(&f, "yesterday"), -1, "--since refuses what is not a time");
	filter_free(&f);
}

int
main(void)
{
	char	 why[256] = "";

	if ((reader = log_reader_new()) == NULL ||
	    log_record_read(reader, line, sizeof(line) - 1, &rec, why, sizeof(why)) == -1) {
		printf("Bail out! the test record is not read: %s\n", why);
		return 1;
	}
	check_keys();
	check_passed_not_matching();
	check_or_and();
	check_options();
	log_record_free(&rec);
	log_reader_free(reader);
	return done_testing();
}
