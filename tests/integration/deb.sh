#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/deb.sh: the Debian package, for real on this machine. It builds
# idwise-fcgi_VERSION_ARCH.deb from a copy of the source (dpkg-buildpackage -us -uc -b),
# runs lintian on it, installs it, checks what the install made (the user, the owners and
# modes, the units and their enabling, the token, key and shipper settings conditions,
# logrotate, the man pages),
# runs the installed binary as its unit says behind nginx with the installed snippet,
# sends every sample and checks they are stored, upgrades to a higher version, removes,
# purges (the log kept), purges again with IDWISE_FCGI_PURGE_LOGS=yes, and leaves the
# machine as it found it. Needs root; not in make check (it changes the machine):
# tests/run.sh runs it once, and make check TESTS=tests/integration/deb.sh alone.
# Without systemd as PID 1 the maintainer scripts start and stop nothing, so the units'
# commands are run here by hand (systemd-socket-activate, setpriv). Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || bail "needs root: it installs the package on this machine"
PKG=idwise-fcgi
CONF=/etc/idwise-fcgi.conf
SECRETS=/etc/idwise-fcgi
TOKEN_FILE=$SECRETS/bearer_token
STATE=/var/lib/idwise-fcgi
CKPT=/var/lib/idwise-checkpoint
LOG=$STATE/events.jsonl
DOC=/usr/share/doc/idwise-fcgi
UNITS=/lib/systemd/system
WANTS=/etc/systemd/system/sockets.target.wants/idwise-fcgi.socket
TIMER_WANTS=/etc/systemd/system/timers.target.wants/idwise-log-checkpoint.timer
SHIP_ETC=/etc/idwise-log-ship
SHIP_UNIT=idwise-log-ship@.service
# Every path the package or its scripts may leave behind.
PATHS=("$CONF" "$SECRETS" "$STATE" /etc/logrotate.d/idwise-fcgi "$DOC" /usr/bin/idwise-fcgi
    /usr/bin/idwise-log "$UNITS/idwise-fcgi.socket" "$UNITS/idwise-fcgi.socket.d" "$WANTS"
    "$CKPT" "$UNITS/idwise-log-checkpoint.timer" "$TIMER_WANTS" "$SHIP_ETC" "$UNITS/$SHIP_UNIT"
    "$UNITS/$SHIP_UNIT.d")

# --- the machine before, and after ----------------------------------------------------

# machine_state: what of the package is on this machine: dpkg's idea of it, the user and
# group, the overrides, the paths, systemd's enablings and deb-systemd-helper's records.
machine_state()
{
	dpkg-query -W -f '${db:Status-Abbrev} ${Version}\n' "$PKG" 2>/dev/null || echo "$PKG: unknown"
	getent passwd idwise || echo "no user idwise"
	getent group idwise || echo "no group idwise"
	dpkg-statoverride --list | grep idwise
	ls -ld "${PATHS[@]}" 2>&1
	find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
	    /var/lib/systemd/deb-systemd-helper-masked -name '*idwise*' 2>/dev/null | sort
}

if dpkg-query -W -f '${db:Status-Abbrev}' "$PKG" 2>/dev/null | grep -q '^[a-z]i' ||
    getent passwd idwise >/dev/null || [ -e "$CONF" ] || [ -e "$STATE" ] || [ -e "$CKPT" ] ||
    [ -e "$SHIP_ETC" ]; then
	bail "$PKG, the user idwise, $CONF, $STATE, $CKPT or $SHIP_ETC is on this machine already; this test" \
	    "would remove them (dpkg --purge $PKG; deluser --system idwise)"
fi
BEFORE=$(machine_state)

RESP_PID=
# clean_machine: everything this test may have left, gone (it made all of it: see above).
clean_machine()
{
	stop_child RESP_PID
	stop_nginx
	IDWISE_FCGI_PURGE_LOGS=yes dpkg --purge "$PKG" >>"$TEST_TMP/dpkg.log" 2>&1
	rm -rf "$STATE" "$SECRETS" "$CKPT" "$SHIP_ETC"
	if getent passwd idwise >/dev/null; then
		deluser --quiet --system idwise >>"$TEST_TMP/dpkg.log" 2>&1
	fi
	if getent group idwise >/dev/null; then
		delgroup --quiet --system idwise >>"$TEST_TMP/dpkg.log" 2>&1
	fi
	return 0
}
at_exit clean_machine

