#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/many-writers.sh: 8 responder processes (spawn-fcgi -F 8) behind a real
# nginx share one log; 32 senders at once post 20,000 unique deliveries. Every one gets 200,
# the log holds 20,000 whole records with seq 1..20,000, each id once with the seq its reply
# named, and the prev chain verifies. And group commit: the deployment's fdatasync count
# (the status page's metrics) is below the number of records. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

N=20000
PROCS=8
SENDERS=32
DIR=$TEST_TMP/many

# syscalls_written PID: how many write-like system calls the process has made so far.
syscalls_written()
{
	awk '$1 == "syscw:" { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0
}

# fdatasyncs: the deployment's count of fdatasync calls, from the status page.
fdatasyncs()
{
	curl -sS "${URL%/webhook}/status" |
	    awk '$1 == "idwise_fdatasync_seconds_count" { printf "%d\n", $2 }'
}

write_config "$DIR" status_path=/idwise/status || bail "cannot write the config"
start_responder many "$CONF" "$PROCS" || bail "spawn-fcgi -F $PROCS failed"
start_nginx "$(responder_socket many)" || bail "nginx did not start"
mapfile -t PIDS < <(responder_pids many)
declare -A BEFORE=()
for p in "${PIDS[@]}"; do
	BEFORE[$p]=$(syscalls_written "$p")
done

make_ids mw "$N" >"$DIR/ids"
start=$(now_ms)
deliver_batch "$DIR/ids" "$DIR" "$SENDERS"
diag "$N deliveries, $SENDERS at a time, in $(($(now_ms) - start)) ms"

is "$(code_count "$DIR" 200)" "$N" "all $N deliveries got 200"
is "$(wc -l <"$DIR/codes" | tr -d ' ')" "$N" "  each was sent once (no retry was needed)"
is "$(reply_seqs "$DIR" | awk '$2 == "accepted"' | wc -l | tr -d ' ')" "$N" \
    "  each reply says accepted"
is "$(log_count "$LOG")" "$N" "the log holds $N lines"
ok "the lines are seq 1..$N, each the JSON record whose hash the next one's prev names" \
    check_chain "$LOG"
ok "each id is logged once, with the seq its reply named" check_delivered "$DIR/ids" "$DIR" "$LOG"
is "$(jq -c 'select((keys | length) == 14 and .env == "test" and .type == "finished_step"
    and .body == {eventId: .id, journeyId: "j-gen", stepId: "1"})' "$LOG" | wc -l | tr -d ' ')" \
    "$N" "every line is one whole record of this test (nothing interleaved)"
ok "no torn tail was cut (none happened)" test ! -e "$LOG.torn"
syncs=$(fdatasyncs)
diag "$syncs fdatasyncs for $N records"
ok "group commit: fewer fdatasyncs than records ($syncs < $N)" \
    test "${syncs:-$N}" -lt "$N"

served=0
for p in "${PIDS[@]}"; do
	[ "$(syscalls_written "$p")" -gt $((BEFORE[$p] + 100)) ] && served=$((served + 1))
done
is "$served" "$PROCS" "all $PROCS processes served deliveries"
alive=0
for p in "${PIDS[@]}"; do
	pid_alive "$p" && alive=$((alive + 1))
done
is "$alive" "$PROCS" "all $PROCS processes are still running"

stop_responder many
ok "no sanitizer report on the responders' stderr" no_sanitizer_reports "$TEST_TMP/many.stderr"
ok "the responders reported no problem on stderr" \
    no_line_in "$TEST_TMP/many.stderr" '^idwise-fcgi: '
ok "nginx logged no error" no_line_in "$NGINX_DIR/error.log" '\[(error|alert|crit|emerg)\]'
done_testing
