# SPDX-License-Identifier: ISC
# tests/lib/account.sh: the account the responder runs as (RUN_USER, RESPONDER_ARGS,
# as_run_user, give_to_responder) and secret files (random_hex, write_secret). Needs bail;
# sourced by tests/lib.sh and bench/lib.sh.
# shellcheck shell=bash

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

# give_to_responder [-R] PATH...: the responder's account owns PATH (a log directory), and
# with -R all below it.
give_to_responder()
{
	local -a opt=()
	[ "${1:-}" != -R ] || { opt=(-R); shift; }
	[ -z "$RUN_USER" ] || chown "${opt[@]}" "$RUN_USER:" "$@"
}

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
