#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/run.sh: idwise-fcgi's throughput, latency and memory, side by side in one run on
# one machine, against
#   - bench/minimal-fcgi: a libfcgi responder that reads the body and answers 200, with the
#     same processes and threads and no disk work (the FastCGI limit of the machine);
#   - bench/minimal-fcgi --durable: the same, but each body is appended to a file and
#     group-committed with fdatasync before the 200 (the floor of any durable receiver
#     on this disk: what durability alone costs, without idwise-fcgi's checks, chain and
#     index); run in the nginx part;
#   - adnanh/webhook (Debian package webhook) with a token rule and /bin/true, the tool an
#     operator would otherwise pick.
# Load: wrk with bench/unique.lua (every delivery a new eventId, the Finished Journey
# sample, the bearer token). Parts (default all):
#   nginx    idwise-fcgi, minimal-fcgi and minimal-fcgi --durable under spawn-fcgi behind
#            one nginx
#   webhook  webhook behind the same nginx (proxy_pass), and hit directly
#   apache   idwise-fcgi and minimal-fcgi as mod_fcgid applications
#   sweep    idwise-fcgi and minimal-fcgi behind nginx at 8, 32 and 128 connections
#   biglog   idwise-fcgi with a log of RECORDS records already in place
#   keepconn idwise-fcgi and minimal-fcgi behind nginx, a new FastCGI connection per
#            request against nginx keepalive + fastcgi_keep_conn on (the two snippets)
# After every idwise-fcgi run the log must hold exactly the acknowledged records (see
# log_check in bench/lib.sh) and its chain must verify.
#
# It installs nothing (it names the Debian packages that are missing) and builds only with
# the build tree's own make. Results: OUT/summary.txt (printed at the end), results.tsv,
# sweep.tsv and sweep.png, machine.txt, wrk's output of every run, the responders' stderr.
# The event logs go to a scratch directory on the filesystem under test (-W; default a new
# directory in /var/tmp), removed at the end unless -k.

set -u -o pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd) || exit 1
BUILD=$SRC/build
OUT=
WORK=
DURATION=20
WARMUP=5
CONNS=32
PROCS=4
THREADS=8
SWEEP="8 32 128"
RECORDS=1000000
REPEATS=1
QUIET_WAIT=0
NICENESS=
KEEP_WORK=0
ALLOW_TMPFS=0
PARTS=(nginx sync webhook php apache sweep biglog keepconn)

usage()
{
	cat <<EOF
usage: bench/run.sh [-b BUILD] [-o OUT] [-W WORKDIR] [-d SECONDS] [-w SECONDS] [-c CONNS]
                    [-p PROCS] [-t THREADS] [-s "CONNS..."] [-n RECORDS] [-r REPEATS] [-Q SECONDS]
                    [-N NICENESS] [-k] [-T] [PART...]

  -b BUILD    configured build tree (default ./build); make brings its programs up to date
  -o OUT      results directory (default bench/results/DATE)
  -W WORKDIR  where the event logs go: a directory on the filesystem the log would live on
              in a real deployment (default a new directory in /var/tmp)
  -d SECONDS  each measured run (default $DURATION); -w SECONDS warm-up before it ($WARMUP)
  -c CONNS    wrk connections (default $CONNS)
  -p PROCS    responder processes under spawn-fcgi (default $PROCS)
  -t THREADS  worker threads in each (default $THREADS); PROCS x THREADS >= CONNS keeps
              every connection served at once
  -s LIST     connection counts of the sweep (default "$SWEEP")
  -n RECORDS  records already in the log for the biglog part (default $RECORDS)
  -r REPEATS  run each comparison of the nginx, webhook and apache parts REPEATS times,
              the sides taking turns; the median run (by req/s) is the one reported
  -Q SECONDS  before each side, wait up to SECONDS for the machine to be quiet (at most
              15% of its CPU in use by others); on a shared machine the figures are
              only worth something when it is
  -N NICENESS run everything the benchmark starts at this niceness (e.g. -10, as root), so
              that background jobs of a shared machine get less of the CPU; say so
              when you quote the figures
  -k          keep the work directory; -T allow a tmpfs work directory
  PART        nginx webhook apache sweep biglog keepconn (default: all)
EOF
}

