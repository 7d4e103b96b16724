#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/apache.sh: idwise-fcgi run by a real Apache 2.4 with mod_fcgid (Debian's
# apache2 and libapache2-mod-fcgid), on a loopback port, with the operator's
# apache/idwise-fcgi.conf included in one virtual host per configuration; the children and
# idwise-fcgi run as www-data. Every sample, dedup, Basic, Bearer and custom-header auth
# through Apache, every reply of idwise-fcgi(8), the body limits of Apache and mod_fcgid, a config
# idwise-fcgi refuses, and 1,500 deliveries at once spread over at least 8 processes with
# the chain intact. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

command -v apache2 >/dev/null || bail "apache2 is not installed (Debian package apache2)"
[ -f /usr/lib/apache2/modules/mod_fcgid.so ] ||
    bail "mod_fcgid is not installed (Debian package libapache2-mod-fcgid)"

declare -A CONF_OF=() LOG_OF=()
SITES=()

# site NAME [key=value...]: a config for virtual host NAME.test, in $TEST_TMP/NAME. Its
# directory (log, secrets, config) is the Apache user's: mod_fcgid runs idwise-fcgi as it.
site()
{
	local name=$1
	shift
	write_config "$TEST_TMP/$name" "env=apache-$name" "$@" || bail "cannot write $name's config"
	[ -z "$APACHE_USER" ] || chown -R "$APACHE_USER:" "$TEST_TMP/$name"
	CONF_OF[$name]=$CONF
	LOG_OF[$name]=$LOG
	SITES+=("$name=$CONF")
}

# use_site NAME: send the next requests to NAME.test.
use_site()
{
	CURL_ARGS=(-H "Host: $1.test")
	LOG=${LOG_OF[$1]}
}

site main status_path=/idwise/status
site basic auth=basic
site header auth=header
site forbidden 'allow_from=192.0.2.0/24, 2001:db8::/32'
site small max_body=2048 unknown_events=reject
mkdir -p "$TEST_TMP/blocked" && : >"$TEST_TMP/blocked/file"
site unwritable "log=$TEST_TMP/blocked/file/events.jsonl"
site broken
rm -f "$TEST_TMP/broken/bearer_tokens"	# idwise-fcgi refuses this config at start
site conc
# The snippet without its <If> and with FcgidMaxRequestLen below LimitRequestBody: what
# Apache and mod_fcgid do by themselves at each limit.
site bare
APACHE_EDIT[bare]='/<If /,/<\/If>/d; s/^FcgidMaxRequestLen .*/FcgidMaxRequestLen 262144/'

start_apache "${SITES[@]}" || bail "Apache did not start"
URL=http://127.0.0.1:$APACHE_PORT/idwise/webhook
ERRLOG=$APACHE_DIR/error.log
ok "Apache includes the snippet from apache/ with the test's program and config" \
    grep -qF "FcgidInitialEnv IDWISE_FCGI_CONFIG ${CONF_OF[main]}" "$APACHE_DIR/idwise-fcgi-main.conf"

# ---------------------------------------------------------------------------------------
# Every sample through Apache; redeliveries are duplicates.

use_site main
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
seq=0
post_samples sample_stored apache-main
is "$(log_record "$LOG" "${SEQ_OF[finished_journey]:-0}" '[.type, .outcome] | tojson')" \
    '["finished_journey","approved"]' "the finished_journey record is classified"

redeliver_samples
jq '.body.systemDecision = "Refer"' "$SAMPLES/finished_journey.json" >"$TEST_TMP/fj.conflict"
seq=$((seq + 1))
post "$TEST_TMP/fj.conflict"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq,\"conflict\":true}" \
    "same eventId, another decision: stored as a conflict"
ok "  and said so in Apache's error log" \
    wait_for grep -q '81e74ef5-e8e2-4d94-8ed9-04759531985d' "$ERRLOG"

