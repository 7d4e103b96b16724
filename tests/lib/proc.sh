# SPDX-License-Identifier: ISC
# tests/lib/proc.sh: processes and ports: polling (wait_for), whether a pid lives, stopping
# pids, the clock, free ports. Needs nothing else: sourced by tests/lib.sh and bench/lib.sh.
# shellcheck shell=bash

POLL_STEPS=${POLL_STEPS:-200}		# polls of 50 ms: 10 s for anything to come up or go

# wait_for CMD [ARG...]: poll CMD every 50 ms until it succeeds (0); 1 after POLL_STEPS
# tries, or at once when CMD returns 2 (it will never succeed).
wait_for()
{
	local i rc
	for ((i = 0; i < POLL_STEPS; i++)); do
		"$@"
		rc=$?
		[ "$rc" -eq 0 ] && return 0
		[ "$rc" -eq 2 ] && return 1
		sleep 0.05
	done
	return 1
}

# now_ms: milliseconds since the epoch (without a fork).
now_ms()
{
	local us=${EPOCHREALTIME//[.,]/}
	printf '%s\n' "$((us / 1000))"
}

# pid_alive PID: the process exists and is not a zombie (spawn-fcgi's children are not
# ours to reap); one that went between the two looks is gone.
pid_alive()
{
	local state
	kill -0 "$1" 2>/dev/null || return 1
	state=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

pid_gone()
{
	! pid_alive "$1"
}

# all_gone PID...: none of the processes is alive.
all_gone()
{
	local p
	for p in "$@"; do
		pid_alive "$p" && return 1
	done
	return 0
}

# stop_pids [-SIGNAL] PID...: SIGNAL (TERM) to each, then wait until all are gone, and
# SIGKILL to those left after POLL_STEPS polls: 1 when it had to. It reaps none: the
# caller waits for its own children. Only for pids the caller started.
stop_pids()
{
	local sig=TERM
	case ${1:-} in
	-*) sig=${1#-}; shift ;;
	esac
	[ $# -gt 0 ] || return 0
	kill -"$sig" "$@" 2>/dev/null
	wait_for all_gone "$@" && return 0
	kill -KILL "$@" 2>/dev/null
	return 1
}

# stop_child VAR [-SIGNAL]: stop_pids the child of this shell whose pid the variable VAR
# holds, reap it and empty VAR; nothing when VAR is empty.
stop_child()
{
	local -n _child_pid=$1
	[ -n "$_child_pid" ] || return 0
	stop_pids ${2:+"$2"} "$_child_pid"
	wait "$_child_pid" 2>/dev/null
	_child_pid=
}

# pids_of_exe PATH: the processes running the executable PATH (as /proc/PID/exe names
# it: give it readlink -f), one a line.
pids_of_exe()
{
	local d
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/exe" 2>/dev/null)" = "$1" ] && printf '%s\n' "${d#/proc/}"
	done
	return 0
}

port_free()
{
	if command -v ss >/dev/null 2>&1; then
		[ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
	else
		! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# free_port: print a port in 20000-32767 that nothing uses now: below Linux's ephemeral
# range (32768-60999), so that no outgoing connection takes it while a server that owns it
# is down (a NATS server restarted on its port, after the cluster was stopped, found its
# monitoring port taken by a connection made meanwhile).
free_port()
{
	local i p
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
		if port_free "$p"; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}
