#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/follow.sh: idwise-log's command line, and follow on one file: --once,
# the formats, the filters, the cursor, unreadable and damaged logs. Logs are made by the
# real idwise-fcgi run as a CGI program. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/log-lib.sh" || exit 1

# ---------------------------------------------------------------------------------------
# The command line (the dispatcher's own checks are in logtool.sh).

run_log --help
is "$RC:$(grep -c '^  follow \|^  exec ' <<<"$OUT")" 0:2 "--help: follow and exec listed on stdout"
run_log follow --help
like "$RC $OUT" '^0 usage: idwise-log follow ' "follow --help: its usage on stdout, exit 0"

write_config "$TEST_TMP/a"
A_CONF=$CONF A_LOG=$LOG
post_many "$A_CONF" a 3 || bail "cannot write a log with idwise-fcgi"

# bad ARG... DESC: follow with these arguments exits 64 with its usage on stderr.
bad()
{
	local desc=${*: -1}
	run_log follow "${@:1:$#-1}"
	is "$RC" 64 "follow $desc: exit 64"
	like "$ERR" 'usage: idwise-log follow ' "follow $desc: usage on stderr"
	is "$OUT" "" "follow $desc: nothing on stdout"
}
bad "no LOG"
bad "$A_LOG" "$A_LOG" "two LOGs"
bad --once --format xml "$A_LOG" "--format xml"
bad --once --from-seq 0 "$A_LOG" "--from-seq 0"
bad --once --from-seq 12x "$A_LOG" "--from-seq 12x"
bad --once --from-seq -3 "$A_LOG" "--from-seq -3"
bad --once --since yesterday "$A_LOG" "--since yesterday"
bad --once --since 2026-11-25T25:00:00Z "$A_LOG" "--since with hour 25"
bad --once --no-such-option "$A_LOG" "an unknown option"
bad --once "$A_LOG" --cursor "--cursor without its value"

# ---------------------------------------------------------------------------------------
# --once and the formats.

run_log follow --once "$A_LOG"
is "$RC" 0 "--once: exit 0"
is "$OUT" "$(cat "$A_LOG")" "--once: every record, exactly the lines as stored"
is "$ERR" "" "--once: nothing on stderr"

post_event "$A_CONF" a-null "Finished Step" - null || bail "cannot post"
run_log follow --once --format text "$A_LOG"
is "$RC" 0 "--format text: exit 0"
is "$(wc -l <<<"$OUT")" 4 "--format text: one line per record"
is "$(awk 'NR == 1 { print $2, $3, $4, $5, $6, $7 }' <<<"$OUT")" \
    "1 finished_journey approved j-a-1 ref-a-1 test" \
    "--format text: seq, type, outcome, journey, reference and env"
is "$(awk 'NR == 1 { print $1 }' <<<"$OUT")" "$(log_record "$A_LOG" 1 .received_at)" \
    "--format text: received_at first"
is "$(awk 'NR == 4 { print $4, $6 }' <<<"$OUT")" "none -" \
    "--format text: outcome none, a null reference as -"
is "$(awk '{ print index($0, $3) "," index($0, " " $4 " ") }' <<<"$OUT" | sort -u | wc -l)" 1 \
    "--format text: the columns line up"

# ---------------------------------------------------------------------------------------
# Filters: every sample, and two records from another endpoint (env sandbox) in the same log.

