#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/dedup.sh: a redelivery is recognised by every process (4 responders on
# their own sockets, one log), also when all four get it at the same moment; after the
# responders restart; after the log is rotated (twice); after the index and state files are
# lost, as a reboot loses them (the index is rebuilt from the log and the rotated files).
# With the default dedup_window (24h), ids stored 23 hours ago in a rotated file are still
# known after the index is rebuilt, and ids 25 hours old are stored again; with a 3-second
# window an id is stored again once the window has passed. And the state file deleted
# under running responders. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

NPROC=4
DIR=$TEST_TMP/dedup

start_all()
{
	local i
	for ((i = 1; i <= NPROC; i++)); do
		start_responder "p$i" "$CONF" || bail "responder p$i did not start"
	done
}

stop_all()
{
	local i
	for ((i = 1; i <= NPROC; i++)); do
		stop_responder "p$i"
	done
}

# send PROC ID: the delivery of ID straight to responder pPROC. Sets STATUS and BODY.
send()
{
	step_event "$2" >"$TEST_TMP/send.body"
	fcgi_post "$(responder_socket "p$1")" "$TEST_TMP/send.body"
}

# replies_of ID: what each process answers to the delivery of ID, "STATUS BODY" a line.
replies_of()
{
	local i
	for ((i = 1; i <= NPROC; i++)); do
		send "$i" "$1"
		printf '%s %s\n' "$STATUS" "$(json_norm "$BODY")"
	done
}

# known_everywhere ID SEQ DESC: every process answers "duplicate of SEQ" to ID.
known_everywhere()
{
	local want i
	want=$(for ((i = 1; i <= NPROC; i++)); do
		printf '200 %s\n' "$(json_norm "{\"status\":\"duplicate\",\"seq\":$2}")"
	done)
	is "$(replies_of "$1")" "$want" "$3"
}

# race ID: the delivery of ID sent to all processes at the same moment; prints the replies'
# status members and seqs, sorted ("accepted 7", "duplicate 7", ...).
race()
{
	local id=$1 i dir=$DIR/race/$1
	mkdir -p "$dir" || return 1
	step_event "$id" >"$dir/body"
	for ((i = 1; i <= NPROC; i++)); do
		_cgi_exec cgi-fcgi -bind -connect "$(responder_socket "p$i")" -- \
		    REQUEST_METHOD=POST CONTENT_TYPE=application/json \
		    "CONTENT_LENGTH=$(wc -c <"$dir/body" | tr -d ' ')" REMOTE_ADDR=127.0.0.1 \
		    "HTTP_AUTHORIZATION=Bearer $TOKEN" <"$dir/body" >"$dir/out.$i" &
	done
	wait
	for ((i = 1; i <= NPROC; i++)); do
		tail -n 1 "$dir/out.$i" | jq -r '"\(.status) \(.seq)"' 2>/dev/null || echo "no reply"
	done | sort
}

# received_ms LOG SEQ: when record SEQ was received, in ms since the epoch.
received_ms()
{
	date -d "$(log_record "$1" "$2" .received_at)" +%s%3N
}

# wait_until MS: sleep until the clock passes MS (ms since the epoch).
wait_until()
{
	while [ "$(now_ms)" -le "$1" ]; do
		sleep 0.05
	done
}

# ---------------------------------------------------------------------------------------
# Every process knows what any of them stored.

write_config "$DIR" || bail "cannot write the config"
start_all
send 1 first
reply_is 200 '{"status":"accepted","seq":1}' "p1 stores a delivery as seq 1"
known_everywhere first 1 "every process (p1..p$NPROC) answers its redelivery: duplicate of seq 1"

RACES=40
bad=0
for ((r = 1; r <= RACES; r++)); do
	got=$(race "race-$r")
	want=$(printf 'accepted %d\nduplicate %d\nduplicate %d\nduplicate %d' \
	    $((r + 1)) $((r + 1)) $((r + 1)) $((r + 1)))
	if [ "$got" != "$want" ]; then
		bad=$((bad + 1))
		[ "$bad" -gt 3 ] || diag "race-$r: got" "$got" "want" "$want"
	fi
done
is "$bad" 0 "$RACES ids, each sent to all $NPROC processes at once: one accepted, three duplicates of it"
is "$(log_count "$LOG")" $((RACES + 1)) "  the log holds $((RACES + 1)) records"
ok "  and verifies" check_chain "$LOG"
SEQ=$((RACES + 1))

# ---------------------------------------------------------------------------------------
# Restarts.

stop_all
start_all
known_everywhere first 1 "after a restart of every process: still a duplicate of seq 1 everywhere"
known_everywhere race-17 18 "  and race-17 of seq 18"

# ---------------------------------------------------------------------------------------
# Rotation, as logrotate does it: rename, the writer makes a new file.

mv "$LOG" "$LOG.1"
SEQ=$((SEQ + 1))
send 3 after-rotation-1
reply_is 200 "{\"status\":\"accepted\",\"seq\":$SEQ}" "after a rotation, a new id is seq $SEQ"
is "$(log_count "$LOG")" 1 "  in a new file at the log's path"
is "$(log_last "$LOG" .prev)" "$(line_hash "$LOG.1" "$((SEQ - 1))")" \
    "  whose prev is the hash of the old file's last line"
