#!/bin/bash
# tests/integration/logrotate.sh: Debian's logrotate, with the shipped logrotate/idwise-fcgi
# (only the path, the su user and, for the create mode, nocreate changed), forced 5 times
# while 8 responders (spawn-fcgi -F 8) behind nginx store a steady load, in nocreate and
# in create mode. Every delivery that got a 200 is in exactly one file exactly once, the
# files (rotated ones gzipped but the newest, by delaycompress) make one chain, oldest
# first, and tail -F follows into the new file. In create mode, a delivery that comes
# between logrotate's rename and its create (held up with strace to make it certain) ends
# up in a .backup file, still in the chain. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

ROTATIONS=5
SHIPPED=$top_srcdir/logrotate/idwise-fcgi
SHIPPED_PATH=/var/lib/idwise-fcgi/events.jsonl
ME=$(id -un)
MY_GROUP=$(id -gn)

# test_config MODE: the shipped config for $LOG, as the user running the test, in MODE
# (nocreate as shipped, or create 0640).
test_config()
{
	local out=$DIR/logrotate.conf
	sed -e "s|^$SHIPPED_PATH {|$LOG {|" -e "s|^\tsu idwise www-data$|\tsu $ME $MY_GROUP|" \
	    "$SHIPPED" >"$out" || return 1
	if [ "$1" = create ]; then
		sed -i "s|^\tnocreate$|\tcreate 0640 $ME $MY_GROUP|" "$out" || return 1
	fi
	grep -q "^$LOG {" "$out" && grep -q "^	su $ME $MY_GROUP$" "$out" &&
	    grep -qE "^	(nocreate|create 0640 $ME $MY_GROUP)$" "$out" ||
	    { diag "the shipped config no longer has the lines this test changes"; return 1; }
}

# rotate: one forced rotation; logrotate's output goes to $DIR/logrotate.out. In create
# mode a delivery can come between logrotate's rename and its create; logrotate then moves
# the writer's new file aside as events.jsonl-YYYYMMDDHH.backup, and a second such file in
# the same hour would be renamed over the first (see logrotate/idwise-fcgi). Five rotations
# in a few seconds are not what the daily timer does, so each .backup is moved to a name
# of its own here, as an operator who chose create would have to collect them.
rotate()
{
	local rc f
	logrotate -v -f -s "$DIR/logrotate.state" "$DIR/logrotate.conf" \
	    >>"$DIR/logrotate.out" 2>&1
	rc=$?
	for f in "$LOG"-*.backup; do
		[ -e "$f" ] || continue
		BACKUPS=$((BACKUPS + 1))
		mv "$f" "$f.kept-$BACKUPS"
	done
	return "$rc"
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
	local inode seq files
	inode=$(stat -c %i "$LOG")
	seq=$(log_last "$LOG" .seq)
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
	is "$(grep -c '^error: destination .* already exists, renaming to .*\.backup$' "$DIR/race.out")" 1 \
	    "  logrotate found that file, said so (error: ... renaming to ....backup) and moved it aside"
	is "$(cat "$LOG"-*.backup 2>/dev/null | jq -r .id)" create-race \
	    "  the .backup file holds the record"
	post_string "$(step_event after-race)" -H "Authorization: Bearer $TOKEN"
	reply_is 200 "{\"status\":\"accepted\",\"seq\":$((seq + 2))}" \
	    "  the next delivery goes on in logrotate's new file"
	is "$(jq -r .id "$LOG")" after-race "  which holds it"
	mapfile -t files < <(rotated_files "$LOG")
	ok "  nothing lost: the files, .backup among them, make one chain" check_chain "${files[@]}"
}

# run_mode MODE: the whole test with logrotate in MODE (nocreate or create).
run_mode()
{
	local mode=$1 k rc under_load=0 failed=0 backups
	local -a files

	BACKUPS=0
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
	is "$failed" 0 "$mode: logrotate exited 0 every time"
	if [ "$mode" = create ]; then
		# the race the shipped config's comment describes: logrotate says so
		diag "create: $backups times a delivery came between rename and create"
		is "$(grep -c '^error: destination .* already exists, renaming to .*\.backup$' \
		    "$DIR/logrotate.out")" "$backups" \
		    "$mode: logrotate complained only where it found the writer's new file (.backup)"
	else
		is "$backups" 0 "$mode: no .backup file"
	fi
	ok "$mode: every delivery got a 200" test ! -e "$DIR/load/failed"

	mapfile -t files < <(rotated_files "$LOG")
	is "${#files[@]}" $((ROTATIONS + 1 + backups)) \
	    "$mode: $((ROTATIONS + 1)) files with records, and $backups .backup"
	ok "$mode: the newest rotated file is not compressed (delaycompress)" test -s "$LOG.1"
	ok "$mode: the older ones are ($(basename "$LOG").2.gz .. .$ROTATIONS.gz)" \
	    test -s "$LOG.2.gz" -a -s "$LOG.$ROTATIONS.gz" -a ! -e "$LOG.2"
	ok "$mode: the files, oldest first, make one chain (seq and prev go on across them)" \
	    check_chain "${files[@]}"
	ok "$mode: every delivery that got a 200 is in exactly one file, once, with its seq" \
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
	ok "$mode: all $((ROTATIONS + 2 + backups)) files still make one chain" check_chain "${files[@]}"

	[ "$mode" = create ] && create_race

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
