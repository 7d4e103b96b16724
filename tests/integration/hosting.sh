#!/bin/bash
# SPDX-License-Identifier: ISC
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
	stop_pids "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_RC=$?
}

socket_up()	# socket_up PATH
{
	pid_alive "$DAEMON_PID" || return 2
	[ -S "$1" ]
}

# socket_with_mode PATH MODE: the socket is there with that mode (its group and mode are set
# just after it is made).
socket_with_mode()
{
	socket_up "$1" || return $?
	[ "$(stat -c %a "$1")" = "$2" ]
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
# (made 0600, then given its group and mode: wait for them)
ok "--socket-mode sets the socket's mode" wait_for socket_with_mode "$SOCK" 620
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

# socket_access_is PATH "OWNER:GROUP MODE"
socket_access_is()
{
	[ "$(stat -c '%U:%G %a' "$1" 2>/dev/null)" = "$2" ]
}

# uid_is PID UID: every user id of PID (real, effective, saved, fs) is UID.
uid_is()
{
	[ "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$1/status" 2>/dev/null)" = "$2 $2 $2 $2" ]
}

# ---------------------------------------------------------------------------------------
# Who it runs as. As root it reads the config and secrets, binds, then becomes --user
# before touching the log; it does not serve as root without --user or --allow-root.

# run_idwise [VAR=value...] -- ARG...: idwise-fcgi ARG... with those variables, stdin the
# delivery in $F; sets RUN_RC and RUN_ERR (stderr), the reply is in $TEST_TMP/run.out.
run_idwise()
{
	local -a vars=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	env "${vars[@]}" timeout 10 "$IDWISE_FCGI" "$@" <"$F" >"$TEST_TMP/run.out" \
	    2>"$TEST_TMP/run.err"
	RUN_RC=$?
	RUN_ERR=$(cat "$TEST_TMP/run.err")
}

PRIV=$TEST_TMP/priv
write_config "$PRIV"
F=$(event_file 20)
fcgi_env "$(wc -c <"$F")"
run_idwise "${FCGI_ENV[@]}" -- -c "$CONF" --user no-such-user-here
is "$RUN_RC" 67 "--user with an unknown account: exit 67"
like "$RUN_ERR" "no-such-user-here: no such user" "  saying so"
run_idwise -- -c "$CONF" --user root
is "$RUN_RC" 67 "--user root: exit 67 (it would drop nothing)"
run_idwise -- -c "$CONF" --user nobody --allow-root
is "$RUN_RC" 64 "--user and --allow-root together: exit 64"
run_idwise -- -c "$CONF" --listen "unix:$RUN_DIR/x.sock" --socket-group no-such-group-here
is "$RUN_RC" 67 "--socket-group with an unknown group: exit 67"
run_idwise -- -c "$CONF" --listen 127.0.0.1:1 --socket-mode 0600
is "$RUN_RC" 64 "--socket-mode with a TCP --listen: exit 64"
is "$(log_count "$LOG")" 0 "none of these wrote a log"

if [ -n "$RUN_USER" ]; then
	RUN_UID=$(id -u "$RUN_USER")
	RUN_GID=$(id -g "$RUN_USER")

	run_idwise "${FCGI_ENV[@]}" -- -c "$CONF"
	is "$RUN_RC" 64 "as root without --user (CGI): exit 64"
	like "$RUN_ERR" "refusing to serve as root: give --user NAME" "  with one line saying why"
	is "$(wc -c <"$TEST_TMP/run.out")" 0 "  no reply"
	run_idwise -- -c "$CONF" --listen "unix:$RUN_DIR/root.sock"
	is "$RUN_RC" 64 "as root without --user (--listen): exit 64"
	ok "  before making the socket" test ! -e "$RUN_DIR/root.sock"
	is "$(log_count "$LOG")" 0 "  and nothing logged"

	write_config "$TEST_TMP/asroot"
	run_idwise "${FCGI_ENV[@]}" -- -c "$CONF" --allow-root
	split_cgi_reply "$TEST_TMP/run.out"
	reply_is 200 '{"status":"accepted","seq":1}' "--allow-root: serves as root"
	is "$(stat -c %U "$LOG")" root "  and its log is root's (what --user avoids)"

	write_config "$PRIV"
	run_idwise "${FCGI_ENV[@]}" -- -c "$CONF" --user "$RUN_USER"
	split_cgi_reply "$TEST_TMP/run.out"
	reply_is 200 '{"status":"accepted","seq":1}' "CGI with --user $RUN_USER: accepted"
	is "$(stat -c %U "$LOG" "$LOG.shm" "$LOG.idx" | sort -u | tr '\n' ' ')" "$RUN_USER " \
	    "  the log and its state files are $RUN_USER's"
	is "$(stat -c '%U %a' "$PRIV/bearer_tokens")" "root 600" \
	    "  the token file is root's, mode 0600, read before dropping"
	ok "  and $RUN_USER itself cannot read it" not as_run_user cat "$PRIV/bearer_tokens" \
	    2>/dev/null

	# nginx's workers run as www-data; the socket is $RUN_USER:www-data 0660.
	NGINX_USER=www-data
	start_daemon --listen "unix:$SOCK" --socket-group www-data
	ok "--listen unix: --socket-group www-data --user $RUN_USER: the socket is made" \
	    wait_for socket_up "$SOCK"
	ok "  owned by $RUN_USER, group www-data, mode 0660" \
	    wait_for socket_access_is "$SOCK" "$RUN_USER:www-data 660"
	# The socket is made before the drop: wait for the drop (slow under valgrind).
	ok "  then the process becomes $RUN_USER" wait_for uid_is "$DAEMON_PID" "$RUN_UID"
	is "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$DAEMON_PID/status")" \
	    "$RUN_UID $RUN_UID $RUN_UID $RUN_UID" "  real, effective, saved and fs uid are $RUN_USER's"
	is "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$DAEMON_PID/status")" \
	    "$RUN_GID $RUN_GID $RUN_GID $RUN_GID" "  and so are the gids"
	is "$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$DAEMON_PID/status" | xargs -n 1 |
	    sort -n | xargs)" "$(id -G "$RUN_USER" | xargs -n 1 | sort -n | xargs)" \
	    "  the supplementary groups are $RUN_USER's"
	is "$(awk '/^Cap(Prm|Eff|Inh|Amb):/ { print $2 }' "/proc/$DAEMON_PID/status" | sort -u)" \
	    0000000000000000 "  no capability left, so root cannot come back"
	start_nginx "$SOCK" || bail "nginx did not start"
	F=$(event_file 21)
	post "$F" -H "Authorization: Bearer $TOKEN"
	reply_is 200 '{"status":"accepted","seq":2}' "nginx (www-data) reaches the socket: accepted"
	stop_daemon
	is "$DAEMON_RC" 0 "  SIGTERM: exits 0"
	ok "  and, as $RUN_USER, removes its socket (its directory is $RUN_USER's)" test ! -e "$SOCK"

	start_daemon --listen "unix:$SOCK" --socket-group nogroup
	wait_for socket_access_is "$SOCK" "$RUN_USER:nogroup 660"
	post "$(event_file 22)" -H "Authorization: Bearer $TOKEN"
	is "$STATUS" 502 "a socket of another group than nginx's: nginx cannot connect (502)"
	stop_daemon
	stop_nginx
	is "$(log_count "$LOG")" 2 "two records: nothing from the 502"
