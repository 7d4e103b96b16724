#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/live-sandbox.sh: one nginx serving /idwise/live and /idwise/sandbox with
# the operator's snippet nginx/idwise-fcgi-live-sandbox.conf, each location passed to its
# own idwise-fcgi (spawn-fcgi, --user when root) with its own config: credentials, env
# label and log. Deliveries land in the right log only, each side's credential opens only
# its own side, and dedup is per side. The sandbox side sits "behind a load balancer": nginx
# trusts X-Forwarded-For from 127.0.0.1 (set_real_ip_from, as idwise-fcgi(8) says) and
# allow_from names only the sender's network. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

write_config "$TEST_TMP/live" env=live auth=bearer || bail "cannot write the live config"
LIVE_CONF=$CONF
LIVE_LOG=$LOG
write_config "$TEST_TMP/sandbox" env=sandbox auth=header 'allow_from=198.51.100.0/24' ||
    bail "cannot write the sandbox config"
SANDBOX_CONF=$CONF
SANDBOX_LOG=$LOG

start_responder live "$LIVE_CONF" || bail "the live responder did not start"
start_responder sandbox "$SANDBOX_CONF" || bail "the sandbox responder did not start"
NGINX_SERVER='set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For; real_ip_recursive on;'
start_nginx_snippet idwise-fcgi-live-sandbox.conf \
    "unix:/run/idwise-fcgi/live.sock=unix:$(responder_socket live)" \
    "unix:/run/idwise-fcgi/sandbox.sock=unix:$(responder_socket sandbox)" ||
    bail "nginx did not start"
BASE=http://127.0.0.1:$NGINX_PORT/idwise
LIVE_AUTH=(-H "Authorization: Bearer $TOKEN")
SANDBOX_AUTH=(-H "$HEADER_NAME: $HEADER_VALUE" -H 'X-Forwarded-For: 198.51.100.7')
FJ=$SAMPLES/finished_journey.json
MR=$SAMPLES/manually_reviewed.json

URL=$BASE/live CURL_AUTH=("${LIVE_AUTH[@]}")
post "$FJ"
reply_is 200 '{"status":"accepted","seq":1}' "/idwise/live with the live token: accepted as seq 1"
URL=$BASE/sandbox CURL_AUTH=("${SANDBOX_AUTH[@]}")
post "$FJ"
reply_is 200 '{"status":"accepted","seq":1}' \
    "/idwise/sandbox with the sandbox header: the same event, seq 1 of its own log"
post "$MR"
reply_is 200 '{"status":"accepted","seq":2}' "/idwise/sandbox: another event, seq 2"
post "$FJ"
reply_is 200 '{"status":"duplicate","seq":1}' "/idwise/sandbox: dedup is per side"

is "$(jq -r '"\(.seq) \(.env) \(.type) \(.remote_addr)"' "$LIVE_LOG" | tr '\n' ',')" \
    "1 live finished_journey 127.0.0.1," "the live log holds the live delivery only, labelled live"
is "$(jq -r '"\(.seq) \(.env) \(.type) \(.remote_addr)"' "$SANDBOX_LOG" | tr '\n' ',')" \
    "1 sandbox finished_journey 198.51.100.7,2 sandbox manually_reviewed 198.51.100.7," \
    "the sandbox log holds the sandbox deliveries only, labelled sandbox, from the real sender"

before="$(log_state "$LIVE_LOG") $(log_state "$SANDBOX_LOG")"
URL=$BASE/live CURL_AUTH=(-H "$HEADER_NAME: $HEADER_VALUE")
post "$MR"
error_is 401 "the sandbox credential at /idwise/live: 401"
like "$(header WWW-Authenticate)" '^Bearer' "  the live side asks for its bearer token"
URL=$BASE/sandbox CURL_AUTH=("${LIVE_AUTH[@]}" -H 'X-Forwarded-For: 198.51.100.7')
post "$MR"
error_is 401 "the live token at /idwise/sandbox: 401"
URL=$BASE/sandbox CURL_AUTH=(-H "$HEADER_NAME: $HEADER_VALUE")
post "$MR"
error_is 403 "behind the balancer, without X-Forwarded-For (REMOTE_ADDR 127.0.0.1): 403"
CURL_AUTH=(-H "$HEADER_NAME: $HEADER_VALUE" -H 'X-Forwarded-For: 203.0.113.9')
post "$MR"
error_is 403 "  with X-Forwarded-For of a sender outside allow_from: 403"
URL=http://127.0.0.1:$NGINX_PORT/idwise/webhook CURL_AUTH=("${LIVE_AUTH[@]}")
post "$MR"
is "$STATUS" 404 "/idwise/webhook is not served by this deployment: 404"
is "$(log_state "$LIVE_LOG") $(log_state "$SANDBOX_LOG")" "$before" "nothing logged by those"

ok "the live log verifies" check_chain "$LIVE_LOG"
ok "the sandbox log verifies" check_chain "$SANDBOX_LOG"
stop_responder live
is "$STOP_RC" 0 "the live responder stops with 0"
URL=$BASE/live CURL_AUTH=("${LIVE_AUTH[@]}")
post "$MR"
is "$STATUS" 502 "live stopped: /idwise/live answers 502"
URL=$BASE/sandbox CURL_AUTH=("${SANDBOX_AUTH[@]}")
post "$SAMPLES/finished_step.json"
reply_is 200 '{"status":"accepted","seq":3}' "  while /idwise/sandbox goes on"
ok "no secret in the replies" no_secret_in "$TEST_TMP/replies.all"
done_testing
