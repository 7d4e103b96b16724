#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/nats-order.sh: follow --nats when the stream hands a record out after
# later ones. One nats-server; a log of 20 records shipped; then another client takes the
# first message from the durable and never answers, so that the stream hands it out again
# 2 s later, after the other 19. follow --nats --once must print all 20, the late one
# last, each once: it acknowledges each record with its own ack (an ack of a later one
# answering for it would lose it), and knows the late one is new (it is below the highest
# seq the run handled, but the run never handled it). Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/log-lib.sh" || exit 1
. "$top_srcdir/tests/nats-lib.sh" || exit 1

DIR=$TEST_TMP/order
mkdir -p "$DIR" || bail "mkdir $DIR"
nats_cluster 1 || bail "nats-server did not start"

"$GEN_LOG" -i o 20 >"$DIR/log.jsonl" || bail "gen-log failed"
run_log ship --nats "$NATS_URLS" --cursor "$DIR/ship.cursor" --once "$DIR/log.jsonl"
is "$RC" 0 "ship --once ships the 20 records"
is "$(nats_tool count IDWISE)" 20 "  the stream holds them"

taken=$(nats_tool take IDWISE late 'idwise.>' 256 2)
is "$taken" 1 "another client took seq 1 from the durable and does not answer"
timeout 60 "$IDWISE_LOG" follow --nats "$NATS_URLS" --stream IDWISE --durable late --once \
    >"$DIR/followed" 2>"$TEST_TMP/follow.stderr"
is "$?" 0 "follow --nats --once on that durable ends"
is "$(wc -l <"$DIR/followed" | tr -d ' ')" 20 "  it printed 20 records"
ok "  each record of the log once" cmp <(sort "$DIR/followed") <(sort "$DIR/log.jsonl")
ok "  the one handed out late came last" cmp <(tail -n 1 "$DIR/followed") <(head -n 1 "$DIR/log.jsonl")
ok "  the other 19 in the stream's order" \
    cmp <(head -n 19 "$DIR/followed") <(tail -n +2 "$DIR/log.jsonl")
timeout 60 "$IDWISE_LOG" follow --nats "$NATS_URLS" --stream IDWISE --durable late --once \
    >"$DIR/again" 2>>"$TEST_TMP/follow.stderr"
is "$?/$(wc -c <"$DIR/again" | tr -d ' ')" "0/0" "follow --once again: every record was acknowledged"
run_log exec --nats "$NATS_URLS" --stream IDWISE --durable late --once -- cat
is "$RC" 78 "exec on follow's durable is refused (exit 78)"
like "$ERR" "was made for follow" "  which says why"
done_testing
