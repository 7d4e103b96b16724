#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/integration/checkpoint.sh: idwise-log keygen, checkpoint, prove and verify-proof on
# logs tests/mklog made: roots and proofs against an RFC 6962 tree written in Python from
# the RFC (tests/merkle-ref.py), every proof checked by verify-proof and by the Python
# checker of idwise-proofs(5); checkpoints that stay consistent across growth, rotation
# and compression; and, against a checkpoint signed earlier, every kind of tampering
# caught: verify's seven, a cut tail and a history written again with a fresh chain, even
# by someone who holds the signing key. A wrong key, a malformed note and another origin
# are refused. Output: TAP.

. "${top_srcdir:?run the tests with make check}/tests/lib.sh" || exit 1

IDWISE_LOG=${IDWISE_LOG:-$top_builddir/idwise-log}
MKLOG=$top_builddir/tests/mklog
REF=$top_srcdir/tests/merkle-ref.py
CHECKER=$top_srcdir/doc/idwise-verify-proof.py
[ -x "$IDWISE_LOG" ] || bail "$IDWISE_LOG is not built"
[ -x "$MKLOG" ] || bail "$MKLOG is not built"
python3 -c 'import cryptography' 2>/dev/null ||
    bail "python3 has no cryptography module (.ci/packages: python3-cryptography)"

# idlog ARG...: run idwise-log; sets RC, OUT and ERR.
idlog()
{
	"$IDWISE_LOG" "$@" >"$TEST_TMP/idlog.out" 2>"$TEST_TMP/idlog.err"
	RC=$?
	OUT=$(cat "$TEST_TMP/idlog.out")
	ERR=$(cat "$TEST_TMP/idlog.err")
}

# The hash lines of a proof: between its header lines and the empty line.
proof_hashes()
{
	sed -n '/^$/q; /^[A-Za-z0-9+\/]\{43\}=$/p' "$1"
}

W=$TEST_TMP/w
mkdir -p "$W"
cd "$W" || bail "cannot enter $W"

# --- keygen -------------------------------------------------------------------------------

idlog keygen --name example.org/idwise k
is "$RC|$ERR" "0|" "keygen: exit 0"
is "$(stat -c %a k) $(stat -c %a k.pub)" "600 644" "keygen: the signing key is mode 0600, the verifier key 0644"
is "$OUT" "$(cat k.pub)" "keygen: prints the verifier key, and only it"
like "$OUT" '^example\.org/idwise\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$' \
    "keygen: the verifier key is NAME+HASH+BASE64(0x01 || key)"
SEED=$(cut -d+ -f5- k)	# PRIVATE+KEY+NAME+HASH+KEY: the key's base64 may hold a '+' too
ok "keygen: the signing key is PRIVATE+KEY+NAME+HASH+KEY" grep -qE '^PRIVATE\+KEY\+example\.org/idwise\+[0-9a-f]{8}\+' k
ok "keygen: the secret is in neither output" not grep -qF "$SEED" "$TEST_TMP/idlog.out" "$TEST_TMP/idlog.err"
cp k k.before
idlog keygen --name example.org/idwise k
like "$RC|$ERR" '^2\|idwise-log: k.pub: already there: a key is never replaced' \
    "keygen: an existing key is never replaced"
ok "keygen: ... and is left as it was" cmp -s k k.before
idlog keygen --name 'a b' k3
is "$RC" 64 "keygen: a name with a space is refused"

# --- a log in three files, and its first checkpoint --------------------------------------

"$MKLOG" 16 >all16 || bail "mklog failed"
head -n 12 all16 >all12
head -n 4 all12 >events.jsonl.2
sed -n 5,8p all12 >events.jsonl.1
sed -n 9,12p all12 >events.jsonl
FILES=(events.jsonl.2 events.jsonl.1 events.jsonl)

