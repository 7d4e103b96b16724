#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""fcgi-raw.py: a raw FastCGI client for the tests (Python 3, standard library only).

It writes any bytes a client could send (records of any version, type, request id and
padding; name-value pairs with 1- or 4-byte lengths, true or deliberately wrong) and reads
back what the responder says, record by record, with the time each came and whether the
connection ended in EOF or a reset.

As a library:  import it (importlib, the file name has a dash) and use record(), nv(),
begin(), params(), stdin(), request() and Conn.

As a program, two commands:

  fcgi-raw.py rec TYPE ID [--version V] [--pad N | --pad-hex HEX | --pad-file F]
                          [--hex HEX | --file F | --nv NAME=VALUE... | --len N]
      One record on stdout. TYPE is a number or a name (BEGIN_REQUEST, PARAMS, STDIN,
      GET_VALUES, ...). --len writes a header claiming N content bytes and no content
      (for half-sent records); --hex '' or no content option: an empty record.

  fcgi-raw.py nv NAME VALUE [--name-len N] [--value-len N] [--long-name] [--long-value]
      One name-value pair on stdout: the lengths given (or the true ones), in 4 bytes when
      they need it or --long-* asks for it. --name-len 0x7ffffffe claims a name that is
      not there.

  fcgi-raw.py request ID [--role R] [--keep] [--param NAME=VALUE]... [--params-file F]
                         [--body FILE] [--no-stdin-end]
      A whole request on stdout: BEGIN_REQUEST, PARAMS (the --param pairs, then the bytes
      of --params-file as they are; split at 65535 bytes), the empty PARAMS, STDIN (split),
      the empty STDIN (unless --no-stdin-end).

  fcgi-raw.py talk SOCKET [--timeout S] [--chunk N] [--delay S] STEP...
      Connect to SOCKET (unix:PATH, a path with a "/", or HOST:PORT) and run the steps:
        send=FILE     write FILE at once (a reset or EPIPE is reported, sending stops)
        trickle=FILE  write FILE --chunk bytes (1) at a time, --delay seconds (1) apart,
                      reading replies meanwhile; stops at EOF or a reset
        wait=S        read replies for S seconds
        replies=N     read until N replies in all (END_REQUEST, GET_VALUES_RESULT,
                      UNKNOWN_TYPE records) have come
        eof           read until the responder closes
      Every reading step ends at the --timeout (10 s from connect). Prints one JSON object
      a line: each record that came ({"t_ms" and "sent" (bytes written so far) when it
      came, "type", "id", "content_len", "padding_len",
      and per type "app_status"/"protocol_status", "pairs"/"padding_zero", "unknown_type"};
      for END_REQUEST also "stdout" (the STDOUT of that request) and "status" (the HTTP
      status it names, 200 when none)); after each send= step {"event": "sent", "t_ms",
      "sent"} or {"event": "send_failed", "errno", "t_ms", "sent"}; and last one of
      {"event": "eof"|"reset"|"timeout"|"done", "t_ms", "sent"}.
      Exit status 0, or 2 when it could not connect.
