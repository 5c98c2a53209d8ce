#!/bin/bash
# test-dmarc.sh - `make check` entry for the DMARC evaluator's conformance: the case suite
# tests/dmarc/dmarc-suite.yml (written from RFC 9989's text), each scenario's zone served by
# tests/tools/dnsserver.py on loopback (run-suite.py), each case one run of dmarc-eval. One TAP
# line per case ("ok - dmarc/CASE" / "not ok - dmarc/CASE: why"), which tests/run-all.sh counts.
set -u
srcdir=${MW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${MW_BUILDDIR:-$(pwd)}
python=/usr/bin/python3

if ! $python -c 'import yaml, dnslib' 2>/dev/null; then
    echo "not ok - dmarc suite: /usr/bin/python3 lacks yaml or dnslib (apt-get install python3-yaml python3-dnslib)"
    exit 1
fi
exec $python "$srcdir/tests/dmarc/run-suite.py" --suite "$srcdir/tests/dmarc/dmarc-suite.yml" \
    --dmarc-eval "$builddir/tests/dmarc/dmarc-eval"
