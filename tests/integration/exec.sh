#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/exec.sh: idwise-log exec: the command's standard input and
# environment, no shell, retries with backoff, the dead-letter file, the cursor moving only
# past handled records, kill -9 and SIGTERM at any moment, bad arguments. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/log-lib.sh" || exit 1

write_config "$TEST_TMP/x"
X_CONF=$CONF X_LOG=$LOG
post_event "$X_CONF" x-1 "Finished Journey" Complete &&
    post_event "$X_CONF" x-2 "Finished Step" - null &&
    post_event "$X_CONF" x-3 "Manually Reviewed" Rejected || bail "cannot write a log"

# script NAME BODY: an executable /bin/sh script $TEST_TMP/NAME.
script()
{
	printf '#!/bin/sh\n%s\n' "$2" >"$TEST_TMP/$1" && chmod +x "$TEST_TMP/$1"
}

# ---------------------------------------------------------------------------------------
# The command line.

bad_exec()
{
	local desc=${*: -1}
	run_log exec "${@:1:$#-1}"
	is "$RC" 64 "exec $desc: exit 64"
	like "$ERR" 'usage: idwise-log exec ' "exec $desc: usage on stderr"
}
bad_exec "$X_LOG" "without -- COMMAND"
bad_exec "$X_LOG" -- "with -- but no COMMAND"
bad_exec "$X_LOG" true "without the --"
bad_exec --max-attempts 0 "$X_LOG" -- true "--max-attempts 0"
bad_exec --max-attempts many "$X_LOG" -- true "--max-attempts many"
bad_exec --backoff -5 "$X_LOG" -- true "--backoff -5"
bad_exec --format text "$X_LOG" -- true "--format (follow's, not exec's)"
bad_exec --once --type "exec --type without its value"
run_log exec --help
like "$RC $OUT" '^0 usage: idwise-log exec ' "exec --help: usage on stdout, exit 0"
run_log exec --once "$TEST_TMP/missing.jsonl" -- true
is "$RC" 2 "exec on a missing log: exit 2"
ok "exec on a missing log: one line" one_line "$ERR"

# ---------------------------------------------------------------------------------------
# What the command gets.

script show.sh 'D=$(dirname "$0")
printf "seq=%s attempt=%s id=%s type=%s outcome=%s journey=%s ref=%s env=%s\n" \
    "$IDWISE_SEQ" "$IDWISE_ATTEMPT" "$IDWISE_ID" "$IDWISE_TYPE" "$IDWISE_OUTCOME" \
    "$IDWISE_JOURNEY_ID" "$IDWISE_REFERENCE_NO" "$IDWISE_ENV" >>"$D/env.out"
