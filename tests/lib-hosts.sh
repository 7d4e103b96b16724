# SPDX-License-Identifier: ISC
# tests/lib-hosts.sh: what the tests of the other web servers share (lighttpd.sh, h2o.sh,
# caddy.sh), sourced after tests/lib.sh.
#
#   responder     start_listener NAME CONF of tests/lib/daemon.sh (its socket's group is
#                 HOST_GROUP's, www-data, when root)
#   host          start_host NAME PIDFILE CMD...: a web server in the foreground of a
#                 background job, up once PIDFILE is written and HOST_PORT listens;
#                 stop_host (SIGTERM, then SIGKILL)
#   snippet       host_snippet FILE FROM TO: the operator's snippet with the socket path FROM
#                 made TO (FROM must be there), on stdout
#   the checks    host_checks HOST: every sample, a bad token, a redelivery, a chunked
#                 body, an over-large body, the log verified (URL and LOG set)

IDWISE_LOG=${IDWISE_LOG:-$top_builddir/idwise-log}
SNIPPET_SOCKET=/run/idwise-fcgi/idwise-fcgi.sock	# the path every snippet names

# The web servers' account when the tests run as root; the responder's socket is theirs
# by group (0660), as --socket-group in production: start_listener's LISTENER_GROUP.
HOST_USER=
HOST_GROUP=
if [ "$(id -u)" -eq 0 ]; then
	HOST_USER=www-data
	HOST_GROUP=www-data
fi

HOST_PID=
HOST_PORT=
HOST_PIDFILE=

# start_host NAME PIDFILE CMD [ARG...]: CMD (with @PORT@ already replaced by the caller
# from $HOST_PORT) in the background; its output goes to $TEST_TMP/NAME.out.
start_host()
{
	local name=$1
	HOST_PIDFILE=$2
	shift 2
	[ -z "$HOST_PID" ] || bail "a web server is already running"
	rm -f "$HOST_PIDFILE"
	"$@" >>"$TEST_TMP/$name.out" 2>&1 &
	HOST_PID=$!
	at_exit stop_host
	wait_for _host_up ||
	    { diag "$name did not start:" "$(tail -n 8 "$TEST_TMP/$name.out")"; return 1; }
}

_host_up()
{
	pid_alive "$HOST_PID" || return 2
	{ [ -z "$HOST_PIDFILE" ] || [ -s "$HOST_PIDFILE" ]; } && ! port_free "$HOST_PORT"
}

stop_host()
{
	stop_child HOST_PID
}

# host_snippet FILE FROM TO: FILE with every FROM made TO, on stdout; fails when FILE does
# not hold FROM (the snippet changed: the test would not test it).
host_snippet()
{
	grep -qF -- "$2" "$1" || { diag "$1 does not name $2"; return 1; }
	sed "s|$2|$3|g" "$1"
}

# host_checks HOST: the deliveries every host must pass on, against $URL and $LOG.
host_checks()
{
	local host=$1 seq=0 before big
	CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
	post_samples -p "$host: " _host_stored "$host"

	before=$(log_state "$LOG")
	CURL_AUTH=(-H "Authorization: Bearer wrong-$TOKEN")
	post "$SAMPLES/finished_journey.json"
	is "$STATUS" 401 "$host: a bad token: 401"
	CURL_AUTH=()
	post "$SAMPLES/finished_journey.json"
	is "$STATUS" 401 "$host: no token: 401"
	CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
	post "$SAMPLES/finished_journey.json"
	reply_is 200 "{\"status\":\"duplicate\",\"seq\":2}" "$host: a redelivery: duplicate of seq 2"
	is "$(log_state "$LOG")" "$before" "$host: nothing stored for those"

	step_event "$host-chunked" >"$TEST_TMP/chunked.json"
	seq=$((seq + 1))
	post "$TEST_TMP/chunked.json" -H 'Transfer-Encoding: chunked'
	reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" \
	    "$host: a chunked body: accepted as seq $seq" || diag "body: $BODY"
	is "$(log_record "$LOG" "$seq" .id)" "$host-chunked" "$host: the chunked body is stored"

	before=$(log_state "$LOG")
	big=$TEST_TMP/big.json
	sized_event "$host-big" 100000 >"$big"
	post "$big"
	is "$STATUS" 413 "$host: a body over max_body (100000 bytes): 413"
	post "$big" -H 'Transfer-Encoding: chunked'
	is "$STATUS" 413 "$host: a chunked body over max_body: 413"
	is "$(log_state "$LOG")" "$before" "$host: nothing stored for those"

	ok "$host: idwise-log verify passes on the log" \
	    quiet "$IDWISE_LOG" verify "$LOG"
	is "$(log_count "$LOG")" "$seq" "$host: the log holds $seq records"
}

# _host_stored HOST NAME FILE SEQ: record SEQ has the file's body_sha256.
_host_stored()
{
	is "$(log_record "$LOG" "$4" .body_sha256)" "$(sha256_of "$3")" "$1: $2: stored as sent"
}

# timed_batch IDS DIR [PARALLEL]: deliver_batch's requests, PARALLEL (8) at a time; each
# appends "ID CODE SECONDS" to DIR/times.
timed_batch()
{
	curl_batch "$1" "$2" "${3:-8}" '%{http_code} %{time_total}' times
}

# slowest DIR: the longest time in DIR/times, in seconds.
slowest()
{
	sort -g -k3 "$1/times" | tail -n 1 | cut -d' ' -f3
}
