#!/bin/bash
# Postfix + mailwarden + mailwarden-report: DMARC failure reports (RFC 9991) end to end.
# bad.test publishes p=none with ruf at reports.test (which consents through
# bad.test._report._dmarc.reports.test) and an SPF record that fails from 127.0.0.1; the
# messages carry a DKIM signature of bad.test (i=alice@bad.test) altered after signing, so
# DMARC fails with neither identifier aligned (fo=0); SPF and DKIM both failed for an
# identity aligned with the From domain, so Identity-Alignment is "dkim, spf" (RFC 9991), with
# DKIM-Domain, DKIM-Identity, DKIM-Selector and SPF-DNS (RFC 6591) in the report.
# The policy starts with failure_reports = false: a failing message records nothing and a
# report run sends nothing. After a SIGHUP to failure_reports = true, a failing message leads
# to one ARF report in the ruf mailbox (the Maildir of reports.test), with the local parts of
# addresses replaced by keyed tokens (the test recomputes them from the key file the daemon
# made), and a second run sends nothing more. A run whose sendmail fails first
# keeps the report (exit 75) for that next run. A reload to failure_include = "message" then
# brings a report with the whole message (body included, its addresses redacted).
. "$(dirname "$0")/lib.sh"
T=postfix-dmarc-failure
mw_init "t-$T"

N1="$T: with failure_reports = false a failing message leads to no failure report"
N2="$T: with failure_reports = true a report run mails one ARF report (multipart/report, feedback-report, Auth-Failure: dmarc, Reported-Domain, Source-IP, Original-Rcpt-To, Original-Envelope-Id, Reporting-MTA, DKIM-Domain, DKIM-Identity, DKIM-Selector, SPF-DNS, Identity-Alignment, the header as text/rfc822-headers) to the ruf mailbox"
N3="$T: the ARF report has the local parts redacted as keyed tokens (HMAC-SHA256 under the key the daemon made, mode 0600; the same address the same token in Original-Mail-From, Original-Rcpt-To, DKIM-Identity, From, To, the copied signature's i=): alice and bob appear nowhere, nor the key"
N4="$T: a second run sends nothing (the report was deleted after the hand-off)"
N5="$T: a failed hand-off (sendmail = /bin/false) keeps the failure report (exit 75) for the next run"
N6="$T: after a reload to failure_include = \"message\" the report carries the whole message as message/rfc822 (header and altered body, the body's address redacted to the same token as the header's), and no local part or key"
NF="$T: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

REPORT=$MW_BUILDDIR/filter/mailwarden-report
[ -x "$REPORT" ] || die "no mailwarden-report at $REPORT (build it first)"

cat >"$MW_WORK/dmarc.zone" <<'ZONE'
_dmarc.bad.test TXT "v=DMARC1; p=none; ruf=mailto:ruf@reports.test"
bad.test TXT "v=spf1 ip4:192.0.2.1 ~all"
bad.test._report._dmarc.reports.test TXT "v=DMARC1"
ZONE
# bad.test's DKIM key: the messages are signed (i=alice@bad.test) and then altered, so the
# aligned signature fails: DKIM-Domain, DKIM-Identity and DKIM-Selector name it
keygen_out=$("$MW_BUILDDIR/filter/mailwarden-keygen" -d bad.test -s sel -t rsa \
    -o "$MW_WORK/bad.key") || die "mailwarden-keygen failed"
printf 'sel._domainkey.bad.test TXT %s\n' \
    "$(printf '%s\n' "$keygen_out" | sed -n '/^# DNS TXT/,/^# dkim.keys/p' | grep -o '"[^"]*"' | tr '\n' ' ')" \
    >>"$MW_WORK/dmarc.zone"
"$MW_PY" "$(dirname "$0")/../tools/dnsserver.py" --zone "$MW_WORK/dmarc.zone" --port 0 \
    --port-file "$MW_WORK/dns.port" --log "$MW_WORK/dns-queries.log" >>"$MW_WORK/dns.log" 2>&1 &
DNS_SERVER_PID=$!
mw_on_exit "mw_kill_wait $DNS_SERVER_PID 5"
mw_wait_until 10 test -s "$MW_WORK/dns.port" || die "dnsserver.py did not start: $(tail -n 3 "$MW_WORK/dns.log")"
DNS_PORT=$(cat "$MW_WORK/dns.port")

VMAIL=$MW_WORK/pf/vmail
mkdir -p "$VMAIL"
chown postfix:postfix "$VMAIL"
PF_EXTRA_MAIN="virtual_mailbox_domains = reports.test
virtual_mailbox_base = $VMAIL
virtual_mailbox_maps = static:ruf/
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)"
SENDMAIL_CMD="/usr/sbin/sendmail -C $MW_WORK/pf/etc -t -oi"
REDACT_KEY=$MW_WORK/redact.key     # made by the daemon at the reload that turns reports on

