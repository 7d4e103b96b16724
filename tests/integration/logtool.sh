#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/logtool.sh: idwise-log verify, head and stats on a log the real
# idwise-fcgi wrote (plain CGI, rotated twice by renaming) and on logs tests/mklog made:
# intact logs, every kind of damage of issue 3, --head reached and not, unreadable files,
# usage. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

IDWISE_LOG=${IDWISE_LOG:-$top_builddir/idwise-log}
MKLOG=$top_builddir/tests/mklog
[ -x "$IDWISE_LOG" ] || bail "$IDWISE_LOG is not built"
[ -x "$MKLOG" ] || bail "$MKLOG is not built"
[ -x "$IDWISE_FCGI" ] || bail "$IDWISE_FCGI is not built"

# idlog ARG...: run idwise-log; sets RC, OUT and ERR (stdout and stderr).
idlog()
{
	"$IDWISE_LOG" "$@" >"$TEST_TMP/idlog.out" 2>"$TEST_TMP/idlog.err"
	RC=$?
	OUT=$(cat "$TEST_TMP/idlog.out")
	ERR=$(cat "$TEST_TMP/idlog.err")
}

# deliver FILE: one authorized POST of FILE to the real responder as a CGI program.
deliver()
{
	cgi_run "$CONF" "$1" REQUEST_METHOD=POST "CONTENT_LENGTH=$(wc -c <"$1")" \
	    CONTENT_TYPE=application/json REMOTE_ADDR=127.0.0.1 "HTTP_AUTHORIZATION=Bearer $TOKEN"
	[ "$STATUS" = 200 ] || { diag "$1: $STATUS $BODY"; return 1; }
}

# ---------------------------------------------------------------------------------------
# A log the real responder wrote: 11 samples and a conflict in three files, rotated the
# way logrotate does (rename; the responder continues in a new file).

REAL=$TEST_TMP/real
write_config "$REAL" sync=none
L0=$REAL/events.jsonl
L1=$REAL/events.jsonl.1
L2=$REAL/events.jsonl.2
SENT=(aml_monitor_update finished_journey finished_ongoing_check finished_spot_check
    finished_step finished_user_steps kyc_renewal_deadline_exceeded manually_reviewed
    step_submitted updated_journey verification_update_required)
jq -c '.body.systemDecision = "Refer"' "$SAMPLES/finished_journey.json" >"$TEST_TMP/conflict.json"

stored=0
for i in "${!SENT[@]}"; do
	case $i in
	4) mv "$L0" "$L1" ;;
	8) mv "$L1" "$L2" && mv "$L0" "$L1" ;;
	esac
	deliver "$SAMPLES/${SENT[$i]}.json" && stored=$((stored + 1))
done
deliver "$TEST_TMP/conflict.json" && stored=$((stored + 1))
is "$stored $(jq -c '[.conflict]' <<<"$BODY")" "12 [true]" \
    "the responder stored 11 samples and a conflict"
deliver "$SAMPLES/finished_journey.json"
is "$(jq -r .status <<<"$BODY")" duplicate "a redelivery is answered duplicate (not appended)"
is "$(log_count "$L2") $(log_count "$L1") $(log_count "$L0")" "4 4 4" \
    "the log is in three files of 4 records, oldest first: .2 .1 and the log"
ok "the lines-and-jq chain check of tests/lib.sh agrees the log is intact" \
    check_chain "$L2" "$L1" "$L0"

# line_hash of each record, by seq
H=()
for seq in 1 2 3 4 5 6 7 8 9 10 11 12; do
	f=$L2
	n=$seq
	[ "$seq" -gt 4 ] && f=$L1 && n=$((seq - 4))
	[ "$seq" -gt 8 ] && f=$L0 && n=$((seq - 8))
	H[$seq]=$(line_hash "$f" "$n")
done

# --- verify, intact ---------------------------------------------------------------------

idlog verify "$L2" "$L1" "$L0"
is "$RC|$OUT|$ERR" "0|$L2 $L1 $L0: 12 records, seq 1..12, head 12:${H[12]}|" \
    "verify: an intact log in three files: exit 0 and a summary with its head"

idlog verify "$L1" "$L0"
is "$RC|$OUT" "0|$L1 $L0: 8 records, seq 5..12, head 12:${H[12]}" \
    "verify: the newer two files alone are intact"
like "$ERR" "^idwise-log: note: $L1:1: the files start at seq 5; .*not verified$" \
    "verify: ... with a note that the start could not be verified"

