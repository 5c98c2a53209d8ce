#!/bin/bash
# tests/run-all.sh - the project's one test command (README.md; .ci/run calls it). On a fresh
# Debian 12 machine, as root: installs what is needed, builds with -Werror, runs the unit tests
# and the integration tests (real Postfix, real Sendmail), the short reliability tests (plain
# build), builds again with AddressSanitizer + UBSan and runs unit and integration tests again,
# fuzzes the message and policy parsers for a bounded time, then `make distcheck`, and last
# builds, lints, installs, runs and purges the Debian package. Ends with one
# line: N passed, N failed.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
checkout=$src   # the repository itself, even when the builds use a clean copy
out=${MW_TEST_OUT:-$src/_test}
passed=0
failed=0
failures=()

note() { printf "== [%ss] %s\n" "$SECONDS" "$*"; }
count_pass() { passed=$((passed + $1)); }
count_fail() { failed=$((failed + $1)); [ "$1" -gt 0 ] && failures+=("$2"); }

"$src/tests/install-deps.sh" || { echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
# The builds below are out of tree, which autoconf refuses while the source tree itself is
# configured (an in-tree `./configure`). Then build from a clean copy of the sources instead,
# leaving the admin's in-tree build alone.
if [ -e "$src/config.status" ]; then
    note "the source tree is configured in place; building from a clean copy in $out/src"
    rm -rf "$out/src" && mkdir -p "$out/src"
    if ! (cd "$src" && git ls-files -z --cached --others --exclude-standard \
          | grep -zv '^_test/' | tar --null -T - -cf -) | tar -xf - -C "$out/src"; then
        echo "could not copy the sources (needs git); or run 'make distclean' in $src first"
        echo "0 passed, 1 failed"; exit 1
    fi
    src=$out/src
fi
(cd "$src" && autoreconf -fi >/dev/null 2>&1) || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

# Counts the cmocka cases of a build's unit tests; a test program that died before cmocka's
# summary counts as one failure.
count_unit_tests() {
    local build=$1 label=$2 check_rc=$3 ok=0 bad=0 trs log
    for trs in "$build"/tests/*/*.trs; do   # every test make check ran
        [ -e "$trs" ] || continue
        log=${trs%.trs}.log
        local o f
        # cmocka cases, and the "ok - " / "not ok - " lines of the shell tests
        o=$(grep -cE '^(\[       OK \]|ok - )' "$log" || true)
        f=$(grep -cE '^(\[  FAILED  \] [a-z]|not ok - )' "$log" || true)
        if grep -q '^:test-result: SKIP' "$trs"; then
            echo "SKIP: $label $(basename "${trs%.trs}"): $(grep -m1 SKIP "$log")"
            continue
        fi
        if grep -qE '^:test-result: (FAIL|ERROR)' "$trs" && [ "$f" -eq 0 ]; then
            f=1
            echo "FAIL: $label $(basename "${trs%.trs}") died:"
            tail -n 20 "$log"
        fi
        ok=$((ok + o))
        bad=$((bad + f))
        [ "$f" -gt 0 ] && grep -E '^(\[  (FAILED|ERROR)|not ok - )' "$log" | sed "s|^|$label $(basename "${trs%.trs}"): |"
    done
    if [ "$check_rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        echo "FAIL: $label make check exited $check_rc:"
        tail -n 30 "$build/check.out"
        bad=1
    fi
    echo "$label unit tests: $ok passed, $bad failed"
    count_pass "$ok"
    count_fail "$bad" "$label unit tests"
}

# Runs the integration suite against a build; reads its closing "N passed, N failed" line.
run_integration() {
    local build=$1 label=$2 log="$out/integration-$2.log"
    note "$label: integration tests (real Postfix and Sendmail)"
    # strict: every tool is installed here, so a skipped test is a failure
    MW_INTEGRATION_STRICT=1 MW_BUILDDIR=$build bash "$src/tests/integration/run.sh" >"$log" 2>&1
    local rc=$?
    grep -E '^(PASS|FAIL|SKIP):' "$log" | sed "s|^|$label |"
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "$label integration: no summary line (exit $rc); tail of $log:"
        tail -n 30 "$log"
        count_fail 1 "$label integration"
        return
    fi
    local p f
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    [ "$f" -gt 0 ] && tail -n 60 "$log"
    count_pass "$p"
    count_fail "$f" "$label integration"
}

# The short reliability suite (tests/reliability: kill -9 and SIGHUPs under load, 1000
# connections, soak; about 3 minutes), plain build only: its RSS check means nothing under ASan.
run_reliability() {
    local build=$1 label=$2 log="$out/reliability-$2.log"
    note "$label: reliability tests, short (tests/reliability/README.md)"
    MW_BUILDDIR=$build bash "$src/tests/reliability/run.sh" >"$log" 2>&1
    local rc=$? p f
    grep -E '^(PASS|FAIL|SKIP):' "$log" | sed "s|^|$label |"
    p=$(grep -c '^PASS:' "$log")
    f=$(grep -cE '^(FAIL|SKIP):' "$log")   # every tool is installed here: a skip is a failure
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    [ "$f" -gt 0 ] && tail -60 "$log"
    count_pass "$p"
    count_fail "$f" "$label reliability"
}

build() {
    local dir=$1 label=$2
    shift 2
    note "$label: configure $* && make"
    rm -rf "$dir"
    mkdir -p "$dir"
    if ! (cd "$dir" && "$src/configure" --enable-werror "$@" >configure.out 2>&1 \
          && make -j2 >make.out 2>&1); then
        tail -n 40 "$dir/configure.out" "$dir/make.out" 2>/dev/null
        count_fail 1 "$label build"
        return 1
    fi
    count_pass 1
    [ "$phases" = build ] && return 0
    note "$label: make check"
    (cd "$dir" && make -j2 check >check.out 2>&1)
    count_unit_tests "$dir" "$label" $?
    return 0
}

# MW_TEST_PHASES=build stops after the plain build (configure + make): the README-commands
# test uses it to show the test command's builds work after the daemon command, quickly.
phases=${MW_TEST_PHASES:-all}
if [ "$phases" = build ]; then
    build "$out/build" plain
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if build "$out/build" plain; then
    run_integration "$out/build" plain
    run_reliability "$out/build" plain
fi
if build "$out/build-asan" asan --enable-sanitizers; then
    # the daemon's threads outlive main() when it stops; leaks there are not ours to judge
    ASAN_OPTIONS=abort_on_error=1:detect_leaks=0 run_integration "$out/build-asan" asan
fi

note "README's two commands, in both orders, on fresh clones"
readme_log="$out/readme-commands.log"
bash "$src/tests/build/test-readme-commands.sh" "$checkout" >"$readme_log" 2>&1
grep -E '^(not )?ok - ' "$readme_log"
count_pass "$(grep -c '^ok - ' "$readme_log")"
count_fail "$(grep -c '^not ok - ' "$readme_log")" "README commands"
if ! grep -qE '^(not )?ok - ' "$readme_log"; then
    tail -n 30 "$readme_log"; count_fail 1 "README commands"
fi

note "fuzzing: message reading + engine, policy loading (libFuzzer, ASan + UBSan)"
fuzz_log="$out/fuzz.log"
MW_FUZZ_WORK="$out/fuzz" bash "$src/tests/fuzz/run.sh" "${MW_FUZZ_SECONDS:-20}" >"$fuzz_log" 2>&1
cat "$fuzz_log"
count_pass "$(grep -c '^ok - ' "$fuzz_log")"
count_fail "$(grep -c '^not ok - ' "$fuzz_log")" "fuzzing"

note "make distcheck"
if (cd "$out/build" && make distcheck >distcheck.out 2>&1); then
    echo "PASS: make distcheck"
    count_pass 1
else
    tail -n 40 "$out/build/distcheck.out"
    count_fail 1 "make distcheck"
fi

# Last: it installs the package into /usr and /etc, builds it, lints it, runs it, purges it.
note "the Debian package: build, lintian, rpmlint, install, run behind Postfix, purge"
deb_log="$out/deb-package.log"
bash "$src/tests/build/test-deb-package.sh" "$checkout" >"$deb_log" 2>&1
grep -E '^(not )?ok - |^#   ' "$deb_log"
count_pass "$(grep -c '^ok - ' "$deb_log")"
count_fail "$(grep -c '^not ok - ' "$deb_log")" "Debian package"
if ! grep -qE '^(not )?ok - ' "$deb_log"; then
    tail -n 30 "$deb_log"; count_fail 1 "Debian package"
fi

[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
