#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""every-action-milter.py - a milter (filter side, protocol version 6) that answers with every
reply and modification action there is, so tests/bench/test-mwload.sh can check that mwload
parses each of them. Not a filter anyone would run: one connection at a time, on a unix socket.

    every-action-milter.py SOCKET-PATH MODE

Negotiation: version 6, all actions, no-reply for header fields, and a setsymlist for MAIL
asking for "{auth_authen} i". Every stage answers 'c' (continue), except:
  MODE eom-mods   at end of message: progress, addheader, insheader, chgheader (change and
                  delete), replbody (two chunks), addrcpt, addrcpt_par, delrcpt, chgfrom,
                  quarantine, then continue
  MODE reply-5xx  at RCPT: a reply code "550 5.7.1 mwload test"
  MODE reply-4xx  at MAIL: a reply code "451 4.7.1 mwload test"
  MODE discard    at end of headers: discard
  MODE tempfail   at end of message: tempfail
It exits on SIGTERM."""
import os
import signal
import socket
import struct
import sys


def packet(cmd, data=b""):
    return struct.pack("!I", len(data) + 1) + cmd + data


def z(*strings):
    return b"".join(s.encode() + b"\0" for s in strings)


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def eom_mods():
    return [
        packet(b"p"),
        packet(b"h", z("X-Added", "added value")),
        packet(b"i", struct.pack("!I", 0) + z("X-Inserted", "inserted value")),
        packet(b"m", struct.pack("!I", 1) + z("Subject", "changed subject")),
        packet(b"m", struct.pack("!I", 1) + z("X-Deleted", "")),
        packet(b"b", b"new body, first chunk\r\n"),
        packet(b"b", b"second chunk\r\n"),
        packet(b"+", z("<added@example.net>")),
        packet(b"2", z("<added2@example.net>", "NOTIFY=NEVER")),
        packet(b"-", z("<rcpt@example.net>")),
        packet(b"e", z("<new-sender@example.com>")),
        packet(b"q", z("held by the test filter")),
        packet(b"c"),
    ]


def serve(conn, mode):
    while True:
        (length,) = struct.unpack("!I", read_exact(conn, 4))
        data = read_exact(conn, length)
        cmd, body = data[:1], data[1:]
        if cmd == b"O":
            version, actions, steps = struct.unpack("!III", body[:12])
            want_steps = steps & 0x80  # SMFIP_NR_HDR
            symlist = struct.pack("!I", 2) + z("{auth_authen} i")  # SMFIM_ENVFROM
            conn.sendall(packet(b"O", struct.pack("!III", 6, actions, want_steps) + symlist))
        elif cmd in (b"D", b"A"):
            continue  # macros and abort get no reply
        elif cmd == b"L":
            continue  # header fields: no reply (SMFIP_NR_HDR)
        elif cmd in (b"Q",):
            return
        elif cmd == b"M" and mode == "reply-4xx":
            conn.sendall(packet(b"y", z("451 4.7.1 mwload test")))
        elif cmd == b"R" and mode == "reply-5xx":
            conn.sendall(packet(b"y", z("550 5.7.1 mwload test")))
        elif cmd == b"N" and mode == "discard":
            conn.sendall(packet(b"d"))
        elif cmd == b"E" and mode == "eom-mods":
            conn.sendall(b"".join(eom_mods()))
        elif cmd == b"E" and mode == "tempfail":
            conn.sendall(packet(b"t"))
        else:
            conn.sendall(packet(b"c"))


def main():
    path, mode = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    while True:
        conn, _ = server.accept()
        try:
            serve(conn, mode)
        except (EOFError, ConnectionError):
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    main()
