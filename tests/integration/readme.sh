#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/readme.sh: the documentation keeps its shape. README.md is an
# introduction of at most 300 lines; every key of config-keys.c's key table has an entry in
# idwise-fcgi.conf(5) and every entry there is a key; every long option of main.c has an
# entry in idwise-fcgi(8) and every option entry there is an option. The man pages are the
# ones made in the build tree from doc/*.in. Each check is also run on a copy with one
# thing wrong, to show that it can fail. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

README_MAX_LINES=300
CONF_PAGE=$top_builddir/doc/idwise-fcgi.conf.5
DAEMON_PAGE=$top_builddir/doc/idwise-fcgi.8

# source_file NAME: the one file called NAME under src/, wherever src/ keeps it; fails
# when there is none or more than one.
source_file()
{
	local found

	found=$(find "$top_srcdir/src" -name "$1" -type f)
	[ -n "$found" ] && [ "$(printf '%s\n' "$found" | wc -l)" -eq 1 ] || return 1
	printf '%s\n' "$found"
}

# table_names FILE START: the first quoted string of each row of the C table that begins
# on the line holding START, up to its closing "};" (rows such as { "name", ... } or
# MACRO("name", ...)).
table_names()
{
	awk -v start="$2" '
		index($0, start) { inside = 1; next }
		inside && /^};/ { exit }
		inside && match($0, /^[ \t]*(\{|[A-Z_]+\()[ \t]*"[^"]+"/) {
			row = substr($0, RSTART, RLENGTH)
			sub(/^[^"]*"/, "", row)
			sub(/"$/, "", row)
			print row
		}' "$1"
}

# add_row FILE START ROW: FILE with ROW added first in the table that START begins.
add_row()
{
	awk -v start="$2" -v row="$3" '{ print } index($0, start) { print "\t" row }' "$1"
}

# page_entries PAGE ERE: the names the tag-list entries of PAGE document: the first
# parenthesized group of ERE, matched against each line.
page_entries()
{
	sed -nE "s/$2/\\1/p" "$1"
}

# Keys: ".It Cm KEY No = ..." in idwise-fcgi.conf(5).
conf_keys()
{
	page_entries "$1" '^\.It Cm ([a-z_]+) No =.*'
}

# Long options: "Fl \-NAME" anywhere in an ".It" line of idwise-fcgi(8).
daemon_options()
{
	grep -E '^\.It ' "$1" | grep -oE 'Fl \\-[a-z-]+' | sed 's/^Fl \\-//' | sort -u
}

# missing WANTED HAVE: the lines of WANTED that are not in HAVE, one per line.
missing()
{
	comm -23 <(printf '%s\n' "$1" | sort -u) <(printf '%s\n' "$2" | sort -u)
}

# among NAME LIST: NAME is one of the lines of LIST.
among()
{
	printf '%s\n' "$2" | grep -qxF -- "$1"
}

# check_covered WANTED HAVE DESC: passes when every name of WANTED is in HAVE.
check_covered()
{
	is "$(missing "$1" "$2" | paste -sd ' ')" "" "$3"
}

# ---------------------------------------------------------------------------------------
# README.md

# short_enough FILE: at most README_MAX_LINES lines.
short_enough()
{
	[ "$(wc -l <"$1")" -le "$README_MAX_LINES" ]
}

ok "README.md is at most $README_MAX_LINES lines (it has $(wc -l <"$top_srcdir/README.md"))" \
    short_enough "$top_srcdir/README.md"
{ cat "$top_srcdir/README.md"; yes '' | head -n "$README_MAX_LINES"; } >"$TEST_TMP/README.md"
ok "... and the check fails for one of $(wc -l <"$TEST_TMP/README.md") lines" \
    not short_enough "$TEST_TMP/README.md"
ok "the README keeps its quick start: bash nginx/demo.sh" \
    grep -qE '^bash nginx/demo\.sh( |$)' "$top_srcdir/README.md"
ok "... and bash tests/run.sh" grep -qE '^bash tests/run\.sh( |$)' "$top_srcdir/README.md"
ok "... and nginx/demo.sh is there to run" test -f "$top_srcdir/nginx/demo.sh"

# ---------------------------------------------------------------------------------------
# idwise-fcgi.conf(5) against config-keys.c's key table

CONFIG_C=$(source_file config-keys.c) ||
    bail "not exactly one config-keys.c under $top_srcdir/src"
KEY_TABLE='keydef keys[] = {'
ok "idwise-fcgi.conf(5) is built ($CONF_PAGE)" test -s "$CONF_PAGE"
keys=$(table_names "$CONFIG_C" "$KEY_TABLE")
key_count=$(printf '%s\n' "$keys" | grep -c .)
ok "config-keys.c's key table is found and read: $key_count keys (at least 10)" \
    test "$key_count" -ge 10
ok "... among them log, auth and status_allow_from" \
    test "$(printf '%s\n' "$keys" | grep -cxE 'log|auth|status_allow_from')" -eq 3
documented_keys=$(conf_keys "$CONF_PAGE")
check_covered "$keys" "$documented_keys" \
    "every key of config-keys.c has an entry in idwise-fcgi.conf(5)"
check_covered "$documented_keys" "$keys" \
    "every key entry of idwise-fcgi.conf(5) is a key of config-keys.c"

# The same checks on copies with one key too many, or one entry too many.
add_row "$CONFIG_C" "$KEY_TABLE" '{ "no_such_key", parse_path, 0, -1 },' \
    >"$TEST_TMP/config.c"
ok "... and the first fails for a key the page does not document" among no_such_key \
    "$(missing "$(table_names "$TEST_TMP/config.c" "$KEY_TABLE")" "$documented_keys")"
{ cat "$CONF_PAGE"; printf '.It Cm gone_key No = Ar value\n'; } >"$TEST_TMP/conf.5"
ok "... and the second for an entry of a key that is gone" among gone_key \
    "$(missing "$(conf_keys "$TEST_TMP/conf.5")" "$keys")"

# ---------------------------------------------------------------------------------------
# idwise-fcgi(8) against main.c's option table

MAIN_C=$(source_file main.c) || bail "not exactly one main.c under $top_srcdir/src"
OPTION_TABLE='struct option_def option_defs[] = {'
ok "idwise-fcgi(8) is built ($DAEMON_PAGE)" test -s "$DAEMON_PAGE"
options=$(table_names "$MAIN_C" "$OPTION_TABLE")
option_count=$(printf '%s\n' "$options" | grep -c .)
ok "main.c's long options are found and read: $option_count options (at least 10)" \
    test "$option_count" -ge 10
ok "... among them listen, check-config and allow-core-dumps" \
    test "$(printf '%s\n' "$options" | grep -cxE 'listen|check-config|allow-core-dumps')" -eq 3
documented_options=$(daemon_options "$DAEMON_PAGE")
check_covered "$options" "$documented_options" \
    "every long option of main.c has an entry in idwise-fcgi(8)"
check_covered "$documented_options" "$options" \
    "every option entry of idwise-fcgi(8) is a long option of main.c"

add_row "$MAIN_C" "$OPTION_TABLE" '{ "no-such-option", no_argument, NULL, 0 },' \
    >"$TEST_TMP/main.c"
ok "... and the first fails for an option the page does not document" among no-such-option \
    "$(missing "$(table_names "$TEST_TMP/main.c" "$OPTION_TABLE")" "$documented_options")"
{ cat "$DAEMON_PAGE"; printf '.It Fl \\-gone-option Ar n\n'; } >"$TEST_TMP/daemon.8"
ok "... and the second for an entry of an option that is gone" among gone-option \
    "$(missing "$(daemon_options "$TEST_TMP/daemon.8")" "$options")"

done_testing
