#!/usr/bin/env python3
# idwise-verify-proof.py: check a proof of idwise-log prove with the verifier key alone,
# as idwise-proofs(5) describes it (Python 3, and Debian's python3-cryptography for Ed25519).
#   idwise-verify-proof.py KEY.pub PROOF [OLD-CHECKPOINT]
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

NL = chr(10)


def sha(data):
    return hashlib.sha256(data).digest()


def node(left, right):
    return sha(bytes([1]) + left + right)


def b64(text):
    return base64.b64decode(text, validate=True)


def read_key(text):
    name, keyid, data = text.strip().split("+", 2)
    raw = b64(data)
    if raw[0] != 1 or len(raw) != 33:
        raise ValueError("not an Ed25519 verifier key")
    if sha(name.encode() + bytes([10, 1]) + raw[1:])[:4].hex() != keyid:
        raise ValueError("the key's hash is wrong")
    return name, bytes.fromhex(keyid), Ed25519PublicKey.from_public_bytes(raw[1:])


def open_checkpoint(note, key):
    name, keyid, pub = key
    text, sep, sigs = note.rpartition(NL + NL)
    text += NL
    signed = False
    for line in sigs.splitlines():
        dash, signer, sig = line.split(" ")
        raw = b64(sig)
        if dash == chr(0x2014) and signer == name and raw[:4] == keyid:
            pub.verify(raw[4:], text.encode())  # raises InvalidSignature
            signed = True
    if not signed:
        raise ValueError("not signed by the key")
    origin, size, root = text.split(NL)[:3]
    if origin != name:
        raise ValueError("a checkpoint of another origin: " + origin)
    return int(size), b64(root)


def climb(fn, sn):
    while fn & 1 == 0 and fn != 0:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def inclusion_root(index, size, leaf, proof):  # RFC 9162, 2.1.3.2
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("the proof is too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            fn, sn = climb(fn, sn)
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("the proof is too short")
    return r


def consistent(m, n, proof, old_root, new_root):  # RFC 9162, 2.1.4.2
    if m == n:
        return not proof and old_root == new_root
    if m == 0 or m > n:
        return m == 0 and not proof
    if m & (m - 1) == 0:
        proof = [old_root] + proof
    if not proof:
        return False
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            fn, sn = climb(fn, sn)
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def main(keyfile, prooffile, oldfile=None):
    key = read_key(open(keyfile, encoding="utf-8").read())
    head, sep, note = open(prooffile, encoding="utf-8").read().partition(NL + NL)
    head = head.split(NL)
    size, root = open_checkpoint(note, key)
    if head[0] == "c2sp.org/tlog-proof@v1" and head[1].startswith("extra "):
        line = b64(head[1][6:])
        index = int(head[2][len("index "):])
        proof = [b64(h) for h in head[3:]]
        if json.loads(line)["seq"] != index + 1:
            raise ValueError("the record is not the one at that index")
        if inclusion_root(index, size, sha(bytes([0]) + line), proof) != root:
            raise ValueError("the record is not in the tree")
        print("record", index + 1, "is in the tree of", size, "records of", key[0])
    elif head[0] == "idwise-log/consistency-proof@v1" and oldfile is not None:
        old = int(head[1][len("old "):])
        proof = [b64(h) for h in head[2:]]
        old_size, old_root = open_checkpoint(open(oldfile, encoding="utf-8").read(), key)
        if old_size != old or not consistent(old, size, proof, old_root, root):
            raise ValueError("the older tree is not the start of the newer one")
        print("the tree of", old, "records is the start of the tree of", size)
    else:
        raise ValueError("not a proof this script knows (or no older checkpoint)")


if __name__ == "__main__":
    try:
        main(*sys.argv[1:])
    except Exception as e:  # a proof that does not hold, or a malformed file
        print("does not hold:", type(e).__name__, e)
        sys.exit(1)
