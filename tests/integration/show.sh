#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/show.sh: idwise-log show on a log the real idwise-fcgi wrote (plain CGI,
# rotated twice by renaming): one journey, reference number or id, oldest first across the
# files, as a timeline or as stored; values that must match whole; decision values that
# need escaping; a value the writer escapes; damage, a torn tail, a compressed file, a
# rotated file under two names; usage. Then --journey, --reference and --id as filters of
# follow, exec and stats. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

IDWISE_LOG=${IDWISE_LOG:-$top_builddir/idwise-log}
[ -x "$IDWISE_LOG" ] || bail "$IDWISE_LOG is not built"
[ -x "$IDWISE_FCGI" ] || bail "$IDWISE_FCGI is not built"
command -v jq >/dev/null || bail "jq is not installed"

# idlog ARG...: run idwise-log; sets RC, OUT and ERR (stdout and stderr).
idlog()
{
	"$IDWISE_LOG" "$@" >"$TEST_TMP/idlog.out" 2>"$TEST_TMP/idlog.err"
	RC=$?
	OUT=$(cat "$TEST_TMP/idlog.out")
	ERR=$(cat "$TEST_TMP/idlog.err")
}

# deliver FILE: one authorized POST of FILE to the real responder as a CGI program.
deliver()
{
	cgi_run "$CONF" "$1" REQUEST_METHOD=POST "CONTENT_LENGTH=$(wc -c <"$1")" \
	    CONTENT_TYPE=application/json REMOTE_ADDR=127.0.0.1 "HTTP_AUTHORIZATION=Bearer $TOKEN"
	[ "$STATUS" = 200 ] || { diag "$1: $STATUS $BODY"; return 1; }
}

# column N: field N of each timeline line after the header, space-separated.
column()
{
	awk -v n="$1" 'NR > 1 { printf "%s%s", sep, $n; sep = " " }' <<<"$OUT"
}

# ---------------------------------------------------------------------------------------
# The log: journey J (10 of the samples), journey S (the spot check), all of reference R;
# a conflict and a delivery without eventId; in three files, rotated as logrotate does.

write_config "$TEST_TMP/real" sync=none
J=269e0d37f2a74de452e6b438
S=953f48f1a09f76b5a170b338
R=CUST-000840-23
jq -c '.body.systemDecision = "Refer"' "$SAMPLES/finished_journey.json" >"$TEST_TMP/conflict.json"
# A decision and a reference number that need escaping: an ESC and quotes.
jq -c '.body.eventId = "esc-1" | .body.journeyId = "jesc" |
    .body.referenceNo = "REF \"7\"" | .body.systemDecision = "Re\u001b[31mfer\"x"' \
    "$SAMPLES/finished_journey.json" >"$TEST_TMP/escape.json"

stored=0
for f in finished_journey finished_spot_check MOVE manually_reviewed updated_journey MOVE2 \
    conflict step_submitted escape; do
	case $f in
	MOVE) mv "$LOG" "$LOG.1"; continue ;;
	MOVE2) mv "$LOG.1" "$LOG.2" && mv "$LOG" "$LOG.1"; continue ;;
	conflict | escape) deliver "$TEST_TMP/$f.json" ;;
	*) deliver "$SAMPLES/$f.json" ;;
	esac && stored=$((stored + 1))
done
is "$stored $(log_count "$LOG.2") $(log_count "$LOG.1") $(log_count "$LOG")" "7 2 2 3" \
    "the responder stored 7 records in three files: .2, .1 and the log"
STEP_ID=$(log_record "$LOG" 6 .id)
like "$STEP_ID" '^sha256:[0-9a-f]{64}$' "the step without eventId got a sha256: id"

# --- show: one journey, oldest first, across the files ----------------------------------

idlog show --journey "$J" "$LOG"
is "$RC|$ERR" "0|" "show --journey: exit 0, nothing on stderr"
is "$(head -n 1 <<<"$OUT" | tr -s ' ')" "received_at seq type outcome decision" \
    "a header line names the columns"
is "$(column 2)" "1 3 4 5 6" "the journey's records from all three files, in seq order"
is "$(column 3)" "finished_journey manually_reviewed updated_journey finished_journey step_submitted" \
    "with their types"
is "$(column 4)" "approved approved rejected review none" "and outcomes"
is "$(column 1)" "$(cat "$LOG.2" "$LOG.1" "$LOG" | jq -r "select(.journey_id == \"$J\") | .received_at" |
    tr '\n' ' ' | sed 's/ $//')" "and the times they were received"
