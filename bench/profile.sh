#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/profile.sh: where idwise-fcgi's time goes under bench/run.sh's load (behind nginx,
# spawn-fcgi, bearer auth, allow_from, sync = data, unique deliveries from
# bench/unique.lua), with minimal-fcgi alongside for the FastCGI path alone. Parts
# (default all):
#   perf       perf record -a (cpu-clock, kernel call chains) during a wrk run: CPU by
#              process, by library and by function, for idwise-fcgi and for minimal-fcgi
#   syscalls   perf trace -s on every responder process during a wrk run: calls and time
#              per system call, and per request (fdatasync calls per request served)
#   waits      what the responder threads are doing, sampled every 20 ms from /proc during a
#              wrk run: running, or blocked in which system call (the lock's futex,
#              fdatasync, accept...): where a request's wall-clock time goes
#   callgrind  one idwise-fcgi process (1 thread) under valgrind --tool=callgrind, a few
#              thousand requests through nginx: instructions by function, inclusive,
#              as shares of the whole request (handle_request) and of the worker thread
# Results in OUT (default bench/results/DATE-profile): the *.txt reports and the raw data.
# Installs nothing; builds only with the build tree's make.

set -u -o pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd) || exit 1
BUILD=$SRC/build
OUT=
WORK=
DURATION=10
CONNS=32
PROCS=4
THREADS=8
CG_SECONDS=60
NICENESS=
KEEP_WORK=0
ALLOW_TMPFS=0
PARTS=(perf syscalls waits callgrind)

usage()
{
	cat <<EOF
usage: bench/profile.sh [-b BUILD] [-o OUT] [-W WORKDIR] [-d SECONDS] [-c CONNS] [-p PROCS]
                        [-t THREADS] [-g SECONDS] [-N NICENESS] [-k] [-T] [PART...]

  -b BUILD    configured build tree (default ./build)
  -o OUT      results directory (default bench/results/DATE-profile)
  -W WORKDIR  where the event logs go (default a new directory in /var/tmp)
  -d SECONDS  each profiled wrk run (default $DURATION)
  -c CONNS    wrk connections (default $CONNS); -p PROCS, -t THREADS as bench/run.sh
  -g SECONDS  load on the process under callgrind (default $CG_SECONDS)
  -N NICENESS run what it starts at this niceness (as bench/run.sh -N)
  -k          keep the work directory; -T allow a tmpfs work directory
  PART        perf syscalls waits callgrind (default: all)
EOF
}

while getopts b:o:W:d:c:p:t:g:N:kTh opt; do
	case $opt in
	b) BUILD=$(cd "$OPTARG" && pwd) || exit 64 ;;
	o) OUT=$OPTARG ;;
	W) WORK=$OPTARG ;;
	d) DURATION=$OPTARG ;;
	c) CONNS=$OPTARG ;;
	p) PROCS=$OPTARG ;;
	t) THREADS=$OPTARG ;;
	g) CG_SECONDS=$OPTARG ;;
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
	perf|syscalls|waits|callgrind) ;;
	*) usage >&2; exit 64 ;;
	esac
done
OUT=${OUT:-$SRC/bench/results/$(date -u +%Y%m%dT%H%M%SZ)-profile}
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

TAG=$(( (RANDOM * 32768 + RANDOM) % (1 << 30) ))
next_tag()
{
	TAG=$((TAG + 1))
}

# start_side KIND: KIND (idwise or minimal) under spawn-fcgi, primed and warmed up.
# Sets URL and PIDS.
start_side()
{
	local kind=$1
	URL=http://127.0.0.1:$NGINX_PORT/$kind/webhook
	if [ "$kind" = idwise ]; then
		idwise_dir "profile-$kind"
		fcgi_start idwise "$WORK/bin/idwise-fcgi" "$PROCS" -c "$CONF" --threads "$THREADS"
	else
		fcgi_start minimal "$WORK/bin/minimal-fcgi" "$PROCS" --threads "$THREADS"
	fi
	PIDS=${FCGI_PIDS[$kind]}
	prime "$URL"
	[ "$PRIME_STATUS" = 200 ] || die "$kind: the first delivery got $PRIME_STATUS"
	next_tag
	wrk_run "profile-$kind-warmup" "$URL" "$CONNS" 3 "$TAG"
}

