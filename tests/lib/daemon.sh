# SPDX-License-Identifier: ISC
# tests/lib/daemon.sh: the responder under spawn-fcgi (start_responder, stop_responder,
# responder_pids, responder_socket) and as its own daemon on a unix socket (start_listener,
# stop_listener, listener_pid, listener_socket); sourced by tests/lib.sh.
# shellcheck shell=bash

declare -A _resp_pid=() _resp_pids_file=()

# responder_socket NAME: the unix socket of responder NAME.
responder_socket()
{
	printf '%s/%s.sock\n' "$SOCK_DIR" "$1"
}

# start_responder NAME CONF [PROCS]: spawn-fcgi binds $SOCK_DIR/NAME.sock and runs
# idwise-fcgi -c CONF (--user RUN_USER when root) on it, in the foreground of a background job (-n) for one process,
# or PROCS forked children (-F). The responders' stderr goes to $TEST_TMP/NAME.stderr.
start_responder()
{
	local name=$1 conf=$2 procs=${3:-1} sock err
	sock=$(responder_socket "$name")
	err=$TEST_TMP/$name.stderr
	[ -x "$IDWISE_FCGI" ] || bail "$IDWISE_FCGI is not built"
	[ -z "${_resp_pid[$name]:-}${_resp_pids_file[$name]:-}" ] ||
	    bail "responder $name is already running"
	rm -f "$sock"
	# sh -c redirects stderr (spawn-fcgi's forked children get /dev/null) and execs,
	# so the recorded pid is idwise-fcgi's own.
	set -- /bin/sh -c 'exec 2>>"$0"; exec "$@"' "$err" "$IDWISE_FCGI" -c "$conf" \
	    "${RESPONDER_ARGS[@]}"
	if [ "$procs" -eq 1 ]; then
		spawn-fcgi -n -s "$sock" -M 0600 -- "$@" >>"$err" 2>&1 &
		_resp_pid[$name]=$!
		at_exit "stop_responder $name"
		wait_for test -S "$sock" && pid_alive "${_resp_pid[$name]}" ||
		    { diag "responder $name did not start:" "$(tail -n 5 "$err")"; return 1; }
	else
		_resp_pids_file[$name]=$TEST_TMP/$name.pids
		rm -f "${_resp_pids_file[$name]}"
		at_exit "stop_responder $name"
		spawn-fcgi -F "$procs" -P "${_resp_pids_file[$name]}" -s "$sock" -M 0600 -- \
		    "$@" >>"$err" 2>&1 ||
		    { diag "spawn-fcgi -F $procs failed:" "$(tail -n 5 "$err")"; return 1; }
		[ "$(responder_pids "$name" | wc -l)" -eq "$procs" ] ||
		    { diag "responder $name: not $procs processes"; return 1; }
	fi
	return 0
}

# responder_pids NAME: the pids of responder NAME, one a line.
responder_pids()
{
	if [ -n "${_resp_pid[$1]:-}" ]; then
		printf '%s\n' "${_resp_pid[$1]}"
	elif [ -n "${_resp_pids_file[$1]:-}" ] && [ -f "${_resp_pids_file[$1]}" ]; then
		tr -s ' \n' '\n\n' <"${_resp_pids_file[$1]}" | grep -E '^[0-9]+$'
	fi
}

# stop_responder NAME: SIGTERM, wait (SIGKILL after the timeout). Sets STOP_RC to the exit
# status of a single-process responder (137 for one that had to be killed), "gone" for -F.
STOP_RC=
stop_responder()
{
	local name=$1
	local -a pids
	STOP_RC=gone
	mapfile -t pids < <(responder_pids "$name")
	[ "${#pids[@]}" -gt 0 ] || return 0
	stop_pids "${pids[@]}" || diag "responder $name ignored SIGTERM; killed it"
	if [ -n "${_resp_pid[$name]:-}" ]; then
		wait "${_resp_pid[$name]}" 2>/dev/null
		STOP_RC=$?
	fi
	unset "_resp_pid[$name]" "_resp_pids_file[$name]"
	rm -f "$(responder_socket "$name")"
}

# --- idwise-fcgi as its own daemon (--listen) ------------------------------------------

