#!/usr/bin/python3
"""milter-send.py - speaks the milter protocol (version 6) to a milter the way an MTA does,
for what an MTA in front would not send: one message with a header field of --field-bytes
bytes (Postfix cuts its fields at about 60 KB). Prints one line, "verdict: NAME" where NAME is
the milter's answer at the end of the message (accept, continue, reject, tempfail, discard,
quarantine) or "dropped" when the milter closed the connection before answering; exit 0.
Loopback only.

  milter-send.py --port PORT [--host 127.0.0.1] --field-bytes N [--qid ID]
"""
import argparse
import socket
import struct
import sys

VERDICTS = {b"a": "accept", b"c": "continue", b"r": "reject", b"t": "tempfail",
            b"d": "discard", b"y": "reply"}


class Dropped(Exception):
    pass


def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def read_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise Dropped()
        out += chunk
    return out


def read_packet(sock):
    (length,) = struct.unpack(">I", read_exact(sock, 4))
    body = read_exact(sock, length)
    return body[:1], body[1:]


def send(sock, cmd, data=b""):
    try:
        sock.sendall(packet(cmd, data))
    except (BrokenPipeError, ConnectionResetError):
        raise Dropped()


def final_reply(sock):
    """Reads replies until one that ends the step (header edits come before it)."""
    while True:
        cmd, data = read_packet(sock)
        if cmd in (b"h", b"i", b"m", b"+", b"-", b"q", b"e", b"b", b"p", b"l"):
            continue                   # header and envelope edits, quarantine, progress
        if cmd == b"y":
            return "reject" if data[:1] == b"5" else "tempfail"
        return VERDICTS.get(cmd, "unknown(%r)" % cmd)


def run(args):
    sock = socket.create_connection((args.host, args.port), timeout=30)
    try:
        send(sock, b"O", struct.pack(">III", 6, 0x1FF, 0))
        cmd, _ = read_packet(sock)
        if cmd != b"O":
            return "unknown(%r)" % cmd
        send(sock, b"D", b"C" + b"j\0mta.test\0")
        send(sock, b"C", b"client.test\0" + b"4" + struct.pack(">H", 25000) + b"203.0.113.9\0")
        for step, data in ((b"H", b"client.test\0"),
                           (b"M", b"<alice@example.test>\0"),
                           (b"R", b"<bob@remote.test>\0")):
            verdict = final_reply(sock)
            if verdict != "continue":
                return verdict
            send(sock, step, data)
        if final_reply(sock) != "continue":
            return "refused before the header"
        fields = [(b"From", b"Alice <alice@example.test>"), (b"To", b"Bob <bob@remote.test>"),
                  (b"Subject", b"big field"), (b"X-Big", b"x" * args.field_bytes)]
        for name, value in fields:
            send(sock, b"L", name + b"\0" + value + b"\0")
            verdict = final_reply(sock)
            if verdict != "continue":
                return verdict
        send(sock, b"D", b"N" + b"i\0" + args.qid.encode() + b"\0")
        send(sock, b"N")
        verdict = final_reply(sock)
        if verdict != "continue":
            return verdict
        send(sock, b"B", b"Hello Bob.\r\n")
        verdict = final_reply(sock)
        if verdict != "continue":
            return verdict
        send(sock, b"E")
        verdict = final_reply(sock)
        send(sock, b"Q")
        return verdict
    except (Dropped, ConnectionResetError, socket.timeout):
        return "dropped"
    finally:
        sock.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--field-bytes", type=int, required=True)
    p.add_argument("--qid", default="BIGFIELD1")
    args = p.parse_args()
    print("verdict: " + run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
