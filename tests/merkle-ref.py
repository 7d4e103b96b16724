#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# tests/merkle-ref.py: an RFC 6962 tree written from the RFC's definitions (MTH, PATH,
# PROOF, section 2.1) with hashlib, independent of idwise-log's C, for
# tests/integration/checkpoint.sh. It also plays the attacker who holds the signing key:
# it signs a checkpoint of whatever lines it is given, and builds the consistency proof
# that those lines give.
#   merkle-ref.py root FILE...                 -> SIZE BASE64-ROOT
#   merkle-ref.py inclusion SEQ SIZE FILE...   -> the audit path, one base64 hash a line
#   merkle-ref.py consistency OLD NEW FILE...  -> PROOF(OLD, D[NEW]), one hash a line
#   merkle-ref.py forge KEYFILE ORIGIN OLD FILE...
#       -> a consistency proof from OLD to the tree of the files, signed with KEYFILE
import base64
import hashlib
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def sha(b):
    return hashlib.sha256(b).digest()


def leaves(files):
    data = b"".join(open(f, "rb").read() for f in files)
    lines = data.split(b"\n")[:-1]  # the part after the last newline is no leaf
    return [sha(b"\x00" + line + b"\n") for line in lines]


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if len(d) == 0:
        return sha(b"")
    if len(d) == 1:
        return d[0]
    k = split(len(d))
    return sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    if len(d) <= 1:
        return []
    k = split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    if m == len(d):
        return [] if b else [mth(d)]
    k = split(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m, d):
    return [] if m == 0 or m == len(d) else subproof(m, d, True)


def b64(h):
    return base64.b64encode(h).decode()


def signed_checkpoint(keyfile, origin, d):
    text = open(keyfile).read().strip()
    name, keyid, data = text[len("PRIVATE+KEY+"):].split("+", 2)
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(data)[1:])
    body = "%s\n%d\n%s\n" % (origin, len(d), b64(mth(d)))
    sig = bytes.fromhex(keyid) + key.sign(body.encode())
    return body + "\n\u2014 %s %s\n" % (name, b64(sig))


def main(cmd, *args):
    if cmd == "root":
        d = leaves(args)
        print(len(d), b64(mth(d)))
    elif cmd == "inclusion":
        d = leaves(args[2:])[: int(args[1])]
        for h in path(int(args[0]) - 1, d):
            print(b64(h))
    elif cmd == "consistency":
        d = leaves(args[2:])[: int(args[1])]
        for h in proof(int(args[0]), d):
            print(b64(h))
    elif cmd == "forge":
        keyfile, origin, old, files = args[0], args[1], int(args[2]), args[3:]
        d = leaves(files)
        print("idwise-log/consistency-proof@v1")
        print("old %d" % old)
        for h in proof(min(old, len(d)), d):
            print(b64(h))
        print()
        sys.stdout.write(signed_checkpoint(keyfile, origin, d))


main(*sys.argv[1:])