while getopts b:o:W:d:w:c:p:t:s:n:r:Q:N:kTh opt; do
	case $opt in
	b) BUILD=$(cd "$OPTARG" && pwd) || exit 64 ;;
	o) OUT=$OPTARG ;;
	W) WORK=$OPTARG ;;
	d) DURATION=$OPTARG ;;
	w) WARMUP=$OPTARG ;;
	c) CONNS=$OPTARG ;;
	p) PROCS=$OPTARG ;;
	t) THREADS=$OPTARG ;;
	s) SWEEP=$OPTARG ;;
	n) RECORDS=$OPTARG ;;
	r) REPEATS=$OPTARG ;;
	Q) QUIET_WAIT=$OPTARG ;;
	N) NICENESS=$OPTARG ;;
	k) KEEP_WORK=1 ;;
	T) ALLOW_TMPFS=1 ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || PARTS=("$@")
for p in "${PARTS[@]}"; do
	case $p in
	nginx|sync|webhook|php|apache|biglog|sweep|keepconn) ;;
	*) usage >&2; exit 64 ;;
	esac
done
for v in "$DURATION" "$WARMUP" "$CONNS" "$PROCS" "$THREADS" "$RECORDS" "$REPEATS" $SWEEP; do
	[[ $v =~ ^[0-9]+$ ]] && [ "$v" -gt 0 ] || { usage >&2; exit 64; }
done
[ -z "$NICENESS" ] || [[ $NICENESS =~ ^-?[0-9]+$ ]] || { usage >&2; exit 64; }
OUT=${OUT:-$SRC/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
export KEEP_WORK ALLOW_TMPFS

# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"

part()
{
	local p
	for p in "${PARTS[@]}"; do
		[ "$p" = "$1" ] && return 0
	done
	return 1
}

RESULTS=		# $OUT/results.tsv
TAG_BASE=$(( (RANDOM * 32768 + RANDOM) % (1 << 30) ))
RUNS=0

next_tag()
{
	RUNS=$((RUNS + 1))
	TAG=$((TAG_BASE + RUNS))
}

# record LABEL SIDE SERVER CONNS SHAPE MEM CPU_RESP CPU_WEB CHECK: one row of
# results.tsv, from the last wrk run (W[...]).
record()
{
	local procs peak_sum peak_max anon_max file_max
	read -r procs peak_sum peak_max anon_max file_max <<<"$6"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
	    "$1" "$2" "$3" "$4" "$5" "${W[rps]}" \
	    "$(awk -v u="${W[p50_us]}" 'BEGIN { printf "%.2f", u / 1000 }')" \
	    "$(awk -v u="${W[p99_us]}" 'BEGIN { printf "%.2f", u / 1000 }')" \
	    "${W[ok]}" "${W[other]}" "${W[errors]}" "$7" "$8" "$BUSY/$OTHERS" "$DISK_KB" "$SYNCS_REQ" \
	    "$procs" "$((peak_sum / 1024))" "$((peak_max / 1024))" \
	    "$(awk -v a="$anon_max" -v f="$file_max" 'BEGIN { printf "%.1f/%.1f", a / 1024, f / 1024 }')" \
	    "$9" >>"$RESULTS"
}

# col LABEL FIELD: a field of a row of results.tsv (1 label ... 6 rps, 8 p99).
col()
{
	awk -F'\t' -v l="$1" -v f="$2" '$1 == l { v = $f } END { print v }' "$RESULTS"
}

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "-" }'
}

WEB=nginx		# the web server in front for the current run: nginx, apache or none

web_pids()
{
	case $WEB in
	nginx)
		[ -n "$NGINX_PID" ] || return 0
		printf '%s\n' "$NGINX_PID"
		pgrep -P "$NGINX_PID"
		;;
	apache)
		pids_of_exe "$(readlink -f "$(command -v apache2)")"
		;;
	esac
	return 0
}

