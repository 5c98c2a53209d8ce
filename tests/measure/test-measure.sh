#!/bin/bash
# tests/measure/test-measure.sh - smoke test of the measurement script (not a timing test):
# measure.py runs on part of the labelled corpus through the real mailwarden-check and a DNS
# server on loopback, and every figure it prints parses and is a rate between 0 and 1, with
# rates falling as the threshold rises; and, when spamd and spamc are installed, that
# --spamassassin over two named folders (--spam, --ham) prints SpamAssassin's rates beside and
# its time per message. Prints TAP "ok - " lines. MW_BUILDDIR, MW_SRCDIR from make.
set -u
build=${MW_BUILDDIR:-.}
src=${MW_SRCDIR:-.}
if ! /usr/bin/python3 -c 'import dnslib' 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 lacks dnslib (apt-get install python3-dnslib)"
    exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }

/usr/bin/python3 "$src/tests/measure/measure.py" --build "$build" --limit 6 \
    --thresholds 1,3,5,10 >"$out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^corpus: 6 spam, 6 ham' "$out"; then
    ok "measure.py runs on the corpus (6 spam, 6 ham)"
else
    not_ok "measure.py runs on the corpus" "exit $rc: $(head -c 800 "$out")"
fi
if awk '
    /^threshold / { n++; if ($4 < 0 || $4 > 1 || $6 < 0 || $6 > 1) bad = 1
                    if (n > 1 && ($4 > det || $6 > fp)) bad = 1
                    det = $4; fp = $6 }
    END { exit !(n == 4 && !bad) }' "$out"; then
    ok "detection and false-positive rates parse, lie in [0,1] and fall as the threshold rises"
else
    not_ok "rates parse" "$(grep '^threshold' "$out")"
fi
if grep -qE '^time engine_ms_mean [0-9.]+ engine_ms_median [0-9.]+ engine_ms_max [0-9]+$' "$out" &&
   grep -qE '^time run_ms_mean [0-9.]+ ' "$out"; then
    ok "time per message parses"
else
    not_ok "time per message" "$(grep '^time' "$out")"
fi
if command -v spamd >/dev/null && command -v spamc >/dev/null && ls /usr/share/spamassassin/*.cf >/dev/null 2>&1; then
    /usr/bin/python3 "$src/tests/measure/measure.py" --build "$build" --limit 3 --thresholds 1,5,10 \
        --spam "$src/tests/measure/corpus/spam" --ham "$src/tests/measure/corpus/ham" \
        --spamassassin >"$out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && grep -q '^corpus: 3 spam, 3 ham (spam: ' "$out" && awk '
        /^spamassassin_threshold / { n++; if ($4 < 0 || $4 > 1 || $6 < 0 || $6 > 1) bad = 1
                        if (n > 1 && ($4 > det || $6 > fp)) bad = 1
                        det = $4; fp = $6 }
        END { exit !(n == 3 && !bad) }' "$out" &&
       grep -qE '^time spamassassin_ms_mean [0-9.]+ spamassassin_ms_median [0-9.]+ ' "$out"; then
        ok "--spamassassin on two folders: SpamAssassin's rates parse and fall, its time per message parses"
    else
        not_ok "--spamassassin on two folders" "exit $rc: $(head -c 1200 "$out")"
    fi
else
    echo "# spamd/spamc not installed: --spamassassin not tried"
fi
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