idlog verify <(cat "$L2") "$L1" <(gzip -c "$L0" | gzip -dc)
like "$RC|$OUT" "^0\|/dev/fd/[0-9]+ $L1 /dev/fd/[0-9]+: 12 records, seq 1\.\.12, head 12:${H[12]}$" \
    "verify: reads pipes too (a rotated file decompressed on the fly)"

touch "$REAL/empty"
idlog verify "$REAL/empty"
is "$RC|$OUT" "0|$REAL/empty: 0 records" "verify: an empty log is intact and has no records"

# --- head -------------------------------------------------------------------------------

idlog head "$L2" "$L1" "$L0"
is "$RC|$OUT|$ERR" "0|12:${H[12]}|" "head: prints the last record's SEQ:HASH"
idlog head --json "$L2" "$L1" "$L0"
is "$RC|$(jq -cS . <<<"$OUT" 2>&1)" "0|{\"file\":\"$L0\",\"hash\":\"${H[12]}\",\"seq\":12}" \
    "head --json: seq, hash and the file it is in"
idlog head "$L2" "$L1" "$REAL/empty"
is "$RC|$OUT" "0|8:${H[8]}" "head: a new empty file after a rotation: the head is in the older one"
idlog head "$REAL/empty"
is "$RC|$OUT|$ERR" "1||idwise-log: $REAL/empty: no record in the file given" \
    "head: no record at all: exit 1 and says so"

# --- verify --head ------------------------------------------------------------------------

idlog verify --head "12:${H[12]}" "$L2" "$L1" "$L0"
is "$RC|$OUT" "0|$L2 $L1 $L0: 12 records, seq 1..12, head 12:${H[12]}, reaches 12:${H[12]}" \
    "verify --head: the head kept elsewhere is reached"
idlog verify "$L2" "$L1" "$L0" --head "5:${H[5]^^}"
is "$RC|$OUT" "0|$L2 $L1 $L0: 12 records, seq 1..12, head 12:${H[12]}, reaches 5:${H[5]}" \
    "verify --head: an older head is reached too (hash in upper case accepted)"
idlog verify --head "12:${H[11]}" "$L2" "$L1" "$L0"
is "$RC|$OUT" "1|$L0:4: head 12:${H[11]} not reached: record 12 has hash ${H[12]}" \
    "verify --head with a wrong hash: exit 1, the record's real hash"
idlog verify --head "2:${H[2]}" "$L1" "$L0"
is "$RC|$OUT" "1|$L0: head 2:${H[2]} not in the files: they start at seq 5 (give the older files too)" \
    "verify --head older than the files given: exit 1 and says so"

# --- damage -----------------------------------------------------------------------------
# Each case damages fresh copies D2 D1 D0 of the three files.

D=$TEST_TMP/damaged
mkdir -p "$D"
D0=$D/events.jsonl
D1=$D/events.jsonl.1
D2=$D/events.jsonl.2
fresh()
{
	cp "$L0" "$D0" && cp "$L1" "$D1" && cp "$L2" "$D2"
}

# damaged DESC WANT-RC WANT-OUT [VERIFY-ARG...]: verify the damaged copies.
damaged()
{
	local desc=$1 rc=$2 out=$3
	shift 3
	idlog verify "$@" "$D2" "$D1" "$D0"
	is "$RC|$OUT" "$rc|$out" "$desc"
}

fresh
sed -i '2s/"journeyId":"269e0d37f2a74de452e6b438"/"journeyId":"269e0d37f2a74de452e6b439"/' "$D1"
isnt "$(sha256_of "$D1")" "$(sha256_of "$L1")" "(one byte of line 2's body was edited)"
damaged "verify: an edited byte in a body: the next line's prev does not match" \
    1 "$D1:3: prev is not the hash of line 2"

fresh
sed -i '4s/"outcome":"approved"/"outcome":"rejected"/' "$D1"
is "$(sed -n 4p "$D1" | jq -r .outcome)" rejected "(the decision of the last line of .1 was edited)"
damaged "verify: an edited decision at the end of a file: caught in the next file" \
    1 "$D0:1: prev is not the hash of $D1:4"

fresh
sed -i 2d "$D1"
damaged "verify: a deleted line" 1 "$D1:2: seq 7 after 5: 1 record missing"

fresh
sed -i '2{h;d};3{G}' "$D1"
is "$(jq -c .seq "$D1" | tr '\n' ' ')" "5 7 6 8 " "(lines 2 and 3 of .1 were swapped)"
damaged "verify: swapped lines" 1 "$D1:2: seq 7 after 5: 1 record missing"

fresh
sed -i '2p' "$D1"
damaged "verify: a duplicated line" 1 "$D1:3: seq 6 after 6: repeated"

