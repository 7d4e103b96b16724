# tests/lib.sh: helpers for the integration tests, sourced by tests/integration/*.sh.
#
# The test harness (Makefile.am) exports top_srcdir, top_builddir (absolute) and SAMPLES.
# Sourcing this file creates a scratch directory $TEST_TMP under $top_builddir/tests and
# installs an exit trap that stops every server started here and removes $TEST_TMP,
# unless a check failed: then it is kept and its path printed.
#
#   TAP           ok DESC CMD [ARG...], is GOT WANT DESC, isnt, like, diag, bail, done_testing,
#                 TODO=REASON (known bugs)
#   ports         free_port
#   config        write_config DIR [key=value...]  (sets CONF, LOG, TOKEN, ...)
#   privileges    RUN_USER, RESPONDER_ARGS (--user RUN_USER when root), give_to_responder
#   responder     start_responder NAME CONF [PROCS], stop_responder NAME
#   nginx         start_nginx SOCKET..., start_nginx_snippet SNIPPET FROM=TO..., stop_nginx
#                 (set NGINX_PORT, and URL)
#   Apache        start_apache NAME=CONF..., stop_apache, fcgid_pids CONF (set APACHE_PORT)
#   requests      post FILE [CURL-ARG...], post_string JSON [CURL-ARG...], request METHOD ...
#                 (set STATUS, BODY; header NAME reads a reply header);
#                 reply_is STATUS JSON DESC, error_is STATUS DESC check the last reply
#   CGI           cgi_run CONF BODYFILE [VAR=value...], cgi_run_piped, and
#                 fcgi_run SOCKET BODYFILE [VAR=value...] (cgi-fcgi), fcgi_post SOCKET FILE
#                 (set STATUS, BODY, CGI_RC)
#   log           log_count LOG, log_record LOG SEQ [JQ-FILTER], log_last LOG, check_chain LOG...,
#                 rotated_files LOG
#   load          step_event ID, make_ids PREFIX N, deliver_batch IDS DIR, deliver_until_ok
#                 IDS DIR (retries like IDWise), code_count, reply_seqs, check_delivered,
#                 load_start DIR PREFIX (in the background until load_stop), load_running

set -u

: "${top_srcdir:?top_srcdir is not set: run the tests with make check}"
: "${top_builddir:?top_builddir is not set: run the tests with make check}"
SAMPLES=${SAMPLES:-$top_srcdir/tests/samples}
IDWISE_FCGI=${IDWISE_FCGI:-$top_builddir/idwise-fcgi}
GEN_LOG=${GEN_LOG:-$top_builddir/tests/gen-log}	# writes chained records (tests/gen-log.c)
# sha256sum of each line (tests/line-sha256.c), for check_chain; without it, split + sha256sum
LINE_SHA256=${LINE_SHA256:-$top_builddir/tests/line-sha256}
ZERO_HASH=0000000000000000000000000000000000000000000000000000000000000000
POLL_STEPS=${POLL_STEPS:-200}		# polls of 50 ms: 10 s for anything to come up or go

# --- TAP -----------------------------------------------------------------------------

_tap_count=0
_tap_failed=0
_tap_done=0

# TODO=REASON before a check marks it as a known bug (TAP "# TODO"): its failure is an
# expected failure (XFAIL), and once it passes (XPASS) the suite fails until the mark goes.
TODO=

_tap_result()	# _tap_result PASS DESC
{
	local todo=
	set -- "$1" "${2//#/\\#}"	# a bare "#" would start a TAP directive
	[ -z "$TODO" ] || todo=" # TODO ${TODO//#/}"
	_tap_count=$((_tap_count + 1))
	if [ "$1" -eq 1 ]; then
		printf 'ok %d - %s%s\n' "$_tap_count" "$2" "$todo"
	else
		[ -n "$todo" ] || _tap_failed=$((_tap_failed + 1))
		printf 'not ok %d - %s%s\n' "$_tap_count" "$2" "$todo"
	fi
}

# diag LINE...: TAP diagnostics, one "#" line per argument (and per line in it).
diag()
{
	local arg line
	for arg in "$@"; do
		while IFS= read -r line; do
			printf '#   %s\n' "$line"
		done <<<"$arg"
	done
}

# not CMD [ARG...]: succeeds when CMD fails (for "ok DESC not CMD").
not()
{
	! "$@"
}

# quiet CMD [ARG...]: CMD with its stdout discarded (for "ok DESC quiet CMD").
quiet()
{
	"$@" >/dev/null
}

# ok DESC CMD [ARG...]: passes when CMD exits 0.
ok()
{
	local desc=$1
	shift
	if "$@"; then
		_tap_result 1 "$desc"
		return 0
	fi
	_tap_result 0 "$desc"
	return 1
}

# is GOT WANT DESC: passes when the strings are equal.
is()
{
	if [ "$1" = "$2" ]; then
		_tap_result 1 "$3"
		return 0
	fi
	_tap_result 0 "$3"
	diag "got:  '$1'" "want: '$2'"
	return 1
}

# isnt GOT UNWANTED DESC
isnt()
{
	if [ "$1" != "$2" ]; then
		_tap_result 1 "$3"
		return 0
	fi
	_tap_result 0 "$3"
	diag "got '$1', which it must not be"
	return 1
}

