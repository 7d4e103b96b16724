#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/powerfs.sh: powerfs itself (tests/powerfs/, the filesystem that forgets
# what was not flushed), before tests/integration/powerloss.sh relies on it. Each case
# does what an application would, through the mount, then cuts the power and looks at
# the backing directory: a file holds what its last fsync or fdatasync made durable, a
# directory the names its last fsync made durable (a write, then a rename, then an fsync
# of the file but not of the directory: the old name, with the synced bytes); shared
# mmap'ed pages not msync'ed are gone; an fallocate is a change like a write (lost unless
# synced; collapsing a range refused); the tear modes keep part of the last write;
# --cut-at-sync cuts at a chosen fsync; a clean unmount keeps everything; a cut leaves no
# mount behind. Output: TAP.
#
# Needs root and FUSE (/dev/fuse, Debian's fuse3); runs in a mount namespace of its own.

. "${top_srcdir:?run the tests with make check}/tests/mount-ns.sh" || exit 1

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/powerfs-lib.sh" || exit 1

powerfs_usable || { echo "1..0 # SKIP needs root, a mount namespace, /dev/fuse and $POWERFS"; exit 0; }

B=$TEST_TMP/backing
M=$TEST_TMP/mnt

# py CODE [ARG...]: python3 with os, mmap and sys (the cases that need pwrite, mmap, rename).
py()
{
	local code=$1
	shift
	python3 -c "import os, mmap, sys, errno
$code" "$@"
}

# bytes_of FILE: its size and SHA-256 ("-" when missing).
bytes_of()
{
	if [ -e "$1" ]; then
		printf '%s %s\n' "$(stat -c %s "$1")" "$(sha256_of "$1")"
	else
		echo -
	fi
}

mount_fresh()
{
	powerfs_mount "$B" "$M" "$@" || bail "powerfs did not mount"
}

# ---------------------------------------------------------------------------------------
# The mount

rm -rf "$B"
mkdir -p "$B"
mount_fresh
like "$(stat -f -c %T "$M")" fuse "mounted: a FUSE filesystem"
ok "  its graveyard is hidden from the mount" not test -e "$M/.powerfs-grave"
ok "  and not listed" not grep -qx '.powerfs-grave' <(ls -a "$M")
ok "  but there in the backing directory" test -d "$B/.powerfs-grave"

# ---------------------------------------------------------------------------------------
# Files: data since the last fsync or fdatasync

# each file's name is made durable first (fsync of the directory)
printf 'one\n' >"$M/synced"
printf 'base\n' >"$M/append"
head -c 10000 /dev/zero | tr '\0' a >"$M/overwrite"
head -c 9000 /dev/zero | tr '\0' c >"$M/truncate"
printf 'keep\n' >"$M/otrunc"
printf 'data\n' >"$M/datasync"
head -c 20000 /dev/zero | tr '\0' d >"$M/grow-shrink"
fsync_file "$M"/synced "$M"/append "$M"/overwrite "$M"/truncate "$M"/otrunc "$M"/datasync \
    "$M"/grow-shrink
fsync_dir "$M"
want_overwrite=$(bytes_of "$M/overwrite")
want_truncate=$(bytes_of "$M/truncate")
want_grow=$(bytes_of "$M/grow-shrink")

printf 'more\n' >>"$M/append"
py 'fd = os.open(sys.argv[1], os.O_WRONLY); os.pwrite(fd, b"b" * 3000, 5000)' "$M/overwrite"
truncate -s 100 "$M/truncate"
printf 'x\n' >"$M/otrunc"
printf 'more\n' >>"$M/datasync"
fdatasync_file "$M/datasync"
truncate -s 10 "$M/grow-shrink"
head -c 30000 /dev/zero | tr '\0' e >>"$M/grow-shrink"
is "$(cat "$M/append")" "base
more" "through the mount, an unsynced append reads back"

powerfs_cut || bail "the cut failed"
ok "after the cut: no mount left" not _pfs_mounted
is "$(cat "$B/synced")" one "a file written and fsynced keeps its bytes"
is "$(cat "$B/append")" base "an append after the last fsync is lost"
is "$(bytes_of "$B/overwrite")" "$want_overwrite" "bytes overwritten in place after the fsync: the old ones"
is "$(bytes_of "$B/truncate")" "$want_truncate" "a truncation after the fsync: undone"
is "$(cat "$B/otrunc")" keep "open with O_TRUNC and a write after the fsync: the old bytes"
is "$(cat "$B/datasync")" "data
more" "an append made durable by fdatasync stays"
is "$(bytes_of "$B/grow-shrink")" "$want_grow" "shrunk, then grown past its old size: its old bytes"
like "$PFS_CUT" "append: back to 5 bytes" "  the report names each file put back"
ok "  the graveyard is gone from the backing directory" not test -e "$B/.powerfs-grave"

