# SPDX-License-Identifier: ISC
# tests/lib.sh: helpers for the integration tests, sourced by tests/integration/*.sh.
#
# The test harness (Makefile.am) exports top_srcdir, top_builddir (absolute) and SAMPLES.
# Sourcing this file creates a scratch directory $TEST_TMP under $top_builddir/tests and
# installs an exit trap that stops every server started here and removes $TEST_TMP,
# unless a check failed: then it is kept and its path printed.
#
# The helpers live in tests/lib/, one file a concern; this file sets the paths they share
# and sources them in order (each may use those before it):
#
#   tap.sh        ok DESC CMD [ARG...], is GOT WANT DESC, isnt, like, diag, bail, done_testing,
#                 TODO=REASON (known bugs)
#   proc.sh       wait_for CMD..., pid_alive PID, pid_gone, now_ms, port_free, free_port
#   account.sh    RUN_USER, RESPONDER_ARGS (--user RUN_USER when root), as_run_user,
#                 give_to_responder, random_hex, write_secret
#   scratch.sh    TEST_TMP, SOCK_DIR, at_exit CMD, make_test_dir
#   config.sh     write_config DIR [key=value...]  (sets CONF, LOG; TOKEN, SECRETS, ...)
#   daemon.sh     start_responder NAME CONF [PROCS], stop_responder NAME, responder_pids,
#                 responder_socket
#   nginx.sh      start_nginx SOCKET..., start_nginx_snippet SNIPPET FROM=TO..., stop_nginx
#                 (set NGINX_PORT, and URL)
#   apache.sh     start_apache NAME=CONF..., stop_apache, fcgid_pids CONF (set APACHE_PORT)
#   send.sh       post FILE [CURL-ARG...], post_string JSON [CURL-ARG...], request METHOD ...
#                 (set STATUS, BODY; header NAME reads a reply header);
#                 reply_is STATUS JSON DESC, error_is STATUS DESC check the last reply;
#                 sized_event, deep_event, step_event ID (request bodies)
#   cgi.sh        cgi_run CONF BODYFILE [VAR=value...], cgi_run_piped, and
#                 fcgi_run SOCKET BODYFILE [VAR=value...] (cgi-fcgi), fcgi_post SOCKET FILE
#                 (set STATUS, BODY, CGI_RC)
#   logcheck.sh   log_count LOG, log_record LOG SEQ [JQ-FILTER], log_last LOG, log_state,
#                 check_chain LOG..., rotated_files LOG, no_secret_in FILE..., no_line_in
#   load.sh       make_ids PREFIX N, deliver_batch IDS DIR, deliver_until_ok IDS DIR
#                 (retries like IDWise), code_count, reply_seqs, check_delivered,
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

for _lib_part in tap proc account scratch config daemon nginx apache send cgi logcheck load; do
	# shellcheck source=/dev/null
	. "$top_srcdir/tests/lib/$_lib_part.sh" || exit 1
done
unset _lib_part