for s in "$SAMPLES"/*.json; do
	post_sample "$A_CONF" "$(basename "$s" .json)" || bail "cannot post $s"
done
write_config "$TEST_TMP/sandbox" env=sandbox "log=$A_LOG"
post_event "$CONF" sb-1 "Finished Journey" Complete || bail "cannot post"
post_event "$CONF" sb-2 "Finished Journey" Rejected || bail "cannot post"
ALL=$(cat "$A_LOG")

# filtered DESC JQ-SELECT ARG...: follow --once ARG... prints what jq selects from the log.
filtered()
{
	local desc=$1 want=$2
	shift 2
	run_log follow --once "$@" "$A_LOG"
	is "$RC $(seqs <(printf '%s\n' "$OUT"))" \
	    "0 $(jq -c "select($want)" <<<"$ALL" | jq -r .seq | tr '\n' ' ' | sed 's/ $//')" "$desc"
}
filtered "--type: only that type" '.type == "finished_journey"' --type finished_journey
filtered "--type twice: either type" \
    '.type == "finished_step" or .type == "manually_reviewed"' \
    --type finished_step --type manually_reviewed
filtered "--outcome: only that outcome" '.outcome == "review"' --outcome review
filtered "--outcome twice: either" '.outcome == "approved" or .outcome == "rejected"' \
    --outcome approved --outcome rejected
filtered "--type and --outcome: both must match" \
    '.type == "finished_journey" and .outcome == "approved"' \
    --type finished_journey --outcome approved
filtered "--env: only that endpoint's records" '.env == "sandbox"' --env sandbox
filtered "--env, --type and --outcome together" \
    '.env == "sandbox" and .outcome == "rejected"' --env sandbox --outcome rejected --type finished_journey
filtered "--from-seq: from that seq on" '.seq >= 7' --from-seq 7
filtered "--from-seq past the end: nothing" 'false' --from-seq 500
T8=$(log_record "$A_LOG" 8 .received_at)
filtered "--since: records received at that time or later" ".received_at >= \"$T8\"" --since "$T8"
T8_PLUS1=$(TZ=XXX-1 date -d "$T8" +%Y-%m-%dT%H:%M:%S.%3N%:z)
filtered "--since with a +01:00 offset: the same instant" ".received_at >= \"$T8\"" \
    --since "$T8_PLUS1"
filtered "--since and --from-seq together" ".received_at >= \"$T8\" and .seq >= 12" \
    --since "$T8" --from-seq 12
filtered "--since a date: the whole day" 'true' --since "${T8%%T*}"
filtered "--since the future: nothing" 'false' --since 2999-01-01T00:00:00Z
run_log follow --once --type finished_jorney "$A_LOG"
is "$RC:$OUT" 0: "--type with a misspelt type: nothing matches, exit 0"
like "$ERR" 'finished_jorney' "--type with a misspelt type: a warning names it"

# ---------------------------------------------------------------------------------------
# The cursor.

CUR=$TEST_TMP/a.cursor
run_log follow --once --cursor "$CUR" --type finished_step "$A_LOG"
is "$RC $(seqs <(printf '%s\n' "$OUT"))" \
    "0 $(jq -c 'select(.type == "finished_step")' <<<"$ALL" | jq -r .seq | tr '\n' ' ' | sed 's/ $//')" \
    "--cursor, first run: the matching records"
is "$(cursor_seq "$CUR")" "$(log_count "$A_LOG")" \
    "--cursor: moved past the records left out after the last match too"
run_log follow --once --cursor "$CUR" "$A_LOG"
is "$RC:$OUT" 0: "--cursor, second run: nothing again"
post_event "$A_CONF" a-after "Finished Journey" Complete || bail "cannot post"
run_log follow --once --cursor "$CUR" --from-seq 1 "$A_LOG"
is "$RC $(seqs <(printf '%s\n' "$OUT"))" "0 $(log_count "$A_LOG")" \
    "--cursor with a position wins over --from-seq: only the new record"
run_log follow --once --cursor "$TEST_TMP/b.cursor" --from-seq 20 "$A_LOG"
is "$(seqs <(printf '%s\n' "$OUT"))" "$(seq_range 20 "$(log_count "$A_LOG")")" \
    "--from-seq applies to a new cursor"
run_log follow --once --cursor "$TEST_TMP/b.cursor" --from-seq 20 "$A_LOG"
is "$RC:$OUT" 0: "... and after that the cursor holds"

start_bg locked "$TEST_TMP/locked.out" "$IDWISE_LOG" follow --cursor "$CUR" "$A_LOG"
ok "a running follow holds its cursor locked" wait_for locked "$CUR"
run_log follow --once --cursor "$CUR" "$A_LOG"
is "$RC" 75 "a cursor in use by another follow: exit 75"
like "$ERR" 'in use' "a cursor in use: said so"
kill_bg locked TERM
is "$BG_RC" 0 "follow stops on SIGTERM with status 0"

# A torn save spoils one slot only: the other one still holds the position before it.
cp "$CUR" "$TEST_TMP/c.cursor"
newest=$(cut -f1 "$CUR" | jq -s 'to_entries | max_by(.value.gen).key')
printf 'garbage' | dd of="$TEST_TMP/c.cursor" bs=1 seek=$((newest * 512 + 20)) conv=notrunc \
    status=none
run_log follow --once --cursor "$TEST_TMP/c.cursor" "$A_LOG"
is "$RC $(seqs <(printf '%s\n' "$OUT"))" "0 $(log_count "$A_LOG")" \
    "a torn slot: the older slot's position is used (one record again)"
printf 'garbage' | dd of="$TEST_TMP/c.cursor" bs=1 seek=20 conv=notrunc status=none
printf 'garbage' | dd of="$TEST_TMP/c.cursor" bs=1 seek=532 conv=notrunc status=none
run_log follow --once --cursor "$TEST_TMP/c.cursor" "$A_LOG"
is "$RC" 65 "a cursor with no valid slot: exit 65"
ok "a cursor with no valid slot: one line naming it" one_line "$ERR"
like "$ERR" 'c\.cursor.*no valid position' "a cursor with no valid slot: said so"

# ---------------------------------------------------------------------------------------
# Logs that cannot be read.

run_log follow --once "$TEST_TMP/nothing-here.jsonl"
is "$RC" 2 "a missing log with --once: exit 2"
ok "a missing log: one line" one_line "$ERR"
like "$ERR" 'nothing-here\.jsonl: No such file' "a missing log: names the file and the reason"
run_log follow --once "$TEST_TMP"
is "$RC" 2 "a directory as the log: exit 2"
like "$ERR" "not a regular file" "a directory as the log: said so"
chmod 000 "$A_LOG"
if [ "$(id -u)" -eq 0 ]; then
	OUT=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$IDWISE_LOG" follow --once \
	    "$A_LOG" 2>"$TEST_TMP/run.err")
	RC=$? ERR=$(cat "$TEST_TMP/run.err")
else
	run_log follow --once "$A_LOG"
fi
chmod 640 "$A_LOG"
is "$RC" 2 "an unreadable log: exit 2"
ok "an unreadable log: one line" one_line "$ERR"
like "$ERR" 'events\.jsonl: Permission denied' "an unreadable log: names the file and the reason"

# damaged NAME SED-SCRIPT DESC LINE: a copy of the log edited with sed stops follow at LINE.
damaged()
{
	mkdir -p "$TEST_TMP/$1"
	sed "$2" "$A_LOG" >"$TEST_TMP/$1/events.jsonl"
	run_log follow --once "$TEST_TMP/$1/events.jsonl"
	is "$RC" 1 "$3: exit 1"
	ok "$3: one line" one_line "$ERR"
	like "$ERR" "$1/events\\.jsonl: line $4: " "$3: names the file and line $4"
	is "$(seqs <(printf '%s\n' "$OUT"))" "$(seq_range 1 $(($4 - 1)))" \
	    "$3: the records before it were printed"
}
damaged garbage '5i this is not a record' "a garbage line with records after it" 5
damaged deleted '6d' "a deleted line" 6
damaged edited '4s/"outcome":"[a-z]*"/"outcome":"approved"/; 4s/"outcome":"none"/"outcome":"rejected"/' \
    "an edited record (the next prev does not match)" 5
damaged doubled '3p' "a doubled line" 4
mkdir -p "$TEST_TMP/torn"
{ cat "$A_LOG"; printf '{"v":1,"seq":'; } >"$TEST_TMP/torn/events.jsonl"
run_log follow --once "$TEST_TMP/torn/events.jsonl"
is "$RC:$(seqs <(printf '%s\n' "$OUT"))" "0:$(seq_range 1 "$(log_count "$A_LOG")")" \
    "a torn last line (no newline): every whole record, exit 0"
is "$ERR" "" "a torn last line: not reported (the next append cuts it)"

done_testing
