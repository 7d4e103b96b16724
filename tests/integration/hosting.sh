#!/bin/bash
# tests/integration/hosting.sh: idwise-fcgi as its own daemon (--listen unix: and TCP,
# --socket-mode), several requests at once (--threads), SIGTERM while a request is in
# hand, and clients that vanish mid-request. Requests are sent with cgi-fcgi; a body that
# is held back comes from a FIFO the test writes when it chooses. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

write_config "$TEST_TMP/h"
DAEMON_PID=

# event_file N: a new delivery with its own eventId, in $TEST_TMP/ev.N.json
event_file()
{
	printf '{"event":"Finished Journey","body":{"eventId":"host-%s","journeyId":"j",' "$1" \
	    >"$TEST_TMP/ev.$1.json"
	printf '"systemDecision":"Complete"}}' >>"$TEST_TMP/ev.$1.json"
	printf '%s\n' "$TEST_TMP/ev.$1.json"
}

fcgi_env()	# fcgi_env LENGTH
{
	FCGI_ENV=(REQUEST_METHOD=POST "CONTENT_LENGTH=$1" CONTENT_TYPE=application/json
	    REMOTE_ADDR=127.0.0.1 "HTTP_AUTHORIZATION=Bearer $TOKEN")
}

# start_daemon ARG...: idwise-fcgi -c $CONF ARG... (--user RUN_USER when root) in the
# background.
start_daemon()
{
	"$IDWISE_FCGI" -c "$CONF" "${RESPONDER_ARGS[@]}" "$@" 2>>"$TEST_TMP/daemon.stderr" &
	DAEMON_PID=$!
	at_exit "kill -KILL $DAEMON_PID"
}

# stop_daemon: SIGTERM, wait; sets DAEMON_RC.
stop_daemon()
{
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait_for pid_gone "$DAEMON_PID" || kill -KILL "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_RC=$?
}

socket_up()	# socket_up PATH
{
	pid_alive "$DAEMON_PID" || return 2
	[ -S "$1" ]
}

tcp_up()	# tcp_up PORT
{
	pid_alive "$DAEMON_PID" || return 2
	! port_free "$1"
}

# held_request SOCKET FILE NAME: start a request whose body waits in the FIFO
# $TEST_TMP/NAME.fifo; the first half of FILE is written at once, the rest by
# release NAME. The reply goes to $TEST_TMP/NAME.out.
held_request()
{
	local sock=$1 file=$2 name=$3 len
	len=$(wc -c <"$file")
	rm -f "$TEST_TMP/$name.fifo"
	mkfifo "$TEST_TMP/$name.fifo"
	fcgi_env "$len"
	(
		export "${FCGI_ENV[@]}"
		exec timeout 30 cgi-fcgi -bind -connect "$sock" <"$TEST_TMP/$name.fifo" \
		    >"$TEST_TMP/$name.out" 2>>"$TEST_TMP/cgi.stderr"
	) &
	eval "HELD_PID_$name=\$!"
	exec {fd}>"$TEST_TMP/$name.fifo"
	eval "HELD_FD_$name=\$fd"
	head -c $((len / 2)) "$file" >&"$fd"
	eval "HELD_FILE_$name=\$file"
}

# release NAME: write the rest of the body and wait for the reply; sets STATUS and BODY.
release()
{
	local name=$1 fd file pid len
	eval "fd=\$HELD_FD_$name file=\$HELD_FILE_$name pid=\$HELD_PID_$name"
	len=$(wc -c <"$file")
	tail -c +$((len / 2 + 1)) "$file" >&"$fd"
	exec {fd}>&-
	wait "$pid"
	split_cgi_reply "$TEST_TMP/$name.out"
}

# abandon NAME: the client dies with its body half sent.
abandon()
{
	local name=$1 fd pid
	eval "fd=\$HELD_FD_$name pid=\$HELD_PID_$name"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	exec {fd}>&-
}

# ---------------------------------------------------------------------------------------
# --listen unix:PATH with --socket-mode

# The socket's directory belongs to the responder's account (as /run/idwise-fcgi does to
# idwise), so that it can remove its socket when it stops.
RUN_DIR=$SOCK_DIR/run
mkdir -p "$RUN_DIR" && give_to_responder "$RUN_DIR"
SOCK=$RUN_DIR/own.sock
start_daemon --listen "unix:$SOCK" --socket-mode 0620
ok "--listen unix: makes the socket" wait_for socket_up "$SOCK"
is "$(stat -c %a "$SOCK")" 620 "--socket-mode sets the socket's mode"
F=$(event_file 1)
fcgi_env "$(wc -c <"$F")"
fcgi_run "$SOCK" "$F" "${FCGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":1}' "a delivery over the unix socket is stored"
stop_daemon
is "$DAEMON_RC" 0 "SIGTERM: exits 0"
ok "and removes its socket" test ! -e "$SOCK"

