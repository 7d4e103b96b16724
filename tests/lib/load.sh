# SPDX-License-Identifier: ISC
# tests/lib/load.sh: many deliveries at once with one curl (deliver_batch,
# deliver_until_ok as IDWise retries), what they got (code_count, reply_seqs,
# check_delivered) and a load in the background (load_start, load_stop); sourced by
# tests/lib.sh.
# shellcheck shell=bash

# make_ids PREFIX N: PREFIX-1 ... PREFIX-N, one a line.
make_ids()
{
	seq -f "$1-%.0f" 1 "$2"
}

# deliver_batch IDS DIR [PARALLEL]: POST step_event ID for every id in the file IDS (one a
# line) to $URL with the bearer $TOKEN, PARALLEL (LOAD_PARALLEL, else 32) at a time from one
# curl process. The
# reply body goes to DIR/replies/ID; each attempt appends "ID CODE" to DIR/codes (000: no
# reply at all).
deliver_batch()
{
	curl_batch "$1" "$2" "${3:-${LOAD_PARALLEL:-32}}" '%{http_code}' codes
}

# curl_batch IDS DIR PARALLEL WRITE-OUT FILE: deliver_batch's requests, each appending "ID "
# and curl's WRITE-OUT (e.g. %{http_code}) as a line to DIR/FILE.
curl_batch()
{
	local ids=$1 dir=$2 par=$3 out=$4 file=$5 id body n=0
	mkdir -p "$dir/replies" || return 1
	while IFS= read -r id; do
		[ -n "$id" ] || continue
		[ "$n" -eq 0 ] || printf 'next\n'
		n=$((n + 1))
		# shellcheck disable=SC2059
		printf -v body "$STEP_EVENT" "$id"
		body=${body//\"/\\\"}
		printf 'url = "%s"\nheader = "Authorization: Bearer %s"\n' "$URL" "$TOKEN"
		printf 'header = "Content-Type: application/json"\nheader = "Expect:"\n'
		printf 'max-time = 60\noutput = "%s/replies/%s"\n' "$dir" "$id"
		printf 'write-out = "%s %s\\n"\ndata-binary = "%s"\n' "$id" "$out" "$body"
	done <"$ids" >"$dir/curl.config"
	[ "$n" -gt 0 ] || return 0
	curl --parallel --parallel-max "$par" --no-progress-meter -sS --config "$dir/curl.config" \
	    >>"$dir/$file" 2>>"$dir/curl.err"
	return 0
}

# pending_ids IDS DIR: the ids of IDS without a 200 in DIR/codes.
pending_ids()
{
	awk 'FILENAME == ARGV[1] { if ($2 == "200") done[$1] = 1; next } !($1 in done)' \
	    "$2/codes" "$1"
}

# deliver_until_ok IDS DIR [PASSES]: deliver_batch the ids of IDS until each got a 200, as
# IDWise retries a failed delivery with the same body (here after 0.2 s instead of minutes),
# at most PASSES (100) rounds. 0 when every id got a 200.
deliver_until_ok()
{
	local ids=$1 dir=$2 passes=${3:-100} i
	mkdir -p "$dir" && touch "$dir/codes" || return 1
	for ((i = 0; i < passes; i++)); do
		pending_ids "$ids" "$dir" >"$dir/pending" || return 1
		[ -s "$dir/pending" ] || return 0
		[ "$i" -eq 0 ] || sleep 0.2
		deliver_batch "$dir/pending" "$dir" || return 1
	done
	pending_ids "$ids" "$dir" >"$dir/pending"
	[ ! -s "$dir/pending" ]
}

# code_count DIR CODE: how many attempts got HTTP status CODE.
code_count()
{
	awk -v c="$2" '$2 == c { n++ } END { print n + 0 }' "$1/codes" 2>/dev/null || echo 0
}

# reply_seqs DIR: "ID STATUS SEQ" for each reply body kept in DIR/replies, sorted.
reply_seqs()
{
	find "$1/replies" -type f -print0 | xargs -0 -r jq -r \
	    '[(input_filename | sub(".*/"; "")), .status, .seq] | map(tostring) | join(" ")' |
	    sort
}

# check_delivered IDS DIR FILE...: the log files hold a record for every id of IDS exactly
# once and no other record, and every 200 reply named the seq that record has. Says what
# is wrong (diag) and returns 1 otherwise.
check_delivered()
{
	local ids=$1 dir=$2 tmp bad
	shift 2
	tmp=$(mktemp -d "$TEST_TMP/delivered.XXXXXX") || return 1
	jq -r '"\(.id) \(.seq)"' "$@" >"$tmp/logged" 2>"$tmp/jq.err" ||
	    { diag "a log line is not JSON: $(head -n 1 "$tmp/jq.err")"; return 1; }
	bad=$(cut -d' ' -f1 "$tmp/logged" | sort | uniq -d | head -n 5)
	[ -z "$bad" ] || { diag "ids logged more than once:" "$bad"; return 1; }
	cut -d' ' -f1 "$tmp/logged" | sort >"$tmp/logged.ids"
	sort "$ids" >"$tmp/sent.ids"
	bad=$(comm -3 "$tmp/sent.ids" "$tmp/logged.ids" | head -n 5)
	[ -z "$bad" ] || { diag "sent but not logged (left), logged but not sent (right):" \
	    "$bad"; return 1; }
	sort "$tmp/logged" >"$tmp/logged.sorted"
	reply_seqs "$dir" | awk '$2 == "accepted" || $2 == "duplicate" { print $1, $3 }' |
	    sort >"$tmp/replied"
	bad=$(comm -23 "$tmp/replied" "$tmp/logged.sorted" | head -n 5)
	[ -z "$bad" ] || { diag "replies whose seq is not the logged one:" "$bad"; return 1; }
	[ "$(log_count "$tmp/replied")" -eq "$(log_count "$tmp/sent.ids")" ] ||
	    { diag "$(log_count "$tmp/replied") of $(log_count "$tmp/sent.ids") ids have a reply"; return 1; }
	rm -rf "$tmp"
}

LOAD_PID=
LOAD_DIR=

# load_start DIR PREFIX [BATCH]: in the background, batch after batch of BATCH (400) new
# ids PREFIX-B-I, each delivered with deliver_until_ok, until load_stop. Every id sent is
# added to DIR/ids; a batch that could not be delivered, to DIR/failed. Sets LOAD_PID.
load_start()
{
	local dir=$1 prefix=$2 batch=${3:-400}
	[ -z "$LOAD_PID" ] || bail "a load is already running"
	mkdir -p "$dir" || return 1
	rm -f "$dir/stop"
	: >>"$dir/ids"
	(
		b=0
		while [ ! -e "$dir/stop" ]; do
			b=$((b + 1))
			make_ids "$prefix-$b" "$batch" >"$dir/batch.ids"
			cat "$dir/batch.ids" >>"$dir/ids"
			deliver_until_ok "$dir/batch.ids" "$dir" || echo "$b" >>"$dir/failed"
		done
	) &
	LOAD_PID=$!
	LOAD_DIR=$dir
	at_exit load_stop
}

# load_running: the load of load_start is still sending.
load_running()
{
	[ -n "$LOAD_PID" ] && pid_alive "$LOAD_PID"
}

# load_stop: the batch in hand is finished (every id a 200, or DIR/failed), then it stops.
load_stop()
{
	[ -n "$LOAD_PID" ] || return 0
	touch "$LOAD_DIR/stop"
	wait "$LOAD_PID"
	LOAD_PID=
}