# The group of a listener's socket unless start_listener is told otherwise: the web
# servers' (www-data) when the tests run as root, as --socket-group in production.
LISTENER_GROUP=
[ "$(id -u)" -eq 0 ] && LISTENER_GROUP=www-data
declare -A _listener_pid=() _listener_sock=()

# listener_socket NAME: the unix socket listener NAME listens on (or will, by default).
listener_socket()
{
	printf '%s\n' "${_listener_sock[$1]:-$SOCK_DIR/$1.sock}"
}

# listener_pid NAME: idwise-fcgi's own pid.
listener_pid()
{
	printf '%s\n' "${_listener_pid[$1]:-}"
}

# start_listener [-a AS] [-g GROUP] NAME CONF [ARG...]: idwise-fcgi -c CONF --listen
# unix:SOCKET ARG... in the background, stopped at exit; its stderr goes to
# $TEST_TMP/NAME.stderr. AS is how it gets its account:
#   drop      (the default) started as root with RESPONDER_ARGS (--user RUN_USER), as in
#             production; SOCKET is $SOCK_DIR/NAME.sock
#   run-user  started as RUN_USER (setpriv), so SOCKET is in $SOCK_DIR/listen/, RUN_USER's
# GROUP is the socket's --socket-group (mode 0660, so that the web server's children
# connect), LISTENER_GROUP unless given; -g '' for none.
start_listener()
{
	local as=drop group=$LISTENER_GROUP opt OPTIND=1 OPTARG name conf sock
	local -a cmd=()
	while getopts a:g: opt; do
		case $opt in
		a) as=$OPTARG ;;
		g) group=$OPTARG ;;
		*) bail "start_listener: unknown option" ;;
		esac
	done
	shift $((OPTIND - 1))
	name=$1 conf=$2
	shift 2
	[ -x "$IDWISE_FCGI" ] || bail "$IDWISE_FCGI is not built"
	[ -z "${_listener_pid[$name]:-}" ] || bail "listener $name is already running"
	sock=$SOCK_DIR/$name.sock
	case $as in
	drop) cmd=("$IDWISE_FCGI" -c "$conf" "${RESPONDER_ARGS[@]}") ;;
	run-user)
		mkdir -p "$SOCK_DIR/listen" && give_to_responder "$SOCK_DIR/listen" || return 1
		sock=$SOCK_DIR/listen/$name.sock
		# setpriv itself, not as_run_user: a function in the background would be a
		# subshell, and $! its pid, not idwise-fcgi's.
		[ -z "$RUN_USER" ] ||
		    cmd=(setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --init-groups --)
		cmd+=("$IDWISE_FCGI" -c "$conf")
		;;
	*) bail "start_listener: -a $as: not drop or run-user" ;;
	esac
	[ -z "$group" ] || cmd+=(--socket-group "$group")
	_listener_sock[$name]=$sock
	rm -f "$sock"
	"${cmd[@]}" --listen "unix:$sock" "$@" 2>>"$TEST_TMP/$name.stderr" &
	_listener_pid[$name]=$!
	at_exit "stop_listener $name"
	wait_for _listener_up "$name" ||
	    { diag "idwise-fcgi $name did not start:" "$(tail -n 5 "$TEST_TMP/$name.stderr")"; return 1; }
	# the pid must be idwise-fcgi's own (its /proc files are what the tests look at)
	[ "$(readlink "/proc/${_listener_pid[$name]}/exe")" = "$(readlink -f "$IDWISE_FCGI")" ] ||
	    { diag "$name: pid ${_listener_pid[$name]} is not idwise-fcgi"; return 1; }
}

_listener_up()
{
	pid_alive "${_listener_pid[$1]}" || return 2
	[ -S "${_listener_sock[$1]}" ]
}

# stop_listener NAME: SIGTERM, wait (SIGKILL after the timeout), and its socket removed
# (RUN_USER cannot unlink it in a directory of root's).
stop_listener()
{
	local pid=${_listener_pid[$1]:-}
	[ -n "$pid" ] || return 0
	stop_pids "$pid"
	wait "$pid" 2>/dev/null
	rm -f "${_listener_sock[$1]}"
	unset "_listener_pid[$1]"
}
