#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/lighttpd.sh: idwise-fcgi as its own daemon (--listen unix:PATH) behind a
# real lighttpd that includes the operator's snippet lighttpd/idwise-fcgi.conf: every
# sample, a bad token, a redelivery, a chunked body, an over-large body, the log verified.
# Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/lib-hosts.sh" || exit 1

command -v lighttpd >/dev/null || bail "lighttpd is not installed"

SOCK=$(listener_socket idwise)
write_config "$TEST_TMP/main" || bail "cannot write the config"
start_listener idwise "$CONF" || bail "idwise-fcgi did not start"

DIR=$TEST_TMP/lighttpd
mkdir -p "$DIR/htdocs" || bail "mkdir $DIR"
host_snippet "$top_srcdir/lighttpd/idwise-fcgi.conf" "$SNIPPET_SOCKET" "$SOCK" \
    >"$DIR/idwise-fcgi.conf" || bail "cannot copy the snippet"
HOST_PORT=$(free_port) || bail "no free port"
{
	printf 'server.bind = "127.0.0.1"\nserver.port = %s\n' "$HOST_PORT"
	printf 'server.document-root = "%s/htdocs"\n' "$DIR"
	printf 'server.errorlog = "%s/error.log"\n' "$DIR"
	printf 'server.pid-file = "%s/lighttpd.pid"\n' "$DIR"
	[ -z "$HOST_USER" ] ||
	    printf 'server.username = "%s"\nserver.groupname = "%s"\n' "$HOST_USER" "$HOST_GROUP"
	printf 'include "%s/idwise-fcgi.conf"\n' "$DIR"
} >"$DIR/lighttpd.conf"
# lighttpd opens its error log after it has become HOST_USER.
[ -z "$HOST_USER" ] || chown "$HOST_USER:" "$DIR" || bail "chown $DIR"
lighttpd -tt -f "$DIR/lighttpd.conf" >"$DIR/configtest" 2>&1 ||
    bail "lighttpd -tt: $(cat "$DIR/configtest")"
start_host lighttpd "$DIR/lighttpd.pid" lighttpd -D -f "$DIR/lighttpd.conf" ||
    bail "lighttpd did not start"
URL=http://127.0.0.1:$HOST_PORT/idwise/webhook

if [ -n "$HOST_USER" ]; then
	is "$(ps -o user= --ppid "$HOST_PID" -p "$HOST_PID" | sort -u | tr -d ' ')" "$HOST_USER" \
	    "lighttpd runs as $HOST_USER"
fi
host_checks lighttpd

done_testing
