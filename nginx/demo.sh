#!/bin/bash
# SPDX-License-Identifier: ISC
# nginx/demo.sh: quick start on Debian 12, as root, from the top of a checkout.
#
#   bash nginx/demo.sh          install the packages of .ci/packages, build, and run
#                               idwise-fcgi behind nginx on 127.0.0.1:8080 (PORT=... to move)
#   bash nginx/demo.sh stop     stop both
#
# Everything it makes is in ./demo (git-ignored): the build (out of tree, in demo/build, so
# that tests/run.sh's own out-of-tree builds still work), the config, a bearer token (0600),
# the event log demo/events.jsonl, and nginx's config and logs. The socket lives in
# /run/idwise-fcgi-demo, where nginx's workers (www-data) can reach it. idwise-fcgi is
# started by spawn-fcgi on that unix socket, as root with --allow-root so that it can write
# ./demo wherever the checkout is (for the demo only: a deployment uses --user or a
# systemd unit from systemd/, see idwise-fcgi(8)); nginx includes the operator's
# default files, nginx/idwise-fcgi-upstream.conf (in http {}, with only its socket path
# changed) and nginx/idwise-fcgi-keepalive.conf (kept FastCGI connections). Running it
# again stops the old instances first and keeps the token and the log.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO=$ROOT/demo
RUN=/run/idwise-fcgi-demo
SOCK=$RUN/idwise-fcgi.sock
PORT=${PORT:-8080}
URL=http://127.0.0.1:$PORT/idwise/webhook
SAMPLE=$ROOT/tests/samples/finished_journey.json

say()
{
	printf '==> %s\n' "$*"
}

die()
{
	printf 'demo.sh: %s\n' "$*" >&2
	exit 1
}

# wait_gone PID...: up to 10 s for the processes to end.
wait_gone()
{
	local i p alive
	for ((i = 0; i < 200; i++)); do
		alive=0
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ "$alive" -eq 0 ] && return 0
		sleep 0.05
	done
	return 1
}

stop_demo()
{
	local pids
	if [ -s "$DEMO/nginx/nginx.pid" ]; then
		pids=$(cat "$DEMO/nginx/nginx.pid")
		if kill -QUIT "$pids" 2>/dev/null; then
			say "stopping nginx ($pids)"
			wait_gone "$pids" || kill -KILL "$pids" 2>/dev/null || true
		fi
		rm -f "$DEMO/nginx/nginx.pid"
	fi
	if [ -s "$DEMO/idwise-fcgi.pid" ]; then
		pids=$(tr -s ' \n' '  ' <"$DEMO/idwise-fcgi.pid")
		# shellcheck disable=SC2086
		if kill -TERM $pids 2>/dev/null; then
			say "stopping idwise-fcgi ($pids)"
			# shellcheck disable=SC2086
			wait_gone $pids || kill -KILL $pids 2>/dev/null || true
		fi
		rm -f "$DEMO/idwise-fcgi.pid"
	fi
	rm -f "$SOCK"
}

install_packages()
{
	local pkg missing=()
	while IFS= read -r pkg; do
		case $pkg in '' | '#'*) continue ;; esac
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
		    missing+=("$pkg")
	done <"$ROOT/.ci/packages"
	if [ "${#missing[@]}" -eq 0 ]; then
		say "the packages of .ci/packages are installed"
		return 0
	fi
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
}

build()
{
	say "building in demo/build"
	(cd "$ROOT" && autoreconf -fi)
	mkdir -p "$DEMO/build"
	(cd "$DEMO/build" && { [ -f Makefile ] || ../../configure; } && make -s -j2)
}

write_config()
{
	umask 077
	if [ ! -s "$DEMO/token" ]; then
		od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$DEMO/token"
		printf '\n' >>"$DEMO/token"
	fi
	chmod 0600 "$DEMO/token"
	cat >"$DEMO/idwise-fcgi.conf" <<EOF
# demo/idwise-fcgi.conf, written by nginx/demo.sh
log = $DEMO/events.jsonl
env = demo
auth = bearer
bearer_token_file = $DEMO/token
allow_from = 127.0.0.1, ::1
max_body = 65536
unknown_events = accept
sync = data
EOF
	umask 022
	"$DEMO/build/idwise-fcgi" -c "$DEMO/idwise-fcgi.conf" --check-config
}

