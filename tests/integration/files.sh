#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/files.sh: what a responder opens for writing next to the log (the log,
# <log>.torn, <log>.idx, <log>.shm, the reject log) must be a regular file of the
# service's user; anything else there is refused with one line, never followed or
# blocked on (issue 13, findings 9 and 11). Two responder processes behind nginx:
# a FIFO at reject_log or at <log>.torn: replies within 5 s (the reject line dropped; 503
# while the torn tail cannot be kept), and the other process answers too; a symbolic link
# at each of the five paths: refused, its target untouched; the state file's synced
# counter set high: not believed (the next record is fdatasync'ed); its lock words
# poisoned: no crash; a state file of another user in a directory others can write: not
# adopted. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/files-lib.sh" || exit 1

SOCK=$(responder_socket f)
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
BAD_AUTH=(-H "Authorization: Bearer not-$TOKEN")

# setup NAME [key=value...]: a config in $TEST_TMP/NAME, and two responder processes of
# it on the socket nginx passes to (the last case's stopped first).
setup()
{
	local name=$1
	shift
	stop_responder f
	write_config "$TEST_TMP/$name" "$@" || bail "cannot write the config"
	DIR=$TEST_TMP/$name
	ERR=$TEST_TMP/f.stderr
	: >"$ERR"
}

start()
{
	start_responder f "$CONF" 2 || bail "the responders did not start"
}

