#!/bin/bash
# tests/build/test-symbols.sh - no global symbol of ours may share a name with a symbol a shared
# library we load exports: the executable's definition would silently replace the library's
# (libconfig's internal strbuf_append once did, and config parsing looped). There are no
# deliberate replacements: interposing a library's function is not how mailwarden works
# (DKIM signs and verifies with its own code since libopendkim needed two). Run by
# `make check`.
set -u
build=${MW_BUILDDIR:-.}
allowed=""
failed=0 passed=0
ours=$(nm -g --defined-only "$build"/filter/*/*.o 2>/dev/null | awk 'NF == 3 && $2 ~ /[TDBRVW]/ { print $3 }' | sort -u)
if [ -z "$ours" ]; then
    echo "not ok - no object files under $build/filter"
    exit 1
fi
for binary in "$build/filter/mailwarden" "$build/filter/mailwarden-check"; do
    clashes=""
    for lib in $(ldd "$binary" | awk '$3 ~ /^\// { print $3 }'); do
        theirs=$(nm -D --defined-only "$lib" 2>/dev/null | awk '{ print $3 }' | sed 's/@.*//' | sort -u)
        for sym in $(comm -12 <(echo "$ours") <(echo "$theirs")); do
            case " $allowed " in *" $sym "*) continue ;; esac
            clashes="$clashes $sym($(basename "$lib"))"
        done
    done
    if [ -n "$clashes" ]; then
        echo "not ok - $(basename "$binary"): our symbols clash with shared libraries:$clashes"
        failed=$((failed + 1))
    else
        echo "ok - $(basename "$binary"): no symbol of ours replaces one of its shared libraries'"
        passed=$((passed + 1))
    fi
done
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