fresh
sed -i '2,3d' "$D0"
damaged "verify: two deleted lines" 1 "$D0:2: seq 12 after 9: 2 records missing"

fresh
truncate -s -1 "$D0"
damaged "verify: a torn tail (the last line has no newline)" 1 "$D0:4: incomplete last line (torn)"

fresh
truncate -s -30 "$D1"
damaged "verify: a torn tail in a rotated file" 1 "$D1:4: incomplete last line (torn)"

fresh
sed -i '2a garbage' "$D1"
damaged "verify: a garbage line" 1 "$D1:3: not a JSON object"

fresh
sed -i '2a\\' "$D1"
damaged "verify: an empty line" 1 "$D1:3: not a JSON object"

fresh
sed -i '1s/"prev":"0000000000/"prev":"1000000000/' "$D2"
damaged "verify: a wrong first prev" 1 "$D2:1: seq 1 but prev is not 64 zeros"

fresh
sed -i '2s/"type":"[a-z_]*"/"type":"bogus"/' "$D1"
damaged "verify: a type no writer writes" 1 "$D1:2: not a record: type is not a known value"

fresh
sed -i '2s/"outcome":"[a-z_]*"/"outcome":"approved!"/' "$D1"
damaged "verify: an outcome no writer writes" 1 "$D1:2: not a record: outcome is not a known value"

fresh
sed -i '2s/"body_sha256":"\([0-9a-f]*\)"/"body_sha256":"\U\1"/' "$D1"
damaged "verify: a body_sha256 in upper case" 1 \
    "$D1:2: not a record: body_sha256 is not 64 lower-case hex digits"

fresh
sed -i '3s/"seq":7,/"seq":"7",/' "$D1"
damaged "verify: a seq that is not a number" 1 "$D1:3: not a record: seq is not a number from 1"

idlog verify "$L0" "$L1" "$L2"
is "$RC|$OUT" "1|$L1:1: seq 5 after 12: goes back (give the files oldest first)" \
    "verify: files in the wrong order: says to give them oldest first"

idlog verify "$L2" "$L0"
is "$RC|$OUT" "1|$L0:1: seq 9 after 4: 4 records missing" "verify: a missing rotated file"

# A cut-off tail: the chain cannot show it; the head kept elsewhere does.
fresh
sed -i '3,$d' "$D0"
damaged "verify: a cut-off tail still chains (only --head can tell)" \
    0 "$D2 $D1 $D0: 10 records, seq 1..10, head 10:${H[10]}"
damaged "verify --head: a cut-off tail does not reach the head kept elsewhere" \
    1 "$D0: head 12:${H[12]} not reached: log ends at seq 10" --head "12:${H[12]}"

fresh
sed -i '4s/"outcome":"review"/"outcome":"approved"/' "$D0"
damaged "verify: an edited last record still chains (only --head can tell)" \
    0 "$D2 $D1 $D0: 12 records, seq 1..12, head 12:$(line_hash "$D0" 4)"
damaged "verify --head: an edited last record has another hash" \
    1 "$D0:4: head 12:${H[12]} not reached: record 12 has hash $(line_hash "$D0" 4)" \
    --head "12:${H[12]}"

fresh
truncate -s -1 "$D0"
idlog head "$D2" "$D1" "$D0"
is "$RC|$OUT|$ERR" "1||idwise-log: $D0: incomplete last line (torn)" "head: a torn tail: exit 1"
fresh
sed -i '$s/"seq":12,/"seq":0,/' "$D0"
idlog head "$D2" "$D1" "$D0"
is "$RC|$OUT|$ERR" "1||idwise-log: $D0: last line: not a record: seq is not a number from 1" \
    "head: a last line that is not a record: exit 1"

# --- files that cannot be read ------------------------------------------------------------

idlog verify "$L2" "$REAL/missing" "$L0"
is "$RC|$OUT|$ERR" "2||idwise-log: $REAL/missing: No such file or directory" \
    "verify: a missing file: exit 2, one line"
idlog verify "$REAL"
is "$RC|$OUT|$ERR" "2||idwise-log: $REAL: read: Is a directory" "verify: a directory: exit 2"
idlog head "$REAL/missing"
is "$RC|$ERR" "2|idwise-log: $REAL/missing: No such file or directory" "head: a missing file: exit 2"
idlog stats "$L1" "$REAL/missing"
is "$RC|$OUT|$ERR" "2||idwise-log: $REAL/missing: No such file or directory" \
    "stats: a missing file: exit 2"

# --- stats --------------------------------------------------------------------------------

