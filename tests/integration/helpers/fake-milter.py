#!/usr/bin/python3
"""fake-milter.py - a stand-in for mailwarden, to prove the integration harness on its own.

Not a product: it speaks the milter protocol (version 6) well enough for Postfix and Sendmail
and mimics the few behaviours the integration tests assert, reading the same policy files the
tests write (a small subset of mailwarden.conf, parsed with regular expressions):

  * milter.socket = "inet:PORT@HOST", authres.authserv_id, milter.shutdown_grace
  * access rules (one `{ ... }` per rule): match = helo / sender / recipient, values = [...],
    action = reject / tempfail, reply = "NXX X.X.X text"
  * adds "Authentication-Results: <id>; none" at the top (index 0) and removes incoming
    Authentication-Results headers that carry <id>
  * logs one summary line per message: qid= client= helo= from=<> rcpts=N sasl= action=
  * SIGHUP reloads (a file that does not parse keeps the old policy and logs file:line);
    SIGTERM stops listening, lets connections in flight finish (up to shutdown_grace), exits 0.

Usage: fake-milter.py -f -c POLICY
(FAKE_MILTER_ABRUPT=1: drop every connection on SIGTERM, to see the SIGTERM test catch it.)
"""
import argparse
import os
import re
import signal
import socket
import struct
import sys
import threading
import time

SMFIF_ADDHDRS = 0x01
SMFIF_CHGHDRS = 0x10


