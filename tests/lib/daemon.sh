# tests/lib/daemon.sh: the responder under spawn-fcgi (start_responder, stop_responder,
# responder_pids, responder_socket); sourced by tests/lib.sh.
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
