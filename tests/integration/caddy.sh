#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/caddy.sh: idwise-fcgi as its own daemon (--listen unix:PATH) behind a real
# Caddy 2 whose site imports the operator's snippet caddy/idwise-fcgi.caddy: every sample,
# a bad token, a redelivery, a chunked body (Caddy passes CONTENT_LENGTH=-1), an over-large
# body, an HTTP/2 (h2c) body without a length, the log verified. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/lib-hosts.sh" || exit 1

command -v caddy >/dev/null || bail "caddy is not installed"

SOCK=$(listener_socket idwise)
write_config "$TEST_TMP/main" || bail "cannot write the config"
start_listener idwise "$CONF" || bail "idwise-fcgi did not start"

DIR=$TEST_TMP/caddy
mkdir -p "$DIR" || bail "mkdir $DIR"
[ -z "$HOST_USER" ] || chown "$HOST_USER:" "$DIR" || bail "chown $DIR"
host_snippet "$top_srcdir/caddy/idwise-fcgi.caddy" "unix/$SNIPPET_SOCKET" "unix/$SOCK" \
    >"$DIR/idwise-fcgi.caddy" || bail "cannot copy the snippet"
HOST_PORT=$(free_port) || bail "no free port"
# No admin endpoint (it would take localhost:2019), no automatic HTTPS, HTTP/2 in clear.
cat >"$DIR/Caddyfile" <<EOC
{
	admin off
	auto_https off
	storage file_system $DIR/data
	servers {
		protocols h1 h2c
	}
}
http://127.0.0.1:$HOST_PORT {
	bind 127.0.0.1
	import $DIR/idwise-fcgi.caddy
}
EOC
# Caddy as HOST_USER when root, its state under $DIR; a command that execs, so that the
# pid start_host records is caddy's own.
CADDY=(env HOME="$DIR" XDG_DATA_HOME="$DIR/data" XDG_CONFIG_HOME="$DIR/config")
[ -z "$HOST_USER" ] ||
    CADDY+=(setpriv --reuid="$HOST_USER" --regid="$HOST_GROUP" --init-groups --)
CADDY+=(caddy)
"${CADDY[@]}" validate --config "$DIR/Caddyfile" --adapter caddyfile >"$DIR/configtest" 2>&1 ||
    bail "caddy validate: $(tail -n 5 "$DIR/configtest")"
start_host caddy "$DIR/caddy.pid" "${CADDY[@]}" run --config "$DIR/Caddyfile" \
    --adapter caddyfile --pidfile "$DIR/caddy.pid" || bail "caddy did not start"
URL=http://127.0.0.1:$HOST_PORT/idwise/webhook

if [ -n "$HOST_USER" ]; then
	is "$(ps -o user= -p "$HOST_PID" | tr -d ' ')" "$HOST_USER" "caddy runs as $HOST_USER"
	is "$(cat "$DIR/caddy.pid")" "$HOST_PID" "the pid the test stops is caddy's"
fi
host_checks caddy

# HTTP/2 in clear text, the body sent from a pipe: curl sends no content-length, and Caddy
# passes CONTENT_LENGTH=-1 as for chunked bodies.
step_event caddy-h2 >"$TEST_TMP/h2.json"
seq=$(($(log_count "$LOG") + 1))
request POST --http2-prior-knowledge -T - -H 'Content-Type: application/json' -v \
    -w '%{http_code} %{http_version}' <"$TEST_TMP/h2.json"
cp "$TEST_TMP/curl.err" "$TEST_TMP/h2.trace"
is "${STATUS#* }" 2 "caddy: the request went over HTTP/2"
STATUS=${STATUS%% *}
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" \
    "caddy: an HTTP/2 body without a length: accepted as seq $seq" || diag "body: $BODY"
is "$(log_record "$LOG" "$seq" .id)" caddy-h2 "caddy: the HTTP/2 body is stored"
ok "caddy: the HTTP/2 request carried no content-length" \
    not grep -qi '^> content-length:' "$TEST_TMP/h2.trace"
ok "caddy: idwise-log verify passes on the log" quiet "$IDWISE_LOG" verify "$LOG"

# Any other bad CONTENT_LENGTH is 400, and the reject line says what arrived: its first 32
# bytes, quotes and control bytes escaped (on stderr), valid JSON in the reject log.
REJECTS=$TEST_TMP/rej/rejects.jsonl
write_config "$TEST_TMP/rej" "reject_log=$REJECTS" || bail "cannot write the config"
BAD_LENGTH=$'12"a\n\x1b'$(printf '%040d' 7)
SHOWN='12\x22a\x0a\x1b00000000000000000000000000...'
: >"$TEST_TMP/cgi.stderr"
cgi_run "$CONF" "$SAMPLES/finished_step.json" REQUEST_METHOD=POST "CONTENT_LENGTH=$BAD_LENGTH" \
    CONTENT_TYPE=application/json REMOTE_ADDR=127.0.0.1 "HTTP_AUTHORIZATION=Bearer $TOKEN"
error_is 400 "a CONTENT_LENGTH with a quote, control bytes and 46 bytes: 400"
like "$(cat "$TEST_TMP/cgi.stderr")" "400 bad Content-Length: got \"${SHOWN//\\/\\\\}\"\$" \
    "the stderr line shows the value, cut to 32 bytes and escaped"
ok "with no control byte but its newline" not grep -q $'[\x01-\x09\x0b-\x1f\x7f]' \
    "$TEST_TMP/cgi.stderr"
is "$(jq -r .detail "$REJECTS" 2>&1)" "got \"$SHOWN\"" \
    "the reject log line is JSON and its detail says the same"
is "$(log_count "$TEST_TMP/rej/events.jsonl")" 0 "nothing stored"

done_testing