is "$(awk 'NR == 4' <<<"$OUT" | sed 's/.*rejected *//')" \
    'finalDecision="Rejected" manualDecision="Rejected" systemDecision="Refer"' \
    "the decision members, final, manual, system, those present"
like "$(awk 'NR == 5' <<<"$OUT")" ' systemDecision="Refer"  conflict$' \
    "a record stored again with another body is marked conflict"
like "$(awk 'NR == 6' <<<"$OUT")" ' none +-$' "a record with no decision member shows -"

idlog show --journey "$J" "$LOG.1"
is "$RC $(column 2)" "0 3 4" \
    "given a rotated file's path, show reads that file: the log is the path written to"

idlog show --reference "$R" "$LOG"
is "$RC $(column 2)" "0 1 2 3 4 5 6" "show --reference: the spot check's other journey too"
idlog show --journey "$S" "$LOG"
is "$RC $(column 2) $(column 3)" "0 2 finished_spot_check" \
    "show --journey of the spot check: its record (journey_id from spotCheckJourneyId)"
idlog show --id 6f03675a-1600-435a-8999-50d836f675cc "$LOG"
is "$RC $(column 2)" "0 3" "show --id: the one record with that event id"
idlog show --id 81e74ef5-e8e2-4d94-8ed9-04759531985d "$LOG"
is "$RC $(column 2) $(column 4)" "0 1 5 approved review" \
    "show --id of an id stored again with another body: both records"
idlog show --id "$STEP_ID" "$LOG"
is "$RC $(column 2)" "0 6" "show --id of a sha256: id"
idlog show --journey "$J" --reference "$R" --id "$STEP_ID" "$LOG"
is "$RC $(column 2)" "0 6" "several options: a record must match all of them"

idlog show --json --journey "$S" "$LOG"
is "$RC|$OUT" "0|$(log_record "$LOG.2" 2 | jq -c .)" \
    "show --json: the record as stored (jq -c agrees)"
is "$OUT" "$(sed -n 2p "$LOG.2")" "byte for byte"
idlog show --json --journey "$J" "$LOG"
is "$(jq -r .seq <<<"$OUT" | tr '\n' ' ')" "1 3 4 5 6 " "show --json: one a line, oldest first"

# --- what matches: whole values of the member asked for ---------------------------------

idlog show --journey "${J%?}" "$LOG"
is "$RC|$OUT" "1|" "a journey id cut short matches nothing: exit 1, no output"
like "$ERR" "no record with that journey in the log or its 2 rotated files" \
    "and says so, with how many files it looked in"
idlog show --journey "$R" "$LOG"
is "$RC|$OUT" "1|" "a value that is in the records, but not as journey_id, matches nothing"
idlog show --id "${STEP_ID#sha256:}" "$LOG"
is "$RC" 1 "the id's hex without its sha256: prefix (it is the body_sha256) matches nothing"
idlog show --reference 'REF "7"' "$LOG"
is "$RC $(column 2)" "0 7" "a reference number the writer escapes (quotes) is found"
like "$OUT" 'systemDecision="Re\\x1b\[31mfer\\x22x"$' \
    "a decision value's ESC and quote are shown as \\xHH, never raw"
ok "no ESC byte reaches the terminal" not grep -q $'\x1b' "$TEST_TMP/idlog.out"

# --- damage, a torn tail, a compressed file, a rotated file twice ------------------------

DMG=$TEST_TMP/damaged
mkdir -p "$DMG"
cp "$LOG.2" "$DMG/events.jsonl.2"
cp "$LOG.1" "$DMG/events.jsonl.1"
cp "$LOG" "$DMG/events.jsonl"
printf '{"journey_id":"%s","broken":\n' "$J" >>"$DMG/events.jsonl.1"
idlog show --journey "$J" "$DMG/events.jsonl"
is "$RC $(column 2)" "1 1 3 4 5 6" \
    "a line with the journey that is no record: exit 1, every record still shown"
like "$ERR" "events.jsonl.1:3: not a JSON object" "and the line is named"
printf '{"v":1,"seq":8,"journey_id":"%s"' "$J" >>"$DMG/events.jsonl"
sed -i '$d' "$DMG/events.jsonl.1"
idlog show --journey "$J" "$DMG/events.jsonl"
is "$RC $(column 2)" "0 1 3 4 5 6" "a torn last line (a write under way): not shown, exit 0"
like "$ERR" "note: .*events.jsonl:4: incomplete last line" "with a note"
gzip -c "$LOG.2" >"$DMG/events.jsonl.3.gz"
cp "$DMG/events.jsonl.1" "$DMG/events.jsonl-20261125"
idlog show --journey "$J" "$DMG/events.jsonl"
is "$RC $(column 2)" "0 1 3 4 5 6" "a rotated file under two names: each record shown once"
like "$ERR" "note: seq 3 is in .* and in .*: shown once" "with a note naming both"
like "$ERR" "note: .*events.jsonl.3.gz: compressed, not read" "a compressed file is named, not read"
chmod 000 "$DMG/events.jsonl-20261125"
if [ "$(id -u)" -ne 0 ]; then
	idlog show --journey "$J" "$DMG/events.jsonl"
	is "$RC $(column 2)" "2 1 3 4 5 6" "an unreadable file: exit 2, the others still read"
