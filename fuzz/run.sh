#!/bin/bash
# SPDX-License-Identifier: ISC
# fuzz/run.sh SECONDS [HARNESS...]: build the libFuzzer harnesses out of tree in build-fuzz/
# (clang, ./configure --enable-fuzzing --enable-werror: ASan+UBSan, coverage) and run each
# for SECONDS (-max_total_time) from its committed corpus fuzz/corpus/NAME/ (read only) and
# a working corpus build-fuzz/corpus-NAME/ (kept between runs). HARNESS: request, config,
# verify, fcgi (default all). Prints one line per harness (runs, exec/s, corpus size) and
# fails when a harness cannot be built or finds anything: a crash, a sanitizer report, a
# leak, a timeout or an oracle's abort. The input is then in build-fuzz/artifacts-NAME/;
# replay it with build-fuzz/fuzz/fuzz-NAME FILE, and once fixed, commit it as
# fuzz/corpus/NAME/regress-WHAT so that every make check replays it.
set -u -o pipefail

cd "$(dirname "$0")/.." || exit 1
SRC=$PWD
SECS=${1:?usage: fuzz/run.sh SECONDS [request|config|verify|fcgi]...}
shift
HARNESSES=("$@")
[ "${#HARNESSES[@]}" -gt 0 ] || HARNESSES=(request config verify fcgi)
B=$SRC/build-fuzz

declare -A MAX_LEN=([request]=4096 [config]=2048 [verify]=8192 [fcgi]=16384)

if [ ! -x "$SRC/configure" ]; then
	autoreconf -fi || exit 1
fi
if ! grep -q -- '--enable-fuzzing' "$B/config.status" 2>/dev/null ||
    ! grep -q -- '--enable-werror' "$B/config.status"; then
	rm -rf "$B"
	mkdir -p "$B"
	if ! (cd "$B" && ../configure --enable-fuzzing --enable-werror CC=clang) \
	    >"$B/configure.log" 2>&1; then
		tail -n 20 "$B/configure.log"
		echo "fuzz: configure --enable-fuzzing failed (see $B/config.log)"
		exit 1
	fi
fi
targets=()
for h in "${HARNESSES[@]}"; do
	targets+=("fuzz/fuzz-$h")
done
if ! (cd "$B" && make -j2 "${targets[@]}") >"$B/make.log" 2>&1; then
	tail -n 30 "$B/make.log"
	echo "fuzz: the harnesses did not build"
	exit 1
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=0
for h in "${HARNESSES[@]}"; do
	work=$B/corpus-$h
	art=$B/artifacts-$h
	log=$B/fuzz-$h.log
	mkdir -p "$work" "$art"
	dict=()
	[ -f "$SRC/fuzz/$h.dict" ] && dict=(-dict="$SRC/fuzz/$h.dict")
	"$B/fuzz/fuzz-$h" -max_total_time="$SECS" -max_len="${MAX_LEN[$h]:-4096}" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" \
	    "$work" "$SRC/fuzz/corpus/$h" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	size=$(find "$work" -type f | wc -l)
	found=$(find "$art" -type f | head -n 5)
	if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
		failed=$((failed + 1))
		grep -E 'check failed|ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -n 20
		echo "fuzz-$h: FAILED (exit $rc) after ${runs:-?} runs; log $log"
		[ -z "$found" ] || printf 'fuzz-%s: input: %s\n' "$h" $found
	else
		echo "fuzz-$h: ok, $runs runs in ${SECS}s, $speed exec/s, working corpus $size inputs"
	fi
done
exit $((failed > 0))
