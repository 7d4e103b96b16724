#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/ship.sh: how fast idwise-log ship publishes to a 3-node NATS JetStream cluster on
# this machine (a stream with 3 replicas on file storage), against the receiver's peak
# ingest, in one run:
#
#   bash bench/ship.sh [BUILDDIR [RECORDS [DELIVERIES]]]
#
# 1. ship --once of a log of RECORDS records (default 100000, made by tests/mklog), from
#    an empty cursor to the last ack: records/s, for --window 64, 512 (the default) and
#    2048;
# 2. the receiver's peak ingest: DELIVERIES (default 20000) deliveries through nginx to
#    idwise-fcgi (4 processes, sync = data), 32 at a time: deliveries/s;
# 3. both at once: a shipper follows the log while the deliveries come; how long after
#    the last 200 the stream holds every record.
#
# The ratio of 1 to 2 says whether shipping keeps up with the peak. The cluster, the
# receiver and nginx are started with tests/lib.sh and tests/nats-lib.sh under a scratch
# directory in BUILDDIR/tests and stopped at the end; nothing is installed.

set -u -o pipefail

cd "$(dirname "$0")/.." || exit 1
BUILD=${1:-build}
RECORDS=${2:-100000}
DELIVERIES=${3:-20000}
PROCS=${PROCS:-4}
SENDERS=${SENDERS:-32}

[ -f "$BUILD/Makefile" ] || { echo "bench/ship.sh: $BUILD is not a configured build tree" >&2; exit 1; }
make -C "$BUILD" -s idwise-fcgi idwise-log tests/mklog tests/nats-tool >/dev/null ||
    { echo "bench/ship.sh: make failed" >&2; exit 1; }
top_srcdir=$PWD
top_builddir=$(cd "$BUILD" && pwd)
export top_srcdir top_builddir
. tests/lib.sh || exit 1
. tests/log-lib.sh || exit 1
. tests/nats-lib.sh || exit 1
_tap_done=1		# no TAP here: lib.sh's exit trap must not count a missing plan

declare -A SHIP_RATE=()

rate()	# rate COUNT MS: COUNT per second
{
	awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", (ms > 0 ? n * 1000 / ms : 0) }'
}

nats_cluster 3 || bail "the NATS cluster did not start"
say()
{
	printf '%s\n' "$*" | tee -a "$TEST_TMP/results"
}
say "bench/ship.sh on $(nproc) CPUs, $(uname -r), nats-server $(nats-server --version | awk '{print $NF}')"

# --- 1. ship --once of a log made beforehand ---------------------------------------------

"$top_builddir/tests/mklog" "$RECORDS" >"$TEST_TMP/big.jsonl" || bail "tests/mklog failed"
for w in 64 512 2048; do
	start=$(now_ms)
	"$IDWISE_LOG" ship --nats "$NATS_URLS" --stream "ONCE$w" --subject "once$w" \
	    --window "$w" --cursor "$TEST_TMP/cursor-$w" --once "$TEST_TMP/big.jsonl" \
	    2>>"$TEST_TMP/ship-once.stderr" || bail "ship --once failed: $(tail -n 3 "$TEST_TMP/ship-once.stderr")"
	ms=$(($(now_ms) - start))
	[ "$(nats_tool count "ONCE$w")" = "$RECORDS" ] || bail "stream ONCE$w does not hold $RECORDS"
	SHIP_RATE[$w]=$(rate "$RECORDS" "$ms")
	say "ship --once, --window $w: $RECORDS records in $ms ms: ${SHIP_RATE[$w]} records/s (3 replicas)"
done

# --- 2. the receiver's peak ingest -------------------------------------------------------

write_config "$TEST_TMP/recv" || bail "cannot write the config"
start_responder recv "$CONF" "$PROCS" || bail "the responder did not start"
start_nginx "$(responder_socket recv)" || bail "nginx did not start"
make_ids peak "$DELIVERIES" >"$TEST_TMP/peak.ids"
start=$(now_ms)
deliver_batch "$TEST_TMP/peak.ids" "$TEST_TMP/peak" "$SENDERS"
ms=$(($(now_ms) - start))
[ "$(code_count "$TEST_TMP/peak" 200)" = "$DELIVERIES" ] || bail "not every delivery got a 200"
INGEST=$(rate "$DELIVERIES" "$ms")
say "ingest: $DELIVERIES deliveries, $SENDERS at a time, in $ms ms: $INGEST deliveries/s ($PROCS processes, sync = data)"
say "ratio ship/ingest (--window 512): $(awk -v a="${SHIP_RATE[512]}" -v b="$INGEST" 'BEGIN { printf "%.2f", a / b }')"

# --- 3. both at once ---------------------------------------------------------------------

start_bg live /dev/null "$IDWISE_LOG" ship --nats "$NATS_URLS" --stream LIVE --subject live \
    --cursor "$TEST_TMP/cursor-live" --metrics "$TEST_TMP/live.prom" "$LOG"
make_ids live "$DELIVERIES" >"$TEST_TMP/live.ids"
start=$(now_ms)
deliver_batch "$TEST_TMP/live.ids" "$TEST_TMP/live" "$SENDERS"
ingest_ms=$(($(now_ms) - start))
want=$(log_count "$LOG")
shipped()
{
	[ "$(awk '$1 ~ /^idwise_ship_last_seq[{]/ { print $2 }' "$TEST_TMP/live.prom" 2>/dev/null)" = "$want" ]
}
POLL_STEPS=2400 wait_for shipped || bail "the live shipper did not catch up in 2 minutes"
lag=$(($(now_ms) - start - ingest_ms))
kill_bg live TERM
say "live: $DELIVERIES deliveries in $ingest_ms ms ($(rate "$DELIVERIES" "$ingest_ms")/s) while shipping;" \
    "every record of the log ($want) in the stream $lag ms (metrics every second) after the last 200"
cp "$TEST_TMP/results" "$top_builddir/bench-ship.txt" && say "(also in $top_builddir/bench-ship.txt)"
