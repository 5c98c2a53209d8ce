#!/bin/bash
# Postfix + mailwarden's ARC check and sealing (RFC 8617), the key records served by the real
# test DNS server (tests/tools/dnsserver.py) on loopback, the other side played by Debian's
# python3-dkim (tests/arc/pyarc.py: dkim.arc_sign, dkim.arc_verify):
#   1. a message a mailing list (lists.forwarder.test) forwarded, with the list's ARC set
#      (sealed by dkimpy, its AAR saying spf=pass for the author's domain) and a MAIL FROM whose
#      SPF record fails from 127.0.0.1: delivered, with arc=pass, header.oldest-pass and
#      smtp.remote-ip in our Authentication-Results next to spf=fail;
#   2. the same message changed after the list sealed it: arc=fail, delivered (a score only);
#   3. alice (AUTH PLAIN, relayed mail, arc.seal.relayed) sends: our ARC set (i=1, cv=none) is
#      on top of the delivered message, ARC-Seal first, and dkimpy verifies the chain;
#   4. the list's message of 1, sent again by an authenticated client: we verify its chain and
#      add i=2 with cv=pass, and dkimpy verifies the two-hop chain.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-arc

N1="postfix-arc: a list message with a trusted forwarder's ARC set and a failing SPF is delivered with arc=pass header.oldest-pass smtp.remote-ip"
N2="postfix-arc: the list message changed after sealing gets arc=fail and ARC_FAIL"
N3="postfix-arc: relayed mail is sealed (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results on top) and verifies with dkim.arc_verify"
N4="postfix-arc: an ARC-sealed message relayed by us gets i=2 cv=pass and the two-hop chain verifies with dkim.arc_verify"
NF="postfix-arc: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

ARC_TOOLS=$(cd "$(dirname "$0")/../arc" && pwd)
KEYGEN=$MW_BUILDDIR/filter/mailwarden-keygen

# keygen DOMAIN SELECTOR TYPE: a key in $MW_WORK/keys/SELECTOR.key, its record in the zone and
# in $MW_WORK/arc.keys (for pyarc.py verify)
keygen() {
    local domain=$1 sel=$2 type=$3 out record
    mkdir -p "$MW_WORK/keys"
    out=$("$KEYGEN" -d "$domain" -s "$sel" -t "$type" -o "$MW_WORK/keys/$sel.key") \
        || die "mailwarden-keygen -t $type failed"
    record=$(printf '%s\n' "$out" | sed -n '/^# DNS TXT/,/^# dkim.keys/p' | grep -o '"[^"]*"' | tr -d '"\n')
    printf '%s._domainkey.%s\t%s\n' "$sel" "$domain" "$record" >>"$MW_WORK/arc.keys"
    printf '%s._domainkey.%s TXT "%s"\n' "$sel" "$domain" "$record" >>"$MW_WORK/arc.zone"
}

: >"$MW_WORK/arc.keys"
cat >"$MW_WORK/arc.zone" <<'ZONE'
author.test TXT "v=spf1 ip4:192.0.2.1 -all"
ZONE
keygen lists.forwarder.test list rsa
keygen our.test arcrsa rsa
keygen our.test arced ed25519

"$MW_PY" "$(dirname "$0")/../tools/dnsserver.py" --zone "$MW_WORK/arc.zone" --port 0 \
    --port-file "$MW_WORK/dns.port" --log "$MW_WORK/dns-queries.log" >>"$MW_WORK/dns.log" 2>&1 &
DNS_SERVER_PID=$!
mw_on_exit "mw_kill_wait $DNS_SERVER_PID 5"
mw_wait_until 10 test -s "$MW_WORK/dns.port" || die "dnsserver.py did not start: $(tail -n 3 "$MW_WORK/dns.log")"
DNS_PORT=$(cat "$MW_WORK/dns.port")

mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<POLICY
# an SPF fail is scored, not refused at MAIL FROM: forwarded mail fails SPF, ARC tells why
symbols: { SPF_FAIL: { action = "score" } }
dkim: {
  keys = (
    { name = "arcrsa"; domain = "our.test"; selector = "arcrsa"; file = "$MW_WORK/keys/arcrsa.key" },
    { name = "arced"; domain = "our.test"; selector = "arced"; file = "$MW_WORK/keys/arced.key" }
  )
}
arc: {
  seal = { enabled = true; key = "arcrsa"; relayed = true }
}
POLICY
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

# list_message FILE TOKEN [change]: the author's message as the list forwards it, sealed by the
# list with dkimpy; "change" edits the body after sealing.
list_message() {
    local f=$1 tok=$2
    {
        printf 'From: Author <author@author.test>\n'
        printf 'To: list@lists.forwarder.test\n'
        printf 'Subject: list post %s\n' "$tok"
        printf 'Date: %s\n' "$(date -R)"
        printf 'Message-ID: <%s@author.test>\n' "$tok"
        printf 'List-Id: <list.lists.forwarder.test>\n'
        printf 'X-MW-Test-Id: %s\n' "$tok"
        printf '\nHello list,\n\nthis is post %s.\n' "$tok"
    } >"$f.plain"
    "$MW_PY" "$ARC_TOOLS/pyarc.py" seal --key "$MW_WORK/keys/list.key" \
        --domain lists.forwarder.test --selector list --srv-id lists.forwarder.test \
        --results "spf=pass smtp.mailfrom=author@author.test; dkim=none" "$f.plain" >"$f.eml" \
        || return 1
    if [ "${3:-}" = change ]; then
        sed -i 's/this is post/this is a changed post/' "$f.eml"
    fi
}

