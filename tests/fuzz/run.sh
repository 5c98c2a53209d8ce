#!/bin/bash
# tests/fuzz/run.sh [SECONDS [TARGET...]] - builds the libFuzzer targets (message reading,
# policy loading, SpamAssassin-syntax rule files, SPF records and macros, DMARC From fields and
# records, the milter protocol reader, ARC header sets, ARC verification and sealing, the
# ARC-Authentication-Results reader, DKIM verification and signing) with clang, ASan and UBSan,
# and runs each for SECONDS (default 20) from the seed corpus in tests/fuzz/corpus; TARGETs
# (e.g. fuzz_dkim_verify) pick some, all by default. Every target is built with fuzz_mail.c, the
# mail targets' shared message reader and keys. Prints one "ok - " or "not ok - " line per
# target and "# N passed, N failed"; a crash leaves its input in the work directory and is
# shown. Needs clang and libclang-rt (tests/debian-packages.txt).
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-20}
shift $(($# > 0 ? 1 : 0))
targets=${*:-fuzz_message fuzz_policy fuzz_message_view fuzz_rules fuzz_received fuzz_spf fuzz_dmarc
    fuzz_milter_proto fuzz_arc_set fuzz_arc_verify fuzz_arc_aar fuzz_dkim_verify}
work=${MW_FUZZ_WORK:-$(mktemp -d)}
mkdir -p "$work"
passed=0 failed=0
if ! command -v clang >/dev/null; then
    echo "not ok - fuzz: clang is not installed (apt-get install clang libclang-rt-14-dev)"
    echo "# 0 passed, 1 failed"
    exit 1
fi
# every engine source: the library folders of filter/ (filter/README.md), the milter codec and
# mailwarden-check's message reader; not the daemon (daemon/, the rest of milter/) nor the
# programs' main()s (tools/)
sources=""
for f in "$src"/filter/*/*.c; do
    case "$f" in "$src"/filter/daemon/*) continue ;; esac
    case "$f" in "$src"/filter/tools/*) [ "$(basename "$f")" = message_file.c ] || continue ;; esac
    case "$f" in "$src"/filter/milter/*) [ "$(basename "$f")" = milter_proto.c ] || continue ;; esac
    sources="$sources $f"
done
includes="-I$work"   # mw_build.h, which configure makes in a build tree: the version is all we need
version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$src/configure.ac")
printf '#define PACKAGE_VERSION "%s"\n#define PACKAGE_STRING "mailwarden %s"\n' \
    "${version:-unknown}" "${version:-unknown}" >"$work/mw_build.h"
for d in "$src"/filter/*/; do includes="$includes -I${d%/}"; done   # every folder, as Makefile.am
packages="libconfig libunbound gmime-3.0 libxml-2.0 libpsl libpcre2-8 hiredis openssl zlib lmdb"
pkgs=""
for p in $packages; do pkg-config --exists "$p" && pkgs="$pkgs $p"; done
cflags="-std=c11 -D_GNU_SOURCE -DSYSCONFDIR=\"/etc\" -DLOCALSTATEDIR=\"/var\" -g -O1 $includes $(pkg-config --cflags $pkgs)
    -fno-sanitize-recover=undefined"
flags="$cflags -fsanitize=fuzzer,address,undefined"
libs="$(pkg-config --libs $pkgs) -lunbound -pthread"   # Debian's libunbound.pc is broken

# The engine is compiled once for every target (instrumented, no libFuzzer main), as many files
# at a time as there are CPUs; each target is then its own file linked with those objects.
objdir=$work/engine-obj
rm -rf "$objdir"
mkdir -p "$objdir"
: >"$objdir/failed"
for f in $sources; do
    o=$objdir/$(echo "${f#"$src"/}" | tr / _).o
    { clang $cflags -fsanitize=fuzzer-no-link,address,undefined -c "$f" -o "$o" \
        >"$o.log" 2>&1 || echo "$f" >>"$objdir/failed"; } &
    while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
done
wait
objects=$(ls "$objdir"/*.o 2>/dev/null)
for target in $targets; do
    corpus=$src/tests/fuzz/corpus/${target#fuzz_}
    if [ -s "$objdir/failed" ]; then
        echo "not ok - $target: the engine does not build: $(head -n 1 "$objdir/failed"): $(cat "$objdir"/*.log | head -c 800)"
        failed=$((failed + 1))
        continue
    fi
    if ! clang $flags -o "$work/$target" "$src/tests/fuzz/$target.c" "$src/tests/fuzz/fuzz_mail.c" \
            $objects $libs \
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
