#!/bin/bash
# Postfix + mailwarden + mailwarden-report: DMARC aggregate reports (RFC 9990) end to end.
# The sender domains' records are served by tests/tools/dnsserver.py on loopback; the rows go
# to the on-disk LMDB store (DMARC_STORE=redis: a real redis-server started here, as
# t-postfix-dmarc-report-redis.sh does), which another process can read; the report is handed to this
# Postfix by `sendmail -t`, which delivers it to a local Maildir (virtual mailbox of
# reports.test). Postfix connects to mailwarden from 127.0.0.1:
#   pass.test    p=reject, SPF pass and aligned          3 messages: disposition pass
#   fail.test    p=none, SPF softfail                     2 messages: disposition none
#   unauth.test  p=none, rua at reports.test, which has no _report._dmarc record for it:
#                never reported
# reports.test publishes pass.test._report._dmarc and fail.test._report._dmarc (external
# destinations need their consent).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
DMARC_STORE=${DMARC_STORE:-lmdb}
T=postfix-dmarc-report
[ "$DMARC_STORE" = lmdb ] || T=postfix-dmarc-report-$DMARC_STORE
mw_init "t-$T"

N1="$T: a report run mails one report per authorised policy domain through Postfix to the rua mailbox, with RFC 9990's Subject and application/gzip file name"
N2="$T: each attached report is valid against RFC 9990's XSD and counts the messages sent (3 pass, 2 fail with their identifiers and results)"
N3="$T: a destination outside the policy domain without a _report._dmarc record gets no report"
N4="$T: a second run sends nothing (the rows were cleared after the hand-off)"
N5="$T: a failed hand-off keeps the rows and the next run sends them"
N6="$T: with dmarc_reports.smtp the report goes to Postfix's smtpd over SMTP and is delivered; the rows are then cleared"
NF="$T: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

[ "$DMARC_STORE" = redis ] && ! command -v redis-server >/dev/null && { skip "$N1" "redis-server not installed"; exit 0; }
command -v xmllint >/dev/null || { skip "$N1" "xmllint not installed (libxml2-utils)"; exit 0; }
XSD=$(cd "$(dirname "$0")/../dmarc" && pwd)/dmarc-xml-0.2.xsd
REPORT=$MW_BUILDDIR/filter/mailwarden-report
[ -x "$REPORT" ] || die "no mailwarden-report at $REPORT (build it first)"

if [ "$DMARC_STORE" = redis ]; then
    mw_port REDIS_PORT
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$MW_WORK" --loglevel warning >>"$MW_WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    mw_on_exit "mw_kill_wait $REDIS_PID 5"
    mw_wait_listen "$REDIS_PORT" 10 || die "redis-server did not start (see redis.log)"
    STORE_DEF="backend = \"redis\"; host = \"127.0.0.1\"; port = $REDIS_PORT; fail_mode = \"tempfail\";"
else
    STORE_DEF="backend = \"lmdb\"; path = \"$MW_WORK/store\"; fail_mode = \"tempfail\";"
fi

cat >"$MW_WORK/dmarc.zone" <<'ZONE'
_dmarc.pass.test TXT "v=DMARC1; p=reject; rua=mailto:dmarc@reports.test"
pass.test TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc.fail.test TXT "v=DMARC1; p=none; rua=mailto:dmarc@reports.test!10m"
fail.test TXT "v=spf1 ip4:192.0.2.1 ~all"
_dmarc.unauth.test TXT "v=DMARC1; p=none; rua=mailto:dmarc@reports.test"
unauth.test TXT "v=spf1 ip4:127.0.0.0/8 -all"
pass.test._report._dmarc.reports.test TXT "v=DMARC1"
fail.test._report._dmarc.reports.test TXT "v=DMARC1;"
ZONE
"$MW_PY" "$(dirname "$0")/../tools/dnsserver.py" --zone "$MW_WORK/dmarc.zone" --port 0 \
    --port-file "$MW_WORK/dns.port" --log "$MW_WORK/dns-queries.log" >>"$MW_WORK/dns.log" 2>&1 &
DNS_SERVER_PID=$!
mw_on_exit "mw_kill_wait $DNS_SERVER_PID 5"
mw_wait_until 10 test -s "$MW_WORK/dns.port" || die "dnsserver.py did not start: $(tail -n 3 "$MW_WORK/dns.log")"
DNS_PORT=$(cat "$MW_WORK/dns.port")

# the Maildir Postfix delivers reports.test to
VMAIL=$MW_WORK/pf/vmail
mkdir -p "$VMAIL"
chown postfix:postfix "$VMAIL"
PF_EXTRA_MAIN="virtual_mailbox_domains = reports.test
virtual_mailbox_base = $VMAIL
virtual_mailbox_maps = static:dmarc/
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)"
SENDMAIL_CMD="/usr/sbin/sendmail -C $MW_WORK/pf/etc -t -oi"

mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<POLICY
store: {
  reports: { $STORE_DEF }
}
dmarc_reports: {
  store = "reports"
  submitter = "mta.test"
  org_name = "mailwarden test MTA"
  email = "postmaster@mta.test"
  from = "dmarc-noreply@mta.test"
  sendmail = "$SENDMAIL_CMD"
}
POLICY
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

