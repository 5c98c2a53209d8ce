#!/usr/bin/python3
"""smtp-load.py - an SMTP load client for the reliability tests that records what happened to
every single message, so a test can account for each one afterwards.

  smtp-load.py --port P --connections C (--messages N | --stop-file F) --tag T
               [--sender ADDR[:WEIGHT]]... [--progress-file PATH] [--backoff SECONDS]

C connections send messages one after the other until N messages were tried in all, or until
the file F exists. Message number i gets the token T-iiiiiii (in Subject, Message-ID and
X-MW-Test-Id) and its envelope sender is taken from the --sender list in turn, WEIGHT times
each (default alice@example.test). Prints one line per message, as soon as its fate is known:

    TOKEN <TAB> SENDER <TAB> RESULT <TAB> CODE <TAB> TEXT <TAB> QUEUE-ID

RESULT is accepted (2xx after the final dot), tempfail (any 4xx, at whatever stage, including
a 421 greeting), reject (any 5xx) or error (no reply: the connection broke or timed out; CODE
0). After a 4xx (Postfix keeps a failed milter out of the rest of that SMTP session) or an
error the connection is closed and a new one opened, as a sending MTA would; a message is
never retried, so each token appears exactly once. --backoff: how long a connection waits
after a 4xx before it goes on (a sending MTA backs off too; default 0). The progress file, when given,
holds the number of messages finished so far (rewritten after each one), for polling.
Exit status 0 when every message has a line.
"""
import argparse
import os
import smtplib
import socket
import sys
import threading
import time

REPLY_TIMEOUT = 120  # seconds; generous: a loaded machine must not turn into "error"


def text(msg):
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return str(msg).replace("\n", " ").replace("\t", " ")


def classify(code):
    if 200 <= code < 300:
        return "accepted"
    if 400 <= code < 500:
        return "tempfail"
    if 500 <= code < 600:
        return "reject"
    return "error"


def message(token, sender):
    return ("From: <%s>\r\nTo: <bob@remote.test>\r\nSubject: reliability test %s\r\n"
            "Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n"
            "Message-ID: <%s@example.test>\r\nX-MW-Test-Id: %s\r\n\r\n"
            "This is reliability test message %s.\r\n" % (sender, token, token, token, token))


class Run:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.next = 0
        self.done = 0
        self.senders = []
        for spec in a.sender or ["alice@example.test"]:
            addr, _, weight = spec.partition(":")
            self.senders += [addr] * (int(weight) if weight else 1)

    def claim(self):
        with self.lock:
            if self.a.messages and self.next >= self.a.messages:
                return None
            if self.a.stop_file and os.path.exists(self.a.stop_file):
                return None
            n = self.next
            self.next += 1
            return n

    def report(self, token, sender, code, msg, qid=""):
        with self.lock:
            print("%s\t%s\t%s\t%d\t%s\t%s" % (token, sender, classify(code), code, text(msg), qid),
                  flush=True)
            self.done += 1
            if self.a.progress_file:
                tmp = self.a.progress_file + ".tmp"
                with open(tmp, "w") as f:
                    f.write("%d\n" % self.done)
                os.replace(tmp, self.a.progress_file)

    def send_one(self, s, token, sender):
        """One transaction on an open connection; returns (code, text, qid, reusable)."""
        code, msg = s.mail(sender)
        if code != 250:
            return code, msg, "", self.reset(s, code)
        code, msg = s.rcpt("bob@remote.test")
        if code not in (250, 251):
            return code, msg, "", self.reset(s, code)
        code, msg = s.data(message(token, sender).encode())
        qid = ""
        t = text(msg)
        if 200 <= code < 300 and "queued as " in t:
            qid = t.split("queued as ", 1)[1].split()[0]
        return code, msg, qid, not 400 <= code < 500

    def worker(self):
        s = None
        while True:
            n = self.claim()
            if n is None:
                break
            token = "%s-%07d" % (self.a.tag, n)
            sender = self.senders[n % len(self.senders)]
            try:
                if s is None:
                    s = smtplib.SMTP(timeout=REPLY_TIMEOUT)
                    code, msg = s.connect("127.0.0.1", self.a.port)
                    if code != 220:
                        raise smtplib.SMTPConnectError(code, msg)
                    s.ehlo("load.test")
                code, msg, qid, reusable = self.send_one(s, token, sender)
                self.report(token, sender, code, msg, qid)
                if not reusable:
                    self.close(s)
                    s = None
                if 400 <= code < 500 and self.a.backoff:
                    time.sleep(self.a.backoff)
            except smtplib.SMTPResponseException as e:   # includes SMTPConnectError
                self.report(token, sender, e.smtp_code, e.smtp_error)
                self.close(s)
                s = None
                if 400 <= e.smtp_code < 500 and self.a.backoff:
                    time.sleep(self.a.backoff)
            except (OSError, smtplib.SMTPException, socket.timeout) as e:
                self.report(token, sender, 0, "no reply: %s: %s" % (type(e).__name__, e))
                self.close(s)
                s = None
        if s is not None:
            try:
                s.quit()
            except Exception:
                pass
            self.close(s)

    @staticmethod
    def reset(s, code):
        """After a refused MAIL or RCPT: RSET; True when the connection can go on."""
        if 400 <= code < 500:
            return False
        try:
            return s.rset()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    @staticmethod
    def close(s):
        if s is None:
            return
        try:
            s.close()
        except Exception:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--messages", type=int, default=0)
    p.add_argument("--stop-file")
    p.add_argument("--tag", default="rl")
    p.add_argument("--sender", action="append")
    p.add_argument("--progress-file")
    p.add_argument("--backoff", type=float, default=0)
    a = p.parse_args()
    if not a.messages and not a.stop_file:
        p.error("give --messages or --stop-file")
    run = Run(a)
    threads = [threading.Thread(target=run.worker) for _ in range(a.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0 if run.done == run.next else 1


if __name__ == "__main__":
    sys.exit(main())
