#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/fcgi-edge.sh: the FastCGI edge against a hostile client of its socket
# (issue 13, findings 1-3 and 5-7). One responder, --threads 4 --io-timeout 3, on a unix
# socket; tests/fcgi-raw.py writes the records (any bytes) and reads what comes back.
# For each: what the responder answers, that it still runs, and that a normal delivery
# after it is stored. Management records, roles, a second BEGIN_REQUEST, bad versions and
# ABORT_REQUEST as the FastCGI spec says. When a case kills the responder (as c0afd20's
# libfcgi loop does), it is restarted so that the next cases still say something.
# Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/fcgi-raw.sh" || exit 1

IO_TIMEOUT=3
SLACK=2			# seconds a loaded machine may add to the deadline
THREADS=4
write_config "$TEST_TMP/e" "reject_log=$TEST_TMP/e/rejects.jsonl"
REJECTS=$TEST_TMP/e/rejects.jsonl
ERR=$TEST_TMP/e.stderr
# (a socket directory of the responder's account, which it runs as when the tests are root's)
mkdir -p "$SOCK_DIR/e-run" && give_to_responder "$SOCK_DIR/e-run"
SOCK=$SOCK_DIR/e-run/e.sock
PID=
STARTS=0
at_exit 'kill -KILL $PID'

sock_up()
{
	pid_alive "$PID" || return 2
	test -S "$SOCK"
}

start_edge()
{
	rm -f "$SOCK"
	"$IDWISE_FCGI" -c "$CONF" "${RESPONDER_ARGS[@]}" --listen "unix:$SOCK" \
	    --threads "$THREADS" --io-timeout "$IO_TIMEOUT" 2>>"$ERR" &
	PID=$!
	STARTS=$((STARTS + 1))
	wait_for sock_up || bail "idwise-fcgi did not listen on $SOCK: $(tail -n 3 "$ERR")"
}

# survived DESC: the responder still runs (after a moment to die in); when it does not,
# the check fails and a new one is started for the cases that follow.
survived()
{
	sleep 0.2
	ok "$1" pid_alive "$PID" && return 0
	wait "$PID" 2>/dev/null
	diag "it ended with status $?; stderr: $(tail -n 2 "$ERR")"
	start_edge
	return 1
}

# event_file ID: $TEST_TMP/ID.json, a Finished Step delivery with that eventId.
event_file()
{
	printf '{"event":"Finished Step","body":{"eventId":"%s","journeyId":"j","stepId":"1"}}' \
	    "$1" >"$TEST_TMP/$1.json"
	printf '%s\n' "$TEST_TMP/$1.json"
}

# delivery ID REQID [request-option...]: the bytes of a whole request delivering ID.
delivery()
{
	local f
	f=$(event_file "$1")
	delivery_params "$(wc -c <"$f")"
	raw request "$2" "${PARAMS[@]}" --body "$f" "${@:3}"
}

# stored ID: how many records of the log have that id.
stored()
{
	jq -r .id "$LOG" 2>/dev/null | grep -cxF -- "$1"
}

# delivered ID DESC: a normal delivery of ID on a new connection is answered 200 accepted
# (within the deadline) and stored.
delivered()
{
	delivery "$1" 1 >"$TEST_TMP/ok.bin"
	talk "$TEST_TMP/ok.out" "$SOCK" --timeout $((IO_TIMEOUT + SLACK)) \
	    send="$TEST_TMP/ok.bin" replies=1
	is "$(end_requests "$TEST_TMP/ok.out") $(stored "$1")" "1 0 0 200 1" "$2"
}

# reply_bodies OUT: the END_REQUEST records' HTTP reply bodies, one a line.
reply_bodies()
{
	jq -r 'select(.type == "END_REQUEST") | .stdout | split("\r\n\r\n")[1:] | join("")' \
	    "$1" 2>/dev/null
}

start_edge
delivered edge-first "a first delivery is stored"

# ---------------------------------------------------------------------------------------
# 1. FCGI_GET_VALUES naming FCGI_MAX_CONNS four times: libfcgi 2.4.2 writes 17 bytes per
# name into a 64-byte stack buffer and sends uninitialised stack bytes as padding.

