#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""pyverify.py - verifies every DKIM-Signature of a message with Debian's python3-dkim (an
implementation independent of libopendkim), the key records coming from a file instead of DNS.

    pyverify.py --keys FILE --expect N MESSAGE

FILE has one record per line: "selector._domainkey.domain<TAB>v=DKIM1; k=...; p=...".
MESSAGE may be an smtp-sink dump (its own X-* lines and Received: are not signed, so they do no
harm); line ends are made CRLF. Prints "sig I d=... s=... a=...: pass|fail (reason)" per
signature; exits 0 only when there are exactly N signatures and every one passes."""
import argparse
import re
import sys

import dkim

ap = argparse.ArgumentParser()
ap.add_argument("--keys", required=True)
ap.add_argument("--expect", type=int, required=True)
ap.add_argument("message")
args = ap.parse_args()

records = {}
with open(args.keys) as f:
    for line in f:
        if "\t" in line:
            name, value = line.rstrip("\n").split("\t", 1)
            records[name.lower().rstrip(".")] = value


def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    return records.get(name.lower().rstrip("."), "").encode()


with open(args.message, "rb") as f:
    data = f.read()
data = re.sub(rb"\r?\n", b"\r\n", data)
d = dkim.DKIM(data)
sigs = [h for h in d.headers if h[0].lower() == b"dkim-signature"]
good = 0
for i, (_, value) in enumerate(sigs):
    tags = dict(re.findall(rb"\b(a|d|s)=([^;\s]+)", value))
    label = "sig %d d=%s s=%s a=%s" % (i, tags.get(b"d", b"?").decode(), tags.get(b"s", b"?").decode(),
                                      tags.get(b"a", b"?").decode())
    try:
        ok = d.verify(idx=i, dnsfunc=dnsfunc)
        why = "" if ok else "signature did not verify"
    except dkim.DKIMException as e:
        ok, why = False, str(e)
    print("%s: %s%s" % (label, "pass" if ok else "fail", " (%s)" % why if why else ""))
    good += bool(ok)
print("%d signature(s), %d pass, %d expected" % (len(sigs), good, args.expect))
sys.exit(0 if len(sigs) == args.expect and good == len(sigs) else 1)
