#!/bin/bash
# tests/build/test-install.sh - `make install` lays out what the shipped policy and the man
# pages point at: the policy, policies.d, rules.d (rules.files' default) and keys
# (mailwarden-keygen's default, mode 0750 so only root and the daemon's group enter), and a
# second install never overwrites an edited policy. Installs into a temporary DESTDIR only.
# Run by `make check`.
set -u
build=${MW_BUILDDIR:-.}
dest=$(mktemp -d /tmp/mw-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; shift; [ $# -gt 0 ] && printf '#   %s\n' "$@"; failed=$((failed + 1)); }

sysconfdir=$(sed -n 's/^sysconfdir = //p' "$build/Makefile")
prefix=$(sed -n 's/^prefix = //p' "$build/Makefile")
etc=$dest${sysconfdir//\$\{prefix\}/$prefix}/mailwarden
if ! out=$(make -s -C "$build" install DESTDIR="$dest" 2>&1); then
    not_ok "make install DESTDIR=..." "$(tail -n 10 <<<"$out")"
    echo "1..$((passed + failed))"; exit 1
fi
for d in policies.d rules.d keys; do
    if [ -d "$etc/$d" ]; then ok "make install makes $d"; else not_ok "make install makes $d" "$(ls "$etc")"; fi
done
mode=$(stat -c %a "$etc/keys" 2>/dev/null)
[ "$mode" = 750 ] && ok "the keys directory is mode 0750" || not_ok "the keys directory is mode 0750" "mode $mode"
[ -f "$etc/mailwarden.conf" ] && ok "make install installs the policy" || not_ok "make install installs the policy"
echo "# edited" >>"$etc/mailwarden.conf"
make -s -C "$build" install DESTDIR="$dest" >/dev/null 2>&1
if tail -n 1 "$etc/mailwarden.conf" | grep -q '^# edited$'; then ok "a second make install keeps the edited policy"
else not_ok "a second make install keeps the edited policy"; fi
echo "1..$((passed + failed))"
[ "$failed" -eq 0 ]