# --- perf record ---------------------------------------------------------------------

# within COMM: perf report lines "PCT COMM REST" of that command, PCT rescaled to its
# own total (perf's --comm filter loses the kernel and libc lines here).
within()
{
	awk -v c="$1" '$2 == c && $1 ~ /%$/ {
			p = $1; sub(/%$/, "", p); n++; pct[n] = p; total += p
			line = $0; sub(/^ *[0-9.]+% +[^ ]+ +/, "", line); rest[n] = line }
		END { for (i = 1; i <= n; i++) printf "%7.2f%%  %s\n", 100 * pct[i] / total, rest[i] }'
}

perf_side()
{
	local kind=$1 data=$OUT/perf-$1.data comm
	start_side "$kind"
	next_tag
	wrk_run "perf-$kind" "$URL" "$CONNS" "$((DURATION + 2))" "$TAG" &
	sleep 1
	perf record -a -g -F 999 -e cpu-clock -o "$data" -- sleep "$DURATION" \
	    >"$OUT/perf-$kind.record.txt" 2>&1 || die "perf record failed: see $OUT/perf-$kind.record.txt"
	wait $!
	wrk_parse "perf-$kind"
	fcgi_stop "$kind"
	comm=$kind-fcgi
	{
		printf '# perf record -a -g -F 999 -e cpu-clock, %s s of %s under load\n' "$DURATION" "$comm"
		printf '# wrk over %s s (the profile covers %s s of it): %s req/s, %s requests\n\n' \
		    "$((DURATION + 2))" "$DURATION" "${W[rps]}" "${W[requests]}"
		printf '## CPU by process (%% of all samples of both CPUs, idle included)\n'
		perf report -i "$data" --no-children --sort comm --stdio -g none 2>/dev/null |
		    grep -v '^#' | grep -v '^$' | head -n 12
		printf '\n## %s: CPU by library (%% of its own samples)\n' "$comm"
		perf report -i "$data" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
		    within "$comm" | head -n 12
		printf '\n## %s: top functions, self (%% of its own samples)\n' "$comm"
		perf report -i "$data" --no-children --sort comm,dso,sym --stdio -g none \
		    2>/dev/null | within "$comm" | head -n 50
		printf '\n## %s: kernel time by system call entry, children (%% of its own samples)\n' "$comm"
		perf report -i "$data" --children --comm "$comm" --percentage relative \
		    --sort sym --stdio -g none 2>/dev/null | grep -E '\[k\] (__x64_sys_|ksys_)' | head -n 20
		printf '\n## nginx: CPU by library (%% of its own samples)\n'
		perf report -i "$data" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
		    within nginx | head -n 8
		printf '\n## nginx: top functions, self (%% of its own samples)\n'
		perf report -i "$data" --no-children --sort comm,dso,sym --stdio -g none \
		    2>/dev/null | within nginx | head -n 20
	} >"$OUT/perf-$kind.txt"
	perf report -i "$data" --children --comm "$comm" --sort sym --stdio -g caller,0.5,callee \
	    --percent-limit 1 >"$OUT/perf-$kind.callgraph.txt" 2>/dev/null
	say "  $OUT/perf-$kind.txt"
}

part_perf()
{
	say "== perf record -a during wrk ($CONNS connections, ${DURATION} s)"
	perf_side idwise
	perf_side minimal
}

# --- perf trace: system calls per request --------------------------------------------

