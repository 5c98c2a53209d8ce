#!/bin/bash
# test-spf.sh - `make check` entry for the SPF evaluator's conformance: the OpenSPF RFC 7208
# suite (all 203 tests, results and explanations) and the RFC 4408 suite, each scenario served
# by tests/tools/dnsserver.py on loopback (run-suite.py), then the differential test against
# Debian's pyspf (oracle.py). TAP lines "ok - " / "not ok - "; a suite whose data
# (../shared/testdata, or $MW_TESTDATA) is absent is skipped by name.
set -u
srcdir=${MW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${MW_BUILDDIR:-$(pwd)}
testdata=${MW_TESTDATA:-$srcdir/../shared/testdata}
spf_eval=$builddir/tests/spf/spf-eval
python=/usr/bin/python3
failed=0 ran=0

if ! $python -c 'import yaml, dnslib' 2>/dev/null; then
    echo "not ok - spf suites: /usr/bin/python3 lacks yaml or dnslib (apt-get install python3-yaml python3-dnslib)"
    exit 1
fi
for suite in rfc7208 rfc4408; do
    file=$testdata/spf/$suite-tests.yml
    if [ ! -r "$file" ]; then
        echo "# SKIP $suite suite: $file is absent"
        continue
    fi
    ran=$((ran + 1))
    exclude=()
    [ -r "$srcdir/tests/spf/$suite-excluded.txt" ] && exclude=(--exclude "$srcdir/tests/spf/$suite-excluded.txt")
    $python "$srcdir/tests/spf/run-suite.py" --suite "$file" --name "$suite" \
        --spf-eval "$spf_eval" "${exclude[@]}" || failed=1
done
if [ -r "$srcdir/tests/spf/oracle.py" ]; then
    ran=$((ran + 1))
    $python "$srcdir/tests/spf/oracle.py" --spf-eval "$spf_eval" || failed=1
fi
[ "$ran" -eq 0 ] && exit 77
exit $failed