fi
rm -f "$DMG/events.jsonl-20261125"

# --- usage ------------------------------------------------------------------------------

idlog show "$LOG"
is "$RC" 64 "show without --journey, --reference or --id: usage, exit 64"
like "$ERR" "say what to show" "saying what is missing"
idlog show --journey "$J" "$LOG" "$LOG.1"
is "$RC" 64 "show with two logs: usage"
idlog show --journey "$J"
is "$RC" 64 "show without a log: usage"
idlog show --type finished_journey "$LOG"
is "$RC" 64 "show --type (not one of its options): usage"
idlog show --journey "$J" "$TEST_TMP/nowhere/events.jsonl"
is "$RC" 2 "a log in a directory that is not there: exit 2"
idlog show --help
is "$RC|$OUT" "0|usage: idwise-log show [--json] --journey ID | --reference REF | --id ID LOG" \
    "show --help: the usage line"

# --- the same options as filters: follow, exec, stats -----------------------------------

idlog follow --once --from-seq 1 --journey "$J" "$LOG"
is "$RC $(jq -r .seq <<<"$OUT" | tr '\n' ' ')" "0 1 3 4 5 6 " \
    "follow --journey: only the journey's records, across the rotated files"
idlog follow --once --from-seq 1 --reference "$R" --type finished_journey "$LOG"
is "$RC $(jq -r .seq <<<"$OUT" | tr '\n' ' ')" "0 1 5 " \
    "follow --reference with --type: both must match"
idlog follow --once --from-seq 1 --id "$STEP_ID" --id esc-1 --format text "$LOG"
is "$RC $(awk '{ print $2 }' <<<"$OUT" | tr '\n' ' ')" "0 6 7 " \
    "follow --id twice: either id, as text"
idlog follow --once --from-seq 1 --journey nothing "$LOG"
is "$RC|$OUT" "0|" "follow --journey of no record: nothing printed, exit 0"

: >"$TEST_TMP/exec.out"
idlog exec --once --from-seq 1 --reference "$R" --journey "$S" "$LOG" -- \
    sh -c 'echo "$IDWISE_SEQ $IDWISE_TYPE" >>"$0"' "$TEST_TMP/exec.out"
is "$RC|$(cat "$TEST_TMP/exec.out")" "0|2 finished_spot_check" \
    "exec --reference --journey: the command runs for the one record with both"
: >"$TEST_TMP/exec.out"
idlog exec --once --from-seq 1 --id 1738f7d9-3d9c-4724-91e2-0b8f6b0d549b "$LOG" -- \
    sh -c 'echo "$IDWISE_SEQ" >>"$0"' "$TEST_TMP/exec.out"
is "$RC|$(cat "$TEST_TMP/exec.out")" "0|4" "exec --id: the command runs once, for that record"

idlog stats --json --journey "$J" "$LOG.2" "$LOG.1" "$LOG"
is "$RC $(jq -c '[.records, .seq.first, .seq.last, .conflicts, .by_outcome.approved]' <<<"$OUT")" \
    "0 [5,1,6,1,2]" "stats --journey: the journey's records only"
idlog stats --json --reference "$R" --reference 'REF "7"' "$LOG.2" "$LOG.1" "$LOG"
is "$RC $(jq -c '[.records, .distinct_ids]' <<<"$OUT")" "0 [7,6]" \
    "stats --reference twice: either reference"
idlog stats --id "$STEP_ID" "$LOG.2" "$LOG.1" "$LOG"
like "$RC $(grep '^records' <<<"$OUT")" '^0 records +1$' "stats --id: one record, as a table"
idlog stats --json --journey nothing "$LOG.2" "$LOG.1" "$LOG"
is "$RC $(jq -c '[.records, .seq]' <<<"$OUT")" "0 [0,null]" "stats --journey of no record: 0"
idlog stats --journey "$J"
is "$RC" 64 "stats --journey without files: usage"

done_testing
