#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/merkle.sh: what the Merkle tree costs on a log of a million records: checkpoint
# (the whole tree, and going on from the last one signed), prove (inclusion and
# consistency) and verify-proof, each recomputing from the log's lines, no side file.
#
#   bash bench/merkle.sh [BUILDDIR [RECORDS]]
#
# The log is bench/log-stats.sh's (BUILDDIR/bench-log/, made once by tests/mklog: two
# files, as after a rotation), so that script makes it if it is missing. Keys, states and
# proofs go into a temporary directory, removed at the end. Each command runs RUNS times
# (default 3) and every run's wall-clock and CPU times are printed.

set -u -o pipefail

cd "$(dirname "$0")/.." || exit 1
BUILD=${1:-build}
RECORDS=${2:-1000000}
RUNS=${RUNS:-3}
DIR=$BUILD/bench-log
LOG=$DIR/events.jsonl

die()
{
	printf 'bench/merkle.sh: %s\n' "$*" >&2
	exit 1
}

[ -f "$BUILD/Makefile" ] || die "$BUILD is not a configured build tree (run tests/run.sh, or configure it)"
make -C "$BUILD" -s idwise-log tests/mklog >/dev/null || die "make idwise-log tests/mklog failed"
if [ "$(cat "$DIR/records" 2>/dev/null)" != "$RECORDS" ]; then
	RUNS=0 bash bench/log-stats.sh "$BUILD" "$RECORDS" >/dev/null 2>&1 || die "bench/log-stats.sh could not make the log"
fi
FILES=("$LOG.1" "$LOG")
HALF=$(wc -l <"$LOG.1")
W=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$W"' EXIT
IDLOG=$BUILD/idwise-log

printf 'log: %s records (%s in %s), %s bytes\n' "$RECORDS" "$HALF" "$LOG.1" \
    "$(cat "${FILES[@]}" | wc -c | tr -d ' ')"
printf 'machine: %s, %s CPUs, %s\n\n' "$(uname -m)" "$(nproc)" \
    "$(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$IDLOG" keygen --name bench.example/idwise "$W/k" >/dev/null || die "keygen failed"

TIMEFORMAT='%R s wall, %U s user, %S s system'

# bench NAME OUT ARG...: run idwise-log ARG... RUNS times (BEFORE, if set, before each).
bench()
{
	local name=$1 out=$2 i t
	shift 2
	for ((i = 1; i <= RUNS; i++)); do
		[ -n "${BEFORE:-}" ] && eval "$BEFORE"
		t=$( { time "$IDLOG" "$@" >"$out" 2>"$W/err"; } 2>&1 ) ||
		    die "idwise-log $name failed: $(cat "$W/err")"
		printf '%-26s run %d: %s\n' "$name" "$i" "$t"
	done
	printf '%-26s says: %s\n\n' "$name" "$(head -n 3 "$out" | tr '\n' ' ' | cut -c1-110)"
}

# The old half of the log, signed apart: the older checkpoint of the consistency proof.
"$IDLOG" checkpoint --key "$W/k" --state "$W/half.state" "$LOG.1" >"$W/half" || die "checkpoint of the half failed"

BEFORE='rm -f "$W/k.state"' bench "checkpoint, first" "$W/c" checkpoint --key "$W/k" "${FILES[@]}"
bench "checkpoint, full again" "$W/c" checkpoint --key "$W/k" "${FILES[@]}"
bench "checkpoint, newest file" "$W/c" checkpoint --key "$W/k" "$LOG"
bench "prove record $((RECORDS / 2 + 7))" "$W/p" prove --checkpoint "$W/c" "$((RECORDS / 2 + 7))" "${FILES[@]}"
bench "prove consistency" "$W/q" prove --consistency "$W/half" "$W/c" "${FILES[@]}"
bench "verify-proof inclusion" "$W/v" verify-proof --key "$W/k.pub" "$W/p"
bench "verify-proof consistency" "$W/v" verify-proof --key "$W/k.pub" --old "$W/half" "$W/q"
bench "verify (the chain), for scale" "$W/v" verify "${FILES[@]}"
