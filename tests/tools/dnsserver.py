#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""dnsserver.py - a small authoritative DNS server for tests, UDP and TCP on loopback.

It answers from a zone file, never recurses and never forwards. It promises: every query is
answered (or deliberately dropped) from the zone alone; UDP answers larger than the client can
take carry TC so the client retries over TCP; SIGTERM and SIGINT stop it cleanly (exit 0); the
port file, when asked for, is written only once both sockets listen.

Run it with Debian's interpreter, which has python3-dnslib:

    /usr/bin/python3 dnsserver.py --zone FILE [--port 0] [--port-file FILE]
        [--address 127.0.0.1] [--log FILE] [--max-udp 1232] [--ttl 300] [--blackhole]

--port 0 (the default) picks a free port that is free for both UDP and TCP. SIGHUP reloads the
zone file (a broken file is reported on stderr and the old zone kept).

Zone file format: one record per line, fields separated by blanks; blank lines and lines whose
first non-blank character is '#' are ignored (there are no trailing comments).

    name TYPE data [ttl=N]

  name   a domain name, with or without the final dot, matched without regard to ASCII case.
         "*.example.com" is a wildcard (RFC 4592: it matches names below example.com that do not
         exist, unless a closer existing name stops it).
  TYPE   A       192.0.2.1
         AAAA    2001:db8::1
         MX      10 mail.example.com
         TXT     "v=spf1 " "-all"     one record of several character-strings; \\" \\\\ and \\DDD
                                      escapes work inside quotes; a string longer than 255
                                      bytes is split into 255-byte pieces.
         TXT     v=spf1 -all          without quotes: the rest of the line is one string.
         SPF     same data as TXT, sent as type 99.
         PTR     host.example.com
         CNAME   target.example.com   followed inside the zone for other query types.
         NS      ns1.example.com
         SRV     10 5 5060 sip.example.com
  ttl=N  this record's TTL; the default is --ttl (300).

--blackhole reads every query and answers none (a DNS server that has stopped answering, for
the tests and benchmarks of what the filter does then); --zone may then be /dev/null.

Special lines, which apply to the exact name and every query type:

    name TIMEOUT        never answer (UDP or TCP): for testing timeouts.
    name SERVFAIL       answer SERVFAIL.
    name DELAY ms       answer normally, but only after ms milliseconds.
    name HOLD n         answer normally, but only once queries for n different HOLD names
                        are waiting at the same time (then every waiting one is answered, and
                        later queries for those names at once); a query still held after
                        HOLD_SECONDS is dropped. Shows without a clock that a client asked for
                        n names together: one that waits for each answer before the next
                        question never gets the first.

Answers: a name with records of the asked type gets them (AA and RA set); a name that exists
without that type, or that only exists because names below it do (an "empty non-terminal"),
gets NOERROR with no records (NODATA); any other name gets NXDOMAIN. Negative answers carry no
SOA. Queries of class other than IN get REFUSED, opcodes other than QUERY get NOTIMP.

Other scripts can import it:

    from dnsserver import Zone, ZoneError, parse_zone, load_zone, ZoneServer
    zone = parse_zone('example.com TXT "v=spf1 -all"\\n')
    zone.add("mail.example.com", "A", "192.0.2.25")
    zone.add("example.com", "TXT", ["v=spf1 ", "mx -all"])   # strings (or bytes) for TXT/SPF
    zone.add_special("slow.example.com", "TIMEOUT")
    server = ZoneServer(zone)            # 127.0.0.1, free port
    server.start(); print(server.port); ...; server.stop()
