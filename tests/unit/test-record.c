/* SPDX-License-Identifier: ISC */
/* test-record.c: the log line of idwise-events(5): members, order, body kept, read back, chain. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "idwise.h"
#include "log-check.h"
#include "record.h"
#include "tap.h"

/*
 * A line read back as the writer's recovery reads it: log_record_read, then the body's
 * canonical digest (into read_digest). -1 with *why when it is not a whole record.
 */
static unsigned char	 read_digest[SHA256_LEN];

static int
read_back(const char *line, size_t len, struct record_view *view, const char **why)
{
	static struct log_reader	*reader;
	static char			 reason[160];
	struct log_record		 rec;

	memset(view, 0, sizeof(*view));
	*why = reason;
	if (reader == NULL && (reader = log_reader_new()) == NULL) {
		snprintf(reason, sizeof(reason), "out of memory");
		return -1;
	}
	if (log_record_read(reader, line, len, &rec, reason, sizeof(reason)) == -1)
		return -1;
	*view = rec.view;
	if (record_body_digest(view, read_digest) == -1) {
		snprintf(reason, sizeof(reason), "out of memory");
		record_view_free(view);
		return -1;
	}
	*why = NULL;
	return 0;
}

static const char *raw =
    "{\"event\":\"Manually Reviewed\",\"body\":{\"eventId\":\"6f03675a\",\"journeyId\":\"j1\","
    "\"referenceNo\":null,\"systemDecision\":\"Refer\",\"manualDecision\":\"Approved\","
    "\"finalDecision\":\"Approved\",\"n\":[1.0,1e5,-0.25,12345678901234567890],"
    "\"s\":\"caf\\u00e9 \\/ \\\"q\\\" \\n\",\"nested\":{\"z\":true,\"a\":null}}}";

static int
make_event(struct event *ev)
{
	json_object	*root;
	int		 rc;

	if ((root = json_tokener_parse(raw)) == NULL)
		return -1;
	rc = event_classify(ev, root, (const unsigned char *)raw, strlen(raw), "live",
	    "2001:db8::1");
	json_object_put(root);
	return rc;
}

static void
place(struct record_place *at, uint64_t seq, int conflict)
{
	memset(at, 0, sizeof(*at));
	at->seq = seq;
	at->conflict = conflict;
	at->received.tv_sec = 1795624826;
	at->received.tv_nsec = 7000000;
	memset(at->prev, '0', SHA256_HEX_LEN);
}

static void
test_line(struct event *ev)
{
	struct record_place	 at;
	json_object		*rec, *body;
	char			*line, want[600];
	size_t			 len;

	place(&at, 1, 0);
	if ((line = record_line(ev, &at, &len)) == NULL) {
		ok(0, "builds a line");
		return;
	}
	ok(len > 0 && line[len - 1] == '\n' && memchr(line, '\n', len - 1) == NULL,
	    "one line, ending in a newline");
	snprintf(want, sizeof(want), "{\"v\":1,\"seq\":1,\"received_at\":\"2026-11-25T16:40:26.007Z\","
	    "\"id\":\"6f03675a\",\"type\":\"manually_reviewed\",\"event\":\"Manually Reviewed\","
	    "\"journey_id\":\"j1\",\"reference_no\":null,\"outcome\":\"approved\",\"env\":\"live\","
	    "\"remote_addr\":\"2001:db8::1\",\"body_sha256\":\"%s\",\"body\":", ev->body_sha256);
	ok(strncmp(line, want, strlen(want)) == 0, "members in the documented order");
	ok(strstr(line, "\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}\n")
	    != NULL, "prev last, 64 zeros for seq 1");
	ok(strstr(line, "\"conflict\"") == NULL, "no conflict member for a new id");
	ok(strstr(line, "[1.0,1e5,-0.25,12345678901234567890]") != NULL,
	    "numbers keep their written form");
	ok(strstr(line, "\"s\":\"caf\xc3\xa9 / \\\"q\\\" \\n\"") != NULL,
	    "strings are the same characters, escaped minimally");
	rec = json_tokener_parse(line);
	ok(rec != NULL && json_object_object_get_ex(rec, "body", &body) &&
	    json_object_equal(body, ev->body), "the body reads back equal to the one received");
	json_object_put(rec);
	free(line);

	place(&at, 2, 1);
	line = record_line(ev, &at, &len);
	ok(line != NULL && strstr(line, "\"conflict\":true,\"body\":") != NULL,
	    "a conflict record says so");
	free(line);

	place(&at, INT64_MAX, 0);
	line = record_line(ev, &at, &len);
	ok(line != NULL && strncmp(line, "{\"v\":1,\"seq\":9223372036854775807,\"received_at\":",
	    47) == 0, "a seq of 19 digits is written whole");
	free(line);
}

