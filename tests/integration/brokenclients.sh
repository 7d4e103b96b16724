#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/brokenclients.sh: slow and broken clients. Through nginx (HTTP written by
# hand on /dev/tcp): one that stops mid-body, one that sends less than its Content-Length and
# closes, one that goes away before the reply. Directly on idwise-fcgi's FastCGI socket
# (--listen on TCP, FastCGI records written by hand), where nginx no longer shields it: the
# same three, bytes that are not FastCGI, a role it does not play (tests/fcgi-raw.py reads
# the records of that answer), and stdin longer than CONTENT_LENGTH. After each: nothing of the broken request is logged and the next request
# is served. (How long a stalled direct client can hold a worker: audit.sh, --io-timeout.)
# Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/fcgi-raw.sh" || exit 1

BODY_TIMEOUT=2
NGINX_HTTP_EXTRA="client_body_timeout ${BODY_TIMEOUT}s;"
SOCK=$(responder_socket idwise)
ERR=$TEST_TMP/idwise.stderr
write_config "$TEST_TMP/n" "reject_log=$TEST_TMP/n/rejects.jsonl"
start_responder idwise "$CONF" || bail "idwise-fcgi did not start"
start_nginx "$SOCK" || bail "nginx did not start"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")

# event ID: a Finished Step delivery with that eventId.
event()
{
	printf '{"event":"Finished Step","body":{"eventId":"%s","journeyId":"j","stepId":"1"}}' "$1"
}

# http_head LENGTH: the head of a POST to the webhook through nginx.
http_head()
{
	printf 'POST /idwise/webhook HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n' \
	    "$TOKEN"
	printf 'Content-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' "$1"
}

# ids_in LOG: the ids stored, sorted, on one line.
ids_in()
{
	jq -r .id "$1" 2>/dev/null | sort | tr '\n' ' '
}

# served ID DESC: a delivery through nginx is stored.
served()
{
	post_string "$(event "$1")"
	is "$STATUS $(jq -r .status <<<"$BODY" 2>/dev/null)" "200 accepted" "$2"
}

# access_status N: the status of the Nth request in nginx's access log.
access_status()
{
	sed -n "${1}p" "$NGINX_DIR/access.log" | awk '{ print $9 }'
}

# ---------------------------------------------------------------------------------------
# Through nginx.

served bc-first "a first delivery is stored"

# Stops mid-body and holds the connection: nginx times it out; idwise-fcgi never sees it.
BODY1=$(event bc-stalled)
exec {C}<>"/dev/tcp/127.0.0.1/$NGINX_PORT"
http_head "${#BODY1}" >&"$C"
printf '%s' "${BODY1:0:20}" >&"$C"
START=$(date +%s%N)
served bc-during-stall "while a client stalls mid-body, another delivery is stored"
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))
ok "  at once (${ELAPSED_MS} ms): nginx buffers bodies, the stall holds no worker" \
    test "$ELAPSED_MS" -lt 1500
timeout $((BODY_TIMEOUT + 5)) cat <&"$C" >"$TEST_TMP/stalled.reply"
exec {C}>&-
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))
ok "the stalled client is dropped by nginx after client_body_timeout (${ELAPSED_MS} ms)" \
    test "$ELAPSED_MS" -lt $(((BODY_TIMEOUT + 4) * 1000))
is "$(wc -c <"$TEST_TMP/stalled.reply" | tr -d ' ')" 0 "  nginx closes without a reply (it logs 408)"
ok "  nginx logs 408 for it" wait_for grep -q '" 408 ' "$NGINX_DIR/access.log"