# ---------------------------------------------------------------------------------------
# fallocate(2): a change of size (or of bytes, for a hole or a zeroed range) like a write's.
# (Nothing in src/ calls it on powerfs: the index's posix_fallocate runs on ext4, xfs and
# tmpfs only; this is for whatever does.)

mount_fresh
for f in falloc-synced falloc-unsynced falloc-punch falloc-zero falloc-keep; do
	head -c 6000 /dev/zero | tr '\0' f >"$M/$f"
done
fsync_file "$M"/falloc-*
fsync_dir "$M"
want_falloc=$(bytes_of "$M/falloc-punch")
# util-linux's fallocate fails where fallocate(2) does (no emulation), and fsyncs after it
ok "through the mount, fallocate(2) itself (not emulated), then fsync" \
    fallocate -l 65536 "$M/falloc-synced"
# the others with fallocate(2) through ctypes, not synced: MODE OFFSET LENGTH FILE
falloc()
{
	py 'import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
fd = os.open(sys.argv[4], os.O_WRONLY)
if libc.fallocate(fd, int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])) != 0:
    print(errno.errorcode[ctypes.get_errno()])
    sys.exit(1)' "$@"
}
# FALLOC_FL_KEEP_SIZE 1, PUNCH_HOLE 2, COLLAPSE_RANGE 8, ZERO_RANGE 16
falloc 0 0 65536 "$M/falloc-unsynced"
falloc 3 4096 4096 "$M/falloc-punch"
falloc 16 0 20000 "$M/falloc-zero"
falloc 1 0 1048576 "$M/falloc-keep"
nonzero=$(tr -d '\0' <"$M/falloc-punch" | wc -c)
is "$(stat -c %s "$M/falloc-unsynced")/$nonzero/$(stat -c %s "$M/falloc-zero")" 65536/4096/20000 \
    "  unsynced: a file grown, a hole punched, a range zeroed, as read back"
like "$(falloc 8 0 4096 "$M/falloc-keep")" "^E(OPNOT|NOT)SUP$" \
    "  collapsing a range is refused: EOPNOTSUPP (ENOTSUP on Linux)"
powerfs_cut || bail "the cut failed"
is "$(stat -c %s "$B/falloc-synced")" 65536 "an fallocate made durable by fsync stays"
is "$(bytes_of "$B/falloc-unsynced")" "$want_falloc" "an fallocate after the last fsync is lost"
is "$(bytes_of "$B/falloc-punch")" "$want_falloc" "a hole punched after the last fsync: the bytes back"
is "$(bytes_of "$B/falloc-zero")" "$want_falloc" "a range zeroed past the end, not synced: the bytes and size back"
is "$(bytes_of "$B/falloc-keep")" "$want_falloc" "fallocate with KEEP_SIZE: the file as it was"
like "$PFS_CUT" "falloc-unsynced: back to 6000 bytes \(0 bytes written and 65536 fallocated" \
    "  the report says what was fallocated"

# ---------------------------------------------------------------------------------------
# Names: since the directory's last fsync. An fsync of a directory makes every change of
# names in it durable, so each case has a directory of its own, made durable first.

CASES=(new-file new-named rename over removed rmdir sub link cursor exdev)
mount_fresh
for c in "${CASES[@]}"; do
	mkdir "$M/$c"
done
printf 'old\n' >"$M/rename/old"
printf 'target\n' >"$M/over/target"
printf 'victim\n' >"$M/over/victim"
printf 'gone\n' >"$M/removed/file"
mkdir "$M/rmdir/empty"
fsync_file "$M/rename/old" "$M/over/target" "$M/over/victim" "$M/removed/file"
fsync_dir "$M" "${CASES[@]/#/$M/}"

