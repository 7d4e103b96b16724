#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/prometheus.sh: a real Prometheus (Debian's) on a loopback port scrapes a
# responder's status page through nginx every second, with the shipped rules loaded:
# after the samples are sent its queries count them; every rule evaluates without error;
# a redelivery with another body fires IDWiseDedupConflict and nothing else fires; every
# query of the Grafana dashboard runs, and those on the responder's metrics return data;
# with nginx stopped, IDWiseStatusPageDown goes pending. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

RULES=$top_srcdir/monitoring/idwise-fcgi.rules.yml
DASHBOARD=$top_srcdir/monitoring/idwise-fcgi.dashboard.json
command -v prometheus >/dev/null || bail "no prometheus: install the Debian package prometheus"

write_config "$TEST_TMP/r" status_path=/idwise/status
start_responder r "$CONF" 2 || bail "responders did not start"
start_nginx "$(responder_socket r)" || bail "nginx did not start"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
TARGET=127.0.0.1:$NGINX_PORT

# --- Prometheus -----------------------------------------------------------------------

PROM_DIR=$TEST_TMP/prometheus
PROM_PID=
PROM_URL=
mkdir -p "$PROM_DIR"
cp "$RULES" "$PROM_DIR/"
# wait_long CMD [ARG...]: wait_for, for 30 s (Prometheus scrapes and evaluates every second).
wait_long()
{
	POLL_STEPS=600 wait_for "$@"
}
# start_prometheus: on a free loopback port, scraping the status page and evaluating the
# rules every second. Sets PROM_URL.
start_prometheus()
{
	local port try
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		cat >"$PROM_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [$PROM_DIR/idwise-fcgi.rules.yml]
scrape_configs:
  - job_name: idwise-fcgi
    metrics_path: /idwise/status
    static_configs: [{targets: ['$TARGET']}]
EOF
		prometheus --config.file="$PROM_DIR/prometheus.yml" \
		    --storage.tsdb.path="$PROM_DIR/data" --web.listen-address="127.0.0.1:$port" \
		    --log.level=warn 2>>"$PROM_DIR/stderr" &
		PROM_PID=$!
		PROM_URL=http://127.0.0.1:$port
		wait_long _prometheus_ready && return 0
		stop_child PROM_PID
		grep -q 'address already in use' "$PROM_DIR/stderr" || break
	done
	diag "prometheus did not start:" "$(tail -n 5 "$PROM_DIR/stderr")"
	return 1
}
_prometheus_ready()
{
	pid_alive "$PROM_PID" || return 2
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$PROM_URL/-/ready")" = 200 ]
}
at_exit stop_child PROM_PID
ok "prometheus starts with the shipped rules" start_prometheus || bail "no Prometheus"

# query PROMQL: the result of an instant query, as JSON ({"status":..., "data":...}).
query()
{
	curl -sS --data-urlencode "query=$1" "$PROM_URL/api/v1/query" 2>&1
}
# value PROMQL: the first sample's value, or "none".
value()
{
	query "$1" | jq -r '.data.result[0].value[1] // "none"'
}
value_becomes()	# value_becomes PROMQL WANT
{
	[ "$(value "$1")" = "$2" ]
}
wait_long value_becomes 'up{job="idwise-fcgi"}' 1
is "$(value 'up{job="idwise-fcgi"}')" 1 "it scrapes the status page through nginx (up is 1)"
wait_long value_becomes "idwise_conflicts_total{instance=\"$TARGET\"}" 0
is "$(value "idwise_processes{instance=\"$TARGET\"}")" 2 "  it sees the 2 responder processes"

# --- the samples, then the queries -----------------------------------------------------

seq=0
post_samples
post "$SAMPLES/finished_journey.json"
reply_is 200 "{\"status\":\"duplicate\",\"seq\":${SEQ_OF[finished_journey]}}" "a redelivery"
post_string '{"event":"Finished Journey","body":{"eventId":"81e74ef5-e8e2-4d94-8ed9-04759531985d","systemDecision":"Refer"}}'
is "$STATUS" 200 "a redelivery with another body (a conflict)"
SENT=$seq
# the last request's count, so that the scrape looked at holds every request
wait_long value_becomes 'sum(idwise_requests_total{status="200"})' "$((SENT + 2))"
is "$(value 'sum(idwise_requests_total{reason="accepted"})')" "$SENT" \
    "Prometheus counts the $SENT samples accepted"
