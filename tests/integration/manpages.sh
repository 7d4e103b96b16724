#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/manpages.sh: the man pages are the reference, so they are checked
# against the code: every page in doc/ formats without a warning (groff -ww and mandoc's
# lint), is installed, and sends nobody to the README or the spec; idwise-log(1) has every
# command of idwise-log's table and every option of each; idwise-events(5) has every member
# the writer puts in a record, in the writer's order. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

MKLOG=$top_builddir/tests/mklog
[ -x "$MKLOG" ] || bail "$MKLOG is not built"
command -v groff >/dev/null || bail "groff is not installed (.ci/packages: groff-base)"
command -v mandoc >/dev/null || bail "mandoc is not installed (.ci/packages: mandoc)"
command -v jq >/dev/null || bail "jq is not installed"

DOC=$top_srcdir/doc
LOG_PAGE=$DOC/idwise-log.1
EVENTS_PAGE=$DOC/idwise-events.5
[ -f "$LOG_PAGE" ] || bail "no $LOG_PAGE"
[ -f "$EVENTS_PAGE" ] || bail "no $EVENTS_PAGE"

# src_file NAME: the source file of that name, wherever under src/ it is.
src_file()
{
	find "$top_srcdir/src" -name "$1" -type f | head -n 1
}

# defining_file PATTERN: the C file under src/ with a line matching PATTERN (grep -E).
defining_file()
{
	find "$top_srcdir/src" -name '*.[ch]' -type f -exec grep -lE -- "$1" {} + | head -n 1
}

# --- every page: formats cleanly, is installed, cites no README or spec -------------------

# The pages: plain ones in the source tree, and the ones made from a .in in the build tree.
PAGES=()
for f in "$DOC"/*.[1-9]; do
	[ -f "$f" ] && [ ! -f "$f.in" ] && PAGES+=("$f")	# made from a .in: below
done
for f in "$DOC"/*.[1-9].in; do
	[ -f "$f" ] || continue
	built=$top_builddir/doc/$(basename "${f%.in}")
	ok "$(basename "$f"): built as $built" test -f "$built" && PAGES+=("$built")
done
[ "${#PAGES[@]}" -ge 2 ] || bail "found no man pages in $DOC"

# installed NAME: is doc/NAME in a *_MANS variable of Makefile.am (so make install and the
# tarball have it)?
installed()
{
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$top_srcdir/Makefile.am" |
	    grep -E '^[a-z0-9_]*MANS[[:space:]]*[+]?=' | grep -qE "(^|[[:space:]=])doc/$1([[:space:]]|\$)"
}

for page in "${PAGES[@]}"; do
	name=$(basename "$page")
	# Every warning but "can't break line": the pages made from doc/*.in carry the
	# configured paths, and a long prefix (make distcheck's) is one word troff cannot break.
	out=$(groff -mandoc -ww -Wbreak -z "$page" 2>&1)
	is "$out" "" "$name: groff -mandoc -ww warns of nothing (but of a path too long to break)"
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	is "$out" "" "$name: mandoc -T lint -W warning finds nothing"
	ok "$name: installed (a *_MANS variable of Makefile.am names it)" installed "$name"
	out=$(grep -nE 'README|SPEC' "$page")
	is "$out" "" "$name: sends nobody to the README or the spec"
done

# --- idwise-log(1): every command and every option ---------------------------------------

IDWISE_LOG_C=$(src_file idwise-log.c)
[ -n "$IDWISE_LOG_C" ] || bail "no idwise-log.c under $top_srcdir/src"

# The command table: { "name", cmd_fn, ...
COMMANDS=$(sed -n 's/^[[:space:]]*{[[:space:]]*"\([a-z][a-z-]*\)",[[:space:]]*cmd_[a-z_]*,.*/\1/p' \
    "$IDWISE_LOG_C")
like "$(echo $COMMANDS)" '^[a-z].* [a-z]' "the command table of idwise-log.c lists commands"

# The page as text, without bold and underlining.
RENDERED=$(mandoc -T ascii "$LOG_PAGE" | sed 's/.\x08//g')

# synopsis_of NAME: the rendered SYNOPSIS lines of "idwise-log NAME".
synopsis_of()
{
	awk -v cmd="$1" '
		/^[A-Z]/ { in_syn = ($1 == "SYNOPSIS"); next }
		!in_syn { next }
		/^     idwise-log / { mine = ($2 == cmd) }
		mine' <<<"$RENDERED"
}

# option_names: the long option names of the getopt_long rows in the text on stdin.
option_names()
{
	sed -n 's/.*{[[:space:]]*"\([a-z][a-z-]*\)",[[:space:]]*[a-z]*_argument.*/\1/p'
}

# macro_text MACRO: the #define of MACRO under src/, to its last continued line.
macro_text()
{
	local def
	def=$(defining_file "#define[[:space:]]+$1([[:space:]]|\$)")
	[ -n "$def" ] && sed -n "/#define[[:space:]]*$1/,/^[^\\\\]*\$/p" "$def"
}

