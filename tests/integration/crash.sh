#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/crash.sh: 4 responders, each on its own socket, behind one nginx upstream,
# one log. Senders post batches of new deliveries 32 at a time and retry each until it gets
# a 200, with the same body, as IDWise does; meanwhile a supervisor SIGKILLs a random
# responder at a random moment and starts it again, at least 50 times. Every delivery that
# got a 200 is in the log exactly once, with the seq its 200 named, and the log verifies.
# Then what a crash leaves, made on purpose: a torn last line and garbage at the end (cut
# and kept in <log>.torn), and a whole record a writer wrote before it died (taken in, also
# when the log is rotated before the next append). Output: TAP.
#
# CRASH_KILLS (default 60, never below 50) sets how many kills.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

NRESP=4
KILLS=${CRASH_KILLS:-60}
[ "$KILLS" -ge 50 ] || KILLS=50
DIR=$TEST_TMP/crash
LOAD=$DIR/load

socket_of()
{
	responder_socket "c$1"
}

start_all()
{
	local i
	for ((i = 1; i <= NRESP; i++)); do
		start_responder "c$i" "$CONF" || bail "responder c$i did not start"
	done
}

# kill_all: SIGKILL every responder, as a crash of the machine's services would.
kill_all()
{
	local i
	for ((i = 1; i <= NRESP; i++)); do
		{ kill -KILL "$(responder_pids "c$i")"; stop_responder "c$i"; } 2>/dev/null
	done
}

# grown_since N: the log holds more than N lines.
grown_since()
{
	[ "$(log_count "$LOG")" -gt "$1" ]
}

# random_pause: 20 to 200 ms.
random_pause()
{
	sleep "0.$(printf '%03d' $((RANDOM % 181 + 20)))"
}

write_config "$DIR" || bail "cannot write the config"
start_all
socks=()
for ((i = 1; i <= NRESP; i++)); do
	socks+=("$(socket_of "$i")")
done
start_nginx "${socks[@]}" || bail "nginx did not start"

# ---------------------------------------------------------------------------------------
# Random kills under load.

load_start "$LOAD" load
kills=0
under_load=0
seen=$(log_count "$LOG")
start=$(now_ms)
for ((k = 1; k <= KILLS; k++)); do
	random_pause
	# only while deliveries are being stored
	wait_for grown_since "$seen" && load_running && under_load=$((under_load + 1))
	seen=$(log_count "$LOG")
	r=$((RANDOM % NRESP + 1))
	pid=$(responder_pids "c$r")
	# (bash would print "Killed" for the job; that notice goes to /dev/null)
	{ kill -KILL "$pid" && kills=$((kills + 1)); stop_responder "c$r"; } 2>/dev/null
	start_responder "c$r" "$CONF" || bail "responder c$r did not restart"
done
load_stop
diag "$kills kills in $(($(now_ms) - start)) ms; $(log_count "$LOG") deliveries stored," \
    "$(code_count "$LOAD" 502) replies were 502 (the responder died) and were retried"

is "$kills" "$KILLS" "$KILLS responders were SIGKILLed"
is "$under_load" "$KILLS" "  each while deliveries were being stored"
ok "  some kills cut requests in flight (nginx answered 502, and the sender retried)" \
    test "$(code_count "$LOAD" 502)" -gt 0
ok "every delivery got a 200 in the end" test ! -e "$LOAD/failed"
ok "every delivery that got a 200 is in the log exactly once, with the seq it was told" \
    check_delivered "$LOAD/ids" "$LOAD" "$LOG"
is "$(log_count "$LOG")" "$(log_count "$LOAD/ids")" "  and the log holds nothing else"
ok "the log verifies" check_chain "$LOG"
cut_bytes=$(sed -n 's/.*cut a torn tail of \([0-9]*\) bytes.*/\1/p' "$TEST_TMP"/c*.stderr |
    awk '{ n += $1 } END { print n + 0 }')
if [ "$cut_bytes" -gt 0 ]; then
	ok "torn tails ($cut_bytes bytes) were kept in $(basename "$LOG").torn" \
	    test "$(wc -c <"$LOG.torn")" -ge "$cut_bytes"
