#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/reload.sh: SIGHUP makes a running idwise-fcgi read its config and secret
# files again (issue 19), behind real nginx with the operator's snippets. (a) One process
# with --threads 4, as systemd runs it, behind nginx keeping its connections
# (nginx/idwise-fcgi-keepalive.conf, so that a kept connection is seen to take the new
# config for its next request): a steady stream of deliveries while it gets SIGHUP
# 40 times and the files change under it, every delivery answered 200 at its one attempt
# and stored exactly once; a request begun before a reload finished under the config it
# began with; a bad config (syntax, a missing or badly owned secret file, a key only a
# restart changes) refused with one line, the old token still accepted; a token rotation
# (old works, new added: both, old removed: only the new) with no restart. (b) Three
# processes on one socket (spawn-fcgi -F 3), each sent its own SIGHUP, behind nginx with
# nginx/idwise-fcgi.conf (a connection a request): the same stream, the same rotation. (c)
# Under Apache's mod_fcgid, which starts and stops the processes itself, what
# idwise-fcgi(8) says to do instead: a graceful restart of Apache, during the same stream,
# and the same rotation. No secret in any output. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/fcgi-raw.sh" || exit 1
. "$top_srcdir/tests/lib-proxy.sh" || exit 1
IDWISE_LOG=${IDWISE_LOG:-$top_builddir/idwise-log}

command -v nginx >/dev/null || bail "nginx is not installed (Debian package nginx-light)"
command -v spawn-fcgi >/dev/null || bail "spawn-fcgi is not installed"
command -v apache2 >/dev/null || bail "apache2 is not installed (Debian package apache2)"
[ -f /usr/lib/apache2/modules/mod_fcgid.so ] ||
    bail "mod_fcgid is not installed (Debian package libapache2-mod-fcgid)"

HUPS=40

# ---------------------------------------------------------------------------------------
# The files a reload reads, and what the responder says.

# set_tokens FILE TOKEN...: FILE holds the tokens, one a line, mode 0600, replaced in one
# rename; it is RUN_USER's (the responder reads it again as RUN_USER: it dropped root), or
# TOKENS_OWNER's when that is set.
TOKENS_OWNER=
set_tokens()
{
	local file=$1
	shift
	write_secret "$file.new" "$@" || return 1
	if [ -n "$TOKENS_OWNER" ]; then
		chown "$TOKENS_OWNER:" "$file.new"
	else
		give_to_responder "$file.new"
	fi && mv -f "$file.new" "$file"
}

# set_config DIR [key=value...]: DIR/idwise-fcgi.conf rewritten in one rename (as
# write_config makes it, the tokens in DIR/tokens), for a reload to read.
set_config()
{
	local dir=$1 conf
	shift
	write_config "$dir/next" log="$dir/events.jsonl" bearer_token_file="$dir/tokens" "$@" ||
	    return 1
	conf=$CONF
	CONF=$dir/idwise-fcgi.conf
	LOG=$dir/events.jsonl
	mv -f "$conf" "$CONF"
}

# said NAME TEXT: how many lines of NAME's stderr hold TEXT.
said()
{
	grep -cF -- "$2" "$TEST_TMP/$1.stderr" 2>/dev/null || true
}

said_at_least()
{
	[ "$(said "$1" "$2")" -ge "$3" ]
}