# --- the build ------------------------------------------------------------------------

# The source, copied without builds, git and the scratch directories (ours among them).
SRC=$TEST_TMP/src/$PKG
mkdir -p "$SRC"
tar -C "$top_srcdir" --exclude='./build*' --exclude=./.git --exclude=./autom4te.cache \
    --exclude='./tests/tmp.*' --exclude=./demo --exclude=./debian/build \
    --exclude=./debian/idwise-fcgi --exclude=./debian/.debhelper -cf - . |
    tar -C "$SRC" -xf - || bail "cannot copy the source"
# a tree configured in place cannot also be built out of it (debian/build)
[ ! -f "$SRC/config.status" ] || make -s -C "$SRC" distclean >/dev/null 2>&1

VERSION=$(cd "$SRC" && dpkg-parsechangelog -S Version)
ARCH=$(dpkg --print-architecture)
DEB=$TEST_TMP/src/${PKG}_${VERSION}_$ARCH.deb
UPSTREAM=$(sed -n 's/^AC_INIT(\[idwise-fcgi\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
is "$VERSION" "$UPSTREAM" "debian/changelog's version is configure.ac's ($UPSTREAM)"

start=$(now_ms)
# not as part of our make: its MAKEFLAGS would carry TESTS=... into the package's build
(cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKE -u top_srcdir -u top_builddir \
    DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) \
    >"$TEST_TMP/build.log" 2>&1
rc=$?
diag "dpkg-buildpackage took $(( ($(now_ms) - start) / 1000 )) s"
is "$rc" 0 "dpkg-buildpackage -us -uc -b succeeds" || diag "$(tail -n 30 "$TEST_TMP/build.log")"
ok "it made ${PKG}_${VERSION}_$ARCH.deb" test -s "$DEB" || bail "no package to test"
ok "its build ran the unit tests, and they passed" \
    grep -aqE '^# PASS: +[1-9]' "$TEST_TMP/build.log"
ok "  none failed" grep -aqE '^# FAIL: +0$' "$TEST_TMP/build.log"

lintian --fail-on error,warning "${DEB%.deb}.changes" >"$TEST_TMP/lintian.out" 2>&1
is "$?" 0 "lintian: no error and no warning" || diag "$(cat "$TEST_TMP/lintian.out")"

# --- the install ----------------------------------------------------------------------

dpkg -i "$DEB" >"$TEST_TMP/install.out" 2>&1
is "$?" 0 "dpkg -i installs it" || diag "$(cat "$TEST_TMP/install.out")"
like "$(cat "$TEST_TMP/install.out")" "put a token in $TOKEN_FILE" \
    "  and says where the token goes"
is "$(dpkg-query -W -f '${db:Status-Abbrev}${Version}' "$PKG")" "ii $VERSION" \
    "  dpkg has it installed"
is "$(/usr/bin/idwise-fcgi --version)" "idwise-fcgi $UPSTREAM" "  the installed program runs"

IFS=: read -r _ _ uid gid _ home shell < <(getent passwd idwise)
ok "the system user idwise (uid $uid, below 1000)" test -n "$uid" -a "${uid:-1000}" -lt 1000
is "$(getent group idwise | cut -d: -f3)" "$gid" "  with its own group idwise"
is "$home $shell" "$STATE /usr/sbin/nologin" "  home $STATE, no login shell"

mode_of()	# mode_of PATH: "owner group mode"
{
	stat -c '%U %G %a' "$1" 2>&1
}
is "$(mode_of "$CONF")" "root idwise 640" "$CONF: root:idwise 0640"
is "$(dpkg-statoverride --list "$CONF")" "root idwise 640 $CONF" \
    "  a dpkg-statoverride, so that upgrades keep it"
is "$(mode_of "$SECRETS")" "root idwise 750" "$SECRETS: root:idwise 0750"
is "$(mode_of "$TOKEN_FILE") $(stat -c %s "$TOKEN_FILE")" "root idwise 640 0" \
    "$TOKEN_FILE: made empty, root:idwise 0640"
is "$(mode_of "$STATE")" "idwise idwise 750" "$STATE: idwise:idwise 0750"
is "$(mode_of "$CKPT")" "idwise idwise 700" "$CKPT: idwise:idwise 0700"
is "$(mode_of "$SHIP_ETC") $(find "$SHIP_ETC" -mindepth 1 2>&1 | wc -l)" "root idwise 750 0" \
    "$SHIP_ETC: root:idwise 0750, empty (the shipper's settings are the operator's)"
is "$(grep -E '^(log|auth|bearer_token_file) = ' "$CONF" | paste -sd ' ')" \
    "log = $LOG auth = bearer bearer_token_file = $TOKEN_FILE" \
    "the config logs to $LOG, with bearer tokens from $TOKEN_FILE"

# the units: installed, the socket enabled as deb-systemd-helper does, and valid
for u in idwise-fcgi.socket idwise-fcgi.service idwise-fcgi@.socket idwise-fcgi@.service \
    idwise-log-checkpoint.timer idwise-log-checkpoint.service "$SHIP_UNIT"; do
	ok "$UNITS/$u is installed" test -f "$UNITS/$u"
done
is "$(readlink "$WANTS")" "$UNITS/idwise-fcgi.socket" \
    "idwise-fcgi.socket is enabled (sockets.target wants it)"
ok "  idwise-fcgi.service is started by it, not enabled alone" \
    test ! -e /etc/systemd/system/multi-user.target.wants/idwise-fcgi.service
is "$(readlink "$TIMER_WANTS")" "$UNITS/idwise-log-checkpoint.timer" \
    "idwise-log-checkpoint.timer is enabled (timers.target wants it)"
ok "  the shipper's template is enabled for no instance" \
    test -z "$(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
        -name 'idwise-log-ship@*' 2>/dev/null)"
