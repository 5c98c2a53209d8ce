#!/bin/bash
# tests/package/installed-daemon.sh - the daemon as the Debian package installed it, behind a
# private Postfix: /usr/sbin/mailwarden with /etc/mailwarden/mailwarden.conf as shipped (inet
# 127.0.0.1:8891, networks.internal 127.0.0.0/8) passes `-t`, runs as the packaged user
# mailwarden, whose state directory /var/lib/mailwarden (tmpfiles.d) it owns, passes mail;
# then a key made by `mailwarden-keygen` as root (into
# /etc/mailwarden/keys, the daemon's user owning it) and a policies.d drop-in, loaded by
# `mailwarden-ctl reload` (the unit's ExecReload), sign outbound mail that Debian's python3-dkim
# verifies; a broken drop-in makes that reload exit 1 with file:line. Run by
# test-deb-package.sh after it installed the package; prints PASS/FAIL lines
# (tests/integration/lib.sh). Leaves the drop-in and the key for the purge that follows to show
# it removes what it must.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/cases.sh"
MW_BIN=/usr/sbin/mailwarden
mw_init installed-daemon
conf=/etc/mailwarden/mailwarden.conf

mw_port_free 8891 || die "port 8891 (the shipped milter.socket) is in use"
MW_PORT=8891
sink_start
mw_start "$conf"
pf_start 8891

name="installed daemon: runs as the packaged user mailwarden"
user=$(ps -o user= -p "$MW_PID" | tr -d ' ')
if [ "$user" = mailwarden ]; then pass "$name"; else fail "$name" "runs as '$user'"; fi

name="installed daemon: the state directory /var/lib/mailwarden is the daemon's (mailwarden, 0750)"
state=$(stat -c %U:%G:%a /var/lib/mailwarden 2>&1)
if [ "$state" = mailwarden:mailwarden:750 ]; then pass "$name"; else fail "$name" "$state"; fi

name="installed daemon: passes mail through Postfix and logs one line for it"
tok=$(mw_token pkg)
mw_msg "$MW_WORK/plain.eml" "$tok"
mw_swaks "$MW_WORK/plain.out" --from alice@example.test --to bob@remote.test --data "@$MW_WORK/plain.eml"
qid=$(swaks_queued_id "$MW_WORK/plain.out")
if [ -z "$qid" ]; then
    fail "$name" "not queued: $(swaks_errors "$MW_WORK/plain.out" | head -n 1)"
elif ! deliver_ok "$tok" "$MW_WORK/plain.msg"; then
    fail "$name" "$MW_WHY"
elif ! mw_wait_until 10 grep -q "qid=$qid " "$MW_LOG"; then
    fail "$name" "no log line with qid=$qid: $(tail -n 3 "$MW_LOG" | tr '\n' '|')"
else
    pass "$name"
fi

# DKIM as README and mailwarden-keygen(1) tell an admin to set it up.
name="installed daemon: a key from mailwarden-keygen, in a policies.d drop-in, signs after a reload"
keys=/etc/mailwarden/keys
if ! mailwarden-keygen -d example.test -s pkgtest >"$MW_WORK/keygen.out" 2>&1; then
    fail "$name" "mailwarden-keygen failed: $(head -n 3 "$MW_WORK/keygen.out" | tr '\n' '|')"
else
    owner=$(stat -c %U:%a "$keys/example.test.pkgtest.key" 2>/dev/null)
    key_entry=$(grep -A1 '^# dkim.keys entry' "$MW_WORK/keygen.out" | tail -n 1)
    sign_entry=$(grep -A1 '^# dkim.signing entry' "$MW_WORK/keygen.out" | tail -n 1)
    cat >/etc/mailwarden/policies.d/60-dkim-pkgtest.conf <<EOD
# written by tests/package/installed-daemon.sh
dkim: {
  keys = ( $key_entry );
  signing = ( $sign_entry );
}
EOD
    # the TXT record keygen printed, as one string, for the verifier
    record=$(sed -n '/IN TXT (/,/)/p' "$MW_WORK/keygen.out" | grep -oE '"[^"]*"' | tr -d '"\n')
    printf 'pkgtest._domainkey.example.test\t%s\n' "$record" >"$MW_WORK/keys.txt"
    # the reload the packaged unit runs (ExecReload); before it, /run/mailwarden must exist
    # (the package's tmpfiles.d entry, created by its postinst)
    ctl=/usr/sbin/mailwarden-ctl
    if [ "$owner" != mailwarden:600 ]; then
        fail "$name" "the key is $owner, not mailwarden:600"
    elif ! "$MW_BIN" -t -c "$conf" >"$MW_WORK/t2.out" 2>&1; then
        fail "$name" "mailwarden -t refuses the drop-in: $(head -n 3 "$MW_WORK/t2.out" | tr '\n' '|')"
    elif ! "$ctl" reload >"$MW_WORK/reload.out" 2>&1 \
            || ! grep -q '^installed: generation 2 ' "$MW_WORK/reload.out"; then
        fail "$name" "mailwarden-ctl reload (the unit's ExecReload): $(tr '\n' '|' <"$MW_WORK/reload.out")"
    else
        tok=$(mw_token pkgsign)
        mw_msg "$MW_WORK/signed.eml" "$tok"
        mw_swaks "$MW_WORK/signed.out" --from alice@example.test --to bob@remote.test --data "@$MW_WORK/signed.eml"
        if ! deliver_ok "$tok" "$MW_WORK/signed.msg"; then
            fail "$name" "$MW_WHY"
        elif ! "$MW_PY" "$MW_SRCDIR/tests/dkim/pyverify.py" --keys "$MW_WORK/keys.txt" --expect 1 \
                "$MW_WORK/signed.msg" >"$MW_WORK/verify.out" 2>&1; then
            fail "$name" "python3-dkim: $(tr '\n' '|' <"$MW_WORK/verify.out")"
        else
            pass "$name"
        fi
    fi
fi

# A drop-in with an error: the unit's reload must fail, name file and line, and keep the policy.
name="installed daemon: mailwarden-ctl reload of a broken drop-in exits 1 with file:line and keeps the policy"
broken=/etc/mailwarden/policies.d/61-broken-pkgtest.conf
printf 'spf: {\n  mode = "shadows"\n}\n' >"$broken"
/usr/sbin/mailwarden-ctl reload >"$MW_WORK/reload-bad.out" 2>&1
rc=$?
rm -f "$broken"
if [ "$rc" = 1 ] && grep -q "$broken:2: spf.mode: " "$MW_WORK/reload-bad.out" \
        && /usr/sbin/mailwarden-ctl status 2>/dev/null | grep -q '^policy: generation 2, '; then
    pass "$name"
else
    fail "$name" "exit $rc: $(tr '\n' '|' <"$MW_WORK/reload-bad.out")"
fi

name="installed daemon: stops on SIGTERM with status 0"
if mw_stop; then pass "$name"; else fail "$name" "$MW_WHY"; fi
