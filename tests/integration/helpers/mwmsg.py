#!/usr/bin/python3
"""mwmsg.py - small message tools for the integration tests.

  mwmsg.py strip DUMP        print the message an smtp-sink -d dump holds, without smtp-sink's
                             X-Client-Addr/X-Client-Proto/X-Helo-Args/X-Mail-Args/X-Rcpt-Args
                             lines and the Received: header smtp-sink prepends
  mwmsg.py rcpts DUMP        print the envelope recipients of an smtp-sink dump, one per line
  mwmsg.py headers MSG       print the header fields of MSG unfolded, one per line, in order,
                             as "N<TAB>Name: value" (N counts from 1)
"""
import re
import sys

SINK_LINES = ("X-Client-Addr:", "X-Client-Proto:", "X-Helo-Args:", "X-Mail-Args:",
              "X-Rcpt-Args:")


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read().decode("utf-8", "replace")
    return data.replace("\r\n", "\n").split("\n")


def strip(path):
    lines = read_lines(path)
    i = 0
    while i < len(lines) and lines[i].startswith(SINK_LINES):
        i += 1
    # smtp-sink's own Received: header, with its continuation lines
    if i < len(lines) and lines[i].startswith("Received:") and "(smtp-sink)" in "".join(
            lines[i:i + 3]):
        i += 1
        while i < len(lines) and lines[i][:1] in (" ", "\t"):
            i += 1
    sys.stdout.write("\n".join(lines[i:]))


def rcpts(path):
    for line in read_lines(path):
        if line.startswith("X-Rcpt-Args:"):
            m = re.search(r"<([^>]*)>", line)
            print(m.group(1) if m else line.split(":", 1)[1].strip())
        elif not line.startswith(SINK_LINES):
            break


def headers(path):
    fields = []
    for line in read_lines(path):
        if line == "":
            break
        if line[:1] in (" ", "\t") and fields:
            fields[-1] += " " + line.strip()
        else:
            fields.append(line)
    for n, f in enumerate(fields, 1):
        name, _, value = f.partition(":")
        print("%d\t%s: %s" % (n, name, " ".join(value.split())))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("strip", "rcpts", "headers"):
        sys.stderr.write(__doc__)
        return 2
    {"strip": strip, "rcpts": rcpts, "headers": headers}[sys.argv[1]](sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
