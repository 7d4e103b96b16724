/* SPDX-License-Identifier: ISC */
/* test-idwise.c: every sample delivery and every decision maps to the right record fields. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "idwise.h"
#include "tap.h"

#define JOURNEY	"269e0d37f2a74de452e6b438"
#define REF	"CUST-000840-23"

struct sample {
	const char	*file;
	const char	*type;
	const char	*outcome;
	const char	*id;		/* NULL: sha256 of the file */
	const char	*journey;
	const char	*reference;
};

static const struct sample samples[] = {
	{ "aml_monitor_update.json", "aml_monitor_update", "review",
	    "d3ac94af-0f21-4db6-acad-4a268d116ece", JOURNEY, REF },
	{ "finished_journey.json", "finished_journey", "approved",
	    "81e74ef5-e8e2-4d94-8ed9-04759531985d", JOURNEY, REF },
	{ "finished_ongoing_check.json", "finished_spot_check", "review",
	    "2217bead-dbc4-46cb-8e81-973e0becd7b0", JOURNEY, REF },
	{ "finished_spot_check.json", "finished_spot_check", "approved",
	    "39263059-f28c-405d-9fb1-7c2390c192cf", "953f48f1a09f76b5a170b338", REF },
	{ "finished_step.json", "finished_step", "none",
	    "128b2f33-0c5c-4fd0-a6a3-a4506513270e", JOURNEY, REF },
	{ "finished_user_steps.json", "finished_user_steps", "pending",
	    "5d9dc9f8-1818-4811-892f-902bd23f0824", JOURNEY, REF },
	{ "kyc_renewal_deadline_exceeded.json", "kyc_renewal_deadline_exceeded", "none",
	    "3898d190-f9eb-4acc-8cb1-e29c658cda14", JOURNEY, REF },
	{ "manually_reviewed.json", "manually_reviewed", "approved",
	    "6f03675a-1600-435a-8999-50d836f675cc", JOURNEY, REF },
	{ "step_submitted.json", "step_submitted", "none", NULL, JOURNEY, REF },
	{ "updated_journey.json", "updated_journey", "rejected",
	    "1738f7d9-3d9c-4724-91e2-0b8f6b0d549b", JOURNEY, REF },
	{ "verification_update_required.json", "verification_update_required", "approved",
	    "95e60af5-93bd-44cf-8fd6-30f1f29d0da9", JOURNEY, REF },
};

static char *
read_file(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 size;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = malloc((size_t)size + 1);
	if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL) {
		buf[size] = '\0';
		*len = (size_t)size;
	}
	return buf;
}

static const char *
str_or_null(json_object *o)
{
	return o != NULL ? json_object_get_string(o) : NULL;
}

/* Classify text as a delivery from 192.0.2.1 labelled "live". */
static int
classify(struct event *ev, const char *text, size_t len)
{
	json_object	*root;
	int		 rc;

	if ((root = json_tokener_parse(text)) == NULL)
		return -1;
	rc = event_classify(ev, root, (const unsigned char *)text, len, "live", "192.0.2.1");
	json_object_put(root);
	return rc;
}

static void
test_sample(const char *dir, const struct sample *s)
{
	struct event	 ev;
	unsigned char	 digest[SHA256_LEN];
	char		 path[4096], want_id[80], hex[SHA256_HEX_LEN + 1];
	char		*text;
	size_t		 len;

	snprintf(path, sizeof(path), "%s/%s", dir, s->file);
	if ((text = read_file(path, &len)) == NULL || classify(&ev, text, len) == -1) {
		ok(0, "%s: read and classified", s->file);
		free(text);
		return;
	}
	sha256(text, len, digest);
	hex_encode(digest, SHA256_LEN, hex);
	if (s->id != NULL)
		snprintf(want_id, sizeof(want_id), "%s", s->id);
	else
		snprintf(want_id, sizeof(want_id), "sha256:%s", hex);
	is_str(ev.type, s->type, "%s: type", s->file);
	is_str(ev.outcome, s->outcome, "%s: outcome", s->file);
	is_str(json_object_get_string(ev.id), want_id, "%s: id", s->file);
	is_str(str_or_null(ev.journey_id), s->journey, "%s: journey_id", s->file);
	is_str(str_or_null(ev.reference_no), s->reference, "%s: reference_no", s->file);
	is_str(ev.body_sha256, hex, "%s: body_sha256 is the raw file's", s->file);
	event_free(&ev);
	free(text);
}

