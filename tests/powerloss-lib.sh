# SPDX-License-Identifier: ISC
# tests/powerloss-lib.sh: what tests/integration/powerloss.sh reads on the disk after a
# cut, sourced by it once M (the mount), DIR (its own files, outside the cut), LOAD (the
# senders' directory) and IDWISE_LOG are set. ROOT is $M, or the backing directory after a
# cut; the log is ROOT/log/events.jsonl. The shipper's part needs STREAM and nats-lib.sh.
#
#   the log       log_files [ROOT], logged_ids ROOT OUT [CUT], seq_file SEQ,
#                 verifies ROOT TEAR
#   the senders   collect_acks (into ACKED), acks_kept LOGGED
#   consumers     cursor_slot FILE, cursor_ok ROOT CURSOR, follow_prefix ROOT
#   the shipper   ship_ok ROOT, stream_is_log (STREAM on the nats-server of nats-lib.sh)
# shellcheck shell=bash

# log_files [ROOT]: the log's files under ROOT ($M, or $B after a cut), oldest first.
log_files()
{
	local root=${1:-$M} f
	for f in "$root/log/events.jsonl"-* "$root/log/events.jsonl"; do
		[ -s "$f" ] && printf '%s\n' "$f"
	done
}

# logged_ids ROOT OUT [CUT]: "ID SEQ" of every whole record in the log's files, sorted,
# into OUT. Each file (by inode) is read on from where the last call left it, as a file
# only grows; but a cut may take back or tear what was not synced (even where a zero tear
# keeps the size), and only in the two newest files (the writer syncs a file before it
# writes to the next): with CUT, those two are read again from the start. Not in a
# subshell: it keeps what it read in IDS_AT and INO_PATH (for seq_file).
declare -A IDS_AT=() INO_PATH=()
logged_ids()
{
	local f ino
	if [ -n "${3:-}" ]; then
		for f in $(log_files "$1" | tail -n 2); do
			ino=$(stat -c %i "$f")
			unset "IDS_AT[$ino]"
		done
	fi
	_logged_ids "$1" >"$2.unsorted" && sort "$2.unsorted" >"$2"
}

_logged_ids()
{
	local root=$1 ino size path at lines
	local -a files
	local -A seen=()
	mapfile -t files < <(log_files "$root")
	[ "${#files[@]}" -gt 0 ] || return 0
	while read -r ino size path; do
		seen[$ino]=1
		INO_PATH[$ino]=$path
		at=${IDS_AT[$ino]:-0}
		[ "$size" -ge "$at" ] || at=0
		[ "$at" -gt 0 ] || : >"$DIR/ids.$ino"
		if [ "$size" -gt "$at" ]; then
			tail -c +$((at + 1)) "$path" >"$DIR/chunk"
			lines=$(log_count "$DIR/chunk")
			head -n "$lines" "$DIR/chunk" >"$DIR/chunk.whole"
			sed -n 's/^{"v":1,"seq":\([0-9]*\),"received_at":"[^"]*","id":"\([^"]*\)".*}$/\2 \1/p' \
			    "$DIR/chunk.whole" >>"$DIR/ids.$ino"
			at=$((at + $(wc -c <"$DIR/chunk.whole")))
		fi
		IDS_AT[$ino]=$at
		cat "$DIR/ids.$ino"
	done < <(stat -c '%i %s %n' "${files[@]}")
	for ino in "${!IDS_AT[@]}"; do
		[ -n "${seen[$ino]:-}" ] || { unset "IDS_AT[$ino]" "INO_PATH[$ino]"; rm -f "$DIR/ids.$ino"; }
	done
}

# seq_file SEQ: the file (as the last logged_ids saw it) that holds the record SEQ.
seq_file()
{
	local hit
	hit=$(grep -l " $1\$" "$DIR"/ids.* 2>/dev/null | head -n 1) || return 1
	[ -n "$hit" ] && printf '%s\n' "${INO_PATH[${hit##*.}]}"
}

