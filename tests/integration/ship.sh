#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/ship.sh: idwise-log ship to a real 3-node NATS JetStream cluster on
# loopback (TLS with a CA made here, a user with a password file). Two receivers behind
# nginx, each with its own log and shipper, take deliveries under load: to one host, to
# the other, to both (a retry on the other host), with conflicts and a body resent with
# other whitespace and member order. Meanwhile one NATS server is killed and restarted,
# each shipper is SIGKILLed at random moments (at least 10 times), and the whole cluster
# is stopped for 20 s. Afterwards the stream holds every acknowledged delivery exactly once
# by event id (conflicts as messages of their own), each payload is byte-identical to its
# line in its host's log and its headers name that line, exec --nats (running from the
# start, through the faults) ran its command once per message, follow --nats reads the
# stream, each host's new checkpoint is published on idwise.checkpoints, and no secret
# was printed. First, what ship refuses: a secret file others can
# read, a stream that does not fit (exit 78).
# Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/log-lib.sh" || exit 1
. "$top_srcdir/tests/nats-lib.sh" || exit 1

KILLS=${SHIP_KILLS:-12}		# SIGKILLs per shipper
OUTAGE_S=20			# the whole cluster stopped
BATCH=${SHIP_BATCH:-15}		# deliveries per batch of each sender (exec runs each)
DIR=$TEST_TMP/ship

# same_lines WHAT A B: files A and B (or pipes: each is read once, into a file) are the
# same; else the first of their differences are said.
same_lines()
{
	local a=$DIR/same.a b=$DIR/same.b
	cat "$2" >"$a" && cat "$3" >"$b" || return 1
	cmp -s "$a" "$b" && return 0
	diag "$1: $(wc -l <"$a") lines against $(wc -l <"$b"); diff says:"
	diff "$a" "$b" | head -n 6 | cut -c1-160 | while IFS= read -r l; do diag "  $l"; done
	return 1
}

# --- the cluster, with TLS and a user ---------------------------------------------------

nats_tls_setup || bail "cannot make the test CA"
nats_auth_setup idwise-ship || bail "cannot write the password file"
nats_cluster 3 || bail "the NATS cluster did not start"
AUTH=(--user "$NATS_USER" --password-file "$NATS_PASSWORD_FILE" --tls-ca "$NATS_CA")
mkdir -p "$DIR" || bail "mkdir $DIR"

# --- what ship refuses ----------------------------------------------------------------

gen_log()	# gen_log FILE PREFIX N: N records (a log of its own)
{
	"$GEN_LOG" -i "$2" "$3" >"$1"
}

gen_log "$DIR/small.jsonl" s 5 || bail "gen-log failed"
cp "$NATS_PASSWORD_FILE" "$DIR/open-password" && chmod 0644 "$DIR/open-password"
run_log ship --nats "$NATS_URLS" --user "$NATS_USER" --password-file "$DIR/open-password" \
    --tls-ca "$NATS_CA" --cursor "$DIR/c0" --once "$DIR/small.jsonl"
is "$RC" 77 "a password file others can read is refused (exit 77)"
like "$ERR" "open-password: refused: others may read" "  with the reason, naming the file"
ok "  and nothing of the password is printed" not grep -qF "$NATS_PASSWORD" <<<"$ERR"

nats_tool mkstream SHORT short.'>' 60 1 || bail "cannot make the stream SHORT"
run_log ship --nats "$NATS_URLS" "${AUTH[@]}" --stream SHORT --subject short \
    --cursor "$DIR/c1" --once "$DIR/small.jsonl"
is "$RC" 78 "a stream whose duplicate window is shorter than asked: exit 78"
ok "  said in one line" one_line "$ERR"
like "$ERR" "duplicate window is 1m, shorter than the 24h asked" "  which says why"
nats_tool mkstream OTHER other.'>' 86400 1 || bail "cannot make the stream OTHER"
run_log ship --nats "$NATS_URLS" "${AUTH[@]}" --stream OTHER --subject idw \
    --cursor "$DIR/c2" --once "$DIR/small.jsonl"
is "$RC" 78 "a stream whose subjects do not cover the prefix: exit 78"
ok "  said in one line" one_line "$ERR"
like "$ERR" "subjects do not cover idw\.>" "  which says why"
run_log ship --nats "$NATS_URLS" "${AUTH[@]}" --stream SMALL --subject small \
    --duplicate-window 2h --cursor "$DIR/c3" --once "$DIR/small.jsonl"
