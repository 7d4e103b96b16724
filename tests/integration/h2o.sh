#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/h2o.sh: idwise-fcgi as its own daemon (--listen unix:PATH) behind a real
# H2O whose host's paths are the operator's snippet h2o/idwise-fcgi.conf: every sample, a
# bad token, a redelivery, a chunked body, an over-large body, the log verified.
# Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/lib-hosts.sh" || exit 1

command -v h2o >/dev/null || bail "h2o is not installed"

SOCK=$(listener_socket idwise)
write_config "$TEST_TMP/main" || bail "cannot write the config"
start_listener idwise "$CONF" || bail "idwise-fcgi did not start"

DIR=$TEST_TMP/h2o
mkdir -p "$DIR" || bail "mkdir $DIR"
# H2O writes its pid file and error log after it has become HOST_USER.
[ -z "$HOST_USER" ] || chown "$HOST_USER:" "$DIR" || bail "chown $DIR"
host_snippet "$top_srcdir/h2o/idwise-fcgi.conf" "$SNIPPET_SOCKET" "$SOCK" \
    >"$DIR/idwise-fcgi.conf" || bail "cannot copy the snippet"
HOST_PORT=$(free_port) || bail "no free port"
{
	[ -z "$HOST_USER" ] || printf 'user: %s\n' "$HOST_USER"
	printf 'pid-file: %s/h2o.pid\n' "$DIR"
	printf 'error-log: %s/error.log\n' "$DIR"
	printf 'listen:\n  host: 127.0.0.1\n  port: %s\n' "$HOST_PORT"
	printf 'hosts:\n  default:\n    paths: !file %s/idwise-fcgi.conf\n' "$DIR"
} >"$DIR/h2o.conf"
h2o -t -c "$DIR/h2o.conf" >"$DIR/configtest" 2>&1 || bail "h2o -t: $(cat "$DIR/configtest")"
start_host h2o "$DIR/h2o.pid" h2o -c "$DIR/h2o.conf" || bail "h2o did not start"
URL=http://127.0.0.1:$HOST_PORT/idwise/webhook

if [ -n "$HOST_USER" ]; then
	is "$(ps -o user= -p "$HOST_PID" | tr -d ' ')" "$HOST_USER" "h2o runs as $HOST_USER"
fi
host_checks h2o

# The snippet with fastcgi.timeout.keepalive 5000: H2O then sets FCGI_KEEP_CONN and keeps
# idle connections to the responder in a pool. No delivery may wait for a worker that an
# idle kept connection holds: 64 deliveries 8 at a time against --threads 2, all 200, none
# slower than 1 s. With the libfcgi loop of 0.1.0 a worker stays on its idle kept
# connection until H2O drops it (issue 13, finding 4): that waits on the new FastCGI edge.
stop_host
KA=$TEST_TMP/keepalive
write_config "$KA" || bail "cannot write the config"
start_listener ka "$CONF" --threads 2 || bail "idwise-fcgi did not start"
host_snippet "$top_srcdir/h2o/idwise-fcgi.conf" "$SNIPPET_SOCKET" "$(listener_socket ka)" |
    sed 's/fastcgi.timeout.keepalive: 0$/fastcgi.timeout.keepalive: 5000/' \
    >"$DIR/idwise-fcgi.conf" || bail "cannot copy the snippet"
ok "the keepalive copy of the snippet keeps connections" \
    grep -q 'fastcgi.timeout.keepalive: 5000$' "$DIR/idwise-fcgi.conf"
start_host h2o "$DIR/h2o.pid" h2o -c "$DIR/h2o.conf" || bail "h2o did not start"
make_ids h2o-ka 64 >"$KA/ids"
timed_batch "$KA/ids" "$KA" 8
is "$(awk '$2 == 200' "$KA/times" | wc -l | tr -d ' ')" 64 "h2o keepalive: 64 of 64 deliveries got 200"
is "$(log_count "$LOG")" 64 "h2o keepalive: all 64 are stored"
ok "h2o keepalive: none slower than 1 s (slowest $(slowest "$KA") s)" \
    awk '$3 >= 1 { exit 1 }' "$KA/times"

done_testing
