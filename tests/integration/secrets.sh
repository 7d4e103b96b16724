#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/secrets.sh: no secret leaves the process. For bearer, basic and header
# auth behind nginx (log_level = debug and a reject_log, so that every decision is written
# somewhere): deliveries with the right credential and with wrong ones (near misses of the
# right one among them), then every output is searched for every secret value, for the base64
# of user:password, and for the wrong credentials sent: the replies with their headers, the
# responder's stderr, nginx's error and access logs, the event logs, the reject logs, and
# what --check-config and a refused config print. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

SOCK=$(responder_socket idwise)
BASIC=$(printf '%s' "$BASIC_USER:$BASIC_PASSWORD" | base64 -w0)
WRONG=()		# the wrong credentials sent: no output may echo them either
OUTPUTS=()		# every file a secret must not be in
n=0
nwrong=0

# deliver DESC STATUS CURL-ARG...: one delivery with its own eventId.
deliver()
{
	local desc=$1 want=$2
	shift 2
	n=$((n + 1))
	CURL_AUTH=("$@")
	post_string "{\"event\":\"Finished Journey\",\"body\":{\"eventId\":\"sec-$n\",\"systemDecision\":\"Complete\"}}"
	is "$STATUS" "$want" "$desc: $want"
}

# wrong DESC VALUE CURL-ARG...: a refused delivery whose credential VALUE is remembered.
wrong()
{
	WRONG+=("$2")
	nwrong=$((nwrong + 1))
	deliver "$1" 401 "${@:3}"
}

start_nginx "$SOCK" || bail "nginx did not start"
for auth in bearer basic header; do
	dir=$TEST_TMP/$auth
	write_config "$dir" "auth=$auth" log_level=debug "reject_log=$dir/rejects.jsonl" ||
	    bail "cannot write the $auth config"
	stop_responder idwise
	start_responder idwise "$CONF" || bail "idwise-fcgi did not start with auth $auth"
	OUTPUTS+=("$LOG" "$dir/rejects.jsonl")
	case $auth in
	bearer)
		deliver "bearer: the right token" 200 -H "Authorization: Bearer $TOKEN"
		deliver "bearer: the second token" 200 -H "Authorization: Bearer $TOKEN2"
		wrong "bearer: the token less a byte" "${TOKEN%?}" -H "Authorization: Bearer ${TOKEN%?}"
		wrong "bearer: another token" "tok-wrong-$(random_hex 12)" \
		    -H "Authorization: Bearer tok-wrong-$(random_hex 12)"
		WRONG[-1]=${CURL_AUTH[1]#Authorization: Bearer }
		wrong "bearer: the token upper-cased" "${TOKEN^^}" -H "Authorization: Bearer ${TOKEN^^}"
		wrong "bearer: the token as Basic" "$TOKEN" -H "Authorization: Basic $TOKEN"
		;;
	basic)
		deliver "basic: the right user and password" 200 -u "$BASIC_USER:$BASIC_PASSWORD"
		wrong "basic: a wrong password" "pw-wrong-$(random_hex 8)" -u "$BASIC_USER:pw-wrong-x"
		WRONG[-1]=pw-wrong-x
		wrong "basic: the password less a byte" "${BASIC_PASSWORD%?}" \
		    -u "$BASIC_USER:${BASIC_PASSWORD%?}"
		WRONG+=("$(printf '%s' "$BASIC_USER:${BASIC_PASSWORD%?}" | base64 -w0)")
		wrong "basic: the password as a bearer token" "$BASIC_PASSWORD" \
		    -H "Authorization: Bearer $BASIC_PASSWORD"
		;;
	header)
		deliver "header: the right value" 200 -H "$HEADER_NAME: $HEADER_VALUE"
		wrong "header: the value plus a byte" "${HEADER_VALUE}x" -H "$HEADER_NAME: ${HEADER_VALUE}x"
		wrong "header: the value as a bearer token" "$HEADER_VALUE" \
		    -H "Authorization: Bearer $HEADER_VALUE"
		wrong "header: another value" "hv-wrong-value-1234" -H "$HEADER_NAME: hv-wrong-value-1234"
		;;
	esac
	# The program's own account of its config must not show it either.
	"$IDWISE_FCGI" -c "$CONF" --check-config >"$dir/check.out" 2>&1
	is "$?" 0 "$auth: --check-config accepts the config"
	OUTPUTS+=("$dir/check.out")
done
stop_responder idwise

# Configs refused because of a secret: what they print must not show it.
dir=$TEST_TMP/refused
write_config "$dir" || bail "cannot write the config"
chmod 0644 "$dir/bearer_tokens"
"$IDWISE_FCGI" -c "$CONF" --check-config >"$dir/loose.out" 2>&1
is "$?" 78 "a token file others may read is refused (exit 78)"
like "$(cat "$dir/loose.out")" 'readable by others' "  saying why"
chmod 0600 "$dir/bearer_tokens"
printf '%s\n' "$TOKEN" >>"$CONF"
"$IDWISE_FCGI" -c "$CONF" --check-config >"$dir/pasted.out" 2>&1
is "$?" 78 "a token pasted into the config by mistake is refused (exit 78)"
like "$(cat "$dir/pasted.out")" 'idwise-fcgi.conf:[0-9]+: ' "  naming the line"
printf 'basic_user = %s\n' "$BASIC_PASSWORD" >"$dir/basic.conf"
printf 'auth = bearer\nbearer_token_file = bearer_tokens\n' >>"$dir/basic.conf"
"$IDWISE_FCGI" -c "$dir/basic.conf" --check-config >"$dir/otherkind.out" 2>&1
is "$?" 78 "a key of another auth kind is refused (exit 78)"
OUTPUTS+=("$dir/loose.out" "$dir/pasted.out" "$dir/otherkind.out")

# nginx's logs, the replies with their headers, the responder's stderr.
OUTPUTS+=("$TEST_TMP/replies.all" "$TEST_TMP/idwise.stderr" "$NGINX_DIR/error.log"
    "$NGINX_DIR/access.log")
for f in "${OUTPUTS[@]}"; do
	[ -e "$f" ] || { ok "output $f exists" false; continue; }
done
ok "the outputs are not empty (the search has something to search)" \
    test "$(cat "${OUTPUTS[@]}" | wc -c)" -gt 2000
is "$(cat "$TEST_TMP"/*/events.jsonl | wc -l | tr -d ' ')" 4 "the 4 right deliveries are stored"
is "$(cat "$TEST_TMP"/*/rejects.jsonl | wc -l | tr -d ' ')" "$nwrong" \
    "each wrong one is in a reject log"

# found NEEDLE: the files of OUTPUTS that contain NEEDLE, or nothing.
found()
{
	grep -lF -- "$1" "${OUTPUTS[@]}" 2>/dev/null
}

for s in "$TOKEN" "$TOKEN2" "$BASIC_PASSWORD" "$BASIC_USER:$BASIC_PASSWORD" "$BASIC" \
    "$HEADER_VALUE"; do
	is "$(found "$s")" "" "no output holds the secret ${s:0:6}..."
done
for s in "${WRONG[@]}"; do
	is "$(found "$s")" "" "no output holds the wrong credential ${s:0:6}... sent"
done
is "$(found "$BASIC_PASSWORD")" "" "the password that was put in basic_user is not echoed"
done_testing
