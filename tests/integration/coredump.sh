#!/bin/bash
# tests/integration/coredump.sh: no copy of a request's credential in the responder's
# memory (issue 13, finding 10). A responder started with --allow-core-dumps behind nginx
# takes N deliveries with a bearer token; then gcore (gdb) dumps it and the token is
# counted in the core: there must be none. That the count finds what is there is checked on
# the same core with a canary the process keeps for its whole life (its env label).
# COREDUMP_DELIVERIES (default 40) sets N; CORE_ARGS (default --allow-core-dumps) the
# responder's extra arguments (empty to run it against a build without the option: as
# root, gcore dumps a process that is not dumpable all the same). Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1
. "$top_srcdir/tests/secrets-lib.sh" || exit 1

command -v gcore >/dev/null || bail "gcore (package gdb) is not installed"
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
gcore -o "$dir/core" "$pid" >"$dir/gcore.out" 2>&1
core=$dir/core.$pid
ok "gcore dumped the responder (pid $pid)" test -s "$core" || diag "$(tail -n 5 "$dir/gcore.out")"
canary=$(count_in "$core" "$CANARY")
ok "the count finds what is in memory: the canary is in the core ($canary times)" \
    test "$canary" -gt 0
tokens=$(count_in "$core" "$TOKEN")
is "$tokens" 0 "no copy of the bearer token in the core after $N deliveries"
is "$(count_in "$core" "${TOKEN%?}x")" 0 "no copy of the wrong token sent"
is "$(count_in "$core" "$TOKEN2")" 0 "no copy of the second token, read from the file only"
diag "core of $(stat -c %s "$core") bytes: canary $canary, token $tokens"
rm -f "$core"
stop_nginx
stop_responder idwise
done_testing
