# SPDX-License-Identifier: ISC
# tests/lib/send.sh: requests with curl to $URL and the checks of their replies (request,
# post, post_string, header, reply_is, error_is) and the request bodies the tests send
# (sized_event, deep_event, step_event), and every sample sent and sent again (post_samples,
# redeliver_samples); sourced by tests/lib.sh.
# shellcheck shell=bash

CURL_AUTH=()		# credentials every request carries, e.g. (-H "Authorization: Bearer x")
CURL_ARGS=()		# other arguments every request carries, e.g. (-H "Host: site.test")
STATUS=
BODY=
_req_n=0

# request METHOD [CURL-ARG...]: send to $URL. Sets STATUS (HTTP code, 000 when curl
# failed) and BODY; the reply headers are in $TEST_TMP/reply.headers.
request()
{
	local method=$1
	shift
	_req_n=$((_req_n + 1))
	STATUS=$(curl -sS -X "$method" -o "$TEST_TMP/reply.body" -D "$TEST_TMP/reply.headers" \
	    -w '%{http_code}' -H 'Expect:' "${CURL_ARGS[@]}" "${CURL_AUTH[@]}" "$@" "$URL" \
	    2>"$TEST_TMP/curl.err")
	BODY=$(cat "$TEST_TMP/reply.body" 2>/dev/null)
	cat "$TEST_TMP/reply.headers" "$TEST_TMP/reply.body" >>"$TEST_TMP/replies.all" 2>/dev/null
	[ -n "$STATUS" ] || STATUS=000
}

# post FILE [CURL-ARG...]: POST the file's bytes with Content-Type: application/json,
# unless the arguments hold a -H 'Content-Type: ...' of their own (-H 'Content-Type:'
# sends none).
post()
{
	local file=$1 a ctype=(-H 'Content-Type: application/json')
	shift
	for a in "$@"; do
		case ${a,,} in
		content-type:*) ctype=() ;;
		esac
	done
	request POST --data-binary "@$file" "${ctype[@]}" "$@"
}

# post_string TEXT [CURL-ARG...]: POST TEXT exactly (printf %s) like post.
post_string()
{
	local file=$TEST_TMP/request.$((_req_n + 1))
	printf '%s' "$1" >"$file"
	shift
	post "$file" "$@"
}

# header NAME: the value of reply header NAME (case-insensitive), without CR.
header()
{
	awk -v want="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" '
		{ sub(/\r$/, "") }
		/^HTTP\// { found = "" ; next }
		{
			i = index($0, ":")
			if (i > 0 && tolower(substr($0, 1, i - 1)) == want) {
				v = substr($0, i + 1); sub(/^[ \t]+/, "", v); found = v
			}
		}
		END { printf "%s", found }' "$TEST_TMP/reply.headers"
}

# content_type: the last reply's media type, lower case, without parameters.
content_type()
{
	header content-type | cut -d';' -f1 | tr -d ' \t' | tr '[:upper:]' '[:lower:]'
}

# reply_is STATUS JSON DESC: the last reply has that status, Content-Type
# application/json and that JSON body (member order and spacing aside).
reply_is()
{
	is "$STATUS $(content_type) $(json_norm "$BODY")" \
	    "$1 application/json $(json_norm "$2")" "$3"
}

# error_is STATUS DESC: the last reply has that status, Content-Type application/json
# and an error body {"error": "<reason>"}.
error_is()
{
	local shape=not-an-error-object
	is_error_reply && shape='{"error":"..."}'
	is "$STATUS $(content_type) $shape" "$1 application/json {\"error\":\"...\"}" "$2" ||
	    diag "body: $BODY"
}

# json_norm TEXT: TEXT as sorted compact JSON, or "not JSON: TEXT".
json_norm()
{
	jq -cS . <<<"$1" 2>/dev/null || printf 'not JSON: %s' "$1"
}

