#!/usr/bin/python3
"""smtp-client.py - SMTP clients for the integration tests that swaks cannot play.

  smtp-client.py session --port P [--helo H] TX...
      Several transactions on ONE connection. Each TX is FROM,TO[,TO...],TOKEN. Prints one
      line per transaction:  TOKEN<TAB>STAGE<TAB>CODE<TAB>TEXT  where STAGE is the command that
      ended it (MAIL, RCPT, DATA or END) and CODE/TEXT the server's reply to it.

  smtp-client.py burst --port P --connections C --messages M --ready-dir D --go-file G
      C connections at once, each sending M messages one after the other. The second message
      of every connection stops in the middle of its DATA (headers sent, body not yet) and
      creates D/<conn>.ready; it goes on once the file G exists (or after 60 s). Reconnects
      after a connection is lost. Prints one line per message:
      TOKEN<TAB>RESULT<TAB>CODE<TAB>TEXT  with RESULT accepted, tempfail, reject or error, and
      for accepted messages the Postfix queue id as the last field.
"""
import argparse
import os
import smtplib
import sys
import threading
import time


def message(token, sender, rcpts):
    return ("From: <%s>\r\nTo: %s\r\nSubject: mailwarden integration test %s\r\n"
            "Message-ID: <%s@example.test>\r\nX-MW-Test-Id: %s\r\n\r\n"
            "This is test message %s.\r\n" % (sender, ", ".join("<%s>" % r for r in rcpts),
                                                token, token, token, token))


def text(msg):
    return msg.decode("utf-8", "replace").replace("\n", " ") if isinstance(msg, bytes) else str(msg)


def cmd_session(a):
    s = smtplib.SMTP("127.0.0.1", a.port, local_hostname=a.helo, timeout=120)
    s.ehlo()
    for tx in a.tx:
        parts = tx.split(",")
        sender, rcpts, token = parts[0], parts[1:-1], parts[-1]
        code, msg = s.mail(sender)
        if code != 250:
            print("%s\tMAIL\t%d\t%s" % (token, code, text(msg)), flush=True)
            s.rset()
            continue
        ok = 0
        last = (0, b"")
        for r in rcpts:
            code, msg = s.rcpt(r)
            last = (code, msg)
            ok += code in (250, 251)
        if not ok:
            print("%s\tRCPT\t%d\t%s" % (token, last[0], text(last[1])), flush=True)
            s.rset()
            continue
        code, msg = s.data(message(token, sender, rcpts).encode())
        print("%s\t%s\t%d\t%s" % (token, "END" if code != 354 else "DATA", code, text(msg)),
              flush=True)
    s.quit()
    return 0


def classify(code):
    if 200 <= code < 300:
        return "accepted"
    if 400 <= code < 500:
        return "tempfail"
    if 500 <= code < 600:
        return "reject"
    return "error"


def cmd_burst(a):
    out_lock = threading.Lock()

    def report(token, code, msg, qid=""):
        with out_lock:
            print("%s\t%s\t%d\t%s\t%s" % (token, classify(code), code, text(msg), qid),
                  flush=True)

    def worker(conn_no):
        s = None
        for m in range(a.messages):
            token = "burst-%02d-%02d-%s" % (conn_no, m, a.tag)
            sender, rcpt = "alice@example.test", "bob%d@remote.test" % conn_no
            pause = (m == 1)
            try:
                if s is None:
                    s = smtplib.SMTP("127.0.0.1", a.port, local_hostname="burst.test",
                                     timeout=120)
                    s.ehlo()
                code, msg = s.mail(sender)
                if code != 250:
                    report(token, code, msg)
                    s.rset()
                    if pause:
                        open(os.path.join(a.ready_dir, "%d.ready" % conn_no), "w").close()
                    continue
                code, msg = s.rcpt(rcpt)
                if code not in (250, 251):
                    report(token, code, msg)
                    s.rset()
                    if pause:
                        open(os.path.join(a.ready_dir, "%d.ready" % conn_no), "w").close()
                    continue
                s.putcmd("data")
                code, msg = s.getreply()
                if code != 354:
                    report(token, code, msg)
                    if pause:
                        open(os.path.join(a.ready_dir, "%d.ready" % conn_no), "w").close()
                    continue
                body = message(token, sender, [rcpt])
                head, _, rest = body.partition("\r\n\r\n")
                s.send((head + "\r\n").encode())
                if pause:
                    open(os.path.join(a.ready_dir, "%d.ready" % conn_no), "w").close()
                    deadline = time.time() + 60
                    while not os.path.exists(a.go_file) and time.time() < deadline:
                        time.sleep(0.05)
                s.send(("\r\n" + rest + ".\r\n").encode())
                code, msg = s.getreply()
                qid = ""
                t = text(msg)
                if code == 250 and "queued as " in t:
                    qid = t.split("queued as ", 1)[1].split()[0]
                report(token, code, msg, qid)
                if code == 421:
                    s.close()
                    s = None
            except smtplib.SMTPServerDisconnected as e:
                report(token, 0, "disconnected: %s" % e)
                s = None
            except (OSError, smtplib.SMTPException) as e:
                report(token, 0, "error: %s" % e)
                try:
                    s.close()
                except Exception:
                    pass
                s = None
        if s is not None:
            try:
                s.quit()
            except Exception:
                pass

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(a.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("session")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--helo", default="client.test")
    s.add_argument("tx", nargs="+")
    b = sub.add_parser("burst")
    b.add_argument("--port", type=int, required=True)
    b.add_argument("--connections", type=int, default=5)
    b.add_argument("--messages", type=int, default=4)
    b.add_argument("--ready-dir", required=True)
    b.add_argument("--go-file", required=True)
    b.add_argument("--tag", default="x")
    a = p.parse_args()
    return cmd_session(a) if a.cmd == "session" else cmd_burst(a)


if __name__ == "__main__":
    sys.exit(main())