"""

import argparse
import errno
import json
import os
import select
import socket
import struct
import sys
import time

VERSION = 1
TYPES = {
    "BEGIN_REQUEST": 1, "ABORT_REQUEST": 2, "END_REQUEST": 3, "PARAMS": 4, "STDIN": 5,
    "STDOUT": 6, "STDERR": 7, "DATA": 8, "GET_VALUES": 9, "GET_VALUES_RESULT": 10,
    "UNKNOWN_TYPE": 11,
}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
REPLY_TYPES = (TYPES["END_REQUEST"], TYPES["GET_VALUES_RESULT"], TYPES["UNKNOWN_TYPE"])
RESPONDER, AUTHORIZER, FILTER = 1, 2, 3
KEEP_CONN = 1
MAX_CONTENT = 65535


# --- writing -----------------------------------------------------------------------

def record(rtype, req_id, content=b"", version=VERSION, padding=b"", content_len=None):
    """One record. padding: a number of zero bytes or the bytes themselves.
    content_len: the length the header claims, when it is to lie."""
    if isinstance(padding, int):
        padding = bytes(padding)
    if content_len is None:
        content_len = len(content)
    header = struct.pack(">BBHHBx", version, rtype, req_id, content_len, len(padding))
    return header + content + padding


def length(n, long=False):
    """A name-value pair length: 1 byte below 128, else 4 with the high bit set."""
    if n < 128 and not long:
        return bytes([n])
    return struct.pack(">I", n | 0x80000000)


def nv(name, value, name_len=None, value_len=None, long_name=False, long_value=False):
    """One name-value pair; name_len/value_len claim other lengths than the true ones."""
    name = name.encode() if isinstance(name, str) else name
    value = value.encode() if isinstance(value, str) else value
    nlen = len(name) if name_len is None else name_len
    vlen = len(value) if value_len is None else value_len
    return length(nlen, long_name) + length(vlen, long_value) + name + value


def split(rtype, req_id, data):
    """data as records of at most 65535 content bytes each (no empty one at the end)."""
    return b"".join(record(rtype, req_id, data[i:i + MAX_CONTENT])
                    for i in range(0, len(data), MAX_CONTENT))


def begin(req_id, role=RESPONDER, flags=0):
    return record(TYPES["BEGIN_REQUEST"], req_id, struct.pack(">HB5x", role, flags))


def params(req_id, pairs, end=True):
    """PARAMS records for pairs (a dict, or a list of (name, value) or of encoded bytes),
    then the empty PARAMS record unless end is False."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    data = b"".join(p if isinstance(p, bytes) else nv(*p) for p in items)
    out = split(TYPES["PARAMS"], req_id, data)
    return out + record(TYPES["PARAMS"], req_id) if end else out


def stdin(req_id, body, end=True):
    out = split(TYPES["STDIN"], req_id, body)
    return out + record(TYPES["STDIN"], req_id) if end else out


def request(req_id, pairs, body=b"", role=RESPONDER, keep=False, stdin_end=True):
    return (begin(req_id, role, KEEP_CONN if keep else 0) + params(req_id, pairs) +
            stdin(req_id, body, stdin_end))


# --- reading -----------------------------------------------------------------------

def parse_pairs(data):
    """Name-value pairs of data as a list of [name, value] (latin-1), or None when the
    encoding is malformed."""
    pairs, i = [], 0
    try:
        while i < len(data):
            lens = []
            for _ in range(2):
                if data[i] & 0x80:
                    lens.append(struct.unpack(">I", data[i:i + 4])[0] & 0x7fffffff)
                    i += 4
                else:
                    lens.append(data[i])
                    i += 1
            if i + lens[0] + lens[1] > len(data):
                return None
            name = data[i:i + lens[0]].decode("latin-1")
            i += lens[0]
            pairs.append([name, data[i:i + lens[1]].decode("latin-1")])
            i += lens[1]
    except (IndexError, struct.error):
        return None
    return pairs


def http_status(text):
    """The status a CGI reply names (Status: header), 200 when it names none."""
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if line == "":
            break
        if line.lower().startswith("status:"):
            try:
                return int(line.split(":", 1)[1].split()[0])
            except (IndexError, ValueError):
                return None
    return 200


