#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""test-dkim.py - DKIM signing and verification, end to end through mailwarden-check and
mailwarden-keygen, with key records served by tests/tools/dnsserver.py on loopback. TAP output.

  1. messages signed by mailwarden (RSA, ed25519, dual; simple and relaxed; long and folded
     headers, 8-bit bodies, no final newline) verify with Debian's python3-dkim, and stop
     verifying when one body byte changes;
  2. the RFC 6376 A.2 and RFC 8463 A.3 examples verify as pass, and fail when one byte of the
     body or of a signed header changes;
  3. the Mail::DKIM corpus: our result matches expected.tsv for every message that follows
     RFC 6376 (deviations.tsv lists the others with the reason);
  4. key files: refused when open to others, unparsable or RSA < 1024 bits; ed25519 read from
     the key; mailwarden-keygen output and --test.
Run by `make check` (MW_BUILDDIR, MW_SRCDIR set) or as test-dkim.py BUILDDIR SRCDIR.
Testdata: $MW_TESTDATA or SRCDIR/../shared/testdata; the parts that need it SKIP without it."""
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import dkim

BUILD = sys.argv[1] if len(sys.argv) > 2 else os.environ.get("MW_BUILDDIR", ".")
SRC = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("MW_SRCDIR", ".")
CHECK = os.path.join(BUILD, "filter", "mailwarden-check")
KEYGEN = os.path.join(BUILD, "filter", "mailwarden-keygen")
TESTDATA = os.environ.get("MW_TESTDATA") or os.path.join(SRC, "..", "shared", "testdata")
if not os.environ.get("MW_TESTDATA") and not os.path.isdir(TESTDATA):
    TESTDATA = os.path.join(SRC, "..", "..", "shared", "testdata")   # a worktree under wt/
DKIMDATA = os.path.join(TESTDATA, "dkim")
WORK = tempfile.mkdtemp(prefix="mw-dkim-")
dns_proc = None


def cleanup():
    if dns_proc is not None and dns_proc.poll() is None:
        dns_proc.terminate()
        dns_proc.wait()
    shutil.rmtree(WORK, ignore_errors=True)


atexit.register(cleanup)
count = 0
failed = 0


def ok(cond, name, detail=""):
    global count, failed
    count += 1
    print(("ok - " if cond else "not ok - ") + name)
    if not cond:
        failed += 1
        for line in str(detail).splitlines()[:30]:
            print("#   " + line)


def skip(name, why):
    print("# SKIP %s: %s" % (name, why))


def path(name):
    return os.path.join(WORK, name)


def write(name, data, mode=0o644):
    p = path(name)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(p, mode)
    return p


# ---- the DNS server ----
ZONE = path("zone")
zone_lines = []


def zone_add(name, value):
    zone_lines.append("%s TXT %s" % (name, value))


def start_dns():
    write("zone", "\n".join(zone_lines) + "\n")
    port_file = path("dns.port")
    proc = subprocess.Popen(["/usr/bin/python3", os.path.join(SRC, "tests/tools/dnsserver.py"),
                             "--zone", ZONE, "--port", "0", "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=open(path("dns.log"), "w"))
    for _ in range(100):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return proc, int(open(port_file).read().strip())
        time.sleep(0.05)
    raise SystemExit("Bail out! dnsserver.py did not start")


def reload_dns(probe):
    """Rewrites the zone, SIGHUPs the server and waits until it serves TXT `probe`."""
    import dnslib
    write("zone", "\n".join(zone_lines) + "\n")
    dns_proc.send_signal(signal.SIGHUP)
    for _ in range(50):
        try:
            reply = dnslib.DNSRecord.parse(dnslib.DNSRecord.question(probe, "TXT").send(
                "127.0.0.1", dns_port, timeout=0.5))
            if reply.rr:
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise SystemExit("Bail out! dnsserver.py did not reload its zone")


def policy(name, dkim_body, extra=""):
    text = """dns: { nameservers = [ "127.0.0.1@%d" ]; timeout = "2s" }
