#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/keepalive.sh: persistent FastCGI connections cost no waiting (issue 13,
# finding 4). One idwise-fcgi process with --threads 4 on a unix socket, behind (a) real
# nginx with nginx/idwise-fcgi-upstream.conf (keepalive 8) and
# nginx/idwise-fcgi-keepalive.conf (fastcgi_keep_conn on), and (b) real Apache with
# mod_proxy_fcgi and apache/idwise-fcgi-proxy.conf (enablereuse=on). Through each, 2,000
# unique deliveries 16 at a time: every one 200 within 1 s, then exactly 2,000 records that
# verify. When a worker thread stays blocked on an idle kept connection, the deliveries
# queue behind it until the web server's timeout (5 s here, from the snippets' 30 s) and
# get 504/503. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/lib-proxy.sh" || exit 1
IDWISE_LOG=${IDWISE_LOG:-$top_builddir/idwise-log}

command -v nginx >/dev/null || bail "nginx is not installed (Debian package nginx-light)"
command -v apache2 >/dev/null || bail "apache2 is not installed (Debian package apache2)"
[ -f /usr/lib/apache2/modules/mod_proxy_fcgi.so ] || bail "mod_proxy_fcgi is not installed"

N=2000
PARALLEL=16

# through HOST: the deliveries to $URL, their checks against $LOG.
through()
{
	local host=$1 dir=$TEST_TMP/$1 sent kept
	timed_deliveries "$dir" "$N" "$PARALLEL" "ka-$host"
	sent=$(log_count "$dir/results")
	kept=$(kept_connections "$(listener_socket "$host")")
	ok "$host: it kept connections to idwise-fcgi open ($kept after the deliveries)" \
	    test "$kept" -ge 1
	diag "$host: $sent of $N deliveries sent; $(results_summary "$dir")" \
	    "idwise-fcgi's threads now wait in: $(thread_states "$(listener_pid "$host")")"
	[ ! -s "$dir/client.err" ] || diag "$(head -n 3 "$dir/client.err")"
	is "$(awk '$2 == 200' "$dir/results" | wc -l | tr -d ' ')" "$N" \
	    "$host: all $N deliveries, $PARALLEL at a time, got 200"
	is "$(awk '$3 > 1.0' "$dir/results" | wc -l | tr -d ' ')" 0 \
	    "$host: none took longer than 1 s"
	is "$(log_count "$LOG")" "$N" "$host: the log holds exactly $N records"
	ok "$host: idwise-log verify passes" quiet "$IDWISE_LOG" verify "$LOG"
	ok "$host: the chain checks out" check_chain "$LOG"
	is "$(jq -r .id "$LOG" | sort -u | wc -l | tr -d ' ')" "$N" "$host: each delivery stored once"
}

# ---------------------------------------------------------------------------------------
# (a) nginx: upstream keepalive 8, fastcgi_keep_conn on.

write_config "$TEST_TMP/nginx-conf" env=keepalive-nginx
start_listener nginx "$CONF" --threads 4 || bail "idwise-fcgi did not start"
NGINX_KEEPALIVE_EDIT='s/fastcgi_read_timeout 30s;/fastcgi_read_timeout 5s;/'
start_nginx_keepalive "$(listener_socket nginx)" || bail "nginx did not start"
ok "nginx: the snippet keeps connections (fastcgi_keep_conn on, upstream keepalive 8)" \
    grep -q 'fastcgi_keep_conn on;' "$NGINX_DIR/idwise-fcgi.conf"
ok "  and its upstream is the shipped one" grep -q 'keepalive 8;' "$NGINX_DIR/idwise-fcgi-upstream.conf"
ok "  with the test's 5 s fastcgi_read_timeout" \
    grep -q 'fastcgi_read_timeout 5s;' "$NGINX_DIR/idwise-fcgi.conf"
through nginx
ok "nginx: no upstream timed out" not grep -q 'upstream timed out' "$NGINX_DIR/error.log"
stop_nginx
ok "nginx: idwise-fcgi is still running" pid_alive "$(listener_pid nginx)"
stop_listener nginx

# ---------------------------------------------------------------------------------------
# (b) Apache mod_proxy_fcgi: enablereuse=on.

write_config "$TEST_TMP/apache-conf" env=keepalive-apache
start_listener apache "$CONF" --threads 4 || bail "idwise-fcgi did not start"
APACHE_PROXY_EDIT='s/ timeout=30/ timeout=5/'
start_apache_proxy "$(listener_socket apache)" || bail "Apache did not start"
ok "Apache: the snippet reuses connections (enablereuse=on), with the test's 5 s timeout" \
    grep -q 'enablereuse=on timeout=5$' "$APACHE_DIR/idwise-fcgi-proxy.conf"
through apache
# AH01075 with "polling": a timeout; AH01067 "Failed to read FastCGI header": idwise-fcgi
# closed a kept connection Apache had just sent a request on.
ok "Apache: no error talking to idwise-fcgi in its error log" \
    no_line_in "$APACHE_DIR/error.log" '\[proxy(_fcgi)?:error\]'

stop_apache
ok "Apache: idwise-fcgi is still running" pid_alive "$(listener_pid apache)"
stop_listener apache

ok "no secret in the web servers' logs" \
    no_secret_in "$NGINX_DIR/error.log" "$APACHE_DIR/error.log" "$APACHE_DIR/access.log"
done_testing