"""

import argparse
import os
import re
import signal
import socket
import socketserver
import struct
import sys
import threading
import time

from dnslib import AAAA, A, CNAME, MX, NS, PTR, QTYPE, RCODE, RR, SRV, TXT
from dnslib import DNSError, DNSHeader, DNSLabel, DNSRecord, EDNS0

DEFAULT_TTL = 300
DEFAULT_MAX_UDP = 1232      # the DNS flag day 2020 size; unbound advertises the same
PLAIN_UDP_LIMIT = 512       # RFC 1035, for queries without EDNS
MAX_CNAME_HOPS = 8
TCP_IDLE_SECONDS = 30
HOLD_SECONDS = 10

RECORD_TYPES = {
    "A": QTYPE.A, "AAAA": QTYPE.AAAA, "MX": QTYPE.MX, "TXT": QTYPE.TXT, "SPF": 99,
    "PTR": QTYPE.PTR, "CNAME": QTYPE.CNAME, "NS": QTYPE.NS, "SRV": QTYPE.SRV,
}
SPECIAL_TYPES = ("TIMEOUT", "SERVFAIL", "DELAY", "HOLD")
TTL_OPTION = re.compile(r"^ttl=(\d+)$")


class ZoneError(ValueError):
    """A zone line that cannot be understood; the message names the place."""


# --- names -------------------------------------------------------------------------------

def name_key(name):
    """The lookup key of a name: bytes, lower-case ASCII, no final dot."""
    if isinstance(name, DNSLabel):
        return b".".join(name.label).lower()
    if isinstance(name, str):
        name = name.encode("utf-8")
    name = name.rstrip(b".")
    return name.lower()


def name_label(name):
    """A dnslib name made of exactly the bytes given (no IDNA conversion)."""
    if isinstance(name, str):
        name = name.encode("utf-8")
    name = name.rstrip(b".")
    if not name:
        return DNSLabel([])
    labels = name.split(b".")
    for label in labels:
        if not label or len(label) > 63:
            raise ZoneError("bad label in name %r" % name)
    if len(name) > 253:
        raise ZoneError("name longer than 253 characters: %r" % name)
    return DNSLabel(labels)


def parent_key(key):
    """The key of the parent name, or None for the root."""
    if not key:
        return None
    dot = key.find(b".")
    return b"" if dot < 0 else key[dot + 1:]


# --- character strings --------------------------------------------------------------------

def split_fields(text):
    """Splits data into fields; returns a list of (bytes, quoted)."""
    fields = []
    i = 0
    n = len(text)
    while i < n:
        if text[i] in " \t":
            i += 1
            continue
        if text[i] != '"':
            j = i
            while j < n and text[j] not in " \t":
                j += 1
            fields.append((text[i:j].encode("utf-8"), False))
            i = j
            continue
        value = bytearray()
        i += 1
        while True:
            if i >= n:
                raise ZoneError("unterminated quoted string")
            c = text[i]
            if c == '"':
                i += 1
                break
            if c != "\\":
                value += c.encode("utf-8")
                i += 1
                continue
            if i + 1 >= n:
                raise ZoneError("backslash at end of line")
            if text[i + 1:i + 4].isdigit() and len(text[i + 1:i + 4]) == 3:
                code = int(text[i + 1:i + 4])
                if code > 255:
                    raise ZoneError("bad escape \\%s" % text[i + 1:i + 4])
                value.append(code)
                i += 4
            else:
                value += text[i + 1].encode("utf-8")
                i += 2
        fields.append((bytes(value), True))
    return fields


def split_strings(strings):
    """Cuts every string longer than 255 bytes into 255-byte character-strings."""
    out = []
    for s in strings:
        if isinstance(s, str):
            s = s.encode("utf-8")
        if not s:
            out.append(b"")
        while s:
            out.append(s[:255])
            s = s[255:]
    return out


def txt_strings(data):
    """TXT data from zone text: quoted strings, or the whole text as one string."""
    fields = split_fields(data)
    if fields and all(quoted for _, quoted in fields):
        return split_strings([value for value, _ in fields])
    if any(quoted for _, quoted in fields):
        raise ZoneError("TXT data mixes quoted and unquoted strings")
    return split_strings([data.strip()])


# --- the zone -----------------------------------------------------------------------------

class Record:
    """One resource record: its type number, dnslib rdata and TTL."""

    def __init__(self, rtype, rdata, ttl):
        self.rtype = rtype
        self.rdata = rdata
        self.ttl = ttl


class Zone:
    """Records by name, plus the special behaviours (TIMEOUT, SERVFAIL, DELAY, HOLD)."""

    def __init__(self, default_ttl=DEFAULT_TTL):
        self.default_ttl = default_ttl
        self.records = {}      # key -> [Record]
        self.special = {}      # key -> "TIMEOUT" | "SERVFAIL"
        self.delay_ms = {}     # key -> milliseconds
        self.hold = {}         # key -> how many HOLD names must be waiting together
        self.existing = set()  # every name and every ancestor of one

    def _touch(self, key):
        while key is not None and key not in self.existing:
            self.existing.add(key)
            key = parent_key(key)

    def add(self, name, rtype, data, ttl=None):
        """Adds one record. data is zone text, or for TXT/SPF also a list of str/bytes."""
        rtype = rtype.upper()
        if rtype not in RECORD_TYPES:
            raise ZoneError("unknown record type %s" % rtype)
        if ttl is None:
            ttl = self.default_ttl
        if ttl < 0 or ttl > 0x7FFFFFFF:
            raise ZoneError("bad ttl %d" % ttl)
        name_label(name)       # validates
        rdata = make_rdata(rtype, data)
        key = name_key(name)
        self.records.setdefault(key, []).append(Record(RECORD_TYPES[rtype], rdata, ttl))
        self._touch(key)

    def add_special(self, name, kind, value=None):
        """Adds TIMEOUT, SERVFAIL, DELAY (value = milliseconds) or HOLD (value = names)."""
        kind = kind.upper()
        name_label(name)
        key = name_key(name)
        if kind == "DELAY":
            if value is None or int(value) < 0:
                raise ZoneError("DELAY needs a number of milliseconds")
            self.delay_ms[key] = int(value)
        elif kind == "HOLD":
            if value is None or int(value) < 1:
                raise ZoneError("HOLD needs a number of names")
            self.hold[key] = int(value)
        elif kind in ("TIMEOUT", "SERVFAIL"):
            self.special[key] = kind
        else:
            raise ZoneError("unknown special %s" % kind)
        self._touch(key)

    def find(self, key):
        """The records of a name, following a wildcard when the name does not exist.
        Returns (records, exists)."""
        if key in self.records:
            return self.records[key], True
        if key in self.existing:
            return [], True
        encloser = parent_key(key)
        while encloser is not None:
            if encloser in self.existing:
                wild = b"*." + encloser if encloser else b"*"
                if wild in self.records:
                    return self.records[wild], True
                return [], False
            encloser = parent_key(encloser)
        return [], False


def make_rdata(rtype, data):
    """The dnslib rdata for one record from its zone text."""
    if rtype in ("TXT", "SPF"):
        if isinstance(data, (list, tuple)):
            return TXT(split_strings(data))
        return TXT(txt_strings(data))
    words = data.split()
    try:
        if rtype == "A":
            socket.inet_pton(socket.AF_INET, data.strip())
            return A(data.strip())
        if rtype == "AAAA":
            socket.inet_pton(socket.AF_INET6, data.strip())
            return AAAA(data.strip())
        if rtype == "MX":
            if len(words) != 2 or not words[0].isdigit() or int(words[0]) > 65535:
                raise ZoneError("MX needs: preference name")
            return MX(name_label(words[1]), int(words[0]))
        if rtype == "SRV":
            if len(words) != 4 or not all(w.isdigit() and int(w) <= 65535 for w in words[:3]):
                raise ZoneError("SRV needs: priority weight port target")
            return SRV(int(words[0]), int(words[1]), int(words[2]), name_label(words[3]))
        if len(words) != 1:
            raise ZoneError("%s needs one name" % rtype)
        if rtype == "PTR":
            return PTR(name_label(words[0]))
        if rtype == "CNAME":
            return CNAME(name_label(words[0]))
        return NS(name_label(words[0]))
    except (OSError, ValueError) as e:
        if isinstance(e, ZoneError):
            raise
        raise ZoneError("bad %s data %r" % (rtype, data))


def parse_zone_line(zone, line):
    """Adds what one line says to zone. Raises ZoneError."""
    text = line.strip()
    if not text or text.startswith("#"):
        return
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise ZoneError("expected: name TYPE data")
    name, rtype = parts[0], parts[1].upper()
    rest = parts[2] if len(parts) > 2 else ""
    if rtype in SPECIAL_TYPES:
        if rtype in ("DELAY", "HOLD"):
            if not rest.strip().isdigit():
                raise ZoneError("expected: name %s %s" % (rtype, "milliseconds" if rtype == "DELAY" else "count"))
            zone.add_special(name, rtype, int(rest))
        elif rest.strip():
            raise ZoneError("%s takes no data" % rtype)
        else:
            zone.add_special(name, rtype)
        return
    ttl = None
    words = rest.rsplit(None, 1)
    if len(words) == 2 and TTL_OPTION.match(words[1]):
        ttl = int(TTL_OPTION.match(words[1]).group(1))
        rest = words[0]
    if not rest.strip():
        raise ZoneError("%s needs data" % rtype)
    zone.add(name, rtype, rest, ttl)


def parse_zone(text, source="<zone>", default_ttl=DEFAULT_TTL):
    """A Zone from zone-file text. Raises ZoneError naming source:line."""
    zone = Zone(default_ttl)
    for number, line in enumerate(text.splitlines(), 1):
        try:
            parse_zone_line(zone, line)
        except ZoneError as e:
            raise ZoneError("%s:%d: %s" % (source, number, e)) from None
    return zone


def load_zone(path, default_ttl=DEFAULT_TTL):
    """A Zone from a zone file."""
    with open(path, encoding="utf-8") as f:
        return parse_zone(f.read(), path, default_ttl)


# --- answering ----------------------------------------------------------------------------

class Decision:
    """What to do with one query: drop it, or send reply after delay_s seconds; with hold_key,
    only once the name is released (ZoneServer.wait_for_hold)."""

    def __init__(self, reply=None, delay_s=0.0, note=""):
        self.reply = reply
        self.delay_s = delay_s
        self.note = note
        self.hold_key = None
        self.hold_count = 0


def answer(zone, request):
    """Decides the answer to a parsed request from the zone alone."""
    reply = request.reply()
    reply.header.ad = 0        # nothing here is DNSSEC-validated, whatever the query says
    if request.header.opcode != 0 or not request.questions:
        reply.header.rcode = RCODE.NOTIMP if request.header.opcode != 0 else RCODE.FORMERR
        return Decision(reply, note=RCODE.get(reply.header.rcode))
    question = request.q
    if question.qclass != 1:
        reply.header.rcode = RCODE.REFUSED
        return Decision(reply, note="REFUSED")
    owner = question.qname
    key = name_key(owner)
    decision = answer_name(zone, reply, question, owner, key)
    if key in zone.hold and decision.reply is not None:
        decision.hold_key = key
        decision.hold_count = zone.hold[key]
    return decision


def answer_name(zone, reply, question, owner, key):
    """The answer for one name of the zone, following CNAMEs inside it."""
    delay_s = zone.delay_ms.get(key, 0) / 1000.0
    for _ in range(MAX_CNAME_HOPS):
        special = zone.special.get(key)
        if special == "TIMEOUT":
            return Decision(None, note="TIMEOUT")
        if special == "SERVFAIL":
            reply.rr = []
            reply.header.rcode = RCODE.SERVFAIL
            return Decision(reply, delay_s, "SERVFAIL")
        records, exists = zone.find(key)
        if not exists:
            reply.header.rcode = RCODE.NXDOMAIN
            return Decision(reply, delay_s, "NXDOMAIN")
        wanted = [r for r in records if r.rtype == question.qtype or question.qtype == QTYPE.ANY]
        if wanted:
            for r in wanted:
                reply.add_answer(RR(owner, r.rtype, 1, r.ttl, r.rdata))
            return Decision(reply, delay_s, "NOERROR")
        cnames = [r for r in records if r.rtype == QTYPE.CNAME]
        if not cnames:
            return Decision(reply, delay_s, "NODATA")
        reply.add_answer(RR(owner, QTYPE.CNAME, 1, cnames[0].ttl, cnames[0].rdata))
        owner = cnames[0].rdata.label
        key = name_key(owner)
    return Decision(reply, delay_s, "CNAME-LOOP")


def edns_size(request):
    """The UDP payload size the client takes, or None without EDNS."""
    for rr in request.ar:
        if rr.rtype == QTYPE.OPT:
            return rr.rclass
    return None


def truncated(request, reply):
    """A reply with the question only and TC set."""
    header = DNSHeader(id=reply.header.id, bitmap=reply.header.bitmap, qr=1, aa=1, ra=1, tc=1)
    out = DNSRecord(header, q=request.q)
    out.header.rcode = reply.header.rcode
    for rr in reply.ar:
        if rr.rtype == QTYPE.OPT:
            out.add_ar(rr)
    return out


# --- the servers --------------------------------------------------------------------------

class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        owner = self.server.owner
        try:
            request = DNSRecord.parse(data)
        except (DNSError, ValueError, IndexError, struct.error):
            owner.log("udp", "-", "-", "MALFORMED")
            return
        decision = answer(owner.zone, request) if not owner.blackhole else Decision(None, 0, "DROPPED")
        owner.log_query("udp", request, decision.note)
        if decision.reply is None:
            return
        client_size = edns_size(request)
        if client_size is None:
            limit = PLAIN_UDP_LIMIT
        else:
            decision.reply.add_ar(EDNS0(udp_len=owner.max_udp))
            limit = max(PLAIN_UDP_LIMIT, min(client_size, owner.max_udp))
        packet = decision.reply.pack()
        if len(packet) > limit:
            owner.log_query("udp", request, "TC")
            packet = truncated(request, decision.reply).pack()
        if decision.delay_s > 0:
            time.sleep(decision.delay_s)
        if not owner.wait_for_hold(decision):
            owner.log_query("udp", request, "HOLD-EXPIRED")
            return
        sock.sendto(packet, self.client_address)


class TCPHandler(socketserver.BaseRequestHandler):
    def read_exactly(self, count):
        data = b""
        while len(data) < count:
            chunk = self.request.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def handle(self):
        owner = self.server.owner
        self.request.settimeout(TCP_IDLE_SECONDS)
        while True:
            try:
                prefix = self.read_exactly(2)
                if prefix is None:
                    return
                data = self.read_exactly(struct.unpack("!H", prefix)[0])
                if data is None:
                    return
            except OSError:
                return
            try:
                request = DNSRecord.parse(data)
            except (DNSError, ValueError, IndexError, struct.error):
                owner.log("tcp", "-", "-", "MALFORMED")
                return
            decision = answer(owner.zone, request) if not owner.blackhole else Decision(None, 0, "DROPPED")
            owner.log_query("tcp", request, decision.note)
            if decision.reply is None:
                continue
            if edns_size(request) is not None:
                decision.reply.add_ar(EDNS0(udp_len=owner.max_udp))
            packet = decision.reply.pack()
            if decision.delay_s > 0:
                time.sleep(decision.delay_s)
            if not owner.wait_for_hold(decision):
                owner.log_query("tcp", request, "HOLD-EXPIRED")
                continue
            try:
                self.request.sendall(struct.pack("!H", len(packet)) + packet)
            except OSError:
                return


class ThreadingUDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True


class ThreadingTCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ZoneServer:
    """UDP and TCP servers on one address and port, answering from a Zone."""

    def __init__(self, zone, address="127.0.0.1", port=0, log_file=None,
                 max_udp=DEFAULT_MAX_UDP):
        self.zone = zone
        self.blackhole = False          # True: every query is read and dropped
        self.max_udp = max_udp
        self.log_file = log_file
        self.log_lock = threading.Lock()
        self.hold_changed = threading.Condition()
        self.held = {}                  # HOLD name -> queries waiting for it
        self.released = set()          # HOLD names answered at once from now on
        self.threads = []
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        ThreadingUDPServer.address_family = family
        ThreadingTCPServer.address_family = family
        self.udp, self.tcp = self._bind(address, port)
        self.udp.owner = self
        self.tcp.owner = self
        self.port = self.udp.server_address[1]

    @staticmethod
    def _bind(address, port):
        """Binds UDP then TCP on the same port; with port 0 retries until both are free."""
        for _ in range(100):
            udp = ThreadingUDPServer((address, port), UDPHandler)
            try:
                tcp = ThreadingTCPServer((address, udp.server_address[1]), TCPHandler)
                return udp, tcp
            except OSError:
                udp.server_close()
                if port != 0:
                    raise
        raise OSError("no port free for both UDP and TCP")

    def wait_for_hold(self, decision):
        """True when the decision's answer may go now: it is not held, or queries for
        hold_count different HOLD names are waiting together (they are all released), or its
        name was released before. False when it waited HOLD_SECONDS in vain."""
        key = decision.hold_key
        if key is None:
            return True
        deadline = time.monotonic() + HOLD_SECONDS
        with self.hold_changed:
            if key in self.released:
                return True
            self.held[key] = self.held.get(key, 0) + 1
            if len(self.held) >= decision.hold_count:
                self.released.update(self.held)
                self.held.clear()
                self.hold_changed.notify_all()
                return True
            while key not in self.released:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.hold_changed.wait(left)
            if key in self.released:
                return True
            self.held[key] -= 1
            if self.held[key] == 0:
                del self.held[key]
            return False

    def log(self, transport, name, qtype, note):
        if self.log_file is None:
            return
        with self.log_lock:
            self.log_file.write("%s %s %s %s\n" % (transport, name, qtype, note))
            self.log_file.flush()

    def log_query(self, transport, request, note):
        q = request.q
        name = b".".join(q.qname.label).decode("utf-8", "backslashreplace") or "."
        self.log(transport, name, QTYPE.get(q.qtype), note)

    def start(self):
        for server in (self.udp, self.tcp):
            t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                 daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        for server in (self.udp, self.tcp):
            server.shutdown()
            server.server_close()
        for t in self.threads:
            t.join()
        self.threads = []


# --- the command --------------------------------------------------------------------------

def write_port_file(path, port):
    """Writes the port atomically, so a reader never sees a partial file."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="authoritative DNS server for tests")
    parser.add_argument("--zone", required=True, help="zone file (format: see the source)")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--log", help="append one line per query to this file")
    parser.add_argument("--max-udp", type=int, default=DEFAULT_MAX_UDP,
                        help="largest UDP answer for EDNS clients (at least 512)")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL, help="default TTL")
    parser.add_argument("--blackhole", action="store_true", help="read every query, answer none")
    args = parser.parse_args(argv)

    try:
        zone = load_zone(args.zone, args.ttl)
    except (OSError, ZoneError) as e:
        print("dnsserver: %s" % e, file=sys.stderr)
        return 2
    log_file = open(args.log, "a", encoding="utf-8") if args.log else None
    try:
        server = ZoneServer(zone, args.address, args.port, log_file, max(512, args.max_udp))
    except OSError as e:
        print("dnsserver: cannot listen on %s port %d: %s" % (args.address, args.port, e),
              file=sys.stderr)
        return 1
    server.blackhole = args.blackhole

    stop = threading.Event()
    reload_wanted = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    signal.signal(signal.SIGHUP, lambda signum, frame: reload_wanted.set())

    server.start()
    if args.port_file:
        write_port_file(args.port_file, server.port)
    while not stop.is_set():
        stop.wait(0.5)
        if reload_wanted.is_set():
            reload_wanted.clear()
            try:
                server.zone = load_zone(args.zone, args.ttl)
            except (OSError, ZoneError) as e:
                print("dnsserver: reload failed, keeping the old zone: %s" % e, file=sys.stderr)
    server.stop()
    if log_file:
        log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