printf 'file synced, directory not\n' >"$M/new-file/f"
fsync_file "$M/new-file/f"
printf 'never synced\n' >"$M/new-named/f"
fsync_dir "$M/new-named"
printf 'now\n' >>"$M/rename/old"
fsync_file "$M/rename/old"
mv "$M/rename/old" "$M/rename/new"
fsync_file "$M/rename/new"
mv "$M/over/target" "$M/over/victim"
rm "$M/removed/file"
rmdir "$M/rmdir/empty"
mkdir "$M/sub/dir"
printf 'deep\n' >"$M/sub/dir/f"
fsync_file "$M/sub/dir/f"
fsync_dir "$M/sub/dir"
ln -s nowhere "$M/link/l"
# the cursor's way (src/tool/log-cursor.c): made aside, synced, linked in place, the
# directory synced, the temporary name removed
printf 'cursor\n' >"$M/cursor/c.new.1"
fsync_file "$M/cursor/c.new.1"
ln "$M/cursor/c.new.1" "$M/cursor/c"
fsync_dir "$M/cursor"
rm "$M/cursor/c.new.1"
printf 'x\n' >"$M/exdev/f"
rename_errno=$(py '
try:
    os.rename(sys.argv[1], sys.argv[2])
    print("renamed")
except OSError as e:
    print(errno.errorcode[e.errno])' "$M/exdev/f" "$M/link/f")

powerfs_cut || bail "the cut failed"
is "$rename_errno" EXDEV "a rename into another directory: EXDEV (as across mounts)"
is "$(bytes_of "$B/new-file/f")" - "a new file fsynced, its directory not: gone"
is "$(bytes_of "$B/new-named/f")" "0 $(sha256_of /dev/null)" \
    "a new file whose directory was fsynced, its bytes not: there, empty"
is "$(cat "$B/rename/old" 2>/dev/null)" "old
now" "written, renamed, fsynced, the directory not: the old name, with the synced bytes"
ok "  and no new name" not test -e "$B/rename/new"
is "$(cat "$B/over/target" 2>/dev/null)/$(cat "$B/over/victim" 2>/dev/null)" "target/victim" \
    "renamed over another file, directory not synced: both back as they were"
is "$(cat "$B/removed/file" 2>/dev/null)" gone "removed, directory not synced: back"
ok "an empty directory removed, its parent not synced: back" test -d "$B/rmdir/empty"
ok "a directory made, a file in it synced, the directory synced, its parent not: gone" \
    not test -e "$B/sub/dir"
ok "a symbolic link made, directory not synced: gone" not test -L "$B/link/l"
is "$(cat "$B/cursor/c" 2>/dev/null)" cursor "made aside, synced, linked, directory synced: there"
is "$(cat "$B/cursor/c.new.1" 2>/dev/null)" cursor \
    "  its temporary name, removed after the directory's fsync: back"
like "$PFS_CUT" "rename/old: renamed to new since its directory's last fsync: undone" \
    "  the report names each name undone"

mount_fresh
rm "$M/removed/file"
fsync_dir "$M/removed"
mv "$M/rename/old" "$M/rename/new"
fsync_dir "$M/rename"
powerfs_cut || bail "the cut failed"
ok "removed, then the directory fsynced: gone" not test -e "$B/removed/file"
ok "renamed, then the directory fsynced: the new name" test -e "$B/rename/new" -a ! -e "$B/rename/old"

# ---------------------------------------------------------------------------------------
# Shared mmap, as the state file is used

mount_fresh
py '
for name in sys.argv[1:]:
    fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, 8192)
    os.fsync(fd)
    os.close(fd)' "$M/mapped-synced" "$M/mapped-unsynced"
fsync_dir "$M"
py '
def scribble(name, flush):
    fd = os.open(name, os.O_RDWR)
    m = mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    m[0:5] = b"first"
    m[4096:4101] = b"other"
    if flush:
        m.flush()
        os.fsync(fd)
    m.close()
    os.close(fd)
scribble(sys.argv[1], True)
scribble(sys.argv[2], False)' "$M/mapped-synced" "$M/mapped-unsynced"
is "$(head -c 5 "$M/mapped-unsynced")" first "through the mount, pages written through a shared mapping read back"
powerfs_cut || bail "the cut failed"
is "$(head -c 5 "$B/mapped-synced" | tr '\0' 0)/$(tail -c +4097 "$B/mapped-synced" | head -c 5)" \
    first/other "mmap'ed pages msync'ed and fsynced: kept"
is "$(tr -d '\0' <"$B/mapped-unsynced" | wc -c)" 0 "mmap'ed pages never synced: gone (zeros, as made)"

# ---------------------------------------------------------------------------------------
# Tears: every unsynced write but the last kept, the last cut

