#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/cgi.sh: idwise-fcgi as a plain CGI program (fd 0 a file or a pipe, the
# CGI variables in the environment), one FastCGI responder driven by cgi-fcgi (a stdin
# shorter than CONTENT_LENGTH), and the command line (--check-config, exit codes).
# Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

write_config "$TEST_TMP/cgi"
FJ=$SAMPLES/finished_journey.json
FJ_LEN=$(wc -c <"$FJ")
NEW=$TEST_TMP/new.json
printf '{"event":"Finished Step","body":{"eventId":"cgi-new-%s","journeyId":"j","stepId":"1"}}' \
    1 >"$NEW.1"
printf '{"event":"Finished Step","body":{"eventId":"cgi-new-%s","journeyId":"j","stepId":"1"}}' \
    2 >"$NEW.2"
printf '{"event":"Finished Step","body":{"eventId":"cgi-new-%s","journeyId":"j","stepId":"1"}}' \
    3 >"$NEW.3"
printf '{"event":"Finished Step","body":{"eventId":"cgi-new-%s","journeyId":"j","stepId":"1"}}' \
    4 >"$NEW.4"
NEW_LEN=$(wc -c <"$NEW.1")

# cgi_env LENGTH [VAR=value...]: the CGI variables of an authorized POST from 127.0.0.1.
cgi_env()
{
	CGI_ENV=(REQUEST_METHOD=POST "CONTENT_LENGTH=$1" CONTENT_TYPE=application/json
	    REMOTE_ADDR=127.0.0.1 "HTTP_AUTHORIZATION=Bearer $TOKEN")
	shift
	CGI_ENV+=("$@")
}

# ---------------------------------------------------------------------------------------
# Plain CGI.

cgi_env "$FJ_LEN"
cgi_run "$CONF" "$FJ" "${CGI_ENV[@]}"
is "$CGI_RC" 0 "CGI: exits 0"
ok "CGI: the reply starts with a Status: header" grep -q '^Status: 200' "$TEST_TMP/cgi.out"
reply_is 200 '{"status":"accepted","seq":1}' "CGI: a sample is accepted as seq 1"
is "$(log_record "$LOG" 1 '[.type, .id, .remote_addr, .env] | tojson')" \
    '["finished_journey","81e74ef5-e8e2-4d94-8ed9-04759531985d","127.0.0.1","test"]' \
    "CGI: the record has type, id, remote_addr and env"

cgi_run "$CONF" "$FJ" "${CGI_ENV[@]}"
reply_is 200 '{"status":"duplicate","seq":1}' "CGI: the same delivery again is a duplicate of seq 1"

cgi_env "$NEW_LEN"
cgi_run_piped "$CONF" "$NEW.1" "${CGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":2}' "CGI: a body on a pipe is accepted as seq 2"

before=$(log_state "$LOG")
cgi_env 0 REQUEST_METHOD=GET
cgi_run "$CONF" /dev/null "${CGI_ENV[@]}"
error_is 405 "CGI: GET: 405"
is "$(header Allow)" "POST" "CGI: 405 carries Allow: POST"

cgi_env "$NEW_LEN" HTTP_AUTHORIZATION=
cgi_run "$CONF" "$NEW.2" "${CGI_ENV[@]}"
error_is 401 "CGI: an empty Authorization: 401"
like "$(header WWW-Authenticate)" '^Bearer( |$)' "CGI: 401 carries WWW-Authenticate: Bearer"
cgi_env "$NEW_LEN"
cgi_run "$CONF" "$NEW.2" "${CGI_ENV[@]/#HTTP_AUTHORIZATION=*/HTTP_X_NOTHING=1}"
error_is 401 "CGI: no Authorization: 401"
cgi_env "$NEW_LEN" "HTTP_AUTHORIZATION=Bearer not-$TOKEN"
cgi_run "$CONF" "$NEW.2" "${CGI_ENV[@]}"
error_is 401 "CGI: a wrong token: 401"

cgi_env 100000
cgi_run "$CONF" "$NEW.2" "${CGI_ENV[@]}"
error_is 413 "CGI: CONTENT_LENGTH 100000 > max_body: 413 (before reading)"

cgi_env $((NEW_LEN + 40))
cgi_run "$CONF" "$NEW.2" "${CGI_ENV[@]}"
error_is 400 "CGI: a body shorter than CONTENT_LENGTH: 400"
like "$(jq -r .error <<<"$BODY" 2>/dev/null)" 'truncat' "CGI: the reason says truncated"

cgi_env "$NEW_LEN" REMOTE_ADDR=192.0.2.9
cgi_run "$CONF" "$NEW.2" "${CGI_ENV[@]}"
error_is 403 "CGI: REMOTE_ADDR outside allow_from: 403"

cgi_env "$NEW_LEN" CONTENT_TYPE=text/plain
cgi_run "$CONF" "$NEW.2" "${CGI_ENV[@]}"
error_is 415 "CGI: CONTENT_TYPE text/plain: 415"
is "$(log_state "$LOG")" "$before" "CGI: no rejected request was logged"
ok "CGI: no reply and no stderr line carried a secret" \
    no_secret_in "$TEST_TMP/replies.all" "$TEST_TMP/cgi.stderr"

# ---------------------------------------------------------------------------------------
# FastCGI through cgi-fcgi, on the same log.

start_responder fcgi "$CONF" || bail "spawn-fcgi did not start idwise-fcgi"
SOCK=$(responder_socket fcgi)

