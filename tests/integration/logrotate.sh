#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/logrotate.sh: Debian's logrotate, with the shipped logrotate/idwise-fcgi
# (only the path, the su user, the date format (the time of day added, since it rotates
# many times a minute) and, for the create mode, nocreate changed), forced 5 times while 8
# responders (spawn-fcgi -F 8) behind nginx store a steady load, in nocreate and in create
# mode. Every delivery that got a 200 is in exactly one file exactly once, the
# files (rotated ones gzipped but the newest, by delaycompress) make one chain, oldest
# first, and tail -F follows into the new file. In create mode, a delivery that comes
# between logrotate's rename and its create (held up with strace to make it certain) ends
# up in a .backup file, still in the chain; and when that happens twice in one run,
# logrotate renames the second file over the first, and a record is lost (why the shipped
# config says nocreate). Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

ROTATIONS=5
SHIPPED=$top_srcdir/logrotate/idwise-fcgi.in
SHIPPED_PATH=@localstatedir@/lib/idwise-fcgi/events.jsonl
# the responders' account (RUN_USER when the tests run as root), as in "su" and "create"
ME=${RUN_USER:-$(id -un)}
MY_GROUP=$(id -gn "$ME")
IN='    '	# the shipped file's indentation

# test_config MODE: the shipped config for $LOG, as the responders' account, rotating by
# the second, in MODE (nocreate as shipped, or create 0640).
test_config()
{
	local out=$DIR/logrotate.conf
	sed -e "s|^$SHIPPED_PATH {|$LOG {|" -e "s|^${IN}su idwise idwise$|${IN}su $ME $MY_GROUP|" \
	    -e "s|^${IN}dateformat -%Y%m%d$|${IN}dateformat -%Y%m%d-%H%M%S|" \
	    "$SHIPPED" >"$out" || return 1
	if [ "$1" = create ]; then
		sed -i "s|^${IN}nocreate$|${IN}create 0640 $ME $MY_GROUP|" "$out" || return 1
	fi
	grep -q "^$LOG {" "$out" && grep -q "^${IN}su $ME $MY_GROUP$" "$out" &&
	    grep -q "^${IN}dateformat -%Y%m%d-%H%M%S$" "$out" &&
	    grep -qE "^${IN}(nocreate|create 0640 $ME $MY_GROUP)$" "$out" ||
	    { diag "the shipped config no longer has the lines this test changes"; return 1; }
}

# rotate: one forced rotation, in a second of its own (the rotated file's name has the
# time to the second); logrotate's output goes to $DIR/logrotate.out. In create
# mode a delivery can come between logrotate's rename and its create; logrotate then moves
# the writer's new file aside as events.jsonl-YYYYMMDDHH.backup, and a second such file in
# the same hour would be renamed over the first (see logrotate/idwise-fcgi). Five rotations
# in a few seconds are not what the weekly timer does, so each .backup is moved to a name
# of its own here, as an operator who chose create would have to collect them. Within one
# run nothing can be done: when the writer makes the file again before logrotate's second
# try to create it, logrotate renames that one over the first .backup and gives up (exit
# 1): OVERWRITES counts those (in DOUBLE_RUNS runs), RENAMES every .backup logrotate made,
# and LOST says why a check of the whole chain is then a known failure (a TODO).
RENAMES=0
OVERWRITES=0
DOUBLE_RUNS=0
LOST=
rotate()
{
	local rc f n
	wait_for new_second
	logrotate -v -f -s "$DIR/logrotate.state" "$DIR/logrotate.conf" \
	    >"$DIR/logrotate.last" 2>&1
	rc=$?
	cat "$DIR/logrotate.last" >>"$DIR/logrotate.out"
	LAST_ROTATION=$(rotated_at "$DIR/logrotate.last")
	n=$(grep -c '^error: destination .* already exists, renaming to .*\.backup$' \
	    "$DIR/logrotate.last")
	RENAMES=$((RENAMES + n))
	if [ "$n" -ge 2 ]; then
		OVERWRITES=$((OVERWRITES + n - 1))
		DOUBLE_RUNS=$((DOUBLE_RUNS + 1))
		LOST="logrotate (create) renamed a .backup over another: its records are lost"
	fi
	for f in "$LOG"-*.backup; do
		[ -e "$f" ] || continue
		BACKUPS=$((BACKUPS + 1))
		mv "$f" "$f.kept-$BACKUPS"
	done
	return "$rc"
}