# (Padded: libfcgi reads a record's content from its buffer and only answers when the
# bytes after it are already there; 80 bytes, as in the issue.)
raw rec GET_VALUES 0 --nv FCGI_MAX_CONNS= --nv FCGI_MAX_CONNS= --nv FCGI_MAX_CONNS= \
    --nv FCGI_MAX_CONNS= --pad 8 >"$TEST_TMP/gv4.bin"
is "$(wc -c <"$TEST_TMP/gv4.bin" | tr -d ' ')" 80 "1. GET_VALUES naming FCGI_MAX_CONNS four times: 80 bytes"
talk "$TEST_TMP/gv4.out" "$SOCK" --timeout 5 send="$TEST_TMP/gv4.bin" replies=1 wait=0.3
survived "  the responder survives it"
is "$(records_of "$TEST_TMP/gv4.out" GET_VALUES_RESULT) $(jq -c 'select(.type != null) |
    [.type, .id, [.pairs[]?[0]], .padding_zero]' "$TEST_TMP/gv4.out" | tr -d '\n')" \
    '1 ["GET_VALUES_RESULT",0,["FCGI_MAX_CONNS"],true]' \
    "  answered by one GET_VALUES_RESULT naming it once, zero padding, nothing else"
like "$(jq -r 'select(.type == "GET_VALUES_RESULT") | .pairs[0][1]' "$TEST_TMP/gv4.out")" \
    '^[1-9][0-9]*$' "  its FCGI_MAX_CONNS is a number"
delivered edge-after-gv4 "  a delivery after it is stored"

# All three names (and one unknown, left out), in the order asked; a padded reply.
raw rec GET_VALUES 0 --nv FCGI_MPXS_CONNS= --nv FCGI_MAX_REQS= --nv FCGI_NO_SUCH_NAME= \
    --nv FCGI_MAX_CONNS= --pad 5 >"$TEST_TMP/gv3.bin"
talk "$TEST_TMP/gv3.out" "$SOCK" --timeout 5 send="$TEST_TMP/gv3.bin" replies=1 wait=0.3
survived "1. GET_VALUES with the three names and an unknown one: the responder survives"
is "$(jq -c 'select(.type != null) | [.type, .id, [.pairs[]?[0]], .padding_zero]' \
    "$TEST_TMP/gv3.out" | tr -d '\n')" \
    '["GET_VALUES_RESULT",0,["FCGI_MPXS_CONNS","FCGI_MAX_REQS","FCGI_MAX_CONNS"],true]' \
    "  one GET_VALUES_RESULT naming the three in the order asked, zero padding"
is "$(jq -r 'select(.type == "GET_VALUES_RESULT") | .pairs[0][1]' "$TEST_TMP/gv3.out")" 0 \
    "  FCGI_MPXS_CONNS is 0"

# A name length that runs past the record: the connection is closed, nothing answered.
{ raw nv FCGI_MAX_CONNS '' --name-len 100; } >"$TEST_TMP/gvbad.nv"
raw rec GET_VALUES 0 --file "$TEST_TMP/gvbad.nv" >"$TEST_TMP/gvbad.bin"
talk "$TEST_TMP/gvbad.out" "$SOCK" --timeout $((IO_TIMEOUT + SLACK + 2)) \
    send="$TEST_TMP/gvbad.bin" eof
survived "1. a malformed GET_VALUES: the responder survives"
like "$(records_of "$TEST_TMP/gvbad.out" GET_VALUES_RESULT) $(ended "$TEST_TMP/gvbad.out")" \
    '^0 (eof|reset) ' "  no reply; the connection is closed"
ok "  at once ($(ended "$TEST_TMP/gvbad.out" | cut -d' ' -f2) ms), not at the deadline" \
    test "$(ended "$TEST_TMP/gvbad.out" | cut -d' ' -f2)" -lt 2000
delivered edge-after-gvbad "  a delivery after it is stored"

# ---------------------------------------------------------------------------------------
# 2. A name-value pair whose nameLen + valueLen overflows int (4-byte lengths): Debian's
# libfcgi adds them in int and aborts in its Malloc assertion.

