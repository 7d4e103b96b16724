#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/reindex.sh: idwise-log reindex rebuilds idwise-fcgi's dedup index from
# the log and its rotated files, owned like the log, and refuses a damaged log.
# Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

IDWISE_LOG=$top_builddir/idwise-log
write_config "$TEST_TMP/r"

# cgi_post FILE: one delivery through idwise-fcgi as a plain CGI program.
cgi_post()
{
	cgi_run "$CONF" "$1" REQUEST_METHOD=POST "CONTENT_LENGTH=$(wc -c <"$1")" \
	    REMOTE_ADDR=127.0.0.1 "HTTP_AUTHORIZATION=Bearer $TOKEN"
}

cgi_post "$SAMPLES/finished_journey.json"
cgi_post "$SAMPLES/manually_reviewed.json"
mv "$LOG" "$LOG.1"
cgi_post "$SAMPLES/updated_journey.json"
is "$(log_count "$LOG")" 1 "a log rotated once, three records"
rm -f "$LOG.idx" "$LOG.shm"

"$IDWISE_LOG" reindex -c "$CONF" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$?" 0 "idwise-log reindex: exit 0"
is "$(cat "$TEST_TMP/out")" "$LOG: index rebuilt; the chain ends at seq 3" \
    "says where the chain ends"
ok "the index file is back" test -s "$LOG.idx"
cgi_post "$SAMPLES/finished_journey.json"
reply_is 200 '{"status":"duplicate","seq":1}' \
    "an event in the rotated file is a duplicate with the rebuilt index"
cgi_post "$SAMPLES/finished_step.json"
reply_is 200 '{"status":"accepted","seq":4}' "and the next new one follows seq 3"

# Run as root over a log another user owns, the files it makes are that user's.
chown -R nobody:nogroup "$TEST_TMP/r"
chown root: "$CONF"	# a config of another user is refused (issue 13)
rm -f "$LOG.idx"
"$IDWISE_LOG" reindex -c "$CONF" >/dev/null 2>&1
is "$(stat -c %U "$LOG.idx")" nobody "as root, the new index is given to the log's owner"
# back to the account the responder runs as (nobody, when the tests run as root)
chown -R "${RUN_USER:-root}:" "$TEST_TMP/r"
chown root: "$CONF"

# An edited record in a rotated file: the index is still rebuilt (no stored id may be
# forgotten), and the break in the chain is reported.
sed -i '2s/"outcome":"approved"/"outcome":"rejected"/' "$LOG.1"
"$IDWISE_LOG" reindex -c "$CONF" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$?" 0 "an edited rotated file: the index is still rebuilt"
like "$(cat "$TEST_TMP/err")" "events.jsonl: its first record \(seq 3\) does not follow seq 2 of the file before it" \
    "stderr names the break in the chain"
cgi_post "$SAMPLES/manually_reviewed.json"
reply_is 200 '{"status":"duplicate","seq":2}' "the edited record's id is still known"

# A duplicated line in a rotated file is skipped, not taken twice.
sed -i '1p' "$LOG.1"
"$IDWISE_LOG" reindex -c "$CONF" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$?" 0 "a repeated line in a rotated file: the index is still rebuilt"
like "$(cat "$TEST_TMP/err")" "events.jsonl.1: seq goes back at byte" "and the line is reported"

# Damage in the middle of the current file: reindex refuses and says where.
sed -i '1s/"outcome":"rejected"/"outcome":"approved"/' "$LOG"
"$IDWISE_LOG" reindex -c "$CONF" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$?" 1 "an edited record in the current file: exit 1"
like "$(cat "$TEST_TMP/err")" "events.jsonl: damaged at byte [0-9]+: prev is not the hash of the previous line" \
    "stderr says where"

"$IDWISE_LOG" reindex -c "$TEST_TMP/none.conf" >/dev/null 2>"$TEST_TMP/err"
is "$?" 78 "a missing config: exit 78"
"$IDWISE_LOG" reindex extra >/dev/null 2>&1
is "$?" 64 "an extra argument: usage, exit 64"

done_testing
