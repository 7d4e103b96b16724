#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/powerloss.sh: power cuts, not just crashes. The log, its state file,
# index and torn file, and the consumers' cursors, output and dead-letter file are on
# powerfs (tests/powerfs/: a filesystem that forgets, on a cut, whatever was not flushed).
# Three idwise-fcgi processes of two threads each serve behind nginx; senders retry every
# delivery until it gets a 200, as IDWise does, and keep which seq each 200 named;
# idwise-log exec (with a dead-letter file) and follow --cursor (into a file) consume the
# log, and idwise-log ship --cursor publishes it to a JetStream stream on one nats-server
# whose store is not on powerfs (the broker is another machine). At random moments, again
# and again: every process on the filesystem is SIGKILLed at once, the power is cut (some
# cuts tear the last write of each file), the filesystem is mounted again, a new boot is
# simulated (a fresh boot_id, bind-mounted in this test's mount namespace), and everything
# starts again; the senders retry whatever was not acknowledged. The cuts come during
# steady load, during a rotation (logrotate's rename), during an index rebuild (idwise-log
# reindex), and with torn tails; exec, follow and ship run throughout. After each cut, on
# what the disk kept:
#
#   - every delivery that got a 200 is in the log exactly once, with the seq it was told;
#   - the log verifies (a torn last line only after a cut that tore it);
#   - the consumers' cursors name records that are in the log, and follow's output is the
#     log's records, in order, each once; ship's cursor is not behind where it was at the
#     cut before, nor ahead of the stream (which holds every seq up to it);
#   - after the restart a redelivery of an acknowledged event is a duplicate of its seq,
#     and one of an event the cut took back is stored anew.
#
# At the end: every delivery got its 200 and is in the log once with its seq, the log
# verifies, follow printed every record exactly once, exec ran every record at least
# once (again only the record in hand at a cut) and the failing ones are in the
# dead-letter file, and the stream holds every record of the log exactly once (by Msg-Id,
# and by host and seq), as its line, and nothing else. Before the random cuts, each thing
# they found is replayed as a cut in a chosen place (scenarios 1 to 5), a rotation is cut
# twice (6), and ship --once is cut after it saved its cursor (7). Output: TAP.
#
# POWERLOSS_CUTS (default 100) sets how many cuts. Needs root, FUSE and nats-server; runs
# in a mount namespace of its own.

. "${top_srcdir:?run the tests with make check}/tests/mount-ns.sh" || exit 1

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/log-lib.sh" || exit 1
. "$top_srcdir/tests/powerfs-lib.sh" || exit 1
. "$top_srcdir/tests/nats-lib.sh" || exit 1

powerfs_usable || { echo "1..0 # SKIP needs root, a mount namespace, /dev/fuse and $POWERFS"; exit 0; }
command -v logrotate >/dev/null || bail "logrotate is not installed (Debian package logrotate)"
export LC_ALL=C		# sort and comm agree

CUTS=${POWERLOSS_CUTS:-100}
NRESP=3
THREADS=2
B=$TEST_TMP/backing		# the disk
M=$TEST_TMP/mnt			# powerfs over it
DIR=$TEST_TMP/pl		# outside the cuts: what the test keeps
LOAD=$DIR/load
RUNS=$DIR/exec.runs		# what exec's command did: the effect outside
LOGDIR=$M/log
CDIR=$M/consumer
EXEC_CURSOR=$CDIR/exec.cursor
DEAD=$CDIR/exec.dead.jsonl
FOLLOW_CURSOR=$CDIR/follow.cursor
FOLLOW_OUT=$CDIR/follow.out
SHIP_CURSOR=$CDIR/ship.cursor
STREAM=IDWISE			# on a nats-server outside the cuts: another machine
TEARS=(none none byte page zero)
. "$top_srcdir/tests/powerloss-lib.sh" || exit 1

# ---------------------------------------------------------------------------------------
# The disk, the services and the consumers

# durable_dirs: the directories the test makes, on disk (as an installer would leave them).
durable_dirs()
{
	mkdir -p "$LOGDIR" "$CDIR" && give_to_responder "$LOGDIR" &&
	    : >>"$FOLLOW_OUT" && fsync_file "$FOLLOW_OUT" && fsync_dir "$M" "$LOGDIR" "$CDIR"
}