overflow_case()	# overflow_case NAME NAMELEN VALUELEN
{
	local out=$TEST_TMP/$1.out
	{
		raw rec BEGIN_REQUEST 1 --hex 0001000000000000
		raw nv AAAAAAAA b --name-len "$2" --value-len "$3" --long-name --long-value \
		    >"$TEST_TMP/$1.nv"
		raw rec PARAMS 1 --file "$TEST_TMP/$1.nv"
		raw rec PARAMS 1
		raw rec STDIN 1
	} >"$TEST_TMP/$1.bin"
	talk "$out" "$SOCK" --timeout $((IO_TIMEOUT + SLACK)) send="$TEST_TMP/$1.bin" eof
	survived "2. PARAMS with lengths $2 + $3: the responder survives"
	like "$(end_requests "$out" | cut -d' ' -f4) $(ended "$out")" '^400 (eof|reset) ' \
	    "  answered 400, then the connection is closed"
	like "$(jq -r 'select(.type == "END_REQUEST") | .stdout' "$out")" \
	    'Content-Type: application/json' "  the 400 is JSON"
	like "$(reply_bodies "$out")" '^\{"error":"[^"]+"\}' '  {"error": "..."}'
	delivered "edge-after-$1" "  a delivery after it is stored"
}
overflow_case ovf1 0x7ffffffe 1
overflow_case ovf2 0x40000000 0x40000000

# ---------------------------------------------------------------------------------------
# 3. Stalled clients, four of each kind, against four threads: none may keep a
# well-behaved delivery waiting, and each is closed at the deadline (io-timeout from
# accept), however its bytes trickle in. c0afd20 sets its (per-read) timeout only after
# FCGX_Accept_r has read all PARAMS, and a trickle resets it with every byte.

raw rec BEGIN_REQUEST 1 --hex 0001000000000000 | head -c 5 >"$TEST_TMP/stall-header.bin"
{
	raw rec BEGIN_REQUEST 1 --hex 0001000000000000
	raw rec PARAMS 1 --nv REQUEST_METHOD=POST --nv CONTENT_LENGTH=80
} >"$TEST_TMP/stall-params.bin"
TRICKLE_BODY=$(event_file edge-trickled)
{
	delivery_params "$(wc -c <"$TRICKLE_BODY")"
	raw request 1 "${PARAMS[@]}" --no-stdin-end
	raw rec STDIN 1 --len "$(wc -c <"$TRICKLE_BODY")"
} >"$TEST_TMP/stall-trickle.bin"

# stall KIND N: a stalled client of KIND (header, params, trickle) in the background,
# its output in $TEST_TMP/stall-KIND-N.out. It gives up after the deadline + 2 * SLACK.
STALL_PIDS=()
stall()
{
	local steps=(send="$TEST_TMP/stall-$1.bin")
	[ "$1" != trickle ] || steps+=(trickle="$TRICKLE_BODY")
	talk "$TEST_TMP/stall-$1-$2.out" "$SOCK" --timeout $((IO_TIMEOUT + 2 * SLACK)) \
	    --chunk 1 --delay 1 "${steps[@]}" eof &
	STALL_PIDS+=($!)
}

# stalled_closed KIND N...: the clients of KIND were each closed by the deadline + SLACK.
stalled_closed()
{
	local kind=$1 n e rc=0
	shift
	for n in "$@"; do
		e=$(ended "$TEST_TMP/stall-$kind-$n.out")
		case $e in
		eof\ * | reset\ *)
			[ "${e#* }" -le $(((IO_TIMEOUT + SLACK) * 1000)) ] && continue ;;
		esac
		diag "$kind $n: ${e:-nothing}"
		rc=1
	done
	return "$rc"
}

# last_close KIND N...: when the last of those clients' connections ended (ms), or "never".
last_close()
{
	local kind=$1 n e last=0
	shift
	for n in "$@"; do
		e=$(ended "$TEST_TMP/stall-$kind-$n.out")
		case $e in
		eof\ * | reset\ *) [ "${e#* }" -le "$last" ] || last=${e#* } ;;
		*) echo never; return ;;
		esac
	done
	echo "$last ms"
}

# took MS SECONDS: "MS ms", or "no reply in SECONDS s" when MS is empty.
took()
{
	if [ -n "$1" ]; then echo "$1 ms"; else echo "no reply in $2 s"; fi
}

