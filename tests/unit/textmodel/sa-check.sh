#!/bin/sh
# sa-check.sh - what SpamAssassin (spamassassin -L -t, Bayes off) reports for each test message
# here with its rule file: the hits of the file's T_ rules, which test_text_model.c expects.
# Usage: sa-check.sh [NAME]
cd "$(dirname "$0")" || exit 1
for msg in ${1:-*}.eml; do
    name=${msg%.eml}
    names=$(awk '$2 ~ /^T_/ {print $2}' "$name.cf" | sort -u)
    printf '%s:' "$name"
    spamassassin -L -t --cf='use_bayes 0' --cf="$(grep -v '^util_rb_tld' "$name.cf")" < "$msg" 2>/dev/null \
        | sed -n 's/^ *-\{0,1\}[0-9.]\{1,\} \(T_[A-Z0-9_]*\) .*/\1/p' | sort -u \
        | while read -r rule; do
            printf '%s\n' "$names" | grep -qx "$rule" && printf '%s ' "$rule"
        done
    echo
done
