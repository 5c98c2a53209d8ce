#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""import-sources.py - copies the third-party test messages of the parity set out of local git
clones of their projects (README.md names the commits) into messages/<source>/.

    /usr/bin/python3 import-sources.py --spamassassin DIR --rspamd DIR --mail-dkim DIR \
        --notmuch DIR

Each DIR is a git directory (a clone, or a bare mirror); files are read with `git show` from
HEAD. A file is taken when it looks like one RFC 5322 message (a header line in its first
line), is at most 200 KB, and carries none of the markers of the collections this project
must never use (the SpamAssassin public corpus, phishing_pot): see FORBIDDEN_MARKERS.
Prints how many files each source gave and which were left out and why."""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "messages")
MAX_BYTES = 200 * 1024
# The SpamAssassin public corpus was collected at Justin Mason's addresses (jmason.org,
# spamassassin.taint.org); phishing_pot redacts its recipients to phishing@pot.
FORBIDDEN_MARKERS = [b"spamassassin.taint.org", b"jmason.org", b"phishing@pot",
                     b"publiccorpus"]
HEADER_LINE = re.compile(rb"^(From |[A-Za-z0-9-]+:)")

SOURCES = {
    # source name: (repository option, [directories in the repository], [excluded prefixes])
    "spamassassin": ("spamassassin", ["t/data/spam", "t/data/nice", "t/data/dkim",
                                      "t/data/welcomelists", "t/data/txrep", "t/data/phishing"],
                     []),
    "rspamd": ("rspamd", ["test/functional/messages"], []),
    "mail-dkim": ("mail_dkim", ["t/corpus"], []),
    # the notmuch list's own mail and notmuch's MIME cases; not its lkml corpus (the Linux
    # kernel list is held out with the other Linux list archives)
    "notmuch": ("notmuch", ["test/corpora"], ["test/corpora/lkml"]),
}


def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo] + list(args), check=True,
                          stdout=subprocess.PIPE).stdout


def main():
    ap = argparse.ArgumentParser()
    for name, (opt, _, _) in SOURCES.items():
        ap.add_argument("--" + opt.replace("_", "-"), required=True, dest=opt)
    args = ap.parse_args()
    for name, (opt, dirs, excluded) in SOURCES.items():
        repo = getattr(args, opt)
        if os.path.isdir(os.path.join(repo, ".git")):
            repo = os.path.join(repo, ".git")
        files = git(repo, "ls-tree", "-r", "--name-only", "HEAD", *dirs).decode().splitlines()
        taken, left = 0, []
        for path in sorted(files):
            if any(path.startswith(p) for p in excluded):
                continue
            data = git(repo, "show", "HEAD:" + path)
            if len(data) > MAX_BYTES:
                left.append((path, "larger than 200 KB"))
            elif not HEADER_LINE.match(data):
                left.append((path, "not a message"))
            elif any(m in data.lower() for m in FORBIDDEN_MARKERS):
                left.append((path, "marker of a forbidden collection"))
            else:
                # messages/<source>/<the directory named in SOURCES, last part>/<flat name>
                top = next(d for d in dirs if path.startswith(d + "/"))
                rel = path[len(top) + 1:]
                flat = re.sub(r"[^A-Za-z0-9._-]", "_", rel.replace("/", "__"))
                if not flat.endswith(".eml"):
                    flat += ".eml"
                sub = os.path.join(OUT, name, os.path.basename(top))
                os.makedirs(sub, exist_ok=True)
                with open(os.path.join(sub, flat), "wb") as f:
                    f.write(data)
                taken += 1
        print("%s: %d messages from %s" % (name, taken, git(repo, "rev-parse", "HEAD").decode().strip()))
        for path, why in left:
            print("  left out %s: %s" % (path, why))
    return 0


if __name__ == "__main__":
    sys.exit(main())