mapfile -t pids < <(fcgid_pids "${CONF_OF[main]}")
ok "mod_fcgid started idwise-fcgi for the site" test "${#pids[@]}" -ge 1
if [ -n "$APACHE_USER" ]; then
	is "$(for p in "${pids[@]}"; do stat -c %U "/proc/$p"; done | sort -u)" "$APACHE_USER" \
	    "  running as $APACHE_USER"
	is "$(stat -c %U "$LOG" "$LOG.shm" "$LOG.idx" | sort -u)" "$APACHE_USER" \
	    "  its log and state files are $APACHE_USER's"
fi

# ---------------------------------------------------------------------------------------
# Every rejection, with idwise-fcgi's status and JSON, and nothing logged.

before=$(log_state "$LOG")
VALID='{"event":"Finished Step","body":{"eventId":"apache-never","journeyId":"j","stepId":"1"}}'
request GET
error_is 405 "GET: 405"
is "$(header Allow)" POST "  with Allow: POST"
CURL_AUTH=()
post_string "$VALID"
error_is 401 "no Authorization: 401"
like "$(header WWW-Authenticate)" '^Bearer( |$)' "  with WWW-Authenticate: Bearer"
post_string "$VALID" -H "Authorization: Bearer wrong-$TOKEN"
error_is 401 "a wrong token: 401"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN2")
post_string "$VALID" -H 'Content-Type: text/plain'
error_is 415 "the second token of the file passes; Content-Type text/plain: 415"
post_string 'this is not JSON'
error_is 400 "not JSON: 400"
deep_event apache-deep 40 >"$TEST_TMP/deep40"
post "$TEST_TMP/deep40"
error_is 400 "nesting 40 deep: 400"
post_string '{"event":"Finished Step","body":[1]}'
error_is 422 "body not an object: 422"
is "$(log_state "$LOG")" "$before" "no rejected request was logged"

# Body sizes against max_body 65536, LimitRequestBody 1 MiB and FcgidMaxRequestLen 1 MiB +
# 64 KiB: 413 with JSON at every size, from idwise-fcgi or from the snippet's <If>.
for size in 65537 70000 1048576 1048577 1114113 3000000; do
	sized_event "apache-big-$size" "$size" >"$TEST_TMP/big"
	post "$TEST_TMP/big"
	reply_is 413 '{"error":"body too large"}' "a $size-byte body: 413 with JSON"
	post "$TEST_TMP/big" -H 'Transfer-Encoding: chunked'
	reply_is 413 '{"error":"body too large"}' "  the same, chunked: 413 with JSON"
done
ok "Apache's own 413s came from the snippet's <If> (AH01588 not reached)" \
    not grep -q 'AH01588' "$ERRLOG"
ok "mod_fcgid never hit FcgidMaxRequestLen" not grep -q 'exceeds MaxRequestLen' "$ERRLOG"

# Why the snippet has its <If> and LimitRequestBody < FcgidMaxRequestLen:
use_site bare
sized_event apache-bare-1 300000 >"$TEST_TMP/big"
post "$TEST_TMP/big"
is "$STATUS" 500 "without them: a body over FcgidMaxRequestLen is mod_fcgid's 500"
ok "  (mod_fcgid says so)" wait_for grep -q 'exceeds MaxRequestLen (262144)' "$ERRLOG"
sized_event apache-bare-2 1048577 >"$TEST_TMP/big"
post "$TEST_TMP/big"
reply_is 400 '{"error":"invalid JSON: empty body"}' \
    "  a Content-Length over LimitRequestBody reaches idwise-fcgi as an empty request"
ok "  (Apache refused to read it: AH01588)" wait_for grep -q 'AH01588' "$ERRLOG"
is "$(log_count "${LOG_OF[bare]}")" 0 "  nothing logged"
use_site main
sized_event apache-fits 65536 >"$TEST_TMP/fits"
seq=$((seq + 1))
post "$TEST_TMP/fits"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "a 65536-byte body (max_body): accepted"
ok "the main log verifies" check_chain "$LOG"

# ---------------------------------------------------------------------------------------
# The other sites: Basic, custom header, 403, small max_body, unknown events, 503, 500.