# load LABEL URL CONNS RESP-PIDS-FN ACKS: warm-up, then the measured run, with the CPU
# time over it of the responders, the web server, wrk and the rest of the machine. Sets
# CPU_RESP, CPU_WEB (usr+sys us/request), DISK_KB (KB written to the log's filesystem per
# request, by anyone), BUSY (% of all CPUs in use), OTHERS (% used by none of those: kernel
# threads and interrupts (kworkers, softirq), and any other program running), SYNCS_REQ
# (the responders' fdatasync and fsync calls per request, with perf; else -).
load()
{
	local label=$1 url=$2 conns=$3 pids_fn=$4 acks=$5 r0 r1 w0 w1 c0 c1 s0 s1 k0 k1
	wait_quiet
	next_tag
	wrk_run "$label-warmup" "$url" "$conns" "$WARMUP" "$TAG" "$acks"
	[ "${W[ok]}" -gt 0 ] || die "$label: no 200 in the warm-up: see $OUT/wrk-$label-warmup.txt"
	# shellcheck disable=SC2046
	r0=$(cpu_ticks $($pids_fn))
	# shellcheck disable=SC2046
	w0=$(cpu_ticks $(web_pids))
	children_ticks
	c0=$CHILDREN_TICKS
	s0=$(cpu_stat)
	k0=$(disk_kb)
	next_tag
	# shellcheck disable=SC2046
	syncs_start "$label" $($pids_fn)
	wrk_run "$label" "$url" "$conns" "$DURATION" "$TAG" "$acks"
	syncs_stop
	SYNCS_REQ=-
	[ -z "$SYNCS" ] ||
	    SYNCS_REQ=$(awk -v s="$SYNCS" -v n="${W[requests]}" 'BEGIN { printf "%.3f", s / n }')
	k1=$(disk_kb)
	s1=$(cpu_stat)
	children_ticks
	c1=$CHILDREN_TICKS
	# shellcheck disable=SC2046
	r1=$(cpu_ticks $($pids_fn))
	# shellcheck disable=SC2046
	w1=$(cpu_ticks $(web_pids))
	CPU_RESP=$(cpu_per_req "$r0" "$r1" "${W[requests]}")
	CPU_WEB=$(cpu_per_req "$w0" "$w1" "${W[requests]}")
	[ "$WEB" != none ] || CPU_WEB=-
	DISK_KB=-
	[ -z "$k0" ] || [ -z "$k1" ] ||
	    DISK_KB=$(awk -v k="$((k1 - k0))" -v n="${W[requests]}" 'BEGIN { printf "%.2f", k / n }')
	read -r BUSY OTHERS <<<"$(awk -v s0="$s0" -v s1="$s1" -v r0="$r0" -v r1="$r1" \
	    -v w0="$w0" -v w1="$w1" -v c="$((c1 - c0))" 'BEGIN {
		split(s0, a, " "); split(s1, b, " "); split(r0, x, " "); split(r1, y, " ")
		split(w0, p, " "); split(w1, q, " ")
		busy = b[1] - a[1]; total = b[2] - a[2]
		ours = y[1] + y[2] - x[1] - x[2] + q[1] + q[2] - p[1] - p[2] + c
		o = busy - ours; if (o < 0) o = 0
		printf "%.0f %.0f\n", 100 * busy / total, 100 * o / total }')"
	printf '  %-22s %8s req/s  p50 %6s ms  p99 %7s ms  200: %s  other: %s  errors: %s  CPU busy %s%% (others %s%%)  syncs/req %s\n' \
	    "$label" "${W[rps]}" "$(awk -v u="${W[p50_us]}" 'BEGIN { printf "%.2f", u / 1000 }')" \
	    "$(awk -v u="${W[p99_us]}" 'BEGIN { printf "%.2f", u / 1000 }')" "${W[ok]}" \
	    "${W[other]}" "${W[errors]}" "$BUSY" "$OTHERS" "$SYNCS_REQ"
}

# wait_quiet: with -Q, wait (up to QUIET_WAIT seconds) until others leave the CPU alone.
wait_quiet()
{
	local waited=0 busy
	[ "$QUIET_WAIT" -gt 0 ] || return 0
	while busy=$(busy_now 2) && [ "$busy" -gt 15 ] && [ "$waited" -lt "$QUIET_WAIT" ]; do
		waited=$((waited + 2))
	done
	[ "$waited" -eq 0 ] || say "  (waited ${waited} s for a quiet machine; CPU in use now: ${busy}%)"
}

prime_ok()
{
	local what=$1
	[ "$PRIME_STATUS" = 200 ] ||
	    die "$what: the first delivery got $PRIME_STATUS $PRIME_BODY (see $WORK/*.stderr)"
}

# settle BASE: after an idwise-fcgi run, drop its log (unless the biglog part still needs
# it) and flush the filesystem, so that its writeback does not slow the next run's syncs.
settle()
{
	[ "$1" -ne 0 ] || rm -rf "$SIDE_DIR"
	sync -f "$WORK"
}

current_fcgi_pids()
{
	printf '%s\n' ${FCGI_PIDS[$CUR]}
}