class Conn:
    """One connection to a responder: send bytes, read records with a deadline."""

    def __init__(self, address, timeout=10.0):
        if address.startswith("unix:"):
            address = address[5:]
        if "/" in address:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target = address
        else:
            host, port = address.rsplit(":", 1)
            self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                      socket.SOCK_STREAM)
            target = (host.strip("[]"), int(port))
        self.start = time.monotonic()
        self.deadline = self.start + timeout
        self.sock.settimeout(timeout)
        self.sock.connect(target)
        self.sock.setblocking(False)
        self.buf = b""
        self.pending = []	# records parsed as they came, not yet emitted
        self.stdout = {}
        self.replies = 0
        self.sent = 0
        self.ended = None	# "eof" or "reset" once the responder has ended the connection
        self.send_error = None

    def t_ms(self):
        return int((time.monotonic() - self.start) * 1000)

    def send(self, data):
        """Write data; False (and send_error set) when the peer has gone. What comes
        meanwhile is read as it comes, so that a reply's "sent" says how much the client
        had written when it came."""
        view = memoryview(data)
        while view:
            if select.select([self.sock], [], [], 0)[0]:
                self._fill()
            if self.ended:
                self.send_error = "peer closed"
                return False
            try:
                n = self.sock.send(view)
            except BlockingIOError:
                if not self._wait(True):
                    return False
                continue
            except OSError as e:
                self.send_error = errno.errorcode.get(e.errno, str(e.errno))
                return False
            self.sent += n
            view = view[n:]
        return True

    def _wait(self, for_write):
        """Wait until the socket can be written (reading what comes meanwhile)."""
        while time.monotonic() < self.deadline:
            r, w, _ = select.select([self.sock], [self.sock] if for_write else [], [],
                                    self.deadline - time.monotonic())
            if r:
                self._fill()
                if self.ended:
                    self.send_error = self.send_error or "peer closed"
                    return False
            if w:
                return True
        self.send_error = "timeout"
        return False

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except ConnectionResetError:
            self.ended = "reset"
            return
        if not data:
            self.ended = "eof"
        self.buf += data
        self.pending.extend(self.records())

    def records(self):
        """The complete records read so far, parsed, taken out of the buffer (each
        stamped with the time and with how many bytes the client had sent)."""
        out = []
        while len(self.buf) >= 8:
            version, rtype, req_id, clen, plen = struct.unpack(">BBHHBx", self.buf[:8])
            if len(self.buf) < 8 + clen + plen:
                break
            content = self.buf[8:8 + clen]
            padding = self.buf[8 + clen:8 + clen + plen]
            self.buf = self.buf[8 + clen + plen:]
            out.append(self._describe(version, rtype, req_id, content, padding))
        return out

    def _describe(self, version, rtype, req_id, content, padding):
        rec = {"t_ms": self.t_ms(), "sent": self.sent, "type": TYPE_NAMES.get(rtype, rtype),
               "id": req_id, "content_len": len(content), "padding_len": len(padding)}
        if version != VERSION:
            rec["version"] = version
        if rtype == TYPES["STDOUT"]:
            self.stdout[req_id] = self.stdout.get(req_id, b"") + content
        elif rtype == TYPES["STDERR"]:
            rec["data"] = content.decode("latin-1")
        elif rtype == TYPES["END_REQUEST"] and len(content) >= 5:
            rec["app_status"], rec["protocol_status"] = struct.unpack(">IB", content[:5])
            text = self.stdout.pop(req_id, b"").decode("latin-1")
            rec["stdout"] = text
            rec["status"] = http_status(text) if text else None
        elif rtype == TYPES["GET_VALUES_RESULT"]:
            rec["pairs"] = parse_pairs(content)
            rec["padding_zero"] = padding == bytes(len(padding))
        elif rtype == TYPES["UNKNOWN_TYPE"] and len(content) >= 1:
            rec["unknown_type"] = content[0]
            rec["body_zero"] = content[1:] == bytes(len(content) - 1)
        if rtype in REPLY_TYPES:
            self.replies += 1
        return rec

    def read(self, until=None, seconds=None, emit=print):
        """Read and emit records until `until` replies in all, `seconds` have passed, the
        connection ends or the deadline. Returns "done", "eof", "reset" or "timeout"."""
        stop = self.deadline if seconds is None else min(self.deadline,
                                                         time.monotonic() + seconds)
        while True:
            for rec in self.pending:
                emit(rec)
            self.pending = []
            if until is not None and self.replies >= until:
                return "done"
            if self.ended:
                return self.ended
            left = stop - time.monotonic()
            if left <= 0:
                return "done" if seconds is not None and stop < self.deadline else "timeout"
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                self._fill()

    def close(self):
        self.sock.close()


# --- the program ---------------------------------------------------------------------

def out_json(obj):
    print(json.dumps(obj), flush=True)


def type_number(text):
    return TYPES[text] if text in TYPES else int(text, 0)


def cmd_rec(a):
    if a.hex is not None:
        content = bytes.fromhex(a.hex)
    elif a.file is not None:
        content = open(a.file, "rb").read()
    else:
        content = b"".join(nv(*p.split("=", 1)) for p in a.nv)
    padding = a.pad
    if a.pad_hex is not None:
        padding = bytes.fromhex(a.pad_hex)
    elif a.pad_file is not None:
        padding = open(a.pad_file, "rb").read()
    claim = None
    if a.len is not None:
        content, claim = b"", int(a.len, 0)
    sys.stdout.buffer.write(record(type_number(a.type), int(a.id, 0), content, a.version,
                                   padding, claim))