start_idwise()
{
	say "starting idwise-fcgi on $SOCK (spawn-fcgi)"
	install -d -m 0750 -g www-data "$RUN"
	# sh -c keeps idwise-fcgi's stderr (spawn-fcgi gives its children /dev/null)
	spawn-fcgi -F 1 -P "$DEMO/idwise-fcgi.pid" -s "$SOCK" -M 0660 -G www-data -- \
	    /bin/sh -c 'exec 2>>"$0"; exec "$@"' "$DEMO/idwise-fcgi.stderr" \
	    "$DEMO/build/idwise-fcgi" -c "$DEMO/idwise-fcgi.conf" --allow-root
}

start_nginx()
{
	local n=$DEMO/nginx
	say "starting nginx on 127.0.0.1:$PORT"
	mkdir -p "$n"
	sed "s|server unix:/run/idwise-fcgi/idwise-fcgi.sock;|server unix:$SOCK;|" \
	    "$ROOT/nginx/idwise-fcgi-upstream.conf" >"$n/idwise-fcgi-upstream.conf"
	grep -qF "unix:$SOCK;" "$n/idwise-fcgi-upstream.conf" ||
	    die "nginx/idwise-fcgi-upstream.conf has no server unix:/run/idwise-fcgi/idwise-fcgi.sock"
	cp "$ROOT/nginx/idwise-fcgi-keepalive.conf" "$n/idwise-fcgi.conf"
	cp /etc/nginx/fastcgi_params "$n/fastcgi_params"
	cat >"$n/nginx.conf" <<EOF
# demo/nginx/nginx.conf, written by nginx/demo.sh
user www-data;
worker_processes 1;
pid $n/nginx.pid;
error_log $n/error.log;
events { worker_connections 256; }
http {
    access_log $n/access.log;
    client_body_temp_path $RUN/nginx-body;
    fastcgi_temp_path $RUN/nginx-fastcgi;
    proxy_temp_path $RUN/nginx-proxy;
    scgi_temp_path $RUN/nginx-scgi;
    uwsgi_temp_path $RUN/nginx-uwsgi;
    default_type application/octet-stream;
    include $n/idwise-fcgi-upstream.conf;
    server {
        listen 127.0.0.1:$PORT;
        server_name localhost;
        include $n/idwise-fcgi.conf;
        location / { return 404; }
    }
}
EOF
	nginx -q -t -p "$n" -c "$n/nginx.conf" -e "$n/error.log"
	nginx -p "$n" -c "$n/nginx.conf" -e "$n/error.log" ||
	    die "nginx did not start (port $PORT in use?): see $n/error.log"
}

show()
{
	local token reply
	token=$(head -n 1 "$DEMO/token")
	say "posting tests/samples/finished_journey.json"
	reply=$(curl -sS -o "$DEMO/reply" -w '%{http_code}' -H "Authorization: Bearer $token" \
	    -H 'Content-Type: application/json' --data-binary "@$SAMPLE" "$URL")
	printf '    HTTP %s %s\n' "$reply" "$(cat "$DEMO/reply")"
	printf '    last record: '
	tail -n 1 "$DEMO/events.jsonl"
	cat <<EOF

idwise-fcgi is running behind nginx at $URL

Post a sample:
  curl -sS -H 'Authorization: Bearer $token' -H 'Content-Type: application/json' --data-binary @tests/samples/manually_reviewed.json $URL

Watch the log:
  tail -F demo/events.jsonl | jq .

Stop it:
  bash nginx/demo.sh stop
EOF
}

[ "$(id -u)" -eq 0 ] || die "run me as root (I install packages and start nginx)"
cd "$ROOT"
case ${1:-start} in
stop)
	stop_demo
	exit 0
	;;
start) ;;
*)
	printf 'usage: bash nginx/demo.sh [start | stop]\n' >&2
	exit 64
	;;
esac

install_packages
mkdir -p "$DEMO"
stop_demo
build
write_config
start_idwise
start_nginx
show