# fcgi_side LABEL KIND CONNS [BASE [PATH]]: KIND (idwise, minimal or durable: minimal-fcgi
# --durable) under spawn-fcgi behind nginx; for idwise a fresh log, or one of BASE
# records made by make_big_log. PATH: nginx's location for it (default NAME/webhook; the
# keepconn part gives NAME-keep/webhook, over kept connections).
fcgi_side()
{
	local label=$1 kind=$2 conns=$3 base=${4:-0} url mem acks=$WORK/$1.acks name=$2
	local responder=$2-fcgi web=nginx
	[ "$kind" != durable ] || { name=minimal; responder="minimal-fcgi --durable"; }
	url=http://127.0.0.1:$NGINX_PORT/${5:-$name/webhook}
	case ${5:-} in
	*-keep/*) web="nginx keep_conn" ;;
	esac
	rm -f "$acks"
	CUR=$name
	if [ "$kind" = idwise ]; then
		idwise_dir "$label"
		[ "$base" -eq 0 ] || make_big_log "$base"
		fcgi_start idwise "$WORK/bin/idwise-fcgi" "$PROCS" -c "$CONF" --threads "$THREADS"
	elif [ "$kind" = durable ]; then
		idwise_dir "$label"
		fcgi_start minimal "$WORK/bin/minimal-fcgi" "$PROCS" --threads "$THREADS" \
		    --durable "$SIDE_DIR"
	else
		fcgi_start minimal "$WORK/bin/minimal-fcgi" "$PROCS" --threads "$THREADS"
	fi
	prime "$url"
	prime_ok "$label"
	if [ "$base" -ne 0 ]; then
		say "  first delivery to the $base-record log (index rebuilt): ${PRIME_SECONDS} s"
		sync -f "$LOG" || die "sync -f $LOG failed"
	fi
	[ "$kind" != idwise ] || printf '%s\n' "$PRIME_BODY" | jq -r .seq >>"$acks"
	load "$label" "$url" "$conns" current_fcgi_pids "$acks"
	# shellcheck disable=SC2046
	mem=$(proc_mem $(current_fcgi_pids))
	fcgi_stop "$name"
	CHECK=-
	if [ "$kind" = idwise ]; then
		log_check "$LOG" "$base" 2 "$conns" "$acks"
		say "  log: $CHECK"
		cp "$WORK/idwise.stderr" "$OUT/$label.stderr" 2>/dev/null
		settle "$base"
	elif [ "$kind" = durable ]; then
		CHECK="$(cat "$SIDE_DIR"/minimal.*.log | grep -o '"eventId"' | wc -l) bodies on disk (warm-up included), ${W[ok]} 200s in the run"
		settle 0
	fi
	record "$label" "$responder" "$web" "$conns" "${PROCS}x$THREADS" "$mem" "$CPU_RESP" "$CPU_WEB" "$CHECK"
}

# --- parts ---------------------------------------------------------------------------

# median_row LABEL: the run LABEL.N with the median req/s, copied as LABEL.
median_row()
{
	awk -F'\t' -v l="$1" 'BEGIN { OFS = FS }
		index($1, l ".") == 1 && substr($1, length(l) + 2) ~ /^[0-9]+$/ {
			n++; rps[n] = $6; row[n] = $0 }
		END {
			if (n == 0) exit
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (rps[j] < rps[i]) { t = rps[i]; rps[i] = rps[j]; rps[j] = t
					t = row[i]; row[i] = row[j]; row[j] = t }
			m = int((n + 1) / 2); $0 = row[m]; $1 = l; print }' "$RESULTS" >>"$RESULTS"
}

part_nginx()
{
	local i
	say "== nginx: idwise-fcgi, minimal-fcgi and minimal-fcgi --durable, $PROCS processes x $THREADS threads, $CONNS connections"
	for ((i = 1; i <= REPEATS; i++)); do
		fcgi_side "nginx-idwise.$i" idwise "$CONNS"
		fcgi_side "nginx-minimal.$i" minimal "$CONNS"
		fcgi_side "nginx-durable.$i" durable "$CONNS"
	done
	median_row nginx-idwise
	median_row nginx-minimal
	median_row nginx-durable
}

# part_sync: idwise-fcgi with sync = data against the same build with sync = none, on
# the same disk, the sides taking turns: what durability costs.
part_sync()
{
	local i
	say "== nginx: idwise-fcgi sync = data vs sync = none, $PROCS processes x $THREADS threads, $CONNS connections"
	for ((i = 1; i <= REPEATS; i++)); do
		fcgi_side "sync-data.$i" idwise "$CONNS"
		SYNC_MODE=none
		fcgi_side "sync-none.$i" idwise "$CONNS"
		SYNC_MODE=data
	done
	median_row sync-data
	median_row sync-none
}

# part_keepconn: idwise-fcgi and minimal-fcgi behind nginx, a new FastCGI connection per
# request (nginx/idwise-fcgi.conf) against kept ones (nginx/idwise-fcgi-keepalive.conf:
# fastcgi_keep_conn on, upstream keepalive 8), the sides taking turns.
part_keepconn()
{
	local i
	say "== nginx: new connection per request vs keepalive + fastcgi_keep_conn, $PROCS processes x $THREADS threads, $CONNS connections"
	for ((i = 1; i <= REPEATS; i++)); do
		fcgi_side "keep-idwise-new.$i" idwise "$CONNS"
		fcgi_side "keep-idwise-kept.$i" idwise "$CONNS" 0 idwise-keep/webhook
		fcgi_side "keep-minimal-new.$i" minimal "$CONNS"
		fcgi_side "keep-minimal-kept.$i" minimal "$CONNS" 0 minimal-keep/webhook
	done
	median_row keep-idwise-new
	median_row keep-idwise-kept
	median_row keep-minimal-new
	median_row keep-minimal-kept
}

webhook_pids()
{
	printf '%s\n' "$WEBHOOK_PID"
}

webhook_side()
{
	local label=$1 url=$2 mem
	webhook_start
	prime "$url"
	prime_ok "$label"
	load "$label" "$url" "$CONNS" webhook_pids ""
	# shellcheck disable=SC2046
	mem=$(proc_mem $(webhook_pids))
	record "$label" webhook "$WEB" "$CONNS" "1 (Go)" "$mem" "$CPU_RESP" "$CPU_WEB" -
	webhook_stop
}

part_webhook()
{
	local status i
	say "== adnanh/webhook: a token rule on Authorization, /bin/true"
	webhook_start
	status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' \
	    --data-binary @"$SAMPLE" "http://127.0.0.1:$NGINX_PORT/webhook/idwise")
	webhook_stop
	[ "$status" = 401 ] || die "webhook: a wrong token got $status, not 401: the rule is not in force"
	for ((i = 1; i <= REPEATS; i++)); do
		webhook_side "nginx-webhook.$i" "http://127.0.0.1:$NGINX_PORT/webhook/idwise"
		WEB=none
		webhook_side "direct-webhook.$i" "http://127.0.0.1:$WEBHOOK_PORT/hooks/idwise"
		WEB=nginx
	done
	median_row nginx-webhook
	median_row direct-webhook
}

# part_php: bench/php-receiver.php under php-fpm behind the same nginx, with as many
# pool processes as idwise-fcgi has threads; its file must hold a body for every 200.
part_php()
{
	local i label mem status url=http://127.0.0.1:$NGINX_PORT/php/webhook
	say "== PHP under php-fpm: a token check, flock, fwrite, fsync ($((PROCS * THREADS)) processes)"
	php_start "$((PROCS * THREADS))"
	status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' \
	    --data-binary @"$SAMPLE" "$url")
	php_stop
	[ "$status" = 401 ] || die "php: a wrong token got $status, not 401: the check is not in force"
	for ((i = 1; i <= REPEATS; i++)); do
		label=nginx-php.$i
		php_start "$((PROCS * THREADS))"
		prime "$url"
		prime_ok "$label"
		load "$label" "$url" "$CONNS" php_pids ""
		# shellcheck disable=SC2046
		mem=$(proc_mem $(php_pids))
		php_stop
		CHECK="$(grep -c '"eventId"' "$PHP_LOG") bodies on disk (warm-up included), ${W[ok]} 200s in the run"
		record "$label" php-fpm nginx "$CONNS" "$((PROCS * THREADS)) procs" "$mem" \
		    "$CPU_RESP" "$CPU_WEB" "$CHECK"
		sync -f "$WORK"
	done
	median_row nginx-php
}

APACHE_BIN=
apache_resp_pids()
{
	pids_of_exe "$APACHE_BIN"
}

# apache_side LABEL KIND: KIND as an fcgid application (one request per process at a time).
apache_side()
{
	local label=$1 kind=$2 mem acks=$WORK/$1.acks url procs
	rm -f "$acks"
	APACHE_BIN=$WORK/bin/$kind-fcgi
	if [ "$kind" = idwise ]; then
		idwise_dir "$label"
		apache_start idwise "$APACHE_BIN" -c "$CONF"
	else
		apache_start minimal "$APACHE_BIN"
	fi
	url=http://127.0.0.1:$APACHE_PORT/$kind/webhook
	prime "$url"
	prime_ok "$label"
	[ "$kind" != idwise ] || printf '%s\n' "$PRIME_BODY" | jq -r .seq >>"$acks"
	WEB=apache
	load "$label" "$url" "$CONNS" apache_resp_pids "$acks"
	WEB=nginx
	# shellcheck disable=SC2046
	mem=$(proc_mem $(apache_resp_pids))
	procs=$(apache_resp_pids | wc -l)
	apache_stop "$APACHE_BIN"
	CHECK=-
	if [ "$kind" = idwise ]; then
		log_check "$LOG" 0 2 "$CONNS" "$acks"
		say "  log: $CHECK"
		cp "$WORK/httpd-idwise/idwise.stderr" "$OUT/$label.stderr" 2>/dev/null
		settle 0
	fi
	cp "$WORK/httpd-$kind/error.log" "$OUT/$label.error.log" 2>/dev/null
	record "$label" "$kind-fcgi" apache "$CONNS" "${procs}x1" "$mem" "$CPU_RESP" "$CPU_WEB" "$CHECK"
}

part_apache()
{
	local i
	say "== Apache mod_fcgid: idwise-fcgi and minimal-fcgi, up to $CONNS processes, $CONNS connections"
	for ((i = 1; i <= REPEATS; i++)); do
		apache_side "apache-idwise.$i" idwise
		apache_side "apache-minimal.$i" minimal
	done
	median_row apache-idwise
	median_row apache-minimal
}

MKLOG=
find_mklog()
{
	local m
	for m in "$BUILD/tests/mklog" "$BUILD/bench/mklog"; do
		if [ -x "$m" ]; then
			MKLOG=$m
			return 0
		fi
	done
	return 1
}

# make_big_log N: N chained records in $LOG, received over the last hours (all within
# the default dedup_window, so that the index holds every one of them).
make_big_log()
{
	local n=$1 step=40 start t0 t1
	start=$(( $(date +%s) * 1000 - n * step - 60000 ))
	t0=$(date +%s)
	"$MKLOG" "$n" "$start" "$step" >"$LOG" || die "$MKLOG $n failed"
	t1=$(date +%s)
	give_to_responder "$LOG"
	# on disk before we measure: its writeback would stall every fdatasync of the run
	sync -f "$LOG" || die "sync -f $LOG failed"
	say "  made $n records with ${MKLOG#"$BUILD"/} in $((t1 - t0)) s: $(du -h "$LOG" | cut -f1)"
}

part_biglog()
{
	say "== nginx: idwise-fcgi with $RECORDS records already in the log"
	fcgi_side biglog-idwise idwise "$CONNS" "$RECORDS"
	say "  index: $(du -h "$WORK/biglog-idwise/events.jsonl.idx" | cut -f1), log: $(du -h \
	    "$WORK/biglog-idwise/events.jsonl" | cut -f1)"
	rm -rf "$WORK/biglog-idwise"
	sync -f "$WORK"
}

part_sweep()
{
	local c kind label
	say "== nginx: sweep over $SWEEP connections, $PROCS processes x $THREADS threads"
	for c in $SWEEP; do
		for kind in idwise minimal; do
			label=sweep-$kind-$c
			if [ "$c" -eq "$CONNS" ] && [ -n "$(col "nginx-$kind" 6)" ]; then
				awk -F'\t' -v l="nginx-$kind" -v n="$label" 'BEGIN { OFS = FS }
				    $1 == l { $1 = n; print }' "$RESULTS" >>"$RESULTS"
				say "  $label: the $CONNS-connection run above"
				continue
			fi
			fcgi_side "$label" "$kind" "$c"
		done
	done
	{
		printf 'conns\tidwise_rps\tminimal_rps\tratio\tidwise_p99_ms\tminimal_p99_ms\tp99_ratio\n'
		for c in $SWEEP; do
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$(col "sweep-idwise-$c" 6)" \
			    "$(col "sweep-minimal-$c" 6)" \
			    "$(ratio "$(col "sweep-idwise-$c" 6)" "$(col "sweep-minimal-$c" 6)")" \
			    "$(col "sweep-idwise-$c" 8)" "$(col "sweep-minimal-$c" 8)" \
			    "$(ratio "$(col "sweep-idwise-$c" 8)" "$(col "sweep-minimal-$c" 8)")"
		done
	} >"$OUT/sweep.tsv"
	plot_sweep
}

plot_sweep()
{
	command -v gnuplot >/dev/null || { note "no gnuplot: no sweep.png"; return 0; }
	gnuplot <<EOF 2>"$OUT/gnuplot.err" || note "gnuplot failed: see $OUT/gnuplot.err"
set terminal pngcairo size 1000,420 font ",10"
set output "$OUT/sweep.png"
set datafile separator "\t"
set key top left
set grid
set logscale x 2
set xlabel "concurrent connections (wrk)"
set multiplot layout 1,2 title "idwise-fcgi vs minimal-fcgi behind nginx, $PROCS processes x $THREADS threads, $(date -u +%Y-%m-%d)"
set ylabel "requests/s"
set yrange [0:*]
plot "$OUT/sweep.tsv" using 1:3 skip 1 with linespoints lw 2 title "minimal-fcgi", \
     "" using 1:2 skip 1 with linespoints lw 2 title "idwise-fcgi (sync = data)"
set ylabel "p99 latency (ms)"
plot "$OUT/sweep.tsv" using 1:6 skip 1 with linespoints lw 2 title "minimal-fcgi", \
     "" using 1:5 skip 1 with linespoints lw 2 title "idwise-fcgi (sync = data)"
unset multiplot
EOF
}

# --- summary -------------------------------------------------------------------------

goal()	# goal VALUE OP LIMIT: "met" or "NOT met"
{
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v == "-") { print "-"; exit }
		ok = op == ">=" ? v >= l : v <= l
		print ok ? "met" : "NOT met" }'
}

summary()
{
	local r
	printf 'idwise-fcgi benchmark, %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	cat "$OUT/machine.txt"
	printf 'CPU in use before the start: %s%%\n' "$QUIET_BUSY"
	printf '\nwrk: %s threads, %s s per run after a %s s warm-up, %s run(s) per side; nginx: %s workers; spawn-fcgi: %s processes x %s threads\n\n' \
	    "$WRK_THREADS" "$DURATION" "$WARMUP" "$REPEATS" "$(nproc)" "$PROCS" "$THREADS"
	{
		printf 'run\tresponder\tweb server\tconns\tprocs x threads\treq/s\tp50 ms\tp99 ms\t200\tother\terrors\tCPU us/req usr+sys (resp)\tCPU us/req usr+sys (web)\tCPU busy/others %%\tdisk KB/req\tsyncs/req\tprocs\tpeak RSS sum MB\tpeak RSS/proc MB\tanon/file MB\tlog check\n'
		awk -F'\t' '$1 !~ /^sweep-/ && $1 !~ /\.[0-9]+$/' "$RESULTS"
	} | column -t -s $'\t'
	if [ "$REPEATS" -gt 1 ]; then
		printf '\nreq/s of each run (the median one is above)\n'
		awk -F'\t' '$1 ~ /\.[0-9]+$/ { l = $1; sub(/\.[0-9]+$/, "", l)
			if (!(l in v)) order[++n] = l; v[l] = v[l] " " $6 }
			END { for (i = 1; i <= n; i++) printf "  %-16s%s\n", order[i], v[order[i]] }' "$RESULTS"
	fi
	printf '\nratios (goals of issue 18)\n'
	r=$(ratio "$(col sync-data 6)" "$(col sync-none 6)")
	printf '  sync    data/none throughput         %5s  (>= 0.85: %s)  syncs/req %s (data)\n' \
	    "$r" "$(goal "$r" '>=' 0.85)" "$(col sync-data 16)"
	r=$(ratio "$(col sync-data 8)" "$(col sync-none 8)")
	printf '  sync    data/none p99                %5s  (<= 2: %s)\n' "$r" "$(goal "$r" '<=' 2)"
	r=$(ratio "$(col sync-none 6)" "$(col nginx-minimal 6)")
	printf '  nginx   idwise sync=none/minimal     %5s  (>= 0.8: %s)\n' "$r" "$(goal "$r" '>=' 0.8)"
	r=$(ratio "$(col nginx-idwise 6)" "$(col nginx-webhook 6)")
	printf '  nginx   idwise/webhook throughput    %5s  (>= 3: %s)  webhook behind the same nginx\n' \
	    "$r" "$(goal "$r" '>=' 3)"
	r=$(ratio "$(col nginx-idwise 6)" "$(col nginx-php 6)")
	printf '  nginx   idwise/php throughput        %5s  (>= 2: %s)  PHP under php-fpm, flock + fsync\n' \
	    "$r" "$(goal "$r" '>=' 2)"
	printf '\nratios (goals of issue 7)\n'
	r=$(ratio "$(col nginx-idwise 6)" "$(col nginx-minimal 6)")
	printf '  nginx   idwise/minimal throughput    %5s  (>= 0.9: %s)\n' "$r" "$(goal "$r" '>=' 0.9)"
	r=$(ratio "$(col nginx-idwise 8)" "$(col nginx-minimal 8)")
	printf '  nginx   idwise/minimal p99           %5s  (<= 2: %s)\n' "$r" "$(goal "$r" '<=' 2)"
	printf '  nginx   durable floor/minimal        %5s  (minimal-fcgi --durable: a write and a share of an fdatasync)\n' \
	    "$(ratio "$(col nginx-durable 6)" "$(col nginx-minimal 6)")"
	printf '  nginx   idwise/durable floor         %5s  (what idwise-fcgi costs beyond being durable)\n' \
	    "$(ratio "$(col nginx-idwise 6)" "$(col nginx-durable 6)")"
	r=$(ratio "$(col nginx-idwise 6)" "$(col nginx-webhook 6)")
	printf '  nginx   idwise/webhook throughput    %5s  (>= 1.5: %s)  webhook behind the same nginx\n' \
	    "$r" "$(goal "$r" '>=' 1.5)"
	r=$(ratio "$(col nginx-idwise 6)" "$(col direct-webhook 6)")
	printf '          idwise/webhook-direct        %5s  (>= 1.5: %s)  webhook hit by wrk directly\n' \
	    "$r" "$(goal "$r" '>=' 1.5)"
	r=$(ratio "$(col apache-idwise 6)" "$(col apache-minimal 6)")
	printf '  apache  idwise/minimal throughput    %5s  (>= 0.8: %s)\n' "$r" "$(goal "$r" '>=' 0.8)"
	r=$(ratio "$(col apache-idwise 8)" "$(col apache-minimal 8)")
	printf '  apache  idwise/minimal p99           %5s\n' "$r"
	r=$(ratio "$(col biglog-idwise 6)" "$(col nginx-minimal 6)")
	printf '  biglog  idwise(%s records)/minimal  %5s;  /idwise with a fresh log: %s\n' \
	    "$RECORDS" "$r" "$(ratio "$(col biglog-idwise 6)" "$(col nginx-idwise 6)")"
	if [ -n "$(col keep-idwise-kept 6)$(col keep-minimal-kept 6)" ]; then
		printf '\nkept FastCGI connections (nginx keepalive + fastcgi_keep_conn) / a new one per request\n'
		printf '  idwise-fcgi   throughput %5s  p99 %5s\n' \
		    "$(ratio "$(col keep-idwise-kept 6)" "$(col keep-idwise-new 6)")" \
		    "$(ratio "$(col keep-idwise-kept 8)" "$(col keep-idwise-new 8)")"
		printf '  minimal-fcgi  throughput %5s  p99 %5s\n' \
		    "$(ratio "$(col keep-minimal-kept 6)" "$(col keep-minimal-new 6)")" \
		    "$(ratio "$(col keep-minimal-kept 8)" "$(col keep-minimal-new 8)")"
	fi
	if [ -s "$OUT/sweep.tsv" ]; then
		printf '\nconnection sweep (nginx, %s x %s)\n' "$PROCS" "$THREADS"
		column -t -s $'\t' "$OUT/sweep.tsv"
		[ ! -f "$OUT/sweep.png" ] || printf 'plot: %s\n' "$OUT/sweep.png"
	fi
}

# --- main ----------------------------------------------------------------------------

tools=(wrk nginx spawn-fcgi jq curl perl)
part webhook && tools+=(webhook)
part php && tools+=(php-fpm)
part apache && tools+=(apache2 mod_fcgid)
part sweep && tools+=(gnuplot)
need_tools "${tools[@]}"
mkdir -p "$OUT" || die "cannot create $OUT"
targets=(idwise-fcgi bench/minimal-fcgi)
if part biglog; then
	# the log generator: tests/mklog, built by make check (or bench/mklog)
	grep -q '^tests/mklog\$(EXEEXT):' "$BUILD/Makefile" 2>/dev/null && targets+=(tests/mklog)
fi
grep -q '^idwise-log\$(EXEEXT):' "$BUILD/Makefile" 2>/dev/null && targets+=(idwise-log)
need_build "${targets[@]}"
if part biglog && ! find_mklog; then
	die "no log generator (tests/mklog) in $BUILD: leave out biglog or build it"
fi
bench_init
RESULTS=$OUT/results.tsv
: >"$RESULTS"
machine_info >"$OUT/machine.txt"
if [ -n "$NICENESS" ]; then
	renice -n "$NICENESS" -p $$ >/dev/null || die "renice $NICENESS failed"
	printf 'niceness of everything the benchmark ran: %s\n' "$NICENESS" >>"$OUT/machine.txt"
fi
quiet_check
say "results: $OUT"
say "event logs in $WORK: $(work_fs "$WORK")"
nginx_start
part nginx && part_nginx
part sync && part_sync
part webhook && part_webhook
part php && part_php
part apache && part_apache
part sweep && part_sweep
part biglog && part_biglog
part keepconn && part_keepconn
say ""
summary | tee "$OUT/summary.txt"
