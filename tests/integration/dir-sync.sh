#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/dir-sync.sh: a new log file's name is on disk before the first record
# in it is acknowledged. fdatasync(2) makes a file's data durable, not its directory
# entry; so when the writer opens an empty log file (the first one, or the next after a
# rotation) it fsyncs the directory before it writes a record there. Seen with strace
# on idwise-fcgi run as CGI: the directory's fsync comes after the file is opened and
# before the record's write and fdatasync; a delivery to a log file that already holds
# records syncs no directory. A directory that cannot be opened for its fsync: 503 for
# every delivery until it can, also from a FastCGI responder that has the new file open
# already. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

command -v strace >/dev/null || bail "strace is not installed (Debian package strace)"

write_config "$TEST_TMP/ds"
DIR=$(dirname "$LOG")
TRACE=$TEST_TMP/trace

# traced_delivery ID: one delivery through idwise-fcgi as CGI under strace.
traced_delivery()
{
	local body=$TEST_TMP/body.$1
	sized_event "$1" 300 >"$body"
	rm -f "$TRACE"
	_cgi_exec strace -f -qq -o "$TRACE" -e trace=openat,fsync,fdatasync,write \
	    "$IDWISE_FCGI" -c "$CONF" "${RESPONDER_ARGS[@]}" -- REQUEST_METHOD=POST \
	    "CONTENT_LENGTH=$(wc -c <"$body")" CONTENT_TYPE=application/json \
	    REMOTE_ADDR=127.0.0.1 "HTTP_AUTHORIZATION=Bearer $TOKEN" <"$body" \
	    >"$TEST_TMP/cgi.out"
	split_cgi_reply "$TEST_TMP/cgi.out"
}

# order: from the trace, the line numbers of: the log's open, the directory's open, the
# fsync of the directory's fd, the write of the record to the log's fd, the fdatasync of
# the log's fd ("-" for any not there), as "open<dir<fsync<write<fdatasync" when in that
# order, else the numbers.
order()
{
	awk -v logpath="$LOG" -v dirpath="$DIR" '
		function fd_of(line) { sub(/.*= /, "", line); return line + 0 }
		index($0, "openat(AT_FDCWD, \"" logpath "\"") && / = [0-9]+$/ {
			if (!o) { o = NR; lfd = fd_of($0) } }
		index($0, "openat(AT_FDCWD, \"" dirpath "\"") && /O_DIRECTORY/ && / = [0-9]+$/ {
			if (!d) { d = NR; dfd = fd_of($0) } }
		d && !f && $0 ~ ("fsync\\(" dfd "\\) += 0") { f = NR }
		o && !w && $0 ~ ("write\\(" lfd ", \"\\{") { w = NR }
		o && !s && $0 ~ ("fdatasync\\(" lfd "\\) += 0") { s = NR }
		END {
			if (o && d && f && w && s && o < d && d < f && f < w && w < s)
				print "open<dir<fsync<write<fdatasync"
			else
				printf "open %s dir %s fsync %s write %s fdatasync %s\n",
				    o ? o : "-", d ? d : "-", f ? f : "-", w ? w : "-", s ? s : "-"
		}' "$TRACE"
}

dir_syncs()
{
	grep -c "^[0-9]* *openat(AT_FDCWD, \"$DIR\", [^)]*O_DIRECTORY" "$TRACE"
}

traced_delivery ds-1
reply_is 200 '{"status":"accepted","seq":1}' "the first delivery makes the log: seq 1"
is "$(order)" "open<dir<fsync<write<fdatasync" \
    "  the directory is fsynced after the log is made, before the record is written"

traced_delivery ds-2
reply_is 200 '{"status":"accepted","seq":2}' "a second delivery: seq 2"
is "$(dir_syncs)" 0 "  the log holds records already: no directory synced"

mv "$LOG" "$LOG.1"
traced_delivery ds-3
reply_is 200 '{"status":"accepted","seq":3}' "after a rotation (the log renamed): seq 3"
is "$(order)" "open<dir<fsync<write<fdatasync" \
    "  the new file's directory is fsynced before the record is written"
is "$(log_count "$LOG")" 1 "  which is the new file's first"

# The directory unreadable for a FastCGI responder that keeps the log open (so it cannot
# open the directory to fsync it), and another rotation: the new file's name cannot be
# made durable, and the responder must not go on using that file.
start_responder ds "$CONF" || bail "the responder did not start"
SOCK=$(responder_socket ds)
sized_event ds-4 300 >"$TEST_TMP/body.ds-4"
sized_event ds-5 300 >"$TEST_TMP/body.ds-5"
fcgi_post "$SOCK" "$TEST_TMP/body.ds-4"
reply_is 200 '{"status":"accepted","seq":4}' "a FastCGI responder stores seq 4"
mv "$LOG" "$LOG.2"
chmod u-r "$DIR"
fcgi_post "$SOCK" "$TEST_TMP/body.ds-5"
error_is 503 "directory unreadable, after a rotation: 503"
like "$(grep -c "$DIR: open: Permission denied" "$TEST_TMP/ds.stderr")" '^[1-9]' \
    "  stderr: the directory's open: Permission denied"
fcgi_post "$SOCK" "$TEST_TMP/body.ds-5"
error_is 503 "  the same delivery again, by the same process: 503 again"
is "$(log_count "$LOG")" 0 "  nothing was written to the new file"
chmod u+r "$DIR"
fcgi_post "$SOCK" "$TEST_TMP/body.ds-5"
reply_is 200 '{"status":"accepted","seq":5}' "readable again: stored as seq 5"
ok "  the chain runs through the rotated files into the new one" \
    check_chain "$LOG.1" "$LOG.2" "$LOG"

done_testing
