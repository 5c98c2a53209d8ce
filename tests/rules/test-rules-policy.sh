#!/bin/bash
# tests/rules/test-rules-policy.sh - the `rules` policy section as an admin uses it: inline
# rules, a score from the rule text overridden in `symbols {}`, the scan cap on body bytes,
# a regex PCRE2 cannot compile reported by `mailwarden -t` with PCRE2's reason (and not fatal),
# a misspelt option named with file, line and "did you mean", an unreadable rule file named,
# and outbound mail left alone. Prints TAP "ok - " lines. MW_BUILDDIR, MW_SRCDIR from make.
set -u
build=${MW_BUILDDIR:-.}
mw="$build/filter/mailwarden"
check="$build/filter/mailwarden-check"
work=$(mktemp -d)
trap 'chmod -R u+rwx "$work"; rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }
expect() {      # NAME WANT-STATUS GOT-STATUS FILE PATTERN...
    local name=$1 want=$2 got=$3 file=$4
    shift 4
    if [ "$got" != "$want" ]; then
        not_ok "$name" "exit status $got, expected $want: $(head -c 700 "$file")"
        return
    fi
    for pattern in "$@"; do
        if ! grep -qE -- "$pattern" "$file"; then
            not_ok "$name" "no line matches /$pattern/ in: $(head -c 700 "$file")"
            return
        fi
    done
    ok "$name"
}
expect_not() {  # NAME FILE PATTERN: the pattern must not be there
    if grep -qE -- "$3" "$2"; then not_ok "$1" "/$3/ found in: $(head -c 700 "$2")"; else ok "$1"; fi
}

cat >"$work/rules.cf" <<'RULES'
# a rule file of the admin's own
body     MY_PILLS      /\bcheap pills\b/i
score    MY_PILLS      3.5
describe MY_PILLS      Offers cheap pills
body     BROKEN_RE     /(?<=a+)b/
header   MY_SUBJECT    Subject =~ /^\[SPAM\]/
score    MY_SUBJECT    2.0
RULES
cat >"$work/mailwarden.conf" <<POLICY
milter: { socket = "inet:18891@127.0.0.1" }
networks: { internal = [ "127.0.0.0/8" ] }
rules: {
  files = [ "$work/rules.cf", "$work/absent.d/*.cf" ]
  inline = [ "body MY_INLINE /lottery winner/i", "score MY_INLINE 4.0" ]
  scan: { body = "2k" }
}
symbols: {
  MY_SUBJECT: { score = 9.0 }
}
POLICY

"$mw" -t -c "$work/mailwarden.conf" >"$work/out" 2>&1
expect "-t: rules loaded, a regex PCRE2 cannot compile skipped with its reason, policy OK" 0 $? "$work/out" \
    "^mailwarden: policy OK" \
    "^mailwarden: rules: 3 loaded .* 1 skipped" \
    "rules skipped: 1 regex PCRE2 cannot compile: e.g. BROKEN_RE \(lookbehind assertion is not fixed length"

msg() {  # SUBJECT BODY-LINE -> message file
    printf 'From: a@example.net\nTo: b@example.org\nSubject: %s\nDate: Mon, 03 Mar 2025 10:00:00 +0000\nMessage-ID: <1@example.net>\n\n%s\n' "$1" "$2" >"$work/msg"
}
run_check() { "$check" -c "$work/mailwarden.conf" --client-ip "$1" --from a@example.net --rcpt b@example.org "$work/msg" >"$work/out" 2>&1; }

msg "[SPAM] hello" "Buy cheap pills, lottery winner."
run_check 192.0.2.7
expect "file and inline rules hit with their scores; symbols{} overrides a rule's score" 1 $? "$work/out" \
    "^action: reject" "^  MY_PILLS 3\.5 " "^  MY_INLINE 4\.0 " "^  MY_SUBJECT 9\.0 "

msg "hello" "Nothing to see here."
run_check 192.0.2.7
expect_not "a clean message hits none" "$work/out" "MY_(PILLS|INLINE|SUBJECT)"

msg "hello" "$(head -c 3000 /dev/zero | tr '\0' 'x') cheap pills"
run_check 192.0.2.7
expect_not "rules.scan.body caps the bytes body rules see" "$work/out" "MY_PILLS"

msg "[SPAM] hello" "Buy cheap pills"
run_check 127.0.0.1
expect_not "outbound mail (internal network) is not checked by the rules" "$work/out" "MY_(PILLS|SUBJECT)"

cat >"$work/bad.conf" <<POLICY
milter: { socket = "inet:18891@127.0.0.1" }
rules: {
  file = [ "$work/rules.cf" ]
  scan: { body = "lots" }
}
POLICY
"$mw" -t -c "$work/bad.conf" >"$work/out" 2>&1
expect "-t names file, line and option of errors in rules" 1 $? "$work/out" \
    "bad.conf:3: file: unknown option in rules; did you mean files\?" \
    "bad.conf:4: rules.scan.body: "

if [ "$(id -u)" -ne 0 ]; then
    chmod 000 "$work/rules.cf"
    "$mw" -t -c "$work/mailwarden.conf" >"$work/out" 2>&1
    expect "-t names a rule file that cannot be read" 1 $? "$work/out" \
        "mailwarden.conf:[0-9]+: rules.files: .*rules.cf: cannot be read \(Permission denied\)"
    chmod 644 "$work/rules.cf"
else
    mkdir "$work/isdir.cf"          # root reads any file: a directory stands in
    sed -i "s|\"$work/rules.cf\"|\"$work/rules.cf\", \"$work/isdir.cf\"|" "$work/mailwarden.conf"
    "$mw" -t -c "$work/mailwarden.conf" >"$work/out" 2>&1
    expect "-t names a rule file that cannot be read" 1 $? "$work/out" \
        "mailwarden.conf:[0-9]+: rules.files: .*isdir.cf: cannot be read"
fi

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
