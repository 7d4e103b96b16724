#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/disk-full.sh: writes that fail, behind nginx. (a) A file size limit
# (prlimit --fsize on the running responder; idwise-fcgi ignores SIGXFSZ, so write(2) fails
# with EFBIG, or writes short): 503 with Retry-After, the log unchanged to the byte, and the
# next delivery after the limit is raised is stored by the same process. (b) A real full
# filesystem (a 512 KiB tmpfs holding the log): the same, until space is freed. (c) The log
# directory missing, on a read-only filesystem, or not writable for the responder's user:
# 503 and one line on stderr naming the path, then service once it is fixed, without a
# restart. (A directory that is a regular file is in nginx.sh.) Output: TAP.
#
# Needs root (mount, prlimit on another process, a responder run as RUN_USER). Run in a
# mount namespace of its own when it can be, so its mounts go away with it.

. "${top_srcdir:?run the tests with make check}/tests/mount-ns.sh" || exit 1

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
ERR=$TEST_TMP/fs.stderr

# use_config DIR [key=value...]: (re)start the responder "fs" with a new config.
use_config()
{
	local dir=$1
	shift
	stop_responder fs
	write_config "$dir" "$@" || bail "cannot write the config in $dir"
	start_responder fs "$CONF" || bail "idwise-fcgi did not start with $CONF"
	PID=$(responder_pids fs)
}

# stderr_mark: remember how far the responder's stderr goes; stderr_new: what came since.
stderr_mark()
{
	MARK=$(log_count "$ERR")
}

stderr_new()
{
	tail -n +$((MARK + 1)) "$ERR"
}

# causes_new: the lines since stderr_mark that say why, without the line every refused
# request gets ("rejected request ID from ADDR: 503 log unavailable").
causes_new()
{
	stderr_new | grep -v '^idwise-fcgi: rejected request [^ ]* from [^ ]*: 503 log unavailable$'
}

# rejections_new: how many of those per-request lines came since stderr_mark.
rejections_new()
{
	stderr_new | grep -c '^idwise-fcgi: rejected request [^ ]* from [^ ]*: 503 log unavailable$'
}

# refused DESC: the last reply was a 503 with Retry-After: N seconds.
refused()
{
	local retry
	retry=$(header Retry-After | tr -c -d '0-9\n')
	is "$STATUS $(content_type) $(is_error_reply && echo error) $retry" \
	    "503 application/json error 60" "$1"
}

# lim PRLIMIT-ARG...: prlimit on the responder, as its own user: root may lack
# CAP_SYS_RESOURCE (a container), and a user may set its own processes' limits.
lim()
{
	as_run_user prlimit "$@"
}

# whole_lines_only: the log ends with a newline and verifies.
whole_lines_only()
{
	[ "$(tail -c 1 "$LOG" | od -An -tx1 | tr -d ' ')" = 0a ] && check_chain "$LOG"
}

mounted()
{
	mount -t tmpfs -o "$2" tmpfs "$1" || return 1
	at_exit "umount -l '$1'"
}

ok "running as root (mount, prlimit, a responder as RUN_USER)" test "$(id -u)" -eq 0 ||
    bail "run as root"

# ---------------------------------------------------------------------------------------
# (a) prlimit --fsize (the soft limit; the hard one stays unlimited, so that it can be
# raised again without privilege): a short write, then EFBIG.

use_config "$TEST_TMP/fsize"
start_nginx "$(responder_socket fs)" || bail "nginx did not start"
for i in 1 2 3; do
	post_string "$(sized_event "fsize-$i" 400)"
done
reply_is 200 '{"status":"accepted","seq":3}' "three deliveries stored"
before=$(log_state "$LOG")
size=$(stat -c %s "$LOG")

lim --pid "$PID" --fsize=$((size + 100)):unlimited || bail "prlimit failed"
stderr_mark
post_string "$(sized_event fsize-4 400)"
refused "file size limit 100 bytes above the log: 503 with Retry-After: 60"
is "$(log_state "$LOG")" "$before" "  the log is unchanged to the byte (the short write was cut)"
is "$(causes_new)" "idwise-fcgi: $LOG: write: short write" "  one line on stderr says why, naming the log"
is "$(rejections_new)" 1 "  and one the request's rejection"
lim --pid "$PID" --fsize="$size":unlimited || bail "prlimit failed"
stderr_mark
post_string "$(sized_event fsize-4 400)"
refused "file size limit at the log's size: 503 with Retry-After: 60"
is "$(log_state "$LOG")" "$before" "  the log is unchanged"
is "$(causes_new)" "idwise-fcgi: $LOG: write: File too large" "  one line on stderr: File too large"
ok "  the responder is alive (SIGXFSZ is ignored)" pid_alive "$PID"
lim --pid "$PID" --fsize=unlimited:unlimited || bail "prlimit failed"
post_string "$(sized_event fsize-4 400)"
reply_is 200 '{"status":"accepted","seq":4}' "limit raised: the same process stores it as seq 4"
is "$(responder_pids fs)" "$PID" "  without a restart"
ok "  the log has whole lines only and verifies" whole_lines_only
ok "  nothing had to be cut" test ! -e "$LOG.torn"

# ---------------------------------------------------------------------------------------
# (b) A full filesystem.