cgi_env "$NEW_LEN"
fcgi_run "$SOCK" "$NEW.2" "${CGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":3}' "FastCGI: accepted as seq 3 (after the CGI runs' 2)"
fcgi_run "$SOCK" "$FJ" "${CGI_ENV[@]/#CONTENT_LENGTH=*/CONTENT_LENGTH=$FJ_LEN}"
reply_is 200 '{"status":"duplicate","seq":1}' "FastCGI: what CGI stored is a duplicate"

before=$(log_state "$LOG")
cgi_env $((NEW_LEN + 100))
fcgi_run "$SOCK" "$NEW.3" "${CGI_ENV[@]}"
error_is 400 "FastCGI: stdin shorter than CONTENT_LENGTH: 400"
like "$(jq -r .error <<<"$BODY" 2>/dev/null)" 'truncat' "FastCGI: the reason says truncated"
is "$(log_state "$LOG")" "$before" "FastCGI: the truncated request was not logged"

cgi_env "$NEW_LEN"
fcgi_run "$SOCK" "$NEW.3" "${CGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":4}' "FastCGI: the responder still serves: seq 4"

stop_responder fcgi
is "$STOP_RC" 0 "FastCGI: SIGTERM: exits 0"

# IPv6 sources against allow_from = 127.0.0.1, ::1.
cgi_env "$NEW_LEN" REMOTE_ADDR=2001:db8::5
cgi_run "$CONF" "$NEW.4" "${CGI_ENV[@]}"
error_is 403 "CGI: REMOTE_ADDR 2001:db8::5: 403"
cgi_env "$NEW_LEN" REMOTE_ADDR=::1
cgi_run "$CONF" "$NEW.4" "${CGI_ENV[@]}"
reply_is 200 '{"status":"accepted","seq":5}' "CGI: REMOTE_ADDR ::1 is allowed: seq 5"
is "$(log_record "$LOG" 5 .remote_addr)" "::1" "CGI: the record's remote_addr is ::1"
ok "the log (CGI and FastCGI writers) verifies" check_chain "$LOG"

# ---------------------------------------------------------------------------------------
# The command line.

# run_cli [VAR=value...] -- ARG...: idwise-fcgi with stdin /dev/null; sets CLI_RC, CLI_ERR.
run_cli()
{
	local -a vars=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	env -u IDWISE_FCGI_CONFIG "${vars[@]}" timeout 10 "$IDWISE_FCGI" "$@" \
	    </dev/null >"$TEST_TMP/cli.out" 2>"$TEST_TMP/cli.err"
	CLI_RC=$?
	CLI_ERR=$(cat "$TEST_TMP/cli.err")
}

GOOD_CONF=$CONF
run_cli -- -c "$GOOD_CONF" --check-config
is "$CLI_RC" 0 "--check-config with a good config: exit 0"
run_cli "IDWISE_FCGI_CONFIG=$GOOD_CONF" -- --check-config
is "$CLI_RC" 0 "--check-config with IDWISE_FCGI_CONFIG: exit 0"
run_cli -- --version
is "$CLI_RC" 0 "--version: exit 0"
like "$(cat "$TEST_TMP/cli.out")" '[0-9]+\.[0-9]+' "--version prints a version"
run_cli -- --help
is "$CLI_RC" 0 "--help: exit 0"
run_cli -- --no-such-option
is "$CLI_RC" 64 "an unknown option: exit 64"
run_cli -- -c "$GOOD_CONF" --threads
is "$CLI_RC" 64 "--threads without a number: exit 64"

write_config "$TEST_TMP/badkey" frobnicate=1
line=$(grep -n '^frobnicate' "$CONF" | cut -d: -f1)
run_cli -- -c "$CONF" --check-config
is "$CLI_RC" 78 "an unknown key: exit 78"
is "$(printf '%s\n' "$CLI_ERR" | grep -c .)" 1 "  one line on stderr"
like "$CLI_ERR" "$CONF:$line:.*frobnicate" "  naming file:line and the key"
run_cli "IDWISE_FCGI_CONFIG=$CONF" -- --check-config
is "$CLI_RC" 78 "  and the same config from IDWISE_FCGI_CONFIG: exit 78"

write_config "$TEST_TMP/badvalue" max_body=lots
line=$(grep -n '^max_body' "$CONF" | cut -d: -f1)
run_cli -- -c "$CONF" --check-config
is "$CLI_RC" 78 "max_body = lots: exit 78"
like "$CLI_ERR" "$CONF:$line:.*max_body" "  naming file:line and the key"

write_config "$TEST_TMP/noauth" auth=
run_cli -- -c "$CONF" --check-config
is "$CLI_RC" 78 "no auth key (required): exit 78"
like "$CLI_ERR" "$CONF.*auth" "  naming the file and the key"

write_config "$TEST_TMP/openperm"
chmod 0644 "$TEST_TMP/openperm/bearer_tokens"
line=$(grep -n '^bearer_token_file' "$CONF" | cut -d: -f1)
run_cli -- -c "$CONF" --check-config
is "$CLI_RC" 78 "a token file others can read: exit 78"
like "$CLI_ERR" "$CONF:$line:.*bearer_token_file" "  naming file:line and the key"
ok "  without printing the secret" no_secret_in "$TEST_TMP/cli.err" "$TEST_TMP/cli.out"

ok "no sanitizer report" no_sanitizer_reports "$TEST_TMP/cgi.stderr" "$TEST_TMP/fcgi.stderr"
done_testing
