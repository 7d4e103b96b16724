#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/layering.sh: the layers of src/ (Makefile.am) include and link only downwards.
# src/common includes nothing of store, responder or tool; src/store nothing of the
# responder or the tool; src/responder nothing of the tool; src/tool of the responder only
# config.h (reindex reads the config to find the log). idwise-log does not link libfcgi.
# Each #include is resolved as the compiler could: next to the file, at the top of the
# tree, in each layer's directory; a header found in a layer the file may not see fails.
# Output: TAP.

top=${top_srcdir:?run the tests with make check}
build=${top_builddir:?run the tests with make check}
LAYERS="common store responder tool"
declare -A SEES=(
	[common]="common"
	[store]="common store"
	[responder]="common store responder"
	[tool]="common store tool"
)
# Headers a layer may include from a layer it does not see otherwise.
declare -A ALSO=(
	[tool]="responder/config.h"
)

count=0
failures=0
ok()
{
	count=$((count + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $count - $2"
	else
		echo "not ok $count - $2"
		failures=$((failures + 1))
	fi
}

# includes FILE: the name in each #include line of FILE, quoted or in <>.
includes()
{
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1/p' "$1"
}

# headers_of FILE NAME: the layer/header of each header of src/ that #include NAME in FILE
# could mean.
headers_of()
{
	local file=$1 name=$2 dir path layer
	for dir in "$(dirname "$file")" "$top" $(printf "$top/src/%s " $LAYERS); do
		path=$(realpath -q -e "$dir/$name") || continue
		for layer in $LAYERS; do
			case $path in
			"$(realpath "$top/src/$layer")"/*) echo "$layer/${path##*/}" ;;
			esac
		done
	done | sort -u
}

# allowed LAYER HEADER: may a file of LAYER include HEADER (layer/name)?
allowed()
{
	local layer=$1 header=$2
	case " ${SEES[$layer]} " in
	*" ${header%%/*} "*) return 0 ;;
	esac
	case " ${ALSO[$layer]} " in
	*" $header "*) return 0 ;;
	esac
	return 1
}

# check_layer LAYER: 0 if each file of src/LAYER includes only what it may; says the
# wrong includes and how many were read.
check_layer()
{
	local layer=$1 file name header seen=0 wrong=0
	for file in "$top/src/$layer"/*.[ch]; do
		while read -r name; do
			seen=$((seen + 1))
			for header in $(headers_of "$file" "$name"); do
				allowed "$layer" "$header" && continue
				echo "# src/$layer/${file##*/}: #include \"$name\" is $header"
				wrong=$((wrong + 1))
			done
		done < <(includes "$file")
	done
	echo "# src/$layer: $seen includes read, $wrong not allowed"
	[ "$seen" -gt 0 ] && [ "$wrong" -eq 0 ]
}

# needed PROGRAM: the shared libraries the built program names (DT_NEEDED).
needed()
{
	if command -v objdump >/dev/null; then
		objdump -p "$1" | awk '$1 == "NEEDED" { print $2 }'
	else
		readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
	fi
}

echo "1..7"
check_layer common
ok $? "src/common includes only src/common"
check_layer store
ok $? "src/store includes only src/common and src/store"
check_layer responder
ok $? "src/responder includes nothing of src/tool"
check_layer tool
ok $? "src/tool includes of src/responder only config.h"

libs=$(needed "$build/idwise-fcgi")
echo "$libs" | grep -q '^libfcgi'
ok $? "idwise-fcgi links libfcgi (so that the next check can see it)"
libs=$(needed "$build/idwise-log")
echo "# idwise-log needs: $(echo $libs)"
! echo "$libs" | grep -q '^libfcgi' && [ -n "$libs" ]
ok $? "idwise-log does not link libfcgi"
! sed -n '/^idwise_log_LDADD *=/,/[^\\]$/p' "$build/Makefile" | grep -q 'FCGI'
ok $? "idwise-log's link line (idwise_log_LDADD) has no \$(FCGI_LIBS)"
exit $((failures > 0))
