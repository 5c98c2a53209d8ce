#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""test-arc-suite.py - the structural layer of ARC verification (filter/arc/arc_set.c, driven
by tests/arc/arc-structure) against the ARC test suite's validation scenarios
(arc-draft-validation-tests.yml; README in the suite's folder). TAP output, one line per test.

What the structural layer alone can say, and what this checks:
  - expected cv "None": the verdict must be none (no ARC field);
  - expected "Pass": the verdict must be ready (a passing chain is never refused on structure);
  - expected "Fail" (and "", which the suite uses for the three chains whose seal says cv=fail:
    RFC 8617 5.2 makes them fail): the verdict must not be none; it must be invalid for every
    test named in tests/arc/structural-fails.txt (failures that RFC 8617 5.2 steps 1-3 decide);
    any other failing test may be invalid or ready (its failure is in a signature or key, left
    to the signature checks).
The summary counts the tests the structural layer decides (none + invalid) and those it leaves.
Run by `make check` (MW_BUILDDIR, MW_SRCDIR set). Testdata: $MW_TESTDATA or
SRCDIR/../shared/testdata; skipped by name when absent."""
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
                tests.append((name, test))
    unknown = structural - {name for name, _ in tests}
    with tempfile.TemporaryDirectory(prefix="test-arc-suite.") as work:
        paths = []
        for name, test in tests:
            path = os.path.join(work, name + ".eml")
            with open(path, "w", newline="") as out:
                out.write(test["message"])
            paths.append(path)
        proc = subprocess.run([DRIVER] + paths, capture_output=True, text=True)
        if proc.returncode != 0:
            print("not ok - arc-structure failed: %s" % proc.stderr.strip())
            return 1
        verdicts = {}
        for line in proc.stdout.splitlines():
            path, state, number, reason = line.split("\t")
            verdicts[os.path.basename(path)[:-4]] = (state, int(number), reason)

    print("1..%d" % (len(tests) + 1))
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
        print("%s %d - %s" % ("ok" if ok else "not ok", number, detail.rstrip()))
    number += 1
    if unknown:
        failed += 1
        print("not ok %d - structural-fails.txt names tests the suite lacks: %s" % (number, " ".join(sorted(unknown))))
    else:
        print("ok %d - structural-fails.txt names %d tests of the suite" % (number, len(structural)))
    print("# the structural layer decides %d of %d tests (%d none, %d fail); %d are left to the"
          " signature checks" % (counts["none"] + counts["invalid"], len(tests), counts["none"],
                                 counts["invalid"], counts["left"]))
    print("# %d passed, %d failed" % (len(tests) + 1 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
