#!/bin/bash
# tests/build/test-deb-package.sh CHECKOUT - the Debian package as an admin meets it: builds it
# from CHECKOUT's committed sources with packaging/debian (dpkg-buildpackage, nocheck: the full
# suite runs elsewhere), lintian with no error and no warning (each override is justified in
# debian/mailwarden.lintian-overrides), rpmlint on the RPM spec (mailwarden.rpmlintrc), installs
# the package, runs `mailwarden -t` and `systemd-analyze verify` on what it installed, runs the
# installed daemon behind a private Postfix (tests/package/installed-daemon.sh), then purges the
# package: its files go, a key the admin made stays. Prints TAP lines ("ok - ", "not ok - "). Needs root,
# git, port 8891 free, and mailwarden not installed already (it refuses to touch an install it
# did not make). Run last by tests/run-all.sh: it installs into /usr and /etc.
set -u
checkout=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mw-deb.XXXXXX)
chmod 755 "$work"
installed=0
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -q "$@"; }
cleanup() {
    [ "$installed" = 1 ] && apt_get purge mailwarden >/dev/null 2>&1
    rm -f /etc/mailwarden/keys/example.test.pkgtest.key /etc/mailwarden/policies.d/60-dkim-pkgtest.conf \
        /etc/mailwarden/policies.d/61-broken-pkgtest.conf
    rm -rf "$work"
}
trap cleanup EXIT
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $1"; shift; [ $# -gt 0 ] && printf '#   %s\n' "$@"; }
lines() { tail -n "${2:-15}" "$1" | sed 's/^/  /'; }

if dpkg-query -W -f='${Status}' mailwarden 2>/dev/null | grep -q 'install ok installed'; then
    not_ok "package: mailwarden is installed already; remove it first (this test purges what it installs)"
    exit 1
fi