policy() { # FAILURE_REPORTS [FAILURE_INCLUDE]
    mw_policy "$MW_WORK/mailwarden.conf" <<POLICY
store: {
  reports: { backend = "lmdb"; path = "$MW_WORK/store"; fail_mode = "tempfail"; }
}
dmarc_reports: {
  store = "reports"
  submitter = "mta.test"
  email = "postmaster@mta.test"
  from = "dmarc-noreply@mta.test"
  sendmail = "$SENDMAIL_CMD"
  failure_reports = $1
  failure_rate = 5
  failure_redact_key = "$REDACT_KEY"
  failure_include = "${2:-headers}"
  failure_message_max = "16k"
}
POLICY
}

mw_port MW_PORT
policy false
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

send() { # FROM-DOMAIN
    local tok f
    tok=$(mw_token "$1")
    f=$MW_WORK/$tok
    printf 'From: Alice <alice@%s>\nTo: Bob <bob@remote.test>\nSubject: dmarc failure test %s\nMessage-ID: <%s@%s>\nX-MW-Test-Id: %s\n\nHello Bob.\nWrite to bob@remote.test.\n' \
        "$1" "$tok" "$tok" "$1" "$tok" >"$f.plain"
    "$MW_PY" - "$f.plain" "$MW_WORK/bad.key" >"$f.eml" <<'PYEOF' || die "python3-dkim could not sign"
import re, sys, dkim
msg = re.sub(rb"\r?\n", b"\r\n", open(sys.argv[1], "rb").read())
sig = dkim.sign(msg, b"sel", b"bad.test", open(sys.argv[2], "rb").read(),
                identity=b"alice@bad.test")
# altered after signing: the body hash no longer matches
sys.stdout.buffer.write(sig + msg.replace(b"Hello Bob.", b"Hello Bob!"))
PYEOF
    mw_swaks "$f.out" --from "alice@$1" --to bob@remote.test --data "@$f.eml" \
        || die "sending from $1 failed: $(swaks_errors "$f.out" | head -n 1)"
}
maildir_count() { find "$VMAIL/ruf/new" -type f 2>/dev/null | wc -l; }
# the report run reads the policy the daemon has now (the "on" one after the reload); for
# the "off" case it is run with failure_reports = true as well: nothing was recorded to send
ON_CONF=$MW_WORK/on.conf
run_report() { "$REPORT" -c "$ON_CONF" --verbose >"$1" 2>&1; }

# --- off: nothing recorded, nothing sent
send bad.test
pf_wait_queue_empty 60 || die "Postfix did not deliver the test message"
cp "$MW_WORK/mailwarden.conf" "$MW_WORK/off.conf"
policy true
cp "$MW_WORK/mailwarden.conf" "$ON_CONF"
run_report "$MW_WORK/report0.out"
RC0=$?
pf_wait_queue_empty 60
if [ "$RC0" != 0 ]; then
    fail "$N1" "mailwarden-report exit $RC0: $(tr '\n' '|' <"$MW_WORK/report0.out")"
elif ! grep -q '0 failure report(s)' "$MW_WORK/report0.out" || [ "$(maildir_count)" != 0 ]; then
    fail "$N1" "$(maildir_count) report(s) in the ruf Maildir: $(tr '\n' '|' <"$MW_WORK/report0.out")"
else
    pass "$N1"
fi

# --- on (SIGHUP with the new policy)
mw_hup
gen2() { mw_ctl status >"$MW_WORK/status.out" 2>&1; grep -q "^policy: generation 2, " "$MW_WORK/status.out"; }
mw_wait_until 20 gen2 || die "the reload to failure_reports = true did not happen: $(tr '\n' '|' <"$MW_WORK/status.out")"
send bad.test
pf_wait_queue_empty 60 || die "Postfix did not deliver the test message"
# a run whose submission command fails first: the report stays for the next run
sed "s|sendmail = \"$SENDMAIL_CMD\"|sendmail = \"/bin/false\"|" "$ON_CONF" >"$MW_WORK/broken.conf"
"$REPORT" -c "$MW_WORK/broken.conf" --verbose >"$MW_WORK/report-broken.out" 2>&1
RCB=$?
if [ "$RCB" != 75 ]; then
    fail "$N5" "the failing run exited $RCB (want 75): $(tr '\n' '|' <"$MW_WORK/report-broken.out")"
