# tests/secrets-lib.sh: helpers for secret-files.sh and coredump.sh (after tests/lib.sh).
#
#   start_listener NAME CONF [as-run-user] [ARG...]   idwise-fcgi -c CONF --listen on
#                   $SOCK_DIR/listen/NAME.sock (as RUN_USER, without --user, when asked)
#   stop_listener NAME, listener_pid NAME, proc_owner NAME (the uid /proc/PID/status
#                   belongs to: 0 for a process that is not dumpable)
#   no_secret_in FILE...   the files holding any of $SECRETS (nothing when none does)

declare -A _listener_pid=()

# start_listener NAME CONF [as-run-user] [ARG...]: the responder, serving on its own unix
# socket, in the background; its stderr in $TEST_TMP/NAME.stderr.
start_listener()
{
	local name=$1 conf=$2 sock_dir=$SOCK_DIR/listen sock runner=()
	shift 2
	# setpriv itself, not as_run_user: a function in the background would be a subshell,
	# and $! its pid, not idwise-fcgi's.
	if [ "${1:-}" = as-run-user ] && [ -n "$RUN_USER" ]; then
		runner=(setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --init-groups --)
	fi
	[ "${1:-}" != as-run-user ] || shift
	mkdir -p "$sock_dir" && give_to_responder "$sock_dir" || return 1
	sock=$sock_dir/$name.sock
	rm -f "$sock"
	"${runner[@]}" "$IDWISE_FCGI" -c "$conf" --listen "unix:$sock" "$@" \
	    2>>"$TEST_TMP/$name.stderr" &
	_listener_pid[$name]=$!
	# The pid must be idwise-fcgi's own (its /proc files are what is looked at).
	wait_for _is_idwise_fcgi "$!" ||
	    { diag "$name: pid $! is not idwise-fcgi"; return 1; }
	at_exit "stop_listener $name"
	wait_for test -S "$sock" && pid_alive "${_listener_pid[$name]}" ||
	    { diag "$name did not start:" "$(tail -n 5 "$TEST_TMP/$name.stderr")"; return 1; }
}

_is_idwise_fcgi()
{
	[ "$(readlink "/proc/$1/exe")" = "$(readlink -f "$IDWISE_FCGI")" ]
}

listener_pid()
{
	printf '%s\n' "${_listener_pid[$1]:-}"
}

listener_socket()
{
	printf '%s\n' "$SOCK_DIR/listen/$1.sock"
}

stop_listener()
{
	local pid=${_listener_pid[$1]:-}
	[ -n "$pid" ] || return 0
	stop_pids "$pid"
	wait "$pid" 2>/dev/null
	unset "_listener_pid[$1]"
}

# proc_owner NAME: the owner of /proc/PID/status of listener NAME. The kernel makes the
# files in /proc/PID of a process that is not dumpable (PR_SET_DUMPABLE 0) root's (not
# /proc/PID itself).
proc_owner()
{
	stat -c %u "/proc/$(listener_pid "$1")/status"
}

no_secret_in()
{
	local s
	for s in "${SECRETS[@]}"; do
		grep -lF -- "$s" "$@" 2>/dev/null
	done
}
