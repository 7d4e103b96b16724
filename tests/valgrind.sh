#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/valgrind.sh BUILDDIR [SCRIPT...]: run integration scripts (default: cgi.sh,
# hosting.sh, secrets.sh, badinput.sh, fcgi-edge.sh) with every idwise-fcgi they start
# running under valgrind memcheck (through IDWISE_FCGI, see tests/lib.sh):
# --leak-check=full, definite leaks and invalid accesses are errors. BUILDDIR is a build without sanitizers (valgrind cannot run an ASan
# binary). Prints TAP: for each script, that its own checks pass under valgrind and that none
# of the processes it started had a memcheck error (the reports are shown). Each script has
# VALGRIND_TIMEOUT seconds (default 600).
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:?usage: tests/valgrind.sh BUILDDIR [SCRIPT...]}" && pwd) || exit 1
shift
SCRIPTS=("$@")
[ "${#SCRIPTS[@]}" -gt 0 ] || SCRIPTS=(cgi.sh hosting.sh secrets.sh badinput.sh fcgi-edge.sh)
VG=$B/tests/valgrind
n=0
failed=0

result()	# result PASS DESC
{
	n=$((n + 1))
	if [ "$1" -eq 1 ]; then
		printf 'ok %d - %s\n' "$n" "$2"
	else
		failed=$((failed + 1))
		printf 'not ok %d - %s\n' "$n" "$2"
	fi
}

command -v valgrind >/dev/null || { echo "Bail out! valgrind is not installed"; exit 1; }
[ -x "$B/idwise-fcgi" ] || { echo "Bail out! $B/idwise-fcgi is not built"; exit 1; }
if nm "$B/idwise-fcgi" 2>/dev/null | grep -q __asan_init; then
	echo "Bail out! $B/idwise-fcgi is built with ASan: valgrind cannot run it"
	exit 1
fi
rm -rf "$VG"
mkdir -p "$VG"
cat >"$VG/idwise-fcgi" <<WRAPPER
#!/bin/sh
# idwise-fcgi under valgrind memcheck, one log per process (written by tests/valgrind.sh)
exec valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \\
    --errors-for-leak-kinds=definite --num-callers=30 --log-file="$VG/logs/%p.\$\$.log" \\
    "$B/idwise-fcgi" "\$@"
WRAPPER
chmod +x "$VG/idwise-fcgi"

for s in "${SCRIPTS[@]}"; do
	mkdir -p "$VG/logs"
	rm -f "$VG"/logs/*
	start=$(date +%s)
	top_srcdir=$SRC top_builddir=$B SAMPLES=$SRC/tests/samples IDWISE_FCGI=$VG/idwise-fcgi \
	    POLL_STEPS=600 timeout "${VALGRIND_TIMEOUT:-600}" \
	    bash "$SRC/tests/integration/$s" >"$VG/$s.tap" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	pass=$(grep -c '^ok ' "$VG/$s.tap")
	fail=$(grep '^not ok ' "$VG/$s.tap" | grep -vc '# TODO')
	if [ "$rc" -eq 0 ] && [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]; then
		result 1 "$s under valgrind: its $pass checks pass (${secs}s)"
	else
		result 0 "$s under valgrind: exit $rc, $pass passed, $fail failed (${secs}s)"
		grep -E '^not ok|^#' "$VG/$s.tap" | grep -v '# TODO' | head -n 20 | sed 's/^/#   /'
	fi
	procs=$(find "$VG/logs" -name '*.log' | wc -l)
	# A process that ended through valgrind (its leak check done) wrote an ERROR SUMMARY;
	# one the test killed outright (SIGKILL) did not, and is only searched for errors.
	finished=$(grep -l 'ERROR SUMMARY: ' "$VG"/logs/*.log 2>/dev/null | wc -l)
	bad=$(grep -lE 'ERROR SUMMARY: [1-9]|Invalid (read|write|free)|uninitialised|definitely lost in|Mismatched free' \
	    "$VG"/logs/*.log 2>/dev/null | sort)
	if [ "$finished" -gt 0 ] && [ -z "$bad" ]; then
		result 1 "$s under valgrind: no invalid access, no definite leak in $procs processes ($((procs - finished)) killed by the test before the leak check)"
	else
		result 0 "$s under valgrind: $(printf '%s\n' $bad | grep -c .) of $procs processes had memcheck errors ($finished finished)"
		for f in $bad; do
			cp "$f" "$VG/"
			grep -v -e '^==[0-9]*== *$' "$f" | head -n 40 | sed 's/^/#   /'
		done
	fi
done
printf '1..%d\n' "$n"
[ "$failed" -eq 0 ]