out=$(systemd-analyze verify idwise-fcgi.socket idwise-fcgi.service \
    idwise-log-checkpoint.timer idwise-log-checkpoint.service idwise-log-ship@deb.service 2>&1)
is "$?/$out" "0/" \
    "systemd-analyze verify: the installed socket, services, timer and shipper (@deb) are clean"
DROPIN=$UNITS/idwise-fcgi.socket.d/token.conf
mapfile -t CONDITIONS < <(grep -E '^Condition' "$DROPIN")
is "${CONDITIONS[*]}" "ConditionFileNotEmpty=$TOKEN_FILE" \
    "the socket's drop-in makes it wait for a token in $TOKEN_FILE"
conditions_hold()	# conditions_hold CONDITION...: systemd-analyze condition says they do
{
	systemd-analyze condition "$@" >/dev/null 2>&1
}
ok "  which fails while the file is empty: the socket does not start" \
    not conditions_hold "${CONDITIONS[@]}"
mapfile -t KEY_CONDITIONS < <(grep -E '^Condition' "$UNITS/idwise-log-checkpoint.timer.d/key.conf")
is "${KEY_CONDITIONS[*]}" "ConditionPathExists=$CKPT/checkpoint.key" \
    "the timer's drop-in makes it wait for a signing key"
ok "  which fails without one: the timer does not start" not conditions_hold "${KEY_CONDITIONS[@]}"
SHIP_DROPIN=$UNITS/$SHIP_UNIT.d/settings.conf
mapfile -t SHIP_CONDITIONS < <(grep -E '^Condition' "$SHIP_DROPIN" 2>&1)
is "${SHIP_CONDITIONS[*]}" "ConditionFileNotEmpty=$SHIP_ETC/%i.env" \
    "the shipper's drop-in makes an instance wait for its settings, $SHIP_ETC/NAME.env"
# systemd-analyze condition expands %i to nothing: the instance deb's by hand
SHIP_CONDITIONS=("${SHIP_CONDITIONS[@]//%i/deb}")
ok "  which fails while $SHIP_ETC/deb.env is missing: no failure loop" \
    not conditions_hold "${SHIP_CONDITIONS[@]}"
