#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/follow-rotate.sh: idwise-log follow across real rotations: the file
# renamed between appends of the real idwise-fcgi (which starts a new file on its next
# append) and Debian's logrotate -f; a cursor through kill -9 at any moment; the record a
# writer puts in the old file just after the rename; a cursor whose file was compressed
# away. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/log-lib.sh" || exit 1

# rotate LOG: what logrotate does (nocreate): LOG.N to LOG.N+1 ..., then LOG to LOG.1.
rotate()
{
	local log=$1 i
	for ((i = 9; i >= 1; i--)); do
		[ ! -e "$log.$i" ] || mv "$log.$i" "$log.$((i + 1))" || return 1
	done
	mv "$log" "$log.1"
}

# all_files LOG: the log's files, oldest first.
all_files()
{
	local log=$1 i
	for ((i = 10; i >= 1; i--)); do
		[ ! -e "$log.$i" ] || printf '%s\n' "$log.$i"
	done
	[ ! -e "$log" ] || printf '%s\n' "$log"
}

# ---------------------------------------------------------------------------------------
# Two rotations with a cursor and a kill -9 in the middle.

write_config "$TEST_TMP/d"
D_CONF=$CONF D_LOG=$LOG
CUR=$TEST_TMP/d.cursor
OUTF=$TEST_TMP/d.out
post_many "$D_CONF" d1 4 || bail "cannot write a log with idwise-fcgi"
start_bg f1 "$OUTF" "$IDWISE_LOG" follow --cursor "$CUR" "$D_LOG"
ok "follow prints the records there" wait_lines "$OUTF" 4
rotate "$D_LOG"
post_many "$D_CONF" d2 3
ok "rotation 1: the next append makes a new file; follow goes on in it" wait_lines "$OUTF" 7
kill_bg f1 KILL
post_many "$D_CONF" d3 2
rotate "$D_LOG"
post_many "$D_CONF" d4 3
is "$(seqs "$D_LOG.2") | $(seqs "$D_LOG.1") | $(seqs "$D_LOG")" "1 2 3 4 | 5 6 7 8 9 | 10 11 12" \
    "set-up: the cursor's file is now events.jsonl.1, with two records follow did not see"
start_bg f2 "$OUTF" "$IDWISE_LOG" follow --cursor "$CUR" "$D_LOG"
ok "after kill -9 and rotation 2: it finds its file by identity and goes on" \
    wait_lines "$OUTF" 12
post_many "$D_CONF" d5 2
ok "... and follows new appends" wait_lines "$OUTF" 14
kill_bg f2 TERM
is "$BG_RC" 0 "SIGTERM: exit 0"
is "$(seqs "$OUTF")" "$(seq_range 1 14)" "every record exactly once over both runs, in seq order"
mapfile -t files < <(all_files "$D_LOG")
ok "the output is the log files' lines, byte for byte" cmp -s "$OUTF" <(cat "${files[@]}")

# kill -9 at random moments while records come in, with a rotation now and then.
n=14 kills=0
for ((round = 1; round <= 15; round++)); do
	start_bg fk "$OUTF" "$IDWISE_LOG" follow --cursor "$CUR" "$D_LOG"
	post_event "$D_CONF" "k$round-a" && post_event "$D_CONF" "k$round-b" ||
	    bail "cannot post"
	n=$((n + 2))
	[ $((round % 5)) -ne 0 ] || rotate "$D_LOG"
	sleep "0.0$((RANDOM % 10))"
	kill_bg fk KILL
	kills=$((kills + 1))
done
timeout 30 "$IDWISE_LOG" follow --once --cursor "$CUR" "$D_LOG" >>"$OUTF" 2>>"$TEST_TMP/fk.stderr"
is "$?" 0 "after $kills kills: --once finishes with exit 0"
is "$(seqs "$OUTF")" "$(seq_range 1 "$n")" \
    "kill -9 at random moments, $kills times, rotations between: every record once, in order"
mapfile -t files < <(all_files "$D_LOG")
ok "... byte for byte the log files' lines" cmp -s "$OUTF" <(cat "${files[@]}")
ok "... and the files still form one chain" check_chain "${files[@]}"

