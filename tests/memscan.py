#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""tests/memscan.py PID NEEDLE...: count each NEEDLE in the memory a core dump of PID would
hold, read through /proc/PID/mem (as root), without writing a core file: what the kernel's
default coredump_filter (0x33) dumps, the readable anonymous and written private mappings
(heap, stacks, a library's data), never a mapping marked MADV_DONTDUMP. Mappings over
1 GiB are left out: only a sanitizer's shadow memory is that large, and a core of an ASan
build would be terabytes. Prints one count per needle, in order, then the bytes scanned."""
import re
import sys

LIMIT = 1 << 30


def mappings(pid):
    """(start, end) of each mapping a core would hold."""
    maps, current = [], None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            head = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$", line)
            if head:
                start, end = int(head.group(1), 16), int(head.group(2), 16)
                perms, inode, path = head.group(3), int(head.group(4)), head.group(5)
                private_or_anon = perms[3] == "p" or inode == 0
                special = path in ("[vvar]", "[vsyscall]", "[vdso]")
                current = None
                if perms[0] == "r" and private_or_anon and not special and \
                        end - start <= LIMIT and (inode == 0 or perms[1] == "w"):
                    current = [start, end]
                    maps.append(current)
            elif line.startswith("VmFlags:") and current is not None:
                if "dd" in line.split(":", 1)[1].split():
                    maps.remove(current)
                current = None
    return maps


def main():
    pid, needles = sys.argv[1], [n.encode() for n in sys.argv[2:]]
    counts, scanned = [0] * len(needles), 0
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for start, end in mappings(pid):
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except OSError:
                continue
            scanned += len(data)
            for i, needle in enumerate(needles):
                counts[i] += data.count(needle)
    for count in counts:
        print(count)
    print(scanned)


if __name__ == "__main__":
    main()