: >"$SHIP_ETC/deb.env"
ok "  or empty" not conditions_hold "${SHIP_CONDITIONS[@]}"
printf 'NATS_URLS=nats://127.0.0.1:4222\nSHIP_LOG=%s\n' "$LOG" >"$SHIP_ETC/deb.env"
ok "  and holds once it names the servers" conditions_hold "${SHIP_CONDITIONS[@]}"
rm -f "$SHIP_ETC/deb.env"

# what the unit runs, as the unit runs it
unit_value()	# unit_value KEY [UNIT]: its value in the installed unit (idwise-fcgi.service)
{
	awk '{ if (sub(/\\$/, "")) { line = line $0; next } print line $0; line = "" }' \
	    "$UNITS/${2:-idwise-fcgi.service}" | sed -n "s/^$1=//p"
}
read -r -a START_PRE <<<"$(unit_value ExecStartPre)"
read -r -a START <<<"$(unit_value ExecStart)"
is "$(unit_value User):$(unit_value Group)" idwise:idwise "the service runs as idwise:idwise"
as_idwise()
{
	setpriv --reuid=idwise --regid=idwise --init-groups -- "$@"
}
as_idwise "${START_PRE[@]}" >"$TEST_TMP/check.out" 2>&1
is "$?" 78 "its ExecStartPre (--check-config) refuses to start without a token" ||
    diag "$(cat "$TEST_TMP/check.out")"
like "$(cat "$TEST_TMP/check.out")" "$TOKEN_FILE" "  naming the token file"

logrotate -d -s "$TEST_TMP/logrotate.state" /etc/logrotate.d/idwise-fcgi \
    >"$TEST_TMP/logrotate.out" 2>&1
is "$?" 0 "logrotate reads /etc/logrotate.d/idwise-fcgi (a dry run)" ||
    diag "$(tail -n 5 "$TEST_TMP/logrotate.out")"
