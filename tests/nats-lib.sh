# SPDX-License-Identifier: ISC
# tests/nats-lib.sh: a NATS JetStream cluster on loopback for the tests, sourced after
# tests/lib.sh. The servers are Debian's nats-server, each with JetStream on file storage
# under $TEST_TMP/nats/I, started and stopped by pid; lib.sh's exit trap stops them.
#
#   setup      nats_tls_setup (a CA and a server certificate made with openssl: NATS_CA),
#              nats_auth_setup USER (a password and its file, 0600: NATS_USER,
#              NATS_PASSWORD_FILE; the password joins SECRETS)
#   cluster    nats_cluster N: N servers in one cluster (with the auth and TLS set up
#              before, if any); sets NATS_URLS (URL,URL...) and NATS_URL for nats-tool
#   servers    nats_kill I (SIGKILL), nats_stop I (SIGTERM), nats_start I, nats_ready
#              (every running server's JetStream in touch with the meta leader),
#              nats_current (and each of its streams and consumers caught up),
#              nats_all_stop (all at once), nats_all_start
#   looking    nats_replicas STREAM (each server's messages and last seq of STREAM)
#   streams    nats_tool ARG... (tests/nats-tool with NATS_URL and the credentials)

NATS_TOOL=${NATS_TOOL:-$top_builddir/tests/nats-tool}
NATS_DIR=$TEST_TMP/nats
NATS_N=0
NATS_URLS=
NATS_URL=
NATS_CA=
NATS_USER=
NATS_PASSWORD_FILE=
NATS_SCHEME=nats
declare -a _nats_pid=() _nats_port=() _nats_mon=()
export NATS_URL NATS_CA NATS_USER NATS_PASSWORD_FILE

command -v nats-server >/dev/null || bail "nats-server is not installed (Debian: nats-server)"
[ -x "$NATS_TOOL" ] || bail "$NATS_TOOL is not built (make check builds it)"

# nats_tls_setup: $NATS_DIR/tls/ca.pem, and server.pem/server.key for 127.0.0.1 and
# localhost signed by it; the servers then take TLS only.
nats_tls_setup()
{
	local d=$NATS_DIR/tls
	mkdir -p "$d" || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=idwise test CA" \
	    -keyout "$d/ca.key" -out "$d/ca.pem" >"$d/openssl.log" 2>&1 &&
	    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" \
	    -out "$d/server.csr" >>"$d/openssl.log" 2>&1 &&
	    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/san.ext" &&
	    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
	    -CAcreateserial -days 2 -extfile "$d/san.ext" -out "$d/server.pem" \
	    >>"$d/openssl.log" 2>&1 ||
	    { diag "openssl:" "$(tail -n 5 "$d/openssl.log")"; return 1; }
	NATS_CA=$d/ca.pem
	NATS_SCHEME=tls
}

# nats_auth_setup USER: clients must log in as USER with a random password, kept in
# $NATS_DIR/password (mode 0600).
nats_auth_setup()
{
	mkdir -p "$NATS_DIR" || return 1
	NATS_USER=$1
	NATS_PASSWORD=npw-$(random_hex 16)
	NATS_PASSWORD_FILE=$NATS_DIR/password
	write_secret "$NATS_PASSWORD_FILE" "$NATS_PASSWORD"
	SECRETS+=("$NATS_PASSWORD")
}

# _nats_conf I ROUTES: server I's configuration.
_nats_conf()
{
	local i=$1 routes=$2 d=$NATS_DIR/tls
	printf 'server_name: n%d\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n' "$i" \
	    "${_nats_port[$i]}" "${_nats_mon[$i]}"
	printf 'jetstream { store_dir: "%s/n%d" }\n' "$NATS_DIR" "$i"
	[ "$NATS_N" -eq 1 ] ||
	    printf 'cluster { name: idwise-test\n  listen: 127.0.0.1:%d\n  routes: [%s]\n}\n' \
	    "${_nats_route[$i]}" "$routes"
	[ -z "$NATS_USER" ] ||
	    printf 'authorization { users: [ { user: "%s", password: "%s" } ] }\n' \
	    "$NATS_USER" "$NATS_PASSWORD"
	[ -z "$NATS_CA" ] ||
	    printf 'tls { cert_file: "%s/server.pem", key_file: "%s/server.key" }\n' "$d" "$d"
}

declare -a _nats_route=()
_nats_taken=" "

