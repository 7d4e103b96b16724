# SPDX-License-Identifier: ISC
# tests/lib/nginx.sh: nginx on a loopback port with the operator's snippet from nginx/
# (start_nginx, start_nginx_snippet, stop_nginx; nginx_launch for other configs, as
# tests/lib-proxy.sh's); sourced by tests/lib.sh.
# shellcheck shell=bash

NGINX_DIR=$TEST_TMP/nginx
NGINX_PID=
NGINX_PORT=
NGINX_USER=${NGINX_USER:-root}	# nginx's workers, when the tests run as root
NGINX_SERVER=			# directives added to the server block, before the snippet
URL=
NGINX_SNIPPET_SOCKET=unix:/run/idwise-fcgi/idwise-fcgi.sock
NGINX_HTTP_EXTRA=${NGINX_HTTP_EXTRA:-}	# directives for the http {} block, e.g. timeouts
# Where the snippets are read from: the source's, or the installed ones (tests/integration/deb.sh).
NGINX_SNIPPET_DIR=${NGINX_SNIPPET_DIR:-$top_srcdir/nginx}

# nginx_config PORT SNIPPET [FROM=TO...]: generate $NGINX_DIR from tests/nginx.conf.in and
# the operator's SNIPPET (a file of NGINX_SNIPPET_DIR) with each "fastcgi_pass FROM;" of it made
# "fastcgi_pass TO;" (each must be there).
nginx_config()
{
	local port=$1 snippet=$2 user= pair from to
	shift 2
	mkdir -p "$NGINX_DIR" || return 1
	cp "$NGINX_SNIPPET_DIR/$snippet" "$NGINX_DIR/idwise-fcgi.conf" || return 1
	for pair in "$@"; do
		from=${pair%%=*} to=${pair#*=}
		grep -qF "fastcgi_pass $from;" "$NGINX_DIR/idwise-fcgi.conf" ||
		    { diag "$NGINX_SNIPPET_DIR/$snippet has no 'fastcgi_pass $from;'"; return 1; }
		sed -i "s|fastcgi_pass $from;|fastcgi_pass $to;|" "$NGINX_DIR/idwise-fcgi.conf" ||
		    return 1
	done
	cp /etc/nginx/fastcgi_params "$NGINX_DIR/fastcgi_params" || return 1
	[ "$(id -u)" -eq 0 ] && user="user $NGINX_USER;"
	sed -e "s|@DIR@|$NGINX_DIR|g" -e "s|@PORT@|$port|g" -e "s|@USER@|$user|g" \
	    -e "s|@EXTRA@|$NGINX_HTTP_EXTRA|g" -e "s|@SERVER@|$NGINX_SERVER|" \
	    "$top_srcdir/tests/nginx.conf.in" >"$NGINX_DIR/nginx.conf"
}

# start_nginx SOCKET...: nginx on 127.0.0.1 at a free port, with the operator's snippet
# nginx/idwise-fcgi.conf passing its location to SOCKET, or to each of several in turn (an
# upstream). Sets NGINX_PORT and URL (the webhook's address).
start_nginx()
{
	local extra=$NGINX_HTTP_EXTRA s rc
	if [ $# -eq 1 ]; then
		start_nginx_snippet idwise-fcgi.conf "$NGINX_SNIPPET_SOCKET=unix:$1" || return 1
	else
		# max_fails=0: a responder down for a moment (killed and restarted by a test) is
		# tried again at once, not left out for fail_timeout
		NGINX_HTTP_EXTRA+=" upstream idwise_fcgi {"
		for s in "$@"; do
			NGINX_HTTP_EXTRA+=" server unix:$s max_fails=0;"
		done
		NGINX_HTTP_EXTRA+=" }"
		start_nginx_snippet idwise-fcgi.conf "$NGINX_SNIPPET_SOCKET=idwise_fcgi"
		rc=$?
		NGINX_HTTP_EXTRA=$extra
		[ "$rc" -eq 0 ] || return 1
	fi
	URL=http://127.0.0.1:$NGINX_PORT/idwise/webhook
}

# start_nginx_snippet SNIPPET [FROM=TO...]: nginx on 127.0.0.1 at a free port with the
# snippet nginx/SNIPPET (see nginx_config). Sets NGINX_PORT.
start_nginx_snippet()
{
	nginx_launch nginx_config "$@"
}

# nginx_launch CONFIG-CMD [ARG...]: nginx on 127.0.0.1 at a free port with the config that
# CONFIG-CMD PORT ARG... writes in $NGINX_DIR; another port when that one was taken
# meanwhile. Sets NGINX_PORT.
nginx_launch()
{
	local try port cmd=$1
	shift
	[ -z "$NGINX_PID" ] || bail "nginx is already running"
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || bail "no free port"
		"$cmd" "$port" "$@" || bail "cannot write the nginx config"
		rm -f "$NGINX_DIR/nginx.pid"
		nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" &
		NGINX_PID=$!
		at_exit stop_nginx
		if wait_for _nginx_up; then
			NGINX_PORT=$port
			return 0
		fi
		wait "$NGINX_PID" 2>/dev/null
		NGINX_PID=
		grep -q 'Address already in use' "$NGINX_DIR/error.log" || break
	done
	diag "nginx did not start:" "$(tail -n 5 "$NGINX_DIR/error.log" 2>/dev/null)"
	return 1
}

# nginx writes its pid file once it listens; it exits when it cannot.
_nginx_up()
{
	pid_alive "$NGINX_PID" || return 2
	[ -s "$NGINX_DIR/nginx.pid" ]
}

# stop_nginx: SIGQUIT, nginx's graceful stop.
stop_nginx()
{
	stop_child NGINX_PID -QUIT
}