# ACKED: "ID SEQ" for every delivery that got a 200 so far, from the senders' replies.
ACKED=$DIR/acked
ACK_LINES=0
collect_acks()
{
	local n
	n=$(log_count "$LOAD/codes")
	tail -n +$((ACK_LINES + 1)) "$LOAD/codes" | head -n $((n - ACK_LINES)) |
	    awk '$2 == "200" { print $1 }' | sed "s|^|$LOAD/replies/|" |
	    xargs -r awk 'match($0, /"seq":[0-9]+/) {
		n = split(FILENAME, part, "/"); print part[n], substr($0, RSTART + 6, RLENGTH - 6) }' \
	    >>"$ACKED"
	ACK_LINES=$n
}

# acks_kept LOGGED: every acknowledged delivery is in the log once, with its seq; LOGGED:
# "ID SEQ" of the log's records, sorted.
acks_kept()
{
	local bad
	bad=$(cut -d' ' -f1 "$1" | uniq -d | head -n 3)
	[ -z "$bad" ] || { diag "ids logged more than once: $bad"; return 1; }
	sort -u "$ACKED" >"$DIR/acked.sorted"
	bad=$(comm -23 "$DIR/acked.sorted" "$1" | head -n 3)
	[ -z "$bad" ] || { diag "acknowledged (id seq) not in the log as told: $bad"; return 1; }
}

