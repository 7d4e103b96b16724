#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/log-stats.sh: how long idwise-log stats, verify, head, follow and show take on a
# log of a million records.
#
#   bash bench/log-stats.sh [BUILDDIR [RECORDS]]
#
# BUILDDIR (default build/, which tests/run.sh leaves configured) must be a configured
# build tree; idwise-log and tests/mklog are built there with make when missing. Nothing
# is installed. The log (RECORDS records, default 1000000, about 600 MB) is made once
# by tests/mklog, which builds each record with the writer's own record_line, in
# BENCH_DIR (default BUILDDIR/bench-log/) and kept for the next run (remove it to make it
# again). Each command runs RUNS times (default 3) and every run's wall-clock and CPU
# times are printed. follow --once --from-seq 1 reads every record of both files as follow
# and exec do (each checked against the chain); what it prints, the log again, goes to
# /dev/null. show looks up one journey, reference number and id of the older file (it
# reads both), and stats and follow take the same journey as a filter.

set -u -o pipefail

cd "$(dirname "$0")/.." || exit 1
BUILD=${1:-build}
RECORDS=${2:-1000000}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-$BUILD/bench-log}
LOG=$DIR/events.jsonl

die()
{
	printf 'bench/log-stats.sh: %s\n' "$*" >&2
	exit 1
}

[ -f "$BUILD/Makefile" ] || die "$BUILD is not a configured build tree (run tests/run.sh, or configure it)"
make -C "$BUILD" -s idwise-log tests/mklog >/dev/null || die "make idwise-log tests/mklog failed"

# The log: two files, as after a rotation, so that verify crosses a file boundary.
if [ "$(cat "$DIR/records" 2>/dev/null)" != "$RECORDS" ]; then
	mkdir -p "$DIR" || die "cannot create $DIR"
	rm -f "$DIR/records"
	printf 'making a log of %d records in %s ...\n' "$RECORDS" "$DIR"
	start=$(date +%s%N)
	"$BUILD/tests/mklog" "$RECORDS" >"$DIR/all" || die "tests/mklog failed"
	split -n l/2 -d -a 1 "$DIR/all" "$DIR/part." || die "split failed"
	mv "$DIR/part.0" "$LOG.1" && mv "$DIR/part.1" "$LOG" && rm -f "$DIR/all" ||
	    die "cannot move the parts into place"
	printf '%s\n' "$RECORDS" >"$DIR/records"
	printf 'made in %d s\n' "$((($(date +%s%N) - start) / 1000000000))"
fi
FILES=("$LOG.1" "$LOG")
printf '\nlog: %s records, %s bytes in %s\n' "$RECORDS" \
    "$(cat "${FILES[@]}" | wc -c | tr -d ' ')" "${FILES[*]}"
printf 'machine: %s, %s CPUs\n\n' "$(uname -m)" "$(nproc)"

TIMEFORMAT='%R s wall, %U s user, %S s system'

# bench NAME ARG...: run idwise-log ARG... RUNS times, print each run's times. Its output
# goes to $OUT (default $DIR/out, whose first line is shown).
bench()
{
	local name=$1 out=${OUT:-$DIR/out} i t
	shift
	for ((i = 1; i <= RUNS; i++)); do
		t=$( { time "$BUILD/idwise-log" "$@" >"$out" 2>"$DIR/err"; } 2>&1 ) ||
		    die "idwise-log $name failed: $(cat "$out" "$DIR/err")"
		printf '%-10s run %d: %s\n' "$name" "$i" "$t"
	done
	if [ "$out" = /dev/null ]; then
		printf '%-10s says: (its output went to /dev/null)\n\n' "$name"
	else
		printf '%-10s says: %s\n\n' "$name" "$(head -c 200 "$out" | head -n 1)"
	fi
}

bench stats stats "${FILES[@]}"
bench stats-json stats --json "${FILES[@]}"
bench verify verify "${FILES[@]}"
bench head head "${FILES[@]}"
OUT=/dev/null bench follow follow --once --from-seq 1 "$LOG"

# One journey, reference number and id as tests/mklog makes them (record i: journey i/3,
# reference CUST-<i/3>-23, id <i>-...-<i*7919>), from a record a third into the log.
i=$((RECORDS / 3 / 11 * 11 + 2))	# a Finished Journey: it has an eventId
JOURNEY=$(printf '%024x' $((i / 3)))
REFERENCE=$(printf 'CUST-%06d-23' $((i / 3)))
ID=$(printf '%08x-1d3a-4c55-9e0f-%012x' "$i" $((i * 7919)))
bench show-journey show --journey "$JOURNEY" "$LOG"
bench show-ref show --reference "$REFERENCE" "$LOG"
bench show-id show --json --id "$ID" "$LOG"
bench stats-jrny stats --json --journey "$JOURNEY" "${FILES[@]}"
bench follow-jrny follow --once --from-seq 1 --journey "$JOURNEY" "$LOG"
