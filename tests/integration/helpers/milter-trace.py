#!/usr/bin/python3
"""milter-trace.py - prints a tcpdump capture (pcap, lo or Ethernet link) of milter
connections as one line per TCP segment: the time since the first segment, who sent it (MTA or
milter, told apart by the milter's port), its length and flags, and the milter packets that
begin in it (command letter and name, e.g. "L header"). Segments cut by the capture's snap
length show the packets that fit. For reading a trace, not for deciding anything.

usage: milter-trace.py CAPTURE.pcap MILTER_PORT
"""
import struct
import sys

MTA_COMMANDS = {
    b"A": "abort", b"B": "body", b"C": "connect", b"D": "macro", b"E": "end-of-message",
    b"H": "helo", b"L": "header", b"M": "mail", b"N": "end-of-headers", b"O": "options",
    b"Q": "quit", b"R": "rcpt", b"T": "data", b"U": "unknown", b"K": "quit-new-conn",
}
MILTER_REPLIES = {
    b"+": "add-rcpt", b"-": "del-rcpt", b"2": "add-rcpt-par", b"4": "shutdown", b"a": "accept",
    b"b": "replace-body", b"c": "continue", b"d": "discard", b"e": "chg-from", b"f": "conn-fail",
    b"h": "add-header", b"i": "ins-header", b"l": "set-symlist", b"m": "chg-header",
    b"p": "progress", b"q": "quarantine", b"r": "reject", b"s": "skip", b"t": "tempfail",
    b"y": "reply-code", b"O": "options",
}


def segments(path):
    with open(path, "rb") as f:
        head = f.read(24)
        magic = struct.unpack("<I", head[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        link = struct.unpack(endian + "I", head[20:24])[0]
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, caplen, _ = struct.unpack(endian + "IIII", rec)
            data = f.read(caplen)
            t = sec + frac / (1e9 if nano else 1e6)
            off = 14 if link == 1 else (16 if link == 113 else 0)
            ip = data[off:]
            if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            total = struct.unpack(">H", ip[2:4])[0]
            tcp = ip[ihl:]
            sport, dport = struct.unpack(">HH", tcp[:4])
            doff = (tcp[12] >> 4) * 4
            flags = tcp[13]
            payload_len = total - ihl - doff
            yield t, sport, dport, flags, payload_len, tcp[doff:]


def describe(payload, names):
    out, i = [], 0
    while i + 5 <= len(payload):
        n = struct.unpack(">I", payload[i:i + 4])[0]
        cmd = payload[i + 4:i + 5]
        name = names.get(cmd, "?")
        extra = ""
        if cmd == b"D" and i + 6 <= len(payload):
            extra = " for " + MTA_COMMANDS.get(payload[i + 5:i + 6], "?")
        if cmd == b"L":
            extra = " " + payload[i + 5:i + 5 + min(n - 1, 20)].split(b"\0")[0].decode("ascii", "replace")
        out.append("%s %s%s" % (cmd.decode("ascii", "replace"), name, extra))
        i += 4 + n
    return ", ".join(out)


def main():
    path, port = sys.argv[1], int(sys.argv[2])
    t0 = None
    for t, sport, dport, flags, plen, payload in segments(path):
        t0 = t if t0 is None else t0
        who = "milter -> MTA" if sport == port else "MTA -> milter"
        fl = "".join(c for c, bit in (("S", 2), ("F", 1), ("P", 8), (".", 16)) if flags & bit)
        names = MILTER_REPLIES if sport == port else MTA_COMMANDS
        what = describe(payload, names) if plen > 0 else ("pure ACK" if fl == "." else "")
        print("%10.3f ms  %s  %-4s %5d  %s" % ((t - t0) * 1000, who, fl, plen, what))


if __name__ == "__main__":
    main()