is "$RC" 0 "ship --once ships a small log and ends"
is "$(nats_tool count SMALL)" 5 "  the stream it made holds its 5 records"
is "$(cursor_seq "$DIR/c3")" 5 "  and the cursor is at the last one"
like "$ERR" "stream SMALL: made \(subjects small\.>, file storage, 3 replicas, duplicate window 2h\)" \
    "  it said how it made the stream (3 replicas on a cluster)"
run_log ship --nats "$NATS_URLS" "${AUTH[@]}" --stream SMALL --subject small \
    --cursor "$DIR/c3b" --once "$DIR/small.jsonl"
is "$(nats_tool count SMALL)" 5 "shipping the log again from the start stores nothing twice"

# --- two receivers behind nginx, each with its shipper --------------------------------

write_config "$DIR/a" || bail "cannot write A's config"
CONF_A=$CONF LOG_A=$LOG
write_config "$DIR/b" || bail "cannot write B's config"
CONF_B=$CONF LOG_B=$LOG
start_responder a "$CONF_A" 2 || bail "responder a did not start"
start_responder b "$CONF_B" 2 || bail "responder b did not start"
SOCK_A=$(responder_socket a) SOCK_B=$(responder_socket b)
for h in a b; do
	s=$(responder_socket "$h")
	NGINX_SERVER+=" location = /$h/webhook { include fastcgi_params; fastcgi_pass unix:$s; }"
done
start_nginx "$SOCK_A" "$SOCK_B" || bail "nginx did not start"
URL_LB=$URL
URL_A=${URL%/idwise/webhook}/a/webhook
URL_B=${URL%/idwise/webhook}/b/webhook

declare -A LOGS=([a]=$LOG_A [b]=$LOG_B) KILLED=([a]=0 [b]=0)

start_shipper()	# start_shipper HOST (each start is marked in its stderr)
{
	printf -- '--- start\n' >>"$TEST_TMP/ship-$1.stderr"
	start_bg "ship-$1" /dev/null "$IDWISE_LOG" ship --nats "$NATS_URLS" "${AUTH[@]}" \
	    --host "$1" --cursor "$DIR/cursor-$1" --metrics "$DIR/ship-$1.prom" \
	    --checkpoint "$DIR/checkpoint-$1" "${LOGS[$1]}"
}

kill_shipper()	# kill_shipper HOST: SIGKILL at once, and start it again
{
	kill_bg "ship-$1" KILL
	KILLED[$1]=$((KILLED[$1] + 1))
	# Its threads may still be ending (the lock is let go with the last one).
	wait_for not locked "$DIR/cursor-$1"
	start_shipper "$1"
}

start_shipper a
start_shipper b

# exec --nats, from the start and through every fault: `cat` appends each record it is
# given to $DIR/ran (its standard output), so that every run leaves the record's line. Its
# --cursor keeps the last stream seq run: an ack lost when a server dies (the consumer's
# leader) hands that record out again, and the cursor knows it for one already run.
start_bg exec "$DIR/ran" "$IDWISE_LOG" exec --nats "$NATS_URLS" "${AUTH[@]}" --stream IDWISE \
    --durable activate --cursor "$DIR/exec-cursor" --backoff 100 --metrics "$DIR/exec.prom" -- cat

# --- the load -------------------------------------------------------------------------

