#!/bin/bash
# tests/fuzz/run.sh [SECONDS] - builds the libFuzzer targets (message reading, policy loading,
# SPF record parsing + macro expansion + evaluation) with clang, ASan and UBSan, and runs
# each for SECONDS (default 20) from the seed corpus in tests/fuzz/corpus. Prints one
# "ok - " or "not ok - " line per target and "# N passed, N failed"; a crash leaves its input
# in the work directory and is shown. Needs clang and libclang-rt (tests/debian-packages.txt).
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-20}
work=${MW_FUZZ_WORK:-$(mktemp -d)}
mkdir -p "$work"
passed=0 failed=0
if ! command -v clang >/dev/null; then
    echo "not ok - fuzz: clang is not installed (apt-get install clang libclang-rt-14-dev)"
    echo "# 0 passed, 1 failed"
    exit 1
fi
# The engine's sources as Makefile.am lists them (filter_libengine_a_SOURCES = and +=), so a
# new check or module is fuzzed without editing this file; message_file.c for the reader.
engine_sources=$(awk '/^filter_libengine_a_SOURCES *\+?=/ { on = 1 }
    on { for (i = 1; i <= NF; i++) if ($i ~ /^filter\/.*\.c$/) print $i
         if ($NF != "\\") on = 0 }' "$src/Makefile.am")
sources="$src/filter/message_file.c"
for f in $engine_sources; do sources="$sources $src/$f"; done
flags="-std=c11 -D_GNU_SOURCE -DSYSCONFDIR=\"/etc\" -g -O1 -I$src/filter
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
    $(pkg-config --cflags gmime-3.0 libxml-2.0 libpsl opendkim openssl)"
libs="$(pkg-config --libs libconfig hiredis gmime-3.0 libxml-2.0 libpsl opendkim openssl) -lunbound -pthread"
for target in fuzz_message fuzz_policy fuzz_message_view fuzz_spf; do
    corpus=$src/tests/fuzz/corpus/${target#fuzz_}
    if ! clang $flags -o "$work/$target" "$src/tests/fuzz/$target.c" $sources $libs \
            >"$work/$target.build.log" 2>&1; then
        echo "not ok - $target: does not build: $(head -c 800 "$work/$target.build.log")"
        failed=$((failed + 1))
        continue
    fi
    mkdir -p "$work/$target.corpus"
    cp "$corpus"/* "$work/$target.corpus/"
    (cd "$work" && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$src/tests/fuzz/lsan.supp \
        "./$target" -max_total_time="$seconds" \
        -max_len=65536 -timeout=10 -rss_limit_mb=2048 "$work/$target.corpus" >"$target.log" 2>&1)
    rc=$?
    runs=$(grep -oE 'Done [0-9]+ runs' "$work/$target.log" | grep -oE '[0-9]+')
    if [ "$rc" -eq 0 ]; then
        echo "ok - $target: ${runs:-?} inputs in ${seconds}s, no crash, leak, hang or failed promise"
        passed=$((passed + 1))
    else
        echo "not ok - $target: libFuzzer exit $rc; input kept in $work:"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written|deadly signal' "$work/$target.log" | head -10
        failed=$((failed + 1))
    fi
done
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