# A kill between writing a record and saving the cursor, made certain: the cursor from
# before the last record is put back.
cp "$CUR" "$TEST_TMP/before.cursor"
post_event "$D_CONF" w1 || bail "cannot post"
n=$((n + 1))
timeout 30 "$IDWISE_LOG" follow --once --cursor "$CUR" "$D_LOG" >>"$OUTF"
cp "$TEST_TMP/before.cursor" "$CUR"
timeout 30 "$IDWISE_LOG" follow --once --cursor "$CUR" "$D_LOG" >>"$OUTF" \
    2>"$TEST_TMP/resume.err"
is "$(seqs "$OUTF" | tr ' ' '\n' | tail -n 2 | paste -sd ' ')" "$((n - 1)) $n" \
    "killed after writing to a file, before saving: the record is not written again"
is "$(cat "$TEST_TMP/resume.err")" "" "... silently"
cp "$TEST_TMP/before.cursor" "$CUR"
head -c -7 "$OUTF" >"$TEST_TMP/cut.out" && cat "$TEST_TMP/cut.out" >"$OUTF"
timeout 30 "$IDWISE_LOG" follow --once --cursor "$CUR" "$D_LOG" >>"$OUTF"
ok "killed in the middle of writing it: the rest of the line is written, once" \
    cmp -s "$OUTF" <(all_files "$D_LOG" | xargs cat)
cp "$TEST_TMP/before.cursor" "$CUR"
is "$(timeout 30 "$IDWISE_LOG" follow --once --cursor "$CUR" "$D_LOG" | cat | jq -r .seq)" \
    "$n" "into a pipe, the record in hand at the kill comes again (at least once)"

# ---------------------------------------------------------------------------------------
# The record a writer puts in the old file just after the rename.

write_config "$TEST_TMP/e"
E_CONF=$CONF E_LOG=$LOG
post_many "$E_CONF" e 3 || bail "cannot post"
start_bg fe "$TEST_TMP/e.out" "$IDWISE_LOG" follow "$E_LOG"
ok "follow prints the first records" wait_lines "$TEST_TMP/e.out" 3
# logrotate's create: an empty file at the path, the responder's (it runs as RUN_USER)
mv "$E_LOG" "$E_LOG.1" && : >"$E_LOG" && give_to_responder "$E_LOG"
sleep 0.5	# follow sees the rename and the new file
# A writer that looked at the path just before the rename appends to the old file. The
# path is handed back to the old file for that one delivery, then the new file returns.
mv "$E_LOG" "$E_LOG.new" && ln "$E_LOG.1" "$E_LOG" && post_event "$E_CONF" e-late &&
    rm "$E_LOG" && mv "$E_LOG.new" "$E_LOG" || bail "cannot set up the late record"
is "$(seqs "$E_LOG.1")|$(line_count "$E_LOG")" "1 2 3 4|0" \
    "set-up: seq 4 went to the old file after the rename; the new file is still empty"
sleep 0.5
post_event "$E_CONF" e-5 || bail "cannot post"
is "$(seqs "$E_LOG")" 5 "set-up: the next append went to the new file"
ok "follow prints them" wait_lines "$TEST_TMP/e.out" 5
is "$(seqs "$TEST_TMP/e.out")" "1 2 3 4 5" \
    "the record written to the old file after the rename is not lost, and comes in order"
kill_bg fe TERM

# ---------------------------------------------------------------------------------------
# A cursor whose file was compressed away.

write_config "$TEST_TMP/f"
F_CONF=$CONF F_LOG=$LOG
post_many "$F_CONF" f1 3 || bail "cannot post"
run_log follow --once --cursor "$TEST_TMP/f1.cursor" "$F_LOG"
cp "$TEST_TMP/f1.cursor" "$TEST_TMP/f2.cursor"
cp "$TEST_TMP/f1.cursor" "$TEST_TMP/f3.cursor"
rotate "$F_LOG"
post_many "$F_CONF" f2 2 || bail "cannot post"
gzip "$F_LOG.1"
run_log follow --once --cursor "$TEST_TMP/f1.cursor" "$F_LOG"
is "$RC $(seqs <(printf '%s\n' "$OUT"))" "0 4 5" \
    "the cursor's file was compressed: seq 4 is found in the next file by seq"
mv "$F_LOG.1.gz" "$F_LOG.2.gz" && rotate "$F_LOG" && post_many "$F_CONF" f3 2 ||
    bail "cannot rotate"
run_log follow --once --cursor "$TEST_TMP/f3.cursor" "$F_LOG"
is "$RC $(seqs <(printf '%s\n' "$OUT"))" "0 4 5 6 7" \
    "a cursor whose file was compressed: found seq 4 in a rotated file, then the current one"