is "$(value 'sum(idwise_requests_total{status="200"})')" "$((SENT + 2))" \
    "  and $((SENT + 2)) replies 200 with the redelivery and the conflict"
is "$(value 'idwise_events_total{type="finished_journey",outcome="review"}')" 1 \
    "  the conflict stored as a finished_journey in review"
is "$(value 'idwise_last_seq')" "$((SENT + 1))" "  idwise_last_seq is $((SENT + 1))"

# --- the rules, evaluated on these series ---------------------------------------------

RULE_COUNT=$(promtool check rules "$RULES" 2>&1 | sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p')
rules_evaluated()
{
	curl -sS "$PROM_URL/api/v1/rules" >"$PROM_DIR/rules.json" &&
	    [ "$(jq '[.data.groups[].rules[] | select(.lastEvaluation > "2000")] | length' \
	    "$PROM_DIR/rules.json")" = "$RULE_COUNT" ]
}
ok "Prometheus evaluates the $RULE_COUNT rules" wait_for rules_evaluated
is "$(jq -r '[.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.lastError)"] | join("; ")' \
    "$PROM_DIR/rules.json")" "" "  every one without an error"
is "$(value 'idwise:alert_quiet_seconds')" 10800 "  the setting idwise:alert_quiet_seconds is there"

# firing ALERTNAME: the instances ALERTNAME fires for, sorted.
firing()
{
	curl -sS "$PROM_URL/api/v1/alerts" |
	    jq -r --arg a "$1" '[.data.alerts[] | select(.labels.alertname == $a and .state == "firing")
	    | .labels.instance] | sort | join(" ")'
}
fires_for()	# fires_for ALERTNAME INSTANCE
{
	[ "$(firing "$1")" = "$2" ]
}
ok "the conflict fires IDWiseDedupConflict for $TARGET" \
    wait_long fires_for IDWiseDedupConflict "$TARGET"
curl -sS "$PROM_URL/api/v1/alerts" >"$PROM_DIR/alerts.json"
is "$(jq -r '[.data.alerts[] | select(.state == "firing") | .labels.alertname] | unique | join(" ")' \
    "$PROM_DIR/alerts.json")" IDWiseDedupConflict "  and nothing else fires"
is "$(jq -r '[.data.alerts[].labels.alertname | select(test("503|Sync|NotWritable|Reject|Down"))]
    | join(" ")' "$PROM_DIR/alerts.json")" "" \
    "  nor waits to (503s, a failed sync, an unwritable log, rejects, the page down)"

# --- the dashboard's queries -----------------------------------------------------------

# Every target's expression with the dashboard's variables made "any" and $__rate_interval
# 10s: it must run; those on the responder's metrics must return something.
jq -r '.panels[] | select(.type != "row") | .targets[] | .expr' "$DASHBOARD" >"$PROM_DIR/exprs"
bad=
empty=
while IFS= read -r expr; do
	q=$(printf '%s' "$expr" | sed -e 's/\$__rate_interval/10s/g' -e 's/\$[a-z_]*/.*/g')
	out=$(query "$q")
	[ "$(jq -r .status <<<"$out")" = success ] || bad+="$expr: $(jq -r .error <<<"$out"); "
	case $expr in
	*idwise_ship_* | *idwise_exec_*) ;;
	*) [ "$(jq '.data.result | length' <<<"$out")" -gt 0 ] || empty+="$expr; " ;;
	esac
done <"$PROM_DIR/exprs"
ok "the dashboard's $(grep -c . "$PROM_DIR/exprs") queries are read from it" \
    test "$(grep -c . "$PROM_DIR/exprs")" -ge 10
is "$bad" "" "every query of the dashboard runs in Prometheus"
is "$empty" "" "those on the responder's metrics return data"
out=$(query 'sum(rate(idwise_requests_total[10s]')
is "$(jq -r .status <<<"$out")" error "  (and a broken query is an error, so the check can fail)"

# --- the status page gone --------------------------------------------------------------

stop_nginx
pending_down()
{
	[ "$(value 'ALERTS{alertname="IDWiseStatusPageDown",alertstate="pending"}')" = 1 ]
}
ok "nginx stopped: IDWiseStatusPageDown is pending (it fires after 5 minutes)" \
    wait_long pending_down
is "$(value 'up{job="idwise-fcgi"}')" 0 "  up is 0"

stop_child PROM_PID
stop_responder r
done_testing