# like GOT ERE DESC: passes when GOT matches the extended regular expression.
like()
{
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		_tap_result 1 "$3"
		return 0
	fi
	_tap_result 0 "$3"
	diag "got:  '$1'" "want: match of /$2/"
	return 1
}

# bail MSG: abort the script; the TAP driver reports an error.
bail()
{
	printf 'Bail out! %s\n' "$*"
	_tap_failed=$((_tap_failed + 1))
	exit 1
}

# done_testing: print the plan; a script that checked nothing fails.
done_testing()
{
	_tap_done=1
	if [ "$_tap_count" -eq 0 ]; then
		_tap_result 0 "the script ran at least one check"
	fi
	printf '1..%d\n' "$_tap_count"
	[ "$_tap_failed" -eq 0 ] || exit 1
	exit 0
}

# --- scratch directory and clean-up --------------------------------------------------

_cleanups=()

# at_exit CMD...: run CMD (a single command line string) when the script exits.
at_exit()
{
	_cleanups+=("$*")
}

_on_exit()
{
	local rc=$? i
	trap - EXIT INT TERM HUP
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	if [ "$_tap_done" -eq 0 ] && [ "$rc" -eq 0 ]; then
		rc=1
	fi
	if [ "$rc" -ne 0 ] || [ "$_tap_failed" -ne 0 ]; then
		printf '# kept the test directory: %s\n' "$TEST_TMP"
	else
		rm -rf "$TEST_TMP" "$SOCK_DIR"
	fi
	exit "$rc"
}

# The account the responder runs as. The tests run as root in CI: idwise-fcgi then gets
# --user RUN_USER, so it reads its config and secrets (root's, mode 0600) as root, binds,
# and serves and writes its logs as RUN_USER, as in production. The directories its logs
# go in are given to RUN_USER (give_to_responder). Not root: RUN_USER is empty and the
# responder runs as whoever runs the tests.
RUN_USER=
RESPONDER_ARGS=()
if [ "$(id -u)" -eq 0 ]; then
	RUN_USER=${IDWISE_TEST_USER:-nobody}
	id -u "$RUN_USER" >/dev/null 2>&1 || bail "no account $RUN_USER to run the responder as"
	RESPONDER_ARGS=(--user "$RUN_USER")
fi

# as_run_user CMD [ARG...]: CMD as RUN_USER (as is when not root).
as_run_user()
{
	if [ -n "$RUN_USER" ]; then
		setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --init-groups -- "$@"
	else
		"$@"
	fi
}

# give_to_responder PATH...: the responder's account owns PATH (a log directory).
give_to_responder()
{
	[ -z "$RUN_USER" ] || chown "$RUN_USER:" "$@"
}

# make_test_dir PARENT: a new scratch directory the responder's account can reach.
make_test_dir()
{
	local dir
	dir=$(mktemp -d "$1/${2:-tmp}.XXXXXX") || return 1
	chmod 0755 "$dir" && as_run_user test -x "$dir/." || { rm -rf "$dir"; return 1; }
	printf '%s\n' "$dir"
}

mkdir -p "$top_builddir/tests" || bail "cannot create $top_builddir/tests"
# Under the build tree when RUN_USER can reach it, else under /tmp.
TEST_TMP=$(make_test_dir "$top_builddir/tests") || TEST_TMP=$(make_test_dir /tmp idwise-test) ||
    bail "cannot make a test directory $RUN_USER can reach"