else
	run_idwise "${FCGI_ENV[@]}" -- -c "$CONF" --user nobody
	is "$RUN_RC" 71 "not root: --user nobody cannot be become: exit 71"
	like "$RUN_ERR" "only root can switch users" "  saying why"
	run_idwise "${FCGI_ENV[@]}" -- -c "$CONF" --user "$(id -un)"
	split_cgi_reply "$TEST_TMP/run.out"
	reply_is 200 '{"status":"accepted","seq":1}' "not root: --user naming ourselves serves"
fi

# ---------------------------------------------------------------------------------------
# systemd's socket activation: LISTEN_PID and LISTEN_FDS name fd 3.

SD=$TEST_TMP/sd
write_config "$SD"
SD_SOCK=$RUN_DIR/sd.sock
SD_ERR=$TEST_TMP/sd.stderr

# activated NAME VAR=value...: under spawn-fcgi (which binds $RUN_DIR/NAME.sock), move the
# socket from fd 0 to fd 3, make fd 0 /dev/null, and exec idwise-fcgi with the variables
# (LISTEN_PID=self: its own pid). Its stdout goes to $TEST_TMP/NAME.out. Sets SD_PID.
activated()
{
	local name=$1
	shift
	rm -f "$RUN_DIR/$name.sock"
	spawn-fcgi -n -s "$RUN_DIR/$name.sock" -M 0600 -- /bin/sh -c '
		err=$1; shift
		exec 3<&0 0</dev/null 2>>"$err"
		vars=
		for v in "$@"; do
			[ "$v" = -- ] && break
			vars="$vars ${v%%=self}"
			[ "$v" != "${v%%=self}" ] && vars="$vars=$$"
			shift
		done
		shift
		exec env $vars "$@"' sh "$SD_ERR" "$@" -- "$IDWISE_FCGI" -c "$CONF" \
	    "${RESPONDER_ARGS[@]}" >"$TEST_TMP/$name.out" 2>>"$SD_ERR" &
	SD_PID=$!
	at_exit "kill -KILL $SD_PID"
}

# is_responder PID: PID now runs idwise-fcgi (perhaps under a wrapper that execs it, such
# as tests/valgrind.sh's valgrind): no longer a shell, env or systemd-socket-activate.
is_responder()
{
	local comm
	comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
	case $comm in
	sh | bash | dash | env | spawn-fcgi | systemd-socket-*) return 1 ;;
	esac
	tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'idwise-fcgi'
}

sd_up()	# sd_up SOCKET
{
	pid_alive "$SD_PID" || return 2
	[ -S "$1" ] && is_responder "$SD_PID"
}

