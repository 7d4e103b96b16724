/* SPDX-License-Identifier: ISC */
/*
 * mklog.c: writes COUNT chained log records to stdout, made by the writer's own
 * event_classify and record_line, for idwise-log's tests and bench/log-stats.sh.
 *
 *   mklog COUNT [START_MS [STEP_MS]]
 *
 * Record i (from 0) is one of the event kinds below in turn, with one of the decisions in
 * turn; every 100th record repeats the id of the one 50 before with another body, marked
 * conflict like the writer does. received_at starts at START_MS (ms since 1970, default
 * 2026-11-25T16:40:26Z) and grows by STEP_MS (default 500).
 */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "idwise.h"
#include "record.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct kind {
	const char	*event;
	int		 decided;	/* has a decision member */
	int		 has_id;	/* has an eventId */
};

static const struct kind kinds[] = {
	{ "Finished Step",			0, 1 },
	{ "Finished User Steps",		1, 1 },
	{ "Finished Journey",			1, 1 },
	{ "Manually Reviewed",			1, 1 },
	{ "Updated Journey",			1, 1 },
	{ "AML Monitor Update",			1, 1 },
	{ "Finished Spot Check",		1, 1 },
	{ "Verification Update Required",	1, 1 },
	{ "KYC Renewal Deadline Exceeded",	0, 1 },
	{ "Step Submitted",			0, 0 },
	{ "Brand New Event",			1, 1 },
};

static const char *const decisions[] = {
	"Complete", "Rejected", "Refer", "Incomplete", "Resubmission Requested", "Approved",
	"Something Else"
};

/* The request body of record i. */
static int
make_raw(uint64_t i, char *raw, size_t size)
{
	const struct kind	*k = &kinds[i % NELEM(kinds)];
	const char		*decision = decisions[(i / NELEM(kinds)) % NELEM(decisions)];
	uint64_t		 idno = i;
	char			 id[80] = "", dec[80] = "";

	if (i % 100 == 99) {		/* a conflict: an earlier id, another body */
		for (idno = i - 50; !kinds[idno % NELEM(kinds)].has_id; idno--)
			;
		k = &kinds[2];
		decision = "Refer";
	}
	if (k->has_id)
		snprintf(id, sizeof(id), "\"eventId\":\"%08" PRIx64 "-1d3a-4c55-9e0f-%012" PRIx64
		    "\",", idno, idno * 7919);
	if (k->decided)
		snprintf(dec, sizeof(dec), ",\"systemDecision\":\"%s\"", decision);
	return snprintf(raw, size, "{\"event\":\"%s\",\"body\":{%s\"journeyId\":\"%024" PRIx64
	    "\",\"referenceNo\":\"CUST-%06" PRIu64 "-23\",\"stepId\":\"%" PRIu64 "\"%s%s}}",
	    k->event, id, idno / 3, idno / 3, i % 40, dec,
	    i % 100 == 99 ? ",\"note\":\"sent again, changed\"" : "");
}

static int
write_record(uint64_t i, struct record_place *at, int64_t ms)
{
	struct event	 ev;
	json_object	*root;
	unsigned char	 digest[SHA256_LEN];
	char		 raw[1024], *line;
	size_t		 len;
	int		 rawlen, rc;

	rawlen = make_raw(i, raw, sizeof(raw));
	if ((root = json_tokener_parse(raw)) == NULL)
		return -1;
	rc = event_classify(&ev, root, (const unsigned char *)raw, (size_t)rawlen, "live",
	    "192.0.2.10");
	json_object_put(root);
	if (rc == -1)
		return -1;
	at->seq = i + 1;
	at->received.tv_sec = (time_t)(ms / 1000);
	at->received.tv_nsec = (long)(ms % 1000) * 1000000;
	at->conflict = i % 100 == 99;
	line = record_line(&ev, at, &len);
	event_free(&ev);
	if (line == NULL)
		return -1;
	rc = fwrite(line, 1, len, stdout) == len ? 0 : -1;
	sha256(line, len, digest);
	hex_encode(digest, SHA256_LEN, at->prev);
	free(line);
	return rc;
}

static int
number(const char *text, int64_t *out)
{
	char	*end;

	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno != 0 || end == text || *end != '\0' || *out < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct record_place	 at;
	int64_t			 count, start = INT64_C(1795624826000), step = 500;
	uint64_t		 i;

	set_progname(argv[0]);
	if (argc < 2 || argc > 4 || number(argv[1], &count) == -1 ||
	    (argc > 2 && number(argv[2], &start) == -1) ||
	    (argc > 3 && number(argv[3], &step) == -1)) {
		fprintf(stderr, "usage: mklog COUNT [START_MS [STEP_MS]]\n");
		return 64;
	}
	if (setvbuf(stdout, NULL, _IOFBF, 1 << 20) != 0)
		return 1;
	memset(&at, 0, sizeof(at));
	memset(at.prev, '0', SHA256_HEX_LEN);
	for (i = 0; i < (uint64_t)count; i++) {
		if (write_record(i, &at, start + (int64_t)i * step) == -1) {
			msg("record %" PRIu64 ": %s", i + 1, ferror(stdout) ?
			    strerror(errno) : "could not be made");
			return 1;
		}
	}
	if (fflush(stdout) == EOF) {
		msg("stdout: %s", strerror(errno));
		return 1;
	}
	return 0;
}