FJ=$SAMPLES/finished_journey.json
use_site basic
CURL_AUTH=(-u "$BASIC_USER:$BASIC_PASSWORD")
post "$FJ"
reply_is 200 '{"status":"accepted","seq":1}' "basic: Authorization: Basic passes through Apache"
CURL_AUTH=(-u "$BASIC_USER:wrong-$BASIC_PASSWORD")
post "$FJ"
error_is 401 "basic: a wrong password: 401"
like "$(header WWW-Authenticate)" '^Basic( |$)' "  with WWW-Authenticate: Basic"
is "$(log_count "$LOG")" 1 "basic: one record"

use_site header
CURL_AUTH=(-H "$HEADER_NAME: $HEADER_VALUE")
post "$FJ"
reply_is 200 '{"status":"accepted","seq":1}' "header: $HEADER_NAME passes through Apache"
CURL_AUTH=(-H "$HEADER_NAME: wrong")
post "$FJ"
error_is 401 "header: a wrong value: 401"
CURL_AUTH=(-H "Authorization: Bearer $HEADER_VALUE")
post "$FJ"
error_is 401 "header: the value as a bearer token: 401"
is "$(log_count "$LOG")" 1 "header: one record"

use_site forbidden
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
post "$FJ"
error_is 403 "allow_from without 127.0.0.1: 403"
is "$(log_count "$LOG")" 0 "  nothing logged"

use_site small
sized_event apache-2048 2048 >"$TEST_TMP/b2048"
sized_event apache-2049 2049 >"$TEST_TMP/b2049"
post "$TEST_TMP/b2048"
reply_is 200 '{"status":"accepted","seq":1}' "max_body 2048: 2048 bytes accepted"
post "$TEST_TMP/b2049"
reply_is 413 '{"error":"body too large"}' "max_body 2048: 2049 bytes: 413 from idwise-fcgi"
post_string '{"event":"Something New","body":{"eventId":"apache-unknown"}}'
error_is 422 "unknown_events = reject: 422"
is "$(log_count "$LOG")" 1 "small: one record"

use_site unwritable
post "$FJ"
error_is 503 "the log cannot be written: 503"
like "$(header Retry-After)" '^[0-9]+$' "  with idwise-fcgi's Retry-After"
ok "  and its reason in Apache's error log" wait_for grep -q "blocked/file" "$ERRLOG"

use_site broken
post "$FJ"
reply_is 500 '{"error":"internal error"}' \
    "idwise-fcgi refuses its config at start: Apache answers 500, with JSON"
ok "  idwise-fcgi's line naming the key is in Apache's error log" \
    wait_for grep -q "broken/idwise-fcgi.conf:.*bearer_token_file" "$ERRLOG"

# ---------------------------------------------------------------------------------------
# 1,500 unique deliveries, 64 at a time: mod_fcgid spreads them over its processes.

N=1500
use_site conc
CONC=$TEST_TMP/conc-req
mkdir -p "$CONC"
for ((i = 1; i <= N; i++)); do
	printf '{"event":"Finished Step","body":{"eventId":"apache-conc-%d","journeyId":"j","stepId":"%d"}}' \
	    "$i" "$i" >"$CONC/$i"
	printf 'url = "%s"\nheader = "Host: conc.test"\nheader = "Authorization: Bearer %s"\n' \
	    "$URL" "$TOKEN"
	printf 'header = "Content-Type: application/json"\nheader = "Expect:"\n'
	printf 'data-binary = "@%s/%d"\noutput = "%s/%d.reply"\nwrite-out = "%%{http_code}\\n"\n' \
	    "$CONC" "$i" "$CONC" "$i"
	[ "$i" -eq "$N" ] || printf 'next\n'
done >"$TEST_TMP/conc.curl"

# count the site's processes while the deliveries run
( while :; do fcgid_pids "${CONF_OF[conc]}" | wc -l; sleep 0.2; done ) >"$TEST_TMP/conc.counts" &
SAMPLER=$!
at_exit "kill $SAMPLER"
start=$(date +%s%N)
curl -sS --parallel --parallel-immediate --parallel-max 64 -K "$TEST_TMP/conc.curl" \
    >"$TEST_TMP/conc.codes" 2>"$TEST_TMP/conc.curl.err"
