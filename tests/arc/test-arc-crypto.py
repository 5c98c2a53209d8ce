#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""test-arc-crypto.py - ARC verification and sealing with their signatures (filter/arc:
arc_verify, arc_seal, driven by tests/arc/arc-tool) against the ARC test suite (README in
the suite's folder). TAP-style "ok - " / "not ok - " lines, one per test and pass.

  1. The 171 validation tests, key records from each scenario's txt-records served by the
     driver's fake lookup, the body fed in 5-byte chunks: the verdict (none/pass/fail) must be
     the suite's (its "" means fail: those chains carry a seal with cv=fail).
  2. The same 171 tests with the key records served by tests/tools/dnsserver.py on loopback
     and fetched by the daemon's resolver (filter/dns), the body in one piece.
  3. The 17 signing tests with the suite's fixed tag layout (arc-tool --layout suite): the
     ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results must be the suite's,
     byte for byte once folding white space is removed (the suite's YAML folds its values
     at its own places without the leading white space a header field needs); the b=
     values, signatures over the canonical bytes, are compared as they are. A test whose
     expected set is empty must be refused. cv is taken from the arc= result of the
     message's Authentication-Results, as the suite's reference signer does.
Tests using rsa-sha1 are counted apart: mailwarden refuses rsa-sha1 on purpose (RFC 8617
requires sha256; RFC 8301 forbids sha1 for DKIM). Each such test passes only if the suite
expects fail (it does for all of them); one the suite expected to pass would be a "not ok".
Run by `make check` (MW_BUILDDIR, MW_SRCDIR). Testdata: $MW_TESTDATA or SRCDIR/../shared/
testdata; skipped by name when absent."""
import os
import re
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("MW_BUILDDIR", ".")
SRC = os.environ.get("MW_SRCDIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TESTDATA = os.environ.get("MW_TESTDATA", os.path.join(SRC, "..", "shared", "testdata"))
VALIDATION = os.path.join(TESTDATA, "arc", "arc-draft-validation-tests.yml")
SIGNING = os.path.join(TESTDATA, "arc", "arc-draft-sign-tests.yml")
TOOL = os.path.join(BUILD, "tests", "arc", "arc-tool")
DNSSERVER = os.path.join(SRC, "tests", "tools", "dnsserver.py")

results = {"ok": 0, "not ok": 0}


def report(ok, text):
    key = "ok" if ok else "not ok"
    results[key] += 1
    print("%s - %s" % (key, text))


def load(path):
    import yaml
    docs = []
    with open(path) as fp:
        for doc in yaml.safe_load_all(fp):
            docs.append(doc)
    return docs


def uses_sha1(message):
    header = message.split("\n\n", 1)[0]
    return re.search(r"a\s*=\s*rsa-sha1", header) is not None


def start_dns(work, records):
    zone = os.path.join(work, "zone")
    with open(zone, "w") as out:
        for name, value in records:
            out.write("%s TXT %s\n" % (name.rstrip("."), value))
    port_file = os.path.join(work, "dns.port")
    proc = subprocess.Popen(["/usr/bin/python3", DNSSERVER, "--zone", zone, "--port", "0",
                             "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "dns.log"), "w"))
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return proc, open(port_file).read().strip()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise SystemExit("Bail out! dnsserver.py did not start (see %s/dns.log)" % work)


def verify_all(args, paths):
    proc = subprocess.run([TOOL, "verify"] + args + paths, capture_output=True, text=True)
    if proc.returncode != 0:
        print("not ok - arc-tool verify failed: %s" % proc.stderr.strip())
        results["not ok"] += 1
        return {}
    verdicts = {}
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        verdicts[os.path.basename(parts[0])[:-4]] = parts[1:]
    return verdicts


def judge_validation(label, tests, verdicts, sha1_count):
    for name, test in tests:
        expected = (test["cv"] or "fail").lower()
        got = verdicts.get(name)
        if got is None:
            report(False, "%s %s: no verdict" % (label, name))
            continue
        status, instance, field, reason, oldest, lookups, detail = got
        sha1 = uses_sha1(test["message"])
        ok = status == expected
        if sha1:
            ok = ok and expected == "fail"
            sha1_count[label] = sha1_count.get(label, 0) + 1
        report(ok, "%s %s: expected %s, got %s%s%s" % (
            label, name, expected, status,
            " at i=%s %s (%s: %s)" % (instance, field, reason, detail) if status == "fail" else "",
            " [rsa-sha1, refused on purpose]" if sha1 else ""))


def signing_tests(work):
    number = 0
    for doc in load(SIGNING):
        key = os.path.join(work, "sign.key")
        with open(key, "w") as out:
            out.write(doc["privatekey"])
        os.chmod(key, 0o600)
        for name, test in doc["tests"].items():
            number += 1
            msg = os.path.join(work, "sign-%s.eml" % name)
            with open(msg, "w", newline="") as out:
                out.write(test["message"])
            header = test["message"].split("\n\n", 1)[0]
            arc = re.findall(r"\barc=(\w+)", header)
            cv = arc[0] if arc else "none"
            proc = subprocess.run([TOOL, "sign", "--key", key, "--domain", doc["domain"],
                                   "--selector", doc["sel"], "--srv-id", test["srv-id"],
                                   "--time", str(test["t"]), "--headers", test["sig-headers"],
                                   "--cv", cv, "--layout", "suite", msg],
                                  capture_output=True, text=True)
            got = {}
            for line in proc.stdout.splitlines():
                field, _, value = line.partition(": ")
                got[{"ARC-Seal": "AS", "ARC-Message-Signature": "AMS",
                     "ARC-Authentication-Results": "AAR"}.get(field, field)] = value
            wrong = []
            for part in ("AS", "AMS", "AAR"):
                expected = re.sub(r"\s+", "", test.get(part) or "")
                actual = re.sub(r"\s+", "", got.get(part, ""))
                if expected != actual:
                    wrong.append(part)
            refused = proc.returncode == 3
            if not (test.get("AS") or "").strip() and refused:
                wrong = []
            report(not wrong, "signing %s (cv=%s): %s" % (
                name, cv, "identical" if not wrong else "differs in %s (%s)" % (
                    ", ".join(wrong), proc.stderr.strip())))
    return number


def main():
    try:
        import yaml  # noqa: F401
    except ImportError:
        print("1..0 # SKIP /usr/bin/python3 lacks yaml (apt-get install python3-yaml)")
        return 77
    if not os.path.isfile(VALIDATION) or not os.path.isfile(SIGNING):
        print("1..0 # SKIP the ARC test suite is absent from %s" % os.path.join(TESTDATA, "arc"))
        return 77
    tests = []
    records = []
    for doc in load(VALIDATION):
        for name, value in (doc.get("txt-records") or {}).items():
            if (name, value) not in records:
                records.append((name, value))
        for name, test in doc["tests"].items():
            tests.append((name, test))
    sha1_count = {}
    with tempfile.TemporaryDirectory(prefix="test-arc-crypto.") as work:
        keys = os.path.join(work, "keys.txt")
        with open(keys, "w") as out:
            for name, value in records:
                out.write("%s\t%s\n" % (name, value))
        paths = []
        for name, test in tests:
            path = os.path.join(work, name + ".eml")
            with open(path, "w", newline="") as out:
                out.write(test["message"])
            paths.append(path)
        judge_validation("fake-dns", tests, verify_all(["--keys", keys, "--chunk", "5"], paths),
                         sha1_count)
        dns, port = start_dns(work, records)
        try:
            judge_validation("loopback-dns", tests, verify_all(["--dns", port], paths), sha1_count)
        finally:
            dns.terminate()
            dns.wait()
        signed = signing_tests(work)
    print("# validation: %d tests, twice (fake lookup, loopback DNS); of them %d use rsa-sha1,"
          " refused on purpose (RFC 8617 requires sha256), which the suite expects to fail"
          % (len(tests), sha1_count.get("fake-dns", 0)))
    print("# signing: %d tests" % signed)
    print("# %d passed, %d failed" % (results["ok"], results["not ok"]))
    return 1 if results["not ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