# trickled_answered N...: each trickler got 400 truncated body (its PARAMS were complete).
trickled_answered()
{
	local n got rc=0
	for n in "$@"; do
		got=$(end_requests "$TEST_TMP/stall-trickle-$n.out" | cut -d' ' -f1,4)
		if [ "$got" != "1 400" ] ||
		    ! grep -q 'truncated body' "$TEST_TMP/stall-trickle-$n.out"; then
			diag "trickler $n: '${got:-no END_REQUEST}'"
			rc=1
		fi
	done
	return "$rc"
}

# stalls_sent N...: each of those stalled clients has connected and sent its first bytes.
stalls_sent()
{
	local f
	for f in "$@"; do
		grep -q '"event": "sent"' "$TEST_TMP/stall-$f.out" 2>/dev/null || return 1
	done
}

for n in 1 2 3 4; do
	stall header "$n"
	stall params "$n"
	stall trickle "$n"
done
wait_for stalls_sent {header,params,trickle}-{1,2,3,4} || bail "the stalled clients did not connect"
sleep 0.2
delivery edge-during-stalls 1 >"$TEST_TMP/during.bin"
talk "$TEST_TMP/during.out" "$SOCK" --timeout $((IO_TIMEOUT + SLACK + 1)) \
    send="$TEST_TMP/during.bin" replies=1
T=$(jq -r 'select(.type == "END_REQUEST") | .t_ms' "$TEST_TMP/during.out")
is "$(end_requests "$TEST_TMP/during.out")" "1 0 0 200" \
    "3. with 12 stalled clients (4 x half a header, unended PARAMS, a trickled body) on 4 threads, a delivery is answered 200"
ok "  within the deadline ($(took "$T" $((IO_TIMEOUT + SLACK + 1))), under $((IO_TIMEOUT + 1)) s)" \
    test "${T:-999999}" -lt $(((IO_TIMEOUT + 1) * 1000))
wait "${STALL_PIDS[@]}"
is "$(stored edge-during-stalls)" 1 "  and stored"
ok "  each half-header client is closed by io-timeout + ${SLACK} s (the last: $(last_close header 1 2 3 4))" \
    stalled_closed header 1 2 3 4
ok "  each client with unended PARAMS is closed by then (the last: $(last_close params 1 2 3 4))" \
    stalled_closed params 1 2 3 4
ok "  each trickling client is closed by then, a byte a second notwithstanding (the last: $(last_close trickle 1 2 3 4))" \
    stalled_closed trickle 1 2 3 4
ok "  each trickler (its PARAMS complete) was answered 400 truncated body first" \
    trickled_answered 1 2 3 4
is "$(stored edge-trickled)" 0 "  no trickled body is stored"
ok "  the reject log has the tricklers' 400s" \
    test "$(jq -c 'select(.status == 400 and .reason == "truncated body")' "$REJECTS" 2>/dev/null |
    wc -l)" -ge 4
survived "  the responder still runs"

# Only tricklers, as many as threads: the per-read timeout of c0afd20 never trips.
STALL_PIDS=()
for n in 5 6 7 8; do
	stall trickle "$n"
done
wait_for stalls_sent trickle-{5,6,7,8} || bail "the trickling clients did not connect"
sleep 0.2
delivery edge-during-trickle 1 >"$TEST_TMP/during2.bin"
talk "$TEST_TMP/during2.out" "$SOCK" --timeout $((IO_TIMEOUT + SLACK + 1)) \
    send="$TEST_TMP/during2.bin" replies=1
T=$(jq -r 'select(.type == "END_REQUEST") | .t_ms' "$TEST_TMP/during2.out")
is "$(end_requests "$TEST_TMP/during2.out")" "1 0 0 200" \
    "3. with 4 clients trickling a body byte by byte on 4 threads, a delivery is answered 200"
ok "  within the deadline ($(took "$T" $((IO_TIMEOUT + SLACK + 1))), under $((IO_TIMEOUT + 1)) s)" \
    test "${T:-999999}" -lt $(((IO_TIMEOUT + 1) * 1000))
wait "${STALL_PIDS[@]}"
ok "  each trickler is answered 400 truncated body" trickled_answered 5 6 7 8
ok "  and closed by io-timeout + ${SLACK} s (the last: $(last_close trickle 5 6 7 8))" \
    stalled_closed trickle 5 6 7 8
delivered edge-after-stalls "  a delivery after them is stored"

# ---------------------------------------------------------------------------------------
# 5. Requests pipelined on one FCGI_KEEP_CONN connection in one write, then a third after
# a pause: all answered, in order, all stored.

