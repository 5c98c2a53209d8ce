#!/bin/bash
# tests/rules/test-rules-stock.sh - Debian's stock SpamAssassin rules (package spamassassin,
# /usr/share/spamassassin; MW_SA_RULES overrides) through the programs an admin runs:
# `mailwarden -t` reports plausible counts loaded and skipped with grouped reasons, and
# mailwarden-check finds the named rules in the messages of stock-cases.txt (decoded by the
# real MIME path: base64, RFC 2047 subjects, HTML links) and not in their altered twins; the
# GTUBE string is rejected. A policy error in a rule file's glob is not fatal.
# Prints TAP "ok - " lines; exits 77 (skip) when the stock rules are not installed.
set -u
build=${MW_BUILDDIR:-.}
src=${MW_SRCDIR:-.}
sa=${MW_SA_RULES:-/usr/share/spamassassin}
mw="$build/filter/mailwarden"
check="$build/filter/mailwarden-check"
if ! ls "$sa"/*.cf >/dev/null 2>&1; then
    echo "SKIP: no SpamAssassin rules in $sa (apt-get install spamassassin)"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }

cat >"$work/mailwarden.conf" <<POLICY
milter: { socket = "inet:18891@127.0.0.1" }
networks: { internal = [ "127.0.0.0/8" ] }
rules: { files = [ "$sa/*.cf", "/nonexistent/rules.d/*.cf" ] }
POLICY

# --- mailwarden -t: counts and reasons ---
"$mw" -t -c "$work/mailwarden.conf" >"$work/t.out" 2>&1
rc=$?
loaded=$(sed -nE 's/^mailwarden: rules: ([0-9]+) loaded.*/\1/p' "$work/t.out")
skipped=$(sed -nE 's/^mailwarden: rules: [0-9]+ loaded .*, ([0-9]+) skipped.*/\1/p' "$work/t.out")
if [ "$rc" -eq 0 ] && [ "${loaded:-0}" -gt 2500 ] && [ "${skipped:-0}" -gt 0 ]; then
    ok "mailwarden -t: $loaded stock rules loaded, $skipped skipped"
else
    not_ok "mailwarden -t counts" "exit $rc, loaded=${loaded:-?} skipped=${skipped:-?}: $(head -c 800 "$work/t.out")"
fi
for pattern in "rules skipped: [0-9]+ in a false if/ifplugin block" \
        "by condition: .*(DCC|Razor2|PDFInfo) [0-9]+" "rules skipped: [0-9]+ plugins for a network service" \
        "settings for SpamAssassin itself or its plugins ignored: "; do
    if grep -qE -- "$pattern" "$work/t.out"; then
        ok "mailwarden -t reports /$pattern/"
    else
        not_ok "mailwarden -t reports /$pattern/" "$(head -c 800 "$work/t.out")"
    fi
done
# the relay pseudo-headers (X-Spam-Relays-*, ALL-EXTERNAL ...) are built: no stock rule skipped
if grep -q "pseudo-headers mailwarden does not compute" "$work/t.out"; then
    not_ok "mailwarden -t: no stock rule skipped for a pseudo-header" "$(grep "pseudo-headers" "$work/t.out")"
else
    ok "mailwarden -t: no stock rule skipped for a pseudo-header"
fi

# --- messages ---
symbols_of() {   # message -> "action SYMBOL SYMBOL ..." in $work/out
    "$check" -c "$work/mailwarden.conf" --client-ip 192.0.2.1 --helo mail.example.net \
        --from sender@example.net --rcpt rcpt@example.org "$src/tests/rules/messages/$1" \
        >"$work/out" 2>&1
}
while read -r message expect rest; do
    case "$message" in ''|'#'*) continue ;; esac
    symbols_of "$message"
    if ! grep -q '^action: ' "$work/out"; then
        not_ok "$message: $expect $rest" "mailwarden-check gave no verdict: $(head -c 600 "$work/out")"
        continue
    fi
    case "$expect" in
    action)
        if grep -qE "^action: $rest\$" "$work/out"; then
            ok "$message: action $rest"
        else
            not_ok "$message: action $rest" "$(head -c 600 "$work/out")"
        fi ;;
    hit|miss)
        for rule in $rest; do
            if grep -qE "^  $rule [-0-9.]+ " "$work/out"; then found=hit; else found=miss; fi
            if [ "$found" = "$expect" ]; then
                ok "$message: $expect $rule"
            else
                not_ok "$message: $expect $rule" "$(head -c 600 "$work/out")"
            fi
        done ;;
    esac
done <"$src/tests/rules/stock-cases.txt"

# GTUBE scores above the reject threshold
symbols_of gtube.eml
score=$(sed -nE 's/^score: ([0-9.]+)$/\1/p' "$work/out")
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s >= 15) }'; then
    ok "GTUBE scores $score, above actions.reject (15)"
else
    not_ok "GTUBE score" "score ${score:-none}: $(head -c 600 "$work/out")"
fi

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