idlog stats --json "$L2" "$L1" "$L0"
is "$RC|$ERR" "0|" "stats --json: exit 0"
printf '%s\n' "$OUT" >"$TEST_TMP/stats.json"
sj()	# sj FILTER: compact jq of the last stats --json
{
	jq -cS "$1" "$TEST_TMP/stats.json" 2>&1
}
is "$(sj '[.records, .distinct_ids, .repeated_ids, .conflicts, .seq]')" \
    '[12,11,1,1,{"first":1,"last":12}]' \
    "stats: 12 records, 11 ids, 1 record repeats an id, 1 conflict, seq 1..12"
is "$(sj .received_at)" \
    "$(jq -cS -n --arg f "$(head -n 1 "$L2" | jq -r .received_at)" \
    --arg l "$(tail -n 1 "$L0" | jq -r .received_at)" '{first: $f, last: $l}')" \
    "stats: first and last received_at are those of the first and last records"
is "$(sj .by_type.finished_journey)" \
    '{"approved":1,"none":0,"pending":0,"rejected":0,"resubmission":0,"review":1,"total":2,"unknown":0}' \
    "stats: finished_journey: one approved, one review (the conflict)"
is "$(sj .by_outcome)" \
    '{"approved":4,"none":3,"pending":1,"rejected":1,"resubmission":0,"review":3,"unknown":0}' \
    "stats: by outcome, as the samples decide"
is "$(sj '.by_type | map_values(with_entries(select(.value > 0 and .key != "total")))')" \
    "$(cat "$L2" "$L1" "$L0" | jq -cS -s 'group_by(.type) | map({key: .[0].type,
        value: (group_by(.outcome) | map({key: .[0].outcome, value: length}) | from_entries)})
        | from_entries')" \
    "stats: type x outcome agrees with jq's count of the log"
is "$(sj .by_day)" \
    "$(cat "$L2" "$L1" "$L0" | jq -cS -s 'group_by(.received_at[:10])
        | map({key: .[0].received_at[:10], value: length}) | from_entries')" \
    "stats: per day agrees with jq's count"
is "$(sj .files)" "$(jq -cn --arg a "$L2" --arg b "$L1" --arg c "$L0" '[$a, $b, $c]')" \
    "stats: names the files"

idlog stats "$L2" "$L1" "$L0"
printf '%s\n' "$OUT" >"$TEST_TMP/stats.txt"
is "$RC" 0 "stats: exit 0"
ok "stats: the table's header names the outcomes" \
    grep -Eq '^type +approved +rejected +review +pending +resubmission +none +unknown +total$' \
    "$TEST_TMP/stats.txt"
ok "stats: a row per type, aligned numbers" \
    grep -Eq '^finished_journey +1 +0 +1 +0 +0 +0 +0 +2$' "$TEST_TMP/stats.txt"
ok "stats: a total row" grep -Eq '^total +4 +1 +3 +1 +0 +3 +0 +12$' "$TEST_TMP/stats.txt"
ok "stats: ids and conflicts" grep -Eq '^distinct ids +11$' "$TEST_TMP/stats.txt"
ok "stats: says plainly that redeliveries answered duplicate are not in the log" \
    grep -q '^Redeliveries answered "duplicate" are never appended' "$TEST_TMP/stats.txt"
is "$(awk 'NR > 1 && $1 == "seq" { print $2 }' "$TEST_TMP/stats.txt")" 1..12 "stats: seq range"

fresh
sed -i '2a garbage' "$D1"
idlog stats "$D2" "$D1" "$D0"
is "$RC|$OUT|$ERR" "1||idwise-log: $D1:3: not a JSON object" "stats: a corrupt line: exit 1, file and line"
fresh
truncate -s -1 "$D0"
idlog stats --json "$D2" "$D1" "$D0"
is "$RC|$OUT|$ERR" "1||idwise-log: $D0:4: incomplete last line (torn)" "stats: a torn tail: exit 1"
idlog stats --json "$REAL/empty"
is "$RC|$(jq -c '[.records, .seq, .received_at, .distinct_ids, .by_type, .by_day]' <<<"$OUT")" \
    "0|[0,null,null,0,{},{}]" "stats: an empty log: zero records"

# --- generated logs: many records, days, conflicts, large reads -------------------------

G=$TEST_TMP/gen
mkdir -p "$G"
"$MKLOG" 5000 1795000000000 170000 >"$G/all" || bail "mklog failed"
ok "mklog: its 5000 records chain by the lib.sh check too" check_chain "$G/all"
head -n 1700 "$G/all" >"$G/events.jsonl.2"
sed -n '1701,3400p' "$G/all" >"$G/events.jsonl.1"
tail -n +3401 "$G/all" >"$G/events.jsonl"
GF=("$G/events.jsonl.2" "$G/events.jsonl.1" "$G/events.jsonl")
idlog verify --head "5000:$(line_hash "$G/all" 5000)" "${GF[@]}"
is "$RC|$OUT" "0|${GF[*]}: 5000 records, seq 1..5000, head 5000:$(line_hash "$G/all" 5000), reaches 5000:$(line_hash "$G/all" 5000)" \
    "verify: 5000 records (3 MB, lines across read buffers) in three files"