elif ! grep -q 'failure report for ruf@reports\.test not handed off.*tried again on the next run' "$MW_WORK/report-broken.out"; then
    fail "$N5" "no 'tried again' error: $(tr '\n' '|' <"$MW_WORK/report-broken.out")"
else
    pass "$N5"       # the next run's delivery (N2) shows the report was kept
fi
run_report "$MW_WORK/report1.out"
RC1=$?
mw_wait_until 60 test "$(maildir_count)" -ge 1
pf_wait_queue_empty 60
REPORT_FILE=$(find "$VMAIL/ruf/new" -type f 2>/dev/null | head -n 1)

# the ARF parts, checked with Python's email parser: prints "OK" or what is wrong
"$MW_PY" - "${REPORT_FILE:-/nonexistent}" "$REDACT_KEY" >"$MW_WORK/arf.txt" 2>&1 <<'PY'
import base64, email, email.policy, hashlib, hmac, sys
def token(address):
    """RFC 6590 redaction as mailwarden does it: HMAC-SHA256 under the installation's key"""
    try:
        key = open(sys.argv[2], 'rb').read()
    except OSError:
        return 'no-key'
    mac = hmac.new(key, address.lower().encode(), hashlib.sha256).digest()
    return 'redacted-' + base64.b32encode(mac[:10]).decode().lower()
ALICE, BOB = token('alice@bad.test'), token('bob@remote.test')
try:
    with open(sys.argv[1], 'rb') as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
except OSError as e:
    print('no report: %s' % e); sys.exit(0)
bad = []
if msg.get_content_type() != 'multipart/report' or msg.get_param('report-type') != 'feedback-report':
    bad.append('type %s' % msg.get_content_type())
if not str(msg['Subject']).startswith('DMARC Failure Report for bad.test'):
    bad.append('subject %s' % msg['Subject'])
parts = [p for p in msg.iter_parts()]
types = [p.get_content_type() for p in parts]
if types != ['text/plain', 'message/feedback-report', 'text/rfc822-headers']:
    bad.append('parts %s' % types)
else:
    # the part as sent (Python would fold its fields again when re-serialising it)
    raw = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
    fb = raw.split('Content-Type: message/feedback-report', 1)[1].split('\n--', 1)[0]
    for want in ('Feedback-Type: auth-failure', 'Auth-Failure: dmarc', 'Version: 1',
                 'Reported-Domain: bad.test', 'Source-IP: 127.0.0.1',
                 'Original-Mail-From: <%s@bad.test>' % ALICE, 'Identity-Alignment: dkim, spf',
                 'Authentication-Results: mw.test; dmarc=fail header.from=bad.test',
                 'Original-Rcpt-To: <%s@remote.test>' % BOB,
                 'DKIM-Domain: bad.test\nDKIM-Identity: %s@bad.test\nDKIM-Selector: sel\n' % ALICE,
                 'Reporting-MTA: dns; mta.test',
                 'SPF-DNS: txt : bad.test : v=spf1 ip4:192.0.2.1 ~all'):
        if want not in fb:
            bad.append('feedback-report lacks %r (it is: %s)' % (want, fb.replace('\n', '|')))
    # the queue id Postfix gave the message (a token of capital hex digits)
    import re
    if not re.search(r'\nOriginal-Envelope-Id: [0-9A-Za-z]+\n', fb):
        bad.append('feedback-report lacks Original-Envelope-Id (it is: %s)' % fb.replace('\n', '|'))
    hdr = parts[2].get_content()
    # the same address gives the same token everywhere in the report
    for want in ('From: Alice <%s@bad.test>' % ALICE, 'To: Bob <%s@remote.test>' % BOB,
                 'i=%s@bad.test;' % ALICE,
                 'Subject: dmarc failure test'):
        if want not in hdr:
            bad.append('header copy lacks %r' % want)
print('; '.join(bad) if bad else 'OK')
PY

if [ "$RC1" != 0 ]; then
    fail "$N2" "mailwarden-report exit $RC1: $(tr '\n' '|' <"$MW_WORK/report1.out")"
elif [ "$(maildir_count)" != 1 ]; then
    fail "$N2" "$(maildir_count) report(s) in the ruf Maildir (want 1): $(tr '\n' '|' <"$MW_WORK/report1.out")"
elif [ "$(cat "$MW_WORK/arf.txt")" != OK ]; then
    fail "$N2" "$(cat "$MW_WORK/arf.txt")"
else
    pass "$N2"
fi

if [ -z "$REPORT_FILE" ]; then
    fail "$N3" "no report"