# A process killed outright leaves its socket (mode 0600 here) behind.
start_daemon --listen "unix:$SOCK" --socket-mode 0600
wait_for socket_up "$SOCK"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null

socket_with_mode()	# socket_with_mode PATH MODE
{
	socket_up "$1" || return $?
	[ "$(stat -c %a "$1")" = "$2" ]
}

start_daemon --listen "unix:$SOCK"
ok "a stale socket left at the path is replaced, with the default mode 0660" \
    wait_for socket_with_mode "$SOCK" 660
fcgi_run "$SOCK" "$F" "${FCGI_ENV[@]}"
reply_is 200 '{"status":"duplicate","seq":1}' "and it serves (the redelivery is a duplicate)"
stop_daemon

NOT_SOCK=$TEST_TMP/regular-file
echo keep >"$NOT_SOCK"
"$IDWISE_FCGI" -c "$CONF" "${RESPONDER_ARGS[@]}" --listen "unix:$NOT_SOCK" 2>"$TEST_TMP/notsock.err"
is "$?" 71 "--listen on a path that is not a socket: exit 71"
is "$(cat "$NOT_SOCK")" keep "and the file there is left alone"
like "$(cat "$TEST_TMP/notsock.err")" "regular-file: exists and is not a socket" \
    "with one line saying why"

# ---------------------------------------------------------------------------------------
# --listen HOST:PORT

PORT=$(free_port)
start_daemon --listen "127.0.0.1:$PORT"
ok "--listen 127.0.0.1:PORT listens" wait_for tcp_up "$PORT"
F=$(event_file 2)
fcgi_env "$(wc -c <"$F")"
fcgi_run "127.0.0.1:$PORT" "$F" "${FCGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":2}' "a delivery over TCP is stored"
stop_daemon
is "$DAEMON_RC" 0 "SIGTERM: exits 0"

"$IDWISE_FCGI" -c "$CONF" "${RESPONDER_ARGS[@]}" --listen "nonsense" 2>"$TEST_TMP/badlisten.err"
is "$?" 71 "--listen with neither unix: nor a port: exit 71"

# ---------------------------------------------------------------------------------------
# --threads: a request held mid-body does not stop the others.

start_daemon --listen "unix:$SOCK" --threads 3
wait_for socket_up "$SOCK"
held_request "$SOCK" "$(event_file 3)" slow
F=$(event_file 4)
fcgi_env "$(wc -c <"$F")"
fcgi_run "$SOCK" "$F" "${FCGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":3}' \
    "--threads 3: another request is served while one waits for its body"
release slow
reply_is 200 '{"status":"accepted","seq":4}' "and the held one completes afterwards"

# ---------------------------------------------------------------------------------------
# A client that vanishes mid-body does not take the process with it.

held_request "$SOCK" "$(event_file 5)" gone
abandon gone
F=$(event_file 6)
fcgi_env "$(wc -c <"$F")"
fcgi_run "$SOCK" "$F" "${FCGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":5}' "after a client vanished mid-body, the next is served"
is "$(grep -c host-5 "$LOG")" 0 "and nothing of the vanished one was stored"
ok "the process is still alive" pid_alive "$DAEMON_PID"

# ---------------------------------------------------------------------------------------
# SIGTERM with a request in hand: it is finished, then the process exits.

held_request "$SOCK" "$(event_file 7)" term
sleep 0.2
kill -TERM "$DAEMON_PID"
sleep 0.3
ok "after SIGTERM, the process waits for the request in hand" pid_alive "$DAEMON_PID"
release term
reply_is 200 '{"status":"accepted","seq":6}' "the request in hand is stored and answered"
ok "then the process exits" wait_for pid_gone "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
is "$?" 0 "with status 0"
ok "the log is whole and chained" check_chain "$LOG"
# The vanished client may be killed before it even connected, so its rejection line is
# allowed but not required.
ok "nothing on stderr but expected lines" not grep -v \
    -e 'exists and is not a socket' -e 'nonsense: not unix:PATH' \
    -e 'rejected request [0-9-]* from 127.0.0.1: 400 truncated body' "$TEST_TMP/daemon.stderr"

done_testing
