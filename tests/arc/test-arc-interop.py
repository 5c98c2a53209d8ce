#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""test-arc-interop.py - ARC chains sealed alternately by mailwarden (filter/arc through
tests/arc/arc-tool) and by Debian's python3-dkim (dkim.arc_sign), each verified by both
(arc-tool verify and dkim.arc_verify). "ok - " / "not ok - " lines, one per check.

Chains: three sequences of three hops, mixed so that each side seals over the other's sets:
us(rsa) -> dkimpy -> us(rsa); dkimpy -> us(rsa) -> dkimpy; us(ed25519) -> dkimpy ->
us(ed25519). python3-dkim 1.1.4 signs ARC with rsa-sha256 only (arc_sign ignores
signature_algorithm) and its arc_verify rejects ed25519-sha256 ("unknown signature
algorithm"), so: its hops are RSA, and a chain holding an ed25519 set is verified by us only
(dkimpy still seals over our ed25519 sets, with the arc= result our verifier gives); each
such skipped dkimpy check is printed as a "#" line.
After every hop (1, 2 and 3 sets) both verifiers must say pass.
Breaking each hop j of each 3-hop chain:
  - seal: one character of ARC-Seal i=j's b= changed: both fail; ours names i=j, ARC-Seal;
  - aar: ARC-Authentication-Results i=j changed (the seal covers it): both fail; ours i=j seal;
  - header: a header field only hop j's AMS signs (X-Hop-j) changed: for j=3 both fail, ours
    at i=3 ARC-Message-Signature; for j<3 the chain still passes in both (only the newest AMS
    decides, RFC 8617 5.2) and our header.oldest-pass is j+1;
  - body: the body changed right after hop j sealed (a list footer): the next verifier fails
    at i=j ARC-Message-Signature, body-hash (for j=3, the final verification); dkimpy agrees
    that the chain fails.
Key records are served to arc-tool by its fake lookup and to dkimpy by its dnsfunc, from
the same table. Run by `make check` (MW_BUILDDIR, MW_SRCDIR)."""
import base64
import os
import subprocess
import sys
import tempfile

BUILD = os.environ.get("MW_BUILDDIR", ".")
TOOL = os.path.join(BUILD, "tests", "arc", "arc-tool")
T0 = 1700000000
FROM = b"From: Alice <alice@origin.example>\r\n"
MESSAGE = (b"Authentication-Results: mx.origin.example; spf=pass smtp.mailfrom=origin.example\r\n"
           + FROM + b"To: list@lists.example\r\nSubject: interop\r\n"
           b"Date: Thu, 03 Dec 2026 06:00:00 +0000\r\nMessage-ID: <interop@origin.example>\r\n"
           b"X-Hop-1: one\r\nX-Hop-2: two\r\nX-Hop-3: three\r\n"
           b"\r\nHello,\r\nthis is   the body.\r\n\r\n")

results = {"ok": 0, "not ok": 0}


def report(ok, text):
    key = "ok" if ok else "not ok"
    results[key] += 1
    print("%s - %s" % (key, text))


def run(args, **kw):
    return subprocess.run(args, capture_output=True, **kw)


class Keys:
    def __init__(self, work):
        self.work = work
        self.records = {}
        self.files = {}
        for kind in ("rsa", "ed25519"):
            path = os.path.join(work, kind + ".pem")
            if kind == "rsa":
                run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                     "-out", path], check=True)
            else:
                run(["openssl", "genpkey", "-algorithm", "ED25519", "-out", path], check=True)
            os.chmod(path, 0o600)
            der = run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"], check=True).stdout
            if kind == "ed25519":
                der = der[-32:]            # the raw public key after the SPKI prefix
            self.files[kind] = path
            self.records[kind] = "v=DKIM1; k=%s; p=%s" % (kind, base64.b64encode(der).decode())
        self.table = {}
        for hop in (1, 2, 3):
            for kind in ("rsa", "ed25519"):
                name = "%s%d._domainkey.hop%d.example" % (kind, hop, hop)
                self.table[name] = self.records[kind]
        self.keyfile = os.path.join(work, "keys.txt")
        with open(self.keyfile, "w") as out:
            for name, record in self.table.items():
                out.write("%s\t%s\n" % (name, record))

    def dnsfunc(self, name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        record = self.table.get(name.rstrip("."))
        return record.encode() if record else None


def our_verify(keys, msg, work):
    path = os.path.join(work, "verify.eml")
    with open(path, "wb") as out:
        out.write(msg)
    proc = run([TOOL, "verify", "--keys", keys.keyfile, path], text=True)
    fields = proc.stdout.rstrip("\n").split("\t")
    if len(fields) < 8:
        return {"status": "error", "detail": proc.stderr}
    return {"status": fields[1], "instance": int(fields[2]), "field": fields[3],
            "reason": fields[4], "oldest": int(fields[5]), "detail": fields[7]}


def py_verify(keys, msg):
    import dkim
    cv, _, reason = dkim.arc_verify(msg, dnsfunc=keys.dnsfunc)
    return (cv.decode() if cv else "none"), reason


def add_ar(msg, hop, arc):
    return (b"Authentication-Results: hop%d.example; arc=%s; spf=fail smtp.mailfrom=origin.example\r\n"
            % (hop, arc.encode())) + msg


def has_ed25519(msg):
    return b"a=ed25519-sha256" in msg


def seal(keys, msg, hop, who, kind, work):
    """Adds hop `hop`'s Authentication-Results (with the arc= result its sealer's verifier
    gives) and its ARC set; returns the new message, or None when the sealer refused."""
    domain = b"hop%d.example" % hop
    headers = [b"from", b"to", b"subject", b"date", b"message-id", b"x-hop-%d" % hop]
    if who == "us":
        arc = our_verify(keys, msg, work)["status"] if hop > 1 else "none"
        msg = add_ar(msg, hop, arc)
        path = os.path.join(work, "seal.eml")
        with open(path, "wb") as out:
            out.write(msg)
        proc = run([TOOL, "sign", "--key", keys.files[kind], "--domain", domain.decode(),
                    "--selector", "%s%d" % (kind, hop), "--srv-id", domain.decode(),
                    "--time", str(T0 + hop), "--keys", keys.keyfile, "--fold",
                    "--headers", ":".join(h.decode() for h in headers), path])
        if proc.returncode != 0:
            return None
        return proc.stdout + msg
    import dkim
    if hop == 1:
        arc = "none"
    elif has_ed25519(msg):
        arc = our_verify(keys, msg, work)["status"]
    else:
        arc = py_verify(keys, msg)[0]
    msg = add_ar(msg, hop, arc)
    with open(keys.files["rsa"], "rb") as fp:
        pem = fp.read()
    sig = dkim.arc_sign(msg, b"rsa%d" % hop, domain, pem, domain, include_headers=headers,
                        timestamp=T0 + hop)
    if not sig:
        return None
    return b"".join(sig) + msg


SEQUENCES = [
    [("us", "rsa"), ("dkimpy", "rsa"), ("us", "rsa")],
    [("dkimpy", "rsa"), ("us", "rsa"), ("dkimpy", "rsa")],
    [("us", "ed25519"), ("dkimpy", "rsa"), ("us", "ed25519")],
]


def describe(seq, upto):
    return " -> ".join("%s(%s)" % (who, kind) if who == "us" else "dkimpy(rsa)"
                       for who, kind in seq[:upto])


def build(keys, seq, work, break_body_after=0):
    """Builds the chain; returns (message, per-hop verdicts [(ours, dkimpy)]) ."""
    msg = MESSAGE
    verdicts = []
    for hop, (who, kind) in enumerate(seq, start=1):
        new = seal(keys, msg, hop, who, kind, work)
        if new is None:
            return None, verdicts
        msg = new
        if hop == break_body_after:
            msg = msg + b"--\r\nlist footer added by hop %d\r\n" % hop
        verdicts.append((our_verify(keys, msg, work), py_verify(keys, msg), msg))
    return msg, verdicts


def split_header(msg):
    head, _, body = msg.partition(b"\r\n\r\n")
    fields = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields, body


def join_header(fields, body):
    return b"\r\n".join(fields) + b"\r\n\r\n" + body


def tamper(msg, name, instance, change):
    fields, body = split_header(msg)
    for k, f in enumerate(fields):
        fname, _, value = f.partition(b":")
        if fname.strip().lower() != name.lower():
            continue
        compact = b"".join(value.split())
        if instance is not None and not (compact.startswith(b"i=%d;" % instance)
                                         or b";i=%d;" % instance in compact):
            continue
        fields[k] = change(f)
        return join_header(fields, body)
    raise SystemExit("Bail out! no %s i=%s to change" % (name, instance))


def flip_b(field):
    pos = field.rindex(b" b=") + 3 if b" b=" in field else field.rindex(b"b=") + 2
    pos += 10
    c = field[pos:pos + 1]
    return field[:pos] + (b"A" if c != b"A" else b"B") + field[pos + 1:]


def py_check(ok, text, msg):
    """A check of python3-dkim's verdict, or a "#" line when it cannot verify the chain."""
    if has_ed25519(msg):
        print("# skipped (python3-dkim cannot verify ed25519-sha256 ARC sets): %s" % text)
        return
    report(ok, text)