cat >"$D/stdin.$IDWISE_SEQ"
for fd in /proc/$$/fd/*; do readlink "$fd"; done >"$D/fds.$IDWISE_SEQ" 2>/dev/null
exit 0'
export IDWISE_TYPE=stale
run_log exec --once --cursor "$TEST_TMP/x.cursor" "$X_LOG" -- "$TEST_TMP/show.sh"
unset IDWISE_TYPE
is "$RC" 0 "exec --once: exit 0"
is "$(cat "$TEST_TMP/env.out")" \
"seq=1 attempt=1 id=x-1 type=finished_journey outcome=approved journey=j-x-1 ref=ref-x-1 env=test
seq=2 attempt=1 id=x-2 type=finished_step outcome=none journey=j-x-2 ref= env=test
seq=3 attempt=1 id=x-3 type=manually_reviewed outcome=rejected journey=j-x-3 ref=ref-x-3 env=test" \
    "the IDWISE_* variables, a null reference as empty, one stale variable replaced"
ok "standard input is the record line as stored, with its newline" \
    cmp -s "$TEST_TMP/stdin.2" <(sed -n 2p "$X_LOG")
is "$(grep -cE 'x\.cursor|events\.jsonl|inotify' "$TEST_TMP/fds.1")" 0 \
    "the command inherits neither the cursor, nor the log, nor inotify"
is "$(cursor_seq "$TEST_TMP/x.cursor")" 3 "the cursor is past the last record"
run_log exec --once --cursor "$TEST_TMP/x.cursor" "$X_LOG" -- "$TEST_TMP/show.sh"
is "$RC:$(line_count "$TEST_TMP/env.out")" 0:3 "run again with the cursor: nothing runs twice"

run_log exec --once --from-seq 3 "$X_LOG" -- sh -c 'printf "%s\n" "$1" >>"$2"' sh \
    'a b; echo injected $(id)' "$TEST_TMP/args.out"
is "$(cat "$TEST_TMP/args.out")" 'a b; echo injected $(id)' \
    "COMMAND and its arguments are passed as they are, through no shell"

# ---------------------------------------------------------------------------------------
# Fails twice, then succeeds.

script flaky.sh 'printf "%s %s %s\n" "$IDWISE_SEQ" "$IDWISE_ATTEMPT" \
    "$(cut -f1 "$CURSOR" | jq -s "max_by(.gen).seq")" >>"$(dirname "$0")/flaky.out"
[ "$IDWISE_SEQ" != 1 ] || [ "$IDWISE_ATTEMPT" -ge 3 ]'
export CURSOR=$TEST_TMP/flaky.cursor
t0=$(date +%s%N)
run_log exec --once --cursor "$CURSOR" --backoff 150 "$X_LOG" -- "$TEST_TMP/flaky.sh"
t1=$(date +%s%N)
unset CURSOR
is "$RC" 0 "a command that fails twice: exit 0 in the end"
is "$(cat "$TEST_TMP/flaky.out")" "1 1 0
1 2 0
1 3 0
2 1 1
3 1 2" "it runs 3 times for seq 1, the cursor stays before it until it succeeds, then moves once"
is "$(grep -c 'seq 1: .*flaky.sh: exit 1 (attempt [12] of 5)' <<<"$ERR")" 2 \
    "each failure is one line on stderr"
ok "the retries waited 150 ms, then 300 ms" test $(((t1 - t0) / 1000000)) -ge 450
is "$(cursor_seq "$TEST_TMP/flaky.cursor")" 3 "the cursor ends past seq 3"

# ---------------------------------------------------------------------------------------
# Always fails: the dead-letter file, and the stream goes on.

script fail2.sh 'echo "$IDWISE_SEQ" >>"$(dirname "$0")/fail2.out"
[ "$IDWISE_SEQ" != 2 ] || exit 3'
DL=$TEST_TMP/dead.jsonl
run_log exec --once --cursor "$TEST_TMP/dl.cursor" --max-attempts 3 --backoff 10 \
    --dead-letter "$DL" "$X_LOG" -- "$TEST_TMP/fail2.sh"
is "$RC" 0 "a record that always fails: exit 0"
is "$(tr '\n' ' ' <"$TEST_TMP/fail2.out")" "1 2 2 2 3 " \
    "it is tried --max-attempts times, then the next record runs"
is "$(line_count "$DL")" 1 "the dead-letter file holds one line"
is "$(jq -c '[.seq, .id, .attempts, .last_status]' "$DL")" '[2,"x-2",3,"exit 3"]' \
    "... with seq, id, attempts and the last status"
like "$(jq -r .failed_at "$DL")" '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}\.[0-9]{3}Z$' \
    "... and when it gave up"
is "$(sed 's/.*,"record"://; s/}$//' "$DL")" "$(sed -n 2p "$X_LOG")" \
    "... and the record exactly as stored"
like "$ERR" "seq 2: put in .*dead\\.jsonl after 3 attempts" "stderr says where it went"
is "$(cursor_seq "$TEST_TMP/dl.cursor")" 3 "the cursor moved past it"

rm -f "$TEST_TMP/fail2.out"
run_log exec --once --cursor "$TEST_TMP/nodl.cursor" --max-attempts 2 --backoff 10 \
    "$X_LOG" -- "$TEST_TMP/fail2.sh"
is "$RC" 75 "no --dead-letter: gives up with exit 75"
like "$ERR" 'seq 2: gave up after 2 attempts; with no --dead-letter file, stopping here' \
    "... and says so"
is "$(cursor_seq "$TEST_TMP/nodl.cursor"):$(tr '\n' ' ' <"$TEST_TMP/fail2.out")" "1:1 2 2 " \
    "... with the cursor before the record, and nothing after it run"
run_log exec --once --cursor "$TEST_TMP/nodl.cursor" --max-attempts 1 "$X_LOG" -- true
is "$RC:$(cursor_seq "$TEST_TMP/nodl.cursor")" 0:3 "the next start runs it again"

run_log exec --once --cursor "$TEST_TMP/nocmd.cursor" "$X_LOG" -- "$TEST_TMP/no-such-command"
is "$RC" 69 "a command that cannot be started: exit 69"
ok "... one line" one_line "$ERR"
like "$ERR" 'no-such-command: No such file or directory' "... naming it"
is "$(cursor_seq "$TEST_TMP/nocmd.cursor")" 0 "... and the cursor has not moved"
run_log exec --once --dead-letter "$TEST_TMP/no/such/dir/dead" "$X_LOG" -- true
is "$RC" 73 "a dead-letter file that cannot be made: exit 73 before anything runs"

# ---------------------------------------------------------------------------------------
# kill -9 at random moments: at most the record in hand runs again.

write_config "$TEST_TMP/y"
Y_CONF=$CONF Y_LOG=$LOG
post_many "$Y_CONF" y 30 || bail "cannot post"
script slow.sh 'echo "$IDWISE_SEQ" >>"$(dirname "$0")/slow.out"; sleep 0.03'
kills=0
for ((round = 1; round <= 8; round++)); do
	start_bg ex "$TEST_TMP/ex.out" "$IDWISE_LOG" exec --cursor "$TEST_TMP/y.cursor" "$Y_LOG" -- \
	    "$TEST_TMP/slow.sh"
	sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
	kill_bg ex KILL
	kills=$((kills + 1))
done
# A killed exec's lock goes when the kernel has torn the process down; under a loaded
# machine (and ASan's large mappings) that can lag its exit a little.
ok "the killed exec's cursor lock is released" wait_for not locked "$TEST_TMP/y.cursor"
timeout 60 "$IDWISE_LOG" exec --once --cursor "$TEST_TMP/y.cursor" "$Y_LOG" -- \
    "$TEST_TMP/slow.sh" 2>>"$TEST_TMP/ex.stderr"
is "$?" 0 "after $kills kills, --once finishes with exit 0"
sleep 0.2	# a command whose exec was killed runs on by itself
is "$(sort -n -u "$TEST_TMP/slow.out" | paste -sd ' ')" "$(seq_range 1 30)" \
    "kill -9 of exec, $kills times: every record ran"
again=$(($(line_count "$TEST_TMP/slow.out") - 30))
ok "... and at most the record in hand at each kill ran again ($again in all)" \
    test "$again" -le "$kills"
is "$(cursor_seq "$TEST_TMP/y.cursor")" 30 "... the cursor ends at the last record"

# ---------------------------------------------------------------------------------------
# SIGTERM.

script long.sh 'D=$(dirname "$0"); touch "$D/started.$IDWISE_SEQ"; sleep 1
echo "$IDWISE_SEQ" >>"$D/long.out"'
start_bg lt "$TEST_TMP/lt.out" "$IDWISE_LOG" exec --cursor "$TEST_TMP/lt.cursor" "$X_LOG" -- \
    "$TEST_TMP/long.sh"
ok "exec runs the command" wait_for test -e "$TEST_TMP/started.1"
kill_bg lt TERM
is "$BG_RC" 0 "SIGTERM while the command runs: exit 0"
is "$(cat "$TEST_TMP/long.out" 2>/dev/null)" 1 "... after letting the command finish"
ok "... without starting the next one" test ! -e "$TEST_TMP/started.2"
is "$(cursor_seq "$TEST_TMP/lt.cursor")" 1 "... and with the cursor past the finished record"

script failing.sh 'echo "$IDWISE_SEQ" >>"$(dirname "$0")/failing.out"; exit 1'
start_bg bo "$TEST_TMP/bo.out" "$IDWISE_LOG" exec --cursor "$TEST_TMP/bo.cursor" \
    --backoff 20000 "$X_LOG" -- "$TEST_TMP/failing.sh"
ok "a failing command" wait_for test -s "$TEST_TMP/failing.out"
sleep 0.2
t0=$(date +%s%N)
kill_bg bo TERM
t1=$(date +%s%N)
is "$BG_RC" 0 "SIGTERM while waiting to try again: exit 0"
ok "... at once, not after the 20 s backoff" test $(((t1 - t0) / 1000000)) -lt 5000
is "$(line_count "$TEST_TMP/failing.out"):$(cursor_seq "$TEST_TMP/bo.cursor")" 1:0 \
    "... with the cursor still before the record"

# ---------------------------------------------------------------------------------------
# The example of idwise-log(1): act on approved journeys.

for s in "$SAMPLES"/*.json; do
	post_sample "$X_CONF" "$(basename "$s" .json)" || bail "cannot post $s"
done
run_log exec --once --type finished_journey --outcome approved "$X_LOG" -- \
    sh -c 'echo "$IDWISE_SEQ $IDWISE_REFERENCE_NO" >>"$1"' sh "$TEST_TMP/activate.out"
is "$(cat "$TEST_TMP/activate.out")" \
    "$(jq -r 'select(.type == "finished_journey" and .outcome == "approved")
        | "\(.seq) \(.reference_no)"' "$X_LOG")" \
    "--type finished_journey --outcome approved: runs for exactly those records"
ok "no sanitizer reports" no_sanitizer_reports "$TEST_TMP"/*.stderr

done_testing
