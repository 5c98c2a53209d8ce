#!/bin/bash
# tests/build/test-layers.sh - the source files include each other in layers, never in a circle.
# A table below gives each layered file its layer (lower = more basic); the rules are:
#   1. a layered file includes, directly or through unlayered headers, only layered headers of
#      its own layer or a lower one (the error layer knows nothing above it, the option engine and the pattern reader
#      knows no section, a section module never reaches the loader);
#   2. no header includes itself again through others (no include circle at all, layered or not);
#   3. every file the coverage patterns name is in the table (a new config file gets a layer).
# To add a folder or a subsystem, add its files to the table and its folder to `search`.
# The checker runs first on a small broken tree it writes (it must fail there), then on ours.
# Run by `make check` with MW_SRCDIR set.
set -u
src=${MW_SRCDIR:-.}

# LAYER PATTERN... (paths relative to the source tree; shell globs)
layers='
0 filter/config/config_errors.h filter/config/config_errors.c
1 filter/config/config_read.h filter/config/config_read.c filter/config/config_patterns.h filter/config/config_patterns.c
2 filter/config/config.h filter/config/config_module.h filter/config/config_holder.c
3 filter/config/*_config.h filter/config/*_config.c
4 filter/config/config_load.h filter/config/config_load.c filter/config/config.c filter/config/config_modules.c filter/config/config_summary.h filter/config/config_summary.c
'
# Folders searched for "name.h" after the including file's own folder.
search='filter/util filter/engine filter/config filter/dns filter/spf filter/dmarc filter/dkim filter/arc
    filter/message
    filter/rules filter/store filter/bayes filter/checks filter/milter filter/daemon filter/tools'
# Files that must have a layer.
coverage='filter/*/config*.[ch] filter/*/*_config.[ch]'

# check ROOT LAYERS SEARCH COVERAGE: prints one "not ok" line per violation; returns their count.
check() {
    local root=$1 table=$2 dirs=$3 cover=$4
    declare -A layer_of=()
    local failures=0 line level pattern file
    while read -r level line; do
        [ -z "$level" ] && continue
        local patterns=()
        read -ra patterns <<<"$line"           # no pathname expansion here: compgen does it
        for pattern in "${patterns[@]}"; do
            for file in $(cd "$root" && compgen -G "$pattern"); do
                layer_of[$file]=$level
            done
        done
    done <<<"$table"

    # the quoted includes of every file of the searched folders, resolved relative to root
    declare -A includes=()
    local d f name dir cand found files=()
    for d in $dirs; do
        files+=($(cd "$root" && compgen -G "$d/*.[ch]"))
    done
    while read -r f name; do
        dir=${f%/*}
        found=""
        for cand in "$dir" $dirs; do
            if [ -f "$root/$cand/$name" ]; then
                found=$cand/$name
                break
            fi
        done
        [ -n "$found" ] && includes[$f]="${includes[$f]:-} $found"
    done < <(cd "$root" && awk '/^[ \t]*#[ \t]*include[ \t]*"/ {
        match($0, /"[^"]*"/); print FILENAME, substr($0, RSTART + 1, RLENGTH - 2) }' "${files[@]}")

    # rule 1: walk each layered file's includes; unlayered headers are walked through
    local f
    for f in "${!layer_of[@]}"; do
        declare -A seen=() via=()
        local queue=("$f")
        while [ ${#queue[@]} -gt 0 ]; do
            local cur=${queue[0]}
            queue=("${queue[@]:1}")
            local inc
            for inc in ${includes[$cur]:-}; do
                [ -n "${seen[$inc]+x}" ] && continue
                seen[$inc]=1
                via[$inc]=$cur
                if [ -n "${layer_of[$inc]+x}" ]; then
                    if [ "${layer_of[$inc]}" -gt "${layer_of[$f]}" ]; then
                        local path=$inc step=$inc
                        while [ "${via[$step]}" != "$f" ]; do
                            step=${via[$step]}
                            path="$step -> $path"
                        done
                        echo "not ok - $f (layer ${layer_of[$f]}) includes $inc (layer ${layer_of[$inc]}): $f -> $path"
                        failures=$((failures + 1))
                    fi
                    continue            # a layered header is checked as a file of its own
                fi
                queue+=("$inc")
            done
        done
    done

    # rule 2: no include circle among the headers of the searched folders
    declare -A state=()
    visit() {
        local h=$1 stack=$2 inc
        state[$h]=open
        for inc in ${includes[$h]:-}; do
            if [ "${state[$inc]:-}" = open ]; then
                echo "not ok - include circle: $stack -> $inc"
                failures=$((failures + 1))
            elif [ -z "${state[$inc]:-}" ]; then
                visit "$inc" "$stack -> $inc"
            fi
        done
        state[$h]=done
    }
    for d in $dirs; do
        for f in $(cd "$root" && compgen -G "$d/*.h"); do
            [ -z "${state[$f]:-}" ] && visit "$f" "$f"
        done
    done

    # rule 3: coverage
    local covered=()
    read -ra covered <<<"$cover"
    for pattern in "${covered[@]}"; do
        for f in $(cd "$root" && compgen -G "$pattern"); do
            if [ -z "${layer_of[$f]+x}" ]; then
                echo "not ok - $f has no layer: add it to the table in tests/build/test-layers.sh"
                failures=$((failures + 1))
            fi
        done
    done
    return "$failures"
}

passed=0 failed=0

# The checker must catch an upward include, one through an unlayered header, a circle and an
# unlisted file.
fixture=$(mktemp -d)
trap 'rm -rf "$fixture"' EXIT
mkdir -p "$fixture/filter/config" "$fixture/filter/util"
printf '#include "config_read.h"\n' >"$fixture/filter/config/config_errors.h"      # 0 -> 1: upward
printf '#include "helper.h"\n' >"$fixture/filter/config/config_read.h"             # 1 -> helper -> 2
printf '#include "config.h"\n' >"$fixture/filter/util/helper.h"
printf '#include "a_config.h"\n' >"$fixture/filter/config/config.h"                 # 2 -> 3: upward
printf '#include "b_config.h"\n' >"$fixture/filter/config/a_config.h"              # circle a <-> b
printf '#include "a_config.h"\n' >"$fixture/filter/config/b_config.h"
printf '/* none */\n' >"$fixture/filter/config/config_new.c"                        # no layer
out=$(check "$fixture" "$layers" "$search" "$coverage")
for want in "config_errors.h (layer 0) includes filter/config/config_read.h (layer 1)" \
    "config_read.h (layer 1) includes filter/config/config.h (layer 2): filter/config/config_read.h -> filter/util/helper.h -> filter/config/config.h" \
    "config.h (layer 2) includes filter/config/a_config.h (layer 3)" \
    "include circle: " "config_new.c has no layer"; do
    if grep -qF -- "$want" <<<"$out"; then
        passed=$((passed + 1))
    else
        echo "not ok - the checker missed \"$want\" in a broken tree; it said:"
        echo "$out"
        failed=$((failed + 1))
    fi
done

out=$(check "$src" "$layers" "$search" "$coverage")
if [ -z "$out" ]; then
    echo "ok - the configuration files include only their own or lower layers, and no header circles back"
    passed=$((passed + 1))
else
    echo "$out"
    failed=$((failed + 1))
fi
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
