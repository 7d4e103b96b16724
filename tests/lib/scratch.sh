# SPDX-License-Identifier: ISC
# tests/lib/scratch.sh: the scratch directory $TEST_TMP (and $SOCK_DIR), at_exit and the
# exit trap that runs the clean-ups and keeps the directory when a check failed; sourced by
# tests/lib.sh after tap.sh and account.sh.
# shellcheck shell=bash

_cleanups=()

# at_exit CMD...: run CMD (a single command line string) when the script exits.
at_exit()
{
	_cleanups+=("$*")
}

_on_exit()
{
	local rc=$? i
	trap - EXIT INT TERM HUP
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	if [ "$_tap_done" -eq 0 ] && [ "$rc" -eq 0 ]; then
		rc=1
	fi
	if [ "$rc" -ne 0 ] || [ "$_tap_failed" -ne 0 ]; then
		printf '# kept the test directory: %s\n' "$TEST_TMP"
	else
		rm -rf "$TEST_TMP" "$SOCK_DIR"
	fi
	exit "$rc"
}

# make_test_dir PARENT: a new scratch directory the responder's account can reach.
make_test_dir()
{
	local dir
	dir=$(mktemp -d "$1/${2:-tmp}.XXXXXX") || return 1
	chmod 0755 "$dir" && as_run_user test -x "$dir/." || { rm -rf "$dir"; return 1; }
	printf '%s\n' "$dir"
}

mkdir -p "$top_builddir/tests" || bail "cannot create $top_builddir/tests"
# Under the build tree when RUN_USER can reach it, else under /tmp.
TEST_TMP=$(make_test_dir "$top_builddir/tests") || TEST_TMP=$(make_test_dir /tmp idwise-test) ||
    bail "cannot make a test directory $RUN_USER can reach"
# Unix socket paths are limited to 107 bytes; deep build trees (distcheck) can exceed it.
SOCK_DIR=$TEST_TMP
if [ ${#TEST_TMP} -gt 80 ]; then
	SOCK_DIR=$(make_test_dir /tmp idwise-sock) || bail "mktemp failed"
fi
trap _on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
