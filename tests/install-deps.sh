#!/bin/bash
# tests/install-deps.sh [build|all] - installs what building (and, with "all", the default,
# testing) mailwarden needs on Debian 12, from tests/debian-packages.txt. Needs root; does
# nothing when every package is already installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
what=${1:-all}
case $what in
    build) pattern='^build:' ;;
    all) pattern='^(build|test):' ;;
    *) echo "usage: install-deps.sh [build|all]" >&2; exit 64 ;;
esac
packages=$(grep -E "$pattern" "$here/debian-packages.txt" | sed -E 's/^[a-z]+://' | tr -s ' \n' ' ')
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: need root to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix must not ask questions, and must not be configured as a real MTA here.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