# Unix socket paths are limited to 107 bytes; deep build trees (distcheck) can exceed it.
SOCK_DIR=$TEST_TMP
if [ ${#TEST_TMP} -gt 80 ]; then
	SOCK_DIR=$(make_test_dir /tmp idwise-sock) || bail "mktemp failed"
fi
trap _on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# wait_for CMD [ARG...]: poll CMD every 50 ms until it succeeds (0); 1 after POLL_STEPS
# tries, or at once when CMD returns 2 (it will never succeed).
wait_for()
{
	local i rc
	for ((i = 0; i < POLL_STEPS; i++)); do
		"$@"
		rc=$?
		[ "$rc" -eq 0 ] && return 0
		[ "$rc" -eq 2 ] && return 1
		sleep 0.05
	done
	return 1
}

# now_ms: milliseconds since the epoch (without a fork).
now_ms()
{
	local us=${EPOCHREALTIME//[.,]/}
	printf '%s\n' "$((us / 1000))"
}

# pid_alive PID: the process exists and is not a zombie (spawn-fcgi's children are not
# ours to reap).
pid_alive()
{
	local state
	kill -0 "$1" 2>/dev/null || return 1
	state=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)
	[ "$state" != Z ]
}

pid_gone()
{
	! pid_alive "$1"
}

# --- ports ---------------------------------------------------------------------------

port_free()
{
	if command -v ss >/dev/null 2>&1; then
		[ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
	else
		! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# free_port: print a port in 20000-40000 that nothing uses now.
free_port()
{
	local i p
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 20001))
		if port_free "$p"; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}

# --- config and secrets ----------------------------------------------------------------

random_hex()	# random_hex BYTES
{
	od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# write_secret FILE LINE...: one secret per line, mode 0600.
write_secret()
{
	local file=$1
	shift
	(umask 077 && printf '%s\n' "$@" >"$file")
}

# The credentials every config uses; a second bearer token shows rotation.
TOKEN=tok-$(random_hex 16)
TOKEN2=tok2-$(random_hex 16)
BASIC_USER=idwise
BASIC_PASSWORD=pw-$(random_hex 12)
HEADER_NAME=X-IDWise-Token
HEADER_VALUE=hv-$(random_hex 16)
SECRETS=("$TOKEN" "$TOKEN2" "$BASIC_PASSWORD" "$HEADER_VALUE")

_config_order=(log env auth basic_user basic_password_file bearer_token_file header_name
    header_value_file allow_from max_body unknown_events sync)

# write_config DIR [key=value...]: write DIR/idwise-fcgi.conf and the secret files it
# names; DIR (where the log goes) belongs to RUN_USER, the secrets to root (0600).
# Defaults: log DIR/events.jsonl, env test, auth bearer, allow_from 127.0.0.1 and
# ::1, max_body 65536, unknown_events accept, sync data. "key=" leaves a key out; keys not
# in SPEC §5 are written too (for testing config errors). Sets CONF and LOG.
write_config()
{
	local dir=$1 a k
	local -A kv=()
	local -a extra=()
	shift
	mkdir -p "$dir" && give_to_responder "$dir" || return 1
	for a in "$@"; do
		k=${a%%=*}
		[ -n "${kv[$k]+set}" ] || [[ " ${_config_order[*]} " == *" $k "* ]] ||
		    extra+=("$k")
		kv[$k]=${a#*=}
	done
	: "${kv[log]=$dir/events.jsonl}" "${kv[env]=test}" "${kv[auth]=bearer}"
	: "${kv[allow_from]=127.0.0.1, ::1}" "${kv[max_body]=65536}"
	: "${kv[unknown_events]=accept}" "${kv[sync]=data}"
	case ${kv[auth]} in
	basic)
		: "${kv[basic_user]=$BASIC_USER}"
		: "${kv[basic_password_file]=$dir/basic_password}"
		write_secret "$dir/basic_password" "$BASIC_PASSWORD"
		;;
	bearer)
		: "${kv[bearer_token_file]=$dir/bearer_tokens}"
		write_secret "$dir/bearer_tokens" "$TOKEN" "$TOKEN2"
		;;
	header)
		: "${kv[header_name]=$HEADER_NAME}"
		: "${kv[header_value_file]=$dir/header_values}"
		write_secret "$dir/header_values" "$HEADER_VALUE"
		;;
	esac
	CONF=$dir/idwise-fcgi.conf
	LOG=${kv[log]}
	{
		printf '# written by tests/lib.sh\n'
		for k in "${_config_order[@]}" "${extra[@]}"; do
			[ -z "${kv[$k]:-}" ] || printf '%s = %s\n' "$k" "${kv[$k]}"
		done
	} >"$CONF"
}

# --- the responder under spawn-fcgi ---------------------------------------------------

declare -A _resp_pid=() _resp_pids_file=()

# responder_socket NAME: the unix socket of responder NAME.
responder_socket()
{
	printf '%s/%s.sock\n' "$SOCK_DIR" "$1"
}

# start_responder NAME CONF [PROCS]: spawn-fcgi binds $SOCK_DIR/NAME.sock and runs
# idwise-fcgi -c CONF (--user RUN_USER when root) on it, in the foreground of a background job (-n) for one process,
# or PROCS forked children (-F). The responders' stderr goes to $TEST_TMP/NAME.stderr.
start_responder()
{
	local name=$1 conf=$2 procs=${3:-1} sock err
	sock=$(responder_socket "$name")
	err=$TEST_TMP/$name.stderr
	[ -x "$IDWISE_FCGI" ] || bail "$IDWISE_FCGI is not built"
	[ -z "${_resp_pid[$name]:-}${_resp_pids_file[$name]:-}" ] ||
	    bail "responder $name is already running"
	rm -f "$sock"
	# sh -c redirects stderr (spawn-fcgi's forked children get /dev/null) and execs,
	# so the recorded pid is idwise-fcgi's own.
	set -- /bin/sh -c 'exec 2>>"$0"; exec "$@"' "$err" "$IDWISE_FCGI" -c "$conf" \
	    "${RESPONDER_ARGS[@]}"
	if [ "$procs" -eq 1 ]; then
		spawn-fcgi -n -s "$sock" -M 0600 -- "$@" >>"$err" 2>&1 &
		_resp_pid[$name]=$!
		at_exit "stop_responder $name"
		wait_for test -S "$sock" && pid_alive "${_resp_pid[$name]}" ||
		    { diag "responder $name did not start:" "$(tail -n 5 "$err")"; return 1; }
	else
		_resp_pids_file[$name]=$TEST_TMP/$name.pids
		rm -f "${_resp_pids_file[$name]}"
		at_exit "stop_responder $name"
		spawn-fcgi -F "$procs" -P "${_resp_pids_file[$name]}" -s "$sock" -M 0600 -- \
		    "$@" >>"$err" 2>&1 ||
		    { diag "spawn-fcgi -F $procs failed:" "$(tail -n 5 "$err")"; return 1; }
		[ "$(responder_pids "$name" | wc -l)" -eq "$procs" ] ||
		    { diag "responder $name: not $procs processes"; return 1; }
	fi
	return 0
}

# responder_pids NAME: the pids of responder NAME, one a line.
responder_pids()
{
	if [ -n "${_resp_pid[$1]:-}" ]; then
		printf '%s\n' "${_resp_pid[$1]}"
	elif [ -n "${_resp_pids_file[$1]:-}" ] && [ -f "${_resp_pids_file[$1]}" ]; then
		tr -s ' \n' '\n\n' <"${_resp_pids_file[$1]}" | grep -E '^[0-9]+$'
	fi
}

_all_gone()
{
	local p
	for p in "$@"; do
		pid_alive "$p" && return 1
	done
	return 0
}

# stop_responder NAME: SIGTERM, wait (SIGKILL after the timeout). Sets STOP_RC to the exit
# status of a single-process responder (137 for one that had to be killed), "gone" for -F.
STOP_RC=
stop_responder()
{
	local name=$1
	local -a pids
	STOP_RC=gone
	mapfile -t pids < <(responder_pids "$name")
	[ "${#pids[@]}" -gt 0 ] || return 0
	kill -TERM "${pids[@]}" 2>/dev/null
	if ! wait_for _all_gone "${pids[@]}"; then
		diag "responder $name ignored SIGTERM; killing it"
		kill -KILL "${pids[@]}" 2>/dev/null
	fi
	if [ -n "${_resp_pid[$name]:-}" ]; then
		wait "${_resp_pid[$name]}" 2>/dev/null
		STOP_RC=$?
	fi
	unset "_resp_pid[$name]" "_resp_pids_file[$name]"
	rm -f "$(responder_socket "$name")"
}

# --- nginx --------------------------------------------------------------------------

NGINX_DIR=$TEST_TMP/nginx
NGINX_PID=
NGINX_PORT=
NGINX_USER=${NGINX_USER:-root}	# nginx's workers, when the tests run as root
NGINX_SERVER=			# directives added to the server block, before the snippet
URL=
NGINX_SNIPPET_SOCKET=unix:/run/idwise-fcgi/idwise-fcgi.sock
NGINX_HTTP_EXTRA=${NGINX_HTTP_EXTRA:-}	# directives for the http {} block, e.g. timeouts

# nginx_config PORT SNIPPET [FROM=TO...]: generate $NGINX_DIR from tests/nginx.conf.in and
# the operator's SNIPPET (a file of nginx/) with each "fastcgi_pass FROM;" of it made
# "fastcgi_pass TO;" (each must be there).
nginx_config()
{
	local port=$1 snippet=$2 user= pair from to
	shift 2
	mkdir -p "$NGINX_DIR" || return 1
	cp "$top_srcdir/nginx/$snippet" "$NGINX_DIR/idwise-fcgi.conf" || return 1
	for pair in "$@"; do
		from=${pair%%=*} to=${pair#*=}
		grep -qF "fastcgi_pass $from;" "$NGINX_DIR/idwise-fcgi.conf" ||
		    { diag "nginx/$snippet has no 'fastcgi_pass $from;'"; return 1; }
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
	local try port
	[ -z "$NGINX_PID" ] || bail "nginx is already running"
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || bail "no free port"
		nginx_config "$port" "$@" || bail "cannot write the nginx config"
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

stop_nginx()
{
	[ -n "$NGINX_PID" ] || return 0
	kill -QUIT "$NGINX_PID" 2>/dev/null
	wait_for pid_gone "$NGINX_PID" || kill -KILL "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=
}

# --- Apache with mod_fcgid ----------------------------------------------------------

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
	local pair user= vhosts
	mkdir -p "$APACHE_DIR/run" "$APACHE_DIR/htdocs" || return 1
	vhosts=$(for pair in "$@"; do apache_vhost "${pair%%=*}" "${pair#*=}" || exit 1; done) ||
	    return 1
	[ -z "$APACHE_USER" ] || user="User $APACHE_USER"$'\n'"Group $APACHE_USER"
	awk -v dir="$APACHE_DIR" -v port="$APACHE_PORT" -v user="$user" -v vhosts="$vhosts" '
		/^@USER@$/ { print user; next }
		/^@VHOSTS@$/ { print vhosts; next }
		{ gsub(/@DIR@/, dir); gsub(/@PORT@/, port); print }' \
	    "$top_srcdir/tests/apache.conf.in" >"$APACHE_DIR/httpd.conf"
}

# start_apache NAME=CONF...: Apache 2.4 with mod_fcgid on 127.0.0.1 at a free port, in the
# foreground of a background job, its children as APACHE_USER. Sets APACHE_PORT.
start_apache()
{
	local try
	[ -z "$APACHE_PID" ] || bail "Apache is already running"
	for ((try = 0; try < 5; try++)); do
		APACHE_PORT=$(free_port) || bail "no free port"
		apache_config "$@" || bail "cannot write the Apache config"
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
	[ -n "$APACHE_PID" ] || return 0
	kill -TERM "$APACHE_PID" 2>/dev/null
	wait_for pid_gone "$APACHE_PID" || kill -KILL "$APACHE_PID" 2>/dev/null
	wait "$APACHE_PID" 2>/dev/null
	APACHE_PID=
}

# fcgid_pids CONF: the pids of the idwise-fcgi processes started with IDWISE_FCGI_CONFIG=CONF
# (those of one virtual host), one a line.
fcgid_pids()
{
	local p exe
	exe=$(readlink -f "$IDWISE_FCGI")
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] || continue
		tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qxF "IDWISE_FCGI_CONFIG=$1" || continue
		pid_alive "${p#/proc/}" && printf '%s\n' "${p#/proc/}"
	done
}

# --- requests through nginx ----------------------------------------------------------

CURL_AUTH=()		# credentials every request carries, e.g. (-H "Authorization: Bearer x")
CURL_ARGS=()		# other arguments every request carries, e.g. (-H "Host: site.test")
STATUS=
BODY=
_req_n=0

# request METHOD [CURL-ARG...]: send to $URL. Sets STATUS (HTTP code, 000 when curl
# failed) and BODY; the reply headers are in $TEST_TMP/reply.headers.
request()
{
	local method=$1
	shift
	_req_n=$((_req_n + 1))
	STATUS=$(curl -sS -X "$method" -o "$TEST_TMP/reply.body" -D "$TEST_TMP/reply.headers" \
	    -w '%{http_code}' -H 'Expect:' "${CURL_ARGS[@]}" "${CURL_AUTH[@]}" "$@" "$URL" \
	    2>"$TEST_TMP/curl.err")
	BODY=$(cat "$TEST_TMP/reply.body" 2>/dev/null)
	cat "$TEST_TMP/reply.headers" "$TEST_TMP/reply.body" >>"$TEST_TMP/replies.all" 2>/dev/null
	[ -n "$STATUS" ] || STATUS=000
}

# post FILE [CURL-ARG...]: POST the file's bytes with Content-Type: application/json,
# unless the arguments hold a -H 'Content-Type: ...' of their own (-H 'Content-Type:'
# sends none).
post()
{
	local file=$1 a ctype=(-H 'Content-Type: application/json')
	shift
	for a in "$@"; do
		case ${a,,} in
		content-type:*) ctype=() ;;
		esac
	done
	request POST --data-binary "@$file" "${ctype[@]}" "$@"
}