struct ocase {
	const char	*body;
	const char	*outcome;
};

static const struct ocase outcomes[] = {
	{ "{\"systemDecision\":\"Complete\"}", "approved" },
	{ "{\"systemDecision\":\"Passed\"}", "approved" },
	{ "{\"systemDecision\":\"Rejected\"}", "rejected" },
	{ "{\"systemDecision\":\"Refer\"}", "review" },
	{ "{\"systemDecision\":\"Incomplete\"}", "pending" },
	{ "{\"systemDecision\":\"complete\"}", "unknown" },
	{ "{\"systemDecision\":\"Complete \"}", "unknown" },
	{ "{\"systemDecision\":\"Weird\"}", "unknown" },
	{ "{\"systemDecision\":5}", "unknown" },
	{ "{\"systemDecision\":\"\"}", "unknown" },
	{ "{\"manualDecision\":\"Approved\",\"systemDecision\":\"Refer\"}", "approved" },
	{ "{\"manualDecision\":\"Resubmission Requested\",\"systemDecision\":\"Refer\"}",
	    "resubmission" },
	{ "{\"manualDecision\":null,\"systemDecision\":\"Refer\"}", "review" },
	{ "{\"finalDecision\":null,\"manualDecision\":\"Rejected\",\"systemDecision\":\"Complete\"}",
	    "rejected" },
	{ "{\"finalDecision\":\"Rejected\",\"manualDecision\":\"Approved\"}", "rejected" },
	{ "{\"finalDecision\":\"Approved\",\"systemDecision\":\"Refer\"}", "approved" },
	{ "{}", "none" },
	{ "{\"manualDecision\":null}", "none" },
};

static void
test_outcomes(void)
{
	struct event	 ev;
	char		 text[512];
	size_t		 i;

	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		snprintf(text, sizeof(text), "{\"event\":\"Finished Journey\",\"body\":%s}",
		    outcomes[i].body);
		if (classify(&ev, text, strlen(text)) == -1) {
			ok(0, "classifies %s", outcomes[i].body);
			continue;
		}
		is_str(ev.outcome, outcomes[i].outcome, "outcome of %s", outcomes[i].body);
		event_free(&ev);
	}
}

static void
test_fields(void)
{
	struct event	 ev;
	const char	*text;

	text = "{\"event\":\"Something New\",\"body\":{\"eventId\":\"e1\",\"journeyId\":7,"
	    "\"referenceNo\":null}}";
	classify(&ev, text, strlen(text));
	is_str(ev.type, "unknown", "an unknown event name is type unknown");
	ok(ev.journey_id == NULL, "a non-string journeyId is null");
	ok(ev.reference_no == NULL, "referenceNo null stays null");
	is_str(json_object_get_string(ev.event_name), "Something New", "event kept as sent");
	event_free(&ev);

	text = "{\"event\":\"finished journey\",\"body\":{}}";
	classify(&ev, text, strlen(text));
	is_str(ev.type, "unknown", "event names are case-sensitive");
	ok(ev.reference_no == NULL && ev.journey_id == NULL, "absent ids are null");
	ok(strncmp(json_object_get_string(ev.id), "sha256:", 7) == 0,
	    "no eventId: the id is sha256 of the body");
	event_free(&ev);

	text = "{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"\",\"stepId\":20}}";
	classify(&ev, text, strlen(text));
	ok(strncmp(json_object_get_string(ev.id), "sha256:", 7) == 0,
	    "an empty eventId falls back to the sha256 id");
	event_free(&ev);

	text = "{\"event\":\"Finished Step\",\"body\":{\"eventId\":12}}";
	classify(&ev, text, strlen(text));
	ok(strncmp(json_object_get_string(ev.id), "sha256:", 7) == 0,
	    "a numeric eventId falls back to the sha256 id");
	event_free(&ev);

	text = "{\"event\":\"Finished Journey\",\"body\":{\"journeyId\":\"j\","
	    "\"spotCheckJourneyId\":\"s\"}}";
	classify(&ev, text, strlen(text));
	is_str(str_or_null(ev.journey_id), "j", "journeyId wins over spotCheckJourneyId");
	event_free(&ev);

	text = "{\"event\":\"Finished Journey\",\"body\":{\"spotCheckJourneyId\":\"s\"}}";
	classify(&ev, text, strlen(text));
	ok(ev.journey_id == NULL, "spotCheckJourneyId counts only for spot checks");
	event_free(&ev);
}