authres: { authserv_id = "mx.test" }
%s
dkim: {
%s
}
""" % (dns_port, extra, dkim_body)
    return write(name, text)


def run_check(conf, msg, *args):
    p = subprocess.run([CHECK, "-c", conf] + list(args) + [msg], capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def signatures(out):
    """The DKIM-Signature values mailwarden-check printed, top first."""
    sigs, cur = [], None
    for line in out.split("\n"):
        if line.startswith("  insert DKIM-Signature: "):
            cur = [line[len("  insert DKIM-Signature: "):]]
            sigs.append(cur)
        elif cur is not None and line.startswith("\t"):
            cur.append(line)
        else:
            cur = None
    values = ["\n".join(s).replace("\r\n", "\n").replace("\r", "").replace("\n", "\r\n") for s in sigs]
    return list(reversed(values))     # each insert goes on top: the last printed is first


def dkim_results(out):
    return re.findall(r"dkim=(\w+)((?: header\.\w=\S+)*)", out)


def records():
    return {n.split()[0].lower().rstrip("."): n.split(None, 2)[2] for n in zone_lines
            if n.split()[1] == "TXT"}


def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    return records().get(name.lower().rstrip("."), "").encode()


def py_verify(msg):
    d = dkim.DKIM(msg)
    n = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
    results = []
    for i in range(n):
        try:
            results.append(bool(d.verify(idx=i, dnsfunc=dnsfunc)))
        except dkim.ValidationError:
            results.append(False)
    return n, results


# ---- keys ----
def genkey(name, *args):
    p = path(name)
    args = list(args)
    bits = [args.pop()] if args[0] == "genrsa" else []
    subprocess.run(["openssl"] + args + ["-out", p] + bits, check=True, capture_output=True)
    os.chmod(p, 0o600)
    return p


def pubrecord(keyfile):
    p = subprocess.run([KEYGEN, "--help"], capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", keyfile, "-pubout", "-outform", "DER"],
                         capture_output=True, check=True).stdout
    import base64
    if b"\x2b\x65\x70" in der[:16]:       # id-Ed25519: the raw key is the last 32 bytes
        return "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


rsa_key = genkey("rsa.key", "genrsa", "2048")
ed_key = genkey("ed.key", "genpkey", "-algorithm", "ed25519")
other_key = genkey("other.key", "genrsa", "2048")
zone_add("r1._domainkey.example.com", pubrecord(rsa_key))
zone_add("e1._domainkey.example.com", pubrecord(ed_key))
zone_add("o1._domainkey.example.org", pubrecord(other_key))

# RFC example records
for sub, files in (("rfc6376", ["brisbane._domainkey.example.com.txt"]),
                   ("rfc8463", ["brisbane._domainkey.football.example.com.txt",
                                "test._domainkey.football.example.com.txt"])):
    for f in files:
        p = os.path.join(DKIMDATA, sub, f)
        if os.path.exists(p):
            zone_add(f[:-4], open(p).read().strip().replace("\n", ""))

# Mail::DKIM's FAKE_DNS.dat
corpus_dir = os.path.join(DKIMDATA, "mail-dkim")
corpus_zone = []
if os.path.exists(os.path.join(corpus_dir, "FAKE_DNS.dat")):
    for line in open(os.path.join(corpus_dir, "FAKE_DNS.dat"), encoding="utf-8", errors="replace"):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        parts = line.split(None, 1)
        name, value = parts[0], parts[1] if len(parts) > 1 else ""
        if value == "NXDOMAIN":
            continue
        if value == "~~Query timed out~~":
            corpus_zone.append("%s TIMEOUT" % name)
        elif value == "~~SERVFAIL~~":
            corpus_zone.append("%s SERVFAIL" % name)
        else:
            corpus_zone.append("%s TXT %s" % (name, value))
zone_lines.extend(corpus_zone)
zone_lines.append("gone._domainkey.example.com TIMEOUT")
zone_lines.append("broken._domainkey.example.com SERVFAIL")
# keys whose server answers late: slowN after 0.3 s (less than libunbound's first
# retransmission timeout, 376 ms), lateN after 3 s, quickN at once
SLOW_DELAY_MS, LATE_DELAY_MS = 300, 3000
for i in range(1, 9):
    for sel, delay in (("slow%d" % i, SLOW_DELAY_MS), ("late%d" % i, LATE_DELAY_MS), ("quick%d" % i, 0)):
        zone_add("%s._domainkey.example.com" % sel, pubrecord(rsa_key))
        if delay:
            zone_lines.append("%s._domainkey.example.com DELAY %d" % (sel, delay))

dns_proc, dns_port = start_dns()

KEYS = """  keys = (
    { name = "rsa"; domain = "example.com"; selector = "r1"; file = "%s" },
    { name = "ed"; domain = "example.com"; selector = "e1"; file = "%s" },
    { name = "org"; domain = "example.org"; selector = "o1"; file = "%s" }
  )""" % (rsa_key, ed_key, other_key)


def sign_policy(name, keys, canon="relaxed/relaxed"):
    return policy(name, """  sign: { canonicalization = "%s" }
