# SPDX-License-Identifier: ISC
# tests/lib/cgi.sh: the responder as a plain CGI program (cgi_run, cgi_run_piped) and one
# FastCGI request with cgi-fcgi (fcgi_run, fcgi_post); sourced by tests/lib.sh.
# shellcheck shell=bash

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
