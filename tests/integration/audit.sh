#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/audit.sh: an account of every decision: one stderr line per rejection
# (with nginx's request id, rate-limited), the reject_log file, log_level = debug, and the
# bound on how long a client stalled mid-body can hold a worker (--io-timeout).
# Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

REJECTS=$TEST_TMP/a/rejects.jsonl
write_config "$TEST_TMP/a" "reject_log=$REJECTS" max_body=2048
start_responder a "$CONF" || bail "responder did not start"
start_nginx "$(responder_socket a)" || bail "nginx did not start"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
ERR=$TEST_TMP/a.stderr

# One of each kind of rejection, then one good delivery.
BAD_JSON='{"event":"Finished Journey","body":{"eventId":"audit-bad","x":NaN}}'
NOT_ENVELOPE='{"event":"Finished Journey","body":["audit-secret-body-text"]}'
request GET
CURL_AUTH=(-H 'Authorization: Bearer wrong-token')
request POST --data-binary @"$SAMPLES/finished_step.json"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
request POST --data-binary "$(head -c 3000 /dev/zero | tr '\0' x)"
post_string "$BAD_JSON"
post_string "$NOT_ENVELOPE"
post "$SAMPLES/finished_journey.json"
is "$STATUS" 200 "a good delivery after five rejections is stored"

ok "the reject log has one line per rejection" test "$(log_count "$REJECTS")" -eq 5
is "$(jq -r '.status' "$REJECTS" | tr '\n' ' ')" "405 401 413 400 422 " \
    "with each status, in order"
is "$(jq -r '.reason' "$REJECTS" | paste -sd,)" \
    "method not allowed,unauthorized,body too large,invalid JSON,not an IDWise event" \
    "and each reason"
is "$(jq -r '.remote_addr' "$REJECTS" | sort -u)" 127.0.0.1 "and the remote address"
is "$(jq -r '.request_id | test("^[0-9a-f]{32}$")' "$REJECTS" | sort -u)" true \
    "and nginx's request id"
is "$(jq -r '.body_sha256' "$REJECTS" | head -n 3 | sort -u)" null \
    "no body_sha256 for requests refused before the body was read"
is "$(jq -r 'select(.status == 400) | .body_sha256' "$REJECTS")" \
    "$(printf '%s' "$BAD_JSON" | sha256sum | cut -d' ' -f1)" \
    "the body's SHA-256 for one refused after reading it"
is "$(jq -r 'select(.status == 400) | .detail' "$REJECTS")" "unexpected character" \
    "with the detail"
ok "the reject log holds no body" not grep -q 'audit-secret-body-text' "$REJECTS"
ok "and no credential" not grep -q -e "$TOKEN" -e wrong-token "$REJECTS"
ok "every line of it is JSON" quiet jq -e . "$REJECTS"

ID401=$(jq -r 'select(.status == 401) | .request_id' "$REJECTS")
like "$(cat "$ERR")" "rejected request $ID401 from 127.0.0.1: 401 unauthorized" \
    "stderr has one line for the 401, with the same request id"
is "$(grep -c 'rejected request' "$ERR")" 5 "and one line for each rejection"
ok "no accept line at the default log level" not grep -q 'accepted request' "$ERR"
ok "nothing secret on stderr" not grep -q -e "$TOKEN" -e wrong-token "$ERR"

# A flood of rejections: stderr stays bounded, and says how much it dropped.
for i in $(seq 1 120); do
	printf 'url = "%s"\nrequest = "GET"\noutput = "/dev/null"\n' "$URL"
done >"$TEST_TMP/flood.curl"
curl -s --no-progress-meter --parallel --parallel-max 16 --config "$TEST_TMP/flood.curl"
is "$(log_count "$REJECTS")" 125 "the reject log keeps every one of 120 more rejections"
LINES=$(grep -c 'rejected request' "$ERR")
ok "but stderr got at most a burst of them ($LINES lines)" test "$LINES" -le 40
sleep 1.1
request GET
like "$(tail -n 1 "$ERR")" 'similar lines dropped\) rejected request' \
    "the next line that gets through says lines were dropped"