like "$(cat "$TEST_TMP/logrotate.out")" "rotating pattern: $LOG" "  for $LOG"
for page in idwise-fcgi.8 idwise-fcgi.conf.5 idwise-events.5 idwise-log.1; do
	is "$(man -w "${page##*.}" "${page%.*}" 2>&1)" "/usr/share/man/man${page##*.}/$page.gz" \
	    "man ${page##*.} ${page%.*} finds the installed page"
done
for f in nginx/idwise-fcgi.conf systemd/idwise-fcgi.service idwise-fcgi.conf.example \
    monitoring/idwise-fcgi.rules.yml monitoring/idwise-fcgi.rules.test.yml \
    monitoring/idwise-fcgi.rules.week.test.yml monitoring/idwise-fcgi.dashboard.json; do
	ok "$DOC/$f is installed, not compressed" test -f "$DOC/$f"
done
# Read, not used as a file: dh_compress may compress it once it grows past 4 KB.
ok "$DOC/README.Debian is installed" test -f "$DOC/README.Debian" -o -f "$DOC/README.Debian.gz"
ok "the installed rules pass their installed unit tests (promtool test rules)" \
    quiet promtool test rules "$DOC/monitoring/idwise-fcgi.rules.test.yml" \
    "$DOC/monitoring/idwise-fcgi.rules.week.test.yml"
ok "the snippet passes to the socket the socket unit makes" \
    grep -qF "fastcgi_pass unix:$(sed -n 's/^ListenStream=//p' "$UNITS/idwise-fcgi.socket");" \
    "$DOC/nginx/idwise-fcgi.conf"

# --- a token, then the samples through nginx to the installed binary -------------------

printf '%s\n' "$TOKEN" >"$TOKEN_FILE"
is "$(mode_of "$TOKEN_FILE")" "root idwise 640" "writing the token keeps the file's owner and mode"
ok "the socket's condition holds now" conditions_hold "${CONDITIONS[@]}"
as_idwise "${START_PRE[@]}" >"$TEST_TMP/check.out" 2>&1
is "$?" 0 "with a token, --check-config passes as the unit runs it, as idwise" ||
    diag "$(cat "$TEST_TMP/check.out")"

SOCK=$SOCK_DIR/deb.sock
# start_installed: the service's ExecStart as idwise, with a socket passed as systemd does
# (LISTEN_FDS); systemd-socket-activate execs setpriv, which execs idwise-fcgi.
start_installed()
{
	rm -f "$SOCK"
	(umask 0027 && exec systemd-socket-activate -l "$SOCK" setpriv --reuid=idwise \
	    --regid=idwise --init-groups -- "${START[@]}") 2>>"$TEST_TMP/responder.stderr" &
	RESP_PID=$!
	wait_for test -S "$SOCK"
}
ok "the installed idwise-fcgi starts on a passed socket, as the unit has it" start_installed
NGINX_SNIPPET_DIR=$DOC/nginx
start_nginx "$SOCK" || bail "nginx did not start with $DOC/nginx/idwise-fcgi.conf"
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
seq=0
post_samples -p 'through nginx: ' sample_stored live
SAMPLE_COUNT=$seq
is "$(awk '/^Uid:/ { print $2 }' "/proc/$RESP_PID/status") $(cat "/proc/$RESP_PID/comm")" \
    "$uid idwise-fcgi" "  served by idwise-fcgi, as idwise"
is "$(log_count "$LOG")" "$SAMPLE_COUNT" "$LOG holds the $SAMPLE_COUNT samples"
is "$(mode_of "$LOG")" "idwise idwise 640" "  idwise:idwise 0640"
as_idwise /usr/bin/idwise-log verify "$LOG" >"$TEST_TMP/verify.out" 2>&1
is "$?" 0 "the installed idwise-log verifies the chain" || diag "$(cat "$TEST_TMP/verify.out")"

# the checkpoint service as its unit runs it, once there is a key
as_idwise /usr/bin/idwise-log keygen --name deb.test/idwise "$CKPT/checkpoint.key" \
    >"$TEST_TMP/keygen.out" 2>&1
is "$?" 0 "idwise makes a signing key in $CKPT" || diag "$(cat "$TEST_TMP/keygen.out")"
ok "  the timer's condition holds now" conditions_hold "${KEY_CONDITIONS[@]}"
read -r -a CHECKPOINT <<<"$(unit_value ExecStart idwise-log-checkpoint.service)"
is "$(unit_value User idwise-log-checkpoint.service)" idwise "the checkpoint service runs as idwise"
as_idwise "${CHECKPOINT[@]}" >"$TEST_TMP/checkpoint.out" 2>&1
is "$?" 0 "its ExecStart signs a checkpoint of the log" || diag "$(cat "$TEST_TMP/checkpoint.out")"
is "$(head -n 2 "$CKPT/checkpoint" 2>&1 | paste -sd ' ')" "deb.test/idwise $SAMPLE_COUNT" \
    "  of the $SAMPLE_COUNT records"

# --- upgrade --------------------------------------------------------------------------

# The operator's edit of the config must survive; a higher version of the same build.
printf 'allow_from = 127.0.0.1, ::1\n' >>"$CONF"
NEW_VERSION=$VERSION+test1
NEW_DEB=$TEST_TMP/${PKG}_${NEW_VERSION}_$ARCH.deb
rm -rf "$TEST_TMP/repack"
dpkg-deb -R "$DEB" "$TEST_TMP/repack" &&
    sed -i "s/^Version: .*/Version: $NEW_VERSION/" "$TEST_TMP/repack/DEBIAN/control" &&
    dpkg-deb --root-owner-group -b "$TEST_TMP/repack" "$NEW_DEB" >/dev/null ||
    bail "cannot make the package of version $NEW_VERSION"
dpkg -i "$NEW_DEB" </dev/null >"$TEST_TMP/upgrade.out" 2>&1
is "$?" 0 "dpkg -i upgrades $VERSION to $NEW_VERSION" || diag "$(cat "$TEST_TMP/upgrade.out")"
is "$(dpkg-query -W -f '${Version}' "$PKG")" "$NEW_VERSION" "  dpkg has $NEW_VERSION"
ok "  the operator's edit of the config is kept" grep -qx 'allow_from = 127.0.0.1, ::1' "$CONF"
is "$(mode_of "$CONF")" "root idwise 640" "  still root:idwise 0640"
is "$(cat "$TOKEN_FILE")" "$TOKEN" "  the token is kept"
is "$(log_count "$LOG")" "$SAMPLE_COUNT" "  the log is kept"
post_string "$(step_event deb-during-upgrade)"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$((SAMPLE_COUNT + 1))}" \
    "  the running responder still answers"
