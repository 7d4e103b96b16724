# SPDX-License-Identifier: ISC
# tests/powerfs-lib.sh: powerfs (tests/powerfs/, a FUSE filesystem that forgets what was
# not flushed) for the tests that cut the power, sourced after tests/mount-ns.sh and
# tests/lib.sh. They run in a mount namespace of their own, as root.
#
#   powerfs_mount BACKING MNT [TEAR [SEED]]   mount (PFS_PID, PFS_MNT); TEAR: none (default),
#                                           byte, page or zero; its report goes to PFS_REPORT;
#                                           PFS_OPTS: more options (--cut-at-sync PATH[:N])
#   powerfs_cut                             the power cut (SIGUSR1): waits until it is done,
#                                           unmounted and gone; the cut's lines in PFS_CUT
#   powerfs_wait_cut                        the same for a cut powerfs made by itself
#                                           (--cut-at-sync)
#   powerfs_unmount                         a clean unmount (what was written stays)
#   new_boot                                a fresh /proc/sys/kernel/random/boot_id, for
#                                           this namespace (bind-mounted the first time)
#   other_device                            the next mount gets another device number, as
#                                           a disk may after a reboot
#   fsync_file FILE..., fdatasync_file FILE..., fsync_dir DIR...   (coreutils sync)
# shellcheck shell=bash

POWERFS=${POWERFS:-$top_builddir/tests/powerfs/powerfs}
PFS_PID=
PFS_MNT=
PFS_REPORT=$TEST_TMP/powerfs.report
PFS_CUT=
PFS_OPTS=()
BOOT_ID_FILE=/proc/sys/kernel/random/boot_id
FAKE_BOOT_ID=$TEST_TMP/boot_id

# powerfs_usable: root, in a mount namespace of this test's own, with /dev/fuse and powerfs.
powerfs_usable()
{
	[ "$(id -u)" -eq 0 ] && [ -n "${IDWISE_TEST_MOUNT_NS:-}" ] && [ -c /dev/fuse ] &&
	    [ -x "$POWERFS" ]
}

_pfs_mounted()
{
	pid_alive "$PFS_PID" || return 2
	awk -v m="$PFS_MNT" '$5 == m && $0 ~ / - fuse(\.powerfs)? / { found = 1 }
	    END { exit !found }' /proc/self/mountinfo
}

powerfs_mount()
{
	local backing=$1 mnt=$2 tear=${3:-none} seed=${4:-$RANDOM}
	[ -z "$PFS_PID" ] || bail "powerfs is already mounted at $PFS_MNT"
	mkdir -p "$backing" "$mnt" || return 1
	PFS_MNT=$(cd "$mnt" && pwd -P) || return 1
	_pfs_lines=$(log_count "$PFS_REPORT")
	"$POWERFS" --tear "$tear" --seed "$seed" --report "$PFS_REPORT" "${PFS_OPTS[@]}" \
	    "$backing" "$mnt" 2>>"$TEST_TMP/powerfs.stderr" &
	PFS_PID=$!
	at_exit powerfs_unmount
	wait_for _pfs_mounted ||
	    { diag "powerfs did not mount:" "$(tail -n 5 "$TEST_TMP/powerfs.stderr")"; return 1; }
}

# powerfs_cut: SIGUSR1, and powerfs gone (it unmounts itself). PFS_CUT: the report's lines
# of this cut.
powerfs_cut()
{
	[ -n "$PFS_PID" ] || bail "powerfs is not mounted"
	kill -USR1 "$PFS_PID"
	_pfs_gone
}

# powerfs_wait_cut: powerfs cut by itself (--cut-at-sync): gone within POLL_STEPS polls.
powerfs_wait_cut()
{
	[ -n "$PFS_PID" ] || bail "powerfs is not mounted"
	wait_for pid_gone "$PFS_PID" || { diag "powerfs did not cut by itself"; return 1; }
	_pfs_gone
}

_pfs_lines=0	# the report's lines before this mount
_pfs_gone()
{
	local rc
	wait "$PFS_PID"
	rc=$?
	PFS_PID=
	PFS_CUT=$(tail -n +$((_pfs_lines + 1)) "$PFS_REPORT")
	umount -l "$PFS_MNT" 2>/dev/null
	[ "$rc" -eq 0 ] && grep -q '^powerfs: cut: done' <<<"$PFS_CUT" ||
	    { diag "powerfs cut: exit $rc" "$(tail -n 5 "$TEST_TMP/powerfs.stderr")"; return 1; }
}

powerfs_unmount()
{
	[ -n "$PFS_PID" ] || return 0
	umount "$PFS_MNT" 2>/dev/null || umount -l "$PFS_MNT"
	wait "$PFS_PID"
	PFS_PID=
}

new_boot()
{
	cat /proc/sys/kernel/random/uuid >"$FAKE_BOOT_ID" && chmod 0644 "$FAKE_BOOT_ID" ||
	    return 1
	if ! cmp -s "$FAKE_BOOT_ID" "$BOOT_ID_FILE"; then
		mount --bind "$FAKE_BOOT_ID" "$BOOT_ID_FILE" || return 1
	fi
	cmp -s "$FAKE_BOOT_ID" "$BOOT_ID_FILE"
}

# other_device: a small tmpfs mounted, or unmounted, while powerfs is not: it takes the
# device number powerfs had, or frees the one before, so the next mount has another.
other_device()
{
	local at=$TEST_TMP/other-device
	mkdir -p "$at" || return 1
	if mountpoint -q "$at"; then
		umount "$at"
	else
		mount -t tmpfs -o size=16k powerfs-other-device "$at"
	fi
}

fsync_file()
{
	sync "$@"
}

fdatasync_file()
{
	sync -d "$@"
}

fsync_dir()
{
	sync "$@"
}
