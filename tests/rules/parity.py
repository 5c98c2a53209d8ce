#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""parity.py - rule-hit parity of mailwarden with SpamAssassin on the same messages.

Runs every message (*.eml, recursively) of --messages through
  - SpamAssassin: a private `spamd -L` (local tests only: no network, no DNS) on a UNIX socket,
    reading the stock rules of --sa-rules and a private site directory that holds the
    plugin set of /etc/spamassassin/*.pre and a local.cf with Bayes, AWL and TxRep off;
    `spamc -R` gives the score and the rules hit; spamd is stopped at the end;
  - mailwarden: `mailwarden-check` on a policy that reads --sa-rules/*.cf with the native spam,
    DKIM and ARC checks off (the score is the rules' alone), without --client-ip/--helo/--from (the client is unknown, so the relays come
    from the Received lines alone, as SpamAssassin sees a file), several files per run;
and compares, for every stock rule mailwarden loads (`mailwarden-check --rule-status`), on which
messages it hit. Prints:
    parity: messages N
    parity: rules loaded L
    parity: rules agreeing on >= 99% of messages: K of L (P%)
    parity: messages whose total score agrees within 0.5: M of N (S%)
    parity: hits agreeing: A of the H rule hits either side found (J%)
then the rules that disagree, most frequent first, with SpamAssassin-only and mailwarden-only
counts and example messages, then the rules SpamAssassin hit that mailwarden does not run
(with the reason). With --floor-rules/--floor-score it exits 1 when a rate is below the floor.

    /usr/bin/python3 tests/rules/parity.py --build BUILDDIR [--messages DIR]
        [--sa-rules /usr/share/spamassassin] [--jobs 2] [--floor-rules PCT] [--floor-score PCT]
        [--target-rules 99] [--target-score 95] [--show N] [--save FILE]
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# SpamAssassin's rule types that define a scored rule (names starting "__" are subrules)
RULE_DEF = re.compile(r"^\s*(header|body|rawbody|full|uri|meta|mimeheader|uri_detail|askdns|"
                      r"urirhssub|urirhsbl|uridnsbl|uridnssub|hashbl_check)\s+([A-Za-z0-9_]+)\b")
REPORT_LINE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s")
SCORE_LINE = re.compile(r"^(-?\d+(?:\.\d+)?)/(-?\d+(?:\.\d+)?)\s*$")


def messages_under(top):
    found = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        found += [os.path.join(root, f) for f in sorted(files) if f.endswith(".eml")]
    return found


def stock_rule_names(sa_rules):
    names = set()
    for path in sorted(glob.glob(os.path.join(sa_rules, "*.cf"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = RULE_DEF.match(line)
                if m and not m.group(2).startswith("__"):
                    names.add(m.group(2))
    return names


class Spamd:
    """A private spamd on a UNIX socket in a temporary directory; stop() ends it."""

    def __init__(self, work, sa_rules):
        self.dir = os.path.join(work, "spamd")
        site = os.path.join(self.dir, "site")
        home = os.path.join(self.dir, "home")
        os.makedirs(site)
        os.makedirs(home)
        for pre in glob.glob("/etc/spamassassin/*.pre"):
            shutil.copy(pre, site)
        with open(os.path.join(site, "local.cf"), "w") as f:
            f.write("# parity.py: local tests only, nothing learnt or remembered\n"
                    "use_bayes 0\nbayes_auto_learn 0\nuse_auto_whitelist 0\n"
                    "skip_rbl_checks 1\ndns_available no\n")
        for d in (self.dir, site, home):
            os.chmod(d, 0o755)
        self.sock = os.path.join(self.dir, "spamd.sock")
        self.pidfile = os.path.join(self.dir, "spamd.pid")
        cmd = ["spamd", "-L", "-x", "-C", sa_rules, "--siteconfigpath", site,
               "--socketpath", self.sock, "--pidfile", self.pidfile, "-m", "2",
               "--min-spare=1", "--max-spare=2", "-H", home,
               "--syslog", os.path.join(self.dir, "spamd.log"), "-d"]
        if os.geteuid() == 0:
            cmd[1:1] = ["-u", "nobody"]
        self.pid = None
        if subprocess.run(cmd).returncode != 0:
            sys.exit("parity.py: spamd did not start; its log: %s" % self.log())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if os.path.exists(self.sock) and os.path.exists(self.pidfile):
                self.pid = int(open(self.pidfile).read().strip() or 0) or None
                if self.pid:
                    return
            time.sleep(0.1)
        self.stop()
        sys.exit("parity.py: spamd did not start; its log: %s" % self.log())

    def log(self):
        try:
            return open(os.path.join(self.dir, "spamd.log")).read()[-2000:]
        except OSError:
            return "(none)"

    def check(self, path):
        with open(path, "rb") as f:
            out = subprocess.run(["spamc", "-U", self.sock, "-R", "-s", "10000000", "-x"],
                                 stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        text = out.stdout.decode("utf-8", "replace").splitlines()
        if out.returncode not in (0, 1) or not text or not SCORE_LINE.match(text[0]):
            return None, {}
        score = float(SCORE_LINE.match(text[0]).group(1))
        rules = {}
        in_table = False
        for line in text[1:]:
            if line.startswith("----"):
                in_table = True
                continue
            m = REPORT_LINE.match(line) if in_table else None
            if m:
                rules[m.group(2)] = float(m.group(1))
        return score, rules

    def stop(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            for _ in range(300):
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        self.pid = None


def write_policy(work, sa_rules):
    path = os.path.join(work, "parity.conf")
    with open(path, "w") as f:
        f.write('milter: { socket = "inet:18897@127.0.0.1" }\n'
                'actions: { add_header = 5.0; reject = 0; tempfail = 0; quarantine = 0 }\n'
                'spam: { enabled = false }\n'
                # the native DKIM and ARC checks add symbols of their own (DKIM_RSA_SHA1, ARC_*):
                # off, so the score is the rules' alone (without DNS the rules never read them)
                'dkim: { verify: { enabled = false } }\n'
                'arc: { enabled = false }\n'
                'rules: { files = [ "%s/*.cf" ] }\n' % sa_rules)
    return path


def mailwarden_run(check, policy, paths):
    out = subprocess.run([check, "-c", policy] + paths, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode("utf-8", "replace")
    results, current = {}, None
    for line in out.splitlines():
        if line.startswith("message: "):
            current = line[len("message: "):]
            results[current] = [None, {}]
        elif current is None:
            continue
        elif line.startswith("score: "):
            results[current][0] = float(line.split()[1])
        else:
            m = re.match(r"^  ([A-Za-z0-9_]+) (-?[0-9.]+) ", line)
            if m:
                results[current][1][m.group(1)] = float(m.group(2))
    return results


def rule_status(check, policy, names):
    out = subprocess.run([check, "-c", policy, "--rule-status"], input="\n".join(sorted(names)),
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    loaded, skipped = set(), {}
    for line in out.splitlines():
        name, state, *rest = line.split(" ", 2) + [""]
        if state == "loaded":
            loaded.add(name)
        elif state == "skipped":
            skipped[name] = rest[0]
    return loaded, skipped


def pct(a, b):
    return 100.0 * a / b if b else 100.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--messages", default=os.path.join(HERE, "parity", "messages"))
    ap.add_argument("--sa-rules", default="/usr/share/spamassassin")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--floor-rules", type=float)
    ap.add_argument("--floor-score", type=float)
    ap.add_argument("--target-rules", type=float, default=99.0)
    ap.add_argument("--target-score", type=float, default=95.0)
    ap.add_argument("--show", type=int, default=40, help="disagreeing rules listed")
    ap.add_argument("--save", help="write every message's hits on both sides as JSON")
    args = ap.parse_args()

    check = os.path.join(args.build, "filter", "mailwarden-check")
    paths = messages_under(args.messages)
    if not paths:
        sys.exit("parity.py: no *.eml under %s" % args.messages)
    work = tempfile.mkdtemp(prefix="mw-parity-")
    os.chmod(work, 0o755)     # spamd's children run as nobody
    spamd = None
    try:
        policy = write_policy(work, args.sa_rules)
        started = time.monotonic()
        spamd = Spamd(work, args.sa_rules)
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            sa = dict(zip(paths, pool.map(spamd.check, paths)))
        spamd.stop()
        sa_seconds = time.monotonic() - started
        started = time.monotonic()
        chunks = [paths[i::args.jobs] for i in range(args.jobs)]
        mw = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for part in pool.map(lambda c: mailwarden_run(check, policy, c), chunks):
                mw.update(part)
        mw_seconds = time.monotonic() - started
        loaded, skipped = rule_status(check, policy, stock_rule_names(args.sa_rules))
    finally:
        if spamd is not None:
            spamd.stop()
        shutil.rmtree(work, ignore_errors=True)

    failed = [p for p in paths if sa[p][0] is None or p not in mw or mw[p][0] is None]
    usable = [p for p in paths if p not in failed]
    n = len(usable)
    rel = lambda p: os.path.relpath(p, args.messages)
    disagree = collections.defaultdict(lambda: [0, 0, []])   # rule -> sa-only, mw-only, examples
    sa_unrun = collections.defaultdict(list)                 # SA hit, mailwarden does not run it
    both = either = score_ok = 0
    for p in usable:
        sa_hits = {r for r in sa[p][1] if r in loaded}
        mw_hits = {r for r in mw[p][1] if r in loaded}
        both += len(sa_hits & mw_hits)
        either += len(sa_hits | mw_hits)
        for r in sa_hits ^ mw_hits:
            d = disagree[r]
            d[0 if r in sa_hits else 1] += 1
            if len(d[2]) < 3:
                d[2].append(("SA" if r in sa_hits else "MW") + ":" + rel(p))
        for r in sa[p][1]:
            if r not in loaded:
                sa_unrun[r].append(rel(p))
        if abs(sa[p][0] - mw[p][0]) <= 0.5:
            score_ok += 1
    rules_ok = sum(1 for r in loaded if pct(n - sum(disagree[r][:2]) if r in disagree else n, n)
                   >= args.target_rules)
    rule_rate = pct(rules_ok, len(loaded))
    score_rate = pct(score_ok, n)

    print("parity: messages %d (%d could not be checked on one side)" % (n, len(failed)))
    for p in failed:
        print("  unchecked %s: spamassassin %s, mailwarden %s" % (
            rel(p), "ok" if sa[p][0] is not None else "failed",
            "ok" if p in mw and mw[p][0] is not None else "failed"))
    print("parity: rules loaded %d (of %d stock rules with a score name)" % (
        len(loaded), len(loaded) + len(skipped)))
    print("parity: rules agreeing on >= %g%% of messages: %d of %d (%.2f%%)" % (
        args.target_rules, rules_ok, len(loaded), rule_rate))
    print("parity: messages whose total score agrees within 0.5: %d of %d (%.2f%%)" % (
        score_ok, n, score_rate))
    print("parity: hits agreeing: %d of the %d rule hits either side found (%.2f%%)" % (
        both, either, pct(both, either)))
    print("parity: time spamassassin %.1fs, mailwarden %.1fs (%d jobs)" % (
        sa_seconds, mw_seconds, args.jobs))
    print("target: every loaded rule agreeing on >= %g%% of messages (100%% of rules), score "
          "within 0.5 on >= %g%% of messages; gap: %d rules, %.2f points of score agreement" % (
              args.target_rules, args.target_score, len(loaded) - rules_ok,
              max(0.0, args.target_score - score_rate)))
    ranked = sorted(disagree.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
    print("rules that disagree (%d), most frequent first: RULE total sa-only mw-only examples" % len(ranked))
    for r, (sa_only, mw_only, ex) in ranked[:args.show]:
        print("  %s %d %d %d %s" % (r, sa_only + mw_only, sa_only, mw_only, " ".join(ex)))
    if len(ranked) > args.show:
        print("  ... %d more" % (len(ranked) - args.show))
    unrun = sorted(sa_unrun.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    print("rules spamassassin hit that mailwarden does not run (%d), most frequent first:" % len(unrun))
    for r, ps in unrun[:args.show]:
        print("  %s %d %s (%s)" % (r, len(ps), ps[0], skipped.get(r, "not a stock rule name")))
    if len(unrun) > args.show:
        print("  ... %d more" % (len(unrun) - args.show))
    if args.save:
        with open(args.save, "w") as f:
            json.dump({rel(p): {"sa": sa[p], "mw": mw.get(p)} for p in paths}, f, indent=1,
                      sort_keys=True)
    status = 0
    if failed:
        print("FAIL: %d messages could not be checked" % len(failed))
        status = 1
    if args.floor_rules is not None and rule_rate < args.floor_rules:
        print("FAIL: rule agreement %.2f%% is below the floor %.2f%%" % (rule_rate, args.floor_rules))
        status = 1
    if args.floor_score is not None and score_rate < args.floor_score:
        print("FAIL: score agreement %.2f%% is below the floor %.2f%%" % (score_rate, args.floor_score))
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
