#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/metrics.sh: the status page through nginx with 4 responder processes:
# Prometheus metrics (read with python3-prometheus-client's parser) that count a scripted
# mix of requests for the whole deployment and survive restarts, JSON health, access
# control, and --check-config's summary. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

write_config "$TEST_TMP/m" status_path=/idwise/status max_body=2048
start_responder m "$CONF" 4 || bail "responders did not start"
start_nginx "$(responder_socket m)" || bail "nginx did not start"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
STATUS_URL=${URL%/webhook}/status

# metric NAME{LABELS}: its value from the last scrape, via the real Prometheus parser.
scrape()
{
	curl -sS -o "$TEST_TMP/metrics.txt" -w '%{http_code} %{content_type}' "$STATUS_URL" \
	    >"$TEST_TMP/scrape.status"
	/usr/bin/python3 - "$TEST_TMP/metrics.txt" >"$TEST_TMP/metrics.flat" 2>"$TEST_TMP/parse.err" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
for family in text_string_to_metric_families(text):
    for s in family.samples:
        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        print("%s{%s} %r" % (s.name, labels, s.value))
PY
}

metric()
{
	awk -v k="$1" '$1 == k { v = $2 } END { if (v == "") print "absent"; else print v }' \
	    "$TEST_TMP/metrics.flat"
}

scrape
is "$(cat "$TEST_TMP/scrape.status")" "200 text/plain; version=0.0.4; charset=utf-8" \
    "the status page answers in Prometheus text format"
ok "which the Prometheus parser reads" test ! -s "$TEST_TMP/parse.err"
is "$(metric 'idwise_processes{}')" 4.0 "idwise_processes counts the 4 responder processes"

# The mix: 3 new events of two types, 2 duplicates, 1 conflict, and rejections.
for s in finished_journey manually_reviewed updated_journey; do
	post "$SAMPLES/$s.json"
done
post "$SAMPLES/finished_journey.json"
post "$SAMPLES/manually_reviewed.json"
post_string '{"event":"Finished Journey","body":{"eventId":"81e74ef5-e8e2-4d94-8ed9-04759531985d","systemDecision":"Refer"}}'
is "$STATUS" 200 "the conflicting redelivery is stored"
CURL_AUTH=(-H 'Authorization: Bearer nope')
post "$SAMPLES/finished_step.json"
post "$SAMPLES/finished_step.json"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
post_string '{"event":"Finished Step"'
request GET
request POST --data-binary "$(head -c 3000 /dev/zero | tr '\0' x)"

scrape
is "$(metric 'idwise_requests_total{reason="accepted",status="200"}')" 3.0 "3 accepted"
is "$(metric 'idwise_requests_total{reason="duplicate",status="200"}')" 2.0 "2 duplicates"
is "$(metric 'idwise_requests_total{reason="conflict",status="200"}')" 1.0 "1 conflict"
is "$(metric 'idwise_requests_total{reason="unauthorized",status="401"}')" 2.0 "2 unauthorized"
is "$(metric 'idwise_requests_total{reason="bad_json",status="400"}')" 1.0 "1 bad JSON"
is "$(metric 'idwise_requests_total{reason="method",status="405"}')" 1.0 "1 wrong method"
is "$(metric 'idwise_requests_total{reason="too_large",status="413"}')" 1.0 "1 too large"
is "$(metric 'idwise_duplicates_total{}')" 2.0 "idwise_duplicates_total"
is "$(metric 'idwise_conflicts_total{}')" 1.0 "idwise_conflicts_total"
is "$(metric 'idwise_events_total{outcome="approved",type="finished_journey"}')" 1.0 \
    "events by type and outcome: finished_journey approved"
is "$(metric 'idwise_events_total{outcome="review",type="finished_journey"}')" 1.0 \
    "the conflict counts as an event too (finished_journey review)"
is "$(metric 'idwise_events_total{outcome="approved",type="manually_reviewed"}')" 1.0 \
    "manually_reviewed approved"
is "$(metric 'idwise_events_total{outcome="rejected",type="updated_journey"}')" 1.0 \
    "updated_journey rejected"
is "$(metric 'idwise_append_seconds_count{}')" 4.0 "the append histogram saw 4 stored records"
is "$(metric 'idwise_append_seconds_bucket{le="+Inf"}')" 4.0 "its +Inf bucket too"
is "$(metric 'idwise_fdatasync_seconds_count{}')" 4.0 \
    "fdatasync was timed for the 4 stored; the 2 duplicates found them durable already"
is "$(metric 'idwise_log_bytes_total{}')" "$(stat -c %s "$LOG").0" \
    "idwise_log_bytes_total is the log's size"