# what the postinst's try-restart does under systemd
stop_child RESP_PID
ok "the new version's idwise-fcgi starts" start_installed
post_string "$(step_event deb-after-upgrade)"
reply_is 200 "{\"status\":\"accepted\",\"seq\":$((SAMPLE_COUNT + 2))}" \
    "  and goes on with the chain"
dpkg -i "$NEW_DEB" </dev/null >"$TEST_TMP/reinstall.out" 2>&1
is "$?" 0 "dpkg -i of the same version again (a reinstall) succeeds" ||
    diag "$(cat "$TEST_TMP/reinstall.out")"
stop_child RESP_PID
stop_nginx

# --- remove, purge --------------------------------------------------------------------

dpkg -r "$PKG" >"$TEST_TMP/remove.out" 2>&1
is "$?" 0 "dpkg -r removes it" || diag "$(cat "$TEST_TMP/remove.out")"
is "$(dpkg-query -W -f '${db:Status-Abbrev}' "$PKG")" "rc " "  its config files stay"
ok "  the programs and units are gone" test ! -e /usr/bin/idwise-fcgi -a ! -e "$UNITS/$SHIP_UNIT" -a \
    ! -e "$UNITS/idwise-fcgi.socket" -a ! -e "$DOC"
kept_after_remove()
{
	grep -qx 'allow_from = 127.0.0.1, ::1' "$CONF" && test -s "$TOKEN_FILE" -a -s "$LOG"
}
ok "  the config, the token and the log stay" kept_after_remove

dpkg --purge "$PKG" >"$TEST_TMP/purge.out" 2>&1
is "$?" 0 "dpkg --purge purges it" || diag "$(cat "$TEST_TMP/purge.out")"
ok "  dpkg knows it no more" not quiet dpkg-query -W -f '${db:Status-Abbrev}' "$PKG"
ok "  the config, $SECRETS, $SHIP_ETC and the logrotate file are gone" \
    test ! -e "$CONF" -a ! -e "$SECRETS" -a ! -e "$SHIP_ETC" -a ! -e /etc/logrotate.d/idwise-fcgi
is "$(dpkg-statoverride --list | grep -c idwise)" 0 "  and the override"
ok "  and the socket's and the timer's enablings" test ! -L "$WANTS" -a ! -L "$TIMER_WANTS"
is "$(log_count "$LOG")" "$((SAMPLE_COUNT + 2))" "  the event log is kept, with every record"
ok "  and the signing key and the checkpoint" test -s "$CKPT/checkpoint.key" -a -s "$CKPT/checkpoint"
like "$(cat "$TEST_TMP/purge.out")" "kept the event log in $STATE" "  and it says so"
ok "  the user idwise stays, who owns it" quiet getent passwd idwise

dpkg -i "$NEW_DEB" >"$TEST_TMP/again.out" 2>&1
is "$?" 0 "installed again over the kept log" || diag "$(cat "$TEST_TMP/again.out")"
is "$(mode_of "$STATE") $(log_count "$LOG")" "idwise idwise 750 $((SAMPLE_COUNT + 2))" \
    "  which it leaves as it was"
IDWISE_FCGI_PURGE_LOGS=yes dpkg --purge "$PKG" >"$TEST_TMP/purge2.out" 2>&1
is "$?" 0 "IDWISE_FCGI_PURGE_LOGS=yes dpkg --purge" || diag "$(cat "$TEST_TMP/purge2.out")"
ok "  removes the event log and the checkpoints too" test ! -e "$STATE" -a ! -e "$CKPT"

# --- the machine as before ------------------------------------------------------------

clean_machine
is "$(machine_state)" "$BEFORE" "the machine is as it was before the test (user deleted)"

done_testing
