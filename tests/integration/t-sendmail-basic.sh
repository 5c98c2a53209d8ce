#!/bin/bash
# Sendmail + mailwarden: Authentication-Results, access rules (sender, recipient, HELO tempfail).
# Sendmail is Debian's, unpacked (never installed: it conflicts with postfix) into
# $MW_BUILDDIR/tests/integration-cache and run in a private mount+UTS namespace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-sendmail-basic

if ! sm_prepare; then
    for c in "sendmail: Authentication-Results" "sendmail: sender reject" \
             "sendmail: recipient reject" "sendmail: HELO tempfail"; do
        skip "$c" "$SM_WHY"
    done
    exit 0
fi

dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" < <(case_policy_rules)
mw_start "$MW_WORK/mailwarden.conf"
sink_start
sm_start "$MW_PORT"

case_authres
case_sender_reject
case_recipient_reject
case_helo_tempfail

mw_finish "sendmail-basic: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"
