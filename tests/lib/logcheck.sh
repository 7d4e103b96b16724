# SPDX-License-Identifier: ISC
# tests/lib/logcheck.sh: reading the event log back (log_count, log_record, log_last,
# log_state, rotated_files), the chain check (check_chain) and what must not be in a file
# (no_sanitizer_reports, no_line_in, no_secret_in); sourced by tests/lib.sh.
# shellcheck shell=bash

log_count()
{
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# log_record LOG SEQ [JQ-FILTER]: the record with that seq (compact), or FILTER of it (-r).
log_record()
{
	jq -r --argjson s "$2" "select(.seq == \$s) | ${3:-tojson}" "$1" 2>/dev/null
}

# log_last LOG [JQ-FILTER]
log_last()
{
	tail -n 1 "$1" | jq -r "${2:-tojson}" 2>/dev/null
}

# log_state LOG: a fingerprint of the log (lines and hash) to see that nothing changed.
log_state()
{
	if [ -f "$1" ]; then
		printf '%s %s\n' "$(log_count "$1")" "$(sha256sum <"$1" | cut -d' ' -f1)"
	else
		echo absent
	fi
}

# line_hash LOG N: hex SHA-256 of line N including its newline.
line_hash()
{
	sed -n "$2{p;q}" "$1" | sha256sum | cut -d' ' -f1
}

# check_chain LOG...: the files (oldest first) hold complete lines, each a JSON record with
# seq 1, 2, 3... and prev = SHA-256 of the previous line with its \n (64 zeros first). The
# hashes come from sha256sum or tests/line-sha256, never from idwise-fcgi's own code.
# Returns 0 when intact; otherwise says why (diag) and returns 1.
check_chain()
{
	local dir f n
	dir=$(mktemp -d "$TEST_TMP/chain.XXXXXX") || return 1
	for f in "$@"; do
		[ -s "$f" ] || { diag "$f: missing or empty"; return 1; }
		[ "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' ')" = 0a ] ||
		    { diag "$f: last line is not complete"; return 1; }
		cat "$f" >>"$dir/all"
	done
	n=$(log_count "$dir/all")
	if [ -x "$LINE_SHA256" ]; then
		"$LINE_SHA256" <"$dir/all" >"$dir/hashes"
	else
		# one file per line, so that one sha256sum run hashes every line with its \n
		(cd "$dir" && split -l 1 -a 9 -d all l. && sha256sum l.*) | cut -d' ' -f1 \
		    >"$dir/hashes"
	fi
	[ "$(log_count "$dir/hashes")" -eq "$n" ] || { diag "could not hash the lines"; return 1; }
	if ! jq -R -r 'fromjson | if type == "object" then "\(.seq) \(.prev)"
	    else error("not an object") end' "$dir/all" >"$dir/fields" 2>"$dir/jq.err"; then
		diag "a line is not a JSON object: $(head -n 1 "$dir/jq.err")"
		return 1
	fi
	awk -v zero="$ZERO_HASH" '
		NR == FNR { h[FNR] = $1; next }
		{
			want = FNR == 1 ? zero : h[FNR - 1]
			if ($1 != FNR "") { printf "line %d: seq %s, want %d\n", FNR, $1, FNR; bad = 1; exit }
			if ($2 != want) { printf "line %d: prev %s, want %s\n", FNR, $2, want; bad = 1; exit }
		}
		END { exit bad }' "$dir/hashes" "$dir/fields" >"$dir/why" ||
	    { diag "$(cat "$dir/why")"; return 1; }
	rm -rf "$dir"
	return 0
}

# no_sanitizer_reports FILE...: none of the stderr files holds an ASan/UBSan/LSan report.
no_sanitizer_reports()
{
	local hits
	hits=$(cat "$@" 2>/dev/null | grep -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' |
	    head -n 5)
	[ -z "$hits" ] || { diag "$hits"; return 1; }
}

# no_line_in FILE ERE: no line of FILE matches ERE (the first few that do are shown).
no_line_in()
{
	local hits
	hits=$(grep -E -- "$2" "$1" 2>/dev/null | head -n 5)
	[ -z "$hits" ] || { diag "$hits"; return 1; }
}

# no_secret_in FILE...: none of the files contains any configured secret.
no_secret_in()
{
	local s rc=0
	for s in "${SECRETS[@]}"; do
		if cat "$@" 2>/dev/null | grep -qF -- "$s"; then
			diag "a secret appears in: $(grep -lF -- "$s" "$@" 2>/dev/null | paste -sd ' ')"
			rc=1
		fi
	done
	return "$rc"
}

# rotated_files LOG: the files of a rotated log, oldest first (ordered by their first seq):
# LOG, LOG.N, LOG-DATE, logrotate's .backup files; compressed ones are unpacked into a new
# directory under $TEST_TMP. Empty files are left out.
rotated_files()
{
	local f out dir
	dir=$(mktemp -d "$TEST_TMP/unpacked.XXXXXX") || return 1
	for f in "$1" "$1".* "$1"-*; do
		[ -f "$f" ] && [ -s "$f" ] || continue
		case $f in
		*.shm | *.idx | *.torn) continue ;;
		*.gz)
			out=$dir/$(basename "$f" .gz)
			gzip -dc "$f" >"$out" || return 1
			f=$out
			;;
		esac
		printf '%s %s\n' "$(head -n 1 "$f" | jq -r .seq)" "$f"
	done | sort -n | cut -d' ' -f2-
}