# hup NAME TEXT PID...: SIGHUP to each PID, then wait until NAME's stderr has one more line
# holding TEXT for each (": reloaded", or "reload refused").
hup()
{
	local name=$1 text=$2 before pid
	shift 2
	before=$(said "$name" "$text")
	for pid in "$@"; do
		kill -HUP "$pid" || return 1
	done
	wait_for said_at_least "$name" "$text" $((before + $#))
}

# all_alive PID...: every one of them is running.
all_alive()
{
	local pid
	for pid in "$@"; do
		pid_alive "$pid" || return 1
	done
}

# post_as TOKEN: one new delivery with that bearer token; sets STATUS.
_post_n=0
post_as()
{
	_post_n=$((_post_n + 1))
	post_string "$(step_event "reload-$$-$_post_n")" -H "Authorization: Bearer $1"
}

# statuses TOKEN N: the statuses of N new deliveries with TOKEN, counted: "200x20".
statuses()
{
	local i
	for ((i = 0; i < $2; i++)); do
		post_as "$1"
		printf '%s\n' "$STATUS"
	done | sort | uniq -c | awk '{ printf "%s%sx%s", (NR > 1 ? " " : ""), $2, $1 }'
}

# ---------------------------------------------------------------------------------------
# A steady stream of deliveries: each id sent once, never retried, so that one failure
# shows.

STREAM_PID=
STREAM_DIR=

# stream_start DIR PREFIX: batch after batch of 100 new ids PREFIX-B-I, 8 at a time, until
# stream_stop. DIR/ids: every id sent; DIR/codes: "ID CODE" per delivery.
stream_start()
{
	local dir=$1 prefix=$2
	mkdir -p "$dir" || return 1
	rm -f "$dir/stop"
	: >"$dir/ids"
	: >"$dir/codes"
	(
		b=0
		while [ ! -e "$dir/stop" ]; do
			b=$((b + 1))
			make_ids "$prefix-$b" 100 >"$dir/batch.ids"
			cat "$dir/batch.ids" >>"$dir/ids"
			deliver_batch "$dir/batch.ids" "$dir" 8
		done
	) &
	STREAM_PID=$!
	STREAM_DIR=$dir
	at_exit stream_stop
}

stream_stop()
{
	[ -n "$STREAM_PID" ] || return 0
	touch "$STREAM_DIR/stop"
	wait "$STREAM_PID"
	STREAM_PID=
}

# answered_at_least DIR N: N deliveries of the stream have their reply.
answered_at_least()
{
	[ "$(log_count "$1/codes")" -ge "$2" ]
}

# stream_checks DIR WHAT: every id of the stream got 200 at its one attempt, and the log
# holds each exactly once, with the seq its reply named.
stream_checks()
{
	local dir=$1 what=$2 sent
	sent=$(log_count "$dir/ids")
	diag "$what: $sent deliveries; codes: $(cut -d' ' -f2 "$dir/codes" | sort | uniq -c |
	    tr -s ' \n' '  ')"
	[ ! -s "$dir/curl.err" ] || diag "$(head -n 3 "$dir/curl.err")"
	is "$(log_count "$dir/codes")" "$sent" "$what: every delivery of the stream got a reply"
	is "$(code_count "$dir" 200)" "$sent" "$what: every one got 200, at its first attempt"
	jq -c --arg p "$(head -n 1 "$dir/ids" | cut -d- -f1)-" \
	    'select(.id | tostring | startswith($p))' "$LOG" >"$dir/stream.jsonl"
	ok "$what: each is in the log exactly once, with the seq of its reply" \
	    check_delivered "$dir/ids" "$dir" "$dir/stream.jsonl"
	ok "$what: idwise-log verify passes" quiet "$IDWISE_LOG" verify "$LOG"
}

# storm PIDS...: HUPS rounds of: the token file and the config changed (the token of the
# stream stays valid), SIGHUP to every pid, 0.1 s.
storm()
{
	local i pid
	for ((i = 1; i <= HUPS; i++)); do
		if ((i % 2)); then
			set_tokens "$DIR/tokens" "$TOKEN" "$TOKEN2"
			set_config "$DIR" max_body=60000
		else
			set_tokens "$DIR/tokens" "$TOKEN"
			set_config "$DIR"
		fi
		for pid in "$@"; do
			kill -HUP "$pid"
		done
		sleep 0.1
	done
}

# ---------------------------------------------------------------------------------------
# (a) One process, --threads 4, kept connections: the stream while it reloads again and
# again.

DIR=$TEST_TMP/one
mkdir -p "$DIR" && give_to_responder "$DIR" || bail "cannot make $DIR"
set_tokens "$DIR/tokens" "$TOKEN"
set_config "$DIR" || bail "cannot write the config"
start_listener one "$CONF" --threads 4 || bail "idwise-fcgi did not start"
PID=$(listener_pid one)
SOCK=$(listener_socket one)
start_nginx_keepalive "$SOCK" || bail "nginx did not start"

post_as "$TOKEN"
is "$STATUS" 200 "one process: a delivery with the token is accepted"
ok "one process: a reload with nothing changed is applied" hup one ": reloaded" "$PID"
like "$(grep -F ': reloaded' "$TEST_TMP/one.stderr" | tail -n 1)" \
    "^idwise-fcgi: $CONF: reloaded\$" "  and said in one line naming the file"

stream_start "$TEST_TMP/stream-one" one
wait_for answered_at_least "$TEST_TMP/stream-one" 50 || diag "the stream did not start"
storm "$PID"
sleep 0.5
stream_stop
ok "one process: nginx kept its connections to idwise-fcgi open" \
    test "$(kept_connections "$SOCK")" -ge 1
stream_checks "$TEST_TMP/stream-one" "one process, $HUPS reloads"
ok "one process: it reloaded while the stream ran" said_at_least one ": reloaded" 5
is "$(said one "reload refused")" 0 "one process: no reload was refused"
ok "one process: the same process throughout (no restart)" pid_alive "$PID"

# A request begun before a reload ends under the config it began with: its first bytes
# (with the old token) come, the old token is removed and the responder reloads, then the
# rest of its body comes. It is answered 200; a request begun after, with that token, 401.
printf '%s' "$(step_event "reload-inflight-$$")" >"$TEST_TMP/inflight.json"
delivery_params "$(stat -c %s "$TEST_TMP/inflight.json")"
raw request 1 "${PARAMS[@]}" --body "$TEST_TMP/inflight.json" >"$TEST_TMP/inflight.bin"
head -c -20 "$TEST_TMP/inflight.bin" >"$TEST_TMP/inflight-1.bin"
tail -c 20 "$TEST_TMP/inflight.bin" >"$TEST_TMP/inflight-2.bin"
talk "$TEST_TMP/inflight.out" "$SOCK" --timeout 10 send="$TEST_TMP/inflight-1.bin" wait=3 \
    send="$TEST_TMP/inflight-2.bin" replies=1 &
TALK_PID=$!
# the first part is sent (and, 0.3 s later, surely read) before the token goes
wait_for grep -q '"event": "sent"' "$TEST_TMP/inflight.out" || diag "the first part was not sent"
sleep 0.3
set_tokens "$DIR/tokens" "$TOKEN2"
ok "in flight: the old token removed and reloaded while a request is half sent" \
    hup one ": reloaded" "$PID"
is "$(grep -c '"event": "sent"' "$TEST_TMP/inflight.out")" 1 \
    "  before the rest of it was sent"
wait "$TALK_PID"
is "$(end_requests "$TEST_TMP/inflight.out" | cut -d' ' -f4)" 200 \
    "in flight: the request begun with the old token is answered 200"
is "$(jq -r .id "$LOG" | grep -c "^reload-inflight-$$\$")" 1 "  and stored"
post_as "$TOKEN"
is "$STATUS" 401 "in flight: a request begun after the reload with the old token gets 401"
set_tokens "$DIR/tokens" "$TOKEN"
hup one ": reloaded" "$PID" || diag "the token did not come back"

# refused WHAT TEXT: SIGHUP; the reload is refused with one line holding TEXT, and the
# running config (the token) is kept.
refused()
{
	local what=$1 text=$2 before line
	before=$(log_count "$TEST_TMP/one.stderr")
	ok "$what: refused" hup one "reload refused" "$PID"
	sleep 0.2
	is "$(tail -n +$((before + 1)) "$TEST_TMP/one.stderr" | wc -l | tr -d ' ')" 1 \
	    "$what: said in one line"
	line=$(tail -n +$((before + 1)) "$TEST_TMP/one.stderr" | head -n 1)
	like "$line" "^idwise-fcgi: reload refused, the configuration in use is kept: .*$text" \
	    "$what: the line says why"
	post_as "$TOKEN"
	is "$STATUS" 200 "$what: the old token is still accepted"
}

set_config "$DIR" max_body=lots
refused "a syntax error" "$CONF:[0-9]*: max_body: not a positive number of bytes"
set_config "$DIR" bearer_token_file="$DIR/no-such-file"
refused "a missing secret file" "$CONF:[0-9]*: bearer_token_file: cannot open: No such file"
set_config "$DIR"
chmod 0644 "$DIR/tokens"
refused "a secret file others may read" "$DIR/tokens: readable by others"
chmod 0640 "$DIR/tokens"
chgrp daemon "$DIR/tokens"
refused "a secret file another group may read" \
    "$DIR/tokens: readable by the group daemon \\(gid 1\\), not root's nor the service's"
chmod 0600 "$DIR/tokens"
chown root:root "$DIR/tokens"
refused "a secret file only root may read (the responder dropped root)" \
    "$CONF:[0-9]*: bearer_token_file: cannot open: Permission denied"
give_to_responder "$DIR/tokens"
set_config "$DIR" log="$DIR/other.jsonl"
refused "a change of log" "$CONF: log: changed, and only a restart changes it"
set_config "$DIR" sync=none
refused "a change of sync" "$CONF: sync: changed, and only a restart changes it"
set_config "$DIR" env=elsewhere
refused "a change of env" "$CONF: env: changed, and only a restart changes it"
set_config "$DIR"
ok "fixed again: the reload is applied" hup one ": reloaded" "$PID"

# A token rotation without a restart: the old token, then both, then only the new one.
is "$(statuses "$TOKEN" 5) $(statuses "$TOKEN2" 5)" "200x5 401x5" \
    "rotation: the old token is accepted, the new one not yet"
set_tokens "$DIR/tokens" "$TOKEN" "$TOKEN2"
ok "rotation: the new token added, reloaded" hup one ": reloaded" "$PID"
is "$(statuses "$TOKEN" 5) $(statuses "$TOKEN2" 5)" "200x5 200x5" \
    "rotation: both tokens are accepted"
set_tokens "$DIR/tokens" "$TOKEN2"
ok "rotation: the old token removed, reloaded" hup one ": reloaded" "$PID"
is "$(statuses "$TOKEN" 5) $(statuses "$TOKEN2" 5)" "401x5 200x5" \
    "rotation: only the new token is accepted"
ok "rotation: the same process throughout (no restart)" pid_alive "$PID"
ok "one process: the log's chain is whole" check_chain "$LOG"

stop_nginx
stop_listener one
ONE_NGINX_LOG=$TEST_TMP/nginx-one.error.log
cp "$NGINX_DIR/error.log" "$ONE_NGINX_LOG"

# ---------------------------------------------------------------------------------------
# (b) Three processes on one socket, each sent its own SIGHUP.

DIR=$TEST_TMP/three
mkdir -p "$DIR" && give_to_responder "$DIR" || bail "cannot make $DIR"
set_tokens "$DIR/tokens" "$TOKEN"
set_config "$DIR" || bail "cannot write the config"
start_responder three "$CONF" 3 || bail "spawn-fcgi -F 3 did not start"
mapfile -t PIDS < <(responder_pids three)
start_nginx "$(responder_socket three)" || bail "nginx did not start"

ok "three processes: a reload is applied by each" hup three ": reloaded" "${PIDS[@]}"
stream_start "$TEST_TMP/stream-three" three
wait_for answered_at_least "$TEST_TMP/stream-three" 50 || diag "the stream did not start"
HUPS=20 storm "${PIDS[@]}"
sleep 0.5
stream_stop
stream_checks "$TEST_TMP/stream-three" "three processes, 20 reloads each"
ok "three processes: all still running (no restart)" all_alive "${PIDS[@]}"

set_tokens "$DIR/tokens" "$TOKEN"
set_config "$DIR"
ok "three processes: the old token alone, reloaded by each" \
    hup three ": reloaded" "${PIDS[@]}"
is "$(statuses "$TOKEN" 15) $(statuses "$TOKEN2" 15)" "200x15 401x15" \
    "three processes: the old token is accepted, the new one not yet"
set_tokens "$DIR/tokens" "$TOKEN" "$TOKEN2"
ok "three processes: the new token added, reloaded by each" \
    hup three ": reloaded" "${PIDS[@]}"
is "$(statuses "$TOKEN" 15) $(statuses "$TOKEN2" 15)" "200x15 200x15" \
    "three processes: both tokens are accepted, whichever process answers"
set_tokens "$DIR/tokens" "$TOKEN2"
ok "three processes: the old token removed, reloaded by each" \
    hup three ": reloaded" "${PIDS[@]}"
is "$(statuses "$TOKEN" 15) $(statuses "$TOKEN2" 15)" "401x15 200x15" \
    "three processes: only the new token is accepted, whichever process answers"
is "$(said three "reload refused")" 0 "three processes: no reload was refused"

stop_nginx
stop_responder three

# ---------------------------------------------------------------------------------------
# (c) mod_fcgid: Apache's graceful restart instead of SIGHUP. mod_fcgid sends its processes
# SIGTERM (each finishes the delivery in hand and exits) and starts new ones, which read
# the files, for the next deliveries.

DIR=$TEST_TMP/fcgid
write_config "$DIR" env=fcgid bearer_token_file="$DIR/tokens" || bail "cannot write the config"
TOKENS_OWNER=$APACHE_USER
[ -n "$TOKENS_OWNER" ] || TOKENS_OWNER=$(id -un)
chown -R "$TOKENS_OWNER:" "$DIR"
set_tokens "$DIR/tokens" "$TOKEN"
start_apache fcgid="$CONF" || bail "Apache did not start"
URL=http://127.0.0.1:$APACHE_PORT/idwise/webhook
CURL_ARGS=(-H "Host: fcgid.test")

# graceful: apachectl graceful, on the test's Apache; then every process that served
# before it is gone.
graceful()
{
	local -a before
	mapfile -t before < <(fcgid_pids "$CONF")
	apache2 -f "$APACHE_DIR/httpd.conf" -k graceful || return 1
	POLL_STEPS=400 wait_for all_gone "${before[@]}"
}

post_as "$TOKEN"
is "$STATUS" 200 "mod_fcgid: a delivery with the token is accepted"
stream_start "$TEST_TMP/stream-fcgid" fcgid
wait_for answered_at_least "$TEST_TMP/stream-fcgid" 50 || diag "the stream did not start"
set_tokens "$DIR/tokens" "$TOKEN" "$TOKEN2"
ok "mod_fcgid: a graceful restart during the stream, the new token added" graceful
SO_FAR=$(log_count "$TEST_TMP/stream-fcgid/codes")
wait_for answered_at_least "$TEST_TMP/stream-fcgid" $((SO_FAR + 50)) ||
    diag "the stream did not go on after the restart"
stream_stop
stream_checks "$TEST_TMP/stream-fcgid" "mod_fcgid, a graceful restart"
is "$(statuses "$TOKEN" 5) $(statuses "$TOKEN2" 5)" "200x5 200x5" \
    "mod_fcgid: both tokens are accepted"
set_tokens "$DIR/tokens" "$TOKEN2"
ok "mod_fcgid: the old token removed, a graceful restart" graceful
is "$(statuses "$TOKEN" 5) $(statuses "$TOKEN2" 5)" "401x5 200x5" \
    "mod_fcgid: only the new token is accepted"
ok "mod_fcgid: no process had to be killed" \
    no_line_in "$APACHE_DIR/error.log" 'terminating forcefully|get stop signal 9'
stop_apache

ok "no secret in the responders' stderr, the web servers' logs or the replies" \
    no_secret_in "$TEST_TMP"/*.stderr "$ONE_NGINX_LOG" "$NGINX_DIR/error.log" \
    "$APACHE_DIR/error.log" "$APACHE_DIR/access.log" "$TEST_TMP/replies.all" \
    "$TEST_TMP"/stream-*/curl.err "$TEST_TMP/inflight.out"
ok "no sanitizer report from the responders" \
    no_sanitizer_reports "$TEST_TMP"/*.stderr "$APACHE_DIR/error.log"
done_testing
