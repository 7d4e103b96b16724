# SPDX-License-Identifier: ISC
# tests/fcgi-raw.sh: shell helpers around tests/fcgi-raw.py, the raw FastCGI client.
# Sourced after tests/lib.sh.
#
#   raw ARG...                 fcgi-raw.py ARG... (rec, nv, request: bytes on stdout)
#   talk OUT SOCKET [OPT...] STEP...
#                              fcgi-raw.py talk; its JSON lines go to OUT
#   ended OUT                  how that connection ended and when: "eof 3012"
#   end_requests OUT           "ID APP-STATUS PROTOCOL-STATUS HTTP-STATUS" per END_REQUEST
#   records_of OUT TYPE        how many records of TYPE came
#   delivery_params LENGTH     PARAMS=(--param ...): an authorized POST of LENGTH bytes

FCGI_RAW=$top_srcdir/tests/fcgi-raw.py

raw()
{
	python3 "$FCGI_RAW" "$@"
}

talk()
{
	local out=$1
	shift
	python3 "$FCGI_RAW" talk "$@" >"$out"
}

ended()
{
	jq -r 'select(.event == "eof" or .event == "reset" or .event == "timeout" or
	    .event == "done") | "\(.event) \(.t_ms)"' "$1" 2>/dev/null | tail -n 1
}

end_requests()
{
	jq -r 'select(.type == "END_REQUEST") |
	    "\(.id) \(.app_status) \(.protocol_status) \(.status)"' "$1" 2>/dev/null
}

records_of()
{
	jq -r --arg t "$2" 'select(.type == $t) | .type' "$1" 2>/dev/null | wc -l | tr -d ' '
}

delivery_params()
{
	PARAMS=(--param REQUEST_METHOD=POST --param CONTENT_TYPE=application/json
	    --param "CONTENT_LENGTH=$1" --param REMOTE_ADDR=127.0.0.1
	    --param "HTTP_AUTHORIZATION=Bearer $TOKEN")
}
