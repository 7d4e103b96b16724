#!/bin/bash
# SPDX-License-Identifier: ISC
# fuzz/make-seeds.sh: write the seed corpora fuzz/corpus/{request,config,verify}/ from
# tests/samples and the cases of the tests (run it from anywhere; it replaces seed-* files
# and leaves regress-* files, the inputs of past findings, alone). The layout of a request
# input is described at the top of fuzz/fuzz-request.c.
set -eu
cd "$(dirname "$0")/.."
OUT=fuzz/corpus
SAMPLES=tests/samples
TOKEN_A=tok-Alpha-7f3c9e1d
BASIC=$(printf '%s' 'idwise:pw-Gamma-55d1e0f3' | base64)
HEADER_VALUE=hv-Delta-9e7a3b61
mkdir -p "$OUT/request" "$OUT/config" "$OUT/verify"
rm -f "$OUT"/request/seed-* "$OUT"/config/seed-* "$OUT"/verify/seed-*

# byte N: one byte as a printf escape
byte() { printf '\\x%02x' "$1"; }

# request NAME CONFIG FLAGS METHOD LENGTH TYPE ADDR AUTHZ CUSTOM BODY-FILE
# Parameters given as "-" are absent. FLAGS bit 0: CONTENT_LENGTH from the body.
request()
{
	local name=$1 cfg=$2 flags=$3 mask=0 i=0 p head
	shift 3
	local -a params=("$1" "$2" "$3" "$4" "$5" "$6")
	for p in "${params[@]}"; do
		[ "$p" = - ] || mask=$((mask | 1 << i))
		i=$((i + 1))
	done
	# seq 7, received 2026-11-25T16:40:26.123Z
	head="$(byte "$cfg")$(byte "$flags")$(byte "$mask")\\x07\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
	head="$head\\x7a\\xee\\x25\\x6a\\x7b\\x00"
	{
		printf "$head"
		for p in "${params[@]}"; do
			[ "$p" = - ] && p=
			printf '%s\0' "$p"
		done
		cat "$7"
	} >"$OUT/request/seed-$name"
}

# good NAME CONFIG BODY-FILE: an authorized POST for that config.
good()
{
	case $2 in
	0) request "$1" 0 1 POST - application/json 127.0.0.1 - - "$3" ;;
	1) request "$1" 1 1 POST - application/json 127.0.0.1 "Bearer $TOKEN_A" - "$3" ;;
	2) request "$1" 2 1 POST - 'application/json; charset=utf-8' 192.0.2.1 "Basic $BASIC" - "$3" ;;
	3) request "$1" 3 1 POST - application/json 10.1.2.3 - "$HEADER_VALUE" "$3" ;;
	4) request "$1" 4 1 POST - application/json ::1 "Bearer $TOKEN_A" - "$3" ;;
	esac
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
body() { printf '%b' "$2" >"$TMP/$1"; printf '%s\n' "$TMP/$1"; }

