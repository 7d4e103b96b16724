#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/big-log.sh: what a 1,000,000-record log costs idwise-fcgi, measured through nginx.
#
#   bash bench/big-log.sh [BUILD_DIR]        (default: build, as tests/run.sh leaves it)
#
# Uses the programs of a configured build (idwise-fcgi, tests/mklog, tests/line-sha256;
# "make" there builds what is missing) and nginx, spawn-fcgi and curl as the tests do. It
# installs nothing. Steps:
#   1. tests/mklog (the idwise-log tests' generator: the writer's own record_line, every
#      kind of event) writes a log of RECORDS (1,000,000) chained records, received over
#      the last 23 hours (all inside the default 24h dedup_window, so all are indexed);
#   2. idwise-fcgi builds its index from it once (the first delivery);
#   3. (i)   a freshly started process's first delivery, STARTS (5) times, with the big
#            log and with an empty one (its index exists): the median of each, and the
#            difference, which must stay under 5 ms;
#      (ii)  REQUESTS (3000) deliveries one after another to a running process, in rounds
#            alternating the big and the empty log: median, mean and 99th percentile of
#            each, and their ratios, which must stay near 1 (no growth with log size);
#      (iii) a full rebuild: the index (and state file) deleted, then a fresh process's
#            first delivery, REBUILDS (2) times, less a normal first delivery.
# Prints the figures and TAP lines for the two limits. SYNC (data: fdatasync before each
# 200, as in production; none leaves the disk out of the per-request figures) is the
# config's sync. The big log is in the page cache, as it is on a running server.
# The scratch directory (about 1 GB) is removed at the end unless a check failed.

set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd) || exit 1
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd) || exit 1
export top_srcdir top_builddir
RECORDS=${RECORDS:-1000000}
STARTS=${STARTS:-5}
REQUESTS=${REQUESTS:-3000}
ROUNDS=3
REBUILDS=${REBUILDS:-2}
SYNC=${SYNC:-data}

[ -f "$top_builddir/Makefile" ] || { echo "$top_builddir: not a configured build" >&2; exit 1; }
make -C "$top_builddir" -s idwise-fcgi tests/mklog tests/line-sha256 >/dev/null ||
    { echo "make in $top_builddir failed" >&2; exit 1; }

. "$top_srcdir/tests/lib.sh" || exit 1

BIG=$TEST_TMP/big
EMPTY=$TEST_TMP/empty

# ms SECONDS: a curl time in seconds as milliseconds with one decimal.
ms()
{
	awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'
}

# each_ms: the seconds on stdin as milliseconds on one line.
each_ms()
{
	awk '{ printf "%.1f ", $1 * 1000 } END { print "ms" }'
}

# median: of the numbers on stdin.
median()
{
	sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "nan" }'
}

# stats: "median mean p99" in ms of the seconds on stdin.
stats()
{
	sort -g | awk '{ v[NR] = $1; sum += $1 }
	    END { i = int(NR * 0.99); if (i < 1) i = 1
		printf "%.2f %.2f %.2f\n", v[int((NR + 1) / 2)] * 1000, sum / NR * 1000, v[i] * 1000 }'
}

# first_delivery CONF ID: start a fresh responder with CONF, time one new delivery through
# nginx (seconds), stop it.
first_delivery()
{
	local t
	start_responder bench "$1" || bail "idwise-fcgi did not start"
	t=$(curl -sS -o "$TEST_TMP/first.reply" -w '%{http_code} %{time_total}' -H 'Expect:' \
	    -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
	    --data-binary "$(step_event "$2")" "$URL")
	stop_responder bench
	[ "${t%% *}" = 200 ] || bail "first delivery: HTTP ${t%% *}: $(cat "$TEST_TMP/first.reply")"
	printf '%s\n' "${t#* }"
}

# timed_run CONF PREFIX N: N new deliveries one after another to one responder; prints
# each one's time in seconds.
timed_run()
{
	local conf=$1 prefix=$2 n=$3 i body cfg=$TEST_TMP/timed.config
	for ((i = 1; i <= n; i++)); do
		[ "$i" -eq 1 ] || printf 'next\n'
		printf 'url = "%s"\nheader = "Authorization: Bearer %s"\n' "$URL" "$TOKEN"
		printf 'header = "Content-Type: application/json"\nheader = "Expect:"\n'
		printf 'output = "/dev/null"\nwrite-out = "%%{http_code} %%{time_total}\\n"\n'
		printf -v body "$STEP_EVENT" "$prefix-$i"
		printf 'data-binary = "%s"\n' "${body//\"/\\\"}"
	done >"$cfg"
	start_responder bench "$conf" || bail "idwise-fcgi did not start"
	curl --no-progress-meter -sS --config "$cfg" >"$TEST_TMP/timed.out"
	stop_responder bench
	[ "$(grep -c '^200 ' "$TEST_TMP/timed.out")" -eq "$n" ] ||
	    bail "timed run $prefix: not every delivery got 200"
	cut -d' ' -f2 "$TEST_TMP/timed.out"
}

# --- 1. the log ------------------------------------------------------------------------

write_config "$BIG" "sync=$SYNC" || bail "cannot write the config"
BIG_CONF=$CONF
BIG_LOG=$LOG
write_config "$EMPTY" "sync=$SYNC" || bail "cannot write the config"
EMPTY_CONF=$CONF
start=$(now_ms)
"$top_builddir/tests/mklog" "$RECORDS" $((start - 82800000)) $((80000000 / RECORDS)) \
    >"$BIG_LOG" || bail "tests/mklog failed"