activated fd3 LISTEN_PID=self LISTEN_FDS=1 LISTEN_FDNAMES=idwise
ok "LISTEN_FDS=1, LISTEN_PID=its pid: idwise-fcgi starts" wait_for sd_up "$RUN_DIR/fd3.sock"
is "$(readlink "/proc/$SD_PID/fd/0")" /dev/null "  its fd 0 is /dev/null (no inherited socket there)"
F=$(event_file 30)
fcgi_env "$(wc -c <"$F")"
fcgi_run "$RUN_DIR/fd3.sock" "$F" "${FCGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":1}' "  it serves the socket on fd 3"
kill -TERM "$SD_PID"
ok "  SIGTERM: it stops" wait_for pid_gone "$SD_PID"

activated notus LISTEN_PID=1 LISTEN_FDS=1
# fd 0 is /dev/null and LISTEN_PID is not its pid: a CGI run without a request method.
wait_for pid_gone "$SD_PID"
wait "$SD_PID" 2>/dev/null
is "$?" 0 "LISTEN_PID of another process: ignored; a plain CGI run on fd 0, exit 0"
split_cgi_reply "$TEST_TMP/notus.out"
error_is 405 "  which answered 405 on stdout (no REQUEST_METHOD)"
is "$(log_count "$LOG")" 1 "  and stored nothing"

sh -c 'exec env LISTEN_PID=$$ LISTEN_FDS=2 "$@"' sh "$IDWISE_FCGI" -c "$CONF" \
    "${RESPONDER_ARGS[@]}" </dev/null 2>"$TEST_TMP/run.err"
is "$?" 71 "LISTEN_FDS=2: exit 71"
like "$(cat "$TEST_TMP/run.err")" "LISTEN_FDS=2: idwise-fcgi serves one socket" "  saying why"
sh -c 'exec env LISTEN_PID=$$ LISTEN_FDS=1 "$@"' sh "$IDWISE_FCGI" -c "$CONF" \
    "${RESPONDER_ARGS[@]}" </dev/null 3<"$CONF" 2>"$TEST_TMP/run.err"
is "$?" 71 "LISTEN_FDS=1 with a file on fd 3: exit 71"
like "$(cat "$TEST_TMP/run.err")" "fd 3 is not a listening stream socket" "  saying why"

# The real thing: systemd-socket-activate (package systemd) binds, waits for the first
# connection, and execs idwise-fcgi with LISTEN_FDS=1 and the socket on fd 3.
SA_SOCK=$RUN_DIR/sa.sock
systemd-socket-activate -l "$SA_SOCK" -E "IDWISE_FCGI_CONFIG=$CONF" \
    "$IDWISE_FCGI" "${RESPONDER_ARGS[@]}" 2>>"$TEST_TMP/sa.stderr" &
SA_PID=$!
at_exit "kill -KILL $SA_PID"
ok "systemd-socket-activate listens" wait_for test -S "$SA_SOCK"
F=$(event_file 31)
fcgi_env "$(wc -c <"$F")"
fcgi_run "$SA_SOCK" "$F" "${FCGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":2}' \
    "systemd-socket-activate: the first delivery starts idwise-fcgi, which stores it"
ok "  the process is idwise-fcgi" is_responder "$SA_PID"
if [ -n "$RUN_USER" ]; then
	is "$(stat -c %U "/proc/$SA_PID")" "$RUN_USER" "  running as $RUN_USER"
else
	is "$(stat -c %U "/proc/$SA_PID")" "$(id -un)" "  running as $(id -un)"
fi
F=$(event_file 32)
fcgi_env "$(wc -c <"$F")"
fcgi_run "$SA_SOCK" "$F" "${FCGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":3}' "  and the next one"
kill -TERM "$SA_PID"
ok "  SIGTERM: it stops" wait_for pid_gone "$SA_PID"
wait "$SA_PID" 2>/dev/null
is "$?" 0 "  with status 0"

systemd-socket-activate -l "$RUN_DIR/sa2.sock" "$IDWISE_FCGI" -c "$CONF" \
    "${RESPONDER_ARGS[@]}" --listen "unix:$RUN_DIR/other.sock" 2>"$TEST_TMP/sa2.stderr" &
SA_PID=$!
at_exit "kill -KILL $SA_PID"
wait_for test -S "$RUN_DIR/sa2.sock"
fcgi_run "$RUN_DIR/sa2.sock" "$F" "${FCGI_ENV[@]}"
wait_for pid_gone "$SA_PID"
wait "$SA_PID" 2>/dev/null
is "$?" 64 "a socket from systemd and --listen: exit 64"
like "$(cat "$TEST_TMP/sa2.stderr")" "--listen, and systemd passed a socket" "  saying why"
ok "  and no other socket was made" test ! -e "$RUN_DIR/other.sock"
ok "the activated log is whole and chained" check_chain "$LOG"
# (systemd-socket-activate says what it does on stderr; the CGI run logs its 405)
ok "nothing else on the activated responders' stderr" not grep -v -e '^Listening on ' \
    -e '^Communication attempt on fd 3' -e '^Execing ' \
    -e '^idwise-fcgi: rejected request .*: 405 method not allowed$' "$SD_ERR" "$TEST_TMP/sa.stderr"

done_testing