for f in "$SAMPLES"/*.json; do
	n=$(basename "$f" .json)
	good "$n-none" 0 "$f"
	good "$n-bearer" 1 "$f"
done
good finished_journey-basic 2 "$SAMPLES/finished_journey.json"
good step_submitted-header 3 "$SAMPLES/step_submitted.json"
good small-ok 4 "$(body small '{"event":"Finished Step","body":{}}')"
good small-over 4 "$SAMPLES/finished_step.json"
FJ=$SAMPLES/finished_journey.json
request get 1 1 GET - - 127.0.0.1 "Bearer $TOKEN_A" - "$(body empty '')"
request forbidden 1 1 POST - application/json 198.51.100.7 "Bearer $TOKEN_A" - "$FJ"
request no-auth 1 1 POST - application/json 127.0.0.1 - - "$FJ"
request bearer-case 1 1 POST - application/json ::1 "bEaReR   $TOKEN_A" - "$FJ"
request basic-wrong 2 1 POST - application/json 127.0.0.1 "Basic aWR3aXNlOndyb25n" - "$FJ"
request bad-length 1 0 POST 12a application/json 127.0.0.1 "Bearer $TOKEN_A" - "$FJ"
request too-large 1 0 POST 99999999999999999999999 application/json 127.0.0.1 "Bearer $TOKEN_A" - "$FJ"
request truncated 1 0 POST 900 application/json 127.0.0.1 "Bearer $TOKEN_A" - "$FJ"
request no-length 0 0 POST - - ::ffff:127.0.0.1 - - "$FJ"
request text-plain 0 1 POST - text/plain 127.0.0.1 - - "$FJ"
i=0
while IFS= read -r json; do
	i=$((i + 1))
	good "json-$i" 1 "$(body "j$i" "$json")"
done <<'EOF_JSON'
{"event":"Finished Step","body":{"eventId":"e","x":"\\u00e9\\ud83d\\ude00\\n"}}
{"event":"Finished Step","body":{"eventId":"e","x":"\\ud800"}}
{"event":"Finished Step","body":{"eventId":"e","x":"\xc0\xaf"}}
{"event":"Finished Step","body":{"eventId":"e","x":"\xed\xa0\x80"}}
{"event":"Finished Step","body":{"eventId":"e","a":18446744073709551615,"b":-9223372036854775808,"c":1e308,"d":-0.5E-3}}
{"event":"Finished Step","body":{"eventId":"e","a":18446744073709551616}}
{"event":"Finished Step","body":{"eventId":"e","a":1e400}}
{"event":"Finished Step","body":{"eventId":"e","a":1,"a":2}}
{"event":"Finished Step","body":{"eventId":"e","a":1,"\\u0061":2}}
{"event":"Finished Step","body":{"\\u0000":1}}
{"event":"Finished Step","body":{"eventId":"e"}} x
{"event":"Finished Step","body":{}}{"event":"Finished Step","body":{}}
{"event":"Finished Step","body":[]}
{"event":1,"body":{}}
{"event":"Something New","body":{"eventId":"u"}}
{"\\u0065vent":"Finished Journey","body":{"eventId":"esc","finalDecision":"Approved","systemDecision":"Refer"}}
{"event":"Finished Spot Check","body":{"spotCheckJourneyId":"s","systemDecision":7}}
[1,2]
{'event':'x'}
{"event":"Finished Step","body":{"a":NaN}}
EOF_JSON
deep()	# deep DEPTH: envelope 1, body 2, then arrays
{
	local n=$(($1 - 2))
	printf '{"event":"Finished Step","body":{"eventId":"deep","n":%s%s}}' \
	    "$(head -c "$n" /dev/zero | tr '\0' '[')" "$(head -c "$n" /dev/zero | tr '\0' ']')"
}
deep 32 >"$TMP/deep32"
deep 33 >"$TMP/deep33"
good deep-32 0 "$TMP/deep32"
good deep-33 0 "$TMP/deep33"

# config: the test configs, each key, and a few errors
conf() { printf '%b' "$2" >"$OUT/config/seed-$1"; }
conf bearer 'auth = bearer\nbearer_token_file = tokens\nallow_from = 127.0.0.1, ::1\n'
conf basic '# a comment\nauth = basic\nbasic_user = idwise\nbasic_password_file = /etc/idwise/pw\n'
conf header 'auth = header\nheader_name = X-IDWise-Token\nheader_value_file = hv\n'
conf all 'log = /var/lib/idwise-fcgi/events.jsonl\nenv = sandbox\nauth = none\nallow_from = 192.0.2.0/24, 2001:db8::/32, ::ffff:10.0.0.0/104\nmax_body = 65536\nunknown_events = reject\nsync = none\ndedup_window = 7d\n'
conf bom '\xef\xbb\xbfauth = none\r\n'
conf twice 'auth = none\nauth = bearer\n'
conf wrong-kind 'auth = none\nbasic_user = x\n'
conf unknown 'auth = none\ndG9rZW4= \n'
conf reserved 'auth = header\nheader_name = Authorization\nheader_value_file = hv\n'

# verify: logs written by the responder, and a torn and a tampered one
v=$OUT/verify
ZERO=0000000000000000000000000000000000000000000000000000000000000000
l1='{"v":1,"seq":1,"received_at":"2026-11-25T16:40:26.123Z","id":"81e74ef5-e8e2-4d94-8ed9-04759531985d","type":"finished_journey","event":"Finished Journey","journey_id":"269e0d37f2a74de452e6b438","reference_no":"CUST-000840-23","outcome":"approved","env":"live","remote_addr":"127.0.0.1","body_sha256":"7c1c0000000000000000000000000000000000000000000000000000000000ff","body":{"eventId":"81e74ef5-e8e2-4d94-8ed9-04759531985d","journeyId":"269e0d37f2a74de452e6b438","referenceNo":"CUST-000840-23","systemDecision":"Complete"},"prev":"'$ZERO'"}'
h1=$(printf '%s\n' "$l1" | sha256sum | cut -d' ' -f1)
l2='{"v":1,"seq":2,"received_at":"2026-11-25T16:40:27.000Z","id":"sha256:0f","type":"step_submitted","event":"Step Submitted","journey_id":null,"reference_no":null,"outcome":"none","env":"live","remote_addr":"::1","body_sha256":"0f00000000000000000000000000000000000000000000000000000000000000","conflict":true,"body":{"stepId":20,"n":[1,{"a":null}]},"prev":"'$h1'"}'
printf '%s\n%s\n' "$l1" "$l2" >"$v/seed-two"
printf '%s\n%s' "$l1" "${l2:0:100}" >"$v/seed-torn"
printf '%s\n%s\n' "$l1" "${l2/\"seq\":2/\"seq\":3}" >"$v/seed-gap"
printf '%s\n\n%s\n' "$l1" "$l2" >"$v/seed-blank"
printf 'garbage\n{}\n[1]\n' >"$v/seed-garbage"
echo "seeds: $(ls "$OUT/request" | wc -l) request, $(ls "$OUT/config" | wc -l) config, $(ls "$v" | wc -l) verify"