send() { # FROM-DOMAIN N
    local i tok f
    for i in $(seq 1 "$2"); do
        tok=$(mw_token "$1")
        f=$MW_WORK/$tok
        printf 'From: Alice <alice@%s>\nTo: Bob <bob@remote.test>\nSubject: dmarc report test %s\nMessage-ID: <%s@%s>\nX-MW-Test-Id: %s\n\nHello Bob.\n' \
            "$1" "$tok" "$tok" "$1" "$tok" >"$f.eml"
        mw_swaks "$f.out" --from "alice@$1" --to bob@remote.test --data "@$f.eml" \
            || die "sending from $1 failed: $(swaks_errors "$f.out" | head -n 1)"
    done
}

maildir_count() { find "$VMAIL/dmarc/new" -type f 2>/dev/null | wc -l; }

send pass.test 3
send fail.test 2
send unauth.test 1
pf_wait_queue_empty 60 || die "Postfix did not deliver the test messages"

# the period of these messages is over two days later: --as-of says when "now" is
AS_OF=$(( $(date +%s) + 2 * 86400 ))
run_report() { # OUT
    "$REPORT" -c "$MW_WORK/mailwarden.conf" --as-of "$AS_OF" --verbose >"$1" 2>&1
}

run_report "$MW_WORK/report1.out"
RC1=$?
mw_wait_until 60 test "$(maildir_count)" -ge 2
pf_wait_queue_empty 60

# unpack: one line per report "SUBJECT<TAB>FILENAME<TAB>XMLFILE"
"$MW_PY" - "$VMAIL/dmarc/new" "$MW_WORK/unpacked" >"$MW_WORK/unpacked.txt" 2>"$MW_WORK/unpack.err" <<'PY'
import email, email.policy, gzip, os, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
for name in sorted(os.listdir(src)):
    with open(os.path.join(src, name), 'rb') as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    subject = ' '.join(str(msg['Subject']).split())
    for part in msg.walk():
        if part.get_content_type() == 'application/gzip':
            fn = part.get_filename()
            xml = gzip.decompress(part.get_payload(decode=True))
            path = os.path.join(out, name + '.xml')
            with open(path, 'wb') as x:
                x.write(xml)
            print('%s\t%s\t%s' % (subject, fn, path))
PY

report_for() { grep -P "^Report Domain: $1 " "$MW_WORK/unpacked.txt"; }

t_sent() {
    local line
    line=$(report_for 'pass\.test')
    if [ "$RC1" != 0 ]; then
        fail "$N1" "mailwarden-report exit $RC1: $(tr '\n' '|' <"$MW_WORK/report1.out")"
    elif [ "$(maildir_count)" != 2 ]; then
        fail "$N1" "$(maildir_count) messages in the rua Maildir, expected 2 (pass.test, fail.test)"
    elif ! printf '%s\n' "$line" | grep -qP '^Report Domain: pass\.test Submitter: mta\.test Report-ID: <pass\.test\.\d+\.\d+@mta\.test>\tmta\.test!pass\.test!\d+!\d+\.xml\.gz\t'; then
        fail "$N1" "subject/file name: '$line'"
    elif ! report_for 'fail\.test' >/dev/null; then
        fail "$N1" "no report for fail.test: $(cat "$MW_WORK/unpacked.txt")"
    else
        pass "$N1"
    fi
}

# xpath FILE EXPR: the string value of an XPath expression on a report
xpath() { xmllint --xpath "$2" "$1" 2>/dev/null; }
DNS_NS="declare namespace d='urn:ietf:params:xml:ns:dmarc-2.0';"

t_valid() {
    local pass_xml fail_xml bad=""
    pass_xml=$(report_for 'pass\.test' | cut -f3)
    fail_xml=$(report_for 'fail\.test' | cut -f3)
    for x in $pass_xml $fail_xml; do
        xmllint --noout --schema "$XSD" "$x" >>"$MW_WORK/xmllint.log" 2>&1 || bad="$bad $x"
    done
    local n_pass n_fail disp_pass disp_fail spf_fail ef
    n_pass=$(xpath "$pass_xml" "sum(//*[local-name()='record']/*[local-name()='row']/*[local-name()='count'])")
    n_fail=$(xpath "$fail_xml" "sum(//*[local-name()='record']/*[local-name()='row']/*[local-name()='count'])")
    disp_pass=$(xpath "$pass_xml" "string(//*[local-name()='disposition'])")
    disp_fail=$(xpath "$fail_xml" "string(//*[local-name()='disposition'])")
    spf_fail=$(xpath "$fail_xml" "string(//*[local-name()='auth_results']/*[local-name()='spf']/*[local-name()='result'])")
    ef=$(xpath "$pass_xml" "string(//*[local-name()='identifiers']/*[local-name()='envelope_from'])")
    if [ -z "$pass_xml" ] || [ -z "$fail_xml" ]; then
        fail "$N2" "a report is missing: $(cat "$MW_WORK/unpacked.txt" "$MW_WORK/unpack.err")"
    elif [ -n "$bad" ]; then
        fail "$N2" "not valid against the XSD:$bad: $(tail -n 3 "$MW_WORK/xmllint.log" | tr '\n' '|')"
    elif [ "$n_pass" != 3 ] || [ "$n_fail" != 2 ]; then
        fail "$N2" "counts pass.test=$n_pass (want 3) fail.test=$n_fail (want 2)"
    elif [ "$disp_pass" != pass ] || [ "$disp_fail" != none ] || [ "$spf_fail" != softfail ] || [ "$ef" != pass.test ]; then
        fail "$N2" "disposition pass.test=$disp_pass fail.test=$disp_fail, spf fail.test=$spf_fail, envelope_from=$ef"
    else
        pass "$N2"
    fi
}

