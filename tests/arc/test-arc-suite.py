#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""test-arc-suite.py - the structural layer of ARC verification (filter/arc/arc_set.c, driven
by tests/arc/arc-structure) against the ARC test suite's validation scenarios
(arc-draft-validation-tests.yml; README in the suite's folder). One "ok - N ..." or
"not ok - N ..." line per test (the form tests/run-all.sh counts).

What the structural layer alone can say, and what this checks:
  - expected cv "None": the verdict must be none (no ARC field);
  - expected "Pass": the verdict must be ready (a passing chain is never refused on structure);
  - expected "Fail" (and "", which the suite uses for the three chains whose seal says cv=fail:
    RFC 8617 5.2 makes them fail): the verdict must not be none; it must be invalid for every
    test named in tests/arc/structural-fails.txt (failures that RFC 8617 5.2 steps 1-3 decide);
    any other failing test may be invalid or ready (its failure is in a signature or key, left
    to the signature checks).
The summary counts the tests the structural layer decides (none + invalid) and those it leaves.
Then the bytes filter/arc/arc_canon.c says each seal signs (RFC 8617 5.1.1) are checked against
the suite's real signatures with python3-dkim's RSA code: every seal of every chain the suite
expects to pass must verify over exactly those bytes (one TAP line per test).
Run by `make check` (MW_BUILDDIR, MW_SRCDIR set). Testdata: $MW_TESTDATA or
SRCDIR/../shared/testdata; skipped by name when absent."""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile

BUILD = os.environ.get("MW_BUILDDIR", ".")
SRC = os.environ.get("MW_SRCDIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TESTDATA = os.environ.get("MW_TESTDATA", os.path.join(SRC, "..", "shared", "testdata"))
SUITE = os.path.join(TESTDATA, "arc", "arc-draft-validation-tests.yml")
DRIVER = os.path.join(BUILD, "tests", "arc", "arc-structure")
STRUCTURAL = os.path.join(SRC, "tests", "arc", "structural-fails.txt")


def seal_problems(name, test, seals):
    """What is wrong with the seals of a chain the suite expects to pass, checked with
    python3-dkim's RSA code over the bytes arc_canon produced; [] when all verify."""
    import dkim.crypto
    import dkim.util
    if not seals:
        return ["no seal input printed"]
    records = test["scenario-txt-records"]
    problems = []
    for instance, domain, selector, algorithm, signature, hexinput in seals:
        record = records.get("%s._domainkey.%s" % (selector, domain)) or records.get(
            "%s._domainkey.%s." % (selector, domain))
        if record is None:
            problems.append("i=%s: no key record %s._domainkey.%s in the suite" % (instance, selector, domain))
            continue
        tags = dkim.util.parse_tag_value(record.encode())
        key = dkim.crypto.parse_public_key(base64.b64decode(tags[b"p"]))
        digest = {"rsa-sha256": hashlib.sha256, "rsa-sha1": hashlib.sha1}.get(algorithm)
        if digest is None:
            problems.append("i=%s: a=%s is not RSA" % (instance, algorithm))
            continue
        hashed = digest(bytes.fromhex(hexinput))
        if not dkim.crypto.RSASSA_PKCS1_v1_5_verify(hashed, base64.b64decode(signature), key):
            problems.append("i=%s: the signature does not verify" % instance)
    return problems


def main():
    try:
        import yaml
    except ImportError:
        print("1..0 # SKIP /usr/bin/python3 lacks yaml (apt-get install python3-yaml)")
        return 1
    if not os.path.isfile(SUITE):
        print("1..0 # SKIP the ARC validation suite: %s is absent" % SUITE)
        return 0
    with open(STRUCTURAL) as fp:
        structural = {line.split("#")[0].strip() for line in fp} - {""}
    tests = []
    with open(SUITE) as fp:
        for doc in yaml.safe_load_all(fp):
            for name, test in doc["tests"].items():
                test["scenario-txt-records"] = doc.get("txt-records") or {}
                tests.append((name, test))
    unknown = structural - {name for name, _ in tests}
    with tempfile.TemporaryDirectory(prefix="test-arc-suite.") as work:
        paths = []
        for name, test in tests:
            path = os.path.join(work, name + ".eml")
            with open(path, "w", newline="") as out:
                out.write(test["message"])
            paths.append(path)
        proc = subprocess.run([DRIVER, "--seal-input"] + paths, capture_output=True, text=True)
        if proc.returncode != 0:
            print("not ok - arc-structure failed: %s" % proc.stderr.strip())
            return 1
        verdicts = {}
        seals = {}
        for line in proc.stdout.splitlines():
            parts = line.split("\t")
            if parts[0] == "seal":
                seals.setdefault(current, []).append(parts[1:])
                continue
            path, state, number, reason = parts
            current = os.path.basename(path)[:-4]
            verdicts[current] = (state, int(number), reason)

    passing = [(name, test) for name, test in tests if (test["cv"] or "").lower() == "pass"]
    print("1..%d" % (len(tests) + 1 + len(passing)))
    failed = 0
    counts = {"none": 0, "invalid": 0, "left": 0}
    number = 0
    for name, test in tests:
        number += 1
        expected = (test["cv"] or "fail").lower()
        state, n, reason = verdicts[name]
        detail = "%s: expected %s, structure says %s %s %s" % (name, expected, state, n, reason)
        if expected == "none":
            ok = state == "none"
        elif expected == "pass":
            ok = state == "ready"
        elif name in structural:
            ok = state == "invalid"
        else:
            ok = state in ("invalid", "ready")
        if ok and state == "none":
            counts["none"] += 1
        elif ok and state == "invalid":
            counts["invalid"] += 1
        elif ok:
            counts["left"] += 1
        if not ok:
            failed += 1
        print("%s - %d %s" % ("ok" if ok else "not ok", number, detail.rstrip()))
    number += 1
    if unknown:
        failed += 1
        print("not ok - %d structural-fails.txt names tests the suite lacks: %s" % (number, " ".join(sorted(unknown))))
    else:
        print("ok - %d structural-fails.txt names %d tests of the suite" % (number, len(structural)))
    for name, test in passing:
        number += 1
        problems = seal_problems(name, test, seals.get(name, []))
        if problems:
            failed += 1
        print("%s - %d %s: every seal verifies over arc_canon's bytes%s" % (
            "not ok" if problems else "ok", number, name,
            "" if not problems else " (" + "; ".join(problems) + ")"))
    print("# seal inputs checked: %d seals of the %d chains the suite expects to pass" % (
        sum(len(seals.get(name, [])) for name, _ in passing), len(passing)))
    print("# the structural layer decides %d of %d tests (%d none, %d fail); %d are left to the"
          " signature checks" % (counts["none"] + counts["invalid"], len(tests), counts["none"],
                                 counts["invalid"], counts["left"]))
    print("# %d passed, %d failed" % (number - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