# new_second: the clock is a fifth of a second past the second of the last rotation, and
# no rotated file has this second's name yet. Twice, two runs of logrotate in a row got the
# same dateext name although the test's clock had passed that second in between (the
# second run then skipped the rotation): logrotate's time(2) can lag behind date(1)'s
# clock at the turn of a second, so the test keeps a margin.
LAST_ROTATION=0
new_second()
{
	local now sec frac
	now=$(date +%s%N)
	sec=${now:0:${#now}-9}
	frac=${now:${#now}-9}
	[ "$sec" -gt "$LAST_ROTATION" ] && [ "$((10#$frac))" -ge 200000000 ] &&
	    ! compgen -G "$LOG-$(date -d "@$sec" +%Y%m%d-%H%M%S)*" >/dev/null
}

# rotated_at OUTPUT: the later of now and the second logrotate named its file by, from
# its verbose OUTPUT ("dateext suffix '-20261126-004551'").
rotated_at()
{
	local now named
	now=$(date +%s)
	named=$(sed -n "s/^dateext suffix '-\([0-9]\{8\}\)-\([0-9]\{2\}\)\([0-9]\{2\}\)\([0-9]\{2\}\)'$/\1 \2:\3:\4/p" \
	    "$1" | tail -n 1)
	[ -n "$named" ] && named=$(date -d "$named" +%s 2>/dev/null) && [ "$named" -gt "$now" ] &&
	    now=$named
	echo "$now"
}

# rotated_names: the rotated files' names (not the .backup ones), oldest first.
rotated_names()
{
	local f
	for f in "$LOG"-*; do
		case $f in
		*.backup | *.backup.kept-*) ;;
		*) [ -e "$f" ] && basename "$f" ;;
		esac
	done | sort
}

# grown_by N: the live log holds at least N lines.
grown_by()
{
	[ "$(log_count "$LOG")" -ge "$1" ]
}

# in_tail ID: tail -F has printed the record of ID.
in_tail()
{
	grep -q "\"id\":\"$1\"" "$DIR/tail.out"
}

# replaced INODE: the file at the log's path is no longer inode INODE.
replaced()
{
	[ "$(stat -c %i "$LOG" 2>/dev/null)" != "$1" ]
}

# create_race: the race the shipped config's comment describes for "create", made certain:
# logrotate is held for a second before it creates the new file (strace delays its
# open of the log's path), and a delivery arrives in that second.
create_race()
{
	local inode seq files f
	inode=$(stat -c %i "$LOG")
	seq=$(log_last "$LOG" .seq)
	wait_for new_second
	strace -f -qq -o /dev/null -P "$LOG" -e trace=open,openat \
	    -e inject=open,openat:delay_enter=1000000 \
	    logrotate -v -f -s "$DIR/logrotate.state" "$DIR/logrotate.conf" >"$DIR/race.out" 2>&1 &
	RACE_PID=$!
	ok "create race: logrotate renamed the log" wait_for replaced "$inode"
	post_string "$(step_event create-race)" -H "Authorization: Bearer $TOKEN"
	reply_is 200 "{\"status\":\"accepted\",\"seq\":$((seq + 1))}" \
	    "  a delivery before logrotate's create is stored, in a file the writer made"
	wait "$RACE_PID"
	diag "create race: logrotate exited $?"
	LAST_ROTATION=$(rotated_at "$DIR/race.out")
	is "$(grep -c '^error: destination .* already exists, renaming to .*\.backup$' "$DIR/race.out")" 1 \
	    "  logrotate found that file, said so (error: ... renaming to ....backup) and moved it aside"
	is "$(cat "$LOG"-*.backup 2>/dev/null | jq -r .id)" create-race \
	    "  the .backup file holds the record"
	post_string "$(step_event after-race)" -H "Authorization: Bearer $TOKEN"
	reply_is 200 "{\"status\":\"accepted\",\"seq\":$((seq + 2))}" \
	    "  the next delivery goes on in logrotate's new file"
	is "$(jq -r .id "$LOG")" after-race "  which holds it"
	mapfile -t files < <(rotated_files "$LOG")
	TODO=$LOST ok "  the files, .backup among them, make one chain" check_chain "${files[@]}"
	for f in "$LOG"-*.backup; do
		mv "$f" "$f.kept-race"
	done
}

# path_empty: nothing is at the log's path.
path_empty()
{
	[ ! -e "$LOG" ]
}

# double_race: the same race twice in one logrotate run, made certain the same way: the
# writer makes the file again while logrotate waits to create it a second time; logrotate
# renames that one over the first .backup and gives up. The record in the first is then in
# no file: why the shipped config says nocreate.
double_race()
{
	local inode seq rc
	inode=$(stat -c %i "$LOG")
	seq=$(log_last "$LOG" .seq)
	wait_for new_second
	strace -f -qq -o /dev/null -P "$LOG" -e trace=open,openat \
	    -e inject=open,openat:delay_enter=1000000 \
	    logrotate -v -f -s "$DIR/logrotate.state" "$DIR/logrotate.conf" >"$DIR/race2.out" 2>&1 &
	RACE_PID=$!
	ok "double race: logrotate renamed the log" wait_for replaced "$inode"
	post_string "$(step_event double-1)" -H "Authorization: Bearer $TOKEN"
	reply_is 200 "{\"status\":\"accepted\",\"seq\":$((seq + 1))}" \
	    "  a delivery before logrotate's create is stored, in a file the writer made"
	ok "  logrotate moved that file aside, and waits to create again" wait_for path_empty
	post_string "$(step_event double-2)" -H "Authorization: Bearer $TOKEN"
	reply_is 200 "{\"status\":\"accepted\",\"seq\":$((seq + 2))}" \
	    "  a second delivery is stored, in a file the writer made again"
	wait "$RACE_PID"
	rc=$?
	LAST_ROTATION=$(rotated_at "$DIR/race2.out")
	is "$rc $(grep -c 'already exists, renaming to .*\.backup$' "$DIR/race2.out")" "1 2" \
	    "  logrotate moved that one aside too, and failed"
	is "$(cat "$LOG"-*.backup | jq -r .id)" double-2 "  onto the same .backup: it holds only the second"
	is "$(cat "$LOG"-* "$LOG" 2>/dev/null | zcat -f | grep -c '"id":"double-1"')" 0 \
	    "  the first one's record, acknowledged with a 200, is in no file"
}

# run_mode MODE: the whole test with logrotate in MODE (nocreate or create).
run_mode()
{
	local mode=$1 k rc under_load=0 failed=0 backups
	local -a files

	BACKUPS=0 RENAMES=0 OVERWRITES=0 DOUBLE_RUNS=0 LOST=
	DIR=$TEST_TMP/$mode
	write_config "$DIR" || bail "cannot write the config"
	test_config "$mode" || bail "cannot make the test's logrotate config"
	start_responder "$mode" "$CONF" 8 || bail "spawn-fcgi -F 8 failed"
	stop_nginx
	start_nginx "$(responder_socket "$mode")" || bail "nginx did not start"
	tail -n +1 -F "$LOG" >"$DIR/tail.out" 2>"$DIR/tail.err" &
	TAIL_PID=$!
	at_exit "kill $TAIL_PID"

	load_start "$DIR/load" "$mode"
	for ((k = 1; k <= ROTATIONS; k++)); do
		# rotate once the live file holds 500 records, with deliveries still coming
		wait_for grown_by 500 && load_running && under_load=$((under_load + 1))
		rotate
		rc=$?
		[ "$rc" -eq 0 ] || { failed=$((failed + 1)); diag "logrotate exited $rc"; }
	done
	wait_for grown_by 50
	load_stop
	diag "$mode: $(log_count "$DIR/load/ids") deliveries, $ROTATIONS rotations"
	is "$under_load" "$ROTATIONS" "$mode: $ROTATIONS forced rotations, each with deliveries in flight"
	backups=$BACKUPS
	if [ "$mode" = create ]; then
		# the race the shipped config's comment describes: logrotate says so
		diag "create: $RENAMES times a delivery came between rename and create;" \
		    "$OVERWRITES of those .backup files logrotate renamed over another"
		is "$RENAMES $failed" "$((backups + OVERWRITES)) $DOUBLE_RUNS" \
		    "$mode: logrotate complained (and failed) only where it found the writer's new file"
	else
		is "$backups $failed" "0 0" "$mode: no .backup file, logrotate exited 0 every time"
	fi
	ok "$mode: every delivery got a 200" test ! -e "$DIR/load/failed"

	mapfile -t files < <(rotated_files "$LOG")
	is "${#files[@]}" $((ROTATIONS + 1 + backups)) \
	    "$mode: $((ROTATIONS + 1)) files with records, and $backups .backup"
	is "$(rotated_names | sed 's/[0-9]\{8\}-[0-9]\{6\}/DATE/' | uniq -c |
	    awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')" \
	    "$((ROTATIONS - 1)) events.jsonl-DATE.gz, 1 events.jsonl-DATE" \
	    "$mode: $ROTATIONS rotated files, named by date, all gzipped but the newest (delaycompress)"
	is "$(rotated_names | tail -n 1)" "$(rotated_names | grep -v '\.gz$')" \
	    "  the plain one is the newest"
	# (records that logrotate lost in create mode make these a known failure: LOST)
	TODO=$LOST ok "$mode: the files, oldest first, make one chain (seq and prev go on across them)" \
	    check_chain "${files[@]}"
	TODO=$LOST ok "$mode: every delivery that got a 200 is in exactly one file, once, with its seq" \
	    check_delivered "$DIR/load/ids" "$DIR/load" "${files[@]}"
	is "$(stat -c '%a %U %G' "$LOG")" "640 $ME $MY_GROUP" \
	    "$mode: the live file is mode 0640, $ME:$MY_GROUP"

	# tail -F: after one more rotation, a record sent then appears in tail's output
	post_string "$(step_event "$mode-before-tail")" -H "Authorization: Bearer $TOKEN"
	ok "$mode: tail -F shows a delivery" wait_for in_tail "$mode-before-tail"
	rotate
	is "$?" 0 "$mode: another rotation"
	post_string "$(step_event "$mode-after-tail")" -H "Authorization: Bearer $TOKEN"
	reply_is 200 "{\"status\":\"accepted\",\"seq\":$(($(log_count "$DIR/load/ids") + 2))}" \
	    "$mode: a delivery after it is stored"
	ok "$mode: tail -F followed into the new file and shows it" wait_for in_tail "$mode-after-tail"
	mapfile -t files < <(rotated_files "$LOG")
	TODO=$LOST ok "$mode: all $((ROTATIONS + 2 + backups)) files still make one chain" \
	    check_chain "${files[@]}"
	if [ "$mode" = create ]; then
		create_race
		double_race
	fi

	stop_responder "$mode"
	ok "$mode: no sanitizer report on the responders' stderr" \
	    no_sanitizer_reports "$TEST_TMP/$mode.stderr"
	ok "$mode: the responders reported no problem on stderr" \
	    no_line_in "$TEST_TMP/$mode.stderr" '^idwise-fcgi: '
}

command -v logrotate >/dev/null || bail "logrotate is not installed (Debian package logrotate)"
command -v strace >/dev/null || bail "strace is not installed (Debian package strace)"
run_mode nocreate
run_mode create
done_testing
