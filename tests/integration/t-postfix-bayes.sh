#!/bin/bash
# Postfix + mailwarden with Bayes on a database on disk (store backend "lmdb"):
#  1. mailwarden-learn trains it with 200 crafted spam and 200 crafted ham (tests/bayes/
#     bayes-corpus); a crafted spam it never saw, sent through Postfix, is classified BAYES_99
#     (in the summary line) and a crafted ham BAYES_00;
#  2. autolearn: a new spam that scores 12.5 points without Bayes (inline rules: 9.5 body and
#     3 header points, SpamAssassin's minimum of 3 each) is learnt as spam by the daemon
#     (mailwarden-learn --stats counts 201 spam);
#  3. the daemon restarted, the database is still there: a spam is again BAYES_99.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cases.sh"
mw_init t-postfix-bayes

N1="postfix-bayes: trained with mailwarden-learn (200+200), an unseen spam gets BAYES_99 and an unseen ham BAYES_00"
N2="postfix-bayes: a spam scoring 12.5 points without Bayes (3 from a header rule) is autolearnt as spam (201 spam in the database)"
N3="postfix-bayes: after a restart the database on disk still classifies a spam BAYES_99"
NF="postfix-bayes: mailwarden stays up, exits 0 on SIGTERM, no sanitizer reports"

STORE=$MW_WORK/store
CORPUS=$MW_WORK/corpus
LEARN=$MW_BUILDDIR/filter/mailwarden-learn
GEN=$MW_BUILDDIR/tests/bayes/bayes-corpus
[ -x "$GEN" ] || die "$GEN is not built (make check builds it)"
dns_start
mw_port MW_PORT
mw_policy "$MW_WORK/mailwarden.conf" <<EOF
store: { disk: { backend = "lmdb"; path = "$STORE"; max_size = "64M" } }
bayes: { enabled = true; store = "disk"; autolearn_threshold_spam = 12.0 }
rules: { files = [ ]; inline = [ "body MW_TEST_AUTOLEARN /autolearn-marker-[0-9]+/", "score MW_TEST_AUTOLEARN 9.5",
    "header MW_TEST_AUTOLEARN_HDR X-MW-Test-Id =~ /^bauto-/", "score MW_TEST_AUTOLEARN_HDR 3.0" ] }
actions: { reject = 1000.0 }
EOF

mkdir -p "$CORPUS/spam" "$CORPUS/ham" "$CORPUS/test" || die "cannot make $CORPUS"
{ "$GEN" spam 0 200 "$CORPUS/spam" && "$GEN" ham 0 200 "$CORPUS/ham" &&
    "$GEN" spam 1000 3 "$CORPUS/test" && "$GEN" ham 1000 1 "$CORPUS/test"; } || die "bayes-corpus failed"
"$LEARN" -c "$MW_WORK/mailwarden.conf" --spam "$CORPUS/spam" >"$MW_WORK/learn-spam.out" 2>&1 ||
    die "mailwarden-learn --spam: $(cat "$MW_WORK/learn-spam.out")"
"$LEARN" -c "$MW_WORK/mailwarden.conf" --ham "$CORPUS/ham" >"$MW_WORK/learn-ham.out" 2>&1 ||
    die "mailwarden-learn --ham: $(cat "$MW_WORK/learn-ham.out")"

mw_start "$MW_WORK/mailwarden.conf"
sink_start
pf_start "$MW_PORT"

# send NAME FILE [EXTRA-BODY-LINE]: the crafted message with a fresh Date and the test's token
# header; leaves the Postfix queue id in $QID. Returns swaks' status.
send() {
    local tok=$1 src=$2 f=$MW_WORK/$1
    {
        printf 'X-MW-Test-Id: %s\r\n' "$tok"
        sed -e "s/^Date: .*/Date: $(date -R)\r/" "$src"
        [ -z "${3:-}" ] || printf '%s\r\n' "$3"
    } >"$f.eml"
    mw_swaks "$f.out" --from sender@promo.test --to bob@remote.test --data "@$f.eml"
    local rc=$?
    QID=$(swaks_queued_id "$f.out")
    return $rc
}

# summary_has QID REGEX: mailwarden's summary line of that message lists a symbol matching.
summary_has() { grep -E "qid=$1 .*symbols=.*$2" "$MW_LOG" >/dev/null; }
summary_line() { grep -m1 "qid=$1 " "$MW_LOG"; }

spam_count() {
    "$LEARN" -c "$MW_WORK/mailwarden.conf" --stats 2>/dev/null | sed -nE 's/^database global: ([0-9]+) spam.*/\1/p'
}

t_classify() {
    local why_="" qspam qham
    send "$(mw_token bspam)" "$CORPUS/test/spam-1000.eml" || why_="spam: swaks exit $?"
    qspam=$QID
    [ -n "$why_" ] || send "$(mw_token bham)" "$CORPUS/test/ham-1000.eml" || why_="ham: swaks exit $?"
    qham=$QID
    [ -n "$why_" ] || mta_wait_queue_empty 60 || why_="queue not empty"
    if [ -z "$why_" ] && ! mw_wait_until 20 summary_has "$qspam" 'BAYES_99\('; then
        why_="spam $qspam: no BAYES_99 in: $(summary_line "$qspam")"
    elif [ -z "$why_" ] && ! mw_wait_until 20 summary_has "$qham" 'BAYES_00\('; then
        why_="ham $qham: no BAYES_00 in: $(summary_line "$qham")"
    fi
    if [ -z "$why_" ]; then pass "$N1"; else fail "$N1" "$why_"; fi
}

autolearnt() { [ "$(spam_count)" = 201 ]; }

t_autolearn() {
    local before why_=""
    before=$(spam_count)
    [ "$before" = 200 ] || why_="before: $before spam in the database, expected 200"
    [ -n "$why_" ] || send "$(mw_token bauto)" "$CORPUS/test/spam-1001.eml" "autolearn-marker-1" ||
        why_="swaks exit $?"
    if [ -z "$why_" ] && ! mw_wait_until 30 autolearnt; then
        why_="$(spam_count) spam in the database after the message, expected 201; summary: $(summary_line "$QID")"
    fi
    if [ -z "$why_" ]; then pass "$N2"; else fail "$N2" "$why_"; fi
}

t_restart() {
    local why_=""
    mw_stop || why_="stop: $MW_WHY"
    [ -n "$why_" ] || mw_start "$MW_WORK/mailwarden.conf" || why_="start: $MW_WHY"
    [ -n "$why_" ] || send "$(mw_token brestart)" "$CORPUS/test/spam-1002.eml" || why_="swaks exit $?"
    [ -n "$why_" ] || mta_wait_queue_empty 60 || why_="queue not empty"
    if [ -z "$why_" ] && ! mw_wait_until 20 summary_has "$QID" 'BAYES_99\('; then
        why_="no BAYES_99 after the restart: $(summary_line "$QID")"
    fi
    if [ -z "$why_" ]; then pass "$N3"; else fail "$N3" "$why_"; fi
}

t_classify
t_autolearn
t_restart
mw_finish "$NF"
