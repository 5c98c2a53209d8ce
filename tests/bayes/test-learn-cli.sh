#!/bin/bash
# tests/bayes/test-learn-cli.sh - mailwarden-learn as an admin uses it, on an LMDB store in a
# temporary directory: a directory of crafted spam and one of ham learnt, learning again counts
# nothing, an mbox is split into its messages, --forget takes a message back and says when one
# was never learnt, --stats and --expire report, and usage or policy errors have their exit
# status; mailwarden-check --verbose shows the probability it then gives; --tokens has
# SpamAssassin's relay tokens. Run by `make check` with MW_BUILDDIR set.
set -u
build=${MW_BUILDDIR:-.}
src=$(cd "$(dirname "$0")/../.." && pwd)
learn="$build/filter/mailwarden-learn"
gen="$build/tests/bayes/bayes-corpus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }
# expect NAME STATUS OUTPUT-FILE FIXED-STRING
expect() {
    if [ "$2" != "$3" ]; then not_ok "$1" "exit status $3, expected $2: $(head -c 400 "$4")"
    elif ! grep -qF -- "$5" "$4"; then not_ok "$1" "no '$5' in: $(head -c 400 "$4")"
    else ok "$1"; fi
}

cat >"$work/p.conf" <<EOF
store: { disk: { backend = "lmdb"; path = "$work/store" } }
bayes: { enabled = true; store = "disk"; max_tokens = 100; min_spam = 10; min_ham = 10; autolearn = false }
rules: { files = [ ] }
EOF
mkdir -p "$work/spam" "$work/ham" "$work/one"
"$gen" spam 0 20 "$work/spam" && "$gen" ham 0 20 "$work/ham" && "$gen" spam 500 3 "$work/one" || {
    echo "not ok - bayes-corpus failed"; exit 1; }

"$learn" -c "$work/p.conf" --spam "$work/spam" >"$work/o" 2>&1
expect "a directory of 20 spam is learnt" 0 $? "$work/o" "database global: 20 learnt as spam, 0 already learnt, 0 failed"
"$learn" -c "$work/p.conf" --spam "$work/spam" >"$work/o" 2>&1
expect "learning the same spam again counts nothing" 0 $? "$work/o" "0 learnt as spam, 20 already learnt"
"$learn" -c "$work/p.conf" --ham "$work/ham" >"$work/o" 2>&1
expect "a directory of 20 ham is learnt" 0 $? "$work/o" "20 learnt as ham"

# an mbox of three messages, "From " lines between them
for f in "$work"/one/*.eml; do printf 'From sender@example.test Tue Dec  3 10:00:00 2024\n'; tr -d '\r' <"$f"; printf '\n'; done >"$work/box.mbox"
"$learn" -c "$work/p.conf" --spam "$work/box.mbox" >"$work/o" 2>&1
expect "an mbox of 3 messages is learnt as 3" 0 $? "$work/o" "3 learnt as spam"
"$learn" -c "$work/p.conf" --stats >"$work/o" 2>&1
expect "--stats counts 23 spam and 20 ham" 0 $? "$work/o" "database global: 23 spam, 20 ham,"

"$gen" spam 900 1 "$work" || { echo "not ok - bayes-corpus failed"; exit 1; }
"$build/filter/mailwarden-check" -c "$work/p.conf" --verbose "$work/spam-900.eml" >"$work/o" 2>&1
expect "mailwarden-check --verbose shows the Bayes probability of an unseen spam" 0 $? "$work/o" "bayes: probability"
grep -qE "^  BAYES_99 " "$work/o" && ok "the unseen spam gets BAYES_99 from what mailwarden-learn taught" ||
    not_ok "the unseen spam gets BAYES_99 from what mailwarden-learn taught" "$(grep -E 'bayes|BAYES' "$work/o")"

"$learn" -c "$work/p.conf" --forget "$work/spam/spam-3.eml" >"$work/o" 2>&1
expect "--forget takes a learnt message back" 0 $? "$work/o" "1 forgotten, 0 never learnt"
"$learn" -c "$work/p.conf" --forget "$work/spam/spam-3.eml" >"$work/o" 2>&1
expect "--forget of a message not learnt says so" 0 $? "$work/o" "0 forgotten, 1 never learnt"
"$learn" -c "$work/p.conf" --stats >"$work/o" 2>&1
expect "--stats after the forget: 22 spam" 0 $? "$work/o" "database global: 22 spam, 20 ham,"

"$learn" -c "$work/p.conf" --expire >"$work/o" 2>&1
expect "--expire trims to 3/4 of max_tokens (100)" 0 $? "$work/o" "kept (bayes.max_tokens 100)"
grep -qF ", 75 kept" "$work/o" && ok "--expire keeps 75 tokens" || not_ok "--expire keeps 75 tokens" "$(cat "$work/o")"

"$learn" -c "$work/p.conf" --spam "$work/missing.eml" >"$work/o" 2>&1
expect "a missing file is an error (exit 1) naming it" 1 $? "$work/o" "missing.eml"
"$learn" -c "$work/p.conf" --spam --ham "$work/spam" >"$work/o" 2>&1
expect "--spam with --ham is a usage error (64)" 64 $? "$work/o" "give one of"
"$learn" -c "$work/p.conf" --spam >"$work/o" 2>&1
expect "--spam without a file is a usage error (64)" 64 $? "$work/o" "usage:"
printf 'bayes: { database = "nobody" }\n' >"$work/bad.conf"
"$learn" -c "$work/bad.conf" --stats >"$work/o" 2>&1
expect "a broken policy is exit 78 naming the option" 78 $? "$work/o" "bayes.database"

# relay tokens: SpamAssassin 4.0 tokenizes its X-Spam-Relays-* metadata (the relays of the
# Received lines, here two untrusted and external ones); the expected tokens are what
# tests/bayes/sa-tokens.pl printed for this message (all 16 relay tokens; the rest of the set
# was the same too)
"$learn" -c "$work/p.conf" --tokens "$src/tests/bayes/relays-1.eml" >"$work/o" 2>&1
missing=""
for t in 'H*RU:10.1.2.3' 'H*RU:198.51.100.7' 'H*RU:4ABCD12345' 'H*RU:esmtpa' 'H*RU:mx.our.test' \
    'H*RU:sk:1abcde-' 'H*RU:sk:laptop.' 'H*RU:sk:mail.se' 'Hx-spam-relays-external:10.1.2.3' \
    'Hx-spam-relays-external:198.51.100.7' 'Hx-spam-relays-external:4ABCD12345' \
    'Hx-spam-relays-external:esmtpa' 'Hx-spam-relays-external:mx.our.test' \
    'Hx-spam-relays-external:sk:1abcde-' 'Hx-spam-relays-external:sk:laptop.' \
    'Hx-spam-relays-external:sk:mail.se'; do
    grep -qxF -- "$t" "$work/o" || missing="$missing $t"
done
[ -z "$missing" ] && ok "--tokens has SpamAssassin's relay tokens (H*RU:, Hx-spam-relays-external:)" ||
    not_ok "--tokens has SpamAssassin's relay tokens" "missing:$missing"
grep -q '^H\*RT:\|^Hx-spam-relays-internal:' "$work/o" &&
    not_ok "no trusted or internal relay tokens without trusted relays" "$(grep 'RT:\|internal:' "$work/o")" ||
    ok "no trusted or internal relay tokens without trusted relays"

echo "# $passed passed, $failed failed"
[ "$failed" = 0 ]