idlog checkpoint --key k "${FILES[@]}"
is "$RC|$ERR" "0|" "checkpoint: exit 0"
printf '%s\n' "$OUT" >c12
read -r size root < <(python3 "$REF" root all12)
is "$(head -n 3 c12 | tr '\n' ' ')" "example.org/idwise 12 $root " \
    "checkpoint: origin, 12 records and the root the Python RFC 6962 tree gives"
like "$(sed -n 4,5p c12 | tr '\n' '|')" "^\|— example\.org/idwise [A-Za-z0-9+/]{91}=\|$" \
    "checkpoint: an empty line, then — NAME BASE64(key ID || Ed25519 signature)"
ok "checkpoint: the state is kept next to the key, mode 0600" test "$(stat -c %a k.state)" = 600
idlog checkpoint --key k "${FILES[@]}"
is "$RC|$OUT" "0|$(cat c12)" "checkpoint: the same log again gives the same checkpoint (Ed25519 is deterministic)"

# --- proofs against the Python tree, checked by verify-proof and the Python checker -------

same=0 verified=0 checked=0
for seq in $(seq 1 12); do
	"$IDWISE_LOG" prove --checkpoint c12 "$seq" "${FILES[@]}" >"p$seq" 2>/dev/null || continue
	[ "$(proof_hashes "p$seq")" = "$(python3 "$REF" inclusion "$seq" 12 all12)" ] &&
	    [ "$(sed -n 2p "p$seq" | cut -c7- | base64 -d)" = "$(sed -n "${seq}p" all12)" ] &&
	    [ "$(sed -n 3p "p$seq")" = "index $((seq - 1))" ] && same=$((same + 1))
	"$IDWISE_LOG" verify-proof --key k.pub "p$seq" >/dev/null && verified=$((verified + 1))
	python3 "$CHECKER" k.pub "p$seq" >/dev/null && checked=$((checked + 1))
done
is "$same" 12 "prove: the inclusion proof of each of 12 records is the Python tree's PATH, with its line and index"
is "$verified" 12 "verify-proof: each of them holds"
is "$checked" 12 "the Python checker of idwise-proofs(5): each of them holds"
idlog verify-proof --key k.pub p5
like "$RC|$OUT" "^0\|p5: record 5 \([a-z_]+, [a-z]+, received 20[0-9-]+T[0-9:.]+Z, id \"[^\"]+\"\) is in the tree of 12 records of example.org/idwise signed by example.org/idwise\+[0-9a-f]{8}$" \
    "verify-proof: one line naming the record, the tree and the key"
sed -n 5p all12 >r5
idlog verify-proof --key k.pub --record r5 p5
is "$RC" 0 "verify-proof --record: the record's line given apart"
sed -n 6p all12 >r6
idlog verify-proof --key k.pub --record r6 p5
is "$RC|$OUT" "1|r6: not the record the proof carries" "verify-proof --record: another record is refused"

# Growth: 16 records; every consistency proof against the Python tree's PROOF.
cp k.state state12
sed -n 9,16p all16 >events.jsonl
idlog checkpoint --key k "${FILES[@]}"
printf '%s\n' "$OUT" >c16
is "$RC|$(sed -n 2p c16)" "0|16" "checkpoint: the log grew to 16 records, consistent with the 12 signed"
same=0 verified=0 checked=0
for old in $(seq 1 16); do
	head -n "$old" all16 >"part$old"
	idlog checkpoint --key k --state "s$old" "part$old"
	printf '%s\n' "$OUT" >"c$old.x"
	"$IDWISE_LOG" prove --consistency "c$old.x" c16 "${FILES[@]}" >"q$old" 2>/dev/null || continue
	[ "$(proof_hashes "q$old")" = "$(python3 "$REF" consistency "$old" 16 all16)" ] && same=$((same + 1))
	"$IDWISE_LOG" verify-proof --key k.pub --old "c$old.x" "q$old" >/dev/null && verified=$((verified + 1))
	python3 "$CHECKER" k.pub "q$old" "c$old.x" >/dev/null && checked=$((checked + 1))