t_unauth() {
    if report_for 'unauth\.test' >/dev/null; then
        fail "$N3" "unauth.test was reported to reports.test"
    elif ! grep -q 'unauth\.test: not sent to dmarc@reports\.test: reports\.test does not authorise' "$MW_WORK/report1.out"; then
        fail "$N3" "no refusal line: $(tr '\n' '|' <"$MW_WORK/report1.out")"
    else
        pass "$N3"
    fi
}

t_second_run() {
    local before; before=$(maildir_count)
    run_report "$MW_WORK/report2.out"
    local rc=$?
    pf_wait_queue_empty 60
    if [ "$rc" != 0 ]; then
        fail "$N4" "second run exit $rc: $(tr '\n' '|' <"$MW_WORK/report2.out")"
    elif ! grep -q '0 report(s) of finished periods' "$MW_WORK/report2.out"; then
        fail "$N4" "the second run found reports: $(tr '\n' '|' <"$MW_WORK/report2.out")"
    elif [ "$(maildir_count)" != "$before" ]; then
        fail "$N4" "the Maildir went from $before to $(maildir_count) messages"
    else
        pass "$N4"
    fi
}

# a submission command that fails: the rows stay, exit 75; the next (good) run sends them
t_retry() {
    send pass.test 1
    pf_wait_queue_empty 60
    local broken=$MW_WORK/broken.conf before
    sed "s|sendmail = \"$SENDMAIL_CMD\"|sendmail = \"/bin/false\"|" "$MW_WORK/mailwarden.conf" >"$broken"
    before=$(maildir_count)
    "$REPORT" -c "$broken" --as-of "$AS_OF" --verbose >"$MW_WORK/report3.out" 2>&1
    local rc3=$?
    run_report "$MW_WORK/report4.out"
    local rc4=$?
    mw_wait_until 60 test "$(maildir_count)" -gt "$before"
    pf_wait_queue_empty 60
    if [ "$rc3" != 75 ]; then
        fail "$N5" "the failing run exited $rc3 (want 75): $(tr '\n' '|' <"$MW_WORK/report3.out")"
    elif ! grep -q 'not handed off.*tried again on the next run' "$MW_WORK/report3.out"; then
        fail "$N5" "no 'tried again' error: $(tr '\n' '|' <"$MW_WORK/report3.out")"
    elif [ "$rc4" != 0 ] || [ "$(maildir_count)" != $((before + 1)) ]; then
        fail "$N5" "the next run exited $rc4 and the Maildir has $(maildir_count) (want $((before + 1)))"
    else
        pass "$N5"
    fi
}

# dmarc_reports.smtp instead of sendmail: Postfix's own smtpd on loopback
t_smtp() {
    send fail.test 1
    pf_wait_queue_empty 60
    local conf=$MW_WORK/smtp.conf before
    sed "s|sendmail = \"$SENDMAIL_CMD\"|smtp = \"127.0.0.1:$PF_PORT\"|" "$MW_WORK/mailwarden.conf" >"$conf"
    before=$(maildir_count)
    "$REPORT" -c "$conf" --as-of "$AS_OF" --verbose >"$MW_WORK/report5.out" 2>&1
    local rc=$?
    mw_wait_until 60 test "$(maildir_count)" -gt "$before"
    pf_wait_queue_empty 60
    run_report "$MW_WORK/report6.out"
    if [ "$rc" != 0 ]; then
        fail "$N6" "exit $rc: $(tr '\n' '|' <"$MW_WORK/report5.out")"
    elif [ "$(maildir_count)" != $((before + 1)) ]; then
        fail "$N6" "the Maildir has $(maildir_count) messages (want $((before + 1)))"
    elif ! grep -q 'fail\.test: report .* sent to dmarc@reports\.test' "$MW_WORK/report5.out"; then
        fail "$N6" "no 'sent' line: $(tr '\n' '|' <"$MW_WORK/report5.out")"
    elif ! grep -q '0 report(s) of finished periods' "$MW_WORK/report6.out"; then
        fail "$N6" "rows left after the SMTP hand-off: $(tr '\n' '|' <"$MW_WORK/report6.out")"
    else
        pass "$N6"
    fi
}

t_sent
t_valid
t_unauth
t_second_run
t_retry
t_smtp

mw_finish "$NF"
