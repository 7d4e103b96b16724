#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/install.sh: make install DESTDIR=... from the build tree: the exact list
# of files, the configured paths in them, nothing written outside DESTDIR; the installed
# program, example config, man pages, systemd units (systemd-analyze verify and security),
# Apache configuration and logrotate configuration each checked with the real tool; make
# uninstall. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

DEST=$TEST_TMP/dest
# make_in_build TARGET [VAR=value...]: make in the build tree, not as part of our make.
make_in_build()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$top_builddir" "$@" \
	    >>"$TEST_TMP/make.log" 2>&1
}

# The configured directories, as make sees them.
mkvar()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$top_builddir" \
	    --no-print-directory -f Makefile -f - print-var VAR="$1" <<'EOF'
print-var:
	@echo $($(VAR))
EOF
}
BINDIR=$(mkvar bindir)
SYSCONFDIR=$(mkvar sysconfdir)
LOCALSTATEDIR=$(mkvar localstatedir)
DOCDIR=$(mkvar docdir)
MANDIR=$(mkvar mandir)
diag "bindir $BINDIR, sysconfdir $SYSCONFDIR, docdir $DOCDIR, mandir $MANDIR"
[ -n "$BINDIR" ] && [ -n "$DOCDIR" ] && [ -n "$MANDIR" ] || bail "cannot read the directories"

# The real bindir's program, before: DESTDIR must leave it alone.
real_state()
{
	stat -c '%i %Y' "$BINDIR/idwise-fcgi" 2>/dev/null || echo absent
}
before=$(real_state)

ok "make install DESTDIR=... succeeds" make_in_build install "DESTDIR=$DEST" ||
    diag "$(tail -n 20 "$TEST_TMP/make.log")"

EXPECTED=(
	"$BINDIR/idwise-fcgi"
	"$MANDIR/man8/idwise-fcgi.8"
	"$MANDIR/man5/idwise-fcgi.conf.5"
	"$MANDIR/man5/idwise-events.5"
	"$MANDIR/man5/idwise-proofs.5"
	"$DOCDIR/README.md"
	"$DOCDIR/LICENSE"
	"$DOCDIR/idwise-verify-proof.py"
	"$DOCDIR/idwise-fcgi.conf.example"
	"$DOCDIR/nginx/idwise-fcgi.conf"
	"$DOCDIR/nginx/idwise-fcgi-live-sandbox.conf"
	"$DOCDIR/nginx/idwise-fcgi-keepalive.conf"
	"$DOCDIR/nginx/idwise-fcgi-upstream.conf"
	"$DOCDIR/systemd/idwise-fcgi.socket"
	"$DOCDIR/systemd/idwise-fcgi.service"
	"$DOCDIR/systemd/idwise-fcgi@.socket"
	"$DOCDIR/systemd/idwise-fcgi@.service"
	"$DOCDIR/systemd/idwise-log-ship@.service"
	"$DOCDIR/systemd/idwise-log-checkpoint.service"
	"$DOCDIR/systemd/idwise-log-checkpoint.timer"
	"$DOCDIR/apache/idwise-fcgi.conf"
	"$DOCDIR/apache/idwise-fcgi-proxy.conf"
	"$DOCDIR/lighttpd/idwise-fcgi.conf"
	"$DOCDIR/h2o/idwise-fcgi.conf"
	"$DOCDIR/caddy/idwise-fcgi.caddy"
	"$DOCDIR/logrotate/idwise-fcgi"
	"$DOCDIR/monitoring/idwise-fcgi.rules.yml"
	"$DOCDIR/monitoring/idwise-fcgi.rules.test.yml"
	"$DOCDIR/monitoring/idwise-fcgi.rules.week.test.yml"
	"$DOCDIR/monitoring/idwise-fcgi.dashboard.json"
)
# The consumer's tool, once it is built here, comes with its man page.
if [ -x "$top_builddir/idwise-log" ]; then
	EXPECTED+=("$BINDIR/idwise-log" "$MANDIR/man1/idwise-log.1")
fi
is "$(cd "$DEST" && find . ! -type d | sed 's|^\.||' | sort)" \
    "$(printf '%s\n' "${EXPECTED[@]}" | sort)" "the installed files are exactly the expected ones"
