# tests/dkim/integration-cases.sh - the DKIM signing cases the Postfix and Sendmail integration
# tests share (sourced after tests/integration/lib.sh and cases.sh). alice authenticates and
# sends through the MTA; mailwarden signs; the delivered message (as smtp-sink stored it) must
# verify with python3-dkim (tests/dkim/pyverify.py), for RSA, ed25519 and RSA + ed25519, with
# long and folded headers, an 8-bit body and a body without a final newline.

DKIM_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# dkim_keys: makes an RSA and an ed25519 key with mailwarden-keygen, publishes them in the
# stub DNS zone and in $MW_WORK/dkim.keys (for pyverify). Call before dns_start.
dkim_keys() {
    local keygen=$MW_BUILDDIR/filter/mailwarden-keygen type sel out record
    mkdir -p "$MW_WORK/keys"
    : >"$MW_WORK/dkim.keys"
    for type in rsa ed25519; do
        sel="mw$type"
        out=$("$keygen" -d example.test -s "$sel" -t "$type" -o "$MW_WORK/keys/$sel.key") \
            || die "mailwarden-keygen -t $type failed"
        record=$(printf '%s\n' "$out" | sed -n '/^# DNS TXT/,/^# dkim.keys/p' | grep -o '"[^"]*"' | tr -d '"\n')
        printf '%s._domainkey.example.test\t%s\n' "$sel" "$record" >>"$MW_WORK/dkim.keys"
        # dnslib zone syntax: the record in strings of at most 255 bytes
        printf '%s._domainkey.example.test. 300 IN TXT %s\n' "$sel" \
            "$(printf '%s\n' "$out" | sed -n '/^# DNS TXT/,/^# dkim.keys/p' | grep -o '"[^"]*"' | tr '\n' ' ')" \
            >>"$MW_WORK/dns.zone"
    done
}

# dkim_policy CANON: the dkim section for the tests.
dkim_policy() {
    cat <<EOF
dkim: {
  sign: { canonicalization = "$1" }
  keys = (
    { name = "rsa"; domain = "example.test"; selector = "mwrsa"; file = "$MW_WORK/keys/mwrsa.key" },
    { name = "ed"; domain = "example.test"; selector = "mwed25519"; file = "$MW_WORK/keys/mwed25519.key" }
  )
  signing = (
    { from = "rsa.example.test"; keys = [ "rsa" ] },
    { from = "ed.example.test"; keys = [ "ed" ] },
    { from = "example.test"; keys = [ "rsa", "ed" ] }
  )
  users = ( { user = "alice"; domains = [ "example.test", "*.example.test" ] } )
}
EOF
}

# dkim_message FILE TOKEN FROM KIND: plain | folded | 8bit | nonl. DKIM_FOLD_ADDRESSES=no keeps
# To: on one line in the folded kind (Sendmail rewrites address fields after the milter).
dkim_message() {
    local f=$1 tok=$2 from=$3 kind=$4
    {
        printf 'From: Alice <%s>\n' "$from"
        if [ "$kind" = folded ] && [ "${DKIM_FOLD_ADDRESSES:-yes}" = yes ]; then
            printf 'To: Bob <bob@remote.test>,\n\tCarol <carol@remote.test>,   Dave <dave@remote.test>\n'
        else
            printf 'To: Bob <bob@remote.test>\n'
        fi
        if [ "$kind" = folded ]; then
            printf 'Subject: a long subject %s that goes on\n and on  over\n\tthree lines\n' "$tok"
            printf 'X-Long: %s\n' "$(head -c 900 /dev/zero | tr '\0' 'x')"
        else
            printf 'Subject: dkim test %s\n' "$tok"
        fi
        printf 'Date: %s\n' "$(date -R)"
        printf 'Message-ID: <%s@example.test>\n' "$tok"
        printf 'X-MW-Test-Id: %s\n' "$tok"
        case $kind in
            8bit) printf 'Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n'
                  printf 'D\xe9j\xe0 vu, caf\xe9 cr\xe8me \xff\n  indented   line  \n\n\n' ;;
            nonl) printf '\nthe last line has no newline' ;;
            *) printf '\nHello Bob,\n\nthis is test message %s.\n' "$tok" ;;
        esac
    } >"$f"
}