# post_string TEXT [CURL-ARG...]: POST TEXT exactly (printf %s) like post.
post_string()
{
	local file=$TEST_TMP/request.$((_req_n + 1))
	printf '%s' "$1" >"$file"
	shift
	post "$file" "$@"
}

# header NAME: the value of reply header NAME (case-insensitive), without CR.
header()
{
	awk -v want="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" '
		{ sub(/\r$/, "") }
		/^HTTP\// { found = "" ; next }
		{
			i = index($0, ":")
			if (i > 0 && tolower(substr($0, 1, i - 1)) == want) {
				v = substr($0, i + 1); sub(/^[ \t]+/, "", v); found = v
			}
		}
		END { printf "%s", found }' "$TEST_TMP/reply.headers"
}

# content_type: the last reply's media type, lower case, without parameters.
content_type()
{
	header content-type | cut -d';' -f1 | tr -d ' \t' | tr '[:upper:]' '[:lower:]'
}

# reply_is STATUS JSON DESC: the last reply has that status, Content-Type
# application/json and that JSON body (member order and spacing aside).
reply_is()
{
	is "$STATUS $(content_type) $(json_norm "$BODY")" \
	    "$1 application/json $(json_norm "$2")" "$3"
}

# error_is STATUS DESC: the last reply has that status, Content-Type application/json
# and an error body {"error": "<reason>"}.
error_is()
{
	local shape=not-an-error-object
	is_error_reply && shape='{"error":"..."}'
	is "$STATUS $(content_type) $shape" "$1 application/json {\"error\":\"...\"}" "$2" ||
	    diag "body: $BODY"
}

