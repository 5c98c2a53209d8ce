#!/bin/bash
# tests/bench/rules-cpu-ab.sh - CPU per message of several builds of mailwarden on the same
# message sets, run in turn (A B C A B C ...) so that a shared machine's changing load falls on
# each build alike: each run is `tests/bench/rules-cpu -c POLICY --rounds 10 SET...` of one build.
# Prints, per build and set, the mean and best of the runs. A benchmark, not a test.
#
# usage: bash tests/bench/rules-cpu-ab.sh -c POLICY -n RUNS -s "SET_DIR..." BUILD_DIR...
# The sets come from `tests/bench/rules-bench.sh --keep`; give each build's policy the same
# rules.prefilter_cache and run each build once before, so that no run pays a compile.
set -u
policy='' runs=5 sets=''
while getopts "c:n:s:" opt; do
    case $opt in
    c) policy=$OPTARG ;;
    n) runs=$OPTARG ;;
    s) sets=$OPTARG ;;
    *) echo "usage: $0 -c POLICY -n RUNS -s \"SET_DIR...\" BUILD_DIR..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ -z "$policy" ] || [ -z "$sets" ] || [ $# -eq 0 ]; then
    echo "usage: $0 -c POLICY -n RUNS -s \"SET_DIR...\" BUILD_DIR..." >&2
    exit 2
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$runs"); do
    for build in "$@"; do
        # shellcheck disable=SC2086 # the sets are words
        "$build/tests/bench/rules-cpu" -c "$policy" --rounds 10 $sets 2>/dev/null \
            | awk -v b="$build" '{ split($3, c, "="); print b, $1, c[2] }' >> "$out"
    done
done
awk '{ k = $1 " " $2; s[k] += $3; n[k]++; if (!(k in m) || $3 < m[k]) m[k] = $3 }
     END { for (k in s) printf "%s mean %.3f ms best %.3f ms (%d runs)\n", k, s[k] / n[k], m[k], n[k] }' \
    "$out" | sort
