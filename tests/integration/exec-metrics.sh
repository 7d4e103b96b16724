#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/exec-metrics.sh: idwise-log exec --metrics FILE: the textfile metrics
# for node_exporter (the counts, the last seq, the dead-letter file's size), written at the
# start, every second while it runs, and on every way out, always whole (a temporary file
# renamed over it), and with nothing of the records or the environment in it. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/log-lib.sh" || exit 1

write_config "$TEST_TMP/x"
X_LOG=$LOG
post_event "$CONF" x-1 && post_event "$CONF" x-2 && post_event "$CONF" x-3 ||
    bail "cannot write a log"

# script NAME BODY: an executable /bin/sh script $TEST_TMP/NAME.
script()
{
	printf '#!/bin/sh\n%s\n' "$2" >"$TEST_TMP/$1" && chmod +x "$TEST_TMP/$1"
}
# metric FILE NAME: the value of the sample NAME{...} in FILE (nothing: no such sample).
metric()
{
	awk -v n="$2" 'index($0, n "{") == 1 { print $NF }' "$1"
}
# metric_is FILE NAME VALUE: the sample has that value (for wait_for).
metric_is()
{
	[ "$(metric "$1" "$2")" = "$3" ]
}
# replaced FILE INODE: FILE is another file than the one of that inode number.
replaced()
{
	[ "$(stat -c %i "$1" 2>/dev/null)" != "$2" ]
}
# counts FILE: runs done failures dead-letters last-seq [dead-letter bytes]
counts()
{
	local m
	for m in runs_total records_done_total failures_total dead_letters_total last_seq \
	    dead_letter_bytes; do
		metric "$1" "idwise_exec_$m"
	done | paste -sd ' '
}
# whole FILE LINES: FILE is a whole text of LINES lines, from the first HELP to the
# dead-letter sample (without a fork but the $(<) one: it runs many times a second).
whole()
{
	local text newlines
	text=$(<"$1") || return 1
	newlines=${text//[^$'\n']/}
	[ "$((${#newlines} + 1))" = "$2" ] && [[ $text == '# HELP idwise_exec_runs_total '* ]] &&
	    [[ ${text##*$'\n'} == idwise_exec_dead_letter_bytes\{*\}\ [0-9]* ]]
}

# ---------------------------------------------------------------------------------------
# A run with a record that always fails: the counts, and the dead-letter file's size.

script fail2.sh '[ "$IDWISE_SEQ" != 2 ] || exit 3'
M=$TEST_TMP/exec.prom DL=$TEST_TMP/dead.jsonl
export IDWISE_TEST_SECRET=s3cr3t-in-the-environment
run_log exec --once --max-attempts 2 --backoff 10 --dead-letter "$DL" --metrics "$M" \
    "$X_LOG" -- "$TEST_TMP/fail2.sh"
unset IDWISE_TEST_SECRET
is "$RC" 0 "exec --once --metrics: exit 0" || diag "$ERR"
ok "the metrics file is there" test -s "$M"
ok "  nothing is left beside it (FILE.tmp)" test ! -e "$M.tmp"
ok "  promtool check metrics takes it" quiet promtool check metrics <"$M"
is "$(counts "$M")" "4 2 2 1 3 $(stat -c %s "$DL")" \
    "  4 runs, 2 records done, 2 failures, 1 dead letter, last seq 3, the dead-letter file's size"
ok "  which is not 0" test "$(metric "$M" idwise_exec_dead_letter_bytes)" -gt 0
like "$(grep '^idwise_exec_dead_letter_bytes' "$M")" \
    "^idwise_exec_dead_letter_bytes\\{log=\"$X_LOG\",dead_letter=\"$DL\"\\} [0-9]+\$" \
    "  labelled with the log and the dead-letter file"
is "$(grep -cE 'x-[123]|j-x|ref-x|s3cr3t|finished_journey|'"$TOKEN" "$M")" 0 \
    "  nothing of the records, the environment or the token in it"
mode=$(stat -c %a "$M")
is "$mode" 644 "  mode 0644, for node_exporter to read"

run_log exec --once --dead-letter "$TEST_TMP/empty.jsonl" --metrics "$M" "$X_LOG" -- true
is "$RC:$(counts "$M")" "0:3 3 0 0 3 0" "no dead letter yet: idwise_exec_dead_letter_bytes is 0"
run_log exec --once --metrics "$M" "$X_LOG" -- true
is "$RC:$(counts "$M")" "0:3 3 0 0 3" "no --dead-letter: no dead-letter sample"

# ---------------------------------------------------------------------------------------
# Every way out writes it.

run_log exec --once --max-attempts 2 --backoff 10 --metrics "$M" "$X_LOG" -- \
    "$TEST_TMP/fail2.sh"
is "$RC:$(counts "$M")" "75:3 1 2 0 1" \
    "giving up without --dead-letter (exit 75): written, the last seq the one before"
run_log exec --once --metrics "$M" "$X_LOG" -- "$TEST_TMP/no-such-command"
is "$RC:$(counts "$M")" "69:0 0 0 0 0" "a command that cannot start (exit 69): written"
rm -f "$M"
run_log exec --once --metrics "$M" "$TEST_TMP/missing.jsonl" -- true
is "$RC" 2 "a missing log: exit 2"
ok "  the metrics file is written there too" test -s "$M"

script long.sh 'touch "$(dirname "$0")/started.$IDWISE_SEQ"; sleep 30'
rm -f "$M"
start_bg lt "$TEST_TMP/lt.out" "$IDWISE_LOG" exec --metrics "$M" "$X_LOG" -- \
    "$TEST_TMP/long.sh"
ok "exec runs its first command" wait_for test -e "$TEST_TMP/started.1"
ok "  the file is there before the first record is done" test -s "$M"
is "$(counts "$M")" "0 0 0 0 0" "  with nothing counted yet"
script fail.sh 'touch "$(dirname "$0")/failed"; exit 1'
start_bg bo "$TEST_TMP/bo.out" "$IDWISE_LOG" exec --backoff 20000 --dead-letter "$DL" \
    --metrics "$TEST_TMP/bo.prom" "$X_LOG" -- "$TEST_TMP/fail.sh"
ok "a failing command, then a 20 s backoff" wait_for test -e "$TEST_TMP/failed"
ok "  the failure is in the file within about a second, during the backoff" \
    wait_for metric_is "$TEST_TMP/bo.prom" idwise_exec_failures_total 1
# the last write before the signal is erased: only the way out can make it again
rm -f "$TEST_TMP/bo.prom"
kill_bg bo TERM
is "$BG_RC" 0 "SIGTERM in the backoff: exit 0"
is "$(counts "$TEST_TMP/bo.prom")" "1 0 1 0 0 $(stat -c %s "$DL")" "  and the file is written on the way out"
kill_bg lt KILL

# ---------------------------------------------------------------------------------------
# Rewritten every second, always whole.

write_config "$TEST_TMP/y"
Y_LOG=$LOG
post_many "$CONF" y 40 || bail "cannot post"
script slow.sh 'sleep 0.1'
: >"$TEST_TMP/empty.jsonl"
rm -f "$M"
start_bg sl "$TEST_TMP/sl.out" "$IDWISE_LOG" exec --dead-letter "$TEST_TMP/empty.jsonl" \
    --metrics "$M" "$Y_LOG" -- "$TEST_TMP/slow.sh"
ok "exec over 40 slow records" wait_for test -s "$M"
reads=0 half=0 inodes=()
declare -A seen=()
t_end=$(($(now_ms) + 3500))
while [ "$(now_ms)" -lt "$t_end" ]; do
	for ((i = 0; i < 10; i++)); do
		whole "$M" 18 || half=$((half + 1))
		reads=$((reads + 1))
	done
	ino=$(stat -c %i "$M" 2>/dev/null)
	[ -n "${seen[$ino]:-}" ] || { seen[$ino]=1; inodes+=("$ino"); }
done
is "$half" 0 "$reads reads while it runs: each one a whole file"
ok "  rewritten by renames, about once a second (${#inodes[@]} files in 3.5 s)" \
    test "${#inodes[@]}" -ge 3 -a "${#inodes[@]}" -le 6
done_at=$(metric "$M" idwise_exec_records_done_total)
ok "  the count moves meanwhile ($done_at of 40 done)" test "${done_at:-0}" -gt 5 -a \
    "${done_at:-0}" -lt 40
ok "all 40 done, in the file within a second or two" \
    wait_for metric_is "$M" idwise_exec_last_seq 40
ino=$(stat -c %i "$M")
ok "  idle, it is still rewritten every second" wait_for replaced "$M" "$ino"
kill_bg sl TERM
is "$BG_RC:$(counts "$M")" "0:40 40 0 0 40 0" "SIGTERM: exit 0, the last counts written"
ok "  nothing is left beside it" test ! -e "$M.tmp"

ok "no sanitizer reports" no_sanitizer_reports "$TEST_TMP"/*.stderr "$TEST_TMP/run.err"

done_testing