# Sends less than its Content-Length and closes: nginx logs 400 and passes nothing on.
BODY2=$(event bc-short)
exec {C}<>"/dev/tcp/127.0.0.1/$NGINX_PORT"
{ http_head $((${#BODY2} + 50)); printf '%s' "$BODY2"; } >&"$C"
exec {C}>&-
ok "a body shorter than Content-Length, then closed: nginx logs 400" \
    wait_for grep -q '"POST /idwise/webhook HTTP/1.1" 400 ' "$NGINX_DIR/access.log"
served bc-after-short "the next delivery is stored"

# Sends a whole delivery and goes away before the reply: stored once or not at all, and a
# redelivery leaves exactly one record.
BODY3=$(event bc-gone)
exec {C}<>"/dev/tcp/127.0.0.1/$NGINX_PORT"
{ http_head "${#BODY3}"; printf '%s' "$BODY3"; } >&"$C"
exec {C}>&-
sleep 0.5
like "$(grep -c bc-gone "$LOG")" '^[01]$' "a client gone before the reply: its delivery stored at most once"
post_string "$BODY3"
is "$STATUS" 200 "  IDWise's retry of it gets 200"
is "$(grep -c bc-gone "$LOG")" 1 "  and the log holds it exactly once"
served bc-after-gone "the next delivery is stored"

is "$(ids_in "$LOG")" "bc-after-gone bc-after-short bc-during-stall bc-first bc-gone " \
    "through nginx: the log holds the good deliveries only"
ok "  and its chain verifies" check_chain "$LOG"
is "$(log_count "$TEST_TMP/n/rejects.jsonl")" 0 "idwise-fcgi refused nothing: nginx kept the broken ones"
stop_nginx
stop_responder idwise

# ---------------------------------------------------------------------------------------
# Directly on the FastCGI socket.

write_config "$TEST_TMP/d" "reject_log=$TEST_TMP/d/rejects.jsonl"
PORT=$(free_port) || bail "no free port"
"$IDWISE_FCGI" -c "$CONF" "${RESPONDER_ARGS[@]}" --listen "127.0.0.1:$PORT" \
    2>"$TEST_TMP/d.stderr" &
PID=$!
at_exit "kill -KILL $PID"
port_up()
{
	pid_alive "$PID" || return 2
	! port_free "$PORT"
}
wait_for port_up || bail "idwise-fcgi did not listen on 127.0.0.1:$PORT"

# byte N...: the bytes, raw.
byte()
{
	local n
	for n in "$@"; do
		printf "\\x$(printf %02x "$n")"
	done
}

# fcgi_record TYPE FILE: one FastCGI record (request id 1) holding FILE's bytes (< 64 KiB).
fcgi_record()
{
	local len
	len=$(wc -c <"$2")
	byte 1 "$1" 0 1 $((len >> 8)) $((len & 255)) 0 0
	cat "$2"
}

# fcgi_request FILE ROLE BODY-FILE [NAME=VALUE...]: a whole FastCGI request into FILE.
fcgi_request()
{
	local out=$1 role=$2 body=$3 kv name value
	shift 3
	byte 0 "$role" 0 0 0 0 0 0 >"$TEST_TMP/rec"
	fcgi_record 1 "$TEST_TMP/rec" >"$out"
	: >"$TEST_TMP/rec"
	for kv in "$@"; do
		name=${kv%%=*}
		value=${kv#*=}
		{ byte "${#name}" "${#value}"; printf '%s%s' "$name" "$value"; } >>"$TEST_TMP/rec"
	done
	fcgi_record 4 "$TEST_TMP/rec" >>"$out"
	: >"$TEST_TMP/rec"
	fcgi_record 4 "$TEST_TMP/rec" >>"$out"
	fcgi_record 5 "$body" >>"$out"
	fcgi_record 5 "$TEST_TMP/rec" >>"$out"
}

# params LENGTH: the CGI variables of an authorized POST.
params()
{
	PARAMS=(REQUEST_METHOD=POST "CONTENT_LENGTH=$1" CONTENT_TYPE=application/json
	    REMOTE_ADDR=127.0.0.1 "HTTP_AUTHORIZATION=Bearer $TOKEN")
}

# direct_served ID DESC: a delivery with cgi-fcgi is stored.
direct_served()
{
	event "$1" >"$TEST_TMP/ev.json"
	params "$(wc -c <"$TEST_TMP/ev.json")"
	fcgi_run "127.0.0.1:$PORT" "$TEST_TMP/ev.json" "${PARAMS[@]}"
	is "$STATUS $(jq -r .status <<<"$BODY" 2>/dev/null)" "200 accepted" "$2"
}

# send_part FILE BYTES: connect, send the first BYTES of FILE, close.
send_part()
{
	exec {C}<>"/dev/tcp/127.0.0.1/$PORT"
	head -c "$2" "$1" >&"$C"
	exec {C}>&-
}

direct_served dc-first "direct: a first delivery is stored"

# Stops mid-body and closes.
event dc-cut >"$TEST_TMP/cut.json"
params "$(wc -c <"$TEST_TMP/cut.json")"
fcgi_request "$TEST_TMP/cut.req" 1 "$TEST_TMP/cut.json" "${PARAMS[@]}"
send_part "$TEST_TMP/cut.req" $(($(wc -c <"$TEST_TMP/cut.req") - 40))
direct_served dc-after-cut "direct: after a client closed mid-body, the next is stored"

# Less stdin than CONTENT_LENGTH, the stream ended properly: 400 truncated.
params $(($(wc -c <"$TEST_TMP/cut.json") + 10))
fcgi_request "$TEST_TMP/short.req" 1 "$TEST_TMP/cut.json" "${PARAMS[@]}"
exec {C}<>"/dev/tcp/127.0.0.1/$PORT"
cat "$TEST_TMP/short.req" >&"$C"
timeout 10 cat <&"$C" >"$TEST_TMP/short.reply"
exec {C}>&-
ok "direct: stdin shorter than CONTENT_LENGTH: 400 truncated body" \
    grep -aq 'Status: 400.*' "$TEST_TMP/short.reply"
ok "  the reply says truncated" grep -aq 'truncated body' "$TEST_TMP/short.reply"

# A whole request, gone before the reply: the responder writes into a closed socket.
event dc-gone >"$TEST_TMP/gone.json"
params "$(wc -c <"$TEST_TMP/gone.json")"
fcgi_request "$TEST_TMP/gone.req" 1 "$TEST_TMP/gone.json" "${PARAMS[@]}"
send_part "$TEST_TMP/gone.req" "$(wc -c <"$TEST_TMP/gone.req")"
sleep 0.3
ok "direct: a client gone before the reply does not take the process with it" pid_alive "$PID"
like "$(grep -c dc-gone "$LOG")" '^[01]$' "  its delivery stored at most once"
fcgi_run "127.0.0.1:$PORT" "$TEST_TMP/gone.json" "${PARAMS[@]}"
is "$STATUS" 200 "  the retry of it gets 200"
is "$(grep -c dc-gone "$LOG")" 1 "  and the log holds it once"

# Bytes that are not FastCGI at all, and a record of a version that does not exist.
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >"$TEST_TMP/http.req"
send_part "$TEST_TMP/http.req" 1000
byte 9 1 0 1 0 8 0 0 0 1 0 0 0 0 0 0 >"$TEST_TMP/v9.req"
send_part "$TEST_TMP/v9.req" 1000
head -c 3000 /dev/urandom >"$TEST_TMP/noise.req"
send_part "$TEST_TMP/noise.req" 3000
direct_served dc-after-noise "direct: after HTTP, a bad version and random bytes on the socket, the next is stored"

# Parameters that are not UTF-8 (nginx never sends such; a direct client may): refused, and
# the reject log stays JSON Lines in UTF-8.
fcgi_run "127.0.0.1:$PORT" /dev/null REQUEST_METHOD=$'G\xffT' REMOTE_ADDR=$'127.0.0.1\xfe' \
    CONTENT_LENGTH=0
is "$STATUS" 405 "direct: a method of bytes that are not UTF-8: 405"
ok "  the process still runs" pid_alive "$PID"
ok "  the reject log is still UTF-8" iconv -f UTF-8 -t UTF-8 -o /dev/null \
    "$TEST_TMP/d/rejects.jsonl"

# A role it does not play (FastCGI AUTHORIZER, 2; FILTER, 3): refused as the FastCGI spec
# says, with END_REQUEST (protocolStatus FCGI_UNKNOWN_ROLE, 3) and no reply body.
# (Until issue 13 libfcgi accepted every role and idwise-fcgi answered 403: on c0afd20 the
# first check of each fails, with '1 0 0 403'.)
for role in 2 3; do
	event "dc-role-$role" >"$TEST_TMP/role.json"
	params "$(wc -c <"$TEST_TMP/role.json")"
	fcgi_request "$TEST_TMP/role.req" "$role" "$TEST_TMP/role.json" "${PARAMS[@]}"
	talk "$TEST_TMP/role.out" "127.0.0.1:$PORT" --timeout 10 send="$TEST_TMP/role.req" eof
	is "$(end_requests "$TEST_TMP/role.out")" "1 0 3 null" \
	    "direct: role $role (not a responder): END_REQUEST with FCGI_UNKNOWN_ROLE, no reply body"
	is "$(grep -c "dc-role-$role" "$LOG")" 0 "  and not stored"
done
ok "direct: after them the process still runs" pid_alive "$PID"

# More stdin than CONTENT_LENGTH: only CONTENT_LENGTH bytes are the body.
event dc-long >"$TEST_TMP/long.json"
params "$(wc -c <"$TEST_TMP/long.json")"
{ cat "$TEST_TMP/long.json"; printf ' and then some'; } >"$TEST_TMP/long.stdin"
fcgi_run "127.0.0.1:$PORT" "$TEST_TMP/long.stdin" "${PARAMS[@]}"
is "$STATUS" 200 "direct: stdin longer than CONTENT_LENGTH: the first CONTENT_LENGTH bytes are stored"
is "$(log_last "$LOG" .body_sha256)" "$(sha256_of "$TEST_TMP/long.json")" \
    "  body_sha256 is of those bytes only"
params $(($(wc -c <"$TEST_TMP/long.json") - 1))
fcgi_run "127.0.0.1:$PORT" "$TEST_TMP/long.json" "${PARAMS[@]}"
is "$STATUS" 400 "direct: CONTENT_LENGTH one short of the JSON: 400"

is "$(ids_in "$LOG" | sed 's/dc-role-[0-9] //g')" "dc-after-cut dc-after-noise dc-first dc-gone dc-long " \
    "direct: the log holds the good deliveries only"
ok "  and its chain verifies" check_chain "$LOG"
ok "direct: the process is still running" pid_alive "$PID"
kill -TERM "$PID"
wait "$PID"
is "$?" 0 "  and stops cleanly on SIGTERM"
ok "no sanitizer report" no_sanitizer_reports "$ERR" "$TEST_TMP/d.stderr"
ok "no secret on stderr" no_secret_in "$ERR" "$TEST_TMP/d.stderr"
done_testing
