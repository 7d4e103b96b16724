# SPDX-License-Identifier: ISC
# tests/lib/config.sh: the credentials every test uses and write_config (a responder's
# config and its secret files); sourced by tests/lib.sh.
# shellcheck shell=bash

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
# ::1, max_body 65536, unknown_events accept, sync data. "key=" leaves a key out; keys the
# responder does not know are written too (for testing config errors). Sets CONF and LOG.
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
