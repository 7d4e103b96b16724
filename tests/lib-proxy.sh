# SPDX-License-Identifier: ISC
# tests/lib-proxy.sh: idwise-fcgi as its own daemon behind Apache mod_proxy_fcgi and behind
# nginx with kept FastCGI connections. Sourced after tests/lib.sh.
#
#   daemon     thread_states PID, kept_connections SOCKET (the daemon itself: start_listener
#              of tests/lib/daemon.sh)
#   Apache     start_apache_proxy SOCKET (mod_proxy_fcgi, apache/idwise-fcgi-proxy.conf;
#              APACHE_PROXY_EDIT: a sed script for the copy); sets APACHE_PORT and URL
#   nginx      start_nginx_keepalive SOCKET (nginx/idwise-fcgi-keepalive.conf and
#              nginx/idwise-fcgi-upstream.conf; NGINX_KEEPALIVE_EDIT: a sed script for
#              the copy of the first); sets NGINX_PORT and URL
#   load       timed_deliveries DIR N PARALLEL PREFIX: N unique Finished Journey deliveries
#              to $URL, PARALLEL at a time; each one's "ID STATUS SECONDS" in DIR/results
# shellcheck shell=bash

# thread_states PID: what each thread of process PID waits in, counted: "read(socket) 4"
# for four threads blocked reading a socket (x86-64 and arm64 syscall numbers), else the
# syscall number.
thread_states()
{
	local t nr fd what
	for t in /proc/"$1"/task/*; do
		read -r nr fd _ <"$t/syscall" 2>/dev/null || continue
		case $(uname -m):$nr in
		x86_64:0 | aarch64:63) what="read" ;;
		x86_64:7 | aarch64:73) what="poll" ;;
		x86_64:43 | x86_64:288 | aarch64:202 | aarch64:242) what="accept" ;;
		x86_64:232 | x86_64:281 | aarch64:22) what="epoll" ;;
		x86_64:202 | aarch64:98) what="futex" ;;
		x86_64:130 | aarch64:133) what="sigsuspend" ;;
		*) what=syscall-$nr ;;
		esac
		case $what in
		read | poll)
			fd=$(readlink "/proc/$1/fd/$((fd))" 2>/dev/null)
			what="$what(${fd%%:*})"
			;;
		esac
		printf '%s\n' "$what"
	done | sort | uniq -c | awk '{ printf "%s %s; ", $2, $1 }'
}

# kept_connections SOCKET: how many connections to the unix socket SOCKET are open now.
kept_connections()
{
	ss -Hx state established 2>/dev/null | awk -v p="$1" '$4 == p || $5 == p { n++ }
	    END { print n + 0 }'
}

# --- Apache with mod_proxy_fcgi -------------------------------------------------------

APACHE_PROXY_SNIPPET=apache/idwise-fcgi-proxy.conf
APACHE_PROXY_SOCKET=/run/idwise-fcgi/idwise-fcgi.sock	# the socket the snippet names
APACHE_PROXY_EDIT=

# apache_proxy_config SOCKET: $APACHE_DIR/httpd.conf from tests/apache-proxy.conf.in, with
# the operator's snippet passing to SOCKET instead of APACHE_PROXY_SOCKET.
apache_proxy_config()
{
	local sock=$1 snippet=$APACHE_DIR/idwise-fcgi-proxy.conf
	mkdir -p "$APACHE_DIR" || return 1
	grep -qF "\"unix:$APACHE_PROXY_SOCKET|fcgi://localhost/\"" "$top_srcdir/$APACHE_PROXY_SNIPPET" ||
	    { diag "$APACHE_PROXY_SNIPPET does not pass to unix:$APACHE_PROXY_SOCKET"; return 1; }
	sed -e "s|unix:$APACHE_PROXY_SOCKET|unix:$sock|" -e "$APACHE_PROXY_EDIT" \
	    "$top_srcdir/$APACHE_PROXY_SNIPPET" >"$snippet" || return 1
	apache_fill apache-proxy.conf.in "" "$snippet"
}

# start_apache_proxy SOCKET: Apache 2.4 with mod_proxy_fcgi on 127.0.0.1 at a free port, in
# the foreground of a background job, its children as APACHE_USER. Sets APACHE_PORT, URL.
start_apache_proxy()
{
	apache_launch apache_proxy_config "$1" || return 1
	URL=http://127.0.0.1:$APACHE_PORT/idwise/webhook
}

# --- nginx with kept FastCGI connections ----------------------------------------------

NGINX_KEEPALIVE_EDIT=

# nginx_keepalive_config PORT SOCKET: $NGINX_DIR from tests/nginx.conf.in with the
# operator's nginx/idwise-fcgi-upstream.conf (its socket made SOCKET) in http {} and
# nginx/idwise-fcgi-keepalive.conf (NGINX_KEEPALIVE_EDIT applied) in server {}.
nginx_keepalive_config()
{
	local port=$1 sock=$2 extra=$NGINX_HTTP_EXTRA rc
	grep -qF "server $NGINX_SNIPPET_SOCKET;" "$top_srcdir/nginx/idwise-fcgi-upstream.conf" ||
	    { diag "nginx/idwise-fcgi-upstream.conf has no 'server $NGINX_SNIPPET_SOCKET;'"; return 1; }
	NGINX_HTTP_EXTRA+=" include $NGINX_DIR/idwise-fcgi-upstream.conf;"
	nginx_config "$port" idwise-fcgi-keepalive.conf
	rc=$?
	NGINX_HTTP_EXTRA=$extra
	[ "$rc" -eq 0 ] || return 1
	sed -i -e "$NGINX_KEEPALIVE_EDIT" "$NGINX_DIR/idwise-fcgi.conf" || return 1
	sed -e "s|server $NGINX_SNIPPET_SOCKET;|server unix:$sock;|" \
	    "$top_srcdir/nginx/idwise-fcgi-upstream.conf" >"$NGINX_DIR/idwise-fcgi-upstream.conf"
}

# start_nginx_keepalive SOCKET: nginx on 127.0.0.1 at a free port passing the webhook to
# SOCKET over kept connections. Sets NGINX_PORT and URL.
start_nginx_keepalive()
{
	nginx_launch nginx_keepalive_config "$1" || return 1
	URL=http://127.0.0.1:$NGINX_PORT/idwise/webhook
}

# --- timed deliveries -------------------------------------------------------------------

# timed_deliveries DIR N PARALLEL PREFIX [GIVE_UP]: N deliveries of the Finished Journey
# sample, each with its own eventId PREFIX-I, POSTed to $URL with the bearer $TOKEN by
# PARALLEL threads (a new HTTP connection each, as IDWise sends them), each waiting up to
# 60 s for its reply. DIR/results gets "ID STATUS SECONDS" per delivery sent (status 0: no
# reply at all). Once GIVE_UP (50) of them failed (not 200, or slower than 1 s), no more are
# sent, so that a broken host fails the test in seconds rather than many minutes.
timed_deliveries()
{
	local dir=$1
	mkdir -p "$dir" || return 1
	python3 - "$URL" "$TOKEN" "$SAMPLES/finished_journey.json" "$2" "$3" "$4" "${5:-50}" \
	    >"$dir/results" 2>"$dir/client.err" <<'EOF'
import concurrent.futures, http.client, json, sys, threading, time, urllib.parse

url, token, sample, n, parallel, prefix, give_up = sys.argv[1:8]
target = urllib.parse.urlsplit(url)
event = json.load(open(sample))
failed = 0
lock = threading.Lock()

def deliver(i):
    global failed
    ident = "%s-%d" % (prefix, i)
    with lock:
        if failed >= int(give_up):
            return None
    body = json.dumps(dict(event, body=dict(event["body"], eventId=ident))).encode()
    start = time.monotonic()
    status = 0
    try:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        conn.request("POST", target.path, body, {
            "Authorization": "Bearer " + token,
            "Content-Type": "application/json"})
        reply = conn.getresponse()
        reply.read()
        status = reply.status
        conn.close()
    except Exception as e:
        print("%s: %s" % (ident, e), file=sys.stderr)
    took = time.monotonic() - start
    if status != 200 or took > 1.0:
        with lock:
            failed += 1
    return "%s %d %.3f" % (ident, status, took)

with concurrent.futures.ThreadPoolExecutor(int(parallel)) as pool:
    for line in pool.map(deliver, range(1, int(n) + 1)):
        if line is not None:
            print(line, flush=True)
EOF
}

# results_summary DIR: "STATUS×COUNT ..." and the slowest time of DIR/results.
results_summary()
{
	awk '{ n[$2]++; if ($3 > max) max = $3; t += $3 }
	    END { for (s in n) printf "status %s: %d; ", s, n[s];
	          printf "mean %.3f s, slowest %.3f s\n", t / NR, max }' "$1/results"
}