# sender NAME URL...: batches of new ids NAME-B-I, each delivered to every URL in turn
# until each got a 200 there, until $DIR/stop.
sender()
{
	local name=$1 b=0 k
	shift
	(
		while [ ! -e "$DIR/stop" ]; do
			b=$((b + 1))
			make_ids "$name-$b" "$BATCH" >"$DIR/$name.batch"
			cat "$DIR/$name.batch" >>"$DIR/$name.ids"
			for ((k = 1; k <= $#; k++)); do
				URL=${!k} deliver_until_ok "$DIR/$name.batch" "$DIR/send-$name-$k" ||
				    echo "$b ${!k}" >>"$DIR/failed"
			done
			sleep 0.4
		done
	) &
	SENDERS+=($!)
}

# post_to URL JSON: one delivery; 0 when it got a 200.
post_to()
{
	[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' -H 'Expect:' --data-binary "$2" "$1")" = 200 ]
}

SENDERS=()
stop_senders()
{
	touch "$DIR/stop"
	[ "${#SENDERS[@]}" -eq 0 ] || kill "${SENDERS[@]}" 2>/dev/null
}
at_exit stop_senders
sender onlya "$URL_A"
sender onlyb "$URL_B"
sender both "$URL_A" "$URL_B"
sender lb "$URL_LB"

# Conflicts (one body to A, another to B and then to A, stored there as a conflict) and a
# body sent to B with other whitespace and member order (the same event).
conflicts_ok=0
for i in $(seq 1 10); do
	post_to "$URL_A" "{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"cf-$i\",\"stepId\":\"1\"}}" &&
	    post_to "$URL_B" "{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"cf-$i\",\"stepId\":\"2\"}}" &&
	    post_to "$URL_A" "{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"cf-$i\",\"stepId\":\"2\"}}" &&
	    post_to "$URL_A" "{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"ws-$i\",\"a\":[1,2],\"z\":{\"y\":1,\"x\":2}}}" &&
	    post_to "$URL_B" "{ \"event\" : \"Finished Step\", \"body\" : { \"z\" : { \"x\" : 2, \"y\" : 1 }, \"a\" : [ 1, 2 ], \"eventId\" : \"ws-$i\" } }" &&
	    conflicts_ok=$((conflicts_ok + 1))
done
is "$conflicts_ok" 10 "10 conflicts and 10 whitespace variants delivered to both hosts"

# --- the faults, during the load -------------------------------------------------------

# chaos_for SECONDS: kill a shipper at a random moment every 0.5-2 s, each in turn.
next=a
chaos_for()
{
	local until=$(($(now_ms) + $1 * 1000))
	while [ "$(now_ms)" -lt "$until" ]; do
		sleep "$((RANDOM % 3 / 2)).$((RANDOM % 10))"
		kill_shipper "$next"
		if [ "$next" = a ]; then next=b; else next=a; fi
	done
}

start=$(now_ms)
chaos_for 4
diag "killing NATS server 2 ($(($(now_ms) - start)) ms in)"
nats_kill 2
chaos_for 5
nats_start 2
chaos_for 5
# The restarted server catches up before the outage, as an operator lets a restarted node
# catch up before the next maintenance (an outage with a replica still catching up is
# where nats-server 2.9.10's replicas were seen to disagree afterwards).
POLL_STEPS=1200 wait_for nats_current ||
    diag "server 2 not caught up after 60 s: $(nats_replicas IDWISE | tr '\n' ';')"
diag "stopping the whole cluster for $OUTAGE_S s ($(($(now_ms) - start)) ms in)"
nats_all_stop
chaos_for "$OUTAGE_S"
nats_all_start || bail "the cluster did not come back"
diag "the cluster is back ($(($(now_ms) - start)) ms in)"
while [ "${KILLED[a]}" -lt "$KILLS" ] || [ "${KILLED[b]}" -lt "$KILLS" ]; do
	chaos_for 2
done
chaos_for 3
touch "$DIR/stop"
for p in "${SENDERS[@]}"; do
	wait "$p"
done
SENDERS=()
diag "load and faults over after $(($(now_ms) - start)) ms; shippers killed a ${KILLED[a]}, b ${KILLED[b]} times"
ok "each shipper was SIGKILLed at least $KILLS times" \
    test "${KILLED[a]}" -ge "$KILLS" -a "${KILLED[b]}" -ge "$KILLS"
ok "no batch of deliveries failed for good" test ! -e "$DIR/failed"

# --- caught up -------------------------------------------------------------------------

metric()	# metric HOST NAME: the value in that shipper's metrics file
{
	awk -v n="$2" '$1 ~ "^" n "[{]" { print $2 }' "$DIR/ship-$1.prom" 2>/dev/null
}

caught_up()	# caught_up HOST: every record of its log is in the stream
{
	local last
	last=$(log_last "${LOGS[$1]}" .seq)
	[ -n "$last" ] && [ "$(metric "$1" idwise_ship_last_seq)" = "$last" ] &&
	    [ "$(metric "$1" idwise_ship_log_head_seq)" = "$last" ] &&
	    [ "$(metric "$1" idwise_ship_in_flight)" = 0 ]
}

POLL_STEPS=1200 ok "shipper a caught up with its log" wait_for caught_up a
POLL_STEPS=600 ok "shipper b caught up with its log" wait_for caught_up b
POLL_STEPS=1200 wait_for nats_current || diag "the cluster is not all caught up after 60 s"
diag "the stream's replicas: $(nats_replicas IDWISE | tr '\n' ';')"
# --- checkpoints, off the host ---------------------------------------------------------

last_checkpoint_is()	# last_checkpoint_is FILE: the stream's latest checkpoint is FILE's
{
	cmp -s "$1" <(nats_tool last IDWISE idwise.checkpoints 2>/dev/null)
}
for h in a b; do
	"$IDWISE_LOG" keygen --name "$h.test/idwise" "$DIR/key-$h" >/dev/null 2>&1 &&
	    "$IDWISE_LOG" checkpoint --key "$DIR/key-$h" --out "$DIR/checkpoint-$h" \
	    "${LOGS[$h]}" >/dev/null 2>"$TEST_TMP/checkpoint-$h.stderr" ||
	    bail "idwise-log checkpoint failed: $(cat "$TEST_TMP/checkpoint-$h.stderr")"
	ok "ship --checkpoint: $h's new checkpoint is published on idwise.checkpoints" \
	    wait_for last_checkpoint_is "$DIR/checkpoint-$h"
done

for h in a b; do
	ok "  $h's metrics say the broker is up" \
	    grep -q '^idwise_ship_broker_state{.*state="up"} 1$' "$DIR/ship-$h.prom"
	kill_bg "ship-$h" TERM
	is "$BG_RC" 0 "  shipper $h stops with 0 on SIGTERM"
	is "$(cursor_seq "$DIR/cursor-$h")" "$(log_last "${LOGS[$h]}" .seq)" \
	    "  and its cursor is at its log's last record"
done

# --- the stream ------------------------------------------------------------------------

nats_tool dump IDWISE 'idwise.*.*' >"$DIR/stream" || bail "cannot read the stream"
diag "$(log_count "$LOG_A") records in a's log, $(log_count "$LOG_B") in b's," \
    "$(log_count "$DIR/stream") messages in the stream"

# host TAB seq TAB line-sha256 TAB line, for every line of both logs
for h in a b; do
	paste <(jq -r "\"$h\t\(.seq)\"" "${LOGS[$h]}") <("$LINE_SHA256" <"${LOGS[$h]}") \
	    "${LOGS[$h]}"
done >"$DIR/lines"

ok "each message's payload is byte-identical to the line its headers name" \
    awk -F'\t' 'NR == FNR { line[$1 "/" $2] = $4; hash[$1 "/" $2] = $3; next }
	{ k = $4 "/" $5 }
	!(k in line) { print "no line " k; bad = 1; exit }
	line[k] != $7 { print "payload differs from line " k; bad = 1; exit }
	hash[k] != $6 { print "Idwise-Line-Sha256 is not the hash of line " k; bad = 1; exit }
	END { exit bad }' "$DIR/lines" "$DIR/stream"

# id TAB canonical body: what makes one event or a conflict. The body is written with
# every object as its [name, value] pairs sorted by name (jq keeps member order otherwise).
event_keys()
{
	jq -r 'def canon: if type == "object" then [to_entries | sort_by(.key)[] |
	    [.key, (.value | canon)]] elif type == "array" then ["array", map(canon)] else . end;
	    "\(.id)\t\(.body | canon | tojson)"' "$@"
}
cut -f7- "$DIR/stream" | event_keys >"$DIR/stream.keys"
event_keys "$LOG_A" "$LOG_B" | sort -u >"$DIR/logged.keys"
is "$(sort "$DIR/stream.keys" | uniq -d | wc -l)" 0 \
    "no event (id and canonical body) is in the stream twice"
ok "every event either log holds is in the stream" \
    same_lines "the stream's events / the logs'" <(sort -u "$DIR/stream.keys") "$DIR/logged.keys"
is "$(cut -f1 "$DIR/stream.keys" | grep -c '^cf-')" 20 \
    "  each of 10 conflicts is two messages (one per body)"
is "$(cut -f1 "$DIR/stream.keys" | grep -c '^ws-')" 10 \
    "  a body resent with other whitespace and member order is one"
is "$(jq -r 'select(.conflict == true) | .id' "$LOG_A" | sort -u | grep -c '^cf-')" 10 \
    "  (a's log holds the second bodies as conflicts)"
is "$(cut -f1 "$DIR/stream.keys" | grep -c '^both-')" "$(sort -u "$DIR/both.ids" | wc -l)" \
    "  each delivery stored by both receivers is one message"

acked_ids()	# the ids that got a 200 somewhere
{
	cat "$DIR"/send-*/codes | awk '$2 == 200 { print $1 }' | sort -u
}
ok "every acknowledged delivery is in the stream" \
    test -z "$(comm -23 <(acked_ids) <(cut -f1 "$DIR/stream.keys" | sort -u))"
is "$(cut -f3 "$DIR/stream" | sort | uniq -d | wc -l)" 0 "no Msg-Id is in the stream twice"
is "$(nats_tool count IDWISE)" "$(($(log_count "$DIR/stream") + 2))" \
    "  and the stream holds nothing else but the two checkpoints"

# --- exec --nats and follow --nats ------------------------------------------------------


cut -f7- "$DIR/stream" | sort >"$DIR/stream.lines"
ran_all()
{
	[ "$(log_count "$DIR/ran")" -ge "$(log_count "$DIR/stream.lines")" ]
}
POLL_STEPS=1800 ok "exec --nats ran the command for every message of the stream" wait_for ran_all
diag "exec --nats done $(($(now_ms) - start)) ms after the load began"
kill_bg exec TERM
is "$BG_RC" 0 "  and stops with 0 on SIGTERM"
ok "  once per event: each record it was given is a message of the stream, each once" \
    same_lines "exec ran / the stream" <(sort "$DIR/ran") "$DIR/stream.lines"
ok "  no sanitizer report" no_sanitizer_reports "$TEST_TMP/exec.stderr"
is "$(grep '^idwise_exec_records_done_total' "$DIR/exec.prom")" \
    "idwise_exec_records_done_total{stream=\"IDWISE\",durable=\"activate\"} $(log_count "$DIR/ran")" \
    "  its --metrics file counts them, labelled with the stream and the durable"
run_log exec --nats "$NATS_URLS" "${AUTH[@]}" --stream IDWISE --durable activate \
    --cursor "$DIR/exec-cursor" --once -- cat
is "$RC/$OUT" "0/" "exec --nats --once again: nothing more to run"
timeout 60 "$IDWISE_LOG" follow --nats "$NATS_URLS" "${AUTH[@]}" --stream IDWISE \
    --durable audit --once >"$DIR/followed" 2>"$TEST_TMP/follow.stderr"
is "$?" 0 "follow --nats --once reads the stream to its end"
ok "  and prints each message's record once, in the stream's order" \
    same_lines "followed / the stream" "$DIR/followed" <(cut -f7- "$DIR/stream")
timeout 60 "$IDWISE_LOG" follow --nats "$NATS_URLS" "${AUTH[@]}" --stream IDWISE \
    --durable approved-b --env test --type finished_step --outcome none --once \
    >"$DIR/followed-b" 2>>"$TEST_TMP/follow.stderr"
is "$(wc -l <"$DIR/followed-b" | tr -d ' ')" \
    "$(jq -c 'select(.type == "finished_step" and .outcome == "none")' "$DIR/followed" | wc -l | tr -d ' ')" \
    "follow --nats --type --env --outcome: the same records as the filters on the whole stream"
like "$(cat "$TEST_TMP/follow.stderr")" "durable approved-b made, reading idwise\.test\.finished_step" \
    "  --type and --env became the consumer's subject"

# --- what was said ---------------------------------------------------------------------

for h in a b; do
	err=$TEST_TMP/ship-$h.stderr
	like "$(cat "$err")" "connection lost|does not acknowledge" \
	    "shipper $h said when the broker went away"
	ok "  and said each change once (no line twice in a row, at most 8 lines a run)" \
	    awk '/^--- start$/ { prev = ""; n = 0; next }
		$0 == prev || ++n > 8 { print "line " NR ": " $0; bad = 1; exit }
		{ prev = $0 } END { exit bad }' "$err"
	ok "  no sanitizer report" no_sanitizer_reports "$err"
done
ok "no secret in the shippers' messages, metrics or cursors, nor exec's (metrics too) or follow's" \
    no_secret_in "$TEST_TMP"/ship-*.stderr "$DIR"/ship-*.prom "$DIR"/cursor-* \
    "$TEST_TMP/exec.stderr" "$DIR/exec.prom" "$TEST_TMP/follow.stderr"
ok "nor in the responders' messages" no_secret_in "$TEST_TMP/a.stderr" "$TEST_TMP/b.stderr"
done_testing
