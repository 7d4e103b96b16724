# SPDX-License-Identifier: ISC
# bench/lib.sh: helpers for bench/run.sh and bench/profile.sh (sourced; bash, set -u).
#
# The caller sets SRC (the source tree), BUILD (a configured and built tree), WORK (a
# scratch directory on the filesystem under test) and OUT (the results directory), then
# calls bench_init. Everything started here is stopped by bench_cleanup (an EXIT trap).
#
#   messages   say, note, die
#   setup      need_tools, need_build, work_fs, machine_info
#   idwise     idwise_dir NAME [key=value...]    (config, token; sets SIDE_DIR CONF LOG)
#   servers    nginx_start, fcgi_start NAME BIN PROCS ARGS..., fcgi_stop NAME,
#              webhook_start, php_start CHILDREN, php_stop, apache_start NAME BIN,
#              apache_stop, run_as_user
#   load       prime URL [CURL-ARG...], wrk_run LABEL URL CONNS SECONDS TAG [ACKS]
#   measuring  proc_mem PID..., cpu_ticks PID..., log_check DIR BASE STOPS CONNS
#
# From the tests' helpers it sources tests/lib/proc.sh (wait_for, pid_alive, all_gone,
# stop_pids, pids_of_exe, free_port) and tests/lib/account.sh (RUN_USER, the account the
# responders run as when we are root; give_to_responder, random_hex, write_secret).

POLL_STEPS=${POLL_STEPS:-400}		# polls of 50 ms: 20 s for anything to come up or go
SAMPLE=${SAMPLE:-$SRC/tests/samples/finished_journey.json}

# Deb packages for the programs the benchmark runs.
declare -A DEB_OF=(
	[wrk]=wrk [nginx]=nginx-light [spawn-fcgi]=spawn-fcgi [webhook]=webhook
	[apache2]=apache2 [gnuplot]=gnuplot-nox [jq]=jq [curl]=curl [perl]=perl
	[perf]=linux-perf [valgrind]=valgrind [strace]=strace [callgrind_annotate]=valgrind
	[php-fpm]=php-fpm
)
FCGID_SO=/usr/lib/apache2/modules/mod_fcgid.so
APACHE_MODULES=/usr/lib/apache2/modules

NGINX_PID=
NGINX_DIR=
NGINX_PORT=
APACHE_PID=
APACHE_PORT=
WEBHOOK_PID=
WEBHOOK_PORT=
declare -A FCGI_PIDS=()	# NAME -> space separated pids

say()
{
	printf '%s\n' "$*"
}

note()
{
	printf 'bench: %s\n' "$*" >&2
}

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

# bail MSG: how the tests' helpers stop; here that is die.
bail()
{
	die "$@"
}

# shellcheck source=tests/lib/proc.sh
. "$SRC/tests/lib/proc.sh" || exit 1
# shellcheck source=tests/lib/account.sh
. "$SRC/tests/lib/account.sh" || exit 1

# bench_stop [-SIGNAL] PID...: stop_pids, and say so when SIGTERM was not enough.
bench_stop()
{
	stop_pids "$@" || note "killed $* (the signal was not enough)"
}

# --- setup ----------------------------------------------------------------------------

# need_tools PROGRAM...: every one is installed, else name the Debian packages and stop.
need_tools()
{
	local t
	local -a missing=()
	for t in "$@"; do
		case $t in
		mod_fcgid)
			[ -f "$FCGID_SO" ] || missing+=(libapache2-mod-fcgid)
			;;
		php-fpm)
			[ -n "$(php_fpm_bin)" ] || missing+=(php-fpm)
			;;
		*)
			command -v "$t" >/dev/null 2>&1 || missing+=("${DEB_OF[$t]:-$t}")
			;;
		esac
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	die "missing: install the Debian packages: $(printf '%s\n' "${missing[@]}" |
	    sort -u | tr '\n' ' ')(or leave the part out, see --help)"
}

# need_build TARGET...: bring the targets up to date in $BUILD with its own make.
need_build()
{
	[ -f "$BUILD/Makefile" ] ||
	    die "$BUILD is not a configured build tree: mkdir build && cd build && ../configure && make"
	make -s -C "$BUILD" "$@" >"$OUT/make.log" 2>&1 ||
	    die "make $* in $BUILD failed: see $OUT/make.log"
}

# work_fs DIR: "device fstype" of the filesystem DIR is on.
work_fs()
{
	df -T -P "$1" | awk 'NR == 2 { print $1, $2 }'
}