done
is "$same" 16 "prove --consistency: from each size 1..16 to 16, the Python tree's PROOF"
is "$verified" 16 "verify-proof --old: each of them holds"
is "$checked" 16 "the Python checker: each of them holds"
idlog verify-proof --key k.pub --old c12 q12
like "$RC|$OUT" "^0\|q12: the tree of 12 records of c12 is the start of its tree of 16 records" \
    "verify-proof --old: one line saying the older tree is the start of the newer"

# Rotation and compression: the oldest file gzipped, the tree goes on from the state.
gzip -k events.jsonl.2
mv events.jsonl.2 "$TEST_TMP/e2.plain"
"$MKLOG" 20 >all20
sed -n 9,20p all20 >events.jsonl
idlog checkpoint --key k --rotated events.jsonl
read -r size root < <(python3 "$REF" root all20)
is "$RC|$(sed -n 2,3p <<<"$OUT" | tr '\n' ' ')" "0|20 $root " \
    "checkpoint --rotated: .2 compressed, .1 and the log read; the root of all 20 records"
printf '%s\n' "$OUT" >c20
idlog prove --checkpoint c20 3 events.jsonl.1 events.jsonl
like "$RC|$ERR" "^1\|idwise-log: events.jsonl.1:1: the files start at seq 5, not 1: give the older files too" \
    "prove: the files must start at seq 1 (it says how)"
idlog prove --checkpoint c20 3 <(gzip -dc events.jsonl.2.gz) events.jsonl.1 events.jsonl
printf '%s\n' "$OUT" >p3
idlog verify-proof --key k.pub p3
is "$RC" 0 "prove: a compressed file given through a pipe"
mv "$TEST_TMP/e2.plain" events.jsonl.2
rm events.jsonl.2.gz

# --- tampering, against the checkpoint of 12 records signed earlier -----------------------

T=$TEST_TMP/t
mkdir -p "$T"
fresh()
{
	sed -n 1,4p all16 >"$T/e2" && sed -n 5,8p all16 >"$T/e1" && sed -n 9,16p all16 >"$T/e0"
	cp state12 "$T/state"
}
TF=("$T/e2" "$T/e1" "$T/e0")

# tampered DESC: the signer refuses; prove against c12 refuses; a proof forged with the
# key from the changed lines does not hold against c12, for verify-proof and the checker.
tampered()
{
	local desc=$1
	"$IDWISE_LOG" checkpoint --key k --state "$T/state" "${TF[@]}" >"$T/out" 2>"$T/err"
	is "$?" 1 "$desc: checkpoint refuses to sign" || diag "$(cat "$T/err")"
	"$IDWISE_LOG" prove --checkpoint c12 3 "${TF[@]}" >/dev/null 2>&1
	is "$?" 1 "$desc: prove finds the files do not hold the tree of c12"
	python3 "$REF" forge k example.org/idwise 12 "${TF[@]}" >"$T/forged"
	"$IDWISE_LOG" verify-proof --key k.pub --old c12 "$T/forged" >"$T/vp" 2>&1
	is "$?|$(grep -c 'does not hold' "$T/vp")" "1|1" "$desc: a consistency proof forged with the key does not hold"
	python3 "$CHECKER" k.pub "$T/forged" c12 >/dev/null
	is "$?" 1 "$desc: ... nor for the Python checker"
}