# json_norm TEXT: TEXT as sorted compact JSON, or "not JSON: TEXT".
json_norm()
{
	jq -cS . <<<"$1" 2>/dev/null || printf 'not JSON: %s' "$1"
}

# is_error_reply: BODY is exactly {"error": "<non-empty string>"}.
is_error_reply()
{
	jq -e 'type == "object" and keys == ["error"] and (.error | type == "string")
	    and (.error | length > 0)' <<<"$BODY" >/dev/null 2>&1
}

# --- plain CGI ----------------------------------------------------------------------

CGI_RC=

# cgi_run CONF BODYFILE [VAR=value...]: run idwise-fcgi -c CONF (--user RUN_USER when
# root) as a CGI program with
# the file on stdin and the CGI variables given (no other CGI variable of the caller's).
# Sets STATUS (from the Status: header), BODY, CGI_RC; the headers are in
# $TEST_TMP/reply.headers. cgi_run_piped: the same with stdin a pipe.
cgi_run()
{
	local conf=$1 body=$2
	shift 2
	_cgi_exec "$IDWISE_FCGI" -c "$conf" "${RESPONDER_ARGS[@]}" -- "$@" <"$body" \
	    >"$TEST_TMP/cgi.out"
	CGI_RC=$?
	split_cgi_reply "$TEST_TMP/cgi.out"
}

cgi_run_piped()
{
	local conf=$1 body=$2
	shift 2
	cat "$body" | _cgi_exec "$IDWISE_FCGI" -c "$conf" "${RESPONDER_ARGS[@]}" -- "$@" \
	    >"$TEST_TMP/cgi.out"
	CGI_RC=$?
	split_cgi_reply "$TEST_TMP/cgi.out"
}

