#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/rss.sh [BUILDDIR] [REQUESTS]: one idwise-fcgi process (--listen on a unix socket,
# sync = none) behind nginx takes REQUESTS requests (default 100000) sent with curl, 8 at a
# time: a quarter new deliveries, a quarter redeliveries of one event, a quarter with a wrong
# token (401), a quarter of broken JSON (400). Prints the process's VmRSS, RssAnon (heap and
# stacks: where a leak shows) and RssFile (mapped files: the LMDB dedup index grows with every
# new id) from /proc/PID/status after a warm-up of 1000 requests and at the end, and ratios,
# and VmRSS less the process's mapping of the index (the goal: at most 8 MB).
# BUILDDIR defaults to build/ (bash tests/run.sh makes it). Needs nginx and curl.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
top_srcdir=$SRC
top_builddir=$(cd "${1:-$SRC/build}" && pwd) || exit 1
N=${2:-100000}
WARMUP=1000
export top_srcdir top_builddir
. "$SRC/tests/lib.sh" || exit 1

kb()	# kb PID FIELD: the field of /proc/PID/status, in kB
{
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# idx_kb PID: the resident kB of the process's mappings of the dedup index (<log>.idx):
# pages of the index file, shared with every process of the log and the page cache.
idx_kb()
{
	awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($NF ~ /\.idx$/) } m && $1 == "Rss:" { s += $2 }
	    END { print s + 0 }' "/proc/$1/smaps"
}

# own_kb PID: VmRSS less the index mapping, and the limit (8 MB).
own_kb()
{
	awk -v r="$(kb "$1" VmRSS)" -v i="$(idx_kb "$1")" 'BEGIN {
		printf "VmRSS less the index mapping (%d kB): %d kB (limit 8192 kB: %s)\n",
		    i, r - i, r - i <= 8192 ? "met" : "NOT met" }'
}

# curl_config FIRST COUNT: a curl config for requests FIRST..FIRST+COUNT-1.
curl_config()
{
	awk -v first="$1" -v count="$2" -v url="$URL" -v token="$TOKEN" 'BEGIN {
		for (i = first; i < first + count; i++) {
			auth = token
			if (i % 4 == 0)
				body = "{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"rss-" i "\",\"journeyId\":\"j\",\"stepId\":\"1\"}}"
			else if (i % 4 == 1)
				body = "{\"event\":\"Finished Journey\",\"body\":{\"eventId\":\"rss-dup\",\"systemDecision\":\"Complete\"}}"
			else if (i % 4 == 2) {
				body = "{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"rss-never\"}}"
				auth = "wrong-" token
			} else
				body = "{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"rss-" i "\",\"x\":NaN}}"
			gsub(/"/, "\\\"", body)
			printf "url = \"%s\"\ndata-binary = \"%s\"\n", url, body
			printf "header = \"Content-Type: application/json\"\n"
			printf "header = \"Authorization: Bearer %s\"\n", auth
			printf "header = \"Expect:\"\noutput = \"/dev/null\"\nwrite-out = \"%%{http_code}\\\\n\"\n"
			if (i < first + count - 1)
				printf "next\n"
		}
	}'
}

# send FIRST COUNT: the requests, 8 at a time; prints how many got each status.
send()
{
	curl_config "$1" "$2" >"$TEST_TMP/requests.curl"
	curl -sS --no-progress-meter --parallel --parallel-max 8 --config "$TEST_TMP/requests.curl" 2>>"$TEST_TMP/curl.err" |
	    sort | uniq -c | awk '{ printf "%s x %s  ", $2, $1 } END { print "" }'
}

write_config "$TEST_TMP/rss" sync=none || bail "cannot write the config"
start_listener rss "$CONF" || bail "idwise-fcgi did not start"
PID=$(listener_pid rss)
start_nginx "$(listener_socket rss)" || bail "nginx did not start"

printf 'warm-up, %d requests: %s' "$WARMUP" "$(send 0 "$WARMUP")"
RSS0=$(kb "$PID" VmRSS)
ANON0=$(kb "$PID" RssAnon)
FILE0=$(kb "$PID" RssFile)
printf 'before: VmRSS %s kB, RssAnon %s kB, RssFile %s kB\n' "$RSS0" "$ANON0" "$FILE0"
printf '        %s' "$(own_kb "$PID")"
START=$(date +%s)
done_n=0
while [ "$done_n" -lt "$N" ]; do
	chunk=$((N - done_n < 20000 ? N - done_n : 20000))
	printf '%6d requests: %s' "$((done_n + chunk))" "$(send $((WARMUP + done_n)) "$chunk")"
	done_n=$((done_n + chunk))
	printf '        VmRSS %s kB, RssAnon %s kB, RssFile %s kB\n' "$(kb "$PID" VmRSS)" \
	    "$(kb "$PID" RssAnon)" "$(kb "$PID" RssFile)"
done
SECS=$(($(date +%s) - START))
RSS1=$(kb "$PID" VmRSS)
ANON1=$(kb "$PID" RssAnon)
FILE1=$(kb "$PID" RssFile)
printf 'after %d requests in %ds: VmRSS %s kB, RssAnon %s kB, RssFile %s kB\n' "$N" "$SECS" \
    "$RSS1" "$ANON1" "$FILE1"
printf '        %s' "$(own_kb "$PID")"
printf '        VmHWM (the peak) %s kB\n' "$(kb "$PID" VmHWM)"
awk -v a="$RSS0" -v b="$RSS1" -v c="$ANON0" -v d="$ANON1" \
    'BEGIN { printf "ratio after/before: VmRSS %.3f, RssAnon %.3f\n", b / a, d / c }'
printf 'records in the log: %s; dedup index %s kB on disk\n' "$(log_count "$LOG")" \
    "$(du -k "$LOG.idx" | cut -f1)"
stop_listener rss
cat "$TEST_TMP/curl.err" 2>/dev/null | sort | uniq -c | head -n 5
_tap_done=1
