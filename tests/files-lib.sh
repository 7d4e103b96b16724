# SPDX-License-Identifier: ISC
# tests/files-lib.sh: helpers for tests/integration/files.sh, sourced after tests/lib.sh.
#
#   timing      timed_post FILE [CURL-ARG...] (post, bounded; sets ELAPSED_MS)
#   state file  shm_get FILE FIELD, shm_set FILE FIELD VALUE, shm_poison_locks FILE
#               (FIELD: synced or written; glibc x86_64 layout, checked before use)

# timed_post FILE [CURL-ARG...]: post with at most 15 s for the reply (STATUS 000 when
# none came); ELAPSED_MS is how long it took.
ELAPSED_MS=
timed_post()
{
	local start
	start=$(now_ms)
	post "$@" -m 15
	ELAPSED_MS=$(($(now_ms) - start))
}

# _shm_py FILE ACTION [ARG...]: read or write the state file (src/shm.c's layout): magic,
# version, size, the boot id, fresh, the append lock (a pthread_mutex_t, 40 bytes), then
# the group commit (commit.h): its sync lock, written, dev, ino, synced. The lock words
# are checked to be where they were by glibc's kind of a robust process-shared mutex
# (144) at +16 of each.
_shm_py()
{
	python3 - "$@" <<'PY'
import struct, sys
path, action = sys.argv[1], sys.argv[2]
with open(path, "r+b") as f:
    data = bytearray(f.read())
    if data[0:4] != b"swdi":
        sys.exit("%s: no magic" % path)
    LOCK, SYNC_LOCK = 56, 96
    for at in (LOCK, SYNC_LOCK):
        # 144, or 176 once poisoned below
        if struct.unpack_from("<i", data, at + 16)[0] not in (144, 144 | 32):
            sys.exit("%s: no robust mutex at %d: the layout changed" % (path, at))
    off = {"written": 136, "synced": 160}
    if action == "get":
        print(struct.unpack_from("<Q", data, off[sys.argv[3]])[0])
    elif action == "set":
        struct.pack_into("<Q", data, off[sys.argv[3]], int(sys.argv[4]))
    elif action == "poison":
        # words no real mutex has: the kind of a priority-inheriting one, a lock word and
        # an owner naming a thread that does not exist, and list pointers into nowhere
        for at in (LOCK, SYNC_LOCK):
            struct.pack_into("<iIiIihhQQ", data, at, 0x3ffffff0, 7, 0x3ffffff0, 5,
                144 | 32, 3, 1, 0xdeadbeef0, 0xdeadbeef0)
    f.seek(0)
    f.write(data)
PY
}

shm_get()
{
	_shm_py "$1" get "$2"
}

shm_set()
{
	_shm_py "$1" set "$2" "$3"
}

shm_poison_locks()
{
	_shm_py "$1" poison
}
