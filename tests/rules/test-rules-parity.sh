#!/bin/bash
# tests/rules/test-rules-parity.sh - rule-hit parity with SpamAssassin, as a regression test.
# Runs tests/rules/parity.py: every message of tests/rules/parity/messages (668: see its
# README.md) through a private `spamd -L` (SpamAssassin 4.0.1, Debian's stock rules, Bayes,
# AWL and TxRep off, no network) and through mailwarden-check (the same rule files, native spam
# checks off, the client unknown), and compares rule by rule which stock rules hit.
#
# The TARGET (issue 11): every loaded stock rule agrees with SpamAssassin on >= 99% of
# the messages, and the total score agrees within 0.5 on >= 95% of them. Both targets are met
# (TVD_SPACE_RATIO, the last rule below 99%, since branch fidelity). This test asserts a
# FLOOR, the rates reached (a few messages below them), so that a change that makes parity
# worse fails, and prints the target and the gap. Raise the floors as parity improves (a floor
# past its target stays above it). The floors and the target live here and only here.
# Prints TAP "ok - " lines; exits 77 (skip) when spamd/spamc or the stock rules are missing.
# About a minute on an idle 2-core machine (spamd takes ~0.14 s CPU a message, mailwarden-check
# ~0.01 s), 4-5 minutes on a loaded one. MW_BUILDDIR, MW_SRCDIR from make.
set -u
TARGET_RULES=99       # % of messages each loaded rule must agree on (and % of rules that must)
TARGET_SCORE=95       # % of messages whose total score must agree within 0.5
FLOOR_RULES=100       # % of loaded rules agreeing on >= TARGET_RULES% of messages, today (100)
FLOOR_SCORE=98.5      # % of messages with the score within 0.5, today (99.25: the target is met)

build=${MW_BUILDDIR:-.}
src=${MW_SRCDIR:-.}
sa=${MW_SA_RULES:-/usr/share/spamassassin}
if ! ls "$sa"/*.cf >/dev/null 2>&1 || ! command -v spamd >/dev/null || ! command -v spamc >/dev/null; then
    echo "SKIP: needs SpamAssassin's rules in $sa and spamd, spamc (apt-get install spamassassin spamd spamc)"
    exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }

/usr/bin/python3 "$src/tests/rules/parity.py" --build "$build" --sa-rules "$sa" \
    --messages "$src/tests/rules/parity/messages" \
    --target-rules "$TARGET_RULES" --target-score "$TARGET_SCORE" >"$out" 2>&1
rc=$?
cat "$out"
messages=$(sed -nE 's/^parity: messages ([0-9]+) \(0 could not.*/\1/p' "$out")
rules=$(sed -nE 's/^parity: rules agreeing on .* \(([0-9.]+)%\)$/\1/p' "$out")
score=$(sed -nE 's/^parity: messages whose total score agrees within 0.5: .* \(([0-9.]+)%\)$/\1/p' "$out")
if [ "$rc" -eq 0 ] && [ "${messages:-0}" -ge 300 ]; then
    ok "parity.py ran both sides on all $messages messages"
else
    not_ok "parity.py ran both sides on >= 300 messages" "exit $rc, messages=${messages:-?}"
fi
above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
if [ -n "$rules" ] && above "$rules" "$FLOOR_RULES"; then
    ok "rule agreement $rules% >= floor $FLOOR_RULES% (target: 100% of rules at >= $TARGET_RULES%)"
else
    not_ok "rule agreement ${rules:-?}% >= floor $FLOOR_RULES%" "parity got worse: see the rules that disagree above"
fi
if [ -n "$score" ] && above "$score" "$FLOOR_SCORE"; then
    ok "score agreement $score% >= floor $FLOOR_SCORE% (target: $TARGET_SCORE%)"
else
    not_ok "score agreement ${score:-?}% >= floor $FLOOR_SCORE%" "parity got worse: see the rules that disagree above"
fi
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
