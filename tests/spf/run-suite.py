#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""run-suite.py - runs an OpenSPF test suite (RFC 7208 or RFC 4408, YAML) through our evaluator.

For every scenario the zone data is served by the real DNS server tests/tools/dnsserver.py on
loopback, and every test is one run of the C program spf-eval (the evaluator in filter/spf*.c on
the daemon's libunbound resolver, a fresh cache each time). Prints one TAP line per test,
"ok - SUITE/TEST" or "not ok - SUITE/TEST: why", then "# N passed, N failed, N excluded".
A test passes when the result is one of the listed results and, when the suite gives an
explanation for a fail, the explanation is exactly that text ("DEFAULT": our own default).

    run-suite.py --suite FILE --spf-eval PATH [--name rfc7208] [--exclude FILE] [--only ID]

Zone data: TXT and SPF values as in pyspf's own driver: a name's SPF records are served as TXT
too unless it lists a TXT record, "NONE" is no record; type SPF (99) is never queried by an RFC
7208 checker and is not served. "TIMEOUT" makes the server drop every query for the name; for a
name that also has records (spftimeout.example.net) those records are answered instead, which
is what the suite asks of the one query type that has them. A TXT record of no strings
(null.example.com) cannot be sent (RFC 1035 wants one); it is served as one empty string, which
is the same record once the strings are joined. An MX to "" is an MX to the root (".").
--exclude names tests (one "ID reason" a line) that are not run; each is listed as a TAP
comment with its reason.
"""

import argparse
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from dnsserver import Zone, ZoneServer  # noqa: E402


def build_zone(zonedata):
    zone = Zone()
    for name, entries in (zonedata or {}).items():
        timeout = False
        has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
        served = 0
        for entry in entries:
            if entry == "TIMEOUT":
                timeout = True
                continue
            for rtype, value in entry.items():
                if value == "NONE":
                    continue
                if rtype == "SPF":
                    if has_txt:
                        continue
                    rtype = "TXT"
                if rtype == "TXT":
                    strings = [value] if isinstance(value, str) else list(value) or [""]
                    zone.add(name, "TXT", [s.encode("utf-8") if isinstance(s, str) else s
                                           for s in strings])
                elif rtype == "MX":
                    zone.add(name, "MX", "%d %s" % (value[0], value[1] or "."))
                elif rtype in ("A", "AAAA", "PTR", "CNAME"):
                    zone.add(name, rtype, str(value))
                else:
                    raise ValueError("%s: unknown record type %s" % (name, rtype))
                served += 1
        if timeout and served == 0:
            zone.add_special(name, "TIMEOUT")
    return zone


def evaluate(spf_eval, port, test):
    cmd = [spf_eval, "--nameserver", "127.0.0.1@%d" % port, "--ip", str(test["host"]),
           "--sender", str(test.get("mailfrom") or ""), "--helo", str(test.get("helo") or ""),
           "--timeout-ms", "800", "--budget-ms", "6000"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    fields = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition("\t")
        fields[key] = value
    return proc.returncode, fields, proc.stderr.decode("utf-8", "replace")


def judge(test, rc, fields, stderr):
    """Returns None when the test passed, else why not."""
    if rc != 0:
        return "spf-eval exited %d: %s" % (rc, stderr.strip()[-600:])
    expected = test["result"]
    expected = [expected] if isinstance(expected, str) else list(expected)
    got = fields.get("result")
    if got not in expected:
        return "result %s, expected %s (problem: %s; mechanism: %s)" % (
            got, "/".join(expected), fields.get("problem", "-"), fields.get("mechanism", "-"))
    want = test.get("explanation")
    if want is not None and got == "fail":
        source = fields.get("explanation_source")
        text = fields.get("explanation")
        if want == "DEFAULT":
            if source != "default" or not text:
                return "explanation %r (%s), expected our default" % (text, source)
        elif text != want:
            return "explanation %r, expected %r" % (text, want)
    return None


def load_excludes(path):
    excludes = {}
    if path:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    test_id, _, reason = line.partition(" ")
                    excludes[test_id] = reason.strip()
    return excludes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", required=True)
    ap.add_argument("--spf-eval", required=True)
    ap.add_argument("--name", default=None)
    ap.add_argument("--exclude", default=None)
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    name = args.name or os.path.basename(args.suite).split("-")[0]
    excludes = load_excludes(args.exclude)
    passed = failed = excluded = 0
    with open(args.suite, encoding="utf-8") as f:
        scenarios = list(yaml.safe_load_all(f))
    for scenario in scenarios:
        if not scenario:
            continue
        tests = scenario.get("tests") or {}
        if args.only and args.only not in tests:
            continue
        server = ZoneServer(build_zone(scenario.get("zonedata")))
        server.start()
        try:
            for test_id, test in tests.items():
                if args.only and test_id != args.only:
                    continue
                if test_id in excludes:
                    print("# excluded %s/%s: %s" % (name, test_id, excludes[test_id]))
                    excluded += 1
                    continue
                rc, fields, stderr = evaluate(args.spf_eval, server.port, test)
                why = judge(test, rc, fields, stderr)
                if why is None:
                    print("ok - %s/%s" % (name, test_id))
                    passed += 1
                else:
                    print("not ok - %s/%s: %s" % (name, test_id, why))
                    failed += 1
                sys.stdout.flush()
        finally:
            server.stop()
    print("# %s: %d passed, %d failed, %d excluded" % (name, passed, failed, excluded))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
