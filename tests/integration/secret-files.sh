#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/secret-files.sh: the files secrets come from, and the process that holds
# them (issue 13, findings 10 and 12). A secret file that is a symlink to /etc/shadow or to
# a file of another user, a secret file of another user, a config file others may write or
# another user owns: refused with one line naming the file, nothing of the file printed. A
# config error with a token pasted as a value names file, line and key, not the token.
# --check-config warns about a config file or a log directory others or a group may write.
# idwise-log reindex reads no secret file. The responder is not dumpable (the files in its
# /proc/PID are root's) unless --allow-core-dumps. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || { ok "# SKIP these checks give files to other users: run as root" true; done_testing; exit 0; }

OTHER_UID=12345		# an account that is neither root nor RUN_USER
RUN_UID=$(id -u "$RUN_USER")

# check_config OUT [ARG...]: idwise-fcgi -c $CONF --check-config ARG...; stdout and stderr
# in OUT. Sets RC.
check_config()
{
	local out=$1
	shift
	"$IDWISE_FCGI" -c "$CONF" --check-config "$@" >"$out" 2>&1
	RC=$?
}

# proc_owner NAME: the owner of /proc/PID/status of listener NAME. The kernel makes the
# files in /proc/PID of a process that is not dumpable (PR_SET_DUMPABLE 0) root's (not
# /proc/PID itself).
proc_owner()
{
	stat -c %u "/proc/$(listener_pid "$1")/status"
}

# one_line_naming OUT FILE DESC: OUT is one line, naming FILE.
one_line_naming()
{
	is "$(wc -l <"$1" | tr -d ' ')" 1 "$3: one line" || diag "$(cat "$1")"
	like "$(cat "$1")" "$2" "$3: naming the file"
}

# --- a secret file that is a symlink -------------------------------------------------