sed -i '2345s/"stepId":"\([0-9]*\)"/"stepId":"x\1"/' "$G/all"
idlog verify "$G/all"
is "$RC|$OUT" "1|$G/all:2346: prev is not the hash of line 2345" \
    "verify: an edit deep in a large file is found"

idlog stats --json "${GF[@]}"
printf '%s\n' "$OUT" >"$TEST_TMP/stats.json"
is "$(sj '[.records, .distinct_ids, .repeated_ids, .conflicts]')" \
    "$(cat "${GF[@]}" | jq -c -s '[length, (map(.id) | unique | length),
        length - (map(.id) | unique | length), map(select(.conflict == true)) | length]')" \
    "stats: records, distinct and repeated ids, conflicts agree with jq"
is "$(sj '.by_type | map_values(with_entries(select(.value > 0 and .key != "total")))')" \
    "$(cat "${GF[@]}" | jq -cS -s 'group_by(.type) | map({key: .[0].type,
        value: (group_by(.outcome) | map({key: .[0].outcome, value: length}) | from_entries)})
        | from_entries')" \
    "stats: every type and outcome agrees with jq"
is "$(sj .by_day)" \
    "$(cat "${GF[@]}" | jq -cS -s 'group_by(.received_at[:10])
        | map({key: .[0].received_at[:10], value: length}) | from_entries')" \
    "stats: every day agrees with jq"
is "$(sj '.by_day | keys | [first, last, length]')" '["2026-11-18","2026-11-28",11]' \
    "stats: 5000 records 170 s apart from 2026-11-18T11:06:40Z span 11 UTC days"

# A record far longer than the read buffer and head's tail window.
BIG=$TEST_TMP/big
write_config "$BIG" sync=none max_body=3000000
sized_event big-1 2500000 >"$TEST_TMP/big.json"
deliver "$SAMPLES/finished_journey.json"
deliver "$TEST_TMP/big.json"
idlog verify "$BIG/events.jsonl"
is "$RC|$OUT" "0|$BIG/events.jsonl: 2 records, seq 1..2, head 2:$(line_hash "$BIG/events.jsonl" 2)" \
    "verify: a 2.5 MB record"
idlog head "$BIG/events.jsonl"
is "$RC|$OUT" "0|2:$(line_hash "$BIG/events.jsonl" 2)" "head: a 2.5 MB last record"

# --- usage --------------------------------------------------------------------------------

idlog
like "$RC|$ERR" '^64\|usage: idwise-log COMMAND' "no command: usage on stderr, exit 64"
idlog frobnicate "$L0"
like "$RC|$ERR" '^64\|idwise-log: frobnicate: unknown command' "an unknown command: exit 64"
idlog verify
is "$RC|$ERR" "64|usage: idwise-log verify [--head SEQ:HASH] FILE..." "verify without files: exit 64"
idlog verify --head 12 "$L0"
like "$RC|$ERR" "^64\|idwise-log: --head: not SEQ:HASH" "verify --head without a hash: exit 64"
idlog verify --head "0:${H[1]}" "$L0"
is "$RC" 64 "verify --head 0:...: exit 64"
idlog verify --frob "$L0"
is "$RC|$OUT|$(tail -n 1 <<<"$ERR")" "64||usage: idwise-log verify [--head SEQ:HASH] FILE..." \
    "verify with an unknown option: its usage on stderr, exit 64"
idlog head
is "$RC|$ERR" "64|usage: idwise-log head [--json] FILE..." "head without files: exit 64"
idlog stats --json
is "$RC|$ERR" "64|usage: idwise-log stats [--json] [--journey ID]... [--reference REF]... [--id ID]... FILE..." \
    "stats without files: exit 64"
idlog --help
like "$RC|$(grep -c -E '^  (verify|head|stats) ' <<<"$OUT")" '^0\|3$' "--help: every command, exit 0"
idlog verify --help
is "$RC|$OUT" "0|usage: idwise-log verify [--head SEQ:HASH] FILE..." "verify --help: its usage, exit 0"
idlog --version
is "$RC|$OUT" "0|idwise-log $("$IDWISE_FCGI" --version | cut -d' ' -f2)" "--version"

done_testing
