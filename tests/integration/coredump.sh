#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/coredump.sh: no copy of a request's credential in the responder's
# memory (issue 13, finding 10). A responder started with --allow-core-dumps behind nginx
# takes N deliveries with a bearer token; then the token is counted in what a core dump of
# it would hold (tests/memscan.py reads that memory through /proc/PID/mem: no core file, so
# an ASan build's terabytes of shadow memory are not written to disk): there must be none.
# That the count finds what is there is checked with a canary the process keeps for its
# whole life (its env label). COREDUMP_DELIVERIES (default 40) sets N; CORE_ARGS (default
# --allow-core-dumps) the responder's extra arguments (empty to run it against a build
# without the option: as root, /proc/PID/mem is read all the same). Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

N=${COREDUMP_DELIVERIES:-40}
read -r -a core_args <<<"${CORE_ARGS---allow-core-dumps}"
CANARY=canary-$(random_hex 12)
SOCK=$(responder_socket idwise)
dir=$TEST_TMP/core

write_config "$dir" "env=$CANARY" || bail "cannot write the config"
RESPONDER_ARGS+=("${core_args[@]}" --threads 4)
start_responder idwise "$CONF" || bail "idwise-fcgi ${core_args[*]} did not start"
start_nginx "$SOCK" || bail "nginx did not start"

stored=0
CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
for i in $(seq 1 "$N"); do
	post_string "{\"event\":\"Finished Journey\",\"body\":{\"eventId\":\"core-$i\",\"systemDecision\":\"Complete\"}}"
	[ "$STATUS" != 200 ] || stored=$((stored + 1))
done
is "$stored" "$N" "$N deliveries with the bearer token: all 200"
CURL_AUTH=(-H "Authorization: Bearer ${TOKEN%?}x")
post_string '{"event":"Finished Journey","body":{"eventId":"core-wrong","systemDecision":"Complete"}}'
is "$STATUS" 401 "and one with a wrong token: 401"

pid=$(responder_pids idwise)
mapfile -t counts < <(python3 "$top_srcdir/tests/memscan.py" "$pid" "$CANARY" "$TOKEN" \
    "${TOKEN%?}x" "$TOKEN2" 2>"$dir/memscan.err")
ok "the responder's memory was read (pid $pid, ${counts[4]:-0} bytes)" \
    test "${counts[4]:-0}" -gt 0 || diag "$(tail -n 5 "$dir/memscan.err")"
ok "the count finds what is in memory: the canary is there (${counts[0]:-?} times)" \
    test "${counts[0]:-0}" -gt 0
is "${counts[1]:-?}" 0 "no copy of the bearer token in it after $N deliveries"
is "${counts[2]:-?}" 0 "no copy of the wrong token sent"
is "${counts[3]:-?}" 0 "no copy of the second token, read from the file only"
stop_nginx
stop_responder idwise
done_testing