machine_info()
{
	local dev fs disk
	read -r dev fs <<<"$(work_fs "$WORK")"
	disk=$(lsblk -ndo NAME,SIZE,ROTA,MODEL "$dev" 2>/dev/null | head -n 1 |
	    awk '{ m = ""; for (i = 4; i <= NF; i++) m = m " " $i
	    printf "%s %s, rotational flag %s,%s", $1, $2, $3, m == "" ? " no model string" : m }')
	printf 'cpu: %s\n' "$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
	printf 'cores: %s (online cpus: %s)\n' "$(nproc)" \
	    "$(lscpu | sed -n 's/^On-line CPU(s) list:[[:space:]]*//p')"
	printf 'hypervisor: %s\n' "$(lscpu | sed -n 's/^Hypervisor vendor:[[:space:]]*//p')"
	printf 'ram: %s\n' "$(free -h | awk '/^Mem:/ { print $2 }')"
	printf 'kernel: %s\n' "$(uname -sr)"
	printf 'os: %s\n' "$(. /etc/os-release 2>/dev/null && printf '%s' "$PRETTY_NAME")"
	printf 'log filesystem: %s on %s (%s), mount options %s\n' "$fs" "$dev" "$WORK" \
	    "$(findmnt -no OPTIONS -T "$WORK" 2>/dev/null)"
	printf 'journal: %s; disk write cache: %s\n' "$(fs_journal "$dev" "$fs")" \
	    "$(cat "/sys/block/$(lsblk -ndo PKNAME "$dev" 2>/dev/null || true)/queue/write_cache" \
	    2>/dev/null || cat "/sys/block/${dev##*/}/queue/write_cache" 2>/dev/null || echo ?)"
	printf 'disk: %s; scheduler %s\n' "${disk:-?}" \
	    "$(cat "/sys/block/$(lsblk -ndo PKNAME "$dev" 2>/dev/null || true)/queue/scheduler" \
	    2>/dev/null || cat "/sys/block/${dev##*/}/queue/scheduler" 2>/dev/null || echo ?)"
	printf 'idwise-fcgi: %s (%s)\n' "$(git -C "$SRC" describe --always --dirty 2>/dev/null)" \
	    "$(git -C "$SRC" log -1 --format=%s 2>/dev/null)"
	printf 'nginx: %s\n' "$(nginx -v 2>&1 | sed 's/.*: //')"
	printf 'wrk: %s\n' "$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }')"
	command -v webhook >/dev/null && printf 'webhook: %s\n' "$(webhook -version 2>&1)"
	command -v apache2 >/dev/null &&
	    printf 'apache: %s\n' "$(apache2 -v 2>/dev/null | sed -n 's/^Server version: //p')"
	printf 'libfcgi: %s\n' "$(dpkg-query -W -f '${Version}' libfcgi0ldbl 2>/dev/null ||
	    dpkg-query -W -f '${Version}' 'libfcgi0*' 2>/dev/null)"
	printf 'compiler: %s\n' "$(sed -n 's/^CC = //p' "$BUILD/Makefile") $(sed -n \
	    's/^CFLAGS = //p' "$BUILD/Makefile")"
}

# fs_journal DEV FSTYPE: whether an ext4 filesystem has a journal (jbd2), as far as /sys
# tells.
fs_journal()
{
	local task
	[ "$2" = ext4 ] || { echo "?"; return 0; }
	task=$(cat "/sys/fs/ext4/${1##*/}/journal_task" 2>/dev/null) || { echo "?"; return 0; }
	if [ "$task" = "<none>" ]; then
		echo "none (ext4 without a journal)"
	else
		echo "jbd2 ($task)"
	fi
}

# disk_kb: kilobytes written to the work directory's ext4 filesystem since it was mounted
# (by anyone), or empty.
disk_kb()
{
	local dev
	dev=$(work_fs "$WORK" | cut -d' ' -f1)
	cat "/sys/fs/ext4/${dev##*/}/session_write_kbytes" 2>/dev/null
}

# --- idwise-fcgi's side -----------------------------------------------------------------

TOKEN=bench-$(random_hex 16)
# Several entries, the one that matches last: the list is walked for every request.
ALLOW_FROM="203.0.113.0/24, 198.51.100.7, 2001:db8::/32, 10.0.0.0/8, 192.0.2.10, 127.0.0.1"

SYNC_MODE=${SYNC_MODE:-data}	# the sync key of the next idwise_dir's config (SYNC_MODE=none bash bench/profile.sh)

# idwise_dir NAME [key=value...]: a fresh directory $WORK/NAME with idwise-fcgi.conf
# (bearer, allow_from, sync = $SYNC_MODE, log in the directory) and its token file; the
# extra keys are appended. Sets SIDE_DIR, CONF, LOG.
idwise_dir()
{
	local name=$1 kv
	shift
	SIDE_DIR=$WORK/$name
	rm -rf "$SIDE_DIR"
	mkdir -p "$SIDE_DIR" || die "cannot create $SIDE_DIR"
	CONF=$SIDE_DIR/idwise-fcgi.conf
	LOG=$SIDE_DIR/events.jsonl
	write_secret "$SIDE_DIR/token" "old-$(random_hex 16)" "$TOKEN"
	{
		printf '# written by bench/lib.sh\n'
		printf 'log = %s\n' "$LOG"
		printf 'env = bench\n'
		printf 'auth = bearer\n'
		printf 'bearer_token_file = %s\n' "$SIDE_DIR/token"
		printf 'allow_from = %s\n' "$ALLOW_FROM"
		printf 'sync = %s\n' "$SYNC_MODE"
		for kv in "$@"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$CONF"
	chmod 0600 "$CONF"
	# the responders run as RUN_USER from the start (spawn-fcgi -u): their config too
	give_to_responder -R "$SIDE_DIR"
	chmod 0750 "$SIDE_DIR"
}

# --- nginx --------------------------------------------------------------------------

# nginx_start: nginx on 127.0.0.1:$NGINX_PORT with
#   /idwise/webhook   the operator's snippet nginx/idwise-fcgi.conf -> $WORK/idwise.sock
#   /minimal/webhook  the snippet's /idwise/webhook block, renamed -> $WORK/minimal.sock
#   /webhook/idwise   proxy_pass to adnanh/webhook on 127.0.0.1:$WEBHOOK_PORT
#   and both FastCGI ones over kept connections (nginx_keep_snippets)
nginx_start()
{
	local snippet=$SRC/nginx/idwise-fcgi.conf user= try
	local from='fastcgi_pass unix:/run/idwise-fcgi/idwise-fcgi.sock;'
	NGINX_DIR=$WORK/nginx
	mkdir -p "$NGINX_DIR" || die "cannot create $NGINX_DIR"
	grep -qF "$from" "$snippet" || die "$snippet has no '$from'"
	grep -qF 'location = /idwise/webhook {' "$snippet" ||
	    die "$snippet has no 'location = /idwise/webhook {'"
	sed "s|$from|fastcgi_pass unix:$WORK/idwise.sock;|" "$snippet" >"$NGINX_DIR/idwise.conf"
	# the webhook's location block alone (the snippet may hold others, e.g. the status page)
	awk '/^location = \/idwise\/webhook \{/ { on = 1 } on { print } on && /^\}/ { exit }' \
	    "$snippet" | sed -e "s|$from|fastcgi_pass unix:$WORK/minimal.sock;|" \
	    -e 's|location = /idwise/webhook {|location = /minimal/webhook {|' \
	    >"$NGINX_DIR/minimal.conf"
	nginx_keep_snippets
	cp /etc/nginx/fastcgi_params "$NGINX_DIR/fastcgi_params" || die "no /etc/nginx/fastcgi_params"
	[ "$(id -u)" -eq 0 ] && user='user root;'
	[ -n "$WEBHOOK_PORT" ] || WEBHOOK_PORT=$(free_port) || die "no free port"
	for ((try = 0; try < 5; try++)); do
		NGINX_PORT=$(free_port) || die "no free port"
		nginx_config "$user" >"$NGINX_DIR/nginx.conf"
		rm -f "$NGINX_DIR/nginx.pid"
		nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" &
		NGINX_PID=$!
		if wait_for test -s "$NGINX_DIR/nginx.pid" && pid_alive "$NGINX_PID"; then
			return 0
		fi
		wait "$NGINX_PID" 2>/dev/null
		NGINX_PID=
		grep -q 'Address already in use' "$NGINX_DIR/error.log" || break
	done
	die "nginx did not start: $(tail -n 3 "$NGINX_DIR/error.log" 2>/dev/null)"
}

# nginx_keep_snippets: the same two responders over kept connections, from the operator's
# nginx/idwise-fcgi-keepalive.conf (its webhook location alone, fastcgi_keep_conn on) and
# nginx/idwise-fcgi-upstream.conf (keepalive 8):
#   /idwise-keep/webhook   -> upstream idwise_fcgi  -> $WORK/idwise.sock
#   /minimal-keep/webhook  -> upstream minimal_fcgi -> $WORK/minimal.sock
nginx_keep_snippets()
{
	local snippet=$SRC/nginx/idwise-fcgi-keepalive.conf up=$SRC/nginx/idwise-fcgi-upstream.conf
	local server='server unix:/run/idwise-fcgi/idwise-fcgi.sock;' name
	grep -qF 'fastcgi_pass idwise_fcgi;' "$snippet" || die "$snippet has no 'fastcgi_pass idwise_fcgi;'"
	grep -qF "$server" "$up" || die "$up has no '$server'"
	for name in idwise minimal; do
		awk '/^location = \/idwise\/webhook \{/ { on = 1 } on { print } on && /^\}/ { exit }' \
		    "$snippet" | sed -e "s|fastcgi_pass idwise_fcgi;|fastcgi_pass ${name}_fcgi;|" \
		    -e "s|location = /idwise/webhook {|location = /$name-keep/webhook {|" \
		    >"$NGINX_DIR/$name-keep.conf"
		sed -e "s|$server|server unix:$WORK/$name.sock;|" \
		    -e "s|upstream idwise_fcgi {|upstream ${name}_fcgi {|" "$up" \
		    >"$NGINX_DIR/$name-upstream.conf"
	done
}

nginx_config()
{
	cat <<EOF
# written by bench/lib.sh
$1
daemon off;
master_process on;
worker_processes auto;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;

events {
    worker_connections 4096;
}

http {
    # No access log: the responders are measured, not nginx's logging.
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $NGINX_DIR/client_body;
    fastcgi_temp_path $NGINX_DIR/fastcgi;
    proxy_temp_path $NGINX_DIR/proxy;
    scgi_temp_path $NGINX_DIR/scgi;
    uwsgi_temp_path $NGINX_DIR/uwsgi;
    default_type application/octet-stream;
    include $NGINX_DIR/idwise-upstream.conf;
    include $NGINX_DIR/minimal-upstream.conf;

    server {
        listen 127.0.0.1:$NGINX_PORT;
        server_name localhost;

        include $NGINX_DIR/idwise.conf;
        include $NGINX_DIR/minimal.conf;
        include $NGINX_DIR/idwise-keep.conf;
        include $NGINX_DIR/minimal-keep.conf;

        # adnanh/webhook behind the same nginx, as an operator would put it (TLS there);
        # nginx's proxy defaults: a new HTTP/1.0 connection per request, like FastCGI.
        location = /webhook/idwise {
            client_max_body_size 128k;
            client_body_buffer_size 128k;
            proxy_pass http://127.0.0.1:$WEBHOOK_PORT/hooks/idwise;
            proxy_read_timeout 30s;
        }

        # bench/php-receiver.php under php-fpm (bench/lib.sh php_start)
        location = /php/webhook {
            client_max_body_size 128k;
            client_body_buffer_size 128k;
            include $NGINX_DIR/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $WORK/php/receiver.php;
            fastcgi_param HTTP_AUTHORIZATION \$http_authorization;
            fastcgi_pass unix:$WORK/php.sock;
        }

        location / {
            return 404;
        }
    }
}
EOF
}

# --- FastCGI responders under spawn-fcgi -----------------------------------------------

# fcgi_start NAME BIN PROCS [ARG...]: spawn-fcgi -F PROCS binds $WORK/NAME.sock and runs
# BIN ARG... as $RUN_USER; stderr to $WORK/NAME.stderr. Sets FCGI_PIDS[NAME].
fcgi_start()
{
	local name=$1 bin=$2 procs=$3 sock=$WORK/$1.sock err=$WORK/$1.stderr pidf=$WORK/$1.pids
	local -a as=()
	shift 3
	rm -f "$sock" "$pidf"
	: >"$err"
	give_to_responder "$err"
	[ -z "$RUN_USER" ] || as=(-u "$RUN_USER" -g "$(id -gn "$RUN_USER")")
	spawn-fcgi -F "$procs" -P "$pidf" -s "$sock" -M 0600 "${as[@]}" -- \
	    /bin/sh -c 'exec 2>>"$0"; exec "$@"' "$err" "$bin" "$@" >>"$err" 2>&1 ||
	    die "spawn-fcgi $name failed: $(tail -n 3 "$err")"
	FCGI_PIDS[$name]=$(tr -s ' \n' '  ' <"$pidf")
	# shellcheck disable=SC2086
	[ "$(set -- ${FCGI_PIDS[$name]}; echo $#)" -eq "$procs" ] ||
	    die "$name: not $procs processes: $(tail -n 3 "$err")"
	sleep 0.2
	fcgi_alive "$name" || die "$name died at start: $(tail -n 3 "$err")"
}

fcgi_alive()
{
	local p
	for p in ${FCGI_PIDS[$1]}; do
		pid_alive "$p" || return 1
	done
	return 0
}

fcgi_stop()
{
	# shellcheck disable=SC2086
	bench_stop ${FCGI_PIDS[$1]:-}
	unset "FCGI_PIDS[$1]"
	rm -f "$WORK/$1.sock"
}

# --- adnanh/webhook -------------------------------------------------------------------

# webhook_start: one hook "idwise" that runs /bin/true when the Authorization header is
# the bearer token (a trigger rule on a header value); anything else gets 401.
webhook_start()
{
	local dir=$WORK/webhook try
	mkdir -p "$dir"
	cat >"$dir/hooks.json" <<EOF
[
  {
    "id": "idwise",
    "execute-command": "/bin/true",
    "command-working-directory": "$dir",
    "http-methods": ["POST"],
    "response-message": "{\"status\":\"accepted\"}",
    "response-headers": [{ "name": "Content-Type", "value": "application/json" }],
    "trigger-rule-mismatch-http-response-code": 401,
    "trigger-rule": {
      "match": {
        "type": "value",
        "value": "Bearer $TOKEN",
        "parameter": { "source": "header", "name": "Authorization" }
      }
    }
  }
]
EOF
	chmod 0600 "$dir/hooks.json"
	[ -n "$WEBHOOK_PORT" ] || WEBHOOK_PORT=$(free_port) || die "no free port"
	# The port of the last run is sometimes not free again at once (seen once between
	# two runs: "bind: address already in use"): try a few times.
	for try in 1 2 3 4 5; do
		webhook -hooks "$dir/hooks.json" -ip 127.0.0.1 -port "$WEBHOOK_PORT" \
		    >"$WORK/webhook.stderr" 2>&1 &
		WEBHOOK_PID=$!
		wait_for curl -s -o /dev/null "http://127.0.0.1:$WEBHOOK_PORT/" && return 0
		webhook_stop
		note "webhook did not start (try $try): $(tail -n 1 "$WORK/webhook.stderr")"
		sleep 1
	done
	die "webhook did not start: $(tail -n 3 "$WORK/webhook.stderr")"
}

webhook_stop()
{
	[ -n "$WEBHOOK_PID" ] || return 0
	bench_stop "$WEBHOOK_PID"
	wait "$WEBHOOK_PID" 2>/dev/null
	WEBHOOK_PID=
}

# --- bench/php-receiver.php under php-fpm -------------------------------------------------

PHP_FPM_PID=
PHP_LOG=

# php_fpm_bin: Debian's php-fpm (php-fpmX.Y), or nothing.
php_fpm_bin()
{
	command -v php-fpm 2>/dev/null || ls /usr/sbin/php-fpm[0-9]* 2>/dev/null | sort -V | tail -n 1
}

# php_start CHILDREN: php-fpm in the foreground with one static pool of CHILDREN processes
# as $RUN_USER on $WORK/php.sock, running bench/php-receiver.php, which appends to
# $WORK/php/events.log (a fresh one; PHP_LOG). Debian's php.ini (opcache on).
php_start()
{
	local children=$1 dir=$WORK/php bin
	bin=$(php_fpm_bin)
	[ -n "$bin" ] || die "no php-fpm"
	rm -rf "$dir"
	mkdir -p "$dir" || die "cannot create $dir"
	cp "$SRC/bench/php-receiver.php" "$dir/receiver.php" || die "cannot copy the PHP script"
	PHP_LOG=$dir/events.log
	: >"$PHP_LOG"
	cat >"$dir/php-fpm.conf" <<EOF
; written by bench/lib.sh
[global]
pid = $dir/php-fpm.pid
error_log = $dir/error.log
daemonize = no

[bench]
${RUN_USER:+user = $RUN_USER}
${RUN_USER:+group = $(id -gn "$RUN_USER" 2>/dev/null)}
listen = $WORK/php.sock
listen.mode = 0666
pm = static
pm.max_children = $children
pm.max_requests = 0
env[BENCH_TOKEN] = $TOKEN
env[BENCH_LOG] = $PHP_LOG
EOF
	give_to_responder "$dir" "$PHP_LOG"
	chmod 0755 "$dir"
	rm -f "$WORK/php.sock"
	"$bin" -F -y "$dir/php-fpm.conf" -p "$dir" >"$dir/stdout" 2>&1 &
	PHP_FPM_PID=$!
	wait_for test -S "$WORK/php.sock" ||
	    die "php-fpm did not start: $(tail -n 3 "$dir/error.log" "$dir/stdout" 2>/dev/null)"
}

# php_pids: the master and the pool's processes.
php_pids()
{
	[ -n "$PHP_FPM_PID" ] || return 0
	printf '%s\n' "$PHP_FPM_PID"
	pgrep -P "$PHP_FPM_PID"
	return 0
}

php_stop()
{
	[ -n "$PHP_FPM_PID" ] || return 0
	bench_stop "$PHP_FPM_PID"
	wait "$PHP_FPM_PID" 2>/dev/null
	PHP_FPM_PID=
	rm -f "$WORK/php.sock"
}

# --- Apache with mod_fcgid --------------------------------------------------------------

# apache_start NAME BIN [ARG...]: Apache (event MPM) on 127.0.0.1:$APACHE_PORT with one
# location /NAME/webhook served by BIN ARG... as an fcgid-script (FcgidWrapper), children
# as $RUN_USER, at most $CONNS of them. Config and files in $WORK/httpd-NAME.
apache_start()
{
	local name=$1 bin=$2 dir=$WORK/httpd-$1 try
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir/run" "$dir/fcgid" "$dir/htdocs"
	{
		printf '#!/bin/sh\n'
		printf 'exec 2>>%s\n' "$dir/$name.stderr"
		printf 'exec %q' "$bin"
		[ $# -eq 0 ] || printf ' %q' "$@"
		printf '\n'
	} >"$dir/wrapper"
	chmod 0755 "$dir/wrapper"
	: >"$dir/$name.stderr"
	give_to_responder "$dir/fcgid" "$dir/$name.stderr"
	for ((try = 0; try < 5; try++)); do
		APACHE_PORT=$(free_port) || die "no free port"
		apache_config "$name" "$dir" >"$dir/httpd.conf"
		apache2 -f "$dir/httpd.conf" -DFOREGROUND >"$dir/stdout" 2>&1 &
		APACHE_PID=$!
		if wait_for test -s "$dir/httpd.pid" && pid_alive "$APACHE_PID"; then
			return 0
		fi
		wait "$APACHE_PID" 2>/dev/null
		APACHE_PID=
		grep -q 'Address already in use' "$dir/error.log" "$dir/stdout" 2>/dev/null || break
	done
	die "apache did not start: $(tail -n 3 "$dir/error.log" "$dir/stdout" 2>/dev/null)"
}

apache_config()
{
	local name=$1 dir=$2 user=
	[ -z "$RUN_USER" ] || user="User $RUN_USER
Group $(id -gn "$RUN_USER")"
	cat <<EOF
# written by bench/lib.sh
ServerRoot $dir
ServerName localhost
Listen 127.0.0.1:$APACHE_PORT
PidFile $dir/httpd.pid
DefaultRuntimeDir $dir/run
ErrorLog $dir/error.log
LogLevel warn
DocumentRoot $dir/htdocs
$user

LoadModule mpm_event_module $APACHE_MODULES/mod_mpm_event.so
LoadModule authz_core_module $APACHE_MODULES/mod_authz_core.so
LoadModule fcgid_module $FCGID_SO

StartServers 2
ServerLimit 4
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 256
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0

# One fcgid process per concurrent request (mod_fcgid sends each process one request at
# a time): up to one per connection, spawned without throttling, never retired mid-run.
FcgidIPCDir $dir/fcgid
FcgidProcessTableFile $dir/fcgid/shm
FcgidMaxProcesses $((CONNS + 8))
FcgidMaxProcessesPerClass $CONNS
FcgidSpawnScoreUpLimit 100000
FcgidIdleTimeout 3600
FcgidProcessLifeTime 3600
FcgidMaxRequestsPerProcess 0
FcgidMaxRequestLen 131072
FcgidIOTimeout 60
FcgidBusyTimeout 300
FcgidPassHeader Authorization

<Location /$name/webhook>
    SetHandler fcgid-script
    Options +ExecCGI
    FcgidWrapper $dir/wrapper virtual
    Require all granted
</Location>
EOF
}

# apache_stop BIN: stop Apache and wait for its fcgid children (running BIN) to go.
apache_stop()
{
	local bin=$1
	[ -n "$APACHE_PID" ] || return 0
	bench_stop "$APACHE_PID"
	wait "$APACHE_PID" 2>/dev/null
	APACHE_PID=
	# shellcheck disable=SC2046
	wait_for all_gone $(pids_of_exe "$bin") ||
	    note "fcgid children of $bin still running after Apache stopped"
}

# --- load ---------------------------------------------------------------------------

# prime URL [CURL-ARG...]: one delivery with curl, before any load (the first request
# sets up the shared state and the index). Sets PRIME_STATUS, PRIME_BODY, PRIME_SECONDS.
prime()
{
	local url=$1 body t0 t1
	shift
	body=$WORK/prime.json
	sed "s/\"eventId\"[[:space:]]*:[[:space:]]*\"[^\"]*\"/\"eventId\": \"prime-$(random_hex 8)\"/" \
	    "$SAMPLE" >"$body"
	t0=$(date +%s.%N)
	PRIME_STATUS=$(curl -sS --max-time 600 -o "$WORK/prime.out" -w '%{http_code}' \
	    -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" "$@" \
	    --data-binary "@$body" "$url" 2>&1)
	t1=$(date +%s.%N)
	PRIME_BODY=$(cat "$WORK/prime.out" 2>/dev/null)
	PRIME_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

WRK_THREADS=${WRK_THREADS:-$(nproc)}

# wrk_run LABEL URL CONNS SECONDS TAG [ACKS-FILE]: wrk with bench/unique.lua; its output
# goes to $OUT/wrk-LABEL.txt. Sets W[requests], W[rps], W[p50_us], W[p99_us], W[ok], ...
declare -A W=()
wrk_run()
{
	local label=$1 url=$2 conns=$3 secs=$4 tag=$5 acks=${6:-} threads=$WRK_THREADS
	[ "$threads" -le "$conns" ] || threads=$conns
	BENCH_ACKS=$acks wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 30s --latency \
	    -s "$SRC/bench/unique.lua" "$url" -- "$TOKEN" "$SAMPLE" "$tag" \
	    >"$OUT/wrk-$label.txt" 2>&1 || die "wrk $label failed: $(tail -n 3 "$OUT/wrk-$label.txt")"
	wrk_parse "$label"
}

# wrk_parse LABEL: W[...] from the BENCH line of $OUT/wrk-LABEL.txt (after a wrk_run in
# the background, say).
wrk_parse()
{
	local line kv
	line=$(grep '^BENCH ' "$OUT/wrk-$1.txt" | tail -n 1)
	[ -n "$line" ] || die "wrk $1: no BENCH line in $OUT/wrk-$1.txt"
	W=()
	for kv in ${line#BENCH }; do
		W[${kv%%=*}]=${kv#*=}
	done
	W[errors]=$((W[err_connect] + W[err_read] + W[err_write] + W[err_timeout]))
}

# --- measuring ----------------------------------------------------------------------

# proc_mem PID...: "procs peak_sum_kb peak_max_kb anon_max_kb file_max_kb" from
# /proc/PID/status (VmHWM: the peak resident set; RssAnon/RssFile: now).
proc_mem()
{
	local p
	for p in "$@"; do
		awk '
			/^VmHWM:/ { h = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
			END { if (h != "") print h, a, f }' "/proc/$p/status" 2>/dev/null
	done | awk '
		{ n++; sum += $1; if ($1 > max) max = $1; if ($2 > amax) amax = $2
		  if ($3 > fmax) fmax = $3 }
		END { printf "%d %d %d %d %d\n", n, sum, max, amax, fmax }'
}

# syncs_start LABEL PID...: count the fdatasync and fsync calls of the processes (perf
# stat on the system calls' tracepoints, which costs them next to nothing) until
# syncs_stop; without perf, nothing. syncs_stop sets SYNCS (the count, or empty).
SYNCS_PID=
syncs_start()
{
	local label=$1 pids
	shift
	SYNCS_FILE=$OUT/fdatasync-$label.txt
	SYNCS_PID=
	command -v perf >/dev/null 2>&1 || return 0
	pids=$(printf '%s,' "$@")
	perf stat -x, -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync \
	    -p "${pids%,}" -o "$SYNCS_FILE" \
	    >/dev/null 2>&1 &
	SYNCS_PID=$!
	sleep 0.3
}

syncs_stop()
{
	SYNCS=
	[ -n "$SYNCS_PID" ] || return 0
	kill -INT "$SYNCS_PID" 2>/dev/null
	wait "$SYNCS_PID" 2>/dev/null
	SYNCS_PID=
	SYNCS=$(awk -F, '$3 ~ /sys_enter_f(data)?sync/ && $1 ~ /^[0-9]+$/ { n += $1; seen = 1 }
	    END { if (seen) print n }' "$SYNCS_FILE" 2>/dev/null)
}

# cpu_ticks PID...: "user system" CPU time of the processes (every thread, and children
# they reaped: webhook's commands) in clock ticks: utime + cutime, stime + cstime.
cpu_ticks()
{
	local p
	for p in "$@"; do
		sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $14, $13 + $15 }'
	done | awk '{ u += $1; s += $2 } END { print u + 0, s + 0 }'
}

CLK_TCK=$(getconf CLK_TCK)

# cpu_stat: "busy total" ticks of the whole machine from /proc/stat (busy: all but idle
# and iowait).
cpu_stat()
{
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i
		print t - $5 - $6, t; exit }' /proc/stat
}

# children_ticks: user + system CPU of the children this shell has reaped (bash's times),
# in clock ticks: wrk's, around a wrk run. Not in $(...): a subshell has no children yet.
children_ticks()
{
	times >"$WORK/times"
	CHILDREN_TICKS=$(awk -v hz="$CLK_TCK" 'NR == 2 {
		for (i = 1; i <= NF; i++) {
			split($i, ms, "m"); sub(/s$/, "", ms[2]); t += (ms[1] * 60 + ms[2]) * hz
		}
		printf "%.0f\n", t }' "$WORK/times")
}

# busy_now SECONDS: % of the machine's CPU in use over SECONDS (before we start).
busy_now()
{
	local a b
	a=$(cpu_stat)
	sleep "$1"
	b=$(cpu_stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
		printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]) }'
}

# quiet_check: say so when others use the CPU (their load lowers every figure).
quiet_check()
{
	local busy
	busy=$(busy_now 3)
	QUIET_BUSY=$busy
	[ "$busy" -le 10 ] && return 0
	note "the machine is busy: ${busy}% of its CPU in use before we start; the figures will be low. Top:"
	top -b -n 2 -d 1 -w 200 2>/dev/null | awk '/^ *PID/ { n++; next } n == 2 && shown < 5 {
		printf "bench:   %5s%%  %s\n", $9, $12; shown++ }' >&2
}

# cpu_per_req "U0 S0" "U1 S1" REQUESTS: "user+system" microseconds of CPU per request.
cpu_per_req()
{
	awk -v a="$1" -v b="$2" -v n="$3" -v hz="$CLK_TCK" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		if (n <= 0) { print "-"; exit }
		printf "%.0f+%.0f", (y[1] - x[1]) / hz * 1e6 / n, (y[2] - x[2]) / hz * 1e6 / n }'
}

# verify_chain LOG: the whole chain, with idwise-log verify when it is built, else perl.
verify_chain()
{
	if [ -x "$BUILD/idwise-log" ] && "$BUILD/idwise-log" verify "$1" >"$WORK/verify.out" 2>&1
	then
		return 0
	elif [ -x "$BUILD/idwise-log" ] && "$BUILD/idwise-log" --help 2>&1 | grep -q verify; then
		cat "$WORK/verify.out"
		return 1
	fi
	perl -MDigest::SHA=sha256_hex -ne '
		BEGIN { $prev = "0" x 64 }
		/\n\z/ or die "line $.: not complete\n";
		my ($seq) = /^\{"v":1,"seq":(\d+),/ or die "line $.: no seq\n";
		my ($p) = /"prev":"([0-9a-f]{64})"\}\n\z/ or die "line $.: no prev\n";
		$seq == $. or die "line $.: seq $seq\n";
		$p eq $prev or die "line $.: prev does not match the line before\n";
		$prev = sha256_hex($_);' "$1"
}

# log_check LOG BASE STOPS CONNS ACKS-FILE...: after a run, the log must hold BASE records
# from before plus every acknowledged delivery: each acknowledged seq once, in the log; the
# records that nobody acknowledged at most STOPS x CONNS (requests in flight when wrk
# stopped, whose replies it dropped); every new record's id distinct; the chain verifies.
# Sets CHECK ("ok: ..." or "FAILED: ...").
log_check()
{
	local log=$1 base=$2 stops=$3 conns=$4 lines acked distinct maxseq minseq dups extra
	shift 4
	lines=$(wc -l <"$log" | tr -d ' ')
	sort -n "$@" >"$WORK/acked.sorted"
	acked=$(wc -l <"$WORK/acked.sorted" | tr -d ' ')
	distinct=$(uniq "$WORK/acked.sorted" | wc -l | tr -d ' ')
	minseq=$(head -n 1 "$WORK/acked.sorted")
	maxseq=$(tail -n 1 "$WORK/acked.sorted")
	extra=$((lines - base - acked))
	CHECK="FAILED"
	if [ "$acked" -ne "$distinct" ]; then
		CHECK="FAILED: $((acked - distinct)) seqs acknowledged twice"
	elif [ "$acked" -gt 0 ] && { [ "$minseq" -le "$base" ] || [ "$maxseq" -gt "$lines" ]; }
	then
		CHECK="FAILED: acknowledged seqs $minseq..$maxseq, log has $base..$lines"
	elif [ "$extra" -lt 0 ] || [ "$extra" -gt $((stops * conns)) ]; then
		CHECK="FAILED: $lines records, $base before + $acked acknowledged (+$extra)"
	else
		dups=$(tail -n +"$((base + 1))" "$log" | jq -r .id | sort | uniq -d | head -n 3)
		if [ -n "$dups" ]; then
			CHECK="FAILED: ids stored twice: $(echo $dups)"
		elif ! verify_chain "$log" >"$WORK/chain.err" 2>&1; then
			CHECK="FAILED: chain: $(head -n 1 "$WORK/chain.err")"
		else
			CHECK="ok: $((lines - base)) new records = $acked acknowledged + $extra in flight at a stop; chain verifies"
		fi
	fi
}

bench_cleanup()
{
	local name
	trap - EXIT INT TERM HUP
	for name in "${!FCGI_PIDS[@]}"; do
		fcgi_stop "$name"
	done
	[ -z "$APACHE_PID" ] || bench_stop "$APACHE_PID"
	[ -z "$WEBHOOK_PID" ] || bench_stop "$WEBHOOK_PID"
	[ -z "$PHP_FPM_PID" ] || bench_stop "$PHP_FPM_PID"
	[ -z "$NGINX_PID" ] || bench_stop -QUIT "$NGINX_PID"
	wait 2>/dev/null
	if [ "${KEEP_WORK:-0}" -eq 0 ] && [ -n "${WORK_MADE:-}" ]; then
		rm -rf "$WORK"
	elif [ -n "${WORK:-}" ]; then
		note "kept the work directory $WORK"
	fi
}

# bench_init: the work directory (made unless given), its filesystem checked, the binaries
# copied where $RUN_USER can run them, the exit trap.
bench_init()
{
	local dev fs
	mkdir -p "$OUT" || die "cannot create $OUT"
	if [ -z "${WORK:-}" ]; then
		WORK=$(mktemp -d /var/tmp/idwise-bench.XXXXXX) || die "mktemp failed"
		WORK_MADE=1
	fi
	mkdir -p "$WORK" && chmod 0755 "$WORK" || die "cannot use $WORK"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	read -r dev fs <<<"$(work_fs "$WORK")"
	case $fs in
	tmpfs|ramfs|overlay)
		[ "${ALLOW_TMPFS:-0}" -eq 1 ] ||
		    die "$WORK is on $fs, not a disk: fdatasync would cost nothing. Give -W DIR on the filesystem the log would live on"
		;;
	esac
	mkdir -p "$WORK/bin"
	cp "$BUILD/idwise-fcgi" "$BUILD/bench/minimal-fcgi" "$WORK/bin/" || die "cannot copy the binaries"
	chmod 0755 "$WORK/bin" "$WORK/bin/"*
}
