#!/bin/bash
# tests/build/test-check-independence.sh - the engine's boundaries, from the #include lines of
# filter/ (any depth): no check (check_*.c; check_main.c is mailwarden-check's main(), not a
# check) includes another check's header (check_*.h other than check.h and its own): what one
# check leaves for another goes through a library file (rdns_result.h, spf_result.h,
# dkim_result.h, subnet.h, ...); and only the milter glue (main.c and the milter*.c/.h files)
# includes milter.h, so the engine never knows libmilter; between the folders of filter/, the
# engine includes no checks/, milter/ or daemon/ header and only daemon/ and tools/ include a
# daemon/ header. Run by `make check`.
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

# Between the folders of filter/ (filter/README.md): the engine includes no header of checks/,
# milter/ or daemon/, and only daemon/ and tools/ include a daemon/ header. folder_rules ROOT
# prints one line per include that breaks them.
folder_rules() {
    local root=$1 line file from header to
    declare -A folder_of=()
    while IFS= read -r file; do
        folder_of[$(basename "$file")]=$(basename "$(dirname "$file")")
    done < <(find "$root/filter" -mindepth 2 -name '*.h')
    while IFS= read -r line; do
        file=${line%%:*}
        from=$(basename "$(dirname "$file")")
        header=$(basename "${line##*: }")
        to=${folder_of[$header]:-}
        [ -z "$to" ] || [ "$to" = "$from" ] && continue
        case "$from:$to" in
            engine:checks|engine:milter|engine:daemon) echo "${line#"$root"/} (engine/ includes $to/)" ;;
            daemon:daemon|tools:daemon) ;;
            *:daemon) echo "${line#"$root"/} ($from/ includes daemon/)" ;;
        esac
    done < <(includes $(find "$root/filter" -mindepth 2 -name '*.[ch]' | sort))
}
# the rule must see a break in a small tree written for it
fixture=$(mktemp -d)
trap 'rm -rf "$fixture"' EXIT
mkdir -p "$fixture/filter/engine" "$fixture/filter/checks" "$fixture/filter/daemon" "$fixture/filter/dns"
printf '/* x */\n' >"$fixture/filter/checks/check_x.h"
printf '/* x */\n' >"$fixture/filter/daemon/reload.h"
printf '#include "check_x.h"\n' >"$fixture/filter/engine/engine.c"
printf '#include "reload.h"\n' >"$fixture/filter/dns/dns.c"
out=$(folder_rules "$fixture")
if grep -qF "filter/engine/engine.c:1: check_x.h (engine/ includes checks/)" <<<"$out" &&
        grep -qF "filter/dns/dns.c:1: reload.h (dns/ includes daemon/)" <<<"$out"; then
    out=$(folder_rules "$src")
    if [ -z "$out" ]; then
        ok "the engine includes no checks/, milter/ or daemon/ header; only daemon/ and tools/ include daemon/"
    else
        mapfile -t bad <<<"$out"
        not_ok "an include crosses the folders the wrong way (filter/README.md)" "${bad[@]}"
    fi
else
    not_ok "the folder rule missed the breaks of its test tree; it said: $out"
fi

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