# fcgi_run SOCKET BODYFILE [VAR=value...]: one FastCGI request to SOCKET with cgi-fcgi:
# the variables as parameters, the file as stdin (cgi-fcgi sends what it can read of
# CONTENT_LENGTH bytes, then ends stdin). Sets STATUS, BODY, CGI_RC like cgi_run.
fcgi_run()
{
	local sock=$1 body=$2
	shift 2
	_cgi_exec cgi-fcgi -bind -connect "$sock" -- "$@" <"$body" >"$TEST_TMP/cgi.out"
	CGI_RC=$?
	split_cgi_reply "$TEST_TMP/cgi.out"
}

# fcgi_post SOCKET FILE: POST the file's bytes straight to the responder on SOCKET, with
# the parameters nginx would pass (JSON, bearer $TOKEN, from 127.0.0.1). Sets STATUS, BODY
# and CGI_RC like fcgi_run.
fcgi_post()
{
	fcgi_run "$1" "$2" REQUEST_METHOD=POST CONTENT_TYPE=application/json \
	    "CONTENT_LENGTH=$(wc -c <"$2" | tr -d ' ')" REMOTE_ADDR=127.0.0.1 \
	    "HTTP_AUTHORIZATION=Bearer $TOKEN"
}

# _cgi_exec PROGRAM [ARG...] -- [VAR=value...]: PROGRAM in a clean CGI environment.
_cgi_exec()
{
	local -a cmd=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		cmd+=("$1")
		shift
	done
	shift
	(
		unset REQUEST_METHOD CONTENT_LENGTH CONTENT_TYPE REMOTE_ADDR HTTP_AUTHORIZATION \
		    GATEWAY_INTERFACE SERVER_PROTOCOL QUERY_STRING IDWISE_FCGI_CONFIG
		export GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1
		[ $# -eq 0 ] || export "$@"
		exec timeout 30 "${cmd[@]}"
	) 2>>"$TEST_TMP/cgi.stderr"
}

# split_cgi_reply FILE: a CGI/FastCGI reply (headers, blank line, body) into
# $TEST_TMP/reply.headers, STATUS and BODY. No Status: header means 200 (CGI/1.1).
split_cgi_reply()
{
	cp "$1" "$TEST_TMP/reply.raw"
	awk '{ sub(/\r$/, "") } /^$/ { exit } { print }' "$1" >"$TEST_TMP/reply.headers"
	BODY=$(awk 'body { print; next } { sub(/\r$/, "") } /^$/ { body = 1 }' "$1")
	cat "$1" >>"$TEST_TMP/replies.all"
	STATUS=$(sed -n 's/^[Ss]tatus:[[:space:]]*\([0-9][0-9][0-9]\).*/\1/p' \
	    "$TEST_TMP/reply.headers" | head -n 1)
	if [ -z "$STATUS" ]; then
		if [ -s "$TEST_TMP/reply.headers" ]; then STATUS=200; else STATUS=none; fi
	fi
}

# --- the event log ------------------------------------------------------------------

log_count()
{
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# log_record LOG SEQ [JQ-FILTER]: the record with that seq (compact), or FILTER of it (-r).
log_record()
{
	jq -r --argjson s "$2" "select(.seq == \$s) | ${3:-tojson}" "$1" 2>/dev/null
}

# log_last LOG [JQ-FILTER]
log_last()
{
	tail -n 1 "$1" | jq -r "${2:-tojson}" 2>/dev/null
}

# log_state LOG: a fingerprint of the log (lines and hash) to see that nothing changed.
log_state()
{
	if [ -f "$1" ]; then
		printf '%s %s\n' "$(log_count "$1")" "$(sha256sum <"$1" | cut -d' ' -f1)"
	else
		echo absent
	fi
}

# line_hash LOG N: hex SHA-256 of line N including its newline.
line_hash()
{
	sed -n "$2{p;q}" "$1" | sha256sum | cut -d' ' -f1
}

# check_chain LOG...: the files (oldest first) hold complete lines, each a JSON record with
# seq 1, 2, 3... and prev = SHA-256 of the previous line with its \n (64 zeros first). The
# hashes come from sha256sum or tests/line-sha256, never from idwise-fcgi's own code.
# Returns 0 when intact; otherwise says why (diag) and returns 1.
check_chain()
{
	local dir f n
	dir=$(mktemp -d "$TEST_TMP/chain.XXXXXX") || return 1
	for f in "$@"; do
		[ -s "$f" ] || { diag "$f: missing or empty"; return 1; }
		[ "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' ')" = 0a ] ||
		    { diag "$f: last line is not complete"; return 1; }
		cat "$f" >>"$dir/all"
	done
	n=$(log_count "$dir/all")
	if [ -x "$LINE_SHA256" ]; then
		"$LINE_SHA256" <"$dir/all" >"$dir/hashes"
	else
		# one file per line, so that one sha256sum run hashes every line with its \n
		(cd "$dir" && split -l 1 -a 9 -d all l. && sha256sum l.*) | cut -d' ' -f1 \
		    >"$dir/hashes"
	fi
	[ "$(log_count "$dir/hashes")" -eq "$n" ] || { diag "could not hash the lines"; return 1; }
	if ! jq -R -r 'fromjson | if type == "object" then "\(.seq) \(.prev)"
	    else error("not an object") end' "$dir/all" >"$dir/fields" 2>"$dir/jq.err"; then
		diag "a line is not a JSON object: $(head -n 1 "$dir/jq.err")"
		return 1
	fi
	awk -v zero="$ZERO_HASH" '
		NR == FNR { h[FNR] = $1; next }
		{
			want = FNR == 1 ? zero : h[FNR - 1]
			if ($1 != FNR "") { printf "line %d: seq %s, want %d\n", FNR, $1, FNR; bad = 1; exit }
			if ($2 != want) { printf "line %d: prev %s, want %s\n", FNR, $2, want; bad = 1; exit }
		}
		END { exit bad }' "$dir/hashes" "$dir/fields" >"$dir/why" ||
	    { diag "$(cat "$dir/why")"; return 1; }
	rm -rf "$dir"
	return 0
}

# no_sanitizer_reports FILE...: none of the stderr files holds an ASan/UBSan/LSan report.
no_sanitizer_reports()
{
	local hits
	hits=$(cat "$@" 2>/dev/null | grep -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' |
	    head -n 5)
	[ -z "$hits" ] || { diag "$hits"; return 1; }
}

# no_line_in FILE ERE: no line of FILE matches ERE (the first few that do are shown).
no_line_in()
{
	local hits
	hits=$(grep -E -- "$2" "$1" 2>/dev/null | head -n 5)
	[ -z "$hits" ] || { diag "$hits"; return 1; }
}

# no_secret_in FILE...: none of the files contains any configured secret.
no_secret_in()
{
	local s rc=0
	for s in "${SECRETS[@]}"; do
		if cat "$@" 2>/dev/null | grep -qF -- "$s"; then
			diag "a secret appears in: $*"
			rc=1
		fi
	done
	return "$rc"
}

# --- request bodies -----------------------------------------------------------------

# sized_event ID SIZE: a Finished Step delivery of exactly SIZE bytes (SIZE >= 80).
sized_event()
{
	local head="{\"event\":\"Finished Step\",\"body\":{\"eventId\":\"$1\",\"pad\":\""
	local n=$(($2 - ${#head} - 3))
	printf '%s%s"}}' "$head" "$(head -c "$n" /dev/zero | tr '\0' x)"
}

# deep_event ID DEPTH: a Finished Step delivery nested DEPTH levels deep, counting the
# envelope object as 1 and body as 2 (DEPTH >= 3).
deep_event()
{
	local n=$(($2 - 2)) open close
	open=$(head -c "$n" /dev/zero | tr '\0' '[')
	close=$(head -c "$n" /dev/zero | tr '\0' ']')
	printf '{"event":"Finished Step","body":{"eventId":"%s","n":%s%s}}' "$1" "$open" "$close"
}

# sha256_of FILE: hex SHA-256 of the file's bytes.
sha256_of()
{
	sha256sum <"$1" | cut -d' ' -f1
}

# step_event ID: a Finished Step delivery with eventId ID; the same body tests/gen-log
# stores, so a generated record and a delivery of its id are one event.
STEP_EVENT='{"event":"Finished Step","body":{"eventId":"%s","journeyId":"j-gen","stepId":"1"}}'
step_event()
{
	# shellcheck disable=SC2059
	printf "$STEP_EVENT" "$1"
}

# --- many deliveries at once ----------------------------------------------------------

# make_ids PREFIX N: PREFIX-1 ... PREFIX-N, one a line.
make_ids()
{
	seq -f "$1-%.0f" 1 "$2"
}

# deliver_batch IDS DIR [PARALLEL]: POST step_event ID for every id in the file IDS (one a
# line) to $URL with the bearer $TOKEN, PARALLEL (32) at a time from one curl process. The
# reply body goes to DIR/replies/ID; each attempt appends "ID CODE" to DIR/codes (000: no
# reply at all).
deliver_batch()
{
	local ids=$1 dir=$2 par=${3:-32} id body n=0
	mkdir -p "$dir/replies" || return 1
	while IFS= read -r id; do
		[ -n "$id" ] || continue
		[ "$n" -eq 0 ] || printf 'next\n'
		n=$((n + 1))
		# shellcheck disable=SC2059
		printf -v body "$STEP_EVENT" "$id"
		body=${body//\"/\\\"}
		printf 'url = "%s"\nheader = "Authorization: Bearer %s"\n' "$URL" "$TOKEN"
		printf 'header = "Content-Type: application/json"\nheader = "Expect:"\n'
		printf 'max-time = 60\noutput = "%s/replies/%s"\n' "$dir" "$id"
		printf 'write-out = "%s %%{http_code}\\n"\ndata-binary = "%s"\n' "$id" "$body"
	done <"$ids" >"$dir/curl.config"
	[ "$n" -gt 0 ] || return 0
	curl --parallel --parallel-max "$par" --no-progress-meter -sS --config "$dir/curl.config" \
	    >>"$dir/codes" 2>>"$dir/curl.err"
	return 0
}

# pending_ids IDS DIR: the ids of IDS without a 200 in DIR/codes.
pending_ids()
{
	awk 'FILENAME == ARGV[1] { if ($2 == "200") done[$1] = 1; next } !($1 in done)' \
	    "$2/codes" "$1"
}

# deliver_until_ok IDS DIR [PASSES]: deliver_batch the ids of IDS until each got a 200, as
# IDWise retries a failed delivery with the same body (here after 0.2 s instead of minutes),
# at most PASSES (100) rounds. 0 when every id got a 200.
deliver_until_ok()
{
	local ids=$1 dir=$2 passes=${3:-100} i
	mkdir -p "$dir" && touch "$dir/codes" || return 1
	for ((i = 0; i < passes; i++)); do
		pending_ids "$ids" "$dir" >"$dir/pending" || return 1
		[ -s "$dir/pending" ] || return 0
		[ "$i" -eq 0 ] || sleep 0.2
		deliver_batch "$dir/pending" "$dir" || return 1
	done
	pending_ids "$ids" "$dir" >"$dir/pending"
	[ ! -s "$dir/pending" ]
}

# code_count DIR CODE: how many attempts got HTTP status CODE.
code_count()
{
	awk -v c="$2" '$2 == c { n++ } END { print n + 0 }' "$1/codes" 2>/dev/null || echo 0
}

# reply_seqs DIR: "ID STATUS SEQ" for each reply body kept in DIR/replies, sorted.
reply_seqs()
{
	find "$1/replies" -type f -print0 | xargs -0 -r jq -r \
	    '[(input_filename | sub(".*/"; "")), .status, .seq] | map(tostring) | join(" ")' |
	    sort
}

# check_delivered IDS DIR FILE...: the log files hold a record for every id of IDS exactly
# once and no other record, and every 200 reply named the seq that record has. Says what
# is wrong (diag) and returns 1 otherwise.
check_delivered()
{
	local ids=$1 dir=$2 tmp bad
	shift 2
	tmp=$(mktemp -d "$TEST_TMP/delivered.XXXXXX") || return 1
	jq -r '"\(.id) \(.seq)"' "$@" >"$tmp/logged" 2>"$tmp/jq.err" ||
	    { diag "a log line is not JSON: $(head -n 1 "$tmp/jq.err")"; return 1; }
	bad=$(cut -d' ' -f1 "$tmp/logged" | sort | uniq -d | head -n 5)
	[ -z "$bad" ] || { diag "ids logged more than once:" "$bad"; return 1; }
	cut -d' ' -f1 "$tmp/logged" | sort >"$tmp/logged.ids"
	sort "$ids" >"$tmp/sent.ids"
	bad=$(comm -3 "$tmp/sent.ids" "$tmp/logged.ids" | head -n 5)
	[ -z "$bad" ] || { diag "sent but not logged (left), logged but not sent (right):" \
	    "$bad"; return 1; }
	sort "$tmp/logged" >"$tmp/logged.sorted"
	reply_seqs "$dir" | awk '$2 == "accepted" || $2 == "duplicate" { print $1, $3 }' |
	    sort >"$tmp/replied"
	bad=$(comm -23 "$tmp/replied" "$tmp/logged.sorted" | head -n 5)
	[ -z "$bad" ] || { diag "replies whose seq is not the logged one:" "$bad"; return 1; }
	[ "$(log_count "$tmp/replied")" -eq "$(log_count "$tmp/sent.ids")" ] ||
	    { diag "$(log_count "$tmp/replied") of $(log_count "$tmp/sent.ids") ids have a reply"; return 1; }
	rm -rf "$tmp"
}

# rotated_files LOG: the files of a rotated log, oldest first (ordered by their first seq):
# LOG, LOG.N, LOG-DATE, logrotate's .backup files; compressed ones are unpacked into a new
# directory under $TEST_TMP. Empty files are left out.
rotated_files()
{
	local f out dir
	dir=$(mktemp -d "$TEST_TMP/unpacked.XXXXXX") || return 1
	for f in "$1" "$1".* "$1"-*; do
		[ -f "$f" ] && [ -s "$f" ] || continue
		case $f in
		*.shm | *.idx | *.torn) continue ;;
		*.gz)
			out=$dir/$(basename "$f" .gz)
			gzip -dc "$f" >"$out" || return 1
			f=$out
			;;
		esac
		printf '%s %s\n' "$(head -n 1 "$f" | jq -r .seq)" "$f"
	done | sort -n | cut -d' ' -f2-
}

LOAD_PID=
LOAD_DIR=

# load_start DIR PREFIX [BATCH]: in the background, batch after batch of BATCH (400) new
# ids PREFIX-B-I, each delivered with deliver_until_ok, until load_stop. Every id sent is
# added to DIR/ids; a batch that could not be delivered, to DIR/failed. Sets LOAD_PID.
load_start()
{
	local dir=$1 prefix=$2 batch=${3:-400}
	[ -z "$LOAD_PID" ] || bail "a load is already running"
	mkdir -p "$dir" || return 1
	rm -f "$dir/stop"
	: >>"$dir/ids"
	(
		b=0
		while [ ! -e "$dir/stop" ]; do
			b=$((b + 1))
			make_ids "$prefix-$b" "$batch" >"$dir/batch.ids"
			cat "$dir/batch.ids" >>"$dir/ids"
			deliver_until_ok "$dir/batch.ids" "$dir" || echo "$b" >>"$dir/failed"
		done
	) &
	LOAD_PID=$!
	LOAD_DIR=$dir
	at_exit load_stop
}

# load_running: the load of load_start is still sending.
load_running()
{
	[ -n "$LOAD_PID" ] && pid_alive "$LOAD_PID"
}

# load_stop: the batch in hand is finished (every id a 200, or DIR/failed), then it stops.
load_stop()
{
	[ -n "$LOAD_PID" ] || return 0
	touch "$LOAD_DIR/stop"
	wait "$LOAD_PID"
	LOAD_PID=
}
