#!/usr/bin/python3
# tests/spam/make-hostile.py DIR [--normal-like FILE...] - writes the large hostile messages of
# the test set (too big to keep in git) into DIR, each the same on every run:
#   subject-16x60k.eml   16 Subject fields, each one 60 KB RFC 2047 encoded word in a charset
#                        nobody knows (960 KB)
#   subject-900k.eml     one Subject of 900 KB: encoded words folded over 13 000 lines
#   continuation-100k.eml one field folded over 100 000 continuation lines of 150 bytes (15 MB)
#   fields-100k.eml      100 000 header fields before the real ones
# With --normal-like FILE, also FILE's twin normal-SIZE.eml: an ordinary plain-text message of
# the same size in bytes (for the benchmark: what that size costs at normal speed).
# Small seeds of the same shapes are in tests/fuzz/corpus/message*/.
import os
import sys

HEAD = ("From: Alice Sender <alice@sender.test>\n"
        "To: bob@our.test\n"
        "Date: Wed, 02 Dec 2026 10:00:00 +0000\n"
        "Message-ID: <hostile@sender.test>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n")
BODY = "Hello Bob,\n\nthe figures you asked for are attached.\n\nAlice\n"


def encoded_word(size):
    """One Q-encoded word of about size bytes in an unknown charset."""
    unit = "Cheap=E9_meds=E8_now_"
    text = (unit * (size // len(unit) + 1))[:size - 24]
    return "=?x-nobody-knows?Q?" + text + "?="


def subject_16x60k():
    word = encoded_word(60 * 1024)
    return HEAD + "".join("Subject: %s\n" % word for _ in range(16)) + "\n" + BODY


def subject_900k():
    words = []
    size = 0
    i = 0
    while size < 900 * 1024:
        w = "=?x-nobody-knows?Q?Cheap=E9_meds_%06d_now?=" % i
        words.append(w)
        size += len(w) + 2
        i += 1
    lines = [" ".join(words[j:j + 2]) for j in range(0, len(words), 2)]
    return HEAD + "Subject: " + "\n ".join(lines) + "\n\n" + BODY


def continuation_100k():
    pad = "x" * 140
    folded = "".join(" %06d %s\n" % (i, pad) for i in range(100000))
    return HEAD + "Subject: folded\nX-Folded: start\n" + folded + "\n" + BODY


def fields_100k():
    junk = "".join("X-Junk-%06d: x\n" % i for i in range(100000))
    return junk + HEAD + "Subject: after the junk\n\n" + BODY


def normal_like(size):
    line = "The figures for the third quarter are in the attached sheet, as agreed.\n"
    head = HEAD + "Subject: quarterly figures\n\n"
    body = line * ((size - len(head)) // len(line) + 1)
    return (head + body)[:size - 1] + "\n"


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: make-hostile.py DIR [--normal-like FILE...]")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    made = {
        "subject-16x60k.eml": subject_16x60k,
        "subject-900k.eml": subject_900k,
        "continuation-100k.eml": continuation_100k,
        "fields-100k.eml": fields_100k,
    }
    for name, make in made.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(make())
    if len(sys.argv) > 2 and sys.argv[2] == "--normal-like":
        for path in sys.argv[3:]:
            size = os.path.getsize(path)
            with open(os.path.join(out, "normal-%d.eml" % size), "w") as f:
                f.write(normal_like(size))


if __name__ == "__main__":
    main()
