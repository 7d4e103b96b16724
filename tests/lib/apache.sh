# SPDX-License-Identifier: ISC
# tests/lib/apache.sh: Apache 2.4 with mod_fcgid on a loopback port, one virtual host per
# config, with the operator's apache/idwise-fcgi.conf.in (start_apache, stop_apache,
# fcgid_pids; apache_launch and apache_fill for other configs, as tests/lib-proxy.sh's);
# sourced by tests/lib.sh.
# shellcheck shell=bash

APACHE_DIR=$TEST_TMP/apache
APACHE_PID=
APACHE_PORT=
APACHE_USER=		# the children's account: www-data when the tests run as root
[ "$(id -u)" -eq 0 ] && APACHE_USER=www-data
APACHE_SNIPPET=apache/idwise-fcgi.conf.in
APACHE_SNIPPET_PROGRAM='@bindir@/idwise-fcgi'
APACHE_SNIPPET_CONFIG='@sysconfdir@/idwise-fcgi.conf'
declare -A APACHE_EDIT=()	# NAME -> a sed script applied to that host's copy of the snippet

# apache_vhost NAME CONF: a name-based virtual host NAME.test including the operator's
# snippet with the program and IDWISE_FCGI_CONFIG replaced by $IDWISE_FCGI and CONF (and
# APACHE_EDIT[NAME] applied).
apache_vhost()
{
	local name=$1 conf=$2 snippet=$APACHE_DIR/idwise-fcgi-$1.conf
	grep -qF "Alias /idwise/webhook $APACHE_SNIPPET_PROGRAM" "$top_srcdir/$APACHE_SNIPPET" &&
	    grep -qF "FcgidInitialEnv IDWISE_FCGI_CONFIG $APACHE_SNIPPET_CONFIG" \
	    "$top_srcdir/$APACHE_SNIPPET" ||
	    { diag "$APACHE_SNIPPET lacks the Alias or FcgidInitialEnv line"; return 1; }
	sed -e "s|$APACHE_SNIPPET_PROGRAM|$IDWISE_FCGI|" -e "s|$APACHE_SNIPPET_CONFIG|$conf|" \
	    -e "${APACHE_EDIT[$name]:-}" "$top_srcdir/$APACHE_SNIPPET" >"$snippet" || return 1
	printf '<VirtualHost 127.0.0.1:%s>\n    ServerName %s.test\n    Include "%s"\n</VirtualHost>\n' \
	    "$APACHE_PORT" "$name" "$snippet"
}

# apache_config NAME=CONF...: $APACHE_DIR/httpd.conf, one virtual host per NAME (the first
# is the default).
apache_config()
{
	local pair vhosts
	mkdir -p "$APACHE_DIR" || return 1
	vhosts=$(for pair in "$@"; do apache_vhost "${pair%%=*}" "${pair#*=}" || exit 1; done) ||
	    return 1
	apache_fill apache.conf.in "$vhosts"
}

# apache_fill TEMPLATE [VHOSTS [SNIPPET]]: $APACHE_DIR/httpd.conf from tests/TEMPLATE, its
# line @USER@ made User and Group APACHE_USER, its line @VHOSTS@ made VHOSTS, and @DIR@,
# @PORT@ and @SNIPPET@ replaced by APACHE_DIR, APACHE_PORT and SNIPPET.
apache_fill()
{
	local user=
	mkdir -p "$APACHE_DIR/run" "$APACHE_DIR/htdocs" || return 1
	[ -z "$APACHE_USER" ] || user="User $APACHE_USER"$'\n'"Group $APACHE_USER"
	awk -v dir="$APACHE_DIR" -v port="$APACHE_PORT" -v user="$user" -v vhosts="${2:-}" \
	    -v snippet="${3:-}" '
		/^@USER@$/ { print user; next }
		/^@VHOSTS@$/ { print vhosts; next }
		{ gsub(/@DIR@/, dir); gsub(/@PORT@/, port); gsub(/@SNIPPET@/, snippet); print }' \
	    "$top_srcdir/tests/$1" >"$APACHE_DIR/httpd.conf"
}

# start_apache NAME=CONF...: Apache 2.4 with mod_fcgid on 127.0.0.1 at a free port, in the
# foreground of a background job, its children as APACHE_USER. Sets APACHE_PORT.
start_apache()
{
	apache_launch apache_config "$@"
}

# apache_launch CONFIG-CMD [ARG...]: Apache on 127.0.0.1 at a free port (APACHE_PORT) with
# the httpd.conf that CONFIG-CMD ARG... writes in $APACHE_DIR for that port; another port
# when that one was taken meanwhile.
apache_launch()
{
	local try
	[ -z "$APACHE_PID" ] || bail "Apache is already running"
	for ((try = 0; try < 5; try++)); do
		APACHE_PORT=$(free_port) || bail "no free port"
		"$@" || bail "cannot write the Apache config"
		apache2 -t -f "$APACHE_DIR/httpd.conf" >"$APACHE_DIR/configtest" 2>&1 ||
		    { diag "apache2 -t:" "$(cat "$APACHE_DIR/configtest")"; return 1; }
		rm -f "$APACHE_DIR/run/httpd.pid"
		apache2 -f "$APACHE_DIR/httpd.conf" -DFOREGROUND 2>>"$APACHE_DIR/stderr" &
		APACHE_PID=$!
		at_exit stop_apache
		if wait_for _apache_up; then
			return 0
		fi
		wait "$APACHE_PID" 2>/dev/null
		APACHE_PID=
		grep -q 'Address already in use' "$APACHE_DIR/error.log" "$APACHE_DIR/stderr" ||
		    break
	done
	diag "Apache did not start:" "$(tail -n 5 "$APACHE_DIR/error.log" "$APACHE_DIR/stderr")"
	return 1
}

_apache_up()
{
	pid_alive "$APACHE_PID" || return 2
	[ -s "$APACHE_DIR/run/httpd.pid" ] && ! port_free "$APACHE_PORT"
}

# stop_apache: SIGTERM to the parent; it stops its children and mod_fcgid its processes.
stop_apache()
{
	stop_child APACHE_PID
}

# fcgid_pids CONF: the pids of the idwise-fcgi processes started with IDWISE_FCGI_CONFIG=CONF
# (those of one virtual host), one a line.
fcgid_pids()
{
	local p
	for p in $(pids_of_exe "$(readlink -f "$IDWISE_FCGI")"); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "IDWISE_FCGI_CONFIG=$1" ||
		    continue
		pid_alive "$p" && printf '%s\n' "$p"
	done
}