is "$(metric 'idwise_last_seq{}')" 4.0 "idwise_last_seq"
is "$(metric 'idwise_log_writable{}')" 1.0 "idwise_log_writable"
ok "idwise_log_disk_free_bytes is positive" \
    awk '$1 == "idwise_log_disk_free_bytes{}" && $2 > 0 { f = 1 } END { exit !f }' \
    "$TEST_TMP/metrics.flat"
LAST=$(log_last "$LOG" .received_at)
is "$(metric 'idwise_last_event_timestamp_seconds{}')" \
    "$(/usr/bin/python3 -c "import datetime,sys; print(repr(datetime.datetime.strptime(sys.argv[1], '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc).timestamp()))" "$LAST")" \
    "idwise_last_event_timestamp_seconds is the last record's received_at"

# Totals survive a restart of every process.
stop_responder m
start_responder m "$CONF" 4
scrape
is "$(metric 'idwise_requests_total{reason="accepted",status="200"}')" 3.0 \
    "after a restart the totals are still there"
is "$(metric 'idwise_status_requests_total{}')" 3.0 "and status requests are counted apart"

# JSON health
curl -sS -o "$TEST_TMP/health.json" -w '%{http_code}' "$STATUS_URL?format=json" \
    >"$TEST_TMP/health.status"
is "$(cat "$TEST_TMP/health.status")" 200 "?format=json: 200 while healthy"
is "$(jq -c '[.status, .log_writable, .last_seq, .processes, .env]' "$TEST_TMP/health.json")" \
    '["ok",true,4,4,"test"]' "with status, log_writable, last_seq, processes, env"
is "$(jq -r .last_event_at "$TEST_TMP/health.json")" "$LAST" "and the last event's time"
ok "and disk_free_bytes" quiet jq -e '.disk_free_bytes > 0' "$TEST_TMP/health.json"
curl -sS -o /dev/null -w '%{http_code}' -X POST "$STATUS_URL" >"$TEST_TMP/post.status"
is "$(cat "$TEST_TMP/post.status")" 405 "the status page takes only GET and HEAD"
mv "$TEST_TMP/m" "$TEST_TMP/m.away"
curl -sS -o "$TEST_TMP/health.json" -w '%{http_code}' "$STATUS_URL?format=json" \
    >"$TEST_TMP/health.status"
mv "$TEST_TMP/m.away" "$TEST_TMP/m"
is "$(cat "$TEST_TMP/health.status")" 503 "log directory gone: 503"
is "$(jq -c '[.status, .log_writable]' "$TEST_TMP/health.json")" '["failing",false]' \
    "saying the log is not writable"
stop_nginx
stop_responder m

# status_allow_from
write_config "$TEST_TMP/r" status_path=/idwise/status status_allow_from=10.0.0.0/8
start_responder r "$CONF"
start_nginx "$(responder_socket r)"
curl -sS -o /dev/null -w '%{http_code}' "${URL%/webhook}/status" >"$TEST_TMP/denied.status"
is "$(cat "$TEST_TMP/denied.status")" 403 "a client outside status_allow_from: 403"
stop_nginx
stop_responder r

# --check-config: a summary without secrets, and the log directory checked as the user.
write_config "$TEST_TMP/c" reject_log="$TEST_TMP/c/rejects.jsonl" dedup_window=30m
"$IDWISE_FCGI" -c "$CONF" --check-config >"$TEST_TMP/check.out" 2>&1
is "$?" 0 "--check-config: exit 0"
like "$(cat "$TEST_TMP/check.out")" 'auth +bearer: 2 token\(s\) from .*bearer_tokens \(secrets not shown\)' \
    "the summary counts the tokens"
like "$(cat "$TEST_TMP/check.out")" 'dedup_window +30m' "and shows the effective values"
ok "without any secret" not grep -q -e "$TOKEN" -e "$TOKEN2" "$TEST_TMP/check.out"
install -d -m 0755 "$TEST_TMP/rootonly"
write_config "$TEST_TMP/n" auth=none log="$TEST_TMP/rootonly/events.jsonl"
chmod 0755 "$TEST_TMP" "$TEST_TMP/n"
chmod 0644 "$CONF"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$IDWISE_FCGI" -c "$CONF" \
    --check-config >"$TEST_TMP/nobody.out" 2>&1
is "$?" 78 "--check-config as a user who cannot write the log directory: exit 78"
like "$(cat "$TEST_TMP/nobody.out")" "rootonly: directory not writable by user nobody" \
    "naming the directory and the user"

done_testing