{
	delivery edge-pipe-1 1 --keep
	delivery edge-pipe-2 2 --keep
} >"$TEST_TMP/pipe12.bin"
delivery edge-pipe-3 3 --keep >"$TEST_TMP/pipe3.bin"
talk "$TEST_TMP/pipe.out" "$SOCK" --timeout 8 send="$TEST_TMP/pipe12.bin" replies=2 wait=1 \
    send="$TEST_TMP/pipe3.bin" replies=3
is "$(end_requests "$TEST_TMP/pipe.out" | tr '\n' ' ')" "1 0 0 200 2 0 0 200 3 0 0 200 " \
    "5. two requests pipelined in one write, a third after a pause: each answered 200, in order"
is "$(ended "$TEST_TMP/pipe.out" | cut -d' ' -f1)" done "  the kept connection stays open"
is "$(stored edge-pipe-1) $(stored edge-pipe-2) $(stored edge-pipe-3)" "1 1 1" "  all three stored"
is "$(jq -r 'select(.id | test("^edge-pipe-")) | .id' "$LOG" 2>/dev/null | tr '\n' ' ')" \
    "edge-pipe-1 edge-pipe-2 edge-pipe-3 " "  in the order sent"
is "$(reply_bodies "$TEST_TMP/pipe.out" | jq -r .seq | tr '\n' ' ')" \
    "$(jq -r 'select(.id | test("^edge-pipe-")) | .seq' "$LOG" 2>/dev/null | tr '\n' ' ')" \
    "  each reply names its own record's seq"

# ---------------------------------------------------------------------------------------
# 6. Records hidden in the padding of the final, empty PARAMS record: skipped, never
# parsed. The body stored is the STDIN the connection visibly carries.

VISIBLE=$(event_file edge-pad-visible)
HIDDEN=$(event_file edge-pad-hidden-)
{
	raw rec STDIN 1 --file "$HIDDEN"
	raw rec STDIN 1
} >"$TEST_TMP/hidden.bin"
{
	delivery_params "$(wc -c <"$VISIBLE")"
	raw request 1 "${PARAMS[@]}" | head -c -16	# without the empty PARAMS and STDIN
	raw rec PARAMS 1 --pad-file "$TEST_TMP/hidden.bin"
	raw rec STDIN 1 --file "$VISIBLE"
	raw rec STDIN 1
} >"$TEST_TMP/pad.bin"
talk "$TEST_TMP/pad.out" "$SOCK" --timeout 5 send="$TEST_TMP/pad.bin" eof
is "$(end_requests "$TEST_TMP/pad.out")" "1 0 0 200" \
    "6. a STDIN record hidden in the padding of the last PARAMS: the request is answered 200"
is "$(stored edge-pad-visible) $(stored edge-pad-hidden-)" "1 0" \
    "  the visible body is stored, the hidden one is not"
survived "  the responder still runs"

# ---------------------------------------------------------------------------------------
# 7. PARAMS over 65536 bytes (10 MB of small ones, as fast as the socket takes them):
# refused with 400 soon, without reading them all, and without the memory.

awk 'BEGIN { for (i = 0; i < 600000; i++) printf "\007\010P%06dvvvvvvvv", i }' \
    >"$TEST_TMP/big.params"
F=$(event_file edge-big-params)
delivery_params "$(wc -c <"$F")"
raw request 1 "${PARAMS[@]}" --params-file "$TEST_TMP/big.params" --body "$F" \
    >"$TEST_TMP/big.bin"
BIG=$(wc -c <"$TEST_TMP/big.bin" | tr -d ' ')
vm()	# vm FIELD: the responder's VmRSS or VmHWM, in kB
{
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$PID/status" 2>/dev/null
}
RSS0=$(vm VmRSS) HWM0=$(vm VmHWM)
talk "$TEST_TMP/big.out" "$SOCK" --timeout 10 send="$TEST_TMP/big.bin" eof
sleep 0.3
RSS1=$(vm VmRSS) HWM1=$(vm VmHWM)
T=$(jq -r 'select(.type == "END_REQUEST") | .t_ms' "$TEST_TMP/big.out")
like "$(end_requests "$TEST_TMP/big.out" | cut -d' ' -f4) $(ended "$TEST_TMP/big.out")" \
    '^400 (eof|reset) ' "7. $BIG bytes of PARAMS: answered 400, then the connection is closed"