def main():
    try:
        import dkim  # noqa: F401
        import nacl  # noqa: F401
        import authres  # noqa: F401
    except ImportError as e:
        print("1..0 # SKIP /usr/bin/python3 lacks %s (python3-dkim, python3-nacl, python3-authres)" % e.name)
        return 77
    with tempfile.TemporaryDirectory(prefix="test-arc-interop.") as work:
        keys = Keys(work)
        for seq in SEQUENCES:
            msg, verdicts = build(keys, seq, work)
            for hop, (ours, theirs, at) in enumerate(verdicts, start=1):
                report(ours["status"] == "pass" and ours["oldest"] == 0,
                       "%s: mailwarden verifies %d set(s): %s oldest-pass=%s %s" % (
                           describe(seq, hop), hop, ours["status"], ours.get("oldest"), ours.get("detail", "")))
                py_check(theirs[0] == "pass", "%s: python3-dkim verifies %d set(s): %s %s" % (
                    describe(seq, hop), hop, theirs[0], theirs[1]), at)
            if msg is None or len(verdicts) != 3:
                report(False, "%s: the chain could not be built" % describe(seq, 3))
                continue
            name = describe(seq, 3)
            for j in (1, 2, 3):
                broken = tamper(msg, b"ARC-Seal", j, flip_b)
                ours, theirs = our_verify(keys, broken, work), py_verify(keys, broken)
                report(ours["status"] == "fail" and ours["instance"] == j and ours["field"] == "ARC-Seal",
                       "%s, seal %d changed: mailwarden fails at i=%s %s (%s)" % (
                           name, j, ours.get("instance"), ours.get("field"), ours.get("reason")))
                py_check(theirs[0] == "fail", "%s, seal %d changed: python3-dkim says %s" % (name, j, theirs[0]), broken)

                broken = tamper(msg, b"ARC-Authentication-Results", j,
                                lambda f: f.replace(b"spf=fail", b"spf=pass"))
                ours, theirs = our_verify(keys, broken, work), py_verify(keys, broken)
                report(ours["status"] == "fail" and ours["instance"] == j and ours["field"] == "ARC-Seal",
                       "%s, AAR %d changed: mailwarden fails at i=%s %s (%s)" % (
                           name, j, ours.get("instance"), ours.get("field"), ours.get("reason")))
                py_check(theirs[0] == "fail", "%s, AAR %d changed: python3-dkim says %s" % (name, j, theirs[0]), broken)

                broken = tamper(msg, b"X-Hop-%d" % j, None, lambda f: f + b" (changed)")
                ours, theirs = our_verify(keys, broken, work), py_verify(keys, broken)
                if j == 3:
                    ok = (ours["status"] == "fail" and ours["instance"] == 3
                          and ours["field"] == "ARC-Message-Signature" and ours["reason"] == "signature")
                    ok_py = theirs[0] == "fail"
                else:
                    ok = ours["status"] == "pass" and ours["oldest"] == j + 1
                    ok_py = theirs[0] == "pass"
                report(ok, "%s, header signed by AMS %d changed: mailwarden %s at i=%s %s, oldest-pass=%s" % (
                    name, j, ours["status"], ours.get("instance"), ours.get("field"), ours.get("oldest")))
                py_check(ok_py, "%s, header signed by AMS %d changed: python3-dkim says %s" % (
                    name, j, theirs[0]), broken)

                _, verdicts = build(keys, seq, work, break_body_after=j)
                ours, theirs, broken = verdicts[j - 1] if len(verdicts) >= j else (
                    {"status": "none"}, ("none", ""), b"")
                report(ours["status"] == "fail" and ours["instance"] == j
                       and ours["field"] == "ARC-Message-Signature" and ours["reason"] == "body-hash",
                       "%s, body changed after hop %d: mailwarden fails at i=%s %s (%s)" % (
                           name, j, ours.get("instance"), ours.get("field"), ours.get("reason")))
                py_check(theirs[0] == "fail", "%s, body changed after hop %d: python3-dkim says %s" % (
                    name, j, theirs[0]), broken)
    print("# %d passed, %d failed" % (results["ok"], results["not ok"]))
    return 1 if results["not ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
