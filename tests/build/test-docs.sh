#!/bin/bash
# tests/build/test-docs.sh - what an admin reads about the package is true and clean: every man
# page renders without a groff warning, carries the package version in .TH and names the other
# mailwarden pages under SEE ALSO; the package descriptions (Debian, RPM, systemd unit,
# mailwarden(8)) claim DMARC or ARC only once the check exists in filter/. Run by `make check`.
set -u
src=${MW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MW_BUILDDIR:-.}
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; shift; [ $# -gt 0 ] && printf '#   %s\n' "$@"; failed=$((failed + 1)); }

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$build/mw_build.h" 2>/dev/null)
[ -n "$version" ] || version=$(sed -n 's/^AC_INIT(\[mailwarden\], *\[\([^]]*\)\].*/\1/p' "$src/configure.ac")
pages=("$src"/packaging/man/*.[0-9])
names=()
for page in "${pages[@]}"; do
    base=$(basename "$page")
    names+=("${base%.*}")
done

for page in "${pages[@]}"; do
    base=$(basename "$page")
    if command -v man >/dev/null; then
        warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
        if [ -z "$warnings" ]; then ok "$base renders without groff warnings"
        else not_ok "$base renders without groff warnings" "$warnings"; fi
    else
        echo "ok - $base renders without groff warnings # SKIP man-db is not installed"
    fi
    th=$(grep -m1 '^\.TH ' "$page")
    case $th in
        *"\"mailwarden $version\""*) ok "$base: .TH carries the version ($version)" ;;
        *) not_ok "$base: .TH carries the version ($version)" "$th" ;;
    esac
    see_also=$(sed -n '/^\.SH SEE ALSO/,/^\.SH /p' "$page" | sed 's/\\-/-/g')
    missing=""
    for name in "${names[@]}"; do
        [ "$name" = "${base%.*}" ] && continue
        grep -q "^\.BR $name " <<<"$see_also" || missing="$missing $name"
    done
    if [ -z "$missing" ]; then ok "$base: SEE ALSO names every other mailwarden page"
    else not_ok "$base: SEE ALSO names every other mailwarden page" "missing:$missing"; fi
done

# Package descriptions: a feature is claimed only when its check is in the tree.
claims() { # FILE: the lines that describe the package
    case $1 in
        */control) sed -n '/^Description:/,/^$/p' "$1" ;;
        */*.spec) { grep '^Summary:' "$1"; sed -n '/^%description/,/^%/p' "$1"; } ;;
        */*.service) grep '^Description=' "$1" ;;
        */*.8) sed -n '/^\.SH NAME/,/^\.SH OPTIONS/p' "$1" ;;
    esac
}
for feature in DMARC ARC; do
    lower=$(tr 'A-Z' 'a-z' <<<"$feature")
    # one ls per place: ls fails when any of its arguments is missing
    { ls "$src"/filter/check_"$lower"*.c || ls "$src"/filter/*/check_"$lower"*.c; } >/dev/null 2>&1 \
        && continue
    for f in packaging/debian/control packaging/rpm/mailwarden.spec \
             packaging/systemd/mailwarden.service packaging/man/mailwarden.8; do
        hits=$(claims "$src/$f" | grep -w "$feature")
        if [ -z "$hits" ]; then ok "$f does not claim $feature (no check_$lower yet)"
        else not_ok "$f does not claim $feature (no check_$lower yet)" "$hits"; fi
    done
done

echo "1..$((passed + failed))"
[ "$failed" -eq 0 ]