known_everywhere first 1 "after the rotation, every process: the id in the rotated file is a duplicate"
mv "$LOG.1" "$LOG.2"
mv "$LOG" "$LOG.1"
SEQ=$((SEQ + 1))
send 4 after-rotation-2
reply_is 200 "{\"status\":\"accepted\",\"seq\":$SEQ}" "after a second rotation, a new id is seq $SEQ"
known_everywhere first 1 "  every process: the id two files back is a duplicate"
known_everywhere after-rotation-1 $((SEQ - 1)) "  and so is the one in the last rotated file"

# ---------------------------------------------------------------------------------------
# The index and the state file lost (what a reboot does), with rotated files in place.

stop_all
rm -f "$LOG.idx" "$LOG.shm"
start_all
known_everywhere first 1 "index and state lost: every process still knows the id two files back"
known_everywhere race-40 41 "  and race-40 (seq 41)"
known_everywhere after-rotation-1 $((SEQ - 1)) "  and after-rotation-1 (seq $((SEQ - 1)))"
known_everywhere after-rotation-2 "$SEQ" "  and after-rotation-2 (seq $SEQ)"
ok "  the index was made anew" test -s "$LOG.idx"
SEQ=$((SEQ + 1))
send 2 after-reboot
reply_is 200 "{\"status\":\"accepted\",\"seq\":$SEQ}" "  a new id is seq $SEQ"
ok "  the chain runs through the three files" check_chain "$LOG.2" "$LOG.1" "$LOG"
is "$(cat "$LOG.2" "$LOG.1" "$LOG" | jq -r .id | sort | uniq -d)" "" "  no id is stored twice"
stop_all

# ---------------------------------------------------------------------------------------
# The default dedup_window (24h) with a rebuilt index: records written by tests/gen-log with
# old received_at times, in rotated files (25 hours old, then 23 hours old, then now).

write_config "$DIR/window"
"$GEN_LOG" -a $((25 * 3600)) -i old 5 >"$LOG.2" &&
    "$GEN_LOG" -c "$LOG.2" -a $((23 * 3600)) -i day 5 >"$LOG.1" &&
    "$GEN_LOG" -c "$LOG.1" -i now 5 >"$LOG" || bail "gen-log failed"
give_to_responder "$LOG" "$LOG.1" "$LOG.2"
ok "the generated files make one chain (seq 1..15)" check_chain "$LOG.2" "$LOG.1" "$LOG"
start_all
known_everywhere day-3 8 "dedup_window 24h, no index: every process knows an id stored 23 hours ago"
known_everywhere now-5 15 "  and one stored now"
send 1 old-2
reply_is 200 '{"status":"accepted","seq":16}' \
    "  an id stored 25 hours ago (beyond the window) is stored again, as seq 16"
is "$(log_record "$LOG" 16 '.conflict // false')" false "  not as a conflict"
known_everywhere old-2 16 "  then every process knows it as seq 16"
stop_all
rm -f "$LOG.idx" "$LOG.shm"
start_all
known_everywhere day-1 6 "index lost again: the 23-hour-old id is still known everywhere"
ok "  the chain verifies" check_chain "$LOG.2" "$LOG.1" "$LOG"
stop_all

# ---------------------------------------------------------------------------------------
# A short window: known within it; stored again after it.

write_config "$DIR/short" dedup_window=3s
start_all
send 1 brief-1
reply_is 200 '{"status":"accepted","seq":1}' "dedup_window 3s: stored as seq 1"
known_everywhere brief-1 1 "  within the window: a duplicate at every process"
stored=$(received_ms "$LOG" 1)
ok "  (those replies came within the window)" test "$(now_ms)" -lt $((stored + 3000))
wait_until $((stored + 3000))
send 2 brief-2
reply_is 200 '{"status":"accepted","seq":2}' "  after the window, another id is seq 2"
send 3 brief-1
reply_is 200 '{"status":"accepted","seq":3}' "  and brief-1 is stored again, as seq 3"
is "$(log_record "$LOG" 3 '"\(.id) \(.conflict // false)"')" "brief-1 false" \
    "  a new record of the same id, not a conflict"
known_everywhere brief-1 3 "  which every process then knows"
wait_until $(($(received_ms "$LOG" 2) + 3000))
stop_all
rm -f "$LOG.idx" "$LOG.shm"
start_all
send 4 brief-2
reply_is 200 '{"status":"accepted","seq":4}' \
    "index lost after the window: brief-2 (seq 2) is stored again, as seq 4"
ok "the short-window log verifies" check_chain "$LOG"
stop_all

# ---------------------------------------------------------------------------------------
# The state file deleted while responders run, then one more started: it makes a new state
# file with a lock of its own. Appends must stay one at a time.

write_config "$DIR/shm"
start_all
socks=()
for ((i = 1; i <= NPROC; i++)); do
	socks+=("$(responder_socket "p$i")")
done
start_nginx "${socks[@]}" || bail "nginx did not start"
send 1 before-shm-lost
reply_is 200 '{"status":"accepted","seq":1}' "state file test: seq 1 stored"
rm -f "$LOG.shm"
stop_responder p4
start_responder p4 "$CONF" || bail "responder p4 did not start"
make_ids shm-lost 1500 >"$DIR/shm.ids"
ok "state file deleted under running responders, one restarted: 1500 deliveries get 200" \
    deliver_until_ok "$DIR/shm.ids" "$DIR/shm-load" 5
ok "  and the log verifies" check_chain "$LOG"
stop_all
stop_nginx

err=$(cat "$TEST_TMP"/p*.stderr)
ok "no sanitizer report on the responders' stderr" no_sanitizer_reports "$TEST_TMP"/p*.stderr
is "$(grep -c 'conflict:' <<<"$err")" 0 "no conflict was reported"
done_testing