start_responders()
{
	local i
	for ((i = 1; i <= NRESP; i++)); do
		start_listener "r$i" "$CONF" --threads "$THREADS" || return 1
	done
}

# kill_responders: SIGKILL (if kill_all has not), then reaped.
kill_responders()
{
	local i
	for ((i = 1; i <= NRESP; i++)); do
		kill -KILL "$(listener_pid "r$i")" 2>/dev/null
		stop_listener "r$i"
	done
}

# The exec command: the effect is a line outside the cut ("seq id attempt"); ids ending in
# -13 always fail, so that they go to the dead-letter file after two attempts.
EXEC_CMD=$DIR/exec-cmd
write_exec_cmd()
{
	cat >"$EXEC_CMD" <<EOF
#!/bin/sh
printf '%s %s %s\n' "\$IDWISE_SEQ" "\$IDWISE_ID" "\$IDWISE_ATTEMPT" >>'$RUNS'
case \$IDWISE_ID in *-13) exit 3 ;; esac
exit 0
EOF
	chmod 0755 "$EXEC_CMD"
}

start_consumers()
{
	start_bg exec "$DIR/exec.stdout" "$IDWISE_LOG" exec --cursor "$EXEC_CURSOR" \
	    --dead-letter "$DEAD" --max-attempts 2 --backoff 0 "$LOG" -- "$EXEC_CMD"
	start_bg follow "$FOLLOW_OUT" "$IDWISE_LOG" follow --cursor "$FOLLOW_CURSOR" "$LOG"
	ship_start
}

# The shipper, to the stream on one nats-server whose store is not on powerfs; from seq 1
# when its cursor has no position, so that a cursor lost by a cut ships everything again
# (the stream drops what it holds; ship_ok sees the cursor go back) rather than skipping
# the rotated files.
ship_start()
{
	start_bg ship /dev/null "$IDWISE_LOG" ship --nats "$NATS_URLS" --stream "$STREAM" \
	    --host pl --from-seq 1 --cursor "$SHIP_CURSOR" "$LOG"
}

# consumers_alive: exec, follow and ship still run (they stop on damage they cannot pass).
consumers_alive()
{
	local name rc=0
	for name in exec follow ship; do
		pid_alive "$(bg_pid "$name")" && continue
		diag "$name has stopped: $(tail -n 3 "$TEST_TMP/$name.stderr")"
		rc=1
	done
	return "$rc"
}

kill_consumers()
{
	kill_bg exec KILL
	kill_bg follow KILL
	kill_bg ship KILL
}

# ---------------------------------------------------------------------------------------
# One cut

random_ms()	# random_ms MIN MAX: sleep that long
{
	sleep "$(printf '0.%03d' $(($1 + RANDOM % ($2 - $1 + 1))))"
}

LAST_ROTATION=0
ROTATE_PID=
# rotate_bg: logrotate -f in the background (a rotation in a second of its own: the
# rotated name has the time to the second); 1 when this second has one already.
rotate_bg()
{
	local now
	now=$(date +%s)
	[ "$now" -gt "$LAST_ROTATION" ] || return 1
	LAST_ROTATION=$now
	logrotate -f -s "$DIR/logrotate.state" "$DIR/logrotate.conf" >>"$DIR/logrotate.out" 2>&1 &
	ROTATE_PID=$!
}

REINDEX_PID=
reindex_bg()
{
	"$IDWISE_LOG" reindex -c "$CONF" >>"$DIR/reindex.out" 2>&1 &
	REINDEX_PID=$!
}

# kill_all: the power goes: every process using the filesystem, with one kill(1), then
# each reaped.
kill_all()
{
	local i pids=("$(bg_pid exec)" "$(bg_pid follow)" "$(bg_pid ship)" $ROTATE_PID
	    $REINDEX_PID)
	for ((i = 1; i <= NRESP; i++)); do
		pids+=("$(listener_pid "r$i")")
	done
	{
		kill -KILL "${pids[@]}"
		kill_responders
		kill_consumers
		[ -z "$ROTATE_PID" ] || wait "$ROTATE_PID"
		[ -z "$REINDEX_PID" ] || wait "$REINDEX_PID"
	} 2>/dev/null
	ROTATE_PID= REINDEX_PID=
}

