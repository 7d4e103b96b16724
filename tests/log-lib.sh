# SPDX-License-Identifier: ISC
# tests/log-lib.sh: helpers for the idwise-log tests, sourced after tests/lib.sh.
#
#   writing     post_event CONF ID [EVENT [DECISION [REFERENCE]]], post_sample CONF NAME,
#               post_many CONF PREFIX N   (real deliveries through idwise-fcgi as CGI)
#   reading     seqs FILE (the seq of each line, space-separated), seq_range A B,
#               cursor_seq FILE, line_count FILE, wait_lines FILE N
#   processes   run_log ARG... (sets RC, OUT, ERR), start_bg NAME OUTFILE CMD...,
#               kill_bg NAME SIG, bg_pid NAME, locked FILE

IDWISE_LOG=${IDWISE_LOG:-$top_builddir/idwise-log}
[ -x "$IDWISE_LOG" ] || bail "$IDWISE_LOG is not built"

# post_file CONF FILE: deliver FILE's bytes as an authorized POST; fails unless stored.
post_file()
{
	local conf=$1 file=$2
	cgi_run "$conf" "$file" REQUEST_METHOD=POST "CONTENT_LENGTH=$(wc -c <"$file")" \
	    CONTENT_TYPE=application/json REMOTE_ADDR=127.0.0.1 "HTTP_AUTHORIZATION=Bearer $TOKEN"
	[ "$STATUS" = 200 ] && [ "$(jq -r .status <<<"$BODY" 2>/dev/null)" = accepted ] ||
	    { diag "post $file: $STATUS $BODY" "$(tail -n 3 "$TEST_TMP/cgi.stderr" 2>/dev/null)"; return 1; }
}

# post_event CONF ID [EVENT [DECISION [REFERENCE]]]: a delivery with eventId ID, journeyId
# j-ID, systemDecision DECISION ("-": none; default Complete) and referenceNo REFERENCE
# ("null": null; default ref-ID).
post_event()
{
	local conf=$1 id=$2 event=${3:-Finished Journey} decision=${4:-Complete} ref=${5:-ref-$2}
	local file=$TEST_TMP/post.json
	jq -cn --arg id "$id" --arg ev "$event" --arg d "$decision" --arg r "$ref" '
	    {event: $ev, body: ({eventId: $id, journeyId: ("j-" + $id)}
	        + (if $r == "null" then {referenceNo: null} else {referenceNo: $r} end)
	        + (if $d == "-" then {} else {systemDecision: $d} end))}' >"$file" &&
	    post_file "$conf" "$file"
}

# post_sample CONF NAME: deliver tests/samples/NAME.json.
post_sample()
{
	post_file "$1" "$SAMPLES/$2.json"
}

# post_many CONF PREFIX N: N deliveries with ids PREFIX-1 ... PREFIX-N.
post_many()
{
	local conf=$1 prefix=$2 n=$3 i
	for ((i = 1; i <= n; i++)); do
		post_event "$conf" "$prefix-$i" || return 1
	done
}

line_count()
{
	if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

# seqs FILE...: the seq of every line, space-separated ("bad" for a line without one).
seqs()
{
	cat "$@" 2>/dev/null | jq -r '.seq // "bad"' 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}

# seq_range A B: "A A+1 ... B".
seq_range()
{
	seq -s ' ' "$1" "$2"
}

# cursor_seq FILE: the seq of the newest valid slot of a cursor file.
cursor_seq()
{
	cut -f1 "$1" 2>/dev/null | jq -s 'max_by(.gen).seq' 2>/dev/null
}

_lines_at_least()
{
	[ "$(line_count "$1")" -ge "$2" ]
}

# wait_lines FILE N: wait (up to 10 s) until FILE has N lines or more.
wait_lines()
{
	wait_for _lines_at_least "$1" "$2" ||
	    { diag "$1: $(line_count "$1") lines, waited for $2"; return 1; }
}

# run_log ARG...: idwise-log ARG... with stdin from /dev/null; sets RC, OUT, ERR.
RC= OUT= ERR=
run_log()
{
	OUT=$(timeout 30 "$IDWISE_LOG" "$@" </dev/null 2>"$TEST_TMP/run.err")
	RC=$?
	ERR=$(cat "$TEST_TMP/run.err")
}

# one_line TEXT: TEXT is exactly one line.
one_line()
{
	[ -n "$1" ] && [ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ]
}

declare -A _bg_pid=()

# start_bg NAME OUTFILE CMD...: run CMD in the background, stdout appended to OUTFILE,
# stderr to $TEST_TMP/NAME.stderr, stdin /dev/null; it is killed when the script ends.
start_bg()
{
	local name=$1 out=$2
	shift 2
	"$@" </dev/null >>"$out" 2>>"$TEST_TMP/$name.stderr" &
	_bg_pid[$name]=$!
	at_exit "kill_bg $name KILL"
}

# kill_bg NAME SIG: send SIG and reap; sets BG_RC to its exit status (not for KILL: bash
# would print a "Killed" line for the job, so it is disowned first).
BG_RC=
kill_bg()
{
	local pid=${_bg_pid[$1]:-}
	BG_RC=
	[ -n "$pid" ] || return 0
	[ "$2" != KILL ] || disown "$pid" 2>/dev/null
	stop_pids -"$2" "$pid" || diag "$1 ignored SIG$2"
	wait "$pid" 2>/dev/null
	BG_RC=$?
	unset "_bg_pid[$1]"
}

# bg_pid NAME
bg_pid()
{
	printf '%s\n' "${_bg_pid[$1]:-}"
}

# locked FILE: someone holds a flock(2) on FILE (a running follow or exec on that cursor).
# Read from /proc/locks: trying the lock would take it for an instant, and a follow
# starting in that instant would find its cursor busy.
locked()
{
	local ino
	ino=$(stat -c %i "$1" 2>/dev/null) || return 1
	awk -v ino="$ino" '$2 == "FLOCK" { n = split($6, id, ":"); if (id[n] == ino) found = 1 }
	    END { exit !found }' /proc/locks
}