# deliver ID [CURL-AUTH...]: a delivery of eventId ID, with at most 15 s for the reply.
deliver()
{
	local id=$1
	shift
	sized_event "$id" 300 >"$TEST_TMP/body.$id"
	local -a auth=("${CURL_AUTH[@]}")
	[ $# -eq 0 ] || CURL_AUTH=("$@")
	timed_post "$TEST_TMP/body.$id"
	CURL_AUTH=("${auth[@]}")
}

# quick DESC: the last reply came within 5 s.
quick()
{
	ok "$1 (${ELAPSED_MS} ms)" test "$ELAPSED_MS" -lt 5000
}

# said PATTERN DESC: a line of the responders' stderr matches (grep -F).
said()
{
	ok "$2" grep -qF -- "$1" "$ERR" || diag "stderr: $(tail -n 3 "$ERR")"
}

# target FILE: a file of the test's (root's, when the tests run as root) that anyone may
# write, holding one line: what a symbolic link points to. It must keep that line.
target()
{
	printf 'mine\n' >"$1" && chmod 0666 "$1"
}

responders_alive()
{
	local pid n=0
	for pid in $(responder_pids f); do
		pid_alive "$pid" && n=$((n + 1))
	done
	[ "$n" -eq 2 ]
}

fdatasyncs()
{
	curl -sS -m 10 "${URL%/webhook}/status" |
	    awk '$1 == "idwise_fdatasync_seconds_count" { print $2 + 0 }'
}

start_nginx "$SOCK" || bail "nginx did not start"

# --- finding 9: a FIFO at reject_log --------------------------------------------------
setup rj "reject_log=$TEST_TMP/rj/rejects.jsonl"
mkfifo -m 0666 "$DIR/rejects.jsonl"
give_to_responder "$DIR/rejects.jsonl"
start
deliver rj-1 "${BAD_AUTH[@]}"
error_is 401 "a FIFO at reject_log: a bad token still gets its 401"
quick "  at once, not blocked in open()"
said "$DIR/rejects.jsonl: not a regular file; the reject line is dropped" \
    "  stderr: the reject log is not a regular file, the line dropped"
deliver rj-2 "${BAD_AUTH[@]}"
error_is 401 "  again (either process): 401"
quick "  at once"
deliver rj-3
reply_is 200 '{"status":"accepted","seq":1}' "  a delivery is stored meanwhile"
rm -f "$DIR/rejects.jsonl"
target "$TEST_TMP/rj-target"
ln -s "$TEST_TMP/rj-target" "$DIR/rejects.jsonl"
deliver rj-4 "${BAD_AUTH[@]}"
error_is 401 "a symbolic link at reject_log: 401"
said "$DIR/rejects.jsonl: a symbolic link, not followed; the reject line is dropped" \
    "  stderr: a symbolic link, not followed"
is "$(cat "$TEST_TMP/rj-target")" mine "  its target keeps its content"

# --- finding 9: a FIFO at <log>.torn --------------------------------------------------
setup tn
start
deliver tn-1
reply_is 200 '{"status":"accepted","seq":1}' "a first delivery: seq 1"
printf '{"seq":2,"torn' >>"$LOG"
mkfifo -m 0666 "$LOG.torn"
give_to_responder "$LOG.torn"
deliver tn-2
error_is 503 "a torn tail and a FIFO at <log>.torn: 503"
quick "  at once, not blocked in open() holding the append lock"
said "$LOG.torn: not a regular file; the torn tail stays in the log" \
    "  stderr: <log>.torn is not a regular file"
deliver tn-3
error_is 503 "  the next delivery (either process): 503"
quick "  at once: the append lock was let go"
deliver tn-4 "${BAD_AUTH[@]}"
error_is 401 "  a bad token: 401"
rm -f "$LOG.torn"
deliver tn-5
reply_is 200 '{"status":"accepted","seq":2}' "the FIFO removed: stored as seq 2"
is "$(cat "$LOG.torn")" '{"seq":2,"torn' "  the torn tail is in <log>.torn"
ok "  the chain holds" check_chain "$LOG"

# --- symbolic links --------------------------------------------------------------------
setup sl
target "$TEST_TMP/sl-target"
ln -s "$TEST_TMP/sl-target" "$LOG"
start
deliver sl-1
error_is 503 "a symbolic link at the log: 503"
said "$LOG: a symbolic link, not followed" "  stderr: a symbolic link, not followed"
is "$(cat "$TEST_TMP/sl-target")" mine "  its target keeps its content"

setup st
start
deliver st-1
reply_is 200 '{"status":"accepted","seq":1}' "seq 1"
printf '{"seq":2,"torn' >>"$LOG"
target "$TEST_TMP/st-target"
ln -s "$TEST_TMP/st-target" "$LOG.torn"
deliver st-2
error_is 503 "a torn tail and a symbolic link at <log>.torn: 503"
said "$LOG.torn: a symbolic link, not followed" "  stderr: a symbolic link, not followed"
is "$(cat "$TEST_TMP/st-target")" mine "  its target keeps its content"

setup si
start
deliver si-1
reply_is 200 '{"status":"accepted","seq":1}' "seq 1"
rm -f "$LOG.idx"
: >"$TEST_TMP/si-target"
chmod 0666 "$TEST_TMP/si-target"
ln -s "$TEST_TMP/si-target" "$LOG.idx"
deliver si-2
error_is 503 "a symbolic link at <log>.idx (to an empty file anyone may write): 503"
said "$LOG.idx: a symbolic link, not followed; not appending until it is removed" \
    "  stderr: a symbolic link, not followed"
is "$(stat -c %s "$TEST_TMP/si-target")" 0 "  LMDB did not write the index into its target"
ok "  the link is left for its owner" test -L "$LOG.idx"
rm -f "$LOG.idx"
deliver si-3
reply_is 200 '{"status":"accepted","seq":2}' "  removed: the index is rebuilt, seq 2"

setup ss
target "$TEST_TMP/ss-target"
ln -s "$TEST_TMP/ss-target" "$LOG.shm"
start
deliver ss-1
error_is 503 "a symbolic link at <log>.shm: 503"
said "$LOG.shm: a symbolic link, not followed" "  stderr: a symbolic link, not followed"
is "$(cat "$TEST_TMP/ss-target")" mine "  its target keeps its content"

# --- finding 11: a state file that is not believed -------------------------------------
setup sy status_path=/idwise/status
start
deliver sy-1
deliver sy-2
reply_is 200 '{"status":"accepted","seq":2}' "two deliveries: seq 2"
is "$(shm_get "$LOG.shm" synced)" 2 "  the state file says seq 2 is synced"
shm_set "$LOG.shm" synced $((1 << 40))
syncs=$(fdatasyncs)
deliver sy-3
reply_is 200 '{"status":"accepted","seq":3}' "the synced counter set to 2^40, a delivery: seq 3"
is "$(fdatasyncs)" "$((syncs + 1))" "  it was fdatasync'ed all the same (the status page's count)"
said "$LOG.shm: says records past the log's last one (seq 2) were written or synced; not believed" \
    "  stderr: the counters are not believed"
is "$(shm_get "$LOG.shm" synced)" 3 "  the state file says seq 3 now"

setup gm
start
deliver gm-1
reply_is 200 '{"status":"accepted","seq":1}' "seq 1"
shm_poison_locks "$LOG.shm" || bail "cannot write the state file"
deliver gm-2
error_is 503 "its lock words poisoned while the responders run: 503"
said "$LOG.shm: its locks hold values no lock has" "  stderr: the locks are not believed"
ok "  both responders are alive" responders_alive
stop_responder f
start
deliver gm-3
reply_is 200 '{"status":"accepted","seq":2}' "restarted: the locks are made anew, seq 2"
deliver gm-4
reply_is 200 '{"status":"accepted","seq":3}' "  and seq 3"
ok "  both responders are alive" responders_alive
stop_responder f
shm_poison_locks "$LOG.shm" || bail "cannot write the state file"
start
deliver gm-5
reply_is 200 '{"status":"accepted","seq":4}' \
    "poisoned while none runs: the first append of a new responder stores seq 4"
ok "  both responders are alive" responders_alive
ok "  the chain holds" check_chain "$LOG"

if [ -n "$RUN_USER" ]; then
	setup ou
	chmod 0777 "$DIR"
	: >"$LOG.shm"
	chmod 0666 "$LOG.shm"
	start
	deliver ou-1
	error_is 503 "a state file of another user (uid 0, mode 0666) in a directory anyone may write: 503"
	said "$LOG.shm: owned by uid 0, not by the service's user $(id -u "$RUN_USER")" \
	    "  stderr: owned by uid 0, not by the service's user"
	is "$(stat -c %s "$LOG.shm")" 0 "  it was not adopted (still empty)"
else
	ok "# SKIP a state file of another user: the tests do not run as root" true
fi

done_testing
