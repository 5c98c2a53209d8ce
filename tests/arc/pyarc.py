#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""pyarc.py - ARC with Debian's python3-dkim (dkim.arc_sign, dkim.arc_verify), an implementation
independent of ours, for the integration tests.

    pyarc.py seal --key PEM --domain D --selector S --srv-id ID --results "spf=pass ..." MESSAGE
        prints MESSAGE with the Authentication-Results "ID; RESULTS" of a forwarder and the ARC
        set it seals on top (dkimpy seals with rsa-sha256 only).
    pyarc.py verify --keys FILE --instances N MESSAGE
        verifies the chain, the key records coming from FILE ("name<TAB>record" lines); prints
        "cv=... instances=... reason=..." and exits 0 only when cv is pass with N sets.

MESSAGE may be an smtp-sink dump; line ends are made CRLF."""
import argparse
import re
import sys

import dkim

ap = argparse.ArgumentParser()
sub = ap.add_subparsers(dest="cmd", required=True)
s = sub.add_parser("seal")
s.add_argument("--key", required=True)
s.add_argument("--domain", required=True)
s.add_argument("--selector", required=True)
s.add_argument("--srv-id", required=True)
s.add_argument("--results", required=True)
s.add_argument("message")
v = sub.add_parser("verify")
v.add_argument("--keys", required=True)
v.add_argument("--instances", type=int, required=True)
v.add_argument("message")
args = ap.parse_args()

with open(args.message, "rb") as f:
    data = re.sub(rb"\r?\n", b"\r\n", f.read())

if args.cmd == "seal":
    data = b"Authentication-Results: %s; %s\r\n" % (args.srv_id.encode(), args.results.encode()) + data
    with open(args.key, "rb") as f:
        key = f.read()
    sealed = dkim.arc_sign(data, args.selector.encode(), args.domain.encode(), key,
                           args.srv_id.encode())
    if len(sealed) != 3:
        sys.exit("dkim.arc_sign made %d fields, not 3" % len(sealed))
    sys.stdout.buffer.write(b"".join(sealed) + data)
    sys.exit(0)

records = {}
with open(args.keys) as f:
    for line in f:
        if "\t" in line:
            name, value = line.rstrip("\n").split("\t", 1)
            records[name.lower().rstrip(".")] = value


def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    return records.get(name.lower().rstrip("."), "").encode()


# smtp-sink's own lines before the message are not ours to judge: start at the first ARC field
# or the first field after its X-* lines (they are unsigned, so they do no harm either way)
cv, results, reason = dkim.arc_verify(data, dnsfunc=dnsfunc)
cv = cv.decode() if isinstance(cv, bytes) else str(cv)
print("cv=%s instances=%d reason=%s" % (cv, len(results), reason))
for r in results:
    print("  %r" % (r,))
sys.exit(0 if cv == "pass" and len(results) == args.instances else 1)
