#!/bin/bash
# tests/spam/test-spam-check.sh - the native spam checks as an admin sees them through
# mailwarden-check: crafted messages in tests/spam/messages (a clean one that must score
# nothing, a phishing one that must hit its symbols and be rejected, the same after 1200 junk
# header fields that must hit them too plus HEADER_COUNT_LIMIT, a broken one that must
# be flagged and still get a verdict), a 100 000-line body and deeply nested MIME that must
# finish in bounded time, and the example DNS list file that must load. TAP-style output.
# Run by `make check` with MW_BUILDDIR and MW_SRCDIR set.
set -u
build=${MW_BUILDDIR:-.}
src=${MW_SRCDIR:-.}
mw="$build/filter/mailwarden"
check="$build/filter/mailwarden-check"
msgs="$src/tests/spam/messages"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }

# no DNS in this test: reverse DNS off, no lists; a Date is added to each message below
cat >"$work/spam.conf" <<'POLICY'
networks: { internal = [ "10.0.0.0/8" ] }
actions: { add_header = 5.0; reject = 12.0 }
spam: { rdns = false }
POLICY
args=(-c "$work/spam.conf" --client-ip 203.0.113.5 --helo mail.sender.test --from alice@sender.test --rcpt bob@our.test)
dated() { { printf 'Date: %s\n' "$(LC_ALL=C date -R)"; cat "$1"; } >"$2"; }

# run NAME FILE: mailwarden-check on FILE, output in $work/out, exit status in $rc
run() { timeout 60 "$check" "${args[@]}" "$2" >"$work/out" 2>&1; rc=$?; }
has() { grep -qE "^  $1 " "$work/out"; }

dated "$msgs/clean.eml" "$work/clean.eml"
run clean "$work/clean.eml"
if [ "$rc" != 0 ]; then
    not_ok "spam: a clean message is accepted" "exit $rc: $(head -c 400 "$work/out")"
elif ! grep -q '^score: 0.0' "$work/out"; then
    not_ok "spam: a clean message scores nothing" "$(grep -A20 '^score' "$work/out" | head -c 400)"
else
    ok "spam: a clean message is accepted and scores nothing"
fi

dated "$msgs/phish.eml" "$work/phish.eml"
run phish "$work/phish.eml"
missing=""
for sym in LINK_TEXT_MISMATCH URI_IP_LITERAL URI_SHORTENER ATTACH_RISKY MIME_HTML_NO_TEXT \
        FROM_NAME_HAS_ADDRESS REPLYTO_DOMAIN_DIFFERS SUBJECT_SHOUTING SUBJECT_PUNCTUATION \
        UNDISCLOSED_RECIPIENTS; do
    has "$sym" || missing="$missing $sym"
done
if [ -n "$missing" ]; then
    not_ok "spam: the phishing message hits its symbols" "missing:$missing in $(head -c 800 "$work/out")"
elif [ "$rc" != 1 ] || ! grep -q '^reply: 550 5.7.1 Message rejected as spam' "$work/out"; then
    not_ok "spam: the phishing message is rejected by its score" "exit $rc: $(head -c 400 "$work/out")"
else
    ok "spam: the phishing message hits its symbols and is rejected by its score"
fi

# the same phishing message after 1200 junk header fields (limits.max_headers is 1000): the
# fields the checks read are kept whatever their position, and the limit is a symbol
dated "$msgs/header-flood.eml" "$work/header-flood.eml"
run header-flood "$work/header-flood.eml"
missing=""
for sym in LINK_TEXT_MISMATCH URI_IP_LITERAL URI_SHORTENER ATTACH_RISKY MIME_HTML_NO_TEXT \
        FROM_NAME_HAS_ADDRESS REPLYTO_DOMAIN_DIFFERS SUBJECT_SHOUTING SUBJECT_PUNCTUATION \
        UNDISCLOSED_RECIPIENTS HEADER_COUNT_LIMIT; do
    has "$sym" || missing="$missing $sym"
done
if [ -n "$missing" ]; then
    not_ok "spam: the phishing message after 1200 junk fields hits its symbols and HEADER_COUNT_LIMIT" "missing:$missing in $(head -c 800 "$work/out")"
elif [ "$rc" != 1 ] || ! grep -q '^reply: 550 5.7.1 Message rejected as spam' "$work/out"; then
    not_ok "spam: the phishing message after 1200 junk fields is rejected" "exit $rc: $(head -c 400 "$work/out")"
else
    ok "spam: the phishing message after 1200 junk fields hits its symbols and HEADER_COUNT_LIMIT, and is rejected"
fi

dated "$msgs/broken.eml" "$work/broken.eml"
run broken "$work/broken.eml"
if [ "$rc" -gt 4 ]; then
    not_ok "spam: broken MIME gets a verdict" "exit $rc: $(head -c 400 "$work/out")"
elif ! has MIME_BAD_ENCODING || ! has MIME_MALFORMED; then
    not_ok "spam: broken base64, bad UTF-8 and a multipart without boundary are flagged" "$(head -c 600 "$work/out")"
else
    ok "spam: broken base64, bad UTF-8, NUL and a multipart without boundary flagged; a verdict given"
fi

# 100 000 lines of body, and 5000 levels of nested multiparts
{
    printf 'Date: %s\nFrom: a@sender.test\nTo: bob@our.test\nMessage-ID: <big@sender.test>\nSubject: big\n\n' "$(LC_ALL=C date -R)"
    for ((i = 0; i < 100000; i++)); do printf 'line %d http://host%d.test/\n' "$i" "$((i % 50))"; done
} >"$work/big.eml"
start=$(date +%s)
run big "$work/big.eml"
took=$(( $(date +%s) - start ))
if [ "$rc" -gt 4 ]; then
    not_ok "spam: a 100 000-line body gets a verdict" "exit $rc after ${took}s: $(head -c 300 "$work/out")"
else
    ok "spam: a 100 000-line body gets a verdict (${took}s)"
fi
{
    printf 'Date: %s\nFrom: a@sender.test\nTo: bob@our.test\nMessage-ID: <deep@sender.test>\nSubject: deep\n' "$(LC_ALL=C date -R)"
    printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b0\n\n'
    for ((i = 1; i < 5000; i++)); do printf -- '--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n' $((i - 1)) "$i"; done
} >"$work/deep.eml"
run deep "$work/deep.eml"
if [ "$rc" -gt 4 ] || ! has MIME_MALFORMED; then
    not_ok "spam: 5000 levels of MIME nesting are flagged and get a verdict" "exit $rc: $(head -c 400 "$work/out")"
else
    ok "spam: 5000 levels of MIME nesting are flagged and get a verdict"
fi

# the example DNS list file is valid policy
printf 'include = [ "%s" ]\n' "$src/policies/policies.d/50-dnslists.conf.example" >"$work/main.conf"
if "$mw" -t -c "$work/main.conf" >"$work/out" 2>&1; then
    ok "spam: policies.d/50-dnslists.conf.example loads"
else
    not_ok "spam: policies.d/50-dnslists.conf.example loads" "$(head -c 400 "$work/out")"
fi

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
