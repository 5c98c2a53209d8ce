#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""run-suite.py - runs the DMARC case suite (dmarc-suite.yml, the SPF suite's YAML form) through
our evaluator.

For every scenario the zone data is served by the real DNS server tests/tools/dnsserver.py on
127.0.0.1 (a free port, stopped after the scenario), and every case is one run of the C program
dmarc-eval (dmarc_from_parse, then dmarc_evaluate on the daemon's libunbound resolver, a fresh
cache each time). Prints one TAP line per case, "ok - dmarc/CASE" or "not ok - dmarc/CASE: why",
then "# dmarc: N passed, N failed".

    run-suite.py --suite FILE --dmarc-eval PATH [--only CASE]

A scenario: description, zonedata (name: list of {TXT: "..." or [strings]}, {A: ...},
{AAAA: ...}, {MX: [pref, name]}, {CNAME: name}, or the words TIMEOUT / SERVFAIL, which make the
server drop or fail every query for that name), tests. A case: description (with the RFC 9989
section it follows), spec, from (a From field value, or a list of them: one per field; absent
means no From field), mailfrom + spf (the SPF domain and SPF's result for it), dkim (the d= of
each signature that verified), and the expectations: result (pass, fail, none, temperror,
permerror, or "-" when the From fields give no single Author Domain) and, optionally, any of
from_outcome, author, policy, published, policy_tag, testing, policy_domain, org_domain,
author_exists, spf_aligned, dkim_aligned, rua_count (each compared with dmarc-eval's field),
max_queries (queries sent at most) and problem_contains.
"""

import argparse
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from dnsserver import Zone, ZoneServer  # noqa: E402

FIELDS = {  # case key -> dmarc-eval's field
    "result": "result", "from_outcome": "from", "author": "author", "policy": "policy",
    "published": "published", "policy_tag": "policy_tag", "testing": "testing",
    "policy_domain": "policy_domain", "org_domain": "org_domain",
    "author_exists": "author_exists", "spf_aligned": "spf_aligned",
    "dkim_aligned": "dkim_aligned", "rua_count": "rua_count",
}
CASE_KEYS = set(FIELDS) | {"description", "spec", "from", "mailfrom", "spf", "dkim",
                           "max_queries", "problem_contains"}


def build_zone(zonedata):
    zone = Zone()
    for name, entries in (zonedata or {}).items():
        for entry in entries:
            if entry in ("TIMEOUT", "SERVFAIL"):
                zone.add_special(name, entry)
                continue
            for rtype, value in entry.items():
                if rtype == "TXT":
                    strings = [value] if isinstance(value, str) else list(value)
                    zone.add(name, "TXT", strings)
                elif rtype == "MX":
                    zone.add(name, "MX", "%d %s" % (value[0], value[1]))
                elif rtype in ("A", "AAAA", "CNAME"):
                    zone.add(name, rtype, str(value))
                else:
                    raise ValueError("%s: unknown record type %s" % (name, rtype))
    return zone


def as_text(value):
    if value is True:
        return "y"
    if value is False:
        return "n"
    return str(value)


def evaluate(dmarc_eval, port, case):
    cmd = [dmarc_eval, "--nameserver", "127.0.0.1@%d" % port,
           "--timeout-ms", "800", "--budget-ms", "8000"]
    froms = case.get("from")
    if froms is not None:
        for value in [froms] if isinstance(froms, str) else froms:
            cmd += ["--from", value]
    if case.get("mailfrom") is not None:
        cmd += ["--spf-domain", str(case["mailfrom"]), "--spf-result", str(case.get("spf", "pass"))]
    for d in case.get("dkim") or []:
        cmd += ["--dkim", str(d)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    fields = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition("\t")
        fields[key] = value
    return proc.returncode, fields, proc.stderr.decode("utf-8", "replace")


def judge(case, rc, fields, stderr):
    """Returns None when the case passed, else why not."""
    if rc != 0:
        return "dmarc-eval exited %d: %s" % (rc, stderr.strip()[-600:])
    wrong = []
    for key, field in FIELDS.items():
        if key in case and fields.get(field) != as_text(case[key]):
            wrong.append("%s %r, expected %r" % (key, fields.get(field), as_text(case[key])))
    if "max_queries" in case and int(fields.get("queries", "0")) > int(case["max_queries"]):
        wrong.append("%s queries, expected at most %s" % (fields.get("queries"), case["max_queries"]))
    if "problem_contains" in case and case["problem_contains"] not in fields.get("problem", ""):
        wrong.append("problem %r lacks %r" % (fields.get("problem"), case["problem_contains"]))
    if not wrong:
        return None
    return "; ".join(wrong) + " (problem: %s)" % fields.get("problem", "-")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", required=True)
    ap.add_argument("--dmarc-eval", required=True)
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    passed = failed = 0
    seen = set()
    with open(args.suite, encoding="utf-8") as f:
        scenarios = list(yaml.safe_load_all(f))
    for scenario in scenarios:
        if not scenario:
            continue
        cases = scenario.get("tests") or {}
        for case_id, case in cases.items():
            unknown = set(case) - CASE_KEYS
            if case_id in seen or unknown or "result" not in case or "description" not in case:
                print("not ok - dmarc/%s: bad case (duplicate name, no result or description, "
                      "or unknown keys %s)" % (case_id, sorted(unknown)))
                failed += 1
            seen.add(case_id)
        if args.only and args.only not in cases:
            continue
        server = ZoneServer(build_zone(scenario.get("zonedata")))
        server.start()
        try:
            for case_id, case in cases.items():
                if args.only and case_id != args.only:
                    continue
                rc, fields, stderr = evaluate(args.dmarc_eval, server.port, case)
                why = judge(case, rc, fields, stderr)
                if why is None:
                    print("ok - dmarc/%s" % case_id)
                    passed += 1
                else:
                    print("not ok - dmarc/%s: %s" % (case_id, why))
                    failed += 1
                sys.stdout.flush()
        finally:
            server.stop()
    print("# dmarc: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