else
	ok "no torn tail happened, and no .torn file was made" test ! -e "$LOG.torn"
fi
diag "a killed process held the lock $(cat "$TEST_TMP"/c*.stderr |
    grep -c 'died holding the lock') times (the next one took it over)"

# ---------------------------------------------------------------------------------------
# A torn last line, as a crash in the middle of write(2) would leave it.

kill_all
"$GEN_LOG" -c "$LOG" -i torn 1 | head -c 150 >"$DIR/torn"
cat "$DIR/torn" >>"$LOG"
rm -f "$LOG.torn"
start_all
make_ids after-torn 50 >"$DIR/after-torn.ids"
ok "after a torn last line: 50 new deliveries get 200" \
    deliver_until_ok "$DIR/after-torn.ids" "$DIR/after-torn"
printf '\n' >>"$DIR/torn"
is "$(sha256_of "$LOG.torn")" "$(sha256_of "$DIR/torn")" \
    "  the torn line was cut and kept in .torn (with a newline added)"
ok "  the log verifies" check_chain "$LOG"
ok "  the 50 are in it once each" check_delivered "$DIR/after-torn.ids" "$DIR/after-torn" \
    <(tail -n 50 "$LOG")
is "$(grep -c '"torn-1"' "$LOG")" 0 "  the torn record is not in the log"

# Garbage at the end, without a newline.
kill_all
printf 'garbage \001\002 with no newline' >"$DIR/garbage"
cat "$DIR/garbage" >>"$LOG"
start_all
make_ids after-garbage 50 >"$DIR/after-garbage.ids"
ok "after garbage at the end: 50 new deliveries get 200" \
    deliver_until_ok "$DIR/after-garbage.ids" "$DIR/after-garbage"
printf '\n' >>"$DIR/garbage"
is "$(tail -n 1 "$LOG.torn" | sha256sum | cut -d' ' -f1)" "$(sha256_of "$DIR/garbage")" \
    "  the garbage was cut and added to .torn"
ok "  the log verifies" check_chain "$LOG"

# A whole record a writer wrote just before it was killed, before it indexed it.
kill_all
"$GEN_LOG" -c "$LOG" -i left 1 >>"$LOG"
LEFT_SEQ=$(log_last "$LOG" .seq)
start_all
post_string "$(step_event after-left)" -H "Authorization: Bearer $TOKEN"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$((LEFT_SEQ + 1))}" \
    "a record a killed writer left (seq $LEFT_SEQ) is taken in: the next delivery is seq $((LEFT_SEQ + 1))"
post_string "$(step_event left-1)" -H "Authorization: Bearer $TOKEN"
reply_is 200 "{\"status\":\"duplicate\",\"seq\":$LEFT_SEQ}" "  its redelivery is a duplicate of it"
ok "  the log verifies" check_chain "$LOG"

# The same, but the log is rotated before the next append (logrotate's rename).
kill_all
"$GEN_LOG" -c "$LOG" -i left-rot 1 >>"$LOG"
LEFT_SEQ=$(log_last "$LOG" .seq)
mv "$LOG" "$LOG.1"
start_all
post_string "$(step_event after-left-rot)" -H "Authorization: Bearer $TOKEN"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$((LEFT_SEQ + 1))}" \
    "a record a killed writer left, then a rotation: the next delivery is seq $((LEFT_SEQ + 1))"
post_string "$(step_event left-rot-1)" -H "Authorization: Bearer $TOKEN"
reply_is 200 "{\"status\":\"duplicate\",\"seq\":$LEFT_SEQ}" \
    "  the left record's redelivery is a duplicate of it"
ok "  the chain runs on from the rotated file" check_chain "$LOG.1" "$LOG"

kill_all
ok "no sanitizer report on the responders' stderr" no_sanitizer_reports "$TEST_TMP"/c*.stderr
# connect() fails while a killed responder is restarting; nothing else may go wrong
grep -v 'connect() to unix:.* failed' "$NGINX_DIR/error.log" >"$DIR/nginx-errors"
ok "nginx logged no crash (only connects to restarting responders failed)" \
    no_line_in "$DIR/nginx-errors" '\[(alert|crit|emerg)\]'
done_testing
