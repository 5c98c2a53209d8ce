#!/usr/bin/python3
"""dns-stub.py - a tiny authoritative DNS server for the integration tests (python3-dnslib).

Answers from a zone file (dnslib's zone syntax, e.g. `example.test. 300 IN TXT "v=spf1 -all"`),
NOERROR with no answer when the name exists with other types only, NXDOMAIN otherwise. UDP and
TCP on 127.0.0.1:PORT. Re-reads the zone file when it changes, so a test may edit it.
"""
import argparse
import os
import sys
import time

from dnslib import QTYPE, RCODE, RR, DNSLabel
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class StubResolver(BaseResolver):
    def __init__(self, path):
        self.path = path
        self.mtime = None
        self.rrs = []

    def _load(self):
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            self.rrs = []
            return
        if mtime != self.mtime:
            with open(self.path) as f:
                text = f.read()
            self.rrs = list(RR.fromZone(text)) if text.strip() else []
            self.mtime = mtime

    def resolve(self, request, handler):
        self._load()
        reply = request.reply()
        qname = request.q.qname
        qtype = request.q.qtype
        exists = False
        for rr in self.rrs:
            if rr.rname == qname:
                exists = True
                if rr.rtype == qtype or qtype == QTYPE.ANY or rr.rtype == QTYPE.CNAME:
                    reply.add_answer(rr)
        reply.header.aa = 1
        if not reply.rr and not exists:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--zone", required=True)
    a = p.parse_args()
    resolver = StubResolver(a.zone)
    logger = DNSLogger("request,reply,error", prefix=False)
    servers = [DNSServer(resolver, port=a.port, address="127.0.0.1", logger=logger, tcp=tcp)
               for tcp in (False, True)]
    for s in servers:
        s.start_thread()
    try:
        while all(s.isAlive() for s in servers):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for s in servers:
        s.stop()


if __name__ == "__main__":
    sys.exit(main())
