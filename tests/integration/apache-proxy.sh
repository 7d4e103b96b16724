#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/apache-proxy.sh: idwise-fcgi as its own daemon (--listen unix:,
# --threads 4) behind a real Apache 2.4 with mod_proxy_fcgi (Debian's apache2), on a
# loopback port, with the operator's apache/idwise-fcgi-proxy.conf included (ProxyPass to
# the socket with enablereuse=on, CGIPassAuth On); Apache's children run as www-data.
# Every sample, a bad token, redeliveries, a chunked body, over-large bodies, the status
# page, idwise-fcgi stopped, and the snippet without CGIPassAuth; then the log verifies.
# Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/lib-proxy.sh" || exit 1
IDWISE_LOG=${IDWISE_LOG:-$top_builddir/idwise-log}

command -v apache2 >/dev/null || bail "apache2 is not installed (Debian package apache2)"
[ -f /usr/lib/apache2/modules/mod_proxy_fcgi.so ] || bail "mod_proxy_fcgi is not installed"

write_config "$TEST_TMP/proxy" env=apache-proxy status_path=/idwise/status ||
    bail "cannot write the config"
start_listener proxy "$CONF" --threads 4 || bail "idwise-fcgi did not start"
SOCK=$(listener_socket proxy)
start_apache_proxy "$SOCK" || bail "Apache did not start"
ERRLOG=$APACHE_DIR/error.log
ok "Apache includes apache/idwise-fcgi-proxy.conf, passing to the test's socket" \
    grep -qF "\"unix:$SOCK|fcgi://localhost/\" enablereuse=on" "$APACHE_DIR/idwise-fcgi-proxy.conf"

# ---------------------------------------------------------------------------------------
# Every sample through Apache, stored as sent; redeliveries are duplicates.

CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
seq=0
post_samples sample_stored apache-proxy
before=$(log_state "$LOG")
redeliver_samples

# ---------------------------------------------------------------------------------------
# Credentials: CGIPassAuth On lets Authorization through; a wrong one is refused.

VALID='{"event":"Finished Step","body":{"eventId":"proxy-never","journeyId":"j","stepId":"1"}}'
post_string "$VALID" -H "Authorization: Bearer wrong-$TOKEN"
error_is 401 "a bad token: 401"
like "$(header WWW-Authenticate)" '^Bearer( |$)' "  with WWW-Authenticate: Bearer"
CURL_AUTH=()
post_string "$VALID"
error_is 401 "no Authorization: 401"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
request GET
error_is 405 "GET: 405"
is "$(log_state "$LOG")" "$before" "nothing rejected was stored"

# ---------------------------------------------------------------------------------------
# A chunked body: mod_proxy_fcgi passes it with its length; stored like any other.

jq -c '.body.eventId = "proxy-chunked"' "$SAMPLES/finished_journey.json" >"$TEST_TMP/chunked.json"
seq=$((seq + 1))
post "$TEST_TMP/chunked.json" -H 'Transfer-Encoding: chunked'
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "a chunked body: accepted as seq $seq"
is "$(log_record "$LOG" "$seq" .body_sha256)" "$(sha256_of "$TEST_TMP/chunked.json")" \
    "  stored with the hash of the bytes sent"
post "$TEST_TMP/chunked.json" -H 'Transfer-Encoding: chunked'
reply_is 200 "{\"status\":\"duplicate\",\"seq\":$seq}" "  chunked again: a duplicate"

# ---------------------------------------------------------------------------------------
# Body sizes: max_body (65536) passes; above it 413 with JSON, whatever the size or the
# encoding; a Content-Length over 1 MiB is answered by the snippet's <If>, before Apache
# reads the body; nothing stored.

sized_event proxy-fits 65536 >"$TEST_TMP/fits"
seq=$((seq + 1))
post "$TEST_TMP/fits"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "a 65536-byte body (max_body): accepted"
before=$(log_state "$LOG")
rejects=$(grep -c '413 body too large' "$TEST_TMP/proxy.stderr")
for size in 65537 1048577 3000000; do
	sized_event "proxy-big-$size" "$size" >"$TEST_TMP/big"
	post "$TEST_TMP/big"
	reply_is 413 '{"error":"body too large"}' "a $size-byte body: 413 with JSON"
	post "$TEST_TMP/big" -H 'Transfer-Encoding: chunked'
	reply_is 413 '{"error":"body too large"}' "  the same, chunked: 413 with JSON"
done
is "$(log_state "$LOG")" "$before" "no over-large body was stored"
is "$(($(grep -c '413 body too large' "$TEST_TMP/proxy.stderr") - rejects))" 4 \
    "idwise-fcgi answered four of them (65537 bytes, and every chunked one); the <If> the other two"

# ---------------------------------------------------------------------------------------
# The status page through the snippet's <Location /idwise/status>.

STATUS_CODE=$(curl -sS -o "$TEST_TMP/health.json" -w '%{http_code}' \
    "http://127.0.0.1:$APACHE_PORT/idwise/status?format=json")
is "$STATUS_CODE:$(jq -r '"\(.status) \(.last_seq)"' "$TEST_TMP/health.json" 2>&1)" \
    "200:ok $seq" "status page through Apache: 200, ok, last_seq $seq"

# ---------------------------------------------------------------------------------------
# The log, read back.

is "$(log_count "$LOG")" "$seq" "the log holds $seq records"
ok "idwise-log verify passes" quiet "$IDWISE_LOG" verify "$LOG"
ok "the chain checks out" check_chain "$LOG"

# ---------------------------------------------------------------------------------------
# idwise-fcgi not running: Apache's reply, in JSON.

stop_listener proxy
post_string "$VALID"
error_is 503 "idwise-fcgi stopped: Apache answers 503 with JSON"
start_listener proxy "$CONF" --threads 4 || bail "idwise-fcgi did not start again"
seq=$((seq + 1))
post_string "${VALID/proxy-never/proxy-after}"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "  started again: served again"

# ---------------------------------------------------------------------------------------
# Why the snippet has CGIPassAuth On: without it, Authorization never reaches idwise-fcgi.

stop_apache
APACHE_PROXY_EDIT='/^ *CGIPassAuth On$/d'
start_apache_proxy "$SOCK" || bail "Apache did not start without CGIPassAuth"
ok "(the copy has no CGIPassAuth)" not grep -q CGIPassAuth "$APACHE_DIR/idwise-fcgi-proxy.conf"
post_string "${VALID/proxy-never/proxy-noauth}"
error_is 401 "without CGIPassAuth On: the right token gets 401"
stop_apache
APACHE_PROXY_EDIT=

ok "no secret in the replies or Apache's logs" \
    no_secret_in "$TEST_TMP/replies.all" "$ERRLOG" "$APACHE_DIR/access.log"
ok "no crash in Apache's error log" no_line_in "$ERRLOG" 'exit signal|:(alert|emerg)\]'
ok "idwise-fcgi is still running" pid_alive "$(listener_pid proxy)"
done_testing
