#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""header-cpu-bench.py - the CPU a message costs with Debian's stock SpamAssassin rules, for
hostile header blocks (tests/spam/make-hostile.py) and for ordinary messages of the same sizes,
in the daemon and offline. Not a test: it prints a table (docs/PERFORMANCE.md has one run).

    MW_BUILDDIR=BUILD /usr/bin/python3 tests/bench/header-cpu-bench.py [--before OLD-BUILD]
        [--repeat N] [--rules DIR]

For each build (--before first, when given, so that both run on the same machine state):
- daemon: starts `mailwarden -f` with the stock rules (/usr/share/spamassassin/*.cf), SPF and
  reverse DNS against tests/tools/dnsserver.py on loopback (an empty zone: every lookup ends at
  once), sends each message N times (default 10) with tests/bench/mwload from an external
  client, and reads the daemon's utime+stime (/proc/PID/stat, 10 ms ticks) before and after:
  CPU ms per message. Messages mwload cannot deliver (a field over libmilter's data limit) are
  marked "not delivered".
- offline: mailwarden-check on each message, the smallest user+sys CPU of 3 runs (wait4), less
  that of a 300-byte message (reading the policy and the rules): CPU ms per message.
"excess" is a message's CPU less that of the ordinary message of the same size.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_of_pid(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / TICK    # utime + stime, ms


def run_child_cpu(argv):
    """user+sys CPU ms of one run of argv (output discarded)."""
    with open(os.devnull, "w") as null:
        p = subprocess.Popen(argv, stdout=null, stderr=null)
        _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return (ru.ru_utime + ru.ru_stime) * 1000.0, p.returncode


def write_policy(path, socket, dns_port, rules):
    with open(path, "w") as f:
        f.write("""milter: { socket = "%s"; timeout = "60s" }
log: { level = "warning"; summary = false }
networks: { internal = [ "10.0.0.0/8" ] }
dns: { nameservers = [ "127.0.0.1@%d" ]; use_hosts = false; timeout = "2s" }
rules: { files = [ "%s/*.cf" ] }
""" % (socket, dns_port, rules))


def start_dns(work):
    zone = os.path.join(work, "zone")
    open(zone, "w").close()
    port_file = os.path.join(work, "dns.port")
    proc = subprocess.Popen(["/usr/bin/python3", os.path.join(SRC, "tests/tools/dnsserver.py"),
                             "--zone", zone, "--port", "0", "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            return proc, int(open(port_file).read())
        time.sleep(0.1)
    proc.terminate()
    sys.exit("the DNS server did not start")


def daemon_costs(build, work, dns_port, rules, messages, repeat):
    sock = os.path.join(work, "mw.sock")
    conf = os.path.join(work, "mw.conf")
    write_policy(conf, "unix:" + sock, dns_port, rules)
    if os.path.exists(sock):
        os.unlink(sock)
    log = open(os.path.join(work, "mw.log"), "a")
    daemon = subprocess.Popen([os.path.join(build, "filter/mailwarden"), "-f", "-c", conf],
                              stdout=log, stderr=log)
    costs = {}
    try:
        for _ in range(300):
            if os.path.exists(sock) or daemon.poll() is not None:
                break
            time.sleep(0.1)
        if not os.path.exists(sock):
            sys.exit("mailwarden did not start: see %s/mw.log" % work)
        mwload = os.path.join(build, "tests/bench/mwload")
        common = [mwload, "-s", "unix:" + sock, "-c", "1", "-a", "198.51.100.7", "-T", "120", "-q"]
        subprocess.run(common + ["-n", "5", "-m", "5", "-f", messages[0]], stdout=subprocess.DEVNULL)
        for path in messages:
            before = cpu_of_pid(daemon.pid)
            out = subprocess.run(common + ["-n", str(repeat), "-m", str(repeat), "-f", path],
                                 capture_output=True, text=True).stdout
            after = cpu_of_pid(daemon.pid)
            answered = re.search(r" error=(\d+)", out)
            if answered is None or int(answered.group(1)) > 0:
                costs[path] = None
            else:
                costs[path] = (after - before) / repeat
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        log.close()
    return costs


def offline_costs(build, work, dns_port, rules, messages, baseline):
    conf = os.path.join(work, "check.conf")
    write_policy(conf, "unix:" + os.path.join(work, "unused.sock"), dns_port, rules)
    check = os.path.join(build, "filter/mailwarden-check")
    argv = [check, "-c", conf, "--client-ip", "198.51.100.7", "--helo", "mail.sender.test",
            "--from", "alice@sender.test", "--rcpt", "bob@our.test"]
    def best(path):
        return min(run_child_cpu(argv + [path])[0] for _ in range(3))
    base = best(baseline)
    return {path: best(path) - base for path in messages}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", help="build directory of the code before the change")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--rules", default="/usr/share/spamassassin")
    args = ap.parse_args()
    build = os.path.abspath(os.environ.get("MW_BUILDDIR", "."))
    builds = ([("before", os.path.abspath(args.before))] if args.before else []) + [("after", build)]
    work = tempfile.mkdtemp(prefix="mw-header-bench-")
    dns = None
    try:
        subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tests/spam/make-hostile.py"), work],
                       check=True)
        hostile = [os.path.join(work, n) for n in ("subject-16x60k.eml", "subject-900k.eml")]
        subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tests/spam/make-hostile.py"), work,
                        "--normal-like"] + hostile, check=True)
        small = os.path.join(work, "small.eml")
        with open(small, "w") as f:
            f.write("From: Alice <alice@sender.test>\nTo: bob@our.test\nSubject: hello\n"
                    "Date: Wed, 02 Dec 2026 10:00:00 +0000\nMessage-ID: <s@sender.test>\n\n"
                    "Hello Bob, see you at noon.\n")
        twin = {h: os.path.join(work, "normal-%d.eml" % os.path.getsize(h)) for h in hostile}
        messages = [small] + [m for h in hostile for m in (twin[h], h)]
        dns, dns_port = start_dns(work)
        results = {}
        for label, b in builds:
            results[label] = (daemon_costs(b, work, dns_port, args.rules, messages, args.repeat),
                              offline_costs(b, work, dns_port, args.rules, messages[1:], small))
        print("| build | message | bytes | daemon CPU ms/msg | excess | mailwarden-check CPU ms | excess |")
        print("|---|---|---|---|---|---|---|")
        for label, _ in builds:
            daemon, offline = results[label]
            for m in messages:
                name = os.path.basename(m)
                d = daemon.get(m)
                o = offline.get(m)
                normal = next((twin[h] for h in hostile if h == m), None)
                def fmt(v):
                    return "not delivered" if v is None else "%.1f" % v
                def excess(costs, v):
                    if normal is None or v is None or costs.get(normal) is None:
                        return ""
                    return "%+.1f" % (v - costs[normal])
                print("| %s | %s | %d | %s | %s | %s | %s |" % (
                    label, name, os.path.getsize(m), fmt(d), excess(daemon, d),
                    "" if m == small else fmt(o), excess(offline, o)))
    finally:
        if dns is not None:
            dns.terminate()
            dns.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