# is_error_reply: BODY is exactly {"error": "<non-empty string>"}.
is_error_reply()
{
	jq -e 'type == "object" and keys == ["error"] and (.error | type == "string")
	    and (.error | length > 0)' <<<"$BODY" >/dev/null 2>&1
}

# sized_event ID SIZE: a Finished Step delivery of exactly SIZE bytes (SIZE >= 80).
sized_event()
{
	local head="{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"$1\",\"pad\":\""
	local n=$(($2 - ${#head} - 3))
	printf '%s%s"}}' "$head" "$(head -c "$n" /dev/zero | tr '\0' x)"
}

# deep_event ID DEPTH: a Finished Step delivery nested DEPTH levels deep, counting the
# envelope object as 1 and body as 2 (DEPTH >= 3).
deep_event()
{
	local n=$(($2 - 2)) open close
	open=$(head -c "$n" /dev/zero | tr '\0' '[')
	close=$(head -c "$n" /dev/zero | tr '\0' ']')
	printf '{"event":"Finished Step","body":{"eventId":"%s","n":%s%s}}' "$1" "$open" "$close"
}

# sha256_of FILE: hex SHA-256 of the file's bytes.
sha256_of()
{
	sha256sum <"$1" | cut -d' ' -f1
}

# step_event ID: a Finished Step delivery with eventId ID; the same body tests/gen-log
# stores, so a generated record and a delivery of its id are one event.
STEP_EVENT='{"event":"Finished Step","body":{"eventId":"%s","journeyId":"j-gen","stepId":"1"}}'
step_event()
{
	# shellcheck disable=SC2059
	printf "$STEP_EVENT" "$1"
}

# --- the samples ---------------------------------------------------------------------

declare -A SEQ_OF=()	# sample name -> the seq post_samples saw it accepted as

# post_samples [-p PREFIX] [CHECK [ARG...]]: POST every sample of $SAMPLES in turn, each
# to be accepted as the next seq after $seq (the caller's variable, which it advances);
# SEQ_OF[NAME] gets that seq. CHECK ARG... NAME FILE SEQ then checks the record (a
# function of the test's, or sample_stored). PREFIX starts each description.
post_samples()
{
	local prefix= file name
	[ "${1:-}" != -p ] || { prefix=$2; shift 2; }
	for file in "$SAMPLES"/*.json; do
		name=$(basename "$file" .json)
		seq=$((seq + 1))
		post "$file"
		reply_is 200 "{\"status\":\"accepted\",\"seq\":$seq}" "$prefix$name: accepted as seq $seq"
		SEQ_OF[$name]=$seq
		[ $# -eq 0 ] || "$@" "$name" "$file" "$seq"
	done
}

# sample_stored ENV NAME FILE SEQ: record SEQ has env ENV, remote_addr 127.0.0.1, the file's
# body_sha256 and the file's body.
sample_stored()
{
	is "$(log_record "$LOG" "$4" '[.env, .remote_addr, .body_sha256] | tojson')" \
	    "[\"$1\",\"127.0.0.1\",\"$(sha256_of "$3")\"]" \
	    "$2: the record's env, remote_addr and body_sha256"
	is "$(log_record "$LOG" "$4" .body | jq -cS . 2>&1)" "$(jq -cS .body "$3")" \
	    "$2: the record's body is the body sent"
}

# redeliver_samples: POST every sample again: each is a duplicate of SEQ_OF[NAME], and the
# log does not change.
redeliver_samples()
{
	local file name before
	before=$(log_state "$LOG")
	for file in "$SAMPLES"/*.json; do
		name=$(basename "$file" .json)
		post "$file"
		reply_is 200 "{\"status\":\"duplicate\",\"seq\":${SEQ_OF[$name]:-0}}" \
		    "$name: redelivered, a duplicate of seq ${SEQ_OF[$name]:-?}"
	done
	is "$(log_state "$LOG")" "$before" "redeliveries append nothing"
}