static void
test_body_digest(void)
{
	struct event	 a, b, c;
	const char	*t1 = "{\"event\":\"X\",\"body\":{\"a\":1,\"b\":[1,{\"c\":\"\\u00e9\"}]}}";
	const char	*t2 = "{ \"event\" : \"X\", \"body\" : { \"b\" : [ 1 , { \"c\" : \"\xc3\xa9\" } ],"
	    "\n \"a\" : 1 } }";
	const char	*t3 = "{\"event\":\"X\",\"body\":{\"a\":2,\"b\":[1,{\"c\":\"\\u00e9\"}]}}";

	classify(&a, t1, strlen(t1));
	classify(&b, t2, strlen(t2));
	classify(&c, t3, strlen(t3));
	ok(memcmp(a.body_digest, b.body_digest, SHA256_LEN) == 0,
	    "whitespace, member order and escapes do not change the body digest");
	ok(memcmp(a.body_digest, c.body_digest, SHA256_LEN) != 0,
	    "a changed value changes the body digest");
	ok(strcmp(a.body_sha256, b.body_sha256) != 0, "but body_sha256 is of the raw bytes");
	event_free(&a);
	event_free(&b);
	event_free(&c);
}

/* The canonical text itself, byte for byte: dedup indexes hold digests of it. */
static void
canon_is(const char *json, const char *canonical, const char *what)
{
	json_object	*v = json_tokener_parse(json);
	unsigned char	 got[SHA256_LEN], want[SHA256_LEN];

	sha256(canonical, strlen(canonical), want);
	ok(v != NULL && canon_digest(v, got) == 0 && memcmp(got, want, SHA256_LEN) == 0,
	    "%s", what);
	json_object_put(v);
}

static void
test_canonical_text(void)
{
	char	*big, *bigcanon;
	size_t	 i, n = 3000;

	canon_is("{ \"b\" : [ 1, -2, 3.50, 1e5, true, false, null, {} , [ ] ], \"a\" : null }",
	    "{\"a\":null,\"b\":[1,-2,3.50,1e5,true,false,null,{},[]]}",
	    "canonical text: sorted names, no blanks, numbers as written");
	canon_is("{\"s\":\"\\u0001\\b\\f\\n\\r\\t\\\"\\\\\\/\\u007f\\u00e9\\ud83d\\ude00\"}",
	    "{\"s\":\"\\u0001\\b\\f\\n\\r\\t\\\"\\\\/\x7f\xc3\xa9\xf0\x9f\x98\x80\"}",
	    "canonical text: json-c's escapes, no \\/, UTF-8 as is");
	canon_is("{\"\\n\":1,\"B\":2,\"a\":18446744073709551615,\"\\u00e9\":-9223372036854775808}",
	    "{\"\\n\":1,\"B\":2,\"a\":18446744073709551615,\"\xc3\xa9\":-9223372036854775808}",
	    "canonical text: names escaped and sorted by byte, 64-bit integers");
	/* Past the 4 KB kept on the stack, and more than 32 members in one object. */
	big = malloc(n * 16 + 16);
	bigcanon = malloc(n * 16 + 16);
	if (big == NULL || bigcanon == NULL) {
		ok(0, "malloc");
		return;
	}
	strcpy(big, "{");
	strcpy(bigcanon, "{");
	for (i = 0; i < n; i++) {
		sprintf(big + strlen(big), "%s\"k%04zu\":%zu", i > 0 ? "," : "", n - 1 - i, i);
		sprintf(bigcanon + strlen(bigcanon), "%s\"k%04zu\":%zu", i > 0 ? "," : "", i,
		    n - 1 - i);
	}
	strcat(big, "}");
	strcat(bigcanon, "}");
	canon_is(big, bigcanon, "canonical text: a body of 3000 members");
	free(big);
	free(bigcanon);
}

static void
test_tables(void)
{
	is_str(idwise_type("Finished Ongoing Check", 22), "finished_spot_check",
	    "the older spot check name");
	ok(idwise_type("Finished Journey\0x", 18) == NULL, "a name with a NUL is no name");
	is_str(idwise_outcome("Resubmission Requested", 22), "resubmission", "resubmission");
}

int
main(void)
{
	const char	*dir = getenv("SAMPLES");
	size_t		 i;

	if (dir == NULL)
		dir = "tests/samples";
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		test_sample(dir, &samples[i]);
	test_outcomes();
	test_fields();
	test_body_digest();
	test_canonical_text();
	test_tables();
	return done_testing();
}