gzip "$F_LOG.1"
run_log follow --once --cursor "$TEST_TMP/f2.cursor" "$F_LOG"
is "$RC" 1 "seq 4 is only in compressed files: exit 1"
is "$OUT" "" "... nothing printed, nothing skipped"
ok "... one line" one_line "$ERR"
like "$ERR" 'seq 4 is in no file that can be read; the oldest record left is seq 6' \
    "... saying which seq is missing and what is left"
like "$ERR" 'compressed files cannot be read: .*events\.jsonl\.1\.gz' "... naming the compressed files"
run_log follow --once --cursor "$TEST_TMP/f1.cursor" "$F_LOG"
is "$RC $(seqs <(printf '%s\n' "$OUT"))" "0 6 7" \
    "a cursor at seq 5, its file compressed: goes on at seq 6"

# A follow that reads an old file while the next one was compressed: a gap, said plainly.
# (The compression comes after the append that starts the new file: a file compressed
# before it frees its inode number, the new file may get it, and the writer then takes
# the new file for the old one.)
write_config "$TEST_TMP/g"
G_CONF=$CONF G_LOG=$LOG
post_many "$G_CONF" g1 2 && run_log follow --once --cursor "$TEST_TMP/g.cursor" "$G_LOG" &&
    post_many "$G_CONF" g2 1 && rotate "$G_LOG" && post_many "$G_CONF" g3 2 &&
    rotate "$G_LOG" && post_many "$G_CONF" g4 1 && gzip "$G_LOG.1" || bail "cannot set up"
run_log follow --once --cursor "$TEST_TMP/g.cursor" "$G_LOG"
is "$RC $(seqs <(printf '%s\n' "$OUT"))" "1 3" \
    "the file after the one being read is compressed: its records up to the gap, exit 1"
like "$ERR" 'seq 4 to 5 are in no file that can be read \(the next one, .*events\.jsonl, starts at seq 6\) \(compressed files cannot be read: events\.jsonl\.1\.gz\)' \
    "... saying which seqs are missing"

# ---------------------------------------------------------------------------------------
# Debian's logrotate, create mode, compress with delaycompress.

write_config "$TEST_TMP/r"
R_CONF=$CONF R_LOG=$LOG
cat >"$TEST_TMP/r/logrotate.conf" <<EOC
$R_LOG {
	rotate 5
	create 0640
	compress
	delaycompress
	missingok
	notifempty
}
EOC
chmod 644 "$TEST_TMP/r/logrotate.conf"
post_many "$R_CONF" r1 3 || bail "cannot post"
start_bg fr "$TEST_TMP/r.out" "$IDWISE_LOG" follow --cursor "$TEST_TMP/r.cursor" "$R_LOG"
ok "follow prints the records there" wait_lines "$TEST_TMP/r.out" 3
ok "logrotate -f rotates the log" logrotate -f -s "$TEST_TMP/r/state" "$TEST_TMP/r/logrotate.conf"
is "$(line_count "$R_LOG.1"):$(test -f "$R_LOG" && line_count "$R_LOG")" 3:0 \
    "... into events.jsonl.1, with an empty new file at the path"
post_many "$R_CONF" r2 2 || bail "cannot post"
ok "follow goes on in the new file" wait_lines "$TEST_TMP/r.out" 5
kill_bg fr KILL
ok "logrotate -f again (after a kill -9 of follow)" \
    logrotate -f -s "$TEST_TMP/r/state" "$TEST_TMP/r/logrotate.conf"
ok "... compresses the oldest" test -f "$R_LOG.2.gz"
post_many "$R_CONF" r3 2 || bail "cannot post"
start_bg fr2 "$TEST_TMP/r.out" "$IDWISE_LOG" follow --cursor "$TEST_TMP/r.cursor" "$R_LOG"
ok "restarted: follow finds its file as events.jsonl.1 and goes on" \
    wait_lines "$TEST_TMP/r.out" 7
kill_bg fr2 TERM
is "$(seqs "$TEST_TMP/r.out")" "$(seq_range 1 7)" "logrotate: every record once, in order"
ok "logrotate: byte for byte the lines of the three files" \
    cmp -s "$TEST_TMP/r.out" <(zcat "$R_LOG.2.gz"; cat "$R_LOG.1" "$R_LOG")
ok "no sanitizer reports" no_sanitizer_reports "$TEST_TMP"/*.stderr

done_testing