def cmd_nv(a):
    sys.stdout.buffer.write(nv(a.name, a.value,
                               None if a.name_len is None else int(a.name_len, 0),
                               None if a.value_len is None else int(a.value_len, 0),
                               a.long_name, a.long_value))


def cmd_request(a):
    pairs = [nv(*p.split("=", 1)) for p in a.param]
    if a.params_file:
        pairs.append(open(a.params_file, "rb").read())
    body = open(a.body, "rb").read() if a.body else b""
    sys.stdout.buffer.write(request(int(a.id, 0), pairs, body, a.role, a.keep,
                                    not a.no_stdin_end))


def cmd_talk(a):
    try:
        conn = Conn(a.socket, a.timeout)
    except OSError as e:
        out_json({"event": "connect_failed", "error": str(e)})
        return 2
    end = "done"
    for step in a.steps:
        word, _, arg = step.partition("=")
        if word == "send":
            if conn.send(open(arg, "rb").read()):
                out_json({"event": "sent", "t_ms": conn.t_ms(), "sent": conn.sent})
            else:
                out_json({"event": "send_failed", "errno": conn.send_error,
                          "t_ms": conn.t_ms(), "sent": conn.sent})
        elif word == "trickle":
            data = open(arg, "rb").read()
            for i in range(0, len(data), a.chunk):
                if not conn.send(data[i:i + a.chunk]):
                    out_json({"event": "send_failed", "errno": conn.send_error,
                              "t_ms": conn.t_ms(), "sent": conn.sent})
                    break
                end = conn.read(seconds=a.delay, emit=out_json)
                if end in ("eof", "reset", "timeout"):
                    break
        elif word == "wait":
            end = conn.read(seconds=float(arg), emit=out_json)
        elif word == "replies":
            end = conn.read(until=int(arg), emit=out_json)
        elif word == "eof":
            end = conn.read(emit=out_json)
        else:
            sys.exit("fcgi-raw.py: unknown step: " + step)
        if end in ("eof", "reset", "timeout"):
            break
    out_json({"event": end, "t_ms": conn.t_ms(), "sent": conn.sent})
    conn.close()
    return 0


def main():
    p = argparse.ArgumentParser(description="A raw FastCGI client for the tests.")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("rec", help="one record on stdout")
    r.add_argument("type")
    r.add_argument("id")
    r.add_argument("--version", type=int, default=VERSION)
    r.add_argument("--pad", type=int, default=0)
    r.add_argument("--pad-hex")
    r.add_argument("--pad-file")
    r.add_argument("--hex")
    r.add_argument("--file")
    r.add_argument("--nv", action="append", default=[])
    r.add_argument("--len")

    n = sub.add_parser("nv", help="one name-value pair on stdout")
    n.add_argument("name")
    n.add_argument("value")
    n.add_argument("--name-len")
    n.add_argument("--value-len")
    n.add_argument("--long-name", action="store_true")
    n.add_argument("--long-value", action="store_true")

    q = sub.add_parser("request", help="a whole request on stdout")
    q.add_argument("id")
    q.add_argument("--role", type=int, default=RESPONDER)
    q.add_argument("--keep", action="store_true")
    q.add_argument("--param", action="append", default=[])
    q.add_argument("--params-file")
    q.add_argument("--body")
    q.add_argument("--no-stdin-end", action="store_true")

    t = sub.add_parser("talk", help="send steps to a responder, print what comes back")
    t.add_argument("socket")
    t.add_argument("--timeout", type=float, default=10.0)
    t.add_argument("--chunk", type=int, default=1)
    t.add_argument("--delay", type=float, default=1.0)
    t.add_argument("steps", nargs="+")

    a = p.parse_args()
    try:
        return {"rec": cmd_rec, "nv": cmd_nv, "request": cmd_request,
                "talk": cmd_talk}[a.cmd](a) or 0
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
