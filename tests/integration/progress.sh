#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/progress.sh: idwise-log verify, reindex, checkpoint and prove over a
# big log (tests/mklog, 150,000 records) show their progress when stderr is a terminal
# (a pseudo-terminal made by script(1)): records, MB of the files' total, MB/s and the time left, at most four
# lines a second, wiped before the result; no total or time left for a pipe; nothing when
# stderr is a file, even with stdout on the terminal. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

IDWISE_LOG=${IDWISE_LOG:-$top_builddir/idwise-log}
MKLOG=$top_builddir/tests/mklog
RECORDS=150000
[ -x "$IDWISE_LOG" ] || bail "$IDWISE_LOG is not built"
[ -x "$MKLOG" ] || bail "$MKLOG is not built"
command -v script >/dev/null || bail "script is not installed (util-linux)"

write_config "$TEST_TMP/p" sync=none
"$MKLOG" "$RECORDS" >"$LOG" || bail "tests/mklog failed"
SIZE_MB=$(awk -v b="$(stat -c %s "$LOG")" 'BEGIN { printf "%.1f", b / 1e6 }')
TTY=$TEST_TMP/tty

# on_tty COMMAND-LINE: run it (bash) on a new pseudo-terminal; what the terminal got is in
# $TTY, its pieces between carriage returns one a line in $TTY.lines. Sets RC and SECS.
on_tty()
{
	local start=$SECONDS
	SHELL=/bin/bash script -q -e -c "$1" /dev/null </dev/null >"$TTY"
	RC=$?
	SECS=$((SECONDS - start + 1))
	tr '\r' '\n' <"$TTY" >"$TTY.lines"
}

# progress_lines WHAT: the progress lines of command WHAT on the terminal, blanks cut.
progress_lines()
{
	grep -a "^$1: " "$TTY.lines" | sed 's/ *$//'
}

# rising: are the record counts of the progress lines on stdin rising, and within RECORDS?
rising()
{
	awk -v max="$RECORDS" '{ n = $2 + 0 } n <= last || n > max { bad = 1 } { last = n }
	    END { exit bad }'
}

# wiped TEXT: is the piece before the line that starts with TEXT all blanks (the progress
# line wiped before the result was printed)?
wiped()
{
	awk -v text="$1" 'index($0, text) == 1 { found = 1; exit !(prev ~ /^ +$/) } { prev = $0 }
	    END { if (!found) exit 1 }' "$TTY.lines"
}

# --- verify -------------------------------------------------------------------------------

NUM='[0-9]+\.[0-9]'
on_tty "'$IDWISE_LOG' verify '$LOG'"
LINES=$(progress_lines verify)
is "$RC" 0 "verify on a terminal: exit 0"
isnt "$LINES" "" "verify on a terminal shows progress lines"
like "$(tail -n 1 <<<"$LINES")" \
    "^verify: [0-9]+ records, $NUM of $SIZE_MB MB, $NUM MB/s, [0-9]+:[0-5][0-9] left\$" \
    "each with the records, MB read of the file's $SIZE_MB MB, MB/s and the time left"
ok "the record counts rise and stay within the log's $RECORDS" rising <<<"$LINES"
n=$(wc -l <<<"$LINES")
ok "at most 4 lines a second: $n in at most $SECS s" test "$n" -le $((4 * SECS + 1))
ok "the line is wiped before the result, which is printed in full" \
    wiped "$LOG: $RECORDS records, seq 1..$RECORDS, head $RECORDS:"

on_tty "'$IDWISE_LOG' verify <(cat '$LOG')"
LINES=$(progress_lines verify)
like "$(tail -n 1 <<<"$LINES")" "^verify: [0-9]+ records, $NUM MB, $NUM MB/s\$" \
    "verify of a pipe: the MB read, no total, no time left"

on_tty "'$IDWISE_LOG' verify '$LOG' 2>'$TEST_TMP/err'"
is "$RC|$(cat "$TEST_TMP/err")|$(progress_lines verify)" "0||" \
    "stderr a file, stdout the terminal: no progress, in either"
like "$(cat "$TTY")" "$RECORDS records, seq 1\.\.$RECORDS" "and the result on the terminal"

"$IDWISE_LOG" verify "$LOG" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$?|$(cat "$TEST_TMP/err")" "0|" "neither a terminal: stderr stays empty"

# --- reindex ------------------------------------------------------------------------------

on_tty "'$IDWISE_LOG' reindex -c '$CONF'"
LINES=$(progress_lines reindex)
is "$RC" 0 "reindex on a terminal: exit 0"
like "$(tail -n 1 <<<"$LINES")" \
    "^reindex: [0-9]+ records, $NUM of $SIZE_MB MB, $NUM MB/s, [0-9]+:[0-5][0-9] left\$" \
    "reindex shows the records, MB of the log's $SIZE_MB MB, MB/s and the time left"
ok "the record counts rise and stay within the log's $RECORDS" rising <<<"$LINES"
n=$(wc -l <<<"$LINES")
ok "at most 4 lines a second: $n in at most $SECS s" test "$n" -le $((4 * SECS + 1))
ok "the line is wiped before the result" wiped "$LOG: index rebuilt; the chain ends at seq $RECORDS"

rm -f "$LOG.idx"
"$IDWISE_LOG" reindex -c "$CONF" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$?|$(cat "$TEST_TMP/out")|$(cat "$TEST_TMP/err")" \
    "0|$LOG: index rebuilt; the chain ends at seq $RECORDS|" \
    "reindex with stderr a file: the result on stdout, stderr empty"

# --- checkpoint and prove -----------------------------------------------------------------

# Half the log, a pause, the rest: a pass that outlasts the first line's delay however fast
# the machine is (both read a pipe: records and MB, no total).
HALF=$((RECORDS / 2))
SLOW="<(head -n $HALF '$LOG'; sleep 1; tail -n +$((HALF + 1)) '$LOG')"
"$IDWISE_LOG" keygen --name example.org/progress "$TEST_TMP/k" >/dev/null 2>&1 ||
    bail "idwise-log keygen failed"
on_tty "'$IDWISE_LOG' checkpoint --key '$TEST_TMP/k' --out '$TEST_TMP/cp' $SLOW"
LINES=$(progress_lines checkpoint)
is "$RC" 0 "checkpoint on a terminal: exit 0"
like "$(tail -n 1 <<<"$LINES")" "^checkpoint: [0-9]+ records, $NUM MB, $NUM MB/s\$" \
    "checkpoint shows the records and MB read"
ok "the record counts rise and stay within the log's $RECORDS" rising <<<"$LINES"
on_tty "'$IDWISE_LOG' prove --checkpoint '$TEST_TMP/cp' 7 $SLOW"
LINES=$(progress_lines prove)
is "$RC" 0 "prove on a terminal: exit 0"
like "$(tail -n 1 <<<"$LINES")" "^prove: [0-9]+ records, $NUM MB, $NUM MB/s\$" \
    "prove shows the records and MB read"
"$IDWISE_LOG" checkpoint --key "$TEST_TMP/k" --out "$TEST_TMP/cp" "$LOG" \
    >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$?|$(cat "$TEST_TMP/err")" "0|" "checkpoint, not on a terminal: stderr stays empty"

rm -f "$LOG" "$LOG.idx" "$LOG.shm"
done_testing
