#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/nginx.sh: idwise-fcgi under spawn-fcgi behind a real nginx that includes
# the operator's snippet nginx/idwise-fcgi.conf, driven with curl. Every sample, dedup and
# conflict, every reply of idwise-fcgi(8), the log read back and its chain checked with sha256sum,
# a restart of the responder, other configs (403, basic, header, none, small max_body,
# unknown_events = reject, an unwritable log), and 4 processes with 200 deliveries at once.
# Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

SOCK=$(responder_socket idwise)
ERR=$TEST_TMP/idwise.stderr

# use_config DIR [key=value...]: (re)start the responder behind nginx with a new config.
use_config()
{
	local dir=$1
	shift
	stop_responder idwise
	write_config "$dir" "$@" || bail "cannot write the config in $dir"
	start_responder idwise "$CONF" || bail "idwise-fcgi did not start with $CONF"
}

# log_unchanged BEFORE DESC: the log is as it was.
log_unchanged()
{
	is "$(log_state "$LOG")" "$1" "$2"
}

# ---------------------------------------------------------------------------------------
# Main config: bearer auth, env test, allow_from 127.0.0.1 and ::1, max_body 65536.

MAIN=$TEST_TMP/main
use_config "$MAIN"
MAIN_CONF=$CONF
MAIN_LOG=$LOG
start_nginx "$SOCK" || bail "nginx did not start"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")

ok "the test nginx uses the snippet from nginx/ with the test socket" \
    grep -qF "fastcgi_pass unix:$SOCK;" "$NGINX_DIR/idwise-fcgi.conf"

# Every sample: accepted with the next seq, and logged with the fields idwise-events(5) derives.
# sample: type outcome journey_id reference_no id ("hash": sha256: + hash of the file)
declare -A EXPECT=(
	[aml_monitor_update]='aml_monitor_update review 269e0d37f2a74de452e6b438 CUST-000840-23 d3ac94af-0f21-4db6-acad-4a268d116ece'
	[finished_journey]='finished_journey approved 269e0d37f2a74de452e6b438 CUST-000840-23 81e74ef5-e8e2-4d94-8ed9-04759531985d'
	[finished_ongoing_check]='finished_spot_check review 269e0d37f2a74de452e6b438 CUST-000840-23 2217bead-dbc4-46cb-8e81-973e0becd7b0'
	[finished_spot_check]='finished_spot_check approved 953f48f1a09f76b5a170b338 CUST-000840-23 39263059-f28c-405d-9fb1-7c2390c192cf'
	[finished_step]='finished_step none 269e0d37f2a74de452e6b438 CUST-000840-23 128b2f33-0c5c-4fd0-a6a3-a4506513270e'
	[finished_user_steps]='finished_user_steps pending 269e0d37f2a74de452e6b438 CUST-000840-23 5d9dc9f8-1818-4811-892f-902bd23f0824'
	[kyc_renewal_deadline_exceeded]='kyc_renewal_deadline_exceeded none 269e0d37f2a74de452e6b438 CUST-000840-23 3898d190-f9eb-4acc-8cb1-e29c658cda14'
	[manually_reviewed]='manually_reviewed approved 269e0d37f2a74de452e6b438 CUST-000840-23 6f03675a-1600-435a-8999-50d836f675cc'
	[step_submitted]='step_submitted none 269e0d37f2a74de452e6b438 CUST-000840-23 hash'
	[updated_journey]='updated_journey rejected 269e0d37f2a74de452e6b438 CUST-000840-23 1738f7d9-3d9c-4724-91e2-0b8f6b0d549b'
	[verification_update_required]='verification_update_required approved 269e0d37f2a74de452e6b438 CUST-000840-23 95e60af5-93bd-44cf-8fd6-30f1f29d0da9'
)

# expected_derived TYPE OUTCOME JOURNEY REFERENCE ID: the record's derived members as JSON
# ("null" for a null journey or reference).
expected_derived()
{
	jq -cnS --arg type "$1" --arg outcome "$2" --arg j "$3" --arg r "$4" --arg id "$5" \
	    '{type: $type, outcome: $outcome, id: $id,
	      journey_id: (if $j == "null" then null else $j end),
	      reference_no: (if $r == "null" then null else $r end)}'
}