static void
test_parse(struct event *ev)
{
	struct record_place	 at;
	struct record_view	 view;
	unsigned char		 hash[SHA256_LEN], zero[SHA256_LEN];
	const char		*why;
	char			*line;
	size_t			 len;

	place(&at, 1, 1);
	line = record_line(ev, &at, &len);
	ok(read_back(line, len - 1, &view, &why) == 0, "a line parses back");
	is_int(view.seq, 1, "seq");
	is_str(view.id, "6f03675a", "id");
	is_str(view.type, "manually_reviewed", "type");
	is_int(view.received_ms, 1795624826007LL, "received_at in ms");
	ok(view.conflict, "conflict flag");
	ok(memcmp(read_digest, ev->body_digest, SHA256_LEN) == 0,
	    "the body digest read back equals the received one");
	memset(zero, 0, sizeof(zero));
	ok(record_follows(&view, 0, zero) == NULL, "seq 1 with zero prev starts a chain");
	ok(record_follows(&view, 1, zero) != NULL, "seq 1 does not follow seq 1");
	record_view_free(&view);

	sha256(line, len, hash);
	hex_encode(hash, SHA256_LEN, at.prev);
	at.seq = 2;
	free(line);
	line = record_line(ev, &at, &len);
	read_back(line, len - 1, &view, &why);
	ok(record_follows(&view, 1, hash) == NULL, "seq 2 follows the hash of line 1");
	hash[0] ^= 1;
	ok(record_follows(&view, 1, hash) != NULL, "but not another line's hash");
	record_view_free(&view);

	ok(read_back(line, len, &view, &why) == -1, "a line with its newline is not one record");
	ok(read_back(line, len / 2, &view, &why) == -1, "half a line is no record");
	ok(read_back("{\"v\":2}", 7, &view, &why) == -1, "another version is refused");
	ok(read_back("garbage", 7, &view, &why) == -1 && why != NULL, "garbage, with a reason");
	free(line);
}

/* A reader's record has no body digest; the writer asks for it, and gets the received one. */
static void
test_body_digest(struct event *ev)
{
	struct record_place	 at;
	struct log_reader	*reader;
	struct log_record	 rec;
	unsigned char		 digest[SHA256_LEN];
	char			 why[160], *line;
	size_t			 len;

	place(&at, 1, 0);
	line = record_line(ev, &at, &len);
	reader = log_reader_new();
	ok(reader != NULL && log_record_read(reader, line, len - 1, &rec, why, sizeof(why)) == 0,
	    "a reader reads the line");
	ok(record_body_digest(&rec.view, digest) == 0 &&
	    memcmp(digest, ev->body_digest, SHA256_LEN) == 0,
	    "record_body_digest: the digest of the body as received");
	log_record_free(&rec);
	log_reader_free(reader);
	free(line);
}

/*
 * Found by fuzz-request: REMOTE_ADDR is copied into the record; bytes of it that are not
 * UTF-8 made a line that is not UTF-8, which the reader (and any JSON reader) refuses.
 * They become U+FFFD.
 */
static void
test_remote_addr_not_utf8(void)
{
	struct record_place	 at;
	struct record_view	 view;
	struct event		 ev;
	json_object		*root, *addr;
	const char		*why;
	char			*line;
	size_t			 len;

	root = json_tokener_parse(raw);
	if (root == NULL || event_classify(&ev, root, (const unsigned char *)raw, strlen(raw),
	    "live", "127\xa9\xa9.0.0.1\xc0") == -1) {
		ok(0, "event with a remote address that is not UTF-8");
		json_object_put(root);
		return;
	}
	json_object_put(root);
	place(&at, 1, 0);
	line = record_line(&ev, &at, &len);
	ok(line != NULL && read_back(line, len - 1, &view, &why) == 0,
	    "a remote address that is not UTF-8: the line still parses");
	if (line != NULL && view.json != NULL) {
		ok(json_object_object_get_ex(view.json, "remote_addr", &addr) &&
		    strcmp(json_object_get_string(addr),
		    "127\xef\xbf\xbd\xef\xbf\xbd.0.0.1\xef\xbf\xbd") == 0,
		    "  each byte that is not UTF-8 is U+FFFD");
		record_view_free(&view);
	} else
		ok(0, "  each byte that is not UTF-8 is U+FFFD");
	free(line);
	event_free(&ev);
}

/* log_line_seq: the seq read from the writer's fixed start, as the parser reads it. */
static void
test_line_seq(struct event *ev)
{
	static const char *const bad[] = {
		"{\"v\":1,\"seq\":0,", "{\"v\":1,\"seq\":01,", "{\"v\":1,\"seq\":12",
		"{\"v\":2,\"seq\":1,", "{\"seq\":1,\"v\":1,", "{\"v\":1,\"seq\":9223372036854775808,",
		"{\"v\":1,\"seq\":-1,", "{\"v\":1,\"seq\":\"1\",",
	};
	static const char	 max[] = "{\"v\":1,\"seq\":9223372036854775807,";
	struct record_place	 at;
	uint64_t		 seq = 0;
	char			*line;
	size_t			 len, i;
	int			 refused = 0;

	place(&at, 4242, 0);
	line = record_line(ev, &at, &len);
	ok(log_line_seq(line, len - 1, &seq) == 0 && seq == 4242, "log_line_seq reads seq 4242");
	free(line);
	ok(log_line_seq(max, strlen(max), &seq) == 0 &&
	    seq == INT64_MAX, "log_line_seq: up to 2^63-1");
	for (i = 0; i < nitems(bad); i++)
		refused += log_line_seq(bad[i], strlen(bad[i]), &seq) == -1;
	is_int(refused, nitems(bad), "log_line_seq refuses 0, a leading zero, no comma, another "
	    "v, another order, 2^63, a sign, a string");
}

int
main(void)
{
	struct event	 ev;

	if (make_event(&ev) == -1) {
		ok(0, "test event classified");
		return done_testing();
	}
	test_line(&ev);
	test_parse(&ev);
	test_body_digest(&ev);
	test_line_seq(&ev);
	event_free(&ev);
	test_remote_addr_not_utf8();
	return done_testing();
}