ok "  soon (${T:-no reply} ms)" test "${T:-999999}" -lt 3000
# (What the responder reads after its answer, to close without a reset, it throws away.)
SENT=$(jq -r 'select(.type == "END_REQUEST") | .sent' "$TEST_TMP/big.out")
ok "  before it has them all (the 400 came when the client had written ${SENT:-?} of $BIG bytes)" \
    test "${SENT:-$BIG}" -lt 2000000
is "$(stored edge-big-params)" 0 "  its body is not stored"
survived "  the responder survives it"
ok "  its RSS grew by less than 4 MB (${RSS0:-?} kB -> ${RSS1:-?} kB)" \
    test "$((${RSS1:-999999} - ${RSS0:-0}))" -lt 4096
ok "  its peak RSS too (${HWM0:-?} kB -> ${HWM1:-?} kB)" \
    test "$((${HWM1:-999999} - ${HWM0:-0}))" -lt 4096
delivered edge-after-big "  a delivery after it is stored"

# ---------------------------------------------------------------------------------------
# Management records, roles, multiplexing, versions, aborts (the FastCGI spec).

raw rec 99 0 --hex 0102030405060708 >"$TEST_TMP/unknown.bin"
talk "$TEST_TMP/unknown.out" "$SOCK" --timeout 5 send="$TEST_TMP/unknown.bin" replies=1
is "$(jq -c 'select(.type != null) | [.type, .id, .unknown_type, .body_zero]' \
    "$TEST_TMP/unknown.out")" '["UNKNOWN_TYPE",0,99,true]' \
    "a management record of an unknown type (99): FCGI_UNKNOWN_TYPE naming it"

for role in 2 3; do
	delivery "edge-role-$role" 1 --role "$role" >"$TEST_TMP/role.bin"
	talk "$TEST_TMP/role$role.out" "$SOCK" --timeout 5 send="$TEST_TMP/role.bin" eof
	is "$(end_requests "$TEST_TMP/role$role.out")" "1 0 3 null" \
	    "role $role: END_REQUEST with FCGI_UNKNOWN_ROLE, and no reply body"
	is "$(stored "edge-role-$role")" 0 "  nothing stored"
done

# A second BEGIN_REQUEST (id 2) while request 1 is read: FCGI_CANT_MPX_CONN for it.
F=$(event_file edge-mpx)
delivery_params "$(wc -c <"$F")"
{
	raw request 1 "${PARAMS[@]}" | head -c -8	# all but the empty STDIN
	raw rec BEGIN_REQUEST 2 --hex 0001000000000000
	raw rec STDIN 1 --file "$F"
	raw rec STDIN 1
} >"$TEST_TMP/mpx.bin"
talk "$TEST_TMP/mpx.out" "$SOCK" --timeout 5 send="$TEST_TMP/mpx.bin" replies=2
is "$(end_requests "$TEST_TMP/mpx.out" | sort | tr '\n' ' ')" "1 0 0 200 2 0 1 null " \
    "a second BEGIN_REQUEST mid-request: FCGI_CANT_MPX_CONN for it, the first answered 200"
is "$(stored edge-mpx)" 1 "  the first is stored"

# Records of another request id than the active one are ignored.
F=$(event_file edge-other-id)
O=$(event_file edge-other-xx)
delivery_params "$(wc -c <"$F")"
{
	raw request 1 "${PARAMS[@]}" | head -c -16
	raw rec PARAMS 1
	raw rec STDIN 7 --file "$O"
	raw rec STDIN 7
	raw rec STDIN 1 --file "$F"
	raw rec STDIN 1
} >"$TEST_TMP/other.bin"
talk "$TEST_TMP/other.out" "$SOCK" --timeout 5 send="$TEST_TMP/other.bin" eof
is "$(end_requests "$TEST_TMP/other.out") $(stored edge-other-id) $(stored edge-other-xx)" \
    "1 0 0 200 1 0" "STDIN for another request id is ignored: the active request's body is stored"

