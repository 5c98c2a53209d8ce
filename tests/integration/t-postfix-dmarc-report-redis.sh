#!/bin/bash
# t-postfix-dmarc-report.sh with the rows in a real redis-server (the store of a fleet of MTAs)
# instead of the on-disk LMDB store.
DMARC_STORE=redis exec bash "$(dirname "$0")/t-postfix-dmarc-report.sh" "$@"