# record_derived SEQ: those members of record SEQ of the main log.
record_derived()
{
	log_record "$LOG" "$1" '{type, outcome, id, journey_id, reference_no} | tojson' |
	    jq -cS . 2>/dev/null
}

# record_copied SEQ FILE: the members that repeat the request, checked against FILE;
# prints the names of those that are wrong, or nothing.
record_copied()
{
	jq -rs --argjson s "$1" --arg sha "$(sha256_of "$2")" --slurpfile f "$2" '
	map(select(.seq == $s)) |
	if length != 1 then "\(length) records with seq \($s)" else .[0] |
	[ (select(.v != 1) | "v"),
	  (select(.event != $f[0].event) | "event"),
	  (select(.env != "test") | "env"),
	  (select(.remote_addr != "127.0.0.1") | "remote_addr"),
	  (select(.body_sha256 != $sha) | "body_sha256"),
	  (select(.body != $f[0].body) | "body"),
	  (select((.received_at | type) != "string" or
	      (.received_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$") | not) or
	      ((.received_at | sub("\\.[0-9]{3}Z$"; "Z") | fromdateiso8601) - now | fabs) > 600)
	      | "received_at"),
	  (select(.conflict == true) | "conflict"),
	  (select((.prev | type) != "string" or (.prev | test("^[0-9a-f]{64}$") | not)) | "prev")
	] | join(" ") end' "$LOG" 2>&1
}

# record_expected NAME FILE SEQ: record SEQ is what EXPECT[NAME] says of sample NAME, and
# repeats what the request held.
record_expected()
{
	local type outcome journey ref id
	if [ -z "${EXPECT[$1]:-}" ]; then
		ok "$1: the test knows what to expect of this sample" false
		return
	fi
	read -r type outcome journey ref id <<<"${EXPECT[$1]}"
	[ "$id" = hash ] && id=sha256:$(sha256_of "$2")
	is "$(record_derived "$3")" "$(expected_derived "$type" "$outcome" "$journey" "$ref" "$id")" \
	    "$1: record type, outcome, id, journey_id, reference_no"
	is "$(record_copied "$3" "$2")" "" \
	    "$1: record v, event, env, remote_addr, body_sha256, body, received_at, prev"
}

seq=0
post_samples record_expected
is "$(log_count "$LOG")" "$seq" "the log holds one line per sample"

# Deliveries beyond the samples: older and newer decision values, the precedence
# finalDecision > manualDecision > systemDecision, null and absent members, unknown events.
# JSON | type | outcome | journey_id | reference_no
while IFS='|' read -r json type outcome journey ref; do
	[ -n "$json" ] || continue
	id=$(jq -r .body.eventId <<<"$json")
	seq=$((seq + 1))
	post_string "$json"
	reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "$id: accepted as seq $seq"
	is "$(record_derived "$seq")" "$(expected_derived "$type" "$outcome" "$journey" "$ref" "$id")" \
	    "$id: record type, outcome, id, journey_id, reference_no"
done <<'EOF'
{"event":"Finished Journey","body":{"eventId":"x-final-wins","journeyId":"j1","referenceNo":"r1","systemDecision":"Complete","manualDecision":"Approved","finalDecision":"Rejected"}}|finished_journey|rejected|j1|r1
{"event":"Manually Reviewed","body":{"eventId":"x-manual-wins","journeyId":"j1","referenceNo":"r1","systemDecision":"Refer","manualDecision":"Approved"}}|manually_reviewed|approved|j1|r1
{"event":"Manually Reviewed","body":{"eventId":"x-resubmission","journeyId":"j1","referenceNo":null,"systemDecision":"Refer","manualDecision":"Resubmission Requested","finalDecision":"Resubmission Requested"}}|manually_reviewed|resubmission|j1|null
{"event":"Finished User Steps","body":{"eventId":"x-passed","journeyId":"j2","systemDecision":"Passed"}}|finished_user_steps|approved|j2|null
{"event":"Finished User Steps","body":{"eventId":"x-rejected","journeyId":"j2","systemDecision":"Rejected"}}|finished_user_steps|rejected|j2|null
{"event":"Finished Journey","body":{"eventId":"x-other-value","journeyId":"j3","systemDecision":"Maybe"}}|finished_journey|unknown|j3|null
{"event":"Finished Journey","body":{"eventId":"x-lower-case","journeyId":"j3","finalDecision":"complete"}}|finished_journey|unknown|j3|null
{"event":"Finished Journey","body":{"eventId":"x-null-manual","journeyId":"j3","systemDecision":"Incomplete","manualDecision":null}}|finished_journey|pending|j3|null
{"event":"Finished Step","body":{"eventId":"x-numeric-step","journeyId":"j4","referenceNo":"r4","stepId":20}}|finished_step|none|j4|r4
{"event":"Finished Spot Check","body":{"eventId":"x-spot","spotCheckJourneyId":"s5","systemDecision":"Refer"}}|finished_spot_check|review|s5|null
{"event":"Finished Ongoing Check","body":{"eventId":"x-ongoing","journeyId":"j6","ongoingCheckId":"o6","systemDecision":"Complete"}}|finished_spot_check|approved|j6|null
{"event":"Something IDWise Adds Later","body":{"eventId":"x-unknown","journeyId":"j7","newMember":{"a":[1,2]}}}|unknown|none|j7|null
{"event":"Finished Journey","body":{"eventId":"x-extra-members","journeyId":"j8","referenceNo":"r8","systemDecision":"Complete","futureMember":true}}|finished_journey|approved|j8|r8
EOF
ok "an unknown event is kept whole" quiet \
    jq -es 'map(select(.id == "x-unknown")) | length == 1 and
        .[0].body.newMember == {"a": [1, 2]} and .[0].event == "Something IDWise Adds Later"' "$LOG"

# Redelivery of every sample: duplicate with the stored seq, nothing appended.
before=$(log_state "$LOG")
redeliver_samples

# Whitespace and member order do not make a different body.
FJ=$SAMPLES/finished_journey.json
FJ_SEQ=${SEQ_OF[finished_journey]:-0}
jq -c . "$FJ" >"$TEST_TMP/fj.compact"
jq -S --indent 7 . "$FJ" >"$TEST_TMP/fj.sorted"
jq -c '{body: (.body | to_entries | reverse | from_entries), event}' "$FJ" >"$TEST_TMP/fj.reordered"
for v in compact sorted reordered; do
	post "$TEST_TMP/fj.$v"
	reply_is 200 "{\"status\":\"duplicate\",\"seq\":$FJ_SEQ}" \
	    "finished_journey, $v: a duplicate of seq $FJ_SEQ"
done
log_unchanged "$before" "spacing and member order append nothing"

# Without an eventId the key is the hash of the raw bytes: respacing makes a new event.
jq -c . "$SAMPLES/step_submitted.json" >"$TEST_TMP/ss.compact"
seq=$((seq + 1))
post "$TEST_TMP/ss.compact"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "step_submitted respaced: a new event (seq $seq)"
is "$(log_record "$LOG" "$seq" .id)" "sha256:$(sha256_of "$TEST_TMP/ss.compact")" \
    "step_submitted respaced: id is sha256: + the hash of its own bytes"
post "$TEST_TMP/ss.compact"
reply_is 200 "{\"status\":\"duplicate\",\"seq\":$seq}" "step_submitted respaced, again: duplicate"

# Same eventId, different body: stored again, marked as a conflict, reported on stderr.
jq '.body.systemDecision = "Refer"' "$FJ" >"$TEST_TMP/fj.conflict"
seq=$((seq + 1))
CONFLICT_SEQ=$seq
post "$TEST_TMP/fj.conflict"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq,\"conflict\":true}" \
    "finished_journey with another decision: accepted as conflict seq $seq"
is "$(log_record "$LOG" "$seq" '[.id, .conflict, .outcome, .body.systemDecision] | tojson')" \
    '["81e74ef5-e8e2-4d94-8ed9-04759531985d",true,"review","Refer"]' \
    "the conflict record: same id, conflict true, its own outcome and body"
ok "the conflict is reported on stderr with its eventId" \
    wait_for grep -q '81e74ef5-e8e2-4d94-8ed9-04759531985d' "$ERR"
post "$TEST_TMP/fj.conflict"
reply_is 200 "{\"status\":\"duplicate\",\"seq\":$CONFLICT_SEQ}" \
    "the conflicting body redelivered: a duplicate of the conflict record"
post "$FJ"
reply_is 200 "{\"status\":\"duplicate\",\"seq\":$FJ_SEQ}" \
    "the original redelivered after the conflict: still a duplicate of seq $FJ_SEQ"

# Any line of the token file is accepted (rotation); content types that are JSON.
seq=$((seq + 1))
CURL_AUTH=(-H "Authorization: Bearer $TOKEN2")
post_string '{"event":"Finished Step","body":{"eventId":"x-token2","journeyId":"j9","stepId":"1"}}'
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "the second token of the file is accepted"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
seq=$((seq + 1))
post_string '{"event":"Finished Step","body":{"eventId":"x-charset","journeyId":"j9","stepId":"2"}}' \
    -H 'Content-Type: application/json; charset=utf-8'
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "Content-Type with a charset parameter is accepted"
seq=$((seq + 1))
post_string '{"event":"Finished Step","body":{"eventId":"x-no-type","journeyId":"j9","stepId":"3"}}' \
    -H 'Content-Type:'
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "no Content-Type is accepted"
seq=$((seq + 1))
deep_event x-deep-30 30 >"$TEST_TMP/deep30"
post "$TEST_TMP/deep30"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "nesting 30 deep is accepted"
is "$(log_count "$LOG")" "$seq" "the log holds $seq lines"

# ---------------------------------------------------------------------------------------
# Every rejection idwise-fcgi(8) lists: the right status and JSON error, and nothing logged.

before=$(log_state "$LOG")
VALID='{"event":"Finished Step","body":{"eventId":"x-never-stored","journeyId":"j0","stepId":"1"}}'

request GET
error_is 405 "GET: 405"
is "$(header Allow)" "POST" "405 carries Allow: POST"
post_string "$VALID" -X PUT
error_is 405 "PUT: 405"
CURL_AUTH=()
request GET
error_is 405 "GET without credentials: 405 (the method is checked first)"

post_string "$VALID"
error_is 401 "no Authorization: 401"
like "$(header WWW-Authenticate)" '^Bearer( |$)' "401 carries WWW-Authenticate: Bearer"
missing_body=$BODY
missing_challenge=$(header WWW-Authenticate)
for case in "another token|Bearer wrong-$TOKEN" "the token plus a byte|Bearer ${TOKEN}x" \
    "the token less its last byte|Bearer ${TOKEN%?}" "Bearer and no token|Bearer" \
    "the token upper-cased|Bearer ${TOKEN^^}" "the token as Basic|Basic $(printf '%s' "$TOKEN" | base64)" \
    "the token without a scheme|$TOKEN"; do
	post_string "$VALID" -H "Authorization: ${case#*|}"
	error_is 401 "Authorization with ${case%%|*}: 401"
	is "$BODY|$(header WWW-Authenticate)" "$missing_body|$missing_challenge" \
	    "  the same reply as without credentials"
done
post_string 'this is not JSON'
error_is 401 "bad JSON without credentials: 401 (credentials are checked before parsing)"
sized_event x-big-noauth 70000 >"$TEST_TMP/big"
post "$TEST_TMP/big"
error_is 401 "oversize body without credentials: 401 (credentials before size)"
post_string "$VALID" -H 'Content-Type: text/plain'
error_is 401 "wrong Content-Type without credentials: 401"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")

post "$TEST_TMP/big"
error_is 413 "a 70000-byte body (max_body 65536, nginx allows 128k): 413 from idwise-fcgi"

for ct in text/plain application/x-www-form-urlencoded application/jsonx text/json; do
	post_string "$VALID" -H "Content-Type: $ct"
	error_is 415 "Content-Type $ct: 415"
done

deep_event x-deep-40 40 >"$TEST_TMP/deep40"
printf '{"event":"Finished Step","body":{"eventId":"x-utf8","x":"\xff"}}' >"$TEST_TMP/bad-utf8"
printf '{"event":"Finished Step","body":{"eventId":"x-overlong","x":"\xc0\xaf"}}' >"$TEST_TMP/overlong"
printf '{"event":"Finished Step","body":{"eventId":"x-surrogate","x":"\xed\xa0\x80"}}' >"$TEST_TMP/surrogate"
printf '%s x' "$VALID" >"$TEST_TMP/trailing"
printf '%s%s' "$VALID" "$VALID" >"$TEST_TMP/two"
printf '' >"$TEST_TMP/empty"
printf '{"event":"Finished Step","body":{"eventId":"x-nul","x":"a\0b"}}' >"$TEST_TMP/nul"
for case in 'not JSON|this is not JSON' 'an array|[1,2]' 'a string|"Finished Step"' \
    'a number|42' 'cut short|{"event":"Finished Step","body":{'; do
	printf '%s' "${case#*|}" >"$TEST_TMP/bad"
	post "$TEST_TMP/bad"
	error_is 400 "${case%%|*}: 400"
done
for case in 'nested 40 deep|deep40' 'invalid UTF-8|bad-utf8' 'overlong UTF-8|overlong' \
    'UTF-8 surrogate|surrogate' 'a raw NUL byte in a string|nul' 'trailing data|trailing' \
    'two objects|two' 'empty body|empty'; do
	post "$TEST_TMP/${case#*|}"
	error_is 400 "${case%%|*}: 400"
done

for json in '{"event":1,"body":{}}' '{"event":null,"body":{}}' '{"event":"Finished Step","body":[]}' \
    '{"event":"Finished Step","body":"x"}' '{"event":"Finished Step"}' '{"body":{}}' '{}'; do
	post_string "$json"
	error_is 422 "$json: 422"
done
log_unchanged "$before" "no rejected request was logged"
ok "no reply carried a secret" no_secret_in "$TEST_TMP/replies.all"

# ---------------------------------------------------------------------------------------
# The log: complete lines, seq 1..N, the prev chain (and the checker itself can fail).

ok "the main log's chain verifies with sha256sum" check_chain "$LOG"
sed '3s/"CUST-000840-23"/"CUST-000840-24"/' "$LOG" >"$TEST_TMP/tampered"
ok "  (the checker notices an edited record)" quiet not check_chain "$TEST_TMP/tampered"
sed '5d' "$LOG" >"$TEST_TMP/tampered"
ok "  (the checker notices a deleted record)" quiet not check_chain "$TEST_TMP/tampered"

# ---------------------------------------------------------------------------------------
# Restart the responder: dedup and seq continue from the log.

stop_responder idwise
is "$STOP_RC" 0 "SIGTERM: idwise-fcgi exits 0"
start_responder idwise "$MAIN_CONF" || bail "idwise-fcgi did not restart"
post "$FJ"
reply_is 200 "{\"status\":\"duplicate\",\"seq\":$FJ_SEQ}" "after a restart: redelivery is a duplicate"
post "$SAMPLES/step_submitted.json"
reply_is 200 "{\"status\":\"duplicate\",\"seq\":${SEQ_OF[step_submitted]:-0}}" \
    "after a restart: step_submitted (hash key) is a duplicate"
post "$TEST_TMP/fj.conflict"
reply_is 200 "{\"status\":\"duplicate\",\"seq\":$CONFLICT_SEQ}" \
    "after a restart: the conflicting body is a duplicate of the conflict record"
last_hash=$(line_hash "$LOG" "$seq")
seq=$((seq + 1))
post_string '{"event":"Finished Step","body":{"eventId":"x-after-restart","journeyId":"j9","stepId":"4"}}'
reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "after a restart: a new event gets seq $seq"
is "$(log_last "$LOG" .prev)" "$last_hash" "after a restart: prev is the hash of the line before"
ok "after a restart: the chain verifies" check_chain "$LOG"
ok "no secret on the responder's stderr" no_secret_in "$ERR"

# ---------------------------------------------------------------------------------------
# Other configurations, each with its own log.

# 403: allow_from without 127.0.0.1; the address is checked before the credential.
use_config "$TEST_TMP/forbidden" 'allow_from=10.0.0.0/8, 192.0.2.7, 2001:db8::/32, ::1'
post_string "$VALID"
error_is 403 "allow_from without 127.0.0.1: 403"
CURL_AUTH=()
post_string "$VALID"
error_is 403 "  and 403 without credentials too"
request GET
error_is 405 "  GET: still 405 (method before source)"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
is "$(log_count "$LOG")" 0 "  nothing logged"

# 403 is not about the format: 127.0.0.0/8 as a CIDR block admits 127.0.0.1.
use_config "$TEST_TMP/cidr" 'allow_from=192.0.2.0/24, 127.0.0.0/8'
post "$FJ"
reply_is 200 '{"status":"accepted","seq":1}' "allow_from 127.0.0.0/8 admits 127.0.0.1"

# basic
use_config "$TEST_TMP/basic" auth=basic
CURL_AUTH=(-u "$BASIC_USER:$BASIC_PASSWORD")
post "$FJ"
reply_is 200 '{"status":"accepted","seq":1}' "basic: right user and password: accepted"
CURL_AUTH=()
post "$FJ"
error_is 401 "basic: no credentials: 401"
like "$(header WWW-Authenticate)" '^Basic( |$)' "basic: 401 carries WWW-Authenticate: Basic"
missing_body=$BODY
for case in "a wrong password|$BASIC_USER:wrong-$BASIC_PASSWORD" "another user|other:$BASIC_PASSWORD" \
    "an empty password|$BASIC_USER:" "the password plus a byte|$BASIC_USER:${BASIC_PASSWORD}x"; do
	post "$FJ" -u "${case#*|}"
	error_is 401 "basic: ${case%%|*}: 401"
	is "$BODY" "$missing_body" "  the same body as without credentials"
done
post "$FJ" -H "Authorization: Bearer $BASIC_PASSWORD"
error_is 401 "basic: the password as a bearer token: 401"
is "$(log_count "$LOG")" 1 "basic: only the accepted delivery is logged"
ok "basic: no reply carried a secret" no_secret_in "$TEST_TMP/replies.all"

# header
use_config "$TEST_TMP/header" auth=header
CURL_AUTH=(-H "$HEADER_NAME: $HEADER_VALUE")
post "$FJ"
reply_is 200 '{"status":"accepted","seq":1}' "header: the right $HEADER_NAME: accepted"
CURL_AUTH=()
post "$FJ"
error_is 401 "header: no header: 401"
missing_body=$BODY
for case in "a wrong value|$HEADER_NAME: wrong" "the value plus a byte|$HEADER_NAME: ${HEADER_VALUE}x" \
    "the value in another header|X-Other-Token: $HEADER_VALUE" \
    "the value as a bearer token|Authorization: Bearer $HEADER_VALUE"; do
	post "$FJ" -H "${case#*|}"
	is "$STATUS $BODY" "401 $missing_body" "header: ${case%%|*}: 401, the same body"
done
is "$(log_count "$LOG")" 1 "header: only the accepted delivery is logged"

# none
use_config "$TEST_TMP/none" auth=none
post "$FJ"
reply_is 200 '{"status":"accepted","seq":1}' "auth none: accepted without credentials"

# small max_body and unknown_events = reject
use_config "$TEST_TMP/small" max_body=2048 unknown_events=reject
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
sized_event x-2048 2048 >"$TEST_TMP/b2048"
sized_event x-2049 2049 >"$TEST_TMP/b2049"
post "$TEST_TMP/b2048"
reply_is 200 '{"status":"accepted","seq":1}' "max_body 2048: a 2048-byte body is accepted"
post "$TEST_TMP/b2049"
error_is 413 "max_body 2048: a 2049-byte body: 413"
post_string '{"event":"Something IDWise Adds Later","body":{"eventId":"x-unknown"}}'
error_is 422 "unknown_events = reject: an unknown event: 422"
post "$FJ"
reply_is 200 '{"status":"accepted","seq":2}' "unknown_events = reject: a known event is accepted"
is "$(log_count "$LOG")" 2 "only the two accepted deliveries are logged"

# The log cannot be written: its directory is a regular file (ENOTDIR, even for root).
mkdir -p "$TEST_TMP/unwritable"
: >"$TEST_TMP/unwritable/blocker"
use_config "$TEST_TMP/unwritable" "log=$TEST_TMP/unwritable/blocker/events.jsonl"
post "$FJ"
error_is 503 "log directory not writable: 503"
like "$(header Retry-After)" '^[0-9]+$' "503 carries Retry-After with a number of seconds"
post "$FJ"
error_is 503 "  the responder keeps serving: 503 again"
ok "  it said so on stderr" wait_for grep -q 'blocker' "$ERR"
ok "no reply carried a secret" no_secret_in "$TEST_TMP/replies.all"
rm -f "$TEST_TMP/unwritable/blocker"
mkdir "$TEST_TMP/unwritable/blocker" && give_to_responder "$TEST_TMP/unwritable/blocker"
post "$FJ"
reply_is 200 '{"status":"accepted","seq":1}' "once the directory exists: accepted as seq 1"
ok "  and that log verifies" check_chain "$LOG"

# ---------------------------------------------------------------------------------------
# 4 processes, 200 unique deliveries, 32 at a time.

N=200
stop_responder idwise
write_config "$TEST_TMP/conc"
start_responder idwise "$CONF" 4 || bail "spawn-fcgi -F 4 failed"
mkdir -p "$TEST_TMP/conc/req"
for ((i = 1; i <= N; i++)); do
	printf '{"event":"Finished Step","body":{"eventId":"conc-%d","journeyId":"j","stepId":"%d"}}' \
	    "$i" "$i" >"$TEST_TMP/conc/req/$i"
done
for ((i = 1; i <= N; i++)); do
	printf '%s\n' "$TEST_TMP/conc/req/$i"
done | xargs -P 32 -I{} curl -sS -o {}.reply -w '%{http_code}\n' -H 'Expect:' \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
    --data-binary @{} "$URL" >"$TEST_TMP/conc/codes" 2>"$TEST_TMP/conc/curl.err"
is "$(grep -c '^200$' "$TEST_TMP/conc/codes")" "$N" "concurrent: all $N deliveries got 200"
is "$(cat "$TEST_TMP"/conc/req/*.reply | jq -r 'select(.status == "accepted") | .seq' | sort -n |
    uniq | tr '\n' ' ')" "$(seq 1 "$N" | tr '\n' ' ')" "concurrent: the replies' seqs are 1..$N"
is "$(log_count "$LOG")" "$N" "concurrent: $N records"
ok "concurrent: the chain verifies" check_chain "$LOG"
is "$(jq -r .id "$LOG" | sort | uniq | wc -l | tr -d ' ')" "$N" "concurrent: $N distinct ids"
is "$(jq -r .id "$LOG" | sort | tr '\n' ' ')" "$(seq 1 "$N" | sed 's/^/conc-/' | sort | tr '\n' ' ')" \
    "concurrent: each delivery logged once"
is "$(for p in $(responder_pids idwise); do pid_alive "$p" && echo alive; done | wc -l | tr -d ' ')" 4 \
    "concurrent: all 4 processes are still running"
stop_responder idwise

# ---------------------------------------------------------------------------------------

ok "no sanitizer report on the responders' stderr" no_sanitizer_reports "$ERR"
ok "nginx logged no crash or alert" no_line_in "$NGINX_DIR/error.log" '\[(alert|crit|emerg)\]'
done_testing