our_ar() { grep -E $'^[0-9]+\tAuthentication-Results: *mw\\.test *;' "$1" | head -n 1; }

t_list_pass() {
    local tok; tok=$(mw_token arc-pass)
    local f=$MW_WORK/$tok ar
    list_message "$f" "$tok" || { fail "$N1" "dkim.arc_sign failed"; return; }
    mw_swaks "$f.out" --from author@author.test --to bob@remote.test --data "@$f.eml"
    deliver_ok "$tok" "$f.msg" || { fail "$N1" "$MW_WHY"; return; }
    ar=$(our_ar "$f.msg.hdr")
    if ! printf '%s' "$ar" | grep -q 'arc=pass header.oldest-pass=0 smtp.remote-ip=127.0.0.1'; then
        fail "$N1" "our Authentication-Results: '$ar'"
    elif ! printf '%s' "$ar" | grep -q 'spf=fail smtp.mailfrom=author.test'; then
        fail "$N1" "no spf=fail in our Authentication-Results: '$ar'"
    else
        pass "$N1"
    fi
}

t_list_changed() {
    local tok; tok=$(mw_token arc-changed)
    local f=$MW_WORK/$tok ar
    list_message "$f" "$tok" change || { fail "$N2" "dkim.arc_sign failed"; return; }
    mw_swaks "$f.out" --from author@author.test --to bob@remote.test --data "@$f.eml"
    deliver_ok "$tok" "$f.msg" || { fail "$N2" "$MW_WHY"; return; }
    ar=$(our_ar "$f.msg.hdr")
    if ! printf '%s' "$ar" | grep -q 'arc=fail smtp.remote-ip=127.0.0.1'; then
        fail "$N2" "our Authentication-Results: '$ar'"
    elif ! grep -q "arc: qid=.* result=fail .*reason=body-hash" "$MW_LOG"; then
        fail "$N2" "no 'arc: ... result=fail ... reason=body-hash' in the log"
    else
        pass "$N2"
    fi
}

# first_fields HDR N: the names of the first N header fields of the delivered message that are
# not smtp-sink's own or Postfix's Received
first_fields() { cut -f2 "$1" | grep -vE '^(X-|Received:)' | head -n "$2" | cut -d: -f1 | tr '\n' ' '; }

t_relayed_sealed() {
    local tok; tok=$(mw_token arc-seal)
    local f=$MW_WORK/$tok top
    mw_msg "$f.eml" "$tok"
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml" \
        --auth PLAIN --auth-user alice --auth-password alice-secret
    deliver_ok "$tok" "$f.msg" || { fail "$N3" "$MW_WHY"; return; }
    top=$(first_fields "$f.msg.hdr" 3)
    if [ "$top" != "ARC-Seal ARC-Message-Signature ARC-Authentication-Results " ]; then
        fail "$N3" "the top fields are '$top'"
    elif ! "$MW_PY" "$ARC_TOOLS/pyarc.py" verify --keys "$MW_WORK/arc.keys" --instances 1 \
            "$f.msg.dump" >"$f.verify" 2>&1; then
        fail "$N3" "$(tr '\n' '|' <"$f.verify")"
    else
        pass "$N3"
    fi
}

t_two_hops() {
    local tok; tok=$(mw_token arc-hop2)
    local f=$MW_WORK/$tok
    list_message "$f" "$tok" || { fail "$N4" "dkim.arc_sign failed"; return; }
    mw_swaks "$f.out" --from alice@example.test --to bob@remote.test --data "@$f.eml" \
        --auth PLAIN --auth-user alice --auth-password alice-secret
    deliver_ok "$tok" "$f.msg" || { fail "$N4" "$MW_WHY"; return; }
    if ! grep -E $'\tARC-Seal: i=2;' "$f.msg.hdr" | grep -q 'cv=pass'; then
        fail "$N4" "no ARC-Seal i=2 cv=pass: $(grep -E $'\tARC-Seal' "$f.msg.hdr" | cut -c1-80 | tr '\n' '|')"
    elif ! "$MW_PY" "$ARC_TOOLS/pyarc.py" verify --keys "$MW_WORK/arc.keys" --instances 2 \
            "$f.msg.dump" >"$f.verify" 2>&1; then
        fail "$N4" "$(tr '\n' '|' <"$f.verify")"
    else
        pass "$N4"
    fi
}

t_list_pass
t_list_changed
t_relayed_sealed
t_two_hops

mw_finish "$NF"