stop_nginx
stop_responder a

# log_level = debug: accepts are told too.
write_config "$TEST_TMP/d" log_level=debug
start_responder d "$CONF"
start_nginx "$(responder_socket d)"
post "$SAMPLES/manually_reviewed.json"
is "$STATUS" 200 "debug: a delivery is stored"
like "$(cat "$TEST_TMP/d.stderr")" \
    'accepted request [0-9a-f]{32} from 127.0.0.1: seq 1 id "6f03675a-1600-435a-8999-50d836f675cc" type manually_reviewed' \
    "debug: one line for the accept, with seq, id and type"
post "$SAMPLES/manually_reviewed.json"
like "$(tail -n 1 "$TEST_TMP/d.stderr")" 'duplicate request [0-9a-f]{32} from 127.0.0.1: seq 1' \
    "debug: and one for a duplicate"
stop_nginx
stop_responder d

# A client that stalls mid-body holds no worker: with one thread, the next request is
# served at once; the stalled one, whose PARAMS were complete, is answered 400 truncated
# body at the deadline (--io-timeout from accept) and logged. (On c0afd20, where the
# stalled one held the only worker until its read timed out, the check that it was still
# waiting when the next was answered fails.)
TREJECTS=$TEST_TMP/t/rejects.jsonl
write_config "$TEST_TMP/t" "reject_log=$TREJECTS"
# (a socket directory of the responder's account, which it runs as when the tests are root's)
mkdir -p "$SOCK_DIR/t-run" && give_to_responder "$SOCK_DIR/t-run"
SOCK=$SOCK_DIR/t-run/t.sock
"$IDWISE_FCGI" -c "$CONF" "${RESPONDER_ARGS[@]}" --listen "unix:$SOCK" --threads 1 \
    --io-timeout 2 2>"$TEST_TMP/t.stderr" &
PID=$!
at_exit "kill -KILL $PID"
wait_for test -S "$SOCK"
FJ=$SAMPLES/finished_journey.json
mkfifo "$TEST_TMP/stall"
(
	export REQUEST_METHOD=POST CONTENT_LENGTH="$(wc -c <"$FJ")" REMOTE_ADDR=127.0.0.1 \
	    HTTP_AUTHORIZATION="Bearer $TOKEN"
	exec cgi-fcgi -bind -connect "$SOCK" <"$TEST_TMP/stall" >"$TEST_TMP/stall.out"
) &
STALLED=$!
exec {STALL_FD}>"$TEST_TMP/stall"
head -c 20 "$FJ" >&"$STALL_FD"
sleep 0.3	# (cgi-fcgi has connected and sent its PARAMS and those 20 bytes)
START=$(date +%s%N)
fcgi_run "$SOCK" "$SAMPLES/finished_step.json" REQUEST_METHOD=POST \
    CONTENT_LENGTH="$(wc -c <"$SAMPLES/finished_step.json")" REMOTE_ADDR=127.0.0.1 \
    "HTTP_AUTHORIZATION=Bearer $TOKEN"
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))
STALLED_WAITING=no
pid_alive "$STALLED" && STALLED_WAITING=yes
is "$STATUS" 200 "with one thread and a client stalled mid-body, the next request is served"
is "$STALLED_WAITING" yes "  while the stalled one still waits (${ELAPSED_MS} ms): it holds no worker"
ok "  within the timeout (${ELAPSED_MS} ms)" test "$ELAPSED_MS" -lt 5000
wait "$STALLED"
exec {STALL_FD}>&-
split_cgi_reply "$TEST_TMP/stall.out"
is "$STATUS" 400 "the stalled client got 400 (its body never came)"
like "$BODY" 'truncated body' "  truncated body"
is "$(jq -r '"\(.status) \(.reason)"' "$TREJECTS" 2>/dev/null)" "400 truncated body" \
    "  and the reject log says so"
is "$(log_count "$LOG")" 1 "only the other request was stored"
kill -TERM "$PID"
wait "$PID"

done_testing
