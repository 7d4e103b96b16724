#!/bin/bash
# SPDX-License-Identifier: ISC
# tree.sh: the rules of HACKING.md that a script can check, over src/: every file opens with
# the SPDX line (and every C, shell and Python file of tests/, fuzz/, bench/ and the
# scripts carries it) and a purpose line; no file is over 600 lines; a file over 300 lines has
# dividers between its parts; no comment or message cites a section of the spec (which is
# not in the repository) or a README heading (the man pages are the reference).
set -u

src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/src
n=0
failed=0

result()
{
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
	fi
}

# check WHAT LIST: ok when LIST (one offender a line) is empty.
check()
{
	if [ -z "$2" ]; then
		result ok "$1"
	else
		result fail "$1" "$2"
	fi
}

mapfile -t files < <(cd "$src" && find . -name '*.[ch]' | sed 's|^\./||' | sort)
if [ "${#files[@]}" -lt 20 ]; then
	echo "Bail out! only ${#files[@]} source files under $src"
	exit 1
fi

no_spdx= no_purpose= too_long= no_divider=
for f in "${files[@]}"; do
	path=$src/$f
	[ "$(head -n 1 "$path")" = "/* SPDX-License-Identifier: ISC */" ] ||
		no_spdx+="$f"$'\n'
	# The purpose line: "/* NAME: ..." or "/*" then " * NAME: ...", NAME the file's name.
	name=$(basename "$f")
	sed -n '2,3p' "$path" | grep -qE "^(/\*| \*) $name: " || no_purpose+="$f"$'\n'
	lines=$(wc -l <"$path")
	[ "$lines" -le 600 ] || too_long+="$f: $lines lines"$'\n'
	if [ "$lines" -gt 300 ] && ! grep -qE '^/\* -{3,} .* -{3,} \*/$' "$path"; then
		no_divider+="$f: $lines lines"$'\n'
	fi
done
check "every file in src/ opens with the SPDX line (${#files[@]} files)" "${no_spdx%$'\n'}"
check "every file's second line says what it holds" "${no_purpose%$'\n'}"
check "no file in src/ is over 600 lines" "${too_long%$'\n'}"
check "every file over 300 lines has dividers between its parts" "${no_divider%$'\n'}"

top=$(dirname "$src")

# The other code of the tree (tests, fuzzing, benchmarks, scripts): the SPDX line first, or
# second under a "#!" line.
mapfile -t others < <(cd "$top" && find tests fuzz bench nginx .ci \
    \( -name '*.[ch]' -o -name '*.sh' -o -name '*.py' -o -path .ci/run \) -type f \
    2>/dev/null | sort)
no_spdx=
for f in "${others[@]}"; do
	head -n 2 "$top/$f" | grep -qE '^(/\*|#) SPDX-License-Identifier: ISC( \*/)?$' ||
		no_spdx+="$f"$'\n'
done
if [ "${#others[@]}" -lt 20 ]; then
	result fail "the tests, fuzz and bench code is there" "only ${#others[@]} files"
else
	check "every other C, shell and Python file carries the SPDX line (${#others[@]} files)" \
	    "${no_spdx%$'\n'}"
fi

cites=$(cd "$top" && grep -nE 'SPEC *§|SPEC section' -r src tests fuzz bench doc \
    --exclude=tree.sh | sed 's|^\./||')
check "no comment, message or page cites a section of the spec" "$cites"
readme=$(cd "$src" && grep -nE 'README' -r --include='*.[ch]' . | sed 's|^\./||')
check "no comment or message in src/ sends the reader to the README" "$readme"

echo "1..$n"
[ "$failed" -eq 0 ]