is "$(real_state)" "$before" "nothing was written to the real $BINDIR"
ok "nothing was installed in sysconfdir (no existing /etc file can be overwritten)" \
    test ! -e "$DEST$SYSCONFDIR"
is "$(stat -c %a "$DEST$BINDIR/idwise-fcgi")" 755 "the program is mode 0755"
like "$("$DEST$BINDIR/idwise-fcgi" --version)" '^idwise-fcgi [0-9]+\.[0-9]+' \
    "the installed program runs"
ok "no @...@ placeholder is left in an installed file" \
    not grep -rlE '@(bindir|sysconfdir|localstatedir|docdir)@' "$DEST"

D=$DEST$DOCDIR
ok "the service runs $BINDIR/idwise-fcgi -c $SYSCONFDIR/idwise-fcgi.conf" \
    grep -qxF "ExecStart=$BINDIR/idwise-fcgi -c $SYSCONFDIR/idwise-fcgi.conf --threads 4" \
    "$D/systemd/idwise-fcgi.service"
ok "the Apache configuration runs $BINDIR/idwise-fcgi" \
    grep -qxF "Alias /idwise/webhook $BINDIR/idwise-fcgi" "$D/apache/idwise-fcgi.conf"
ok "  with IDWISE_FCGI_CONFIG $SYSCONFDIR/idwise-fcgi.conf" \
    grep -qxF "FcgidInitialEnv IDWISE_FCGI_CONFIG $SYSCONFDIR/idwise-fcgi.conf" \
    "$D/apache/idwise-fcgi.conf"
ok "the man page names the default config $SYSCONFDIR/idwise-fcgi.conf" \
    grep -qF "$SYSCONFDIR/idwise-fcgi.conf" "$DEST$MANDIR/man8/idwise-fcgi.8"
for f in LICENSE nginx/idwise-fcgi.conf nginx/idwise-fcgi-live-sandbox.conf \
    nginx/idwise-fcgi-keepalive.conf nginx/idwise-fcgi-upstream.conf \
    systemd/idwise-fcgi.socket systemd/idwise-fcgi@.socket apache/idwise-fcgi-proxy.conf \
    lighttpd/idwise-fcgi.conf h2o/idwise-fcgi.conf caddy/idwise-fcgi.caddy \
    monitoring/idwise-fcgi.rules.yml monitoring/idwise-fcgi.rules.test.yml \
    monitoring/idwise-fcgi.rules.week.test.yml monitoring/idwise-fcgi.dashboard.json; do
	src=$top_srcdir/$f
	ok "$f is the source's" cmp -s "$src" "$D/$f"
done

# --- the man pages: groff reads them without a warning --------------------------------
for m in man8/idwise-fcgi.8 man5/idwise-fcgi.conf.5 man5/idwise-events.5; do
	out=$(groff -mdoc -Tutf8 -ww -Wbreak -z "$DEST$MANDIR/$m" 2>&1)
	is "$out" "" "$m: groff -mdoc -ww finds nothing to warn about (long lines aside)"
	like "$(groff -mdoc -Tutf8 "$DEST$MANDIR/$m" 2>/dev/null | sed "s/.\x08//g")" 'SYNOPSIS|DESCRIPTION' \
	    "$m: renders"
done

# --- the example config: valid once its secret exists -----------------------------------
EX=$TEST_TMP/example
mkdir -p "$EX/secrets" && give_to_responder "$EX"
sed -e "s|^log = .*|log = $EX/events.jsonl|" \
    -e "s|^bearer_token_file = .*|bearer_token_file = $EX/secrets/bearer_token|" \
    "$D/idwise-fcgi.conf.example" >"$EX/idwise-fcgi.conf"
write_secret "$EX/secrets/bearer_token" "$TOKEN"
"$DEST$BINDIR/idwise-fcgi" -c "$EX/idwise-fcgi.conf" --check-config >"$TEST_TMP/ex.out" 2>&1
is "$?" 0 "the example config passes --check-config (with its log and token moved here)" ||
    diag "$(cat "$TEST_TMP/ex.out")"
is "$(grep -cE '^(log|env|auth|bearer_token_file|max_body|unknown_events|sync) = ' \
    "$D/idwise-fcgi.conf.example")" 7 "  it sets log, env, auth, the token file and the defaults"