# Sums perf trace -s's per-thread tables into one: syscall calls total_ms, per request.
sum_trace()
{
	awk -v n="$1" '
		$1 ~ /^[a-z_0-9]+$/ && $2 ~ /^[0-9]+$/ && NF >= 8 {
			calls[$1] += $2; ms[$1] += $4
		}
		END {
			for (s in calls)
				printf "%-18s %10d %12.3f %10.1f %12.1f\n", s, calls[s],
				    (n > 0 ? calls[s] / n : 0), ms[s], ms[s] * 1000 / calls[s]
		}' "$2" | sort -k2,2nr
}

trace_side()
{
	local kind=$1 tpid
	start_side "$kind"
	next_tag
	# shellcheck disable=SC2086
	perf trace -s -p "$(echo $PIDS | tr ' ' ',')" -o "$OUT/trace-$kind.raw" &
	tpid=$!
	sleep 1
	wrk_run "trace-$kind" "$URL" "$CONNS" "$DURATION" "$TAG"
	sleep 0.5
	kill -INT "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	fcgi_stop "$kind"
	{
		printf '# perf trace -s on the %s %s-fcgi processes during a %s s wrk run\n' \
		    "$PROCS" "$kind" "$DURATION"
		printf '# (the trace slows the responders: counts per request hold, times do not)\n'
		printf '# requests answered: %s (200: %s), wrk rate under the trace: %s/s\n\n' \
		    "${W[requests]}" "${W[ok]}" "${W[rps]}"
		printf '%-18s %10s %12s %10s %12s\n' syscall calls calls/req "total ms" "avg us"
		sum_trace "${W[requests]}" "$OUT/trace-$kind.raw"
	} >"$OUT/syscalls-$kind.txt"
	say "  $OUT/syscalls-$kind.txt"
}

part_syscalls()
{
	say "== perf trace -s on the responders during wrk ($CONNS connections, ${DURATION} s)"
	trace_side idwise
	trace_side minimal
}

# --- waits: what the threads do, sampled -----------------------------------------------

# x86_64 system call numbers of what a responder thread may block in
declare -A SYSCALL_NAME=(
	[0]=read [1]=write [3]=close [7]=poll [8]=lseek [17]=pread64 [18]=pwrite64
	[20]=writev [32]=dup [43]=accept [48]=shutdown [54]=setsockopt [74]=fsync
	[75]=fdatasync [202]=futex [230]=clock_nanosleep [262]=newfstatat [288]=accept4
)