%s
  signing = ( { from = "example.com"; keys = [ %s ] } )
  users = ( { user = "alice"; domains = [ "example.com" ] } )""" % (
        canon, KEYS, ", ".join('"%s"' % k for k in keys)))


# ---- 1. signing, verified by python3-dkim ----
long_subject = "Subject: " + " ".join("word%d" % i for i in range(80))
messages = {
    "plain": b"From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: hello\r\n"
             b"Date: Sun, 22 Nov 2026 07:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\n"
             b"Hello Bob.\r\n",
    "folded": ("From: \"Alice, the sender\" <alice@example.com>\r\nTo: bob@example.net,\r\n"
               "\tcarol@example.net,  dave@example.net\r\n" + long_subject[:70] + "\r\n "
               + long_subject[70:] + "\r\nDate: Sun, 22 Nov 2026 07:00:00 +0000\r\n"
               "X-Long: " + "x" * 1500 + "\r\n\r\nBody   with  spaces  \r\n\r\n\r\n").encode(),
    "8bit": b"From: alice@example.com\r\nTo: bob@example.net\r\nSubject: caf\xc3\xa9\r\n"
            b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n"
            b"\r\nd\xe9j\xe0 vu \xff\xfe\r\n\tline\r\n",
    "no-final-newline": b"From: alice@example.com\r\nTo: bob@example.net\r\nSubject: x\r\n\r\n"
                        b"last line without a newline",
}
for canon in ("relaxed/relaxed", "simple/simple"):
    for keyset in (["rsa"], ["ed"], ["rsa", "ed"], ["rsa", "org"]):
        conf = sign_policy("sign.conf", keyset, canon)
        for mname, mbytes in messages.items():
            msg = write("m.eml", mbytes)
            rc, out, err = run_check(conf, msg, "--client-ip", "192.0.2.7", "--sasl-user",
                                     "alice", "--from", "alice@example.com", "--rcpt",
                                     "bob@example.net")
            sigs = signatures(out)
            label = "sign %s %s %s" % ("+".join(keyset), canon, mname)
            if len(sigs) != len(keyset):
                ok(False, label + ": %d signatures" % len(keyset), out + err)
                continue
            body = mbytes if mbytes.endswith(b"\r\n") else mbytes + b"\r\n"  # as the MTA sends it
            signed = b"".join(b"DKIM-Signature: " + s.encode() + b"\r\n" for s in sigs) + body
            n, res = py_verify(signed)
            ok(n == len(keyset) and all(res), label + ": python3-dkim verifies every signature",
               "%s\n%s" % (res, signed[:600]))
            algs = re.findall(r"a=([\w-]+);", " ".join(sigs))
            want = ["ed25519-sha256" if k == "ed" else "rsa-sha256" for k in keyset]
            ok(algs == want, label + ": algorithms read from the keys", algs)
            tampered = signed[:-3] + (b"X" if signed[-3:-2] != b"X" else b"Y") + signed[-2:]
            n, res = py_verify(tampered)
            ok(n == len(keyset) and not any(res), label + ": one changed body byte fails", res)

# who is signed
conf = sign_policy("sign.conf", ["rsa"])
msg = write("m.eml", messages["plain"])
rc, out, _ = run_check(conf, msg, "--client-ip", "203.0.113.5", "--from", "alice@example.com")
ok("DKIM-Signature" not in out, "inbound mail (not authenticated, not internal) is not signed", out)
rc, out, _ = run_check(conf, msg, "--client-ip", "192.0.2.7", "--sasl-user", "mallory",
                       "--from", "alice@example.com")
ok("DKIM-Signature" not in out and "DKIM_SIGN_NOT_ALLOWED" in out,
   "a user not allowed example.com is not signed for it", out)
rc, out, _ = run_check(conf, msg, "--client-ip", "192.0.2.7", "--sasl-user", "mallory@example.com",
                       "--from", "alice@example.com")
ok(len(signatures(out)) == 1, "a user is signed for the domain of their login name", out)
msg2 = write("m2.eml", messages["plain"].replace(b"alice@example.com", b"alice@elsewhere.test"))
rc, out, _ = run_check(conf, msg2, "--client-ip", "192.0.2.7", "--sasl-user", "alice",
                       "--from", "alice@elsewhere.test")
ok("DKIM-Signature" not in out, "a From: domain no rule matches is not signed", out)
conf_default = policy("default.conf", KEYS + '\n  sign: { default_key = "org" }')
rc, out, _ = run_check(conf_default, msg2, "--client-ip", "192.0.2.7", "--sasl-user",
                       "bob@elsewhere.test", "--from", "alice@elsewhere.test")
ok(len(signatures(out)) == 1 and "d=example.org" in out, "sign.default_key signs the rest", out)
nofrom = write("nofrom.eml", b"To: bob@example.net\r\nSubject: x\r\n\r\nbody\r\n")
conf_any = policy("any.conf", KEYS + '\n  signing = ( { sender = "*"; keys = [ "rsa" ] } )')
rc, out, _ = run_check(conf_any, nofrom, "--client-ip", "192.0.2.7", "--sasl-user",
                       "alice@example.com", "--from", "alice@example.com")
ok(rc == 2 and "DKIM_SIGN_FAILED" in out, "mail that must be signed but cannot be: tempfail",
   "rc=%d\n%s" % (rc, out))
conf_x = policy("x.conf", KEYS + '\n  sign: { expire = "1d" }\n  signing = ( { from = "example.com"; keys = [ "rsa" ] } )')
rc, out, _ = run_check(conf_x, msg, "--client-ip", "192.0.2.7", "--sasl-user", "alice@example.com",
                       "--from", "alice@example.com")
m_t, m_x = re.search(r"t=(\d+)", out), re.search(r"x=(\d+)", out)
ok(m_t and m_x and int(m_x.group(1)) - int(m_t.group(1)) == 86400, "sign.expire adds x= = t= + 1 day", out)
ok(re.search(r"h=[^;]*from:[^;]*from", out.replace("\r\n\t", "").replace("\n\t", "").lower()) is not None,
   "From is oversigned by default", out)

# ---- 2. the RFC examples, verified by mailwarden ----
verify_conf = policy("verify.conf", "  verify: { enabled = true; report_none = true }")


def verify(msg_bytes, conf=verify_conf):
    msg = write("v.eml", msg_bytes)
    rc, out, err = run_check(conf, msg, "--client-ip", "203.0.113.9", "--from", "x@example.org",
                             "--rcpt", "y@example.net")
    return dkim_results(out), out + err


def mutate_body(b):
    i = b.index(b"\r\n\r\n") + 6 if b"\r\n\r\n" in b else b.index(b"\n\n") + 4
    return b[:i] + (b"x" if b[i:i + 1] != b"x" else b"y") + b[i + 1:]


def mutate_header(b, name):
    i = b.lower().index(b"\n" + name.lower() + b":") + len(name) + 4
    return b[:i] + (b"Q" if b[i:i + 1] != b"Q" else b"R") + b[i + 1:]


for sub, f, n in (("rfc6376", "A2-signed.eml", 1), ("rfc8463", "A3-signed.eml", 2)):
    p = os.path.join(DKIMDATA, sub, f)
    if not os.path.exists(p):
        skip("%s/%s" % (sub, f), "testdata absent")
        continue
    data = open(p, "rb").read()
    res, out = verify(data)
    ok(len(res) == n and all(r[0] == "pass" for r in res), "%s %s: every signature passes" % (sub, f), out)
    ok(all("header.b=" in r[1] and "header.s=" in r[1] and "header.a=" in r[1] for r in res),
       "%s %s: header.d/i/s/a/b reported" % (sub, f), out)
    res, out = verify(mutate_body(data))
    ok(len(res) == n and all(r[0] == "fail" for r in res), "%s %s: one body byte changed fails" % (sub, f), out)
    res, out = verify(mutate_header(data, b"Subject"))
    ok(len(res) == n and all(r[0] == "fail" for r in res), "%s %s: one Subject byte changed fails" % (sub, f), out)

res, out = verify(messages["plain"])
ok(res == [("none", "")], "an unsigned message gives dkim=none", out)
a3 = os.path.join(DKIMDATA, "rfc8463", "A3-signed.eml")
if os.path.exists(a3):
    res, out = verify(open(a3, "rb").read(), policy("cap.conf", "  verify: { max_signatures = 1 }"))
    ok(len(res) == 1 and res[0][0] == "pass", "verify.max_signatures = 1 evaluates one of two signatures", out)
    res, out = verify(open(a3, "rb").read(), policy("small.conf", "  verify: { min_key_bits = 2048 }"))
    ok(sorted(r[0] for r in res) == ["pass", "policy"] and "DKIM_KEY_TOO_SMALL" in out,
       "an RSA key under verify.min_key_bits gives dkim=policy (ed25519 still passes)", out)

# verify what we signed, through our own verifier
conf = sign_policy("sign.conf", ["rsa", "ed"])
rc, out, _ = run_check(conf, write("m.eml", messages["folded"]), "--client-ip", "192.0.2.7",
                       "--sasl-user", "alice", "--from", "alice@example.com")
signed = b"".join(b"DKIM-Signature: " + s.encode() + b"\r\n" for s in signatures(out)) + messages["folded"]
res, out = verify(signed)
ok(len(res) == 2 and all(r[0] == "pass" for r in res), "mailwarden verifies its own RSA + ed25519 signatures", out)

# outcomes that map to their own symbols: l= shorter than the body, rsa-sha1, expired
rsa_pem = open(rsa_key, "rb").read()
base = messages["plain"]
sig = dkim.sign(base, b"r1", b"example.com", rsa_pem, length=True)
res, out = verify(sig + base + b"appended after signing\r\n")
ok([r[0] for r in res] == ["pass"] and "DKIM_BODY_LENGTH" in out,
   "l= covering less of the body: pass with DKIM_BODY_LENGTH", out)
sig = dkim.sign(base, b"r1", b"example.com", rsa_pem, signature_algorithm=b"rsa-sha1")
res, out = verify(sig + base)
ok([r[0] for r in res] == ["policy"] and "DKIM_RSA_SHA1" in out and "header.a=rsa-sha1" in out,
   "rsa-sha1 gives dkim=policy (RFC 8301)", out)
res, out = verify(sig + base, policy("sha1.conf", "  verify: { accept_rsa_sha1 = true }"))
ok([r[0] for r in res] == ["pass"], "verify.accept_rsa_sha1 = true passes it", out)
conf_exp = policy("exp.conf", KEYS + '\n  sign: { expire = "1s" }\n  signing = ( { from = "example.com"; keys = [ "rsa" ] } )')
rc, out, _ = run_check(conf_exp, write("m.eml", base), "--client-ip", "192.0.2.7", "--sasl-user",
                       "alice@example.com", "--from", "alice@example.com")
expiring = b"".join(b"DKIM-Signature: " + x.encode() + b"\r\n" for x in signatures(out)) + base
time.sleep(2.2)
res, out = verify(expiring, policy("drift.conf", "  verify: { clock_drift = 0 }"))
ok([r[0] for r in res] == ["permerror"] and "DKIM_EXPIRED" in out, "a signature past its x= is DKIM_EXPIRED (permerror)", out)
res, out = verify(mutate_header(signed, b"From"))
ok(all(r[0] == "fail" for r in res) and len(res) == 2 and "DKIM_FAIL" in out,
   "a changed From: fails both signatures with DKIM_FAIL", out)

# DNS outcomes
for sel, want in (("gone", "temperror"), ("broken", "temperror"), ("nosuch", "permerror")):
    s = signatures(out)
    fake = signed.replace(b"s=r1;", b"s=%s;" % sel.encode(), 1)
    res, o2 = verify(fake, policy("v2.conf", "  verify: { enabled = true }", ""))
    got = [r[0] for r in res if ("header.s=%s" % sel) in r[1]]
    ok(got == [want], "key lookup %s gives dkim=%s" % (sel, want), o2)

# ---- 3. the Mail::DKIM corpus ----
tsv = os.path.join(corpus_dir, "expected.tsv")
deviations = {}
for line in open(os.path.join(SRC, "tests/dkim/mail-dkim-deviations.tsv"), encoding="utf-8"):
    if line.strip() and not line.startswith("#"):
        fname, reason = line.rstrip("\n").split("\t", 1)
        deviations[fname] = reason
if not os.path.exists(tsv):
    skip("Mail::DKIM corpus", "testdata absent")
else:
    corpus_conf = policy("corpus.conf", "  verify: { min_key_bits = 512; max_signatures = 16; accept_rsa_sha1 = true;\n    report_none = true }",
                         "")
    for line in list(open(tsv, encoding="utf-8"))[1:]:
        cols = line.rstrip("\n").split("\t")
        fname, expected, sigtype = cols[0], cols[1], cols[3]
        data = open(os.path.join(corpus_dir, "corpus", fname), "rb").read()
        res, out = verify(data, corpus_conf)
        results = [r[0] for r in res]
        if "pass" in results:
            got = "pass"
        elif "fail" in results:
            got = "fail"
        elif results == ["none"]:
            got = "none"
        else:
            got = "invalid"
        want = "none" if sigtype == "DomainKeys" else expected
        if fname in deviations:
            print("# deviation %s: expected %s, got %s (%s): %s" % (fname, want, got,
                  ",".join(results), deviations[fname]))
            continue
        ok(got == want, "Mail::DKIM corpus %s: %s" % (fname, want), "got %s: %s" % (got, out))

# ---- 4. key files and mailwarden-keygen ----
def load_error(keyfile):
    conf = policy("k.conf", """  keys = ( { name = "k"; domain = "example.com"; selector = "k";
    file = "%s" } )""" % keyfile)
    p = subprocess.run([CHECK, "-c", conf, "--verbose", write("e.eml", messages["plain"])],
                       capture_output=True)
    return p.returncode, p.stderr.decode()


open_key = genkey("open.key", "genrsa", "2048")
os.chmod(open_key, 0o640)
rc, err = load_error(open_key)
ok(rc == 78 and open_key in err and "chmod 600" in err, "a key file readable by the group is refused, naming it", err)
os.chmod(open_key, 0o604)
rc, err = load_error(open_key)
ok(rc == 78 and open_key in err, "a key file readable by others is refused", err)
short_key = genkey("short.key", "genrsa", "768")
rc, err = load_error(short_key)
ok(rc == 78 and short_key in err and "1024" in err, "an RSA key under 1024 bits is refused", err)
bad_key = write("bad.key", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", 0o600)
rc, err = load_error(bad_key)
ok(rc == 78 and bad_key in err, "an unparsable key file is refused, naming it", err)
warn_key = genkey("warn.key", "genrsa", "1024")
rc, err = load_error(warn_key)
ok(rc == 0 and "2048" in err, "a 1024-bit RSA key loads with a warning", err)
seed = os.path.join(DKIMDATA, "rfc8463", "brisbane.ed25519.private.b64")
if os.path.exists(seed):
    seed_copy = write("seed.key", open(seed, "rb").read(), 0o600)
    conf = policy("seed.conf", """  keys = ( { name = "k"; domain = "football.example.com";
    selector = "brisbane"; file = "%s" } )
  signing = ( { from = "*"; keys = [ "k" ] } )""" % seed_copy)
    rc, out, err = run_check(conf, write("m.eml", messages["plain"]), "--client-ip", "192.0.2.7",
                             "--sasl-user", "alice@example.com", "--from", "alice@example.com")
    sigs = signatures(out)
    ok(len(sigs) == 1 and "a=ed25519-sha256" in sigs[0], "an ed25519 seed in base64 (RFC 8463 A.1) is read as ed25519", out + err)

for ktype, extra in (("rsa", []), ("ed25519", ["-t", "ed25519"])):
    kfile = path("gen-%s.key" % ktype)
    p = subprocess.run([KEYGEN, "-d", "example.net", "-s", "g" + ktype, "-o", kfile, "-n", "g"] + extra,
                       capture_output=True, text=True)
    ok(p.returncode == 0 and os.stat(kfile).st_mode & 0o777 == 0o600, "keygen %s: key file mode 0600" % ktype, p.stdout + p.stderr)
    strings = re.findall(r'"([^"]*)"', p.stdout.split("# dkim.keys")[0])
    record = "".join(strings)
    ok(strings and all(len(s) <= 255 for s in strings) and record.startswith("v=DKIM1; k=%s; p=" % ktype),
       "keygen %s: TXT record in strings of at most 255 bytes" % ktype, p.stdout)
    ok('keys = [ "g" ]' in p.stdout and 'selector = "g%s"' % ktype in p.stdout,
       "keygen %s: key-table and signing-table lines" % ktype, p.stdout)
    zone_lines.append("g%s._domainkey.example.net TXT %s" % (ktype, record))
    zone_lines.append("w%s._domainkey.example.net TXT %s" % (ktype, pubrecord(other_key) if ktype == "rsa"
                      else pubrecord(ed_key)))
    reload_dns("w%s._domainkey.example.net" % ktype)
    for sel, want_rc, what in (("g" + ktype, 0, "matches"), ("w" + ktype, 1, "does NOT match")):
        conf = policy("t.conf", """  keys = ( { name = "g"; domain = "example.net"; selector = "%s"; file = "%s" } )""" % (sel, kfile))
        t = subprocess.run([KEYGEN, "-c", conf, "--test", "g"], capture_output=True, text=True)
        ok(t.returncode == want_rc and what in t.stdout, "keygen --test %s: %s" % (ktype, what), t.stdout + t.stderr)

# keygen prints the key's absolute path (a relative one breaks under systemd, cwd /), and as
# root gives the key to the daemon's user inside a keys directory it makes 0750.
rel_dir = path("keygen-cwd")
os.makedirs(rel_dir, exist_ok=True)
p = subprocess.run([KEYGEN, "-d", "example.org", "-s", "rel", "-t", "ed25519", "-o", "rel.key",
                    "-c", path("no-such-policy.conf")], capture_output=True, text=True, cwd=rel_dir)
ok(p.returncode == 0 and 'file = "%s"' % os.path.join(os.path.realpath(rel_dir), "rel.key") in p.stdout,
   "keygen: the dkim.keys line names the key by its absolute path", p.stdout + p.stderr)
ok("--test" in p.stdout and "milter.user" in p.stdout,
   "keygen: says the daemon's user must read the key and how to test the record", p.stdout)
if os.geteuid() == 0:
    keys_dir = path("keygen-keys")
    p = subprocess.run([KEYGEN, "-d", "example.org", "-s", "own", "-t", "ed25519", "-D", keys_dir,
                        "-u", "nobody"], capture_output=True, text=True, cwd="/")
    kfile = os.path.join(keys_dir, "example.org.own.key")
    st = os.stat(kfile) if os.path.exists(kfile) else None
    import pwd
    nobody = pwd.getpwnam("nobody")
    ok(p.returncode == 0 and st is not None and st.st_uid == nobody.pw_uid and st.st_mode & 0o777 == 0o600
       and 'file = "%s"' % kfile in p.stdout,
       "keygen as root: the key is made in the keys directory, mode 0600, owned by the daemon's user",
       p.stdout + p.stderr)
    dst = os.stat(keys_dir)
    ok(dst.st_uid == 0 and dst.st_gid == nobody.pw_gid and dst.st_mode & 0o777 == 0o750,
       "keygen as root: a missing keys directory is made root:<daemon group> 0750", oct(dst.st_mode))
    p = subprocess.run([KEYGEN, "-d", "example.org", "-s", "x", "-D", keys_dir, "-u", "no-such-user-mw"],
                       capture_output=True, text=True)
    ok(p.returncode == 64 and "no-such-user-mw" in p.stderr, "keygen -u with an unknown user is refused", p.stderr)
# ---- 5. the key lookups of one message run together within dkim.verify.budget ----
def signed_many(selectors):
    """messages["plain"] signed by the rsa key once per selector (the first on top)."""
    msg = messages["plain"]
    key = open(rsa_key, "rb").read()
    for sel in reversed(selectors):
        msg = dkim.sign(msg, sel.encode(), b"example.com", key,
                        include_headers=[b"from", b"to", b"subject"]) + msg
    return msg


budget_conf = policy("budget.conf", "  verify: { enabled = true; budget = \"2s\" }")


def timed_verify(msg_bytes):
    """The results, the output, and the milliseconds the message took (the log's time=)."""
    msg = write("v.eml", msg_bytes)
    rc, out, err = run_check(budget_conf, msg, "--verbose", "--client-ip", "203.0.113.9",
                             "--from", "x@example.org", "--rcpt", "y@example.net")
    took = re.search(r" time=(\d+)ms", err)
    return dkim_results(out), out + err, int(took.group(1)) if took else 10 ** 9


def selectors_of(results):
    return [(r[0], (re.findall(r"header\.s=(\w+)", r[1]) or [""])[0]) for r in results]


slow8 = signed_many(["slow%d" % i for i in range(1, 9)])
results, detail, took = timed_verify(slow8)
ok(len(results) == 8 and all(r[0] == "pass" for r in results) and took < 2000,
   "8 keys answering after 0.3 s are looked up together and all pass within the 2 s budget "
   "(%d ms; one after another: 2.4 s or more)" % took, detail)

# the hostile corpus message: 8 signatures (any key) with the selectors late1..late8
late8 = open(os.path.join(SRC, "tests/spam/messages/dkim-8-late-keys.eml"), "rb").read()
results, detail, took = timed_verify(late8)
ok(selectors_of(results) == [("temperror", "late%d" % i) for i in range(1, 9)],
   "8 keys answering after the 2 s budget give temperror", detail)
ok(took < 6000, "8 keys later than the 2 s budget cost the budget once: %d ms "
   "(one after another: 16 s)" % took, detail)

mixed = signed_many(["quick1"] + ["late%d" % i for i in range(1, 7)] + ["quick2"])
results, detail, took = timed_verify(mixed)
want = [("pass", "quick1")] + [("temperror", "late%d" % i) for i in range(1, 7)] + [("pass", "quick2")]
ok(selectors_of(results) == want and took < 6000,
   "keys later than the budget give temperror, the quick ones pass (%d ms)" % took, detail)

print("1..%d" % count)
sys.exit(1 if failed else 0)