# dkim_case NAME FROM KIND NSIGS: sends as alice (AUTH PLAIN) and checks the delivered copy.
dkim_case() {
    local name=$1 from=$2 kind=$3 nsigs=$4
    local tok; tok=$(mw_token "dkim-$kind")
    local f=$MW_WORK/$tok dump
    dkim_message "$f.eml" "$tok" "$from" "$kind"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml" \
        --auth PLAIN --auth-user alice --auth-password alice-secret
    local rc=$?
    if [ "$rc" != 0 ]; then
        fail "$name" "swaks exit $rc: $(swaks_errors "$f.out" | head -n 1)"
        return 0
    fi
    if ! mta_wait_queue_empty 60; then
        fail "$name" "$MTA queue not empty after 60 s"
        return 0
    fi
    dump=$(sink_find "$tok")
    if [ "$(printf '%s' "$dump" | grep -c .)" != 1 ]; then
        fail "$name" "expected one delivered message with $tok, found: $dump"
        return 0
    fi
    cp "$dump" "$f.dump"
    if "$MW_PY" "$DKIM_TOOLS/pyverify.py" --keys "$MW_WORK/dkim.keys" --expect "$nsigs" "$f.dump" >"$f.verify" 2>&1; then
        pass "$name"
    else
        fail "$name" "$(tr '\n' '|' <"$f.verify")"
    fi
}

# dkim_cases PREFIX: every case, for the canonicalization in force.
dkim_cases() {
    local p=$1 kind
    for kind in plain folded 8bit nonl; do
        dkim_case "$p: RSA + ed25519 ($kind) verify with python3-dkim" alice@example.test "$kind" 2
    done
    dkim_case "$p: RSA only verifies with python3-dkim" alice@rsa.example.test plain 1
    dkim_case "$p: ed25519 only verifies with python3-dkim" alice@ed.example.test folded 1
}

# dkim_reloaded: the daemon logged a completed reload (after mw_hup).
dkim_reloaded() { grep -q 'reload: policy from .* in force' "$MW_LOG"; }

# dkim_verify_case NAME: an inbound message (no AUTH, client not internal) signed with the RSA
# key by python3-dkim, and a copy with its body changed after signing; the delivered copies
# carry our Authentication-Results with dkim=pass and dkim=fail for header.d=example.test.
dkim_verify_case() {
    local name=$1 kind tok f want got
    for kind in pass fail; do
        tok=$(mw_token "dkim-verify-$kind")
        f=$MW_WORK/$tok
        dkim_message "$f.plain" "$tok" alice@example.test plain
        "$MW_PY" - "$f.plain" "$MW_WORK/keys/mwrsa.key" "$kind" >"$f.eml" <<'PYEOF' || { fail "$name" "python3-dkim could not sign"; return 0; }
import re, sys, dkim
msg = re.sub(rb"\r?\n", b"\r\n", open(sys.argv[1], "rb").read())
sig = dkim.sign(msg, b"mwrsa", b"example.test", open(sys.argv[2], "rb").read())
if sys.argv[3] == "fail":
    msg = msg.replace(b"Hello Bob", b"Hello Eve")
sys.stdout.buffer.write(sig + msg)
PYEOF
        mw_swaks "$f.out" --from carol@example.test --to bob@remote.test --data "@$f.eml"
        if ! deliver_ok "$tok" "$f.msg"; then
            fail "$name" "$kind: $MW_WHY"
            return 0
        fi
        want="dkim=$kind header.d=example.test header.i=@example.test header.s=mwrsa header.a=rsa-sha256"
        got=$(grep -E $'^[0-9]+\tAuthentication-Results: *mw\\.test *;' "$f.msg.hdr" | head -n 1)
        if ! printf '%s\n' "$got" | grep -qF "$want"; then
            fail "$name" "$kind: our Authentication-Results is '$got', wanted '$want'"
            return 0
        fi
    done
    pass "$name"
}