# long_options_in TEXT: the long options of the rows in TEXT, and of the tables it takes
# in by macro (CONSUME_LONG_OPTIONS, FILTER_LOOKUP_LONG_OPTIONS), and those take in.
long_options_in()
{
	local macro
	option_names <<<"$1"
	for macro in $(grep -oE '^[[:space:]]*[A-Z][A-Z_]*_LONG_OPTIONS' <<<"$1"); do
		long_options_in "$(macro_text "$macro")"
	done
}

# long_options FILE: the long options of the getopt_long tables in FILE, macros included.
long_options()
{
	long_options_in "$(cat "$1")"
}

# short_options FILE: the letters of the getopt() and getopt_long() option strings in FILE.
short_options()
{
	grep -oE 'getopt(_long)?\([a-z]+, *[a-z]+, *"[^"]*"' "$1" | sed 's/.*"\(.*\)"/\1/' |
	    tr -d ':+-' | grep -o '[[:alnum:]]'
}

# has_word TEXT WORD: does WORD (an option) stand alone in TEXT?
has_word()
{
	grep -qE -- "(^|[^-[:alnum:]])$2([^-[:alnum:]]|\$)" <<<"$1"
}

# described OPTION: has the page an .It entry for it (".It Fl -cursor", ".It Fl c")?
described()
{
	grep -qE "^\\.It Fl \\\\?$1([[:space:]]|\$)" "$LOG_PAGE"
}

for cmd in $COMMANDS; do
	ok "idwise-log.1: .Cm $cmd" grep -qE "^\\.Cm $cmd( |\$)" "$LOG_PAGE"
	syn=$(synopsis_of "$cmd")
	isnt "$syn" "" "idwise-log.1: a SYNOPSIS line for idwise-log $cmd"
	file=$(defining_file "^cmd_${cmd//-/_}\\(")
	isnt "$file" "" "the function of idwise-log $cmd is found under src/" || continue
	opts=$(long_options "$file")
	shorts=$(short_options "$file")
	for opt in $opts; do
		ok "idwise-log.1: $cmd --$opt in the SYNOPSIS" has_word "$syn" "--$opt"
		ok "idwise-log.1: --$opt has an .It entry" described "-$opt"
	done
	for opt in $shorts; do
		ok "idwise-log.1: $cmd -$opt in the SYNOPSIS" has_word "$syn" "-$opt"
		ok "idwise-log.1: -$opt has an .It entry" described "$opt"
	done
done

# follow and exec share their options: the shared table must have been found.
EXEC_OPTS=$(long_options "$(defining_file '^cmd_exec\(')" | sort | tr '\n' ' ')
like "$EXEC_OPTS" '^(.* )?backoff (.* )?cursor (.* )?since ' \
    "exec's options include its own (backoff) and the shared ones (cursor, since)"
like "$EXEC_OPTS" '(^| )id (.* )?journey (.* )?outcome (.* )?reference (.* )?type ' \
    "and the filters the shared table takes in by macro (type, outcome, journey, id, reference)"
SHOW_OPTS=$(long_options "$(defining_file '^cmd_show\(')" | sort | tr '\n' ' ')
is "$SHOW_OPTS" "id journey json reference " "show's options: its own, and the lookups by macro"

# The dispatcher's own options: strcmp(argv[1], "--help") ...
SYNOPSIS=$(awk '/^[A-Z]/ { s = ($1 == "SYNOPSIS"); next } s' <<<"$RENDERED")
DISPATCH=$(grep -oE 'strcmp\(argv\[[0-9]\], *"-[^"]*"' "$IDWISE_LOG_C" | sed 's/.*"\(.*\)"/\1/' |
    sort -u)
like "$(echo $DISPATCH)" '--help' "idwise-log.c: the dispatcher's own options are found"
for opt in $DISPATCH; do
	ok "idwise-log.1: $opt in the SYNOPSIS" has_word "$SYNOPSIS" "$opt"
done

# --- idwise-events(5): every member the writer emits, in its order -----------------------

# tests/mklog makes records with the writer's own record_line; every 100th is a conflict,
# so it has every member there is.
"$MKLOG" 200 >"$TEST_TMP/log.jsonl" || bail "mklog failed"
WRITER=$(grep -m 1 '"conflict":true' "$TEST_TMP/log.jsonl" | jq -r 'keys_unsorted | join(" ")')
like "$WRITER" '^v seq .* prev$' "mklog wrote a record with a conflict member"

# The .It Li entries of the page's "Members" subsection, in their order.
PAGE_MEMBERS=$(awk '
	/^\.S[hs] / { in_members = ($0 == ".Ss Members"); next }
	in_members && /^\.It Li / { print $3 }' "$EVENTS_PAGE" | tr '\n' ' ')
PAGE_MEMBERS=${PAGE_MEMBERS% }
for member in $WRITER; do
	ok "idwise-events.5: member $member documented" has_word "$PAGE_MEMBERS" "$member"
done
is "$PAGE_MEMBERS" "$WRITER" "idwise-events.5: the members in the writer's order, and no others"

done_testing