# _nats_port: a free port none of the servers has been given yet.
_nats_port()
{
	local p i
	for ((i = 0; i < 20; i++)); do
		p=$(free_port) || return 1
		[[ "$_nats_taken" == *" $p "* ]] && continue
		_nats_taken+="$p "
		printf '%s\n' "$p"
		return 0
	done
	return 1
}

# nats_cluster N: N servers on free loopback ports, routed to one another.
nats_cluster()
{
	local n=$1 i routes= urls=
	NATS_N=$n
	mkdir -p "$NATS_DIR" || return 1
	for ((i = 1; i <= n; i++)); do
		_nats_port[$i]=$(_nats_port) && _nats_mon[$i]=$(_nats_port) &&
		    _nats_route[$i]=$(_nats_port) || bail "no free port"
		routes+="${routes:+, }nats-route://127.0.0.1:${_nats_route[$i]}"
		urls+="${urls:+,}$NATS_SCHEME://127.0.0.1:${_nats_port[$i]}"
	done
	for ((i = 1; i <= n; i++)); do
		_nats_conf "$i" "$routes" >"$NATS_DIR/n$i.conf" || return 1
		chmod 0600 "$NATS_DIR/n$i.conf"
	done
	NATS_URLS=$urls
	NATS_URL=$urls
	at_exit nats_all_stop
	nats_all_start
}

# nats_start I: server I, in the background; its output in $NATS_DIR/nI.log.
nats_start()
{
	[ -z "${_nats_pid[$1]:-}" ] || return 0
	nats-server -c "$NATS_DIR/n$1.conf" >>"$NATS_DIR/n$1.log" 2>&1 &
	_nats_pid[$1]=$!
}

_nats_signal()
{
	local pid=${_nats_pid[$2]:-}
	[ -n "$pid" ] || return 0
	[ "$1" != KILL ] || disown "$pid" 2>/dev/null	# no "Killed" line from bash
	kill "-$1" "$pid" 2>/dev/null
	wait_for pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	_nats_pid[$2]=
}

nats_kill()
{
	_nats_signal KILL "$1"
}

nats_stop()
{
	_nats_signal TERM "$1"
}

nats_all_start()
{
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		nats_start "$i"
	done
	POLL_STEPS=1800 wait_for nats_ready ||
	    { diag "nats did not get ready:" "$(tail -n 5 "$NATS_DIR/n1.log")"; return 1; }
}

# nats_all_stop: SIGTERM to every server at once, then wait for each: the cluster goes
# down as one (a site's outage), not one server after another, each of which would leave
# the others taking writes without it for a moment.
nats_all_stop()
{
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		[ -z "${_nats_pid[$i]:-}" ] || kill -TERM "${_nats_pid[$i]}" 2>/dev/null
	done
	for ((i = 1; i <= NATS_N; i++)); do
		nats_stop "$i"
	done
}

# _nats_health QUERY: every running server's /healthz with QUERY passes; 2 when one has
# exited.
_nats_health()
{
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		[ -n "${_nats_pid[$i]:-}" ] || continue
		pid_alive "${_nats_pid[$i]}" || return 2
		curl -fsS -o /dev/null "http://127.0.0.1:${_nats_mon[$i]}/healthz$1" 2>/dev/null ||
		    return 1
	done
}

# nats_ready: every running server answers its health check (its JetStream in touch with
# the cluster's meta leader; a stream may still be catching up); 2 when one has exited.
nats_ready()
{
	_nats_health '?js-server-only=true'
}

# nats_current: every running server's full health check passes: its JetStream in touch
# with the meta leader and each stream and consumer it holds a replica of caught up.
nats_current()
{
	_nats_health ''
}

# nats_replicas STREAM: one line per running server, "nI: M messages, last seq S", as
# that server's replica of STREAM holds them (its monitoring port's /jsz).
nats_replicas()
{
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		[ -n "${_nats_pid[$i]:-}" ] || continue
		curl -fsS "http://127.0.0.1:${_nats_mon[$i]}/jsz?accounts=true&streams=true" \
		    2>/dev/null | jq -r --arg s "$1" --arg n "n$i" '
			[.account_details[]?.stream_detail[]? | select(.name == $s)][0].state
			| "\($n): \(.messages) messages, last seq \(.last_seq)"' 2>/dev/null ||
		    echo "n$i: no answer"
	done
}

# nats_tool ARG...: tests/nats-tool against the cluster, with the credentials.
nats_tool()
{
	"$NATS_TOOL" "$@"
}