# A record of version 2: the connection is closed, nothing answered or stored.
delivery edge-v2 1 | tail -c +17 >"$TEST_TMP/v2-rest.bin"	# all but the BEGIN_REQUEST
{ raw rec BEGIN_REQUEST 1 --version 2 --hex 0001000000000000; cat "$TEST_TMP/v2-rest.bin"; } \
    >"$TEST_TMP/v2.bin"
talk "$TEST_TMP/v2.out" "$SOCK" --timeout $((IO_TIMEOUT + SLACK)) send="$TEST_TMP/v2.bin" eof
like "$(records_of "$TEST_TMP/v2.out" END_REQUEST) $(ended "$TEST_TMP/v2.out")" \
    '^0 (eof|reset) ' "a BEGIN_REQUEST of version 2: the connection is closed without a reply"
ok "  at once" test "$(ended "$TEST_TMP/v2.out" | cut -d' ' -f2)" -lt 2000
F=$(event_file edge-v2-stdin)
delivery_params "$(wc -c <"$F")"
{
	raw request 1 "${PARAMS[@]}" | head -c -8
	raw rec STDIN 1 --version 2 --file "$F"
	raw rec STDIN 1
} >"$TEST_TMP/v2s.bin"
talk "$TEST_TMP/v2s.out" "$SOCK" --timeout $((IO_TIMEOUT + SLACK)) send="$TEST_TMP/v2s.bin" eof
like "$(records_of "$TEST_TMP/v2s.out" END_REQUEST) $(ended "$TEST_TMP/v2s.out")" \
    '^0 (eof|reset) ' "a STDIN record of version 2 mid-request: closed without a reply"
is "$(stored edge-v2) $(stored edge-v2-stdin)" "0 0" "  neither stored"

# STDIN before the PARAMS have ended: closed.
F=$(event_file edge-early-stdin)
delivery_params "$(wc -c <"$F")"
{
	raw request 1 "${PARAMS[@]}" | head -c -16	# BEGIN_REQUEST and the PARAMS with pairs
	raw rec STDIN 1 --file "$F"
	raw rec PARAMS 1
	raw rec STDIN 1
} >"$TEST_TMP/early.bin"
talk "$TEST_TMP/early.out" "$SOCK" --timeout $((IO_TIMEOUT + SLACK)) send="$TEST_TMP/early.bin" eof
like "$(records_of "$TEST_TMP/early.out" END_REQUEST) $(ended "$TEST_TMP/early.out") $(stored edge-early-stdin)" \
    '^0 (eof|reset) [0-9]+ 0$' "STDIN before the PARAMS ended: closed without a reply, nothing stored"

# ABORT_REQUEST mid-body: END_REQUEST (FCGI_REQUEST_COMPLETE), no reply, nothing stored.
F=$(event_file edge-aborted)
delivery_params "$(wc -c <"$F")"
{
	raw request 1 "${PARAMS[@]}" | head -c -16
	raw rec PARAMS 1
	head -c 20 "$F" >"$TEST_TMP/abort.part"
	raw rec STDIN 1 --file "$TEST_TMP/abort.part"
	raw rec ABORT_REQUEST 1
} >"$TEST_TMP/abort.bin"
talk "$TEST_TMP/abort.out" "$SOCK" --timeout $((IO_TIMEOUT + SLACK)) send="$TEST_TMP/abort.bin" replies=1
is "$(end_requests "$TEST_TMP/abort.out")" "1 0 0 null" \
    "ABORT_REQUEST mid-body: END_REQUEST (FCGI_REQUEST_COMPLETE) and no reply body"
ok "  at once" test "$(jq -r 'select(.type == "END_REQUEST") | .t_ms' "$TEST_TMP/abort.out" |
    grep . || echo 999999)" -lt 2000
is "$(stored edge-aborted)" 0 "  nothing stored"

# ---------------------------------------------------------------------------------------

survived "after all of it the responder still runs"
is "$STARTS" 1 "  it never had to be restarted"
delivered edge-last "  and a last delivery is stored"
ok "the log's chain verifies" check_chain "$LOG"
ok "no stack smashing, abort or sanitizer report on stderr" \
    not grep -qE 'stack smashing|Assertion|Sanitizer|runtime error' "$ERR"
ok "no secret on stderr or in the reject log" no_secret_in "$ERR" "$REJECTS"
kill -TERM "$PID"
wait "$PID"
is "$?" 0 "the responder stops cleanly on SIGTERM"
PID=
done_testing