FULL=$TEST_TMP/full
mkdir -p "$FULL"
mounted "$FULL" size=512k,mode=0755 || bail "cannot mount a tmpfs"
give_to_responder "$FULL"
use_config "$TEST_TMP/full-conf" "log=$FULL/events.jsonl"
for i in 1 2 3 4 5; do
	post_string "$(sized_event "full-$i" 400)"
done
reply_is 200 '{"status":"accepted","seq":5}' "on a 512 KiB tmpfs: five deliveries stored"
dd if=/dev/zero of="$FULL/filler" bs=4k 2>/dev/null
is "$(df -P "$FULL" | awk 'NR == 2 { print $4 }')" 0 "the filesystem is full"
# what still fits in the log's last page is written; then writes fail
seq=5
for ((i = 6; i <= 40; i++)); do
	post_string "$(sized_event "full-$i" 400)"
	[ "$STATUS" = 200 ] || break
	seq=$((seq + 1))
done
refused "a delivery that does not fit (full-$i): 503 with Retry-After: 60"
FAILED=$i
before=$(log_state "$LOG")
stderr_mark
for ((i = FAILED + 1; i <= FAILED + 3; i++)); do
	post_string "$(sized_event "full-$i" 400)"
done
refused "  and the next ones too (full-$((FAILED + 1)) .. full-$((FAILED + 3)))"
is "$(log_state "$LOG")" "$before" "  the log is unchanged to the byte"
ok "  whole lines only, the chain verifies" whole_lines_only
why="^idwise-fcgi: $LOG: write: (short write|No space left on device)\$"
is "$(causes_new | grep -cE "$why") $(causes_new | grep -c .)" "3 3" \
    "  one line on stderr for each says why, naming the log"
rm -f "$FULL/filler"
for ((i = FAILED; i <= FAILED + 3; i++)); do
	seq=$((seq + 1))
	post_string "$(sized_event "full-$i" 400)"
	reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" \
	    "space freed: the retried full-$i is stored as seq $seq"
done
post_string "$(sized_event full-1 400)"
reply_is 200 '{"status":"duplicate","seq":1}' "  full-1 is still known"
is "$(responder_pids fs)" "$PID" "  the same process, not restarted"
ok "  the log verifies" whole_lines_only
ok "  nothing had to be cut" test ! -e "$LOG.torn"

# ---------------------------------------------------------------------------------------
# (c) The log's directory missing, read-only, or not the responder's to write.

use_config "$TEST_TMP/missing" "log=$TEST_TMP/missing/logs/events.jsonl"
stderr_mark
post_string "$(step_event missing-1)"
refused "log directory missing: 503 with Retry-After: 60"
post_string "$(step_event missing-1)"
refused "  again"
like "$(causes_new | head -n 1)" "^idwise-fcgi: $TEST_TMP/missing/logs/.*: No such file or directory\$" \
    "  stderr names the path and the reason"
is "$(causes_new | grep -c .)" 2 "  one such line for each refused request"
mkdir "$TEST_TMP/missing/logs" && give_to_responder "$TEST_TMP/missing/logs"
post_string "$(step_event missing-1)"
reply_is 200 '{"status":"accepted","seq":1}' "the directory made: stored as seq 1"
is "$(responder_pids fs)" "$PID" "  by the same process"

RO=$TEST_TMP/readonly
mkdir -p "$RO"
mounted "$RO" ro,size=64k,mode=0755 || bail "cannot mount a read-only tmpfs"
use_config "$TEST_TMP/ro-conf" "log=$RO/events.jsonl"
stderr_mark
post_string "$(step_event ro-1)"
refused "log directory on a read-only filesystem: 503 with Retry-After: 60"
like "$(causes_new | head -n 1)" "^idwise-fcgi: $RO/.*: Read-only file system\$" \
    "  stderr names the path and the reason"
is "$(causes_new | grep -c .)" 1 "  in one line"
mount -o remount,rw "$RO" && give_to_responder "$RO" || bail "cannot remount rw"
post_string "$(step_event ro-1)"
reply_is 200 '{"status":"accepted","seq":1}' "remounted read-write: stored as seq 1"
is "$(responder_pids fs)" "$PID" "  by the same process"

# Not writable: the directory is root's, the responder runs as RUN_USER (the tests run as
# root, see tests/lib.sh).
use_config "$TEST_TMP/foreign" "log=$TEST_TMP/foreign/logs/events.jsonl"
mkdir -m 0755 "$TEST_TMP/foreign/logs"
stderr_mark
post_string "$(step_event foreign-1)"
refused "log directory not writable by the responder's user ($RUN_USER): 503 with Retry-After: 60"
like "$(causes_new | head -n 1)" "^idwise-fcgi: $TEST_TMP/foreign/logs/.*: Permission denied\$" \
    "  stderr names the path and the reason"
is "$(causes_new | grep -c .)" 1 "  in one line"
give_to_responder "$TEST_TMP/foreign/logs"
post_string "$(step_event foreign-1)"
reply_is 200 '{"status":"accepted","seq":1}' "the directory given to it: stored as seq 1"
is "$(responder_pids fs)" "$PID" "  by the same process"
is "$(stat -c %U "$TEST_TMP/foreign/logs/events.jsonl")" "$RUN_USER" "  in a log file of its own"
stop_responder fs
stop_nginx

ok "no sanitizer report on the responder's stderr" no_sanitizer_reports "$TEST_TMP/fs.stderr"
done_testing