# The link is made in a directory of its own, and removed before anything else is done
# there: write_config writes the token file through a link.
dir=$TEST_TMP/shadow
write_config "$dir" || bail "cannot write the config"
if [ -f /etc/shadow ] && [ "$(stat -c %g /etc/shadow)" -ne 0 ]; then
	shadow_before=$(sha256sum </etc/shadow; stat -c %u:%g:%a /etc/shadow)
	rm -f "$dir/bearer_tokens"
	ln -s /etc/shadow "$dir/bearer_tokens"
	check_config "$dir/root-link.out"
	is "$RC" 78 "root's symlink to /etc/shadow as the token file: refused (exit 78)"
	one_line_naming "$dir/root-link.out" "bearer_tokens: readable by the group shadow" \
	    "  /etc/shadow"
	chown -h "$RUN_USER" "$dir/bearer_tokens"
	check_config "$dir/user-link.out" --user "$RUN_USER"
	is "$RC" 78 "$RUN_USER's symlink to /etc/shadow, --user $RUN_USER: refused (exit 78)"
	one_line_naming "$dir/user-link.out" \
	    "bearer_tokens: a symlink owned by $RUN_USER \\(uid $RUN_UID\\) to a file owned by root" \
	    "  the link's owner"
	# Nothing of /etc/shadow: no account name with its hash field, no "N tokens".
	leaked=$(cut -d: -f1,2 /etc/shadow | grep -F -f - "$dir"/*-link.out)
	is "$leaked" "" "  nothing of /etc/shadow is printed"
	ok "  no count of its lines" not grep -q 'token(s)' "$dir"/*-link.out
	rm -f "$dir/bearer_tokens"
	is "$(sha256sum </etc/shadow; stat -c %u:%g:%a /etc/shadow)" "$shadow_before" \
	    "  /etc/shadow is as it was"
else
	ok "# SKIP no /etc/shadow of group shadow here" true
fi

# A symlink of the service user's to another user's file, and another user's file.
dir=$TEST_TMP/foreign
write_config "$dir" || bail "cannot write the config"
mv "$dir/bearer_tokens" "$dir/foreign_tokens"
chown "$OTHER_UID" "$dir/foreign_tokens"
ln -s "$dir/foreign_tokens" "$dir/bearer_tokens"
check_config "$dir/foreign-link.out"
is "$RC" 78 "root's symlink to a token file of uid $OTHER_UID: refused (exit 78)"
one_line_naming "$dir/foreign-link.out" "bearer_tokens: owned by uid $OTHER_UID" "  the owner"
rm -f "$dir/bearer_tokens"
mv "$dir/foreign_tokens" "$dir/bearer_tokens"
check_config "$dir/foreign.out"
is "$RC" 78 "a token file of uid $OTHER_UID (mode 0600): refused (exit 78)"
one_line_naming "$dir/foreign.out" \
    "bearer_tokens: owned by uid $OTHER_UID; a secret file must be root's or the service user's" \
    "  the owner"
check_config "$dir/foreign-user.out" --user "$RUN_USER"
is "$RC" 78 "  also with --user $RUN_USER"
chown "$RUN_USER" "$dir/bearer_tokens"
check_config "$dir/service.out" --user "$RUN_USER"
is "$RC" 0 "a token file of the service's user (--user $RUN_USER): accepted" ||
    diag "$(cat "$dir/service.out")"
check_config "$dir/service-root.out"
is "$RC" 78 "  but not for a service run as root"
ok "no token in any of these outputs" no_secret_in "$dir"/*.out

# --- the config file itself ----------------------------------------------------------

dir=$TEST_TMP/conf
write_config "$dir" || bail "cannot write the config"
chmod 0666 "$CONF"
check_config "$dir/world.out"
is "$RC" 78 "a config file others may write (0666): refused (exit 78)"
one_line_naming "$dir/world.out" "idwise-fcgi.conf: refused: writable by others" "  the mode"
chmod 0644 "$CONF"
chown "$OTHER_UID" "$CONF"
check_config "$dir/owner.out"
is "$RC" 78 "a config file of uid $OTHER_UID: refused (exit 78)"
one_line_naming "$dir/owner.out" \
    "idwise-fcgi.conf: refused: owned by a user other than root or the service's user" \
    "  the owner"
chown "$RUN_USER" "$CONF"
check_config "$dir/owner-service.out" --user "$RUN_USER"
is "$RC" 0 "a config file of the service's user (--user $RUN_USER): accepted" ||
    diag "$(cat "$dir/owner-service.out")"
chown 0 "$CONF"

# --check-config's warnings: the config's group may write it; others may write the log's
# directory.
chmod 0664 "$CONF"
chmod 0777 "$dir"
check_config "$dir/warn.out"
is "$RC" 0 "config 0664 and log directory 0777: --check-config still exits 0" ||
    diag "$(cat "$dir/warn.out")"
like "$(cat "$dir/warn.out")" "warning: config: $CONF: its group \\(gid [0-9]+\\) may write it" \
    "  warning about the config's group"
like "$(cat "$dir/warn.out")" "warning: log directory: $dir: others may write it \\(mode 0777\\)" \
    "  warning about the log's directory"
chmod 0644 "$CONF"
chmod 0755 "$dir"
check_config "$dir/nowarn.out"
ok "no warning for 0644 and 0755" not grep -q warning "$dir/nowarn.out"

# --- config errors never echo a value ------------------------------------------------

for key in env status_path max_body dedup_window allow_from log_level; do
	write_config "$dir" "$key=" || bail "cannot write the config"
	printf '%s = Bearer %s\n' "$key" "$TOKEN" >>"$CONF"	# pasted whole
	line=$(wc -l <"$CONF" | tr -d ' ')
	check_config "$dir/pasted-$key.out"
	is "$RC" 78 "the token pasted as $key: refused (exit 78)"
	like "$(cat "$dir/pasted-$key.out")" "^idwise-fcgi: $CONF:$line: $key: " \
	    "  naming file, line and key"
	is "$(grep -cF -- "$TOKEN" "$dir/pasted-$key.out")" 0 "  not the token" ||
	    diag "$(cat "$dir/pasted-$key.out")"
done
write_config "$dir" "bearer_token_file=$TOKEN" || bail "cannot write the config"
check_config "$dir/pasted-file.out"
is "$RC" 78 "the token pasted as bearer_token_file (no such file): refused (exit 78)"
is "$(grep -cF -- "$TOKEN" "$dir/pasted-file.out")" 0 "  not echoed as a path" ||
    diag "$(cat "$dir/pasted-file.out")"

# --- idwise-log reindex reads no secret file -----------------------------------------

write_config "$dir" || bail "cannot write the config"
# (LeakSanitizer cannot run under ptrace: in the ASan build, no leak check for this run.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -qq -e trace=open,openat -o "$dir/reindex.strace" \
    "${IDWISE_LOG:-$top_builddir/idwise-log}" reindex -c "$CONF" >"$dir/reindex.out" 2>&1
is "$?" 0 "idwise-log reindex rebuilds the index" || diag "$(cat "$dir/reindex.out")"
is "$(grep -c 'bearer_tokens' "$dir/reindex.strace")" 0 "  without opening the token file"

# --- dumpable ------------------------------------------------------------------------

dir=$TEST_TMP/dump
write_config "$dir" auth=none || bail "cannot write the config"
start_listener -a run-user -g '' plain "$CONF" || bail "idwise-fcgi did not start as $RUN_USER"
is "$(proc_owner plain)" 0 "as $RUN_USER: /proc/PID/status is root's (not dumpable)"
stop_listener plain
start_listener -a run-user -g '' allowed "$CONF" --allow-core-dumps ||
    bail "idwise-fcgi --allow-core-dumps did not start"
is "$(proc_owner allowed)" "$RUN_UID" "as $RUN_USER with --allow-core-dumps: dumpable"
stop_listener allowed
start_listener -g '' dropped "$CONF" || bail "idwise-fcgi --user did not start"
is "$(proc_owner dropped)" 0 "root, then --user $RUN_USER: not dumpable"
stop_listener dropped
start_listener -g '' dropped-allowed "$CONF" --allow-core-dumps ||
    bail "idwise-fcgi --user --allow-core-dumps did not start"
is "$(proc_owner dropped-allowed)" "$RUN_UID" \
    "root, then --user $RUN_USER with --allow-core-dumps: dumpable again after the drop"
stop_listener dropped-allowed
done_testing
