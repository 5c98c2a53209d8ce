#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""measure.py - detection and false-positive rates of mailwarden on labelled messages.

Runs mailwarden-check on every message of CORPUS/spam and CORPUS/ham, with a policy written
for the run: the native spam checks (spam.rdns off: the corpus has no real clients), DNS
answered by tests/tools/dnsserver.py on loopback from an empty zone (so no lookup leaves the
machine and every name is NXDOMAIN alike for spam and ham), SpamAssassin's stock rules from
--sa-rules when present (the `rules` section), and no reject/tempfail/quarantine thresholds.
Prints, for each threshold, the share of spam at or above it (detection) and of ham at or
above it (false positives); then time per message: the engine's own time from the summary
line (all checks, rules included) and the wall time of one mailwarden-check run (which also
loads and compiles the policy). Lines starting "threshold " and "time " are for machines.

    /usr/bin/python3 tests/measure/measure.py --build BUILDDIR [--corpus DIR]
        [--sa-rules /usr/share/spamassassin | --sa-rules none] [--thresholds 3,5,8]
        [--skipped-rules zero|unknown] [--show-symbols] [--limit N]
"""
import argparse
import collections
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from email.parser import BytesHeaderParser
from email.utils import parseaddr

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def start_dns(work):
    zone = os.path.join(work, "zone")
    with open(zone, "w") as f:
        f.write("# empty: every name is NXDOMAIN\n")
    port_file = os.path.join(work, "dns.port")
    proc = subprocess.Popen(["/usr/bin/python3", os.path.join(SRC, "tests/tools/dnsserver.py"),
                             "--zone", zone, "--port", "0", "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return proc, int(open(port_file).read().strip())
        time.sleep(0.05)
    proc.kill()
    sys.exit("measure.py: the DNS test server did not start")


def write_policy(work, dns_port, sa_rules, skipped_rules):
    if sa_rules:
        rules = 'rules: { files = [ "%s/*.cf" ]; skipped_rules = "%s" }\n' % (sa_rules, skipped_rules)
    else:
        rules = "rules: { files = [ ] }\n"
    path = os.path.join(work, "measure.conf")
    with open(path, "w") as f:
        f.write('milter: { socket = "inet:18899@127.0.0.1" }\n'
                'networks: { internal = [ "127.0.0.0/8" ] }\n'
                'dns: { nameservers = [ "127.0.0.1@%d" ]; timeout = "2s" }\n'
                'actions: { add_header = 1.0; reject = 0; tempfail = 0; quarantine = 0 }\n'
                'spam: { rdns = false; date_past = "3650d" }\n' % dns_port + rules)
    return path


SUMMARY_TIME = re.compile(r" time=(\d+)ms")
SYMBOL = re.compile(r"^  (\S+) (-?[0-9.]+) \(")


def check(build, policy, path):
    with open(path, "rb") as f:
        head = BytesHeaderParser().parse(f)
    sender = parseaddr(str(head.get("From", "")))[1] or "sender@example.net"
    domain = sender.split("@")[-1]
    cmd = [os.path.join(build, "filter/mailwarden-check"), "-c", policy, "--verbose",
           "--client-ip", "198.51.100.200", "--helo", "mail." + domain,
           "--from", sender, "--rcpt", "user@example.org", path]
    start = time.monotonic()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall_ms = (time.monotonic() - start) * 1000
    if out.returncode in (64, 66, 78):
        sys.exit("measure.py: %s: mailwarden-check exit %d: %s" % (path, out.returncode,
                                                                   out.stderr[:500]))
    score = None
    symbols = []
    for line in out.stdout.splitlines():
        if line.startswith("score: "):
            score = float(line.split()[1])
        m = SYMBOL.match(line)
        if m:
            symbols.append(m.group(1))
    m = SUMMARY_TIME.search(out.stderr)
    engine_ms = int(m.group(1)) if m else None
    if score is None:
        sys.exit("measure.py: %s: no score in the output:\n%s" % (path, out.stdout[:500]))
    return score, symbols, engine_ms, wall_ms


def messages(folder):
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".eml"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="build directory with filter/mailwarden-check")
    ap.add_argument("--corpus", default=os.path.join(HERE, "corpus"))
    ap.add_argument("--sa-rules", default="/usr/share/spamassassin",
                    help="SpamAssassin rules directory, or 'none' for the native checks alone")
    ap.add_argument("--skipped-rules", choices=("zero", "unknown"), default="zero",
                    help="rules.skipped_rules for the run")
    ap.add_argument("--thresholds", default="1,2,3,4,5,6,7,8,10,12,15")
    ap.add_argument("--show-symbols", action="store_true", help="the most frequent symbols")
    ap.add_argument("--limit", type=int, default=0, help="only the first N messages of each label")
    args = ap.parse_args()

    sa = args.sa_rules
    if sa == "none" or not os.path.isdir(sa) or not any(n.endswith(".cf") for n in os.listdir(sa)):
        sa = None
    thresholds = [float(t) for t in args.thresholds.split(",")]
    with tempfile.TemporaryDirectory() as work:
        dns, port = start_dns(work)
        try:
            policy = write_policy(work, port, sa, args.skipped_rules)
            results = {}
            for label in ("spam", "ham"):
                paths = messages(os.path.join(args.corpus, label))
                if args.limit > 0:
                    paths = paths[:args.limit]
                results[label] = [check(args.build, policy, p) for p in paths]
        finally:
            dns.terminate()
            dns.wait()

    spam, ham = results["spam"], results["ham"]
    if not spam or not ham:
        sys.exit("measure.py: the corpus needs messages in spam/ and ham/")
    print("corpus: %d spam, %d ham (%s)" % (len(spam), len(ham), args.corpus))
    print("rules: %s" % ("SpamAssassin stock rules from " + sa if sa else
                         "none (native checks only)"))
    print("%-10s %10s %16s" % ("score >=", "detection", "false-positive"))
    for t in thresholds:
        det = sum(1 for r in spam if r[0] >= t) / len(spam)
        fp = sum(1 for r in ham if r[0] >= t) / len(ham)
        print("%-10g %9.1f%% %15.1f%%" % (t, 100 * det, 100 * fp))
    for t in thresholds:
        det = sum(1 for r in spam if r[0] >= t) / len(spam)
        fp = sum(1 for r in ham if r[0] >= t) / len(ham)
        print("threshold %g detection %.4f false_positive %.4f" % (t, det, fp))
    every = spam + ham
    engine = [r[2] for r in every if r[2] is not None]
    wall = [r[3] for r in every]
    if engine:
        print("time engine_ms_mean %.1f engine_ms_median %.1f engine_ms_max %d" %
              (statistics.mean(engine), statistics.median(engine), max(engine)))
    print("time run_ms_mean %.1f run_ms_median %.1f (one mailwarden-check: policy load + message)"
          % (statistics.mean(wall), statistics.median(wall)))
    print("scores spam_median %.1f ham_median %.1f ham_max %.1f" %
          (statistics.median(r[0] for r in spam), statistics.median(r[0] for r in ham),
           max(r[0] for r in ham)))
    if args.show_symbols:
        for label, rows in (("spam", spam), ("ham", ham)):
            counts = collections.Counter(s for r in rows for s in r[1])
            print("%s symbols: %s" % (label, ", ".join("%s %d" % kv for kv in counts.most_common(25))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