end=$(date +%s%N)
kill "$SAMPLER"
wait "$SAMPLER" 2>/dev/null
diag "$N deliveries through Apache in $(((end - start) / 1000000)) ms;" \
    "processes seen: $(sort -n "$TEST_TMP/conc.counts" | uniq -c | awk '{ printf "%s×%s ", $1, $2 }')"

is "$(grep -c '^200$' "$TEST_TMP/conc.codes")" "$N" "concurrent: all $N deliveries got 200"
# (compared as a digest: a list of 1,500 numbers is no diagnostic)
is "$(cat "$CONC"/*.reply | jq -r 'select(.status == "accepted") | .seq' | sort -n | uniq |
    sha256sum)" "$(seq 1 "$N" | sha256sum)" "concurrent: the replies' seqs are 1..$N"
is "$(log_count "$LOG")" "$N" "concurrent: $N records"
ok "concurrent: the chain verifies" check_chain "$LOG"
is "$(jq -r .id "$LOG" | sort | sha256sum)" "$(seq 1 "$N" | sed 's/^/apache-conc-/' | sort |
    sha256sum)" "concurrent: each delivery logged once"

# The processes that served: one delivery makes a process write its record (about 400
# bytes) and its reply; one that only started has written next to nothing.
mapfile -t pids < <(fcgid_pids "${CONF_OF[conc]}")
served=0
for p in "${pids[@]}"; do
	wchar=$(awk '$1 == "wchar:" { print $2 }' "/proc/$p/io" 2>/dev/null)
	[ "${wchar:-0}" -ge 500 ] && served=$((served + 1))
done
diag "processes alive: ${#pids[@]}, of which served: $served"
ok "at least 8 idwise-fcgi processes served the deliveries" test "$served" -ge 8
ok "never more than FcgidMaxProcessesPerClass (16) at once" \
    test "$(sort -n "$TEST_TMP/conc.counts" | tail -n 1)" -le 16
if [ -n "$APACHE_USER" ]; then
	is "$(for p in "${pids[@]}"; do stat -c %U "/proc/$p"; done | sort -u)" "$APACHE_USER" \
	    "  all of them as $APACHE_USER"
fi

# ---------------------------------------------------------------------------------------
# The status page through Apache: the snippet's <Location /idwise/status>.

STATUS_URL=http://127.0.0.1:$APACHE_PORT/idwise/status
STATUS_CODE=$(curl -sS -H 'Host: main.test' -o "$TEST_TMP/ap-metrics.txt" \
    -w '%{http_code}' "$STATUS_URL")
is "$STATUS_CODE" 200 "status page through Apache: 200"
like "$(cat "$TEST_TMP/ap-metrics.txt")" \
    "idwise_requests_total\\{status=\"200\",reason=\"accepted\"\\} [1-9]" \
    "with the site's metrics in Prometheus text"
STATUS_CODE=$(curl -sS -H 'Host: main.test' -o "$TEST_TMP/ap-health.json" \
    -w '%{http_code}' "$STATUS_URL?format=json")
is "$STATUS_CODE:$(jq -r .status "$TEST_TMP/ap-health.json")" "200:ok" \
    "and JSON health with ?format=json"

# ---------------------------------------------------------------------------------------

ALL_PIDS=$(for s in "${SITES[@]}"; do fcgid_pids "${s#*=}"; done)
stop_apache
ok "Apache stopped, and with it every idwise-fcgi process" \
    wait_for all_gone $ALL_PIDS
ok "no secret in the replies or Apache's logs" \
    no_secret_in "$TEST_TMP/replies.all" "$ERRLOG" "$APACHE_DIR/access.log"
ok "no sanitizer report in Apache's error log" no_sanitizer_reports "$ERRLOG"
ok "no crash in Apache's error log" no_line_in "$ERRLOG" 'exit signal|:(alert|emerg)\]'
done_testing