# verifies ROOT TEAR: idwise-log verify passes on the log's files there that changed since
# the last call, and the one before them (the whole log is verified at the end); after a cut
# that tore (TEAR not none), the live file may end in a torn line (the next append cuts it).
declare -A VERIFIED=()
verifies()
{
	local -a files=() all
	local out i first=-1 key
	mapfile -t all < <(log_files "$1")
	[ "${#all[@]}" -gt 0 ] || return 0
	for ((i = 0; i < ${#all[@]}; i++)); do
		key=$(stat -c '%i:%s:%y' "${all[$i]}")
		[ "${VERIFIED[${all[$i]##*/}]:-}" = "$key" ] || [ "$first" -ge 0 ] || first=$i
		VERIFIED[${all[$i]##*/}]=$key
	done
	[ "$first" -ge 0 ] || return 0
	[ "$first" -eq 0 ] || first=$((first - 1))
	files=("${all[@]:$first}")
	out=$("$IDWISE_LOG" verify "${files[@]}" 2>/dev/null) && return 0
	[ "$2" != none ] && [[ $out == "$1/log/events.jsonl:"*": incomplete last line (torn)" ]] &&
	    return 0
	diag "$out"
	return 1
}

# cursor_slot FILE: "SEQ HASH" of the newest valid slot of a cursor file, "0 -" for none
# (a slot: its JSON, a tab, the JSON's SHA-256, spaces; log-cursor.c).
cursor_slot()
{
	local json rest sum best_gen=-1 best="0 -"
	while IFS=$'\t' read -r json rest; do
		read -r sum _ < <(printf '%s' "$json" | sha256sum)
		[ "$sum" = "${rest:0:64}" ] || continue
		[[ $json =~ \"gen\":([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt "$best_gen" ] ||
		    continue
		best_gen=${BASH_REMATCH[1]}
		[[ $json =~ \"seq\":([0-9]+).*\"hash\":\"([0-9a-f]+)\" ]] &&
		    best="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
	done < <(tr -d '\0' <"$1")
	printf '%s\n' "$best"
}

# cursor_ok ROOT CURSOR: the cursor's newest valid slot names a record of the log there
# (its seq and the SHA-256 of its line), or none yet; that seq (0: none) in CURSOR_SEQ.
CURSOR_SEQ=0
cursor_ok()
{
	local seq hash line
	CURSOR_SEQ=0
	[ -s "$2" ] || return 0
	read -r seq hash < <(cursor_slot "$2")
	CURSOR_SEQ=$seq
	[ "$seq" != 0 ] || return 0
	line=$(seq_file "$seq" | xargs -r grep -a -h "^{\"v\":1,\"seq\":$seq,") ||
	    { diag "$(basename "$2"): seq $seq is not in the log"; return 1; }
	[ "$(printf '%s\n' "$line" | sha256sum | cut -d' ' -f1)" = "$hash" ] ||
	    { diag "$(basename "$2"): seq $seq in the log is not the record it was saved after"; return 1; }
}

# follow_prefix ROOT: follow's output there, up to its last newline, is the log's bytes from
# the start (each record once, in order; after that, a torn write the next start mends).
follow_prefix()
{
	local out=$1/consumer/follow.out size
	size=$(head -n "$(log_count "$out")" "$out" | wc -c)
	[ "$size" -eq 0 ] && return 0
	log_files "$1" | xargs cat 2>/dev/null | cmp -s -n "$size" - "$out" && return 0
	diag "follow.out ($size bytes) is not the start of the log: $(log_files "$1" |
	    xargs cat 2>/dev/null | cmp -n "$size" - "$out" 2>&1)"
	return 1
}

# ---- the shipper ----------------------------------------------------------------------

# SHIPPED: the Idwise-Seq of every message in the stream at the last look (ship_ok), read
# on from the stream seq the look before ended at (nats-tool after: nothing, at once, when
# nothing came).
SHIPPED=$DIR/shipped
STREAM_AT=0
SHIP_SEQ=0
_stream_since()
{
	nats_tool after "$STREAM" "$STREAM_AT" >"$DIR/stream.new" || return 1
	[ -s "$DIR/stream.new" ] || return 0
	cut -f5 "$DIR/stream.new" >>"$SHIPPED"
	STREAM_AT=$(tail -n 1 "$DIR/stream.new" | cut -f1)
}

# ship_ok ROOT: the shipper's cursor there names a record of the log (or none yet), is not
# behind where it was at the cut before (a position saved is on disk), and not ahead of
# the stream: the stream holds every seq up to it.
ship_ok()
{
	local seq held
	cursor_ok "$1" "$1/consumer/ship.cursor" || return 1
	seq=$CURSOR_SEQ
	[ "$seq" -ge "$SHIP_SEQ" ] ||
	    { diag "ship.cursor: seq $seq, after seq $SHIP_SEQ at the cut before"; return 1; }
	SHIP_SEQ=$seq
	_stream_since || { diag "stream $STREAM cannot be read"; return 1; }
	held=$(awk -v s="$seq" '$1 + 0 >= 1 && $1 + 0 <= s && !seen[$1 + 0]++ { n++ }
	    END { print n + 0 }' "$SHIPPED")
	[ "$held" -eq "$seq" ] ||
	    { diag "ship.cursor: seq $seq, but the stream holds $held of seqs 1 to $seq"; return 1; }
}

# stream_is_log: every record of the log is in the stream exactly once (one message for
# each Nats-Msg-Id, and for each host and seq), its payload the record's line, its headers
# naming it, and nothing else is there.
stream_is_log()
{
	local bad
	nats_tool dump "$STREAM" >"$DIR/stream.all" || { diag "stream $STREAM cannot be read"; return 1; }
	bad=$(cut -f3 "$DIR/stream.all" | sort | uniq -d | head -n 3)
	[ -z "$bad" ] || { diag "Msg-Ids in the stream more than once: $bad"; return 1; }
	bad=$(cut -f4,5 "$DIR/stream.all" | sort | uniq -d | head -n 3)
	[ -z "$bad" ] || { diag "host and seq in the stream more than once: $bad"; return 1; }
	bad=$(awk -F'\t' '$4 != "pl" || index($7, "{\"v\":1,\"seq\":" $5 ",") != 1' \
	    "$DIR/stream.all" | head -n 3)
	[ -z "$bad" ] || { diag "messages whose headers do not name their record: $bad"; return 1; }
	cut -f7 "$DIR/stream.all" | sort >"$DIR/stream.lines"
	log_files | xargs cat | sort >"$DIR/log.lines"
	cmp -s "$DIR/stream.lines" "$DIR/log.lines" && return 0
	diag "the stream's payloads are not the log's lines:" \
	    "$(diff "$DIR/stream.lines" "$DIR/log.lines" | cut -c1-120 | head -n 4)"
	return 1
}
