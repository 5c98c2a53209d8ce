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

--spam DIR and --ham DIR (each may be repeated; *.eml files, recursively) replace the corpus's
spam/ and ham/. --spamassassin also runs every message through SpamAssassin: a private
`spamd -L` (tests/rules/parity.py's: local tests only, Bayes, AWL and TxRep off, the same
--sa-rules) driven by `spamc -R` one message at a time, and prints its detection and false
positives beside mailwarden's ("spamassassin_threshold " lines) and its wall time per
message (one spamc round trip: spamd parses and checks the message).

    /usr/bin/python3 tests/measure/measure.py --build BUILDDIR [--corpus DIR]
        [--spam DIR]... [--ham DIR]... [--spamassassin]
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
sys.dont_write_bytecode = True     # no __pycache__ in the source tree (make dist takes tests/rules)
sys.path.insert(0, os.path.join(SRC, "tests", "rules"))
import parity  # noqa: E402  (the private spamd)


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


def messages(folders):
    found = []
    for folder in folders:
        found += parity.messages_under(folder)
    return found


def spamassassin_check(spamd, path):
    start = time.monotonic()
    score, rules = spamd.check(path)
    wall_ms = (time.monotonic() - start) * 1000
    if score is None:
        sys.exit("measure.py: %s: spamd gave no verdict" % path)
    return score, sorted(rules), None, wall_ms


def rates(rows, t):
    return sum(1 for r in rows if r[0] >= t) / len(rows)


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
    ap.add_argument("--spam", action="append", help="a folder of spam (*.eml); repeatable")
    ap.add_argument("--ham", action="append", help="a folder of ham (*.eml); repeatable")
    ap.add_argument("--spamassassin", action="store_true",
                    help="also run SpamAssassin (spamd -L, Bayes off) and print it beside")
    args = ap.parse_args()
    folders = {"spam": args.spam or [os.path.join(args.corpus, "spam")],
               "ham": args.ham or [os.path.join(args.corpus, "ham")]}

    sa = args.sa_rules
    if sa == "none" or not os.path.isdir(sa) or not any(n.endswith(".cf") for n in os.listdir(sa)):
        sa = None
    if args.spamassassin and not sa:
        sys.exit("measure.py: --spamassassin needs SpamAssassin's rules (--sa-rules)")
    thresholds = [float(t) for t in args.thresholds.split(",")]
    paths = {}
    for label in ("spam", "ham"):
        paths[label] = messages(folders[label])
        if args.limit > 0:
            paths[label] = paths[label][:args.limit]
    results, sa_results = {}, {}
    with tempfile.TemporaryDirectory() as work:
        dns, port = start_dns(work)
        try:
            policy = write_policy(work, port, sa, args.skipped_rules)
            for label in ("spam", "ham"):
                results[label] = [check(args.build, policy, p) for p in paths[label]]
        finally:
            dns.terminate()
            dns.wait()
        if args.spamassassin:
            os.chmod(work, 0o755)     # spamd's children run as nobody
            spamd = parity.Spamd(work, sa)
            try:
                for label in ("spam", "ham"):
                    sa_results[label] = [spamassassin_check(spamd, p) for p in paths[label]]
            finally:
                spamd.stop()

    spam, ham = results["spam"], results["ham"]
    if not spam or not ham:
        sys.exit("measure.py: needs spam and ham messages (*.eml) in %s and %s" % (
            " ".join(folders["spam"]), " ".join(folders["ham"])))
    print("corpus: %d spam, %d ham (%s)" % (len(spam), len(ham), args.corpus if not (args.spam or args.ham)
                                            else "spam: %s; ham: %s" % (" ".join(folders["spam"]),
                                                                        " ".join(folders["ham"]))))
    print("rules: %s" % ("SpamAssassin stock rules from " + sa if sa else
                         "none (native checks only)"))
    if sa_results:
        print("%-10s %10s %16s   %10s %16s" % ("score >=", "mailwarden", "", "SpamAssassin", ""))
        print("%-10s %10s %16s   %10s %16s" % ("", "detection", "false-positive", "detection",
                                               "false-positive"))
    else:
        print("%-10s %10s %16s" % ("score >=", "detection", "false-positive"))
    for t in thresholds:
        line = "%-10g %9.1f%% %15.1f%%" % (t, 100 * rates(spam, t), 100 * rates(ham, t))
        if sa_results:
            line += "   %9.1f%% %15.1f%%" % (100 * rates(sa_results["spam"], t),
                                            100 * rates(sa_results["ham"], t))
        print(line)
    for t in thresholds:
        print("threshold %g detection %.4f false_positive %.4f" % (t, rates(spam, t), rates(ham, t)))
    for t in thresholds if sa_results else []:
        print("spamassassin_threshold %g detection %.4f false_positive %.4f" % (
            t, rates(sa_results["spam"], t), rates(sa_results["ham"], t)))
    every = spam + ham
    engine = [r[2] for r in every if r[2] is not None]
    wall = [r[3] for r in every]
    if engine:
        print("time engine_ms_mean %.1f engine_ms_median %.1f engine_ms_max %d" %
              (statistics.mean(engine), statistics.median(engine), max(engine)))
    print("time run_ms_mean %.1f run_ms_median %.1f (one mailwarden-check: policy load + message)"
          % (statistics.mean(wall), statistics.median(wall)))
    if sa_results:
        sa_wall = [r[3] for rows in sa_results.values() for r in rows]
        print("time spamassassin_ms_mean %.1f spamassassin_ms_median %.1f (one spamc round trip "
              "to spamd -L)" % (statistics.mean(sa_wall), statistics.median(sa_wall)))
        print("scores spamassassin spam_median %.1f ham_median %.1f ham_max %.1f" % (
            statistics.median(r[0] for r in sa_results["spam"]),
            statistics.median(r[0] for r in sa_results["ham"]),
            max(r[0] for r in sa_results["ham"])))
    print("scores spam_median %.1f ham_median %.1f ham_max %.1f" %
          (statistics.median(r[0] for r in spam), statistics.median(r[0] for r in ham),
           max(r[0] for r in ham)))
    if args.show_symbols:
        for label, rows in (("spam", spam), ("ham", ham)):
            counts = collections.Counter(s for r in rows for s in r[1])
            print("%s symbols: %s" % (label, ", ".join("%s %d" % kv for kv in counts.most_common(25))))
        for label, rows in sa_results.items():
            counts = collections.Counter(s for r in rows for s in r[1])
            print("spamassassin %s rules: %s" % (label, ", ".join(
                "%s %d" % kv for kv in counts.most_common(25))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