# tear_case MODE: durable "base\n", then two writes, 1000 and 6000 bytes, not synced; the
# cut tears the last one. Sets SIZE (what is left), TAIL (the bytes after base + 1000).
tear_case()
{
	rm -rf "$B"
	mount_fresh "$1"
	printf 'base\n' >"$M/torn"
	fsync_file "$M/torn"
	fsync_dir "$M"
	py 'fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.write(fd, b"1" * 1000)
os.write(fd, b"2" * 6000)' "$M/torn"
	powerfs_cut || bail "the cut failed"
	SIZE=$(stat -c %s "$B/torn")
	HEAD=$(head -c 1005 "$B/torn" | sha256sum | cut -d' ' -f1)
	TAIL=$(tail -c +1006 "$B/torn" | tr -d 2 | wc -c)
}

want_head=$({ printf 'base\n'; head -c 1000 /dev/zero | tr '\0' 1; } | sha256sum | cut -d' ' -f1)
tear_case byte
ok "tear byte: the earlier unsynced write kept, the last one cut short ($SIZE bytes)" \
    test "$HEAD" = "$want_head" -a "$SIZE" -ge 1005 -a "$SIZE" -lt 7005 -a "$TAIL" -eq 0
# (the kernel may send one write(2) as several, split at page boundaries: the last is torn)
like "$PFS_CUT" "^powerfs: cut: torn: torn: of its last write \([0-9]+ bytes at [0-9]+\) [0-9]+ bytes kept" \
    "  the report says where"
tear_case page
ok "tear page: cut at a page boundary or at the write's start ($SIZE bytes)" \
    test "$HEAD" = "$want_head" -a "$TAIL" -eq 0 -a \( "$SIZE" -eq 1005 -o "$SIZE" -eq 4096 \)
tear_case zero
zeros=$(tail -c +1006 "$B/torn" | tr -d '\0' | tr -d 2 | wc -c)
ok "tear zero: the size of both writes, the last one's end zeros" \
    test "$HEAD" = "$want_head" -a "$SIZE" -eq 7005 -a "$zeros" -eq 0 -a "$TAIL" -gt 0

# ---------------------------------------------------------------------------------------
# A cut in a chosen place: at the Nth fsync of a file

rm -rf "$B"
PFS_OPTS=(--cut-at-sync at-sync:2)
mount_fresh
PFS_OPTS=()
printf 'one\n' >"$M/at-sync"
fsync_file "$M/at-sync"
fsync_dir "$M"
printf 'two\n' >>"$M/at-sync"
ok "--cut-at-sync at-sync:2: that file's second fsync fails (EIO)" not fsync_file "$M/at-sync"
powerfs_wait_cut || bail "powerfs did not cut by itself"
is "$(cat "$B/at-sync")" one "  the cut came instead: what the first one synced is kept, not more"
like "$PFS_CUT" "^powerfs: cut: at fsync 2 of at-sync" "  the report says where"

# ---------------------------------------------------------------------------------------
# Owners, locks, many writers, a clean unmount

rm -rf "$B"
mount_fresh
mkdir "$M/owned" && give_to_responder "$M/owned"
as_run_user sh -c "printf 'mine\n' >'$M/owned/file'"
is "$(stat -c %U "$B/owned/file")" "${RUN_USER:-$(id -un)}" "a file made by $RUN_USER is $RUN_USER's"
exec 8>"$M/lockfile"
flock -x 8
ok "flock: a second process cannot take a lock held" not flock -n -x "$M/lockfile" true
exec 8>&-

writers=()
for w in 1 2 3 4; do
	(for i in $(seq 1 40); do printf 'w%s-%s\n' "$w" "$i" >>"$M/many"; fdatasync_file "$M/many"; done) &
	writers+=($!)
done
wait "${writers[@]}"
fsync_dir "$M"
printf 'unsynced\n' >>"$M/many"
powerfs_cut || bail "the cut failed"
is "$(grep -c '^w' "$B/many")/$(grep -c unsynced "$B/many")" 160/0 \
    "4 writers, 160 appends each fdatasynced: all kept, the one after them lost"

mount_fresh
printf 'written, never synced\n' >"$M/clean"
powerfs_unmount
is "$(cat "$B/clean" 2>/dev/null)" "written, never synced" "a clean unmount keeps what was written"
ok "  and removes the graveyard" not test -e "$B/.powerfs-grave"

ok "no sanitizer report from powerfs" no_sanitizer_reports "$TEST_TMP/powerfs.stderr"
done_testing
