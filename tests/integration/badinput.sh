#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/badinput.sh: the bad-input corpus tests/badinput/cases (one request per
# line: wrong methods, near-miss credentials, content types, sizes, broken JSON, nesting,
# UTF-8, escapes, NUL bytes, numbers, duplicate names, envelopes, unknown events) sent through
# a real nginx to idwise-fcgi, each with the status idwise-fcgi(8) gives it. Then, per config: the
# log holds exactly the accepted ids and its chain verifies, the reject log has one line per
# refusal idwise-fcgi saw, and the responder still serves. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

CASES=$top_srcdir/tests/badinput/cases
SOCK=$(responder_socket idwise)
ERR=$TEST_TMP/idwise.stderr
BASIC=$(printf '%s' "$BASIC_USER:$BASIC_PASSWORD" | base64 -w0)

declare -A CONFIG_ARGS=(
	[bearer]=''
	[reject]='unknown_events=reject'
	[basic]='auth=basic'
	[header]='auth=header'
)
declare -A AUTH_OF=(
	[bearer]="Authorization: Bearer $TOKEN"
	[reject]="Authorization: Bearer $TOKEN"
	[basic]="Authorization: Basic $BASIC"
	[header]="$HEADER_NAME: $HEADER_VALUE"
)

# expand CONFIG TEXT: the placeholders of tests/badinput/cases replaced, then printf %b.
expand()
{
	local s=$2 inner upper_user=${BASIC_USER^^}
	s=${s//\{AUTH\}/${AUTH_OF[$1]}}
	s=${s//\{TOKEN\}/$TOKEN}
	s=${s//\{TOKEN2\}/$TOKEN2}
	s=${s//\{TOKEN_HEAD\}/${TOKEN%?}}
	s=${s//\{TOKEN_TAIL\}/${TOKEN#?}}
	s=${s//\{TOKEN_UP\}/${TOKEN^^}}
	s=${s//\{TOKEN_SPLIT\}/${TOKEN:0:8} ${TOKEN:8}}
	s=${s//\{USER\}/$BASIC_USER}
	s=${s//\{USER_UP\}/$upper_user}
	s=${s//\{PASSWORD\}/$BASIC_PASSWORD}
	s=${s//\{PASSWORD_HEAD\}/${BASIC_PASSWORD%?}}
	s=${s//\{BASIC\}/$BASIC}
	s=${s//\{BASIC_NOPAD\}/${BASIC%%=*}}
	s=${s//\{BASIC_SPLIT\}/${BASIC:0:8} ${BASIC:8}}
	s=${s//\{HEADER_NAME\}/$HEADER_NAME}
	s=${s//\{HEADER_NAME_LOW\}/${HEADER_NAME,,}}
	s=${s//\{HEADER_NAME_UNDERSCORE\}/${HEADER_NAME//-/_}}
	s=${s//\{HV\}/$HEADER_VALUE}
	s=${s//\{HV_UP\}/${HEADER_VALUE^^}}
	s=${s//\{HV_HEAD\}/${HEADER_VALUE%?}}
	while [[ $s =~ \{B64:([^{}]*)\} ]]; do
		inner=${BASH_REMATCH[1]}
		s=${s/"{B64:$inner}"/$(printf '%s' "$inner" | base64 -w0)}
	done
	printf '%b' "$s"
}

# deep_body ID DEPTH INNER: DEPTH levels of objects and arrays (the envelope is 1).
deep_body()
{
	local n=$(($2 - 2))
	printf '{"event":"Finished Step","body":{"eventId":"%s","n":' "$1"
	head -c "$n" /dev/zero | tr '\0' '['
	printf '%s' "$3"
	head -c "$n" /dev/zero | tr '\0' ']'
	printf '}}'
}

# make_body SPEC FILE: write the body the spec describes; 1 for "-" (no body).
make_body()
{
	local spec=$1 file=$2 id size
	case $spec in
	-) return 1 ;;
	inline:*) printf '%b' "${spec#inline:}" >"$file" ;;
	sample:*) cp "$SAMPLES/${spec#sample:}.json" "$file" ;;
	sized:*)
		IFS=: read -r _ id size <<<"$spec"
		sized_event "$id" "$size" >"$file"
		;;
	deep:*)
		IFS=: read -r _ id size inner <<<"$spec"
		deep_body "$id" "$size" "$inner" >"$file"
		;;
	*) bail "tests/badinput/cases: unknown body \"$spec\"" ;;
	esac
}

# error_says TEXT: the last reply is {"error": "..."} and the reason contains TEXT.
error_says()
{
	is_error_reply && jq -r .error <<<"$BODY" | grep -qF -- "$1"
}

# run_case CONFIG NAME METHOD HEADERS BODY STATUS EXPECT
run_case()
{
	local cfg=$1 name=$2 method=$3 headers=$4 spec=$5 status=$6 expect=$7
	local file=$TEST_TMP/body.$((++NCASES)) rest h has_type=0
	local -a args=()
	if [ "$headers" != - ]; then
		rest=$headers
		while :; do
			h=$(expand "$cfg" "${rest%% ;; *}")
			[[ ${h,,} == content-type* ]] && has_type=1
			args+=(-H "$h")
			[[ $rest == *' ;; '* ]] || break
			rest=${rest#* ;; }
		done
	fi
	if make_body "$spec" "$file"; then
		args+=(--data-binary "@$file")
		[ "$has_type" -eq 1 ] || args+=(-H 'Content-Type: application/json')
	fi
	[ "$method" = HEAD ] && args+=(-I)
	request "$method" "${args[@]}"
	is "$STATUS" "$status" "$cfg: $name: $status" || diag "body: $BODY"
	case $expect in
	nginx)
		is "$(content_type)" text/html "  answered by nginx itself (an HTML page)"
		return
		;;
	accepted)
		is "$(jq -r .status <<<"$BODY" 2>/dev/null)" accepted "  stored"
		ACCEPTED_IDS+=("$(jq -r .body.eventId "$file")")
		return
		;;
	-)
		;;
	*)
		ok "  a JSON error saying \"$expect\"" error_says "$expect" || diag "body: $BODY"
		;;
	esac
	SEEN_REJECTS=$((SEEN_REJECTS + 1))
	if [ "$status" = 405 ]; then
		is "$(header Allow)" POST "  with Allow: POST"
	elif [ "$status" = 401 ] && [ "$cfg" != header ]; then
		like "$(header WWW-Authenticate)" '^(Basic|Bearer) realm=' "  with WWW-Authenticate"
	fi
}

# ---------------------------------------------------------------------------------------

grep -qP '\t' "$CASES" || bail "no cases in $CASES"
NCASES=0
TOTAL=0
start_responder idwise "$(write_config "$TEST_TMP/bearer" && printf '%s' "$CONF")" ||
    bail "idwise-fcgi did not start"
start_nginx "$SOCK" || bail "nginx did not start"

for cfg in bearer reject basic header; do
	stop_responder idwise
	# shellcheck disable=SC2086
	write_config "$TEST_TMP/$cfg" ${CONFIG_ARGS[$cfg]} \
	    "reject_log=$TEST_TMP/$cfg/rejects.jsonl" || bail "cannot write the $cfg config"
	start_responder idwise "$CONF" || bail "idwise-fcgi did not start with the $cfg config"
	ACCEPTED_IDS=()
	SEEN_REJECTS=0
	n=0
	while IFS=$'\t' read -r c name method headers body status expect <&3; do
		[ "$c" = "$cfg" ] || continue
		run_case "$c" "$name" "$method" "$headers" "$body" "$status" "$expect"
		n=$((n + 1))
	done 3< <(grep -v -e '^#' -e '^$' "$CASES")
	TOTAL=$((TOTAL + n))
	is "$(log_count "$LOG")" "${#ACCEPTED_IDS[@]}" \
	    "$cfg: after $n requests the log holds the ${#ACCEPTED_IDS[@]} accepted ones"
	is "$(jq -r .id "$LOG" 2>/dev/null | sort | tr '\n' ' ')" \
	    "$(printf '%s\n' "${ACCEPTED_IDS[@]}" | sort | tr '\n' ' ')" \
	    "$cfg: and exactly their ids"
	if [ "${#ACCEPTED_IDS[@]}" -gt 0 ]; then
		ok "$cfg: the chain verifies" check_chain "$LOG"
	fi
	is "$(log_count "$TEST_TMP/$cfg/rejects.jsonl")" "$SEEN_REJECTS" \
	    "$cfg: the reject log has one line per refusal idwise-fcgi saw ($SEEN_REJECTS)"
	ok "$cfg: the responder is still running" pid_alive "$(responder_pids idwise)"
	run_case "$cfg" "a valid delivery after the corpus" POST '{AUTH}' \
	    "inline:{\"event\":\"Finished Journey\",\"body\":{\"eventId\":\"bi-final-$cfg\"}}" \
	    200 accepted
	is "$(log_record "$LOG" "$((${#ACCEPTED_IDS[@]}))" .id)" "bi-final-$cfg" \
	    "$cfg: stored as the next record"
done

ok "the corpus has at least 60 requests ($TOTAL)" test "$TOTAL" -ge 60
ok "no reply carried a secret" no_secret_in "$TEST_TMP/replies.all"
ok "the reject logs hold no secret" no_secret_in "$TEST_TMP"/*/rejects.jsonl
ok "no secret on the responder's stderr" no_secret_in "$ERR"
ok "no sanitizer report on the responder's stderr" no_sanitizer_reports "$ERR"
ok "nginx logged no crash or alert" no_line_in "$NGINX_DIR/error.log" '\[(alert|crit|emerg)\]'
done_testing