declare -A KINDS=() PHASE_MS=()
PHASE_AT=0
# phase NAME: the time since the last phase mark goes to NAME (for the diag at the end).
phase()
{
	local now
	now=$(now_ms)
	[ "$PHASE_AT" -eq 0 ] || PHASE_MS[$1]=$((${PHASE_MS[$1]:-0} + now - PHASE_AT))
	PHASE_AT=$now
}

FAILED_CUT=
# cut_once K: under load, something in progress (by K), all killed, the power cut, then
# the checks on what the disk kept, a new boot and everything started again.
cut_once()
{
	local k=$1 kind tear=$NEXT_TEAR head lost id seq
	phase probes
	random_ms 100 550
	wait_for grown_since "$(log_count "$LOG")" >/dev/null
	phase load
	kind=steady
	case $((k % 4)) in
	1) rotate_bg && kind=rotation && random_ms 0 150 ;;
	2) reindex_bg && kind=reindex && random_ms 0 120 ;;
	esac
	phase load
	consumers_alive || FAILED_CUT+=" $k(consumer stopped before it)"
	kill_all
	phase kill
	logged_ids "$M" "$DIR/before-cut"
	powerfs_cut || bail "cut $k: powerfs did not cut"
	phase cut
	[ "$tear" = none ] || kind+="+torn"
	if grep -q 'log/events.jsonl: torn' <<<"$PFS_CUT"; then
		KINDS[torn-log]=$((${KINDS[torn-log]:-0} + 1))
	fi
	KINDS[$kind]=$((${KINDS[$kind]:-0} + 1))
	collect_acks
	logged_ids "$B" "$DIR/after-cut" cut
	phase c-collect
	acks_kept "$DIR/after-cut" || FAILED_CUT+=" $k(acks)"
	phase c-acks
	verifies "$B" "$tear" || FAILED_CUT+=" $k(verify)"
	phase c-verify
	cursor_ok "$B" "$B/consumer/exec.cursor" || FAILED_CUT+=" $k(exec cursor)"
	cursor_ok "$B" "$B/consumer/follow.cursor" || FAILED_CUT+=" $k(follow cursor)"
	phase c-cursor
	ship_ok "$B" || FAILED_CUT+=" $k(ship cursor)"
	phase c-ship
	follow_prefix "$B" || FAILED_CUT+=" $k(follow output)"
	phase c-follow
	lost=$(comm -23 "$DIR/before-cut" "$DIR/after-cut" | wc -l)
	LOST_TOTAL=$((LOST_TOTAL + lost))
	head=$(awk '{ if ($2 > m) m = $2 } END { print m + 0 }' "$DIR/after-cut")
	phase checks
	NEXT_TEAR=${TEARS[RANDOM % ${#TEARS[@]}]}
	other_device && powerfs_mount "$B" "$M" "$NEXT_TEAR" ||
	    bail "cut $k: powerfs did not mount again"
	new_boot || bail "cut $k: no new boot_id"
	phase mount
	start_responders || bail "cut $k: the responders did not start again"
	start_consumers
	phase start
	# an acknowledged delivery again: a duplicate of its seq
	if [ -s "$ACKED" ]; then
		read -r id seq < <(shuf -n 1 "$ACKED")
		post_string "$(step_event "$id")" -H "Authorization: Bearer $TOKEN"
		[ "$STATUS $BODY" = "200 {\"status\":\"duplicate\",\"seq\":$seq}" ] ||
		    { diag "cut $k: $id (seq $seq) again: $STATUS $BODY"; FAILED_CUT+=" $k(dup)"; }
	fi
	# one the cut took back: stored anew, after the head the disk kept
	if [ "$lost" -gt 0 ]; then
		read -r id seq < <(comm -23 "$DIR/before-cut" "$DIR/after-cut" | shuf -n 1)
		post_string "$(step_event "$id")" -H "Authorization: Bearer $TOKEN"
		seq=$(jq -r .seq <<<"$BODY" 2>/dev/null)
		[ "$STATUS" = 200 ] && [ "$seq" -gt "$head" ] 2>/dev/null ||
		    { diag "cut $k: $id, taken back by the cut, again: $STATUS $BODY (head $head)";
		    FAILED_CUT+=" $k(lost)"; }
		STORED_AGAIN=$((STORED_AGAIN + 1))
	fi
}

grown_since()
{
	[ "$(log_count "$LOG")" -gt "$1" ]
}

# ---------------------------------------------------------------------------------------
# Each finding of the cuts below, as a cut in a chosen place (each of 1 to 5 failed before
# its fix)

# scenario_log DIR N: DIR, on disk, with a log of N records (tests/gen-log), synced.
scenario_log()
{
	mkdir -p "$1" && "$GEN_LOG" -i "${1##*/}" "$2" >"$1/events.jsonl" &&
	    fsync_file "$1/events.jsonl" && fsync_dir "$1" "$M"
}

# names_record LOG CURSOR: the cursor's newest slot names a record of LOG (seq and hash).
names_record()
{
	local seq hash
	read -r seq hash < <(cursor_slot "$2")
	[ "$seq" != 0 ] && grep -a "^{\"v\":1,\"seq\":$seq," "$1" | sha256sum | grep -q "^$hash " ||
	    { diag "$2: seq $seq, not a record of $1"; return 1; }
}

# consume NAME ARG...: idwise-log ARG... --once on the scenario's log, stdout to
# NAME/follow.out, stderr kept.
consume()
{
	local dir=$M/$1
	shift
	"$IDWISE_LOG" "$@" </dev/null >>"$dir/follow.out" 2>>"$DIR/scenarios.stderr"
}

mkdir -p "$DIR" || bail "cannot make $DIR"
rm -rf "$B"
nats_cluster 1 || bail "nats-server did not start"

# 1. follow and exec printed and ran a record the writer had written and not yet synced;
# the cut took it back, and their cursors named a record that was no longer there (the
# next record got its seq: follow and exec stopped for good).
powerfs_mount "$B" "$M" || bail "powerfs did not mount"
scenario_log "$M/s1" 3 && : >"$M/s1/follow.out" && fsync_file "$M/s1/follow.out" &&
    fsync_dir "$M/s1" || bail "cannot make the log of scenario 1"
"$GEN_LOG" -c "$M/s1/events.jsonl" -i s1-unsynced 1 >>"$M/s1/events.jsonl"
consume s1 follow --once --cursor "$M/s1/follow.cursor" "$M/s1/events.jsonl"
consume s1 exec --once --cursor "$M/s1/exec.cursor" "$M/s1/events.jsonl" -- true
powerfs_cut || bail "the cut failed"
is "$(log_count "$B/s1/events.jsonl")" 4 \
    "1. a record written, not synced, printed by follow and run by exec, then a cut: it stays"
ok "  follow's cursor names it" names_record "$B/s1/events.jsonl" "$B/s1/follow.cursor"
ok "  exec's too" names_record "$B/s1/events.jsonl" "$B/s1/exec.cursor"
ok "  follow's output is the log" cmp -s "$B/s1/events.jsonl" "$B/s1/follow.out"

# 2. exec made its dead-letter file and never synced the directory: a cut took the file,
# and the lines in it, while the cursor had moved past their records.
powerfs_mount "$B" "$M" || bail "powerfs did not mount"
scenario_log "$M/s2" 1 || bail "cannot make the log of scenario 2"
consume s2 exec --once --cursor "$M/s2/exec.cursor" --dead-letter "$M/s2/dead.jsonl" \
    --max-attempts 1 --backoff 0 "$M/s2/events.jsonl" -- false
powerfs_cut || bail "the cut failed"
is "$(jq -r .seq "$B/s2/dead.jsonl" 2>/dev/null)" 1 \
    "2. a record dead-lettered by exec, then a cut: its line is on disk, in a file whose name is"
ok "  and the cursor past it" names_record "$B/s2/events.jsonl" "$B/s2/exec.cursor"

# 3. a cut tore a dead-letter line (written, its fdatasync not done): the next line was
# appended to the torn one, and neither could be read.
PFS_OPTS=(--cut-at-sync s3/dead.jsonl)
powerfs_mount "$B" "$M" byte || bail "powerfs did not mount"
PFS_OPTS=()
scenario_log "$M/s3" 2 || bail "cannot make the log of scenario 3"
consume s3 exec --once --cursor "$M/s3/exec.cursor" --dead-letter "$M/s3/dead.jsonl" \
    --max-attempts 1 --backoff 0 "$M/s3/events.jsonl" -- false
powerfs_wait_cut || bail "powerfs did not cut at the dead-letter file's sync"
like "$PFS_CUT" "s3/dead.jsonl: torn" "3. a cut at the sync of a dead-letter line: the line torn"
powerfs_mount "$B" "$M" || bail "powerfs did not mount"
consume s3 exec --once --cursor "$M/s3/exec.cursor" --dead-letter "$M/s3/dead.jsonl" \
    --max-attempts 1 --backoff 0 "$M/s3/events.jsonl" -- false
powerfs_cut || bail "the cut failed"
is "$(jq -r .seq "$B/s3/dead.jsonl" 2>/dev/null | tr '\n' ' ')" "1 2 " \
    "  exec again: the torn line cut off, both records dead-lettered, each a whole line"

# 4. a cursor file made by hand (empty: no position yet) whose name was not on disk:
# follow saved positions in it, and a cut took the file (the next start began again).
powerfs_mount "$B" "$M" || bail "powerfs did not mount"
scenario_log "$M/s4" 2 && : >"$M/s4/follow.out" && fsync_file "$M/s4/follow.out" &&
    fsync_dir "$M/s4" && : >"$M/s4/follow.cursor" || bail "cannot make the log of scenario 4"
consume s4 follow --once --cursor "$M/s4/follow.cursor" "$M/s4/events.jsonl"
powerfs_cut || bail "the cut failed"
ok "4. a cursor file made by hand, not synced, then follow and a cut: it keeps the position" \
    names_record "$B/s4/events.jsonl" "$B/s4/follow.cursor"

# 5. a cut at the sync of follow's output tore the record written there and left zeros
# (the size reached the disk, the data did not): the next follow took them for someone
# else's bytes, and wrote after them (a broken line, the record twice).
PFS_OPTS=(--cut-at-sync s5/follow.out:3)
powerfs_mount "$B" "$M" zero || bail "powerfs did not mount"
PFS_OPTS=()
scenario_log "$M/s5" 2 && : >"$M/s5/follow.out" && fsync_file "$M/s5/follow.out" &&
    fsync_dir "$M/s5" || bail "cannot make the log of scenario 5"
dev=$(stat -c %d "$M/s5/follow.out")
consume s5 follow --once --cursor "$M/s5/follow.cursor" "$M/s5/events.jsonl"
powerfs_wait_cut || bail "powerfs did not cut at the output's sync"
like "$PFS_CUT" "s5/follow.out: torn: .*, the rest zeros" \
    "5. a cut at the sync of follow's output: the record there torn, zeros after it"
other_device && powerfs_mount "$B" "$M" || bail "powerfs did not mount"
isnt "$(stat -c %d "$M/s5/follow.out")" "$dev" "  mounted again (a reboot): another device number"
consume s5 follow --once --cursor "$M/s5/follow.cursor" "$M/s5/events.jsonl"
powerfs_cut || bail "the cut failed"
ok "  follow again: the zeros cut off, every record once" \
    cmp -s "$B/s5/events.jsonl" "$B/s5/follow.out"

# 6. Not a finding: the writer's promise at a rotation, in chosen places. logrotate's
# rename, then a cut before any delivery: the rename is undone. The rename again, then a
# delivery (the writer syncs the old file and the directory before it writes to the new
# one), then a cut: both files, one chain.
powerfs_mount "$B" "$M" || bail "powerfs did not mount"
mkdir -p "$M/s6" && give_to_responder "$M/s6" && fsync_dir "$M" ||
    bail "cannot make the directory of scenario 6"
write_config "$TEST_TMP/s6" "log=$M/s6/events.jsonl" || bail "cannot write the config"
post_event "$CONF" s6-1 || bail "scenario 6: the first delivery was not stored"
mv "$M/s6/events.jsonl" "$M/s6/events.jsonl-1"
powerfs_cut || bail "the cut failed"
ok "6. a delivery, logrotate's rename, a cut: the rename undone, the record at the log's path" \
    test -s "$B/s6/events.jsonl" -a ! -e "$B/s6/events.jsonl-1"
new_boot && powerfs_mount "$B" "$M" || bail "powerfs did not mount"
mv "$M/s6/events.jsonl" "$M/s6/events.jsonl-1"
post_event "$CONF" s6-2 || bail "scenario 6: the second delivery was not stored"
is "$(jq -r .seq <<<"$BODY")" 2 "  the rename again, a delivery: seq 2"
powerfs_cut || bail "the cut failed"
is "$(jq -r .id "$B/s6/events.jsonl-1" "$B/s6/events.jsonl" 2>/dev/null | tr '\n' ' ')" \
    "s6-1 s6-2 " "  a cut: the rotated file and the new one, each with its record"
ok "  one chain" quiet "$IDWISE_LOG" verify "$B/s6/events.jsonl-1" "$B/s6/events.jsonl"

# 7. Not a finding: ship's position is on disk once it is saved. ship --once ships a log
# and saves its cursor on the way out; a cut then keeps that position. (The random cuts
# do not see a cursor that is never synced: it stays at no position, and each start ships
# all again, which the stream drops. This does.)
powerfs_mount "$B" "$M" || bail "powerfs did not mount"
scenario_log "$M/s7" 5 || bail "cannot make the log of scenario 7"
"$IDWISE_LOG" ship --nats "$NATS_URLS" --stream S7 --subject s7 --host s7 --once \
    --cursor "$M/s7/ship.cursor" "$M/s7/events.jsonl" </dev/null 2>>"$DIR/scenarios.stderr" ||
    bail "scenario 7: ship --once failed: $(tail -n 2 "$DIR/scenarios.stderr")"
powerfs_cut || bail "the cut failed"
is "$(cursor_slot "$B/s7/ship.cursor" | cut -d' ' -f1)/$(nats_tool count S7)" 5/5 \
    "7. ship --once shipped a log of 5 records, then a cut: its cursor keeps seq 5"
ok "  the record it names" names_record "$B/s7/events.jsonl" "$B/s7/ship.cursor"

# ---------------------------------------------------------------------------------------
# Setup

: >"$ACKED" && : >"$RUNS" && : >"$SHIPPED" || bail "cannot make $DIR"
write_config "$TEST_TMP/conf" "log=$LOGDIR/events.jsonl" || bail "cannot write the config"
write_exec_cmd
ME=${RUN_USER:-$(id -un)}
cat >"$DIR/logrotate.conf" <<EOF
$LOG {
    su $ME $(id -gn "$ME")
    nocopytruncate
    nocopy
    nocreate
    rotate 10000
    dateext
    dateformat -%Y%m%d-%H%M%S
    missingok
    notifempty
    # not compressed: a rotation every few seconds, and the rebuild reads plain files only
    nocompress
}
EOF
NEXT_TEAR=none
powerfs_mount "$B" "$M" || bail "powerfs did not mount"
durable_dirs || bail "cannot make the directories on powerfs"
new_boot || bail "cannot simulate a boot (bind mount over $BOOT_ID_FILE)"
start_responders || bail "the responders did not start"
socks=()
for ((i = 1; i <= NRESP; i++)); do
	socks+=("$(listener_socket "r$i")")
done
start_nginx "${socks[@]}" || bail "nginx did not start"
start_consumers

# ---------------------------------------------------------------------------------------
# The cuts

LOST_TOTAL=0
STORED_AGAIN=0
start=$(now_ms)
LOAD_PARALLEL=12
load_start "$LOAD" pl 200
for ((k = 1; k <= CUTS; k++)); do
	cut_once "$k"
done
load_stop
collect_acks
elapsed=$(($(now_ms) - start))
diag "$CUTS cuts in $elapsed ms; $(log_count "$ACKED") deliveries acknowledged," \
    "$(code_count "$LOAD" 502) attempts got 502 (responders down) and were retried;" \
    "$LOST_TOTAL records written but not synced were taken back by the cuts;" \
    "kinds: $(for k in "${!KINDS[@]}"; do printf '%s=%s ' "$k" "${KINDS[$k]}"; done)" \
    "ms spent: $(for k in "${!PHASE_MS[@]}"; do printf '%s=%s ' "$k" "${PHASE_MS[$k]}"; done)"

ok "at least 100 power cuts ($CUTS)" test "$CUTS" -ge 100
ok "  some during a rotation, some during an index rebuild, some torn" \
    test "${KINDS[rotation]:-0}${KINDS[rotation+torn]:-0}" != 00 -a \
    "${KINDS[reindex]:-0}${KINDS[reindex+torn]:-0}" != 00 -a "${KINDS[torn-log]:-0}" -gt 0
ok "  some took back records written but not synced" test "$LOST_TOTAL" -gt 0
is "$FAILED_CUT" "" "after every cut: the acknowledged deliveries there with their seq, the log verifying, the cursors and follow's output on records of the log, redeliveries right"

# ---------------------------------------------------------------------------------------
# The end: everything caught up

ok "every delivery got a 200 in the end" test ! -e "$LOAD/failed"
ok "every delivery that got a 200 is in the log exactly once, with the seq it was told" \
    check_delivered "$LOAD/ids" "$LOAD" $(log_files)
ok "the log verifies" quiet "$IDWISE_LOG" verify $(log_files)
logged_ids "$M" "$DIR/final"
total=$(log_count "$DIR/final")
caught_up()
{
	[ "$(log_files | xargs cat | wc -c)" -eq "$(stat -c %s "$FOLLOW_OUT")" ] &&
	    [ "$(cursor_slot "$EXEC_CURSOR" | cut -d' ' -f1)" = "$total" ] &&
	    [ "$(cursor_slot "$SHIP_CURSOR" | cut -d' ' -f1)" = "$total" ]
}
ok "exec, follow and ship caught up" wait_for caught_up
ok "follow printed every record exactly once, in order" cmp -s <(log_files | xargs cat) "$FOLLOW_OUT"
awk '{ print $2, $1 }' "$RUNS" | sort -u >"$DIR/ran"
is "$(comm -23 "$DIR/final" "$DIR/ran" | head -n 3)" "" "exec ran every record at least once"
is "$(comm -13 "$DIR/final" "$DIR/ran" | head -n 3)" "" "  and none that is not in the log"
extra=$(awk '$3 == 1' "$RUNS" | cut -d' ' -f1,2 | sort | uniq -d | wc -l)
ok "  again only the record in hand at a cut ($extra runs again, $CUTS cuts)" \
    test "$extra" -le "$CUTS"
grep -- '-13 ' "$DIR/final" | awk '{ print $2, $1 }' | sort >"$DIR/failing"
jq -r '"\(.seq) \(.id)"' "$DEAD" 2>/dev/null | sort -u >"$DIR/dead"
is "$(comm -23 "$DIR/failing" "$DIR/dead" | head -n 3)" "" \
    "every record whose command failed is in the dead-letter file ($(log_count "$DIR/failing"))"
ok "every record of the log is in the stream exactly once, as its line, and nothing else" \
    stream_is_log
diag "$total records; exec ran $(log_count "$RUNS") times; follow printed $(log_count "$FOLLOW_OUT") lines;" \
    "the stream holds $(log_count "$DIR/stream.all") messages"

kill_all
ok "no sanitizer report on the responders' or powerfs's stderr" \
    no_sanitizer_reports "$TEST_TMP"/r*.stderr "$TEST_TMP/powerfs.stderr" "$TEST_TMP"/exec.stderr \
    "$TEST_TMP"/follow.stderr "$TEST_TMP"/ship.stderr
done_testing