# --- the systemd units ----------------------------------------------------------------
# systemd-analyze verify checks the syntax, that the programs exist and the man pages
# named in Documentation= are there; it exits 0 on warnings, so its output must be empty.
UNITS=$TEST_TMP/units
mkdir -p "$UNITS"
for f in "$D"/systemd/*; do
	sed -e "s|$BINDIR/idwise-fcgi|$DEST$BINDIR/idwise-fcgi|g" \
	    -e "s|$BINDIR/idwise-log|$DEST$BINDIR/idwise-log|g" "$f" >"$UNITS/$(basename "$f")"
done
out=$(cd "$UNITS" && MANPATH=$DEST$MANDIR systemd-analyze verify ./idwise-fcgi.socket \
    ./idwise-fcgi.service ./idwise-fcgi@live.socket ./idwise-fcgi@live.service 2>&1)
is "$?/$out" "0/" "systemd-analyze verify: the socket, the service and their templates are clean"
out=$(cd "$UNITS" && MANPATH=$DEST$MANDIR systemd-analyze verify ./idwise-log-checkpoint.timer \
    ./idwise-log-checkpoint.service 2>&1)
is "$?/$out" "0/" "systemd-analyze verify: the checkpoint timer and its service are clean"
for u in idwise-fcgi.service idwise-fcgi@live.service; do
	score=$(cd "$UNITS" && systemd-analyze security --offline=true "./$u" 2>/dev/null |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
	diag "$u: exposure $score"
	ok "$u: systemd-analyze security rates its exposure 1.0 or less (SAFE)" \
	    awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 1.0) }'
done
for k in 'User=idwise' 'StandardInput=socket' 'ProtectSystem=strict' \
    'ReadWritePaths=/var/lib/idwise-fcgi' 'NoNewPrivileges=yes' 'PrivateTmp=yes' \
    'ProtectHome=yes' 'RestrictAddressFamilies=AF_UNIX' 'SystemCallFilter=@system-service' \
    'MemoryDenyWriteExecute=yes' 'LockPersonality=yes' 'CapabilityBoundingSet='; do
	ok "idwise-fcgi.service has $k" grep -qxF "$k" "$D/systemd/idwise-fcgi.service"
done
is "$(grep '^ExecReload=' "$D/systemd/idwise-fcgi.service")" \
    "ExecReload=$BINDIR/idwise-fcgi -c $SYSCONFDIR/idwise-fcgi.conf --check-config
ExecReload=/bin/kill -HUP \$MAINPID" \
    "idwise-fcgi.service: systemctl reload checks the config, then sends SIGHUP"
for k in 'ListenStream=/run/idwise-fcgi/idwise-fcgi.sock' 'SocketUser=idwise' \
    'SocketGroup=www-data' 'SocketMode=0660'; do
	ok "idwise-fcgi.socket has $k" grep -qxF "$k" "$D/systemd/idwise-fcgi.socket"
done
ok "the socket is the one nginx/idwise-fcgi.conf passes to" \
    grep -qF 'fastcgi_pass unix:/run/idwise-fcgi/idwise-fcgi.sock;' "$D/nginx/idwise-fcgi.conf"

# The shipper's template (when idwise-log is built): clean, and as confined as a service
# that must reach the network can be.
if [ -x "$top_builddir/idwise-log" ]; then
	out=$(cd "$UNITS" && MANPATH=$DEST$MANDIR systemd-analyze verify \
	    ./idwise-log-ship@live.service 2>&1)
	is "$?/$out" "0/" "systemd-analyze verify: idwise-log-ship@.service is clean"
	score=$(cd "$UNITS" && systemd-analyze security --offline=true \
	    ./idwise-log-ship@live.service 2>/dev/null |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
	diag "idwise-log-ship@live.service: exposure $score"
	ok "idwise-log-ship@live.service: exposure 2.0 or less (it needs AF_INET for NATS)" \
	    awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 2.0) }'
	ok "  it runs $BINDIR/idwise-log ship" \
	    grep -qE "^ExecStart=$BINDIR/idwise-log ship " "$D/systemd/idwise-log-ship@.service"
fi

# The template is the single service with %i: their settings stay alike.
settings()	# settings UNIT: its settings, instance names made generic
{
	grep -vE '^[[:space:]]*(#|$)' "$1" | sed -e 's|@%i|@|g' -e 's|/%i\.conf|.conf|' \
	    -e 's|idwise-fcgi/%i|idwise-fcgi|g' -e 's|idwise-fcgi\.|idwise-fcgi@.|g' \
	    -e 's| (FastCGI, %i)| (FastCGI)|' -e 's|/idwise-fcgi/idwise-fcgi@\.conf|/idwise-fcgi.conf|g'
}
is "$(diff <(settings "$D/systemd/idwise-fcgi.service") <(settings "$D/systemd/idwise-fcgi@.service"))" \
    "" "idwise-fcgi@.service has the same settings as idwise-fcgi.service but for %i"

# --- the Apache configuration: apache2 -t accepts it in a virtual host -----------------
mkdir -p "$TEST_TMP/ap/run"
cat >"$TEST_TMP/ap/httpd.conf" <<EOF
ServerRoot "$TEST_TMP/ap"
ServerName localhost
Listen 127.0.0.1:$(free_port)
PidFile "$TEST_TMP/ap/run/httpd.pid"
ErrorLog "$TEST_TMP/ap/error.log"
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so
LoadModule fcgid_module /usr/lib/apache2/modules/mod_fcgid.so
<VirtualHost *>
    Include "$D/apache/idwise-fcgi.conf"
</VirtualHost>
EOF
out=$(apache2 -t -f "$TEST_TMP/ap/httpd.conf" 2>&1)
is "$out" "Syntax OK" "apache2 -t: the installed Apache configuration is valid in a virtual host"

# --- logrotate: the installed config rotates a log, and appends go on in the new file ---
LR=$TEST_TMP/lr
write_config "$LR" sync=none
sed -e "s|^$LOCALSTATEDIR/lib/idwise-fcgi/events.jsonl {|$LOG {|" \
    -e "s|idwise idwise|${RUN_USER:-$(id -un)} $(id -gn "${RUN_USER:-$(id -un)}")|g" \
    "$D/logrotate/idwise-fcgi" >"$LR/logrotate.conf"
ok "the logrotate config names the default log" \
    grep -qF "$LOCALSTATEDIR/lib/idwise-fcgi/events.jsonl {" "$D/logrotate/idwise-fcgi"
ok "  and never copytruncate" not grep -qE '^[[:space:]]*copytruncate' "$D/logrotate/idwise-fcgi"
lr_post()	# lr_post ID
{
	printf '{"event":"Finished Step","body":{"eventId":"%s","journeyId":"j","stepId":"1"}}' \
	    "$1" >"$LR/$1.json"
	cgi_run "$CONF" "$LR/$1.json" REQUEST_METHOD=POST \
	    "CONTENT_LENGTH=$(wc -c <"$LR/$1.json")" REMOTE_ADDR=127.0.0.1 \
	    "HTTP_AUTHORIZATION=Bearer $TOKEN"
}
lr_post lr-1
reply_is 200 '{"status":"accepted","seq":1}' "a first record before rotation"
logrotate -f -s "$LR/state" "$LR/logrotate.conf" >"$TEST_TMP/logrotate.out" 2>&1
is "$?" 0 "logrotate -f with the installed config (path and user set for the test)" ||
    diag "$(cat "$TEST_TMP/logrotate.out")"
rotated=$(ls "$LR"/events.jsonl-* 2>/dev/null)
like "$rotated" "events\.jsonl-[0-9]{8}$" "  renamed the log with a date"
ok "  and made no new file (nocreate: the writer makes it)" test ! -e "$LOG"
lr_post lr-2
reply_is 200 '{"status":"accepted","seq":2}' "the next delivery goes on with seq 2"
is "$(stat -c '%a %U' "$LOG" 2>/dev/null)" "640 ${RUN_USER:-$(id -un)}" \
    "  in a new file, mode 0640, the responder's"
ok "  chained to the rotated one" check_chain "$rotated" "$LOG"

# --- make uninstall ----------------------------------------------------------------------
ok "make uninstall DESTDIR=... succeeds" make_in_build uninstall "DESTDIR=$DEST"
is "$(cd "$DEST" && find . ! -type d | wc -l)" 0 "  and leaves no file behind"
done_testing