def log(msg):
    sys.stderr.write("%s fake-milter: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class PolicyError(Exception):
    pass


def parse_duration(s):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", s.strip())
    if not m:
        return 30.0
    n = int(m.group(1))
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def load_policy(path):
    with open(path) as f:
        text = f.read()
    # a crude syntax check: every line is blank, a comment, `name = ...`, `name: ...`, or
    # starts with punctuation or a string; brackets balance outside strings.
    depth = 0
    for n, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if s and not re.match(r'(#|//|/\*|\*|[A-Za-z_][\w-]*\s*[=:]|[{}()\[\],;"])', s):
            raise PolicyError("%s:%d: syntax error" % (path, n))
        for ch in re.sub(r'"(\\.|[^"\\])*"', '""', s.split("#")[0]):
            depth += ch in "{(["
            depth -= ch in "})]"
            if depth < 0:
                raise PolicyError("%s:%d: syntax error" % (path, n))
    if depth != 0:
        raise PolicyError("%s:%d: syntax error (unbalanced brackets)" % (path, n))
    pol = {"rules": []}
    m = re.search(r'socket\s*[=:]\s*"inet:(\d+)@([^"]+)"', text)
    if not m:
        raise PolicyError("%s: milter.socket missing" % path)
    pol["port"], pol["host"] = int(m.group(1)), m.group(2)
    m = re.search(r'authserv_id\s*[=:]\s*"([^"]+)"', text)
    pol["authserv_id"] = m.group(1) if m else "localhost"
    m = re.search(r'shutdown_grace\s*[=:]\s*"([^"]+)"', text)
    pol["grace"] = parse_duration(m.group(1)) if m else 30.0
    for block in re.findall(r"\{[^{}]*\bmatch\s*=[^{}]*\}", text):
        def get(key):
            mm = re.search(r'\b%s\s*[=:]\s*"([^"]*)"' % key, block)
            return mm.group(1) if mm else None
        vals = re.search(r"\bvalues\s*[=:]\s*\[([^\]]*)\]", block)
        pol["rules"].append({
            "name": get("name"), "match": get("match"), "action": get("action"),
            "reply": get("reply"),
            "values": [v.lower() for v in re.findall(r'"([^"]*)"', vals.group(1))] if vals else [],
        })
    return pol


class Policy:
    lock = threading.Lock()
    current = None


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def send_pkt(conn, cmd, data=b""):
    conn.sendall(struct.pack("!I", len(data) + 1) + cmd + data)


def cstrings(data):
    return [x.decode("utf-8", "replace") for x in data.split(b"\0")[:-1]]


def addr_of(arg):
    a = arg.strip()
    if a.startswith("<") and ">" in a:
        a = a[1:a.index(">")]
    return a.lower()


class Session(threading.Thread):
    active = set()
    active_lock = threading.Lock()

    def __init__(self, conn):
        super().__init__(daemon=True)
        self.conn = conn
        self.macros = {}
        self.client = "?"
        self.helo = ""
        self.helo_verdict = None
        self.reset()

    def reset(self):
        with Policy.lock:
            self.pol = Policy.current
        self.sender = None
        self.rcpts = 0
        self.ar_seen = 0
        self.forged = []
        self.sasl = None

    def reply_for(self, key, value):
        for r in self.pol["rules"]:
            if r["match"] != key:
                continue
            v = value.lower()
            if v in r["values"] or ("@" in v and "@" + v.split("@", 1)[1] in r["values"]):
                code = b"y" if r.get("reply") else (b"r" if r["action"] == "reject" else b"t")
                return r, code
        return None, None

    def verdict(self, rule, code, stage):
        if code == b"y":
            send_pkt(self.conn, b"y", rule["reply"].encode() + b"\0")
        else:
            send_pkt(self.conn, code)
        log("%s %s by rule %s at %s" % (self.client, rule["action"], rule["name"], stage))

    def summary(self, action):
        qid = self.macros.get("i") or self.macros.get("{i}") or "-"
        log("qid=%s client=%s helo=%s from=<%s> rcpts=%d sasl=%s action=%s" % (
            qid, self.client, self.helo, self.sender or "", self.rcpts, self.sasl or "-", action))

    def run(self):
        with Session.active_lock:
            Session.active.add(self)
        try:
            self.loop()
        except (EOFError, ConnectionError, OSError):
            pass
        finally:
            with Session.active_lock:
                Session.active.discard(self)
            self.conn.close()

    def loop(self):
        c = self.conn
        while True:
            (length,) = struct.unpack("!I", recv_exact(c, 4))
            pkt = recv_exact(c, length)
            cmd, data = pkt[:1], pkt[1:]
            if cmd == b"O":
                ver, actions, proto = struct.unpack("!III", data[:12])
                send_pkt(c, b"O", struct.pack("!III", 6, actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS), 0))
            elif cmd == b"D":
                items = cstrings(data[1:])
                for k, v in zip(items[0::2], items[1::2]):
                    self.macros[k] = v
                    if k.strip("{}") == "i":
                        self.macros["i"] = v
            elif cmd == b"C":
                host = data.split(b"\0", 1)[0].decode()
                rest = data.split(b"\0", 1)[1]
                addr = rest[3:].split(b"\0")[0].decode() if rest[:1] in (b"4", b"6") else "local"
                self.client = "%s[%s]" % (host, addr)
                self.reset()
                send_pkt(c, b"c")
            elif cmd == b"H":
                self.helo = cstrings(data)[0] if data else ""
                rule, code = self.reply_for("helo", self.helo)
                if rule:
                    self.verdict(rule, code, "HELO")
                else:
                    send_pkt(c, b"c")
            elif cmd == b"M":
                self.reset()
                self.sender = addr_of(cstrings(data)[0])
                self.sasl = self.macros.get("{auth_authen}")
                rule, code = self.reply_for("helo", self.helo)
                if rule is None:
                    rule, code = self.reply_for("sender", self.sender)
                if rule:
                    self.verdict(rule, code, "MAIL")
                    self.summary(rule["action"])
                else:
                    send_pkt(c, b"c")
            elif cmd == b"R":
                rcpt = addr_of(cstrings(data)[0])
                rule, code = self.reply_for("recipient", rcpt)
                if rule:
                    self.verdict(rule, code, "RCPT")
                else:
                    self.rcpts += 1
                    send_pkt(c, b"c")
            elif cmd == b"L":
                items = cstrings(data)
                name, value = (items + ["", ""])[:2]
                if name.lower() == "authentication-results":
                    self.ar_seen += 1
                    aid = value.strip().split(";", 1)[0].split()[0] if value.strip() else ""
                    if aid.lower() == self.pol["authserv_id"].lower():
                        self.forged.append(self.ar_seen)
                send_pkt(c, b"c")
            elif cmd in (b"T", b"N", b"B", b"U"):
                send_pkt(c, b"c")
            elif cmd == b"E":
                for idx in reversed(self.forged):
                    send_pkt(c, b"m", struct.pack("!I", idx) + b"Authentication-Results\0\0")
                send_pkt(c, b"i", struct.pack("!I", 0) + b"Authentication-Results\0"
                         + (" %s; none" % self.pol["authserv_id"]).encode() + b"\0")
                send_pkt(c, b"c")
                self.summary("accept")
                self.reset()
            elif cmd == b"A":
                self.reset()
            elif cmd == b"K":
                self.macros = {}
                self.reset()
            elif cmd == b"Q":
                return
            else:
                log("unknown command %r" % cmd)
                send_pkt(c, b"c")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-f", action="store_true")
    ap.add_argument("-c", required=True)
    a = ap.parse_args()
    try:
        Policy.current = load_policy(a.c)
    except (OSError, PolicyError) as e:
        log("cannot load %s: %s" % (a.c, e))
        return 1
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((Policy.current["host"], Policy.current["port"]))
    srv.listen(128)
    stop = threading.Event()

    def on_hup(signum, frame):
        try:
            pol = load_policy(a.c)
        except (OSError, PolicyError) as e:
            log("reload failed, keeping the running policy: %s" % e)
            return
        with Policy.lock:
            Policy.current = pol
        log("reloaded %s" % a.c)

    def on_term(signum, frame):
        stop.set()

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_term)
    srv.settimeout(0.2)
    log("listening on %s:%d" % (Policy.current["host"], Policy.current["port"]))
    while not stop.is_set():
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        conn.settimeout(None)
        Session(conn).start()
    srv.close()
    if os.environ.get("FAKE_MILTER_ABRUPT") == "1":
        # harness self-test: behave like a daemon that drops its connections on SIGTERM
        with Session.active_lock:
            for sess in list(Session.active):
                try:
                    sess.conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
    deadline = time.time() + Policy.current["grace"]
    log("SIGTERM: waiting for %d connections" % len(Session.active))
    while Session.active and time.time() < deadline:
        time.sleep(0.05)
    log("exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
