#!/bin/bash
# tests/build/test-check-independence.sh - the engine's boundaries, from the #include lines of
# filter/ (any depth): no check (check_*.c; check_main.c is mailwarden-check's main(), not a
# check) includes another check's header (check_*.h other than check.h and its own): what one
# check leaves for another goes through a library file (rdns_result.h, spf_result.h,
# dkim_result.h, subnet.h, ...); and only the milter glue (main.c and the milter*.c/.h files)
# includes milter.h, so the engine never knows libmilter. Run by `make check`.
set -u
src=${MW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; shift; [ $# -gt 0 ] && printf '#   %s\n' "$@"; failed=$((failed + 1)); }

# "file:line: header" for every quoted #include in the files given
includes() {
    grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$@" 2>/dev/null \
        | sed 's/^\([^:]*:[0-9]*\):.*"\([^"]*\)".*/\1: \2/'
}

mapfile -t checks < <(find "$src/filter" -name 'check_*.c' ! -name check_main.c | sort)   # check_main.c: mailwarden-check's main()
if [ "${#checks[@]}" -eq 0 ]; then
    not_ok "no check_*.c under $src/filter"
    echo "# $passed passed, $failed failed"
    exit 1
fi
bad=()
for file in "${checks[@]}"; do
    own=$(basename "$file" .c).h
    while IFS= read -r line; do
        header=$(basename "${line##*: }")
        case "$header" in
            check.h|"$own") ;;
            check_*.h) bad+=("${line#"$src"/}") ;;
        esac
    done < <(includes "$file")
done
if [ "${#bad[@]}" -eq 0 ]; then
    ok "no check includes another check's header (${#checks[@]} checks)"
else
    not_ok "a check includes another check's header (move the shared piece to a library file)" "${bad[@]}"
fi

bad=()
while IFS= read -r line; do
    file=$(basename "${line%%:*}")
    case "$file" in main.c|milter*) continue ;; esac
    [ "$(basename "${line##*: }")" = milter.h ] && bad+=("${line#"$src"/}")
done < <(includes $(find "$src/filter" -name '*.[ch]' | sort))
if [ "${#bad[@]}" -eq 0 ]; then
    ok "only the milter glue (main.c, milter*) includes milter.h"
else
    not_ok "a file outside the milter glue includes milter.h" "${bad[@]}"
fi

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