give_to_responder "$BIG_LOG"
gen_ms=$(($(now_ms) - start))
printf 'big-log benchmark, %s, sync = %s\n' "$(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs" "$SYNC"
printf '  log: %d records, %d MB, written by tests/mklog in %s s\n' \
    "$(log_count "$BIG_LOG")" $(($(stat -c %s "$BIG_LOG") >> 20)) \
    "$(awk -v m="$gen_ms" 'BEGIN { printf "%.1f", m / 1000 }')"

# --- 2. the index, once ----------------------------------------------------------------

start_nginx "$(responder_socket bench)" || bail "nginx did not start"
t=$(first_delivery "$BIG_CONF" warm-big)
printf '  first index build: %.1f s (the first delivery with no index)\n' "$t"
first_delivery "$EMPTY_CONF" warm-empty >/dev/null
printf '  index: %d MB for %d records\n' $(($(stat -c %s "$BIG_LOG.idx") >> 20)) \
    "$(log_count "$BIG_LOG")"

# What the generator and the index build wrote is on disk before anything is timed, as on
# a server that has been running: else the first fdatasync calls would flush it.
sync

# --- 3. (i) first delivery of a fresh process ------------------------------------------

for ((i = 1; i <= STARTS; i++)); do
	first_delivery "$BIG_CONF" "first-big-$i" >>"$TEST_TMP/first.big"
	first_delivery "$EMPTY_CONF" "first-empty-$i" >>"$TEST_TMP/first.empty"
done
first_big=$(median <"$TEST_TMP/first.big")
first_empty=$(median <"$TEST_TMP/first.empty")
diff_ms=$(awk -v a="$first_big" -v b="$first_empty" 'BEGIN { printf "%.1f", (a - b) * 1000 }')
printf '  (i) first delivery of a fresh process, median of %d: empty log %s ms, ' \
    "$STARTS" "$(ms "$first_empty")"
printf '%d-record log %s ms: difference %+.1f ms (limit +5 ms)\n' \
    "$RECORDS" "$(ms "$first_big")" "$diff_ms"
printf '      each (big): %s\n' "$(each_ms <"$TEST_TMP/first.big")"
printf '      each (empty): %s\n' "$(each_ms <"$TEST_TMP/first.empty")"

# --- (ii) per request ------------------------------------------------------------------

per_round=$((REQUESTS / ROUNDS))
rounds=
for ((r = 1; r <= ROUNDS; r++)); do
	sync
	timed_run "$BIG_CONF" "seq-big-$r" "$per_round" >"$TEST_TMP/round.big"
	timed_run "$EMPTY_CONF" "seq-empty-$r" "$per_round" >"$TEST_TMP/round.empty"
	cat "$TEST_TMP/round.big" >>"$TEST_TMP/each.big"
	cat "$TEST_TMP/round.empty" >>"$TEST_TMP/each.empty"
	rounds+=" $(stats <"$TEST_TMP/round.big" | cut -d' ' -f1)/$(stats <"$TEST_TMP/round.empty" | cut -d' ' -f1)"
done
read -r big_p50 big_mean big_p99 < <(stats <"$TEST_TMP/each.big")
read -r empty_p50 empty_mean empty_p99 < <(stats <"$TEST_TMP/each.empty")
ratio_p50=$(awk -v a="$big_p50" -v b="$empty_p50" 'BEGIN { printf "%.2f", a / b }')
ratio_mean=$(awk -v a="$big_mean" -v b="$empty_mean" 'BEGIN { printf "%.2f", a / b }')
printf '  (ii) per request, %d deliveries one after another to a running process:\n' \
    $((per_round * ROUNDS))
printf '      empty log:         median %s ms, mean %s ms, p99 %s ms\n' \
    "$empty_p50" "$empty_mean" "$empty_p99"
printf '      %d-record log: median %s ms, mean %s ms, p99 %s ms\n' \
    "$RECORDS" "$big_p50" "$big_mean" "$big_p99"
printf '      ratio big/empty:   median %s, mean %s\n' "$ratio_p50" "$ratio_mean"
printf '      medians of each round, big/empty (ms):%s\n' "$rounds"

# --- (iii) a full rebuild ------------------------------------------------------------------

for ((i = 1; i <= REBUILDS; i++)); do
	n=$(log_count "$BIG_LOG")
	rm -f "$BIG_LOG.idx" "$BIG_LOG.shm"
	sync
	t=$(first_delivery "$BIG_CONF" "rebuild-$i")
	printf '  (iii) full index rebuild of the %d-record log: %.1f s (a first delivery of %s ms, less %s ms)\n' \
	    "$n" "$(awk -v a="$t" -v b="$first_big" 'BEGIN { print a - b }')" "$(ms "$t")" \
	    "$(ms "$first_big")"
done

ok "(i) a fresh process's first delivery with the big log is within 5 ms of the empty log's" \
    awk -v d="$diff_ms" 'BEGIN { exit !(d < 5) }'
ok "(ii) per-request cost does not grow with the log (median and mean within 50%)" \
    awk -v a="$ratio_p50" -v b="$ratio_mean" 'BEGIN { exit !(a < 1.5 && b < 1.5) }'
ok "the big log still verifies" check_chain "$BIG_LOG"
done_testing