elif grep -qiE 'alice@|bob@' "$REPORT_FILE"; then
    fail "$N3" "a local part survived: $(grep -iE 'alice@|bob@' "$REPORT_FILE" | head -n 2 | tr '\n' '|')"
elif ! grep -qE 'redacted-[a-z2-7]{16}@' "$REPORT_FILE"; then
    fail "$N3" "no keyed token in the report"
elif [ "$(stat -c %a "$REDACT_KEY" 2>/dev/null)" != 600 ] || [ "$(stat -c %s "$REDACT_KEY" 2>/dev/null)" != 32 ]; then
    fail "$N3" "the redaction key $REDACT_KEY is not a new 32-byte file of mode 600: $(ls -l "$REDACT_KEY" 2>&1)"
elif KEYHEX=$(od -An -tx1 "$REDACT_KEY" | tr -d ' \n') && grep -qi "$KEYHEX" "$REPORT_FILE" "$MW_LOG"; then
    fail "$N3" "the key's bytes are in the report or the log"
else
    pass "$N3"
fi

run_report "$MW_WORK/report2.out"
RC2=$?
pf_wait_queue_empty 60
if [ "$RC2" != 0 ]; then
    fail "$N4" "second run exit $RC2: $(tr '\n' '|' <"$MW_WORK/report2.out")"
elif ! grep -q '0 failure report(s)' "$MW_WORK/report2.out" || [ "$(maildir_count)" != 1 ]; then
    fail "$N4" "$(maildir_count) report(s) after the second run: $(tr '\n' '|' <"$MW_WORK/report2.out")"
else
    pass "$N4"
fi

# --- failure_include = "message" (SIGHUP): the whole message, redacted, in the report
policy true message
cp "$MW_WORK/mailwarden.conf" "$ON_CONF"
mw_hup
gen3() { mw_ctl status >"$MW_WORK/status.out" 2>&1; grep -q "^policy: generation 3, " "$MW_WORK/status.out"; }
mw_wait_until 20 gen3 || die "the reload to failure_include = message did not happen: $(tr '\n' '|' <"$MW_WORK/status.out")"
send bad.test
pf_wait_queue_empty 60 || die "Postfix did not deliver the test message"
run_report "$MW_WORK/report3.out"
RC3=$?
mw_wait_until 60 test "$(maildir_count)" -ge 2
pf_wait_queue_empty 60
REPORT3=$(find "$VMAIL/ruf/new" -type f ! -path "$REPORT_FILE" 2>/dev/null | head -n 1)
"$MW_PY" - "${REPORT3:-/nonexistent}" "$REDACT_KEY" >"$MW_WORK/arf3.txt" 2>&1 <<'PY'
import base64, email, email.policy, hashlib, hmac, sys
key = open(sys.argv[2], 'rb').read()
def token(address):
    mac = hmac.new(key, address.lower().encode(), hashlib.sha256).digest()
    return 'redacted-' + base64.b32encode(mac[:10]).decode().lower()
try:
    raw = open(sys.argv[1], 'rb').read()
except OSError as e:
    print('no report: %s' % e); sys.exit(0)
msg = email.message_from_bytes(raw, policy=email.policy.default)
parts = [p for p in msg.iter_parts()]
types = [p.get_content_type() for p in parts]
bad = []
if types != ['text/plain', 'message/feedback-report', 'message/rfc822']:
    bad.append('parts %s' % types)
else:
    text = raw.decode('utf-8', 'replace').split('Content-Type: message/rfc822', 1)[1]
    for want in ('From: Alice <%s@bad.test>' % token('alice@bad.test'),
                 'Subject: dmarc failure test', '\n\nHello Bob!\n',
                 'Write to %s@remote.test.' % token('bob@remote.test')):
        if want not in text:
            bad.append('the message copy lacks %r (it is: %s)' % (want, text[:600].replace('\n', '|')))
    low = raw.decode('utf-8', 'replace').lower()
    if 'alice@' in low or 'bob@' in low:
        bad.append('a local part survived')
    if key.hex() in low:
        bad.append('the key is in the report')
print('; '.join(bad) if bad else 'OK')
PY
if [ "$RC3" != 0 ]; then
    fail "$N6" "mailwarden-report exit $RC3: $(tr '\n' '|' <"$MW_WORK/report3.out")"
elif [ "$(maildir_count)" != 2 ]; then
    fail "$N6" "$(maildir_count) report(s) in the ruf Maildir (want 2): $(tr '\n' '|' <"$MW_WORK/report3.out")"
elif [ "$(cat "$MW_WORK/arf3.txt")" != OK ]; then
    fail "$N6" "$(cat "$MW_WORK/arf3.txt")"
else
    pass "$N6"
fi

mw_finish "$NF"
