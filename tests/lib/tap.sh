# SPDX-License-Identifier: ISC
# tests/lib/tap.sh: TAP output (ok, is, isnt, like, diag, bail, done_testing) for the
# integration tests; sourced by tests/lib.sh.
# shellcheck shell=bash

_tap_count=0
_tap_failed=0
_tap_done=0

# TODO=REASON before a check marks it as a known bug (TAP "# TODO"): its failure is an
# expected failure (XFAIL), and once it passes (XPASS) the suite fails until the mark goes.
TODO=

_tap_result()	# _tap_result PASS DESC
{
	local todo=
	set -- "$1" "${2//#/\\#}"	# a bare "#" would start a TAP directive
	[ -z "$TODO" ] || todo=" # TODO ${TODO//#/}"
	_tap_count=$((_tap_count + 1))
	if [ "$1" -eq 1 ]; then
		printf 'ok %d - %s%s\n' "$_tap_count" "$2" "$todo"
	else
		[ -n "$todo" ] || _tap_failed=$((_tap_failed + 1))
		printf 'not ok %d - %s%s\n' "$_tap_count" "$2" "$todo"
	fi
}

# diag LINE...: TAP diagnostics, one "#" line per argument (and per line in it).
diag()
{
	local arg line
	for arg in "$@"; do
		while IFS= read -r line; do
			printf '#   %s\n' "$line"
		done <<<"$arg"
	done
}

# not CMD [ARG...]: succeeds when CMD fails (for "ok DESC not CMD").
not()
{
	! "$@"
}

# quiet CMD [ARG...]: CMD with its stdout discarded (for "ok DESC quiet CMD").
quiet()
{
	"$@" >/dev/null
}

# ok DESC CMD [ARG...]: passes when CMD exits 0.
ok()
{
	local desc=$1
	shift
	if "$@"; then
		_tap_result 1 "$desc"
		return 0
	fi
	_tap_result 0 "$desc"
	return 1
}

# is GOT WANT DESC: passes when the strings are equal.
is()
{
	if [ "$1" = "$2" ]; then
		_tap_result 1 "$3"
		return 0
	fi
	_tap_result 0 "$3"
	diag "got:  '$1'" "want: '$2'"
	return 1
}

# isnt GOT UNWANTED DESC
isnt()
{
	if [ "$1" != "$2" ]; then
		_tap_result 1 "$3"
		return 0
	fi
	_tap_result 0 "$3"
	diag "got '$1', which it must not be"
	return 1
}

# like GOT ERE DESC: passes when GOT matches the extended regular expression.
like()
{
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		_tap_result 1 "$3"
		return 0
	fi
	_tap_result 0 "$3"
	diag "got:  '$1'" "want: match of /$2/"
	return 1
}

# bail MSG: abort the script; the TAP driver reports an error.
bail()
{
	printf 'Bail out! %s\n' "$*"
	_tap_failed=$((_tap_failed + 1))
	exit 1
}

# done_testing: print the plan; a script that checked nothing fails.
done_testing()
{
	_tap_done=1
	if [ "$_tap_count" -eq 0 ]; then
		_tap_result 0 "the script ran at least one check"
	fi
	printf '1..%d\n' "$_tap_count"
	[ "$_tap_failed" -eq 0 ] || exit 1
	exit 0
}