# sample_threads SECONDS PID...: every 20 ms, each worker thread of the processes (not the
# main thread): "running" (state R), or the system call it sleeps in. Prints "count what".
sample_threads()
{
	local secs=$1 end t line state nr pid
	local -A tally=()
	shift
	end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
	while [ $(( $(date +%s%N) / 1000000 )) -lt "$end" ]; do
		for t in $(printf '/proc/%s/task/* ' "$@"); do
			# the main thread only waits for SIGTERM
			pid=${t#/proc/}
			[ "${t##*/}" != "${pid%%/*}" ] || continue
			read -r line <"$t/stat" 2>/dev/null || continue
			state=${line##*) }
			state=${state%% *}
			if [ "$state" = R ]; then
				tally[running]=$((${tally[running]:-0} + 1))
				continue
			fi
			read -r nr _ <"$t/syscall" 2>/dev/null || continue
			nr=${SYSCALL_NAME[$nr]:-syscall $nr}
			tally[$nr]=$((${tally[$nr]:-0} + 1))
		done
		sleep 0.02
	done
	for t in "${!tally[@]}"; do
		printf '%s %s\n' "${tally[$t]}" "$t"
	done
}

waits_side()
{
	local kind=$1
	start_side "$kind"
	next_tag
	wrk_run "waits-$kind" "$URL" "$CONNS" "$((DURATION + 2))" "$TAG" &
	sleep 1
	# shellcheck disable=SC2086
	sample_threads "$DURATION" $PIDS >"$OUT/waits-$kind.raw"
	wait $!
	wrk_parse "waits-$kind"
	fcgi_stop "$kind"
	{
		printf '# %s %s-fcgi processes x %s threads, %s connections: what the threads were\n' \
		    "$PROCS" "$kind" "$THREADS" "$CONNS"
		printf '# doing, sampled every 20 ms for %s s (%% of thread samples; x threads =\n' "$DURATION"
		printf '# how many threads on average). wrk: %s req/s, p50 %s us\n\n' \
		    "${W[rps]}" "${W[p50_us]}"
		awk -v threads="$((PROCS * THREADS))" '{ n[$0] = $1; total += $1 }
			END { for (k in n) { what = k; sub(/^[0-9]+ /, "", what)
				printf "%6.1f%%  %5.1f threads  %s\n", 100 * n[k] / total,
				    threads * n[k] / total, what } }' "$OUT/waits-$kind.raw" | sort -rn
	} >"$OUT/waits-$kind.txt"
	say "  $OUT/waits-$kind.txt"
}

part_waits()
{
	say "== thread states during wrk ($CONNS connections, ${DURATION} s)"
	waits_side idwise
	waits_side minimal
}

# --- callgrind ------------------------------------------------------------------------

# Inclusive instruction counts of the functions that make up a request, as shares of
# handle_request and of the worker thread (accept, read, reply, finish included).
cg_summary()
{
	local file=$1 requests=$2
	callgrind_annotate --inclusive=yes --threshold=100 "$file" >"$OUT/callgrind-inclusive.txt"
	callgrind_annotate --inclusive=no --threshold=99 "$file" >"$OUT/callgrind-self.txt"
	awk -v n="$requests" '
		function num(s) { gsub(/,/, "", s); return s + 0 }
		/^ *[0-9,]+ .*\(\) *\[|^ *[0-9,]+ .*:[A-Za-z_][A-Za-z_0-9]* / {
			ir = num($1)
			name = $0; sub(/^ *[0-9,]+ +(\([^)]*\) +)?/, "", name)
			sub(/ \[.*$/, "", name); sub(/^.*:/, "", name)
			if (!(name in cost)) cost[name] = ir
		}
		END {
			total = cost["handle_request"]; worker = cost["worker_main"]
			if (total == 0) { print "no handle_request in the profile"; exit }
			printf "requests: %d; instructions per request: handle_request %.0f, worker thread %.0f\n\n",
			    n, total / n, worker / n
			printf "%-34s %12s %10s %10s\n", "function (inclusive)", "Ir/request",
			    "% request", "% worker"
			split("worker_main FCGX_Accept_r FCGX_Finish_r handle_request " \
			    "collect_request decide_head auth_permits allowlist_permits " \
			    "credset_match read_body FCGX_GetStr decide_body parse_object " \
			    "jsonstrict_check json_tokener_parse_ex event_classify canon_digest " \
			    "sha256 EVP_Digest eventlog_append lock_log shm_lock append_locked " \
			    "open_index catch_up dedup_begin dedup_get_head dedup_find store " \
			    "record_line json_object_to_json_string_ext dedup_add dedup_expire " \
			    "dedup_put_head write_line dedup_commit mdb_txn_commit sync_log " \
			    "shm_unlock report audit_accept metrics_stored send_reply " \
			    "reply_format event_free json_object_put malloc free", want, " ")
			for (i = 1; i in want; i++) {
				f = want[i]
				if (!(f in cost)) continue
				printf "%-34s %12.0f %9.1f%% %9.1f%%\n", f, cost[f] / n,
				    100 * cost[f] / total, worker ? 100 * cost[f] / worker : 0
			}
		}' "$OUT/callgrind-inclusive.txt"
}

part_callgrind()
{
	local dir=$WORK/callgrind sock pid requests
	say "== callgrind: one idwise-fcgi process, 1 thread, ${CG_SECONDS} s of 4 connections"
	idwise_dir profile-callgrind
	mkdir -p "$dir"
	give_to_responder "$dir"
	sock=$WORK/idwise.sock
	rm -f "$sock"
	# the socket in a directory the responder's account may write: the bench socket path
	# is a link to it
	local -a as=()
	[ -z "$RUN_USER" ] || as=(runuser -u "$RUN_USER" --)
	"${as[@]}" valgrind --tool=callgrind --collect-systime=usec \
	    --callgrind-out-file="$dir/callgrind.out" \
	    "$WORK/bin/idwise-fcgi" -c "$CONF" --listen "unix:$dir/sock" --socket-mode 0666 \
	    --threads 1 >"$dir/stderr" 2>&1 &
	pid=$!
	wait_for test -S "$dir/sock" || die "idwise-fcgi under callgrind did not start: $(tail -n 3 "$dir/stderr")"
	ln -sf "$dir/sock" "$sock"
	prime "http://127.0.0.1:$NGINX_PORT/idwise/webhook"
	[ "$PRIME_STATUS" = 200 ] || die "callgrind: the first delivery got $PRIME_STATUS"
	next_tag
	wrk_run callgrind "http://127.0.0.1:$NGINX_PORT/idwise/webhook" 4 "$CG_SECONDS" "$TAG"
	requests=$(( $(wc -l <"$LOG") ))
	# valgrind runs the program as its child: signal the process that runs idwise-fcgi
	pkill_one "$pid"
	wait_for test -s "$dir/callgrind.out" || die "no callgrind output: $(tail -n 3 "$dir/stderr")"
	rm -f "$sock"
	cp "$dir/callgrind.out" "$OUT/callgrind.out"
	{
		printf '# valgrind --tool=callgrind, one idwise-fcgi process with one thread, sync = data\n'
		printf '# %s s of wrk with 4 connections through nginx; requests stored: %s\n' \
		    "$CG_SECONDS" "$requests"
		printf '# Ir: instructions executed (repeatable); time in system calls is not in Ir\n\n'
		cg_summary "$OUT/callgrind.out" "$requests"
		printf '\n## who calls sha256() (util.c, OpenSSL SHA256()): Ir and calls\n'
		callgrind_annotate --inclusive=yes --tree=caller --threshold=100 "$OUT/callgrind.out" \
		    2>/dev/null | grep -B8 '\* .*util.c:sha256 \[' | grep '^ *[0-9,]* .*<' |
		    sed 's/ *\[.*//; s|[^ ]*/src/|src/|'
		printf '\n## system calls (callgrind --collect-systime=usec): count and time (us), by function\n'
		callgrind_annotate --inclusive=no --show=sysCount,sysTime --sort=sysTime \
		    --threshold=99 "$OUT/callgrind.out" 2>/dev/null | sed -n '/file:function/,$p' |
		    head -n 16
	} >"$OUT/callgrind.txt"
	say "  $OUT/callgrind.txt"
}

# pkill_one PID: SIGTERM to PID (or its one child, when PID is the runuser wrapper), then
# wait for PID to end.
pkill_one()
{
	local target=$1 child
	child=$(pgrep -P "$1" | head -n 1)
	[ -z "$child" ] || target=$child
	kill -TERM "$target" 2>/dev/null
	wait_for all_gone "$1" || { kill -KILL "$target" 2>/dev/null; note "callgrind: had to kill"; }
	wait "$1" 2>/dev/null
}

# --- main ----------------------------------------------------------------------------

tools=(wrk nginx spawn-fcgi jq curl perl)
part perf && tools+=(perf)
part syscalls && tools+=(perf)
part callgrind && tools+=(valgrind callgrind_annotate)
need_tools "${tools[@]}"
mkdir -p "$OUT" || die "cannot create $OUT"
need_build idwise-fcgi bench/minimal-fcgi
bench_init
machine_info >"$OUT/machine.txt"
if [ -n "$NICENESS" ]; then
	renice -n "$NICENESS" -p $$ >/dev/null || die "renice $NICENESS failed"
	printf 'niceness of everything the profile ran: %s\n' "$NICENESS" >>"$OUT/machine.txt"
fi
say "results: $OUT"
nginx_start
part perf && part_perf
part syscalls && part_syscalls
part waits && part_waits
part callgrind && part_callgrind
exit 0
