#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/sync-fail.sh: an fdatasync that fails, for real, behind nginx. The log
# is on ext4 on a loop device; shrinking the device under the mounted filesystem makes the
# writeback of a new record fail, so fdatasync(2) returns EIO; it is mended by putting
# back its old contents and size. Linux reports a failed
# writeback to one fdatasync only and may keep the pages as written, so a later sync that
# returns 0 proves nothing: after the failure nothing more is acknowledged unless it was
# on disk before it. (a) The failing delivery: 503. (b) With the device mended: the same
# delivery again (a duplicate of a record that never reached the disk), a new one, from
# either of two processes: 503, and stderr says why; a duplicate of a record synced before
# the failure: 200; the status page says so. (c) Recovery as idwise-fcgi(8), "A failed
# fdatasync", says (responders stopped, filesystem mounted again, state file removed): the
# delivery is stored, once, and the log verifies. Output: TAP.
#
# Needs root (losetup, mount). Run in a mount namespace of its own when it can be.

. "${top_srcdir:?run the tests with make check}/tests/mount-ns.sh" || exit 1

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
ERR=$TEST_TMP/sf.stderr
IMG=$TEST_TMP/disk.img
MNT=$TEST_TMP/mnt
IMG_SIZE=32M

ok "running as root (losetup, mount)" test "$(id -u)" -eq 0 || bail "run as root"

# break_device: the loop device shrunk to one sector, so that every write to the
# filesystem fails (its first block is past that); what was on it is kept aside.
# mend_device: put back, and the device its old size.
break_device()
{
	cp --sparse=always "$IMG" "$IMG.kept" && truncate -s 512 "$IMG" && losetup -c "$LOOP"
}

mend_device()
{
	cp --sparse=always "$IMG.kept" "$IMG" && losetup -c "$LOOP"
}

# refused DESC: the last reply was a 503 with Retry-After.
refused()
{
	is "$STATUS $(content_type) $(is_error_reply && echo error) $(header Retry-After)" \
	    "503 application/json error 60" "$1"
}

stderr_mark()
{
	MARK=$(log_count "$ERR")
}

stderr_new()
{
	tail -n +$((MARK + 1)) "$ERR"
}

status_json()
{
	STATUS_CODE=$(curl -sS -o "$TEST_TMP/health.json" -w '%{http_code}' \
	    "${URL%/webhook}/status?format=json")
}

truncate -s "$IMG_SIZE" "$IMG" && mkfs.ext4 -q -F -O ^has_journal "$IMG" ||
    bail "mkfs.ext4 failed"
LOOP=$(losetup -f --show "$IMG") || bail "no loop device"
at_exit "losetup -d '$LOOP'"
mkdir -p "$MNT" && mount -o errors=continue "$LOOP" "$MNT" || bail "cannot mount $LOOP"
at_exit "umount -l '$MNT'"
mkdir -p "$MNT/log" && give_to_responder "$MNT/log" || bail "cannot make $MNT/log"

write_config "$TEST_TMP/sf" "log=$MNT/log/events.jsonl" status_path=/idwise/status ||
    bail "cannot write the config"
start_responder sf "$CONF" 2 || bail "responders did not start"
start_nginx "$(responder_socket sf)" || bail "nginx did not start"

A=$(sized_event sf-a 400)
B=$(sized_event sf-b 400)
C=$(sized_event sf-c 400)

post_string "$A"
reply_is 200 '{"status":"accepted","seq":1}' "A stored as seq 1 on the loop device's ext4"

# ---------------------------------------------------------------------------------------
# (a) the device breaks (what was made so far is on it: the files, the index, the state)

sync -f "$MNT/log" || bail "syncfs failed"
break_device || bail "cannot shrink the device"
stderr_mark
post_string "$B"
refused "device broken: B gets 503 with Retry-After"
like "$(stderr_new)" "$LOG: fdatasync: Input/output error" "  stderr: fdatasync: Input/output error"

# ---------------------------------------------------------------------------------------
# (b) the device mended: a sync would return 0 now, but B's page may never be written

mend_device || bail "cannot mend the device"
stderr_mark
codes=
for i in 1 2 3 4; do
	post_string "$B"
	codes+="$STATUS "
done
is "$codes" "503 503 503 503 " "device mended: B again, 4 times (both processes): 503 each"
like "$(stderr_new)" "$LOG: not appending: an fdatasync of the log failed earlier" \
    "  stderr says why"
post_string "$C"
refused "  a new delivery C: 503"
post_string "$A"
reply_is 200 '{"status":"duplicate","seq":1}' \
    "  A again, on disk before the failure: 200 duplicate of seq 1"
status_json
is "$STATUS_CODE $(jq -c '[.status, .sync_failed, .log_writable]' "$TEST_TMP/health.json")" \
    '503 ["failing",true,true]' "  health: 503, failing, sync_failed"
curl -sS -o "$TEST_TMP/metrics.txt" "${URL%/webhook}/status"
is "$(grep '^idwise_log_sync_failed ' "$TEST_TMP/metrics.txt")" "idwise_log_sync_failed 1" \
    "  metrics: idwise_log_sync_failed 1"

# ---------------------------------------------------------------------------------------
# (c) recovery: stop, check the filesystem and mount it again (the log is read from the
# disk, not from memory), remove the state file, start

stop_responder sf
umount "$MNT" || bail "cannot unmount $MNT"
e2fsck -fy "$LOOP" >"$TEST_TMP/e2fsck.out" 2>&1
ok "  e2fsck: clean or fixed (exit $?)" test $? -le 1 || diag "$(cat "$TEST_TMP/e2fsck.out")"
mount -o errors=continue "$LOOP" "$MNT" || bail "cannot mount $LOOP again"
rm -f "$MNT/log/events.jsonl.shm"
start_responder sf "$CONF" 2 || bail "responders did not start again"
post_string "$B"
reply_is 200 '{"status":"accepted","seq":2}' "recovered: B stored as seq 2"
post_string "$B"
reply_is 200 '{"status":"duplicate","seq":2}' "  B again: duplicate of seq 2"
post_string "$C"
reply_is 200 '{"status":"accepted","seq":3}' "  C stored as seq 3"
is "$(jq -r .id "$LOG" | tr '\n' ' ')" "sf-a sf-b sf-c " "  the log holds A, B, C once each"
ok "  and its chain verifies" check_chain "$LOG"
status_json
is "$STATUS_CODE $(jq -c '[.status, .sync_failed]' "$TEST_TMP/health.json")" \
    '200 ["ok",false]' "  health: ok again"

done_testing
