#!/bin/bash
# tests/spam/test-hostile-headers.sh - hostile header blocks through mailwarden-check, made by
# tests/spam/make-hostile.py: 100 000 continuation lines of one field and 100 000 header fields
# must be read in linear time, shown by a CPU-time limit (ulimit -t, not wall time, so a loaded
# machine does not matter) that the quadratic reader needed 5 to 10 times over for the folded
# field; 16 Subject fields of 60 KB encoded words and one 900 KB Subject, with rules reading
# Subject, must get a verdict and still be matched on their decoded text. No timing is
# asserted; the CPU cost is measured by tests/bench/header-cpu-bench.sh (docs/PERFORMANCE.md).
# Run by `make check` with MW_BUILDDIR and MW_SRCDIR set. TAP-style output.
set -u
build=${MW_BUILDDIR:-.}
src=${MW_SRCDIR:-.}
check="$build/filter/mailwarden-check"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }

/usr/bin/python3 "$src/tests/spam/make-hostile.py" "$work" || { echo "not ok - make-hostile.py failed"; exit 1; }

cat >"$work/policy.conf" <<'POLICY'
networks: { internal = [ "10.0.0.0/8" ] }
spam: { rdns = false }
rules: {
  inline = [ "header SUBJ_MEDS Subject =~ /Cheap\\xc3\\xa9 meds/" ]
}
POLICY
args=(-c "$work/policy.conf" --client-ip 203.0.113.5 --helo mail.sender.test --from alice@sender.test --rcpt bob@our.test)

# run FILE CPU-SECONDS: mailwarden-check under a CPU-time limit; output in $work/out, status $rc
run() {
    (ulimit -t "$2"; exec "$check" "${args[@]}" "$1") >"$work/out" 2>&1
    rc=$?
}
has() { grep -qE "^  $1 " "$work/out"; }

run "$work/continuation-100k.eml" 3
if [ "$rc" -gt 4 ]; then
    not_ok "reader: a field folded over 100 000 lines is read in linear time" \
        "exit $rc (137/152: killed at 3 s of CPU): $(head -c 300 "$work/out")"
else
    ok "reader: a field folded over 100 000 lines is read in linear time (under 3 s of CPU)"
fi

run "$work/fields-100k.eml" 3
if [ "$rc" -gt 4 ]; then
    not_ok "reader: 100 000 header fields are read in linear time" \
        "exit $rc (137/152: killed at 3 s of CPU): $(head -c 300 "$work/out")"
else
    ok "reader: 100 000 header fields are read in linear time (under 3 s of CPU)"
fi

run "$work/subject-16x60k.eml" 60
if [ "$rc" -gt 4 ] || ! grep -q '^action: ' "$work/out"; then
    not_ok "16 Subject fields of 60 KB encoded words get a verdict" "exit $rc: $(head -c 300 "$work/out")"
elif ! has SUBJ_MEDS; then
    not_ok "16 Subject fields of 60 KB encoded words are matched decoded" "$(head -c 600 "$work/out")"
else
    ok "16 Subject fields of 60 KB encoded words get a verdict and are matched decoded"
fi

run "$work/subject-900k.eml" 60
if [ "$rc" -gt 4 ] || ! grep -q '^action: ' "$work/out"; then
    not_ok "a 900 KB Subject gets a verdict" "exit $rc: $(head -c 300 "$work/out")"
elif ! has SUBJ_MEDS; then
    not_ok "a 900 KB Subject is matched decoded" "$(head -c 600 "$work/out")"
else
    ok "a 900 KB Subject gets a verdict and is matched decoded"
fi

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