fresh; sed -i '2s/"journeyId":"\([0-9a-f]*\)"/"journeyId":"x\1"/' "$T/e1"
isnt "$(sha256sum <"$T/e1")" "$(sed -n 5,8p all16 | sha256sum)" "(a byte of a body was edited)"
tampered "an edited byte"
fresh; sed -i '4{s/"outcome":"approved"/"outcome":"XX"/;s/"outcome":"[a-z]*"/"outcome":"approved"/;s/"outcome":"XX"/"outcome":"rejected"/}' "$T/e1"
isnt "$(sed -n 4p "$T/e1" | jq -r .outcome)" "$(sed -n 8p all16 | jq -r .outcome)" "(the decision of record 8 was edited)"
tampered "an edited decision"
fresh; sed -i 2d "$T/e1"
tampered "a deleted line"
fresh; sed -i '2{h;d};3{G}' "$T/e1"
tampered "swapped lines"
fresh; sed -i 2p "$T/e1"
tampered "a duplicated line"
fresh; sed -i '2a garbage' "$T/e1"
tampered "a garbage line"
fresh; sed -n 9,12p all16 >"$T/e0"; truncate -s -1 "$T/e0"
tampered "a torn tail (record 12 cut short)"
fresh; sed -n 9,10p all16 >"$T/e0"
tampered "a cut tail (records 11 and on removed)"
fresh; "$MKLOG" 16 1795000000000 >"$T/new"
sed -n 1,4p "$T/new" >"$T/e2"; sed -n 5,8p "$T/new" >"$T/e1"; sed -n 9,16p "$T/new" >"$T/e0"
idlog verify "${TF[@]}"
like "$RC|$OUT" "^0\|.*16 records, seq 1\.\.16" "(the history written again has a fresh chain that verify finds intact)"
tampered "a history written again with a fresh chain"

# From the newer files only, the tree goes on from the state's right edge.
fresh
idlog checkpoint --key k --state "$T/state" "$T/e1" "$T/e0"
read -r size root < <(python3 "$REF" root all16)
is "$RC|$(sed -n 2,3p <<<"$OUT" | tr '\n' ' ')" "0|16 $root " \
    "checkpoint from records 5..16 and the state of 12: the root of all 16"
fresh; sed -i '4s/"journeyId":"\([0-9a-f]*\)"/"journeyId":"y\1"/' "$T/e0"
idlog checkpoint --key k --state "$T/state" "$T/e1" "$T/e0"
like "$RC|$ERR" "^1\|idwise-log: .*/e0:4: record 12 is not the one the last checkpoint ends with" \
    "checkpoint from the newer files: the last record signed was edited: refused"
fresh; sed -n 13,16p all16 >"$T/e0"
idlog checkpoint --key k --state "$T/state" "$T/e0"
like "$RC|$ERR" "^1\|idwise-log: .*/e0:1: the files start at seq 13, after record 12 the last checkpoint ends with" \
    "checkpoint: files that start after the last record signed are refused"

# An edited record with its genuine proof: the leaf is not the one in the tree.
fresh
sed '5s/"journeyId":"\([0-9a-f]*\)"/"journeyId":"x\1"/' all12 | sed -n 5p >r5x
idlog verify-proof --key k.pub --record r5x p5
is "$RC" 1 "verify-proof: an edited record against its genuine proof: refused"
python3 - p5 r5x >p5x <<'EOF'
import base64, sys
lines = open(sys.argv[1]).read().split("\n")
lines[1] = "extra " + base64.b64encode(open(sys.argv[2], "rb").read()).decode()
sys.stdout.write("\n".join(lines))
EOF
idlog verify-proof --key k.pub p5x
like "$RC|$OUT" "^1\|p5x: does not hold: record 5 .* is not in the tree of 12 records" \
    "verify-proof: ... also when the proof carries the edited line"
is "$(python3 "$CHECKER" k.pub p5x >/dev/null; echo $?)" 1 "the Python checker: refused too"

# --- wrong key, malformed note, another origin --------------------------------------------

"$IDWISE_LOG" keygen --name example.org/idwise k2 >/dev/null
idlog verify-proof --key k2.pub p5
like "$RC|$OUT" '^1\|p5: not signed by the key example\.org/idwise\+[0-9a-f]{8}$' \
    "verify-proof: another key of the same name is refused"
