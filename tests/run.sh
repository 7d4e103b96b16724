#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/run.sh: the whole test suite, from a clean checkout.
#
#   1. autoreconf -fi
#   2. build/       gcc, out of tree:      ../configure --enable-werror && make -j2 && make check
#   3. build/       the Debian package: make check TESTS=tests/integration/deb.sh, alone (it
#                   builds the .deb, installs, upgrades and purges it on this machine)
#   4. build-asan/  clang with ASan+UBSan: ../configure --enable-werror && make -j2 && make check
#   5. build/       valgrind memcheck of integration scripts (tests/valgrind.sh)
#   6. build-fuzz/  each libFuzzer harness for FUZZ_SECONDS (default 60; fuzz/run.sh)
#   7. build/       make distcheck         (--enable-werror too; its own tests must pass; not in the sum)
#
# Ends with one line "N passed, N failed": every TAP result of phases 2, 3 and 4 (from the
# .trs files: PASS counts as passed; FAIL, XPASS, ERROR and SKIP as failed; XFAIL, a known bug
# marked TODO, counts as neither), every TAP result of phase 5, one per harness of phase 6,
# plus 1 failed for each phase that cannot configure or build, or whose make check fails
# without a failing test to show for it, and 1 for a failed distcheck. Exit status 0 only
# when nothing failed and something passed.

set -u -o pipefail

cd "$(dirname "$0")/.." || exit 1
SRC=$PWD
ASAN_CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all'

passed=0
failed=0
failures=()		# "what failed|log file to show"

say()	# a phase's heading, with the time the suite has taken so far
{
	printf '\n=== %s (%d s in)\n' "$*" "$SECONDS"
}

# fail_phase WHAT LOGFILE: a phase that failed as a whole counts as one failure.
fail_phase()
{
	failed=$((failed + 1))
	failures+=("$1|$2")
}

# count_trs FILE PHASE: add up the TAP results of one .trs file.
count_trs()
{
	local trs=$1 phase=$2 p f
	p=$(grep -c '^:test-result: PASS' "$trs")
	f=$(grep -cE '^:test-result: (FAIL|XPASS|ERROR|SKIP)' "$trs")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failures+=("$phase: ${trs%.trs} ($f failed)|${trs%.trs}.log|$trs")
	fi
}

# count_results DIR PHASE: add up the TAP results of the .trs files under DIR.
count_results()
{
	local dir=$1 phase=$2 trs
	while IFS= read -r trs; do
		count_trs "$trs" "$phase"
	done < <(find "$dir" -path "$dir/idwise-fcgi-*" -prune -o -name '*.trs' -print | sort)
}

clean_dir()
{
	[ -e "$1" ] || return 0
	chmod -R u+w "$1" 2>/dev/null		# distcheck leaves read-only trees behind
	rm -rf "$1"
}

# build_and_check DIR PHASE [CONFIGURE-ARG...]: configure, make, make check in DIR.
build_and_check()
{
	local dir=$1 phase=$2 before rc
	shift 2
	clean_dir "$SRC/$dir"
	mkdir -p "$SRC/$dir"
	say "$phase: configure"
	if ! (cd "$SRC/$dir" && ../configure "$@") >"$SRC/$dir/run-configure.log" 2>&1; then
		cat "$SRC/$dir/run-configure.log"
		fail_phase "$phase: configure" "$SRC/$dir/config.log"
		return 1
	fi
	say "$phase: make"
	if ! (cd "$SRC/$dir" && make -j2) 2>&1 | tee "$SRC/$dir/run-make.log"; then
		fail_phase "$phase: make" "$SRC/$dir/run-make.log"
		return 1
	fi
	say "$phase: make check"
	(cd "$SRC/$dir" && make -j2 check) 2>&1 | tee "$SRC/$dir/run-check.log"
	rc=$?
	before=$failed
	count_results "$SRC/$dir" "$phase"
	if [ "$rc" -ne 0 ] && [ "$failed" -eq "$before" ]; then
		fail_phase "$phase: make check failed with no failing test" "$SRC/$dir/run-check.log"
	fi
}

