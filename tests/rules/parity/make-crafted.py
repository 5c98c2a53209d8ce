#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make-crafted.py - writes the parity set's own messages, messages/crafted/{ham,spam}/*.eml,
written for mailwarden by its authors: newsletters with click-tracking links, list mail
with a Reply-To, replies, HTML-only and multipart mail, base64 and quoted-printable bodies,
forged headers, phishing with links whose text names another site, advance-fee mail with a
freemail Reply-To, and so on. Reserved names and documentation addresses only. Deterministic:
the same files on every run.  /usr/bin/python3 make-crafted.py"""
import base64
import os
import quopri

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "messages", "crafted")

BRANDS = ["shop", "books", "garden", "travel", "bikes", "music", "foods", "tools"]
ESPS = ["click.mailer-esp.example", "t.sendgrid-like.example", "links.news-relay.example",
        "trk.campaigns.example"]
PEOPLE = [("Alice Martin", "alice"), ("Bob Chen", "bob.chen"), ("Carla Diaz", "carla"),
          ("Dmitri Volkov", "dmitri"), ("Eve Okafor", "eve.o"), ("Farid Haddad", "farid")]
DAYS = ["Mon, 02 Nov 2026", "Tue, 03 Nov 2026", "Wed, 04 Nov 2026", "Thu, 05 Nov 2026",
        "Fri, 06 Nov 2026", "Sat, 07 Nov 2026", "Sun, 08 Nov 2026"]


def received(i, helo, ip, by="mx.example.org"):
    day = DAYS[i % len(DAYS)]
    return ("Received: from %s (%s [%s])\n\tby %s (Postfix) with ESMTPS id 4N%05dQ\n"
            "\tfor <user@example.org>; %s %02d:%02d:%02d +0000\n"
            % (helo, helo, ip, by, 1000 + i, day, 8 + i % 10, (i * 7) % 60, (i * 13) % 60))


def head(i, frm, to, subject, extra="", helo=None, ip=None, mid_domain=None):
    domain = frm.split("@")[-1].rstrip(">")
    helo = helo or "mail." + domain
    ip = ip or "198.51.100.%d" % (10 + i % 200)
    day = DAYS[i % len(DAYS)]
    return (received(i, helo, ip) +
            "Date: %s %02d:%02d:%02d +0000\n" % (day, 8 + i % 10, (i * 7) % 60, (i * 13) % 60) +
            "From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%d.%s@%s>\n"
            % (frm, to, subject, 202611000 + i, "x%x" % (i * 7919), mid_domain or domain) + extra)


def qp(text):
    return quopri.encodestring(text.encode()).decode()


def b64(text):
    return base64.encodebytes(text.encode()).decode()


def multipart_alt(plain, html, boundary, html_b64=False):
    hcte = "base64" if html_b64 else "quoted-printable"
    hbody = b64(html) if html_b64 else qp(html)
    return ("MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"%s\"\n\n"
            "This is a multi-part message in MIME format.\n\n"
            "--%s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n%s\n"
            "--%s\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: %s\n\n%s\n--%s--\n"
            % (boundary, boundary, qp(plain), boundary, hcte, hbody, boundary))


def html_only(html, b64_body=False):
    if b64_body:
        return ("MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n"
                "Content-Transfer-Encoding: base64\n\n" + b64(html))
    return ("MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n" + qp(html))


def plain(text, cte="7bit", charset="us-ascii"):
    body = qp(text) if cte == "quoted-printable" else b64(text) if cte == "base64" else text
    return ("MIME-Version: 1.0\nContent-Type: text/plain; charset=%s\n"
            "Content-Transfer-Encoding: %s\n\n%s" % (charset, cte, body))


def newsletter(i):
    brand = BRANDS[i % len(BRANDS)]
    esp = ESPS[i % len(ESPS)]
    site = "www.%s.example" % brand
    track = lambda n: "https://%s/ls/click?upn=%s%d" % (esp, "aGVsbG8td29ybGQ" * 2, n)
    products = ["Autumn collection", "Weekend offers", "New arrivals", "Members' corner"]
    rows = "".join('<tr><td><a href="%s">%s</a> &mdash; see what is new this week.</td></tr>\n'
                   % (track(n), p) for n, p in enumerate(products))
    html = ("<html><head><title>%s news</title></head><body>\n"
            "<table width=\"600\"><tr><td><img src=\"https://img.%s.example/logo.png\" alt=\"%s\" width=\"120\" height=\"40\"></td></tr>\n"
            "<tr><td><h1>Hello from %s</h1><p>Our monthly letter with the news from the shop, "
            "opening hours for the holidays and a few notes from the team.</p></td></tr>\n%s"
            "<tr><td>Visit us at <a href=\"%s\">%s</a> or reply to this mail.</td></tr>\n"
            "<tr><td><small>You receive this letter because you subscribed at %s. "
            "<a href=\"%s\">Unsubscribe</a> | <a href=\"%s\">Preferences</a></small></td></tr>\n"
            "</table></body></html>\n"
            % (brand.title(), brand, brand, brand.title(), rows, track(9), site, site, track(10), track(11)))
    text = ("Hello from %s\n\nOur monthly letter with the news from the shop, opening hours for the\n"
            "holidays and a few notes from the team.\n\nVisit us at https://%s/\n\n"
            "Unsubscribe: %s\n" % (brand.title(), site, track(10)))
    reply_to = "" if i % 3 else "Reply-To: %s Team <hello@%s-support.example>\n" % (brand.title(), brand)
    extra = ("List-Unsubscribe: <%s>, <mailto:unsub-%d@%s>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
             "Precedence: bulk\n%s" % (track(10), i, esp, reply_to))
    h = head(i, "%s News <news@mail.%s.example>" % (brand.title(), brand), "user@example.org",
             "%s: %s" % (brand.title(), products[i % 4]), extra, helo="o%d.%s" % (i, esp))
    return h + multipart_alt(text, html, "=_nl_%d" % i, html_b64=(i % 2 == 0))


def list_mail(i):
    name, local = PEOPLE[i % len(PEOPLE)]
    lst = ["dev", "users", "announce", "hiking"][i % 4]
    body = ("Hi all,\n\nI tried the configuration from last week's thread and it works for me\n"
            "after changing the timeout to 30 seconds. The log shows the retries as\nexpected:\n\n"
            "  retry 1 after 5s\n  retry 2 after 10s\n\nDoes anyone know whether the limit applies per host or per\n"
            "connection? The documentation is not clear on this.\n\nThanks,\n%s\n\n"
            "_______________________________________________\n%s mailing list\n%s@lists.project.example\n"
            "https://lists.project.example/mailman/listinfo/%s\n" % (name.split()[0], lst, lst, lst))
    extra = ("Reply-To: %s@lists.project.example\nList-Id: %s list <%s.lists.project.example>\n"
             "List-Post: <mailto:%s@lists.project.example>\nList-Unsubscribe: <https://lists.project.example/mailman/options/%s>\n"
             "Sender: \"%s\" <%s-bounces@lists.project.example>\nPrecedence: list\n%s"
             % (lst, lst, lst, lst, lst, lst, lst,
                "In-Reply-To: <thread-%d@example.net>\nReferences: <thread-%d@example.net>\n" % (i, i) if i % 2 else ""))
    subj = ("Re: " if i % 2 else "") + "[%s] timeouts and retries" % lst
    h = head(i, "%s <%s@%s>" % (name, local, ["example.net", "example.com", "mail.example"][i % 3]),
             "%s@lists.project.example" % lst, subj, extra, helo="lists.project.example")
    return h + plain(body, "quoted-printable" if i % 3 == 0 else "7bit")


def reply(i):
    name, local = PEOPLE[i % len(PEOPLE)]
    body = ("On %s, you wrote:\n> Could you send me the notes from the meeting?\n> I missed the second half.\n\n"
            "Sure, here they are. We agreed to move the release by one week and\nto ask the printer for a new quote. "
            "Paul will book the room for\nThursday.\n\nBest,\n%s\n" % (DAYS[i % 7], name.split()[0]))
    extra = "In-Reply-To: <orig-%d@example.org>\nReferences: <orig-%d@example.org>\nUser-Agent: Mutt/2.2.9\n" % (i, i)
    h = head(i, "%s <%s@example.com>" % (name, local), "You <user@example.org>",
             "Re: meeting notes", extra)
    return h + plain(body, ["7bit", "quoted-printable", "base64"][i % 3],
                     "utf-8" if i % 3 else "us-ascii")


def transactional(i):
    brand = BRANDS[(i + 3) % len(BRANDS)]
    html = ("<html><body><p>Dear customer,</p><p>Thank you for your order <b>#%d</b>. "
            "It will ship within two days.</p><p>Track it at <a href=\"https://%s/track?o=%d\">"
            "https://www.%s.example/orders/%d</a>.</p><p>Questions? Reply to this mail and our "
            "support team answers within a day.</p><p>%s.example</p></body></html>\n"
            % (40000 + i, ESPS[i % 4], i, brand, 40000 + i, brand.title()))
    text = ("Dear customer,\n\nThank you for your order #%d. It will ship within two days.\n\n"
            "Track it at https://www.%s.example/orders/%d\n" % (40000 + i, brand, 40000 + i))
    extra = "Reply-To: Support <support@help-desk-%s.example>\n" % brand
    h = head(i, "%s Orders <orders@%s.example>" % (brand.title(), brand), "user@example.org",
             "Your order #%d" % (40000 + i), extra, helo="mta%d.%s" % (i, ESPS[i % 4]))
    return h + multipart_alt(text, html, "=_tx_%d" % i)


def attachment_ham(i):
    boundary = "=_att_%d" % i
    pdf = base64.encodebytes(b"%PDF-1.4\n% crafted test file\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n").decode()
    h = head(i, "Grace Lee <grace@example.com>", "user@example.org", "Invoice for October")
    return h + ("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"%s\"\n\n--%s\n"
                "Content-Type: text/plain; charset=utf-8\n\nHello,\n\nplease find the invoice for October attached.\n\nGrace\n\n"
                "--%s\nContent-Type: application/pdf; name=\"invoice-%d.pdf\"\nContent-Disposition: attachment; filename=\"invoice-%d.pdf\"\n"
                "Content-Transfer-Encoding: base64\n\n%s--%s--\n" % (boundary, boundary, boundary, i, i, pdf, boundary))


def phishing(i):
    brands = [("PayPal", "www.paypal.com"), ("Example Bank", "online.examplebank.com"),
              ("Webmail", "mail.example-webmail.com"), ("Apple", "appleid.apple.com")]
    brand, site = brands[i % len(brands)]
    target = ["http://198.51.100.%d/%s/login.php" % (50 + i, brand.lower().replace(" ", "")),
              "https://secure-verify-%d.example.net/account/update" % i,
              "http://%s-login.example.info/session?id=%d" % (brand.lower().replace(" ", ""), i)][i % 3]
    html = ("<html><body><p>Dear Customer,</p><p>We detected unusual activity on your account. "
            "Your access has been <b>temporarily limited</b>. To restore full access, please "
            "verify your information within 24 hours:</p><p><a href=\"%s\">https://%s/signin</a></p>"
            "<p>If you do not verify, your account will be permanently suspended.</p>"
            "<p>Sincerely,<br>%s Security Team</p></body></html>\n" % (target, site, brand))
    frm = ["%s Security <security@%s-alerts.example.net>" % (brand, brand.lower().replace(" ", "")),
           "\"%s\" <service@%s>" % (brand, site.split(".", 1)[1]),
           "%s <no-reply@account-notice%d.example.com>" % (brand, i)][i % 3]
    extra = "Reply-To: %s Support <support.%d@freemail.example>\n" % (brand, i) if i % 2 else ""
    h = head(i, frm, "user@example.org", ["Account limited", "Action required: verify your account",
             "Unusual sign-in activity", "Your account will be suspended"][i % 4], extra,
             helo=["localhost", "ylmf-pc", "[198.51.100.9]", "mail.example.info"][i % 4],
             ip="203.0.113.%d" % (20 + i))
    return h + html_only(html, b64_body=(i % 2 == 1))


def advance_fee(i):
    body = ("Dear Friend,\n\nI am Barrister %s, the personal attorney to a late client who died\n"
            "with his family in a car accident. He left the sum of US$%d,500,000.00 (%s Million\n"
            "Dollars) in a bank here. I need your assistance as his next of kin to transfer\n"
            "this fund. You will receive 40%% of the total sum. This transaction is 100%% risk free.\n\n"
            "Reply with your full name, private telephone number and address.\n\n"
            "Regards,\nBarrister %s\n" % (["James Moore", "Paul Edet", "Kofi Mensah"][i % 3], 10 + i,
                                           ["Ten", "Eleven", "Twelve"][i % 3], ["James Moore", "Paul Edet", "Kofi Mensah"][i % 3]))
    extra = "Reply-To: barrister.%d@freemail.example\nX-Mailer: Microsoft Outlook Express 6.00.2600.0000\n" % i
    h = head(i, "Barrister <info%d@compromised-host.example>" % i, "undisclosed-recipients:;",
             ["URGENT BUSINESS PROPOSAL", "Confidential: next of kin", "ATTENTION BENEFICIARY"][i % 3],
             extra, helo="unknown", ip="203.0.113.%d" % (100 + i))
    return h + plain(body, ["7bit", "quoted-printable", "base64"][i % 3], "iso-8859-1")


def pharma(i):
    html = ("<html><body bgcolor=\"#ffffff\"><center><font size=\"5\" color=\"#ff0000\"><b>%s</b></font><br>"
            "<font color=\"#fefefe\">%s</font><br><a href=\"http://pills-%d.example.ru/?id=%d\">"
            "<img src=\"http://pills-%d.example.ru/img/banner.gif\" width=\"500\" height=\"300\"></a><br>"
            "<font size=\"1\">Viagra, Cialis, Levitra - lowest prices! No prescription needed! "
            "Order now and save 80%%!</font></center></body></html>\n"
            % (["BEST PRICES ON MEDS", "CHEAP PILLS ONLINE", "MEN'S HEALTH SALE"][i % 3],
               "random words to fill the page lorem ipsum " * 3, i, i * 31, i))
    h = head(i, "Pharmacy Online <sales%d@pharm%d.example.ru>" % (i, i), "user@example.org",
             ["Cheap V1agra", "Save 80% on meds!!!", "YOUR PRESCRIPTION IS READY"][i % 3],
             "X-Mailer: The Bat! (v3.5) Professional\n", helo="[203.0.113.%d]" % (150 + i), ip="203.0.113.%d" % (150 + i))
    return h + html_only(html, b64_body=(i % 2 == 0))


def spam_newsletter(i):
    track = "http://%d.redir-track.example.biz/c/%d" % (i, i * 977)
    html = ("<html><body><h2>CONGRATULATIONS!</h2><p>You have been selected to receive a "
            "<b>$1000 Gift Card</b>! Click below to claim your reward before it expires.</p>"
            "<p><a href=\"%s\">www.walmart.com/rewards</a></p><p>Limited time offer. Act now!</p>"
            "<p>To stop receiving these messages <a href=\"%s/unsub\">click here</a>.</p></body></html>\n"
            % (track, track))
    extra = "List-Unsubscribe: <%s/unsub>\nReply-To: rewards@claims-%d.example.biz\n" % (track, i)
    h = head(i, "Rewards Center <rewards@promo-%d.example.biz>" % i, "user@example.org",
             "You have WON a $1000 Gift Card!", extra, ip="203.0.113.%d" % (200 + i % 50))
    return h + multipart_alt("CONGRATULATIONS! Claim your $1000 Gift Card: %s\n" % track, html, "=_sp_%d" % i)


def forged_outlook(i):
    body = ("Hello,\n\nMake money from home! Earn $5000 a week working only 2 hours a day.\n"
            "No experience required. Visit http://easy-money-%d.example.biz/join now!\n\n"
            "To be removed from our list reply with REMOVE in the subject.\n" % i)
    extra = ("X-Mailer: Microsoft Outlook, Build 10.0.2616\nX-MimeOLE: Produced By Microsoft MimeOLE V6.00.2900.2180\n"
             "X-Priority: 1 (Highest)\n")
    h = head(i, "\"Work From Home\" <jobs@yahoo.com>", "user@example.org",
             "Earn $5000 a week from home", extra, helo="yahoo.com", ip="203.0.113.%d" % (60 + i),
             mid_domain="localhost")
    return h + plain(body, "7bit")


HAM = [(newsletter, 16), (list_mail, 12), (reply, 9), (transactional, 8), (attachment_ham, 3)]
SPAM = [(phishing, 12), (advance_fee, 6), (pharma, 6), (spam_newsletter, 6), (forged_outlook, 4)]


def main():
    n = 0
    for label, kinds in (("ham", HAM), ("spam", SPAM)):
        d = os.path.join(OUT, label)
        os.makedirs(d, exist_ok=True)
        for fn, count in kinds:
            for i in range(count):
                with open(os.path.join(d, "%s-%02d.eml" % (fn.__name__.replace("_", "-"), i)), "w") as f:
                    f.write(fn(i))
                n += 1
    print("wrote %d messages under %s" % (n, OUT))


if __name__ == "__main__":
    main()
