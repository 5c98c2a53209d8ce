#!/usr/bin/python3
"""milter-hold.py - opens many milter connections to a filter AT THE SAME TIME, the way an MTA
with that many SMTP sessions would, and records the filter's answer on every one.

  milter-hold.py --port P --connections K [--open-at-once W] [--timeout S]

Phase 1: K connections are opened (at most W handshakes in progress at a time, so the listen
backlog is not overrun) and each does option negotiation, CONNECT and HELO. Every connection
stays open until all K have their CONNECT answer: at that moment K sessions are open together.
Phase 2: the connections whose CONNECT was accepted each send one transaction (MAIL, RCPT,
header fields, end of headers, body, end of message) and QUIT; the ones refused are closed.

Prints one line per connection:  N <TAB> CONNECT-ANSWER <TAB> FINAL-ANSWER <TAB> TEXT
with answers continue, accept, reject, tempfail, discard or error (no answer: the connection
broke or timed out), FINAL-ANSWER "-" when CONNECT refused, TEXT the reply text if any. Then a
line "open-together K" with the number of connections that were open at the same moment.
Exit status 0 when every connection got an answer at every step (no "error").
"""
import argparse
import asyncio
import struct
import sys

# milter protocol v6 (libmilter/mfdef.h)
SMFI_VERSION = 6
ACTIONS = 0x1FF            # every modification action, including SETSYMLIST
STEPS = 0x100 | 0x200      # SMFIP_NOUNKNOWN | SMFIP_NODATA: we never send those
SMFIP_NODATA = 0x200
NR_BITS = {  # step -> the "no reply" bit the filter may ask for
    "C": 0x1000, "H": 0x2000, "M": 0x4000, "R": 0x8000, "L": 0x80, "N": 0x40000, "B": 0x80000,
}
MODIFICATIONS = b"+-2hmiebfqp"   # addrcpt, delrcpt, addrcpt_par, headers, body, from, quarantine, progress
ANSWERS = {b"c": "continue", b"a": "accept", b"r": "reject", b"t": "tempfail",
           b"d": "discard", b"s": "continue"}


class MilterError(Exception):
    pass


class Session:
    def __init__(self, n, timeout):
        self.n = n
        self.timeout = timeout
        self.reader = self.writer = None
        self.noreply = 0
        self.steps = 0

    async def send(self, cmd, data=b""):
        self.writer.write(struct.pack("!I", len(data) + 1) + cmd + data)
        await self.writer.drain()

    async def packet(self):
        head = await asyncio.wait_for(self.reader.readexactly(4), self.timeout)
        (length,) = struct.unpack("!I", head)
        if length < 1 or length > 1 << 20:
            raise MilterError("bad packet length %d" % length)
        body = await asyncio.wait_for(self.reader.readexactly(length), self.timeout)
        return body[:1], body[1:]

    async def answer(self):
        """Reads packets up to the filter's answer; returns (answer, text)."""
        while True:
            cmd, data = await self.packet()
            if cmd in ANSWERS:
                return ANSWERS[cmd], ""
            if cmd == b"y":
                t = data.rstrip(b"\0").decode("ascii", "replace")
                kind = {"4": "tempfail", "5": "reject"}.get(t[:1], "continue")
                return kind, t
            if cmd in MODIFICATIONS:
                continue
            raise MilterError("unexpected reply %r" % cmd)

    async def step(self, cmd, data):
        await self.send(cmd, data)
        if self.noreply & NR_BITS.get(cmd.decode(), 0):
            return "continue", ""
        return await self.answer()

    async def open(self, port):
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), self.timeout)
        await self.send(b"O", struct.pack("!III", SMFI_VERSION, ACTIONS, STEPS))
        cmd, data = await self.packet()
        if cmd != b"O" or len(data) < 12:
            raise MilterError("bad negotiation reply %r" % cmd)
        _, _, self.steps = struct.unpack("!III", data[:12])
        self.noreply = self.steps
        await self.send(b"D", b"C" + b"j\0mta.test\0{daemon_name}\0hold\0"
                        b"{client_addr}\x00192.0.2.%d\0" % (self.n % 250 + 1))
        addr = b"192.0.2.%d" % (self.n % 250 + 1)
        answer = await self.step(b"C", b"client.test\0" + b"4" + struct.pack("!H", 25000)
                                 + addr + b"\0")
        if answer[0] == "continue":
            answer = await self.step(b"H", b"client.test\0")
        return answer

    async def transaction(self):
        qid = b"HOLD%06d" % self.n
        await self.send(b"D", b"M" + b"i\0" + qid + b"\0{mail_addr}\0alice@example.test\0")
        a = await self.step(b"M", b"<alice@example.test>\0")
        if a[0] != "continue":
            return a
        await self.send(b"D", b"R" + b"i\0" + qid + b"\0{rcpt_addr}\0bob@remote.test\0")
        a = await self.step(b"R", b"<bob@remote.test>\0")
        if a[0] != "continue":
            return a
        if not self.steps & SMFIP_NODATA:
            a = await self.step(b"T", b"")
            if a[0] != "continue":
                return a
        for name, value in ((b"From", b"Alice <alice@example.test>"), (b"To", b"bob@remote.test"),
                            (b"Subject", b"hold test %d" % self.n),
                            (b"Date", b"Wed, 02 Dec 2026 10:00:00 +0000"),
                            (b"Message-ID", b"<hold-%d@example.test>" % self.n)):
            a = await self.step(b"L", name + b"\0" + value + b"\0")
            if a[0] != "continue":
                return a
        await self.send(b"D", b"N" + b"i\0" + qid + b"\0")
        a = await self.step(b"N", b"")
        if a[0] != "continue":
            return a
        a = await self.step(b"B", b"Hello Bob,\r\nthis is a held connection.\r\n")
        if a[0] != "continue":
            return a
        await self.send(b"D", b"E" + b"i\0" + qid + b"\0")
        await self.send(b"E", b"")
        return await self.answer()

    async def quit(self):
        try:
            await self.send(b"Q")
        except OSError:
            pass
        self.close()

    def close(self):
        if self.writer is not None:
            self.writer.close()


async def run(a):
    gate = asyncio.Semaphore(a.open_at_once)
    all_answered = asyncio.Event()
    remaining = [a.connections]
    open_now = [0]
    open_max = [0]
    results = {}

    async def one(n):
        s = Session(n, a.timeout)
        first, final, why = "error", "-", ""
        try:
            async with gate:
                first, why = await s.open(a.port)
            open_now[0] += 1
            open_max[0] = max(open_max[0], open_now[0])
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, MilterError) as e:
            why = "%s: %s" % (type(e).__name__, e)
        remaining[0] -= 1
        if remaining[0] == 0:
            all_answered.set()
        await all_answered.wait()
        if first == "continue":
            try:
                final, why = await s.transaction()
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, MilterError) as e:
                final, why = "error", "%s: %s" % (type(e).__name__, e)
            await s.quit()
        else:
            s.close()
        results[n] = (first, final, why)

    await asyncio.gather(*(one(n) for n in range(a.connections)))
    for n in range(a.connections):
        first, final, why = results[n]
        print("%d\t%s\t%s\t%s" % (n, first, final, why.replace("\t", " ")))
    print("open-together %d" % open_max[0])
    return 0 if all(r[0] != "error" and r[1] != "error" for r in results.values()) else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--connections", type=int, default=1000)
    p.add_argument("--open-at-once", type=int, default=64)
    p.add_argument("--timeout", type=float, default=120)
    a = p.parse_args()
    return asyncio.run(run(a))


if __name__ == "__main__":
    sys.exit(main())
