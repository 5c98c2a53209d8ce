#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""oracle.py - differential test of our SPF evaluator against Debian's pyspf (python3-spf).

Generates random, syntactically valid SPF record sets (a fixed seed, so every run checks the
same cases; --seed or MW_SPF_ORACLE_SEED for others), serves them with tests/tools/dnsserver.py
on loopback, and evaluates each case twice against that same server: with our evaluator (the C
program spf-eval, on the daemon's resolver) and with pyspf (its real code, its dnspython
resolver pointed at the server). One TAP line per case: "ok - oracle/N ..." when both give the
same result (and, for a fail with an exp= the domain publishes, the same explanation), else
"not ok - " with both answers and the records.

One known, deliberate difference: pyspf counts every empty answer towards the void-lookup
limit, also the address lookups of MX hosts and PTR names; we count terms whose own lookup is
void, as RFC 7208 4.6.4 words it ("terms for which DNS queries return ..."). When pyspf says
permerror and we do not, the case is re-run with pyspf's void limit lifted; it agrees only when
pyspf then gives our result and our own void count is within the limit, and the TAP line says so.

    oracle.py --spf-eval PATH [--cases 150] [--seed N]
"""

import argparse
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from dnsserver import Zone, ZoneServer  # noqa: E402

CLIENTS = ["192.0.2.1", "192.0.2.77", "198.51.100.5", "2001:db8::1", "2001:db8:1::5"]
HOSTS = {  # name -> addresses; the only names with A/AAAA records
    "h1.zone.test": ["192.0.2.1", "2001:db8::1"],
    "h2.zone.test": ["192.0.2.77"],
    "h3.zone.test": ["198.51.100.5", "198.51.100.6"],
    "h4.zone.test": ["2001:db8:1::5"],
}
MX = {"m1.zone.test": ["10 h1.zone.test", "20 h2.zone.test"], "m2.zone.test": ["5 h3.zone.test"]}
PTR = {"192.0.2.1": "h1.zone.test", "198.51.100.5": "h3.zone.test", "2001:db8::1": "h1.zone.test"}
QUALIFIERS = ["", "+", "-", "~", "?"]


def reverse_name(ip):
    import ipaddress
    return ipaddress.ip_address(ip).reverse_pointer


class Generator:
    def __init__(self, rng):
        self.rng = rng
        self.zone_txt = {}        # name -> record text

    def cidr4(self):
        return self.rng.choice(["", "", "/32", "/24", "/16", "/0"])

    def cidr6(self):
        return self.rng.choice(["", "", "//128", "//64", "//32", "//0"])

    def target(self):
        return self.rng.choice(list(HOSTS) + list(MX) + ["missing.zone.test", "%{d}",
                                                         "h%{l1}.zone.test", "%{o}"])

    def mechanism(self, depth, name):
        r = self.rng
        kind = r.choice(["ip4", "ip4", "ip6", "a", "a", "mx", "include", "exists", "ptr", "all"])
        q = r.choice(QUALIFIERS)
        if kind == "ip4":
            net = r.choice(["192.0.2.0", "192.0.2.1", "198.51.100.0", "203.0.113.9", "0.0.0.0"])
            return "%sip4:%s%s" % (q, net, r.choice(["", "/24", "/32", "/8", "/0"]))
        if kind == "ip6":
            net = r.choice(["2001:db8::", "2001:db8::1", "2001:db8:1::", "::"])
            return "%sip6:%s%s" % (q, net, r.choice(["", "/32", "/48", "/128", "/0"]))
        if kind in ("a", "mx"):
            spec = ""
            if r.random() < 0.7:
                spec = ":" + (r.choice(list(MX)) if kind == "mx" and r.random() < 0.6
                              else self.target())
            return "%s%s%s%s%s" % (q, kind, spec, self.cidr4(), self.cidr6())
        if kind == "include":
            if depth >= 2:
                return "%sip4:192.0.2.0/24" % q
            return "%sinclude:%s" % (q, self.record_name(depth + 1))
        if kind == "exists":
            return "%sexists:%s" % (q, r.choice(["h1.zone.test", "missing.zone.test",
                                                  "%{ir}.h1.zone.test", "h2.zone.test"]))
        if kind == "ptr":
            return "%sptr%s" % (q, r.choice(["", ":zone.test", ":h1.zone.test", ":other.test"]))
        return "%sall" % q

    def record_name(self, depth):
        name = "r%d.zone.test" % len(self.zone_txt)
        self.zone_txt[name] = None          # reserve
        terms = [self.mechanism(depth, name) for _ in range(self.rng.randint(0, 5))]
        if self.rng.random() < 0.15 and depth < 2:
            terms.append("redirect=" + self.record_name(depth + 1))
        if self.rng.random() < 0.3:
            terms.append("exp=exp%d.zone.test" % self.rng.randint(1, 3))
        if self.rng.random() < 0.1:
            terms.append("unknown-mod=%{d}")
        self.rng.shuffle(terms)
        self.zone_txt[name] = " ".join(["v=spf1"] + terms)
        return name


def build_zone(gen):
    zone = Zone()
    for name, addrs in HOSTS.items():
        for a in addrs:
            zone.add(name, "AAAA" if ":" in a else "A", a)
    for name, mxs in MX.items():
        for mx in mxs:
            zone.add(name, "MX", mx)
    for ip, name in PTR.items():
        zone.add(reverse_name(ip), "PTR", name)
    zone.add("exp1.zone.test", "TXT", "%{i} is not allowed for %{d}")
    zone.add("exp2.zone.test", "TXT", "denied: %{l} at %{o} via %{v}")
    zone.add("1.2.0.192.in-addr.arpa.h1.zone.test", "A", "127.0.0.2")
    for name, text in gen.zone_txt.items():
        zone.add(name, "TXT", text)
    return zone


def ours(spf_eval, port, ip, sender, helo):
    proc = subprocess.run([spf_eval, "--nameserver", "127.0.0.1@%d" % port, "--ip", ip,
                           "--sender", sender, "--helo", helo, "--timeout-ms", "2000"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    fields = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition("\t")
        fields[key] = value
    if proc.returncode != 0:
        fields["result"] = "exit %d: %s" % (proc.returncode, proc.stderr.decode()[-300:])
    return fields


def pyspf_check(spf, ip, sender, helo, void_limit=2):
    saved = spf.MAX_VOID_LOOKUPS
    spf.MAX_VOID_LOOKUPS = void_limit
    try:
        q = spf.query(i=ip, s=sender, h=helo, strict=True)
        result, _code, explanation = q.check()
    finally:
        spf.MAX_VOID_LOOKUPS = saved
    return result, explanation


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spf-eval", required=True)
    ap.add_argument("--cases", type=int, default=150)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("MW_SPF_ORACLE_SEED", "7208")))
    args = ap.parse_args()
    try:
        import dns.resolver
        import spf
    except ImportError as e:
        print("not ok - oracle: pyspf is not installed (apt-get install python3-spf): %s" % e)
        return 1
    rng = random.Random(args.seed)
    gen = Generator(rng)
    cases = []
    for n in range(args.cases):
        top = gen.record_name(0)
        local = rng.choice(["user", "1", "2", "postmaster"])
        cases.append((n, top, rng.choice(CLIENTS), "%s@%s" % (local, top)))
    server = ZoneServer(build_zone(gen))
    server.start()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = server.port
    resolver.lifetime = 5
    dns.resolver.default_resolver = resolver
    passed = failed = 0
    try:
        for n, top, ip, sender in cases:
            mine = ours(args.spf_eval, server.port, ip, sender, "helo.zone.test")
            theirs, their_exp = pyspf_check(spf, ip, sender, "helo.zone.test")
            why = None
            note = ""
            if (mine.get("result") != theirs and theirs == "permerror"
                    and int(mine.get("void_lookups", "99")) <= 2):
                lifted, their_exp = pyspf_check(spf, ip, sender, "helo.zone.test", 1000)
                if lifted == mine.get("result"):
                    theirs = lifted
                    note = " (pyspf's void count of host lookups lifted)"
            if mine.get("result") != theirs:
                why = "ours %s (%s), pyspf %s" % (mine.get("result"), mine.get("problem", "-"),
                                                  theirs)
            elif (theirs == "fail" and mine.get("explanation_source") == "domain"
                  and mine.get("explanation") != their_exp):
                why = "explanation ours %r, pyspf %r" % (mine.get("explanation"), their_exp)
            label = "oracle/%d %s from %s: %s%s" % (n, sender, ip, theirs, note)
            if why is None:
                print("ok - " + label)
                passed += 1
            else:
                records = "; ".join("%s: %s" % (k, v) for k, v in gen.zone_txt.items()
                                    if k == top or k in gen.zone_txt[top])
                print("not ok - %s: %s; records %s" % (label, why, records))
                failed += 1
            sys.stdout.flush()
    finally:
        server.stop()
    print("# oracle (seed %d): %d agree with pyspf, %d differ" % (args.seed, passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