sed 's/^— /- /' p5 >p5m
idlog verify-proof --key k.pub p5m
like "$RC|$OUT" '^1\|p5m: not a signed note: signature line 1 is malformed$' "verify-proof: a malformed note is refused"
sed '/^example.org\/idwise$/{n;s/^12$/13/}' p5 >p5s
idlog verify-proof --key k.pub p5s
like "$RC|$OUT" '^1\|p5s: the signature of .* does not verify$' "verify-proof: a checkpoint edited after signing is refused"
idlog checkpoint --key k --origin other.org/log --state other.state "${FILES[@]}"
printf '%s\n' "$OUT" >cother
"$IDWISE_LOG" prove --checkpoint cother 5 "${FILES[@]}" >pother
idlog verify-proof --key k.pub pother
is "$RC|$OUT" "1|pother: a checkpoint of other.org/log, not of example.org/idwise" \
    "verify-proof: a checkpoint of another origin is refused"
idlog verify-proof --key k.pub --origin other.org/log pother
is "$RC" 0 "verify-proof --origin: ... and taken when that origin is asked for"
idlog checkpoint --key k --origin other.org/log "${FILES[@]}"
like "$RC|$ERR" "^64\|idwise-log: k.state: the state of the checkpoints of example.org/idwise, not of other.org/log" \
    "checkpoint: one state per origin"
idlog verify-proof --key k.pub --old c12 p5
is "$RC" 64 "verify-proof: --old with an inclusion proof is bad usage"
python3 "$CHECKER" k2.pub p5 >/dev/null
is "$?" 1 "the Python checker: another key is refused"

# --- the signer's own refusals and files ----------------------------------------------------

chmod 644 k
idlog checkpoint --key k "${FILES[@]}"
like "$RC|$ERR" "^2\|idwise-log: k: mode 0644 lets others read the signing key" "checkpoint: a key others can read is refused"
chmod 600 k
idlog checkpoint --key k --out c.out "${FILES[@]}"
is "$RC|$OUT|$(cat c.out)" "0|c.out: checkpoint of 20 records of example.org/idwise|$(cat c20)" \
    "checkpoint --out: written to the file, one line says so"
ok "checkpoint --out: no temporary file left" not test -e c.out.tmp
echo 'idwise-log checkpoint state 1' >bad.state
idlog checkpoint --key k --state bad.state "${FILES[@]}"
like "$RC|$ERR" "^1\|idwise-log: bad.state: not a checkpoint state idwise-log wrote" "checkpoint: a damaged state is not taken for none"
exec 9>k.state.lock
flock 9
idlog checkpoint --key k "${FILES[@]}"
like "$RC|$ERR" "^2\|idwise-log: k.state.lock: another idwise-log checkpoint is signing" "checkpoint: one at a time per state"
exec 9>&-
idlog prove --consistency c16 c12 "${FILES[@]}"
like "$RC|$ERR" "^1\|idwise-log: c16: a tree of 16 records, larger than the 12 of c12" "prove --consistency: the older one first"
idlog prove --checkpoint c12 13 "${FILES[@]}"
like "$RC|$ERR" "^1\|idwise-log: c12: a tree of 12 records: record 13 is not in it" "prove: a record after the tree"
idlog prove --checkpoint c12 "${FILES[@]}"
like "$RC|$ERR" "^64\|idwise-log: SEQ: not a record's seq" "prove: a file name where SEQ goes is bad usage"

# --- the checker in idwise-proofs(5) is the one tested ------------------------------------

sed -n '/^\.\\" script begins$/,/^\.\\" script ends$/p' "$top_srcdir/doc/idwise-proofs.5" |
    sed '1d;$d' | sed 's/^\\&//; s/\\e/\\/g' >page-script.py
ok "idwise-proofs(5) shows doc/idwise-verify-proof.py as it is" cmp -s page-script.py "$CHECKER"

done_testing