# 1. Build, from what is committed (as a release would be).
mkdir -p "$work/src"
if ! (cd "$checkout" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$work/src"; then
    not_ok "package: copy the committed sources of $checkout"; exit 1
fi
cp -r "$work/src/packaging/debian" "$work/src/debian"
if (cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" DEB_BUILD_PROFILES=nocheck \
        dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1); then
    ok "package: dpkg-buildpackage -b builds mailwarden"
else
    not_ok "package: dpkg-buildpackage -b builds mailwarden" "$(lines "$work/build.log" 30)"; exit 1
fi
deb=$(ls "$work"/mailwarden_*_*.deb 2>/dev/null | head -n 1)
changes=$(ls "$work"/mailwarden_*.changes 2>/dev/null | head -n 1)

# 2. lintian: --fail-on makes a warning fail too (--allow-root: CI runs as root). The overrides
# are listed from a second run: with --show-overrides lintian 2.116 exits 2 even when clean.
if lintian --allow-root --fail-on error,warning "$changes" >"$work/lintian.log" 2>&1; then
    ok "package: lintian reports no error and no warning"
else
    not_ok "package: lintian reports no error and no warning" "$(head -n 20 "$work/lintian.log")"
fi
lintian --allow-root --show-overrides "$changes" 2>/dev/null | grep -E '^O: ' | sed 's/^/# overridden: /'

# 3. rpmlint on the spec (Debian's rpmlint; listed in tests/debian-packages.txt).
spec=$work/src/packaging/rpm/mailwarden.spec
if rpmlint -r "$work/src/packaging/rpm/mailwarden.rpmlintrc" "$spec" >"$work/rpmlint.log" 2>&1 \
        && grep -qE ' 0 errors, 0 warnings' "$work/rpmlint.log"; then
    ok "package: rpmlint finds no error and no warning in the RPM spec"
else
    not_ok "package: rpmlint finds no error and no warning in the RPM spec" "$(lines "$work/rpmlint.log")"
fi

# 4. Install (apt resolves the shared-library dependencies dpkg-shlibdeps wrote).
if apt_get install "$deb" >"$work/install.log" 2>&1; then
    installed=1
    ok "package: installs with apt-get"
else
    not_ok "package: installs with apt-get" "$(lines "$work/install.log")"; exit 1
fi
for f in /usr/sbin/mailwarden /usr/sbin/mailwarden-ctl /usr/bin/mailwarden-check /usr/bin/mailwarden-keygen /usr/bin/mailwarden-learn \
         /etc/mailwarden/mailwarden.conf /lib/systemd/system/mailwarden.service; do
    [ -e "$f" ] || not_ok "package: installs $f"
done
keys_mode=$(stat -c '%U:%G %a' /etc/mailwarden/keys 2>/dev/null)
if getent passwd mailwarden >/dev/null && [ "$keys_mode" = "root:mailwarden 750" ]; then
    ok "package: makes the user mailwarden and /etc/mailwarden/keys root:mailwarden 0750"
else
    not_ok "package: makes the user mailwarden and /etc/mailwarden/keys root:mailwarden 0750" "keys: $keys_mode"
fi

# 5. The installed policy passes -t; the installed unit passes systemd-analyze verify.
if /usr/sbin/mailwarden -t -c /etc/mailwarden/mailwarden.conf >"$work/t.log" 2>&1; then
    ok "package: mailwarden -t accepts the installed policy"
else
    not_ok "package: mailwarden -t accepts the installed policy" "$(lines "$work/t.log")"
fi
# The DMARC report runner: installed with its timer and cron file, and runs as the daemon's user
# on the installed policy (dmarc_reports is off there: nothing to do is a success).
name="package: mailwarden-report is installed with its timer, service and cron file, and runs as mailwarden"
missing=$(for f in /usr/sbin/mailwarden-report /lib/systemd/system/mailwarden-report.timer \
    /lib/systemd/system/mailwarden-report.service /etc/cron.d/mailwarden-report; do
    [ -e "$f" ] || echo "$f"; done)
if [ -n "$missing" ]; then
    not_ok "$name" "missing: $missing"
elif ! setpriv --reuid=mailwarden --regid=mailwarden --init-groups \
        /usr/sbin/mailwarden-report -c /etc/mailwarden/mailwarden.conf >"$work/report.log" 2>&1; then
    not_ok "$name" "exit $?: $(lines "$work/report.log")"
else
    ok "$name"
fi
if systemd-analyze verify /lib/systemd/system/mailwarden-report.service \
        /lib/systemd/system/mailwarden-report.timer >"$work/verify-report.log" 2>&1 \
        && ! grep -q . "$work/verify-report.log"; then
    ok "package: systemd-analyze verify finds nothing to say about the report units"
else
    not_ok "package: systemd-analyze verify finds nothing to say about the report units" "$(lines "$work/verify-report.log")"
fi
if systemd-analyze verify /lib/systemd/system/mailwarden.service >"$work/verify.log" 2>&1 \
        && ! grep -q . "$work/verify.log"; then
    ok "package: systemd-analyze verify finds nothing to say about the unit"
else
    not_ok "package: systemd-analyze verify finds nothing to say about the unit" "$(lines "$work/verify.log")"
fi

# 6. The installed daemon behind a private Postfix. Where systemd runs (a VM), the package
# started the service: stop it (after the reload check) so the test's own run of the same
# binary and policy gets 8891.
# There the unit's reload is tried as an admin runs it: `systemctl reload` of a policy with an
# error must fail (ExecReload is mailwarden-ctl reload), and the service keep running.
if [ -d /run/systemd/system ]; then
    systemctl is-enabled mailwarden >/dev/null 2>&1 \
        && ok "package: the service is enabled" || not_ok "package: the service is enabled"
    for _ in $(seq 1 100); do systemctl is-active --quiet mailwarden && break; sleep 0.2; done
    name="package: systemctl reload fails for a policy with an error; the service keeps running"
    if ! systemctl is-active --quiet mailwarden; then
        not_ok "$name" "the service is not running: $(systemctl status mailwarden 2>&1 | tail -n 5)"
    else
        broken=/etc/mailwarden/policies.d/61-broken-pkgtest.conf
        printf 'spf: {\n  mode = "shadows"\n}\n' >"$broken"
        if systemctl reload mailwarden >"$work/sysreload.log" 2>&1; then
            not_ok "$name" "systemctl reload succeeded"
        elif ! systemctl is-active --quiet mailwarden; then
            not_ok "$name" "the service stopped"
        else
            ok "$name"
        fi
        rm -f "$broken"
        if systemctl reload mailwarden >"$work/sysreload2.log" 2>&1; then
            ok "package: systemctl reload of the fixed policy succeeds"
        else
            not_ok "package: systemctl reload of the fixed policy succeeds" "$(lines "$work/sysreload2.log")"
        fi
    fi
    systemctl stop mailwarden >/dev/null 2>&1
else
    echo "# systemd is not running here (no /run/systemd/system): systemctl reload not tried;"
    echo "# the unit's ExecReload command, mailwarden-ctl reload, is tried on the installed daemon below"
fi
MW_BUILDDIR=$work bash "$checkout/tests/package/installed-daemon.sh" >"$work/daemon.log" 2>&1
sed -nE 's/^PASS: (.*)/ok - package: \1/p; s/^FAIL: (.*)/not ok - package: \1/p' "$work/daemon.log"
grep -qE '^(PASS|FAIL): ' "$work/daemon.log" || not_ok "package: installed daemon test ran" "$(lines "$work/daemon.log")"

# 7. Purge: the package's files and its configuration go; keys an admin made stay (they are
# not the package's, and a lost private key means re-publishing DNS records).
if apt_get purge mailwarden >"$work/purge.log" 2>&1; then
    installed=0
    left=$(ls -d /usr/sbin/mailwarden /lib/systemd/system/mailwarden.service \
        /etc/mailwarden/mailwarden.conf /etc/mailwarden/policies.d/README.conf 2>/dev/null)
    if [ -z "$left" ]; then ok "package: purge removes the binaries, the unit and the shipped policy"
    else not_ok "package: purge removes the binaries, the unit and the shipped policy" "left: $left"; fi
    if [ ! -e /var/lib/mailwarden ]; then ok "package: purge removes the daemon's state in /var/lib/mailwarden"
    else not_ok "package: purge removes the daemon's state in /var/lib/mailwarden" "$(ls -la /var/lib/mailwarden | head -n 5)"; fi
    if [ -f /etc/mailwarden/keys/example.test.pkgtest.key ]; then ok "package: purge keeps the DKIM key the admin made"
    else not_ok "package: purge keeps the DKIM key the admin made"; fi
else
    not_ok "package: apt-get purge" "$(lines "$work/purge.log")"
fi
# what the test itself added (the key and the drop-in of installed-daemon.sh)
rm -f /etc/mailwarden/keys/example.test.pkgtest.key /etc/mailwarden/policies.d/60-dkim-pkgtest.conf
rmdir /etc/mailwarden/keys /etc/mailwarden/policies.d /etc/mailwarden/rules.d /etc/mailwarden 2>/dev/null