# deb: tests/integration/deb.sh in build/, alone: it installs the package on this machine
# (and removes it, and the user it made, again). Its TAP results count.
deb_phase()
{
	local trs=$SRC/build/tests/integration/deb.trs log=$SRC/build/run-deb.log
	say "the Debian package"
	if [ ! -f "$SRC/build/Makefile" ]; then
		fail_phase "deb: build/ is not configured" /dev/null
		return 1
	fi
	rm -f "$trs"
	(cd "$SRC/build" && make check TESTS=tests/integration/deb.sh) 2>&1 | tee "$log"
	if [ -f "$trs" ]; then
		count_trs "$trs" "deb"
	else
		fail_phase "deb: tests/integration/deb.sh did not run" "$log"
	fi
}

# valgrind: tests/valgrind.sh over the gcc build; its TAP lines count.
valgrind_phase()
{
	local log=$SRC/build/run-valgrind.log p f
	say "valgrind memcheck"
	if [ ! -x "$SRC/build/idwise-fcgi" ]; then
		fail_phase "valgrind: build/ has no idwise-fcgi" /dev/null
		return 1
	fi
	bash "$SRC/tests/valgrind.sh" "$SRC/build" 2>&1 | tee "$log"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failures+=("valgrind ($f failed)|$log")
	elif [ "$p" -eq 0 ]; then
		fail_phase "valgrind: no result" "$log"
	fi
}

# fuzz: fuzz/run.sh; one line per harness, "fuzz-NAME: ok, ..." or "...: FAILED ...".
fuzz_phase()
{
	local log=$SRC/build-fuzz-run.log p f
	say "fuzz: ${FUZZ_SECONDS:-60}s per harness"
	bash "$SRC/fuzz/run.sh" "${FUZZ_SECONDS:-60}" 2>&1 | tee "$log"
	p=$(grep -cE '^fuzz-[a-z]+: ok' "$log")
	f=$(grep -cE '^fuzz-[a-z]+: FAILED' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failures+=("fuzz ($f harnesses found something)|$log")
	elif [ "$p" -eq 0 ]; then
		fail_phase "fuzz: the harnesses did not build or run" "$log"
	fi
}

distcheck()
{
	say "distcheck"
	if [ ! -f "$SRC/build/Makefile" ]; then
		fail_phase "distcheck: build/ is not configured" /dev/null
		return 1
	fi
	if ! (cd "$SRC/build" && make distcheck) >"$SRC/build/run-distcheck.log" 2>&1; then
		fail_phase "distcheck" "$SRC/build/run-distcheck.log"
		local log
		# the failing tests' logs inside distcheck's own tree, if any
		while IFS= read -r log; do
			failures+=("  (inside distcheck) ${log%.trs}|${log%.trs}.log")
		done < <(grep -lE '^:test-result: (FAIL|XPASS|ERROR|SKIP)' -r "$SRC/build" \
		    --include='*.trs' 2>/dev/null | grep '/idwise-fcgi-' || true)
		return 1
	fi
	tail -n 5 "$SRC/build/run-distcheck.log"
}

report()
{
	local f what log trs
	if [ "${#failures[@]}" -gt 0 ]; then
		say "what failed"
		for f in "${failures[@]}"; do
			IFS='|' read -r what log trs <<<"$f"
			printf -- '--- %s\n' "$what"
			if [ -n "$trs" ] && [ -f "$log" ]; then
				grep -E '^(FAIL|XPASS|ERROR|SKIP): ' "$log" | head -n 40
			fi
			if [ -f "$log" ] && [ "$log" != /dev/null ]; then
				printf -- '--- tail of %s\n' "$log"
				tail -n 30 "$log"
			fi
		done
	fi
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

say "autoreconf -fi"
if ! autoreconf -fi; then
	fail_phase "autoreconf -fi" /dev/null
	report
	exit 1
fi

build_and_check build "gcc" CC=gcc --enable-werror
deb_phase
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
build_and_check build-asan "clang asan+ubsan" CC=clang CFLAGS="$ASAN_CFLAGS" --enable-werror
unset ASAN_OPTIONS UBSAN_OPTIONS
valgrind_phase
fuzz_phase
distcheck

report
