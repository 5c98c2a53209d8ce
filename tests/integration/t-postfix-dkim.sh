#!/bin/bash
# Postfix + mailwarden DKIM signing: alice (AUTH PLAIN) sends through a private Postfix;
# mailwarden signs with RSA, ed25519 or both (keys made by mailwarden-keygen); every delivered
# message verifies with python3-dkim: long and folded headers, 8-bit body, no final newline,
# first with relaxed/relaxed, then (policy reloaded by SIGHUP) with simple/simple, which needs
# the header bytes exactly as Postfix sends them (SMFIP_HDR_LEADSPC).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
. "$(dirname "$0")/../dkim/integration-cases.sh"
mw_init t-postfix-dkim

NR="postfix-dkim: the simple/simple policy is loaded by SIGHUP"
NF="postfix-dkim: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

dkim_keys
dns_start
mw_port MW_PORT
dkim_policy relaxed/relaxed | mw_policy "$MW_WORK/mailwarden.conf"
mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

dkim_cases "postfix-dkim relaxed"
dkim_verify_case "postfix-dkim: inbound signed mail gets dkim=pass, a changed body dkim=fail, in our Authentication-Results"

dkim_policy simple/simple | mw_policy "$MW_WORK/mailwarden.conf"
mw_hup
if mw_wait_until 10 dkim_reloaded; then pass "$NR"; else fail "$NR" "no reload in the log"; fi
dkim_cases "postfix-dkim simple"

mw_finish "$NF"
