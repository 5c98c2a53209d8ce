#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make-corpus.py - writes the labelled measurement corpus in tests/measure/corpus/{spam,ham}.

Every message is written here by the mailwarden authors (no third-party corpus): spam in the
common families (advance fee / 419, phishing, pharma, lottery, loans, crypto and stock pumps,
sextortion, fake invoices with risky attachments, tech-support and gift-card scams, SEO and
replica offers) and ham of the kinds that trip filters (personal mail, work threads, mailing
lists, newsletters with offers and unsubscribe links, order, shipping and password-reset
notices, receipts, calendar invitations). Each text is written out in two forms (plain text and
HTML or multipart/alternative, with quoted-printable or base64 transfer encodings), so the MIME
decoding path is measured too. Names use reserved domains (example.*, *.example, *.test) and
documentation address blocks. Deterministic: rerunning writes the same files.

    /usr/bin/python3 tests/measure/make-corpus.py [OUTDIR]
"""
import base64
import html
import os
import quopri
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

SPAM = [
    ("Barrister Okon Eze", "okon.eze@lawchambers.example", "URGENT ASSISTANCE NEEDED",
     """Dear Friend,

I am Barrister Okon Eze, personal attorney to the late Mr. Andreas Keller, a foreign
contractor who died with his wife in a plane crash. He left a deposit of US$18,500,000.00
(Eighteen Million Five Hundred Thousand United States Dollars) with a finance company here.
All efforts to locate his relatives have failed. I seek your consent to present you as next
of kin so the funds can be released to you. We will share the money 60/40.
This transaction is 100% risk free. Reply with your full name, private telephone number and
bank details. Treat this as strictly confidential.

Barrister Okon Eze (Esq.)""", ["http://198.51.100.23/claim/form.php"]),
    ("Mrs. Aisha Gaddafi", "mrs.aisha@widowsfund.example", "Investment Proposal From Mrs Aisha",
     """Greetings,

I am a widow and single mother of three children with investment funds worth
Twenty Seven Million Five Hundred Thousand United State Dollars ($27.500.000.00).
I need a trusted investment manager to receive the funds on my behalf. I am willing to
offer you 30% of the total sum. Kindly reply urgently with your phone number so that I can
give you more details. Your urgent response is needed.

Best regards, Mrs Aisha""", []),
    ("Dr. Peter Mba", "pmba@treasury-dept.example", "Payment Release Notification",
     """Attention: Beneficiary,

This is to officially inform you that your outstanding contract payment of $10.5 Million USD
has been approved for release by the Federal Ministry of Finance. To receive your fund, you
are required to reconfirm your full name, address, occupation and a copy of your ID.
Send the processing fee of $350 through Western Union to avoid cancellation.

Dr. Peter Mba, Director Foreign Remittance""", []),
    ("PayPaI Security", "service@paypal-account-verify.example", "Your account has been limited",
     """Dear Customer,

We have noticed unusual activity on your account and it has been temporarily limited.
To restore full access you must verify your identity within 24 hours, otherwise your
account will be permanently suspended.

Click here to verify your account: http://203.0.113.45/paypal/signin/verify.php

Thank you, The Security Team""", ["http://203.0.113.45/paypal/signin/verify.php"]),
    ("Bank of Example Online", "alerts@bank0fexample-secure.example", "Security Alert: Unusual sign-in attempt",
     """Dear Valued Customer,

We detected an unusual sign-in attempt to your online banking. For your security your
access has been suspended. Please update your account information immediately by logging
in below. Failure to do so will result in account closure.

Login now: https://bit.ly/3xSecureBank

Online Banking Security Department""", ["https://bit.ly/3xSecureBank"]),
    ("Mail Administrator", "postmaster@mailbox-quota.example", "Mailbox quota exceeded - action required",
     """Your mailbox has exceeded its storage limit of 2 GB. You may not be able to send or
receive new mail until you re-validate your mailbox.

To re-validate your mailbox, CLICK HERE and enter your email password:
http://192.0.2.77/owa/revalidate/index.html

System Administrator""", ["http://192.0.2.77/owa/revalidate/index.html"]),
    ("Parcel Delivery", "noreply@parcel-tracking-update.example", "Your package could not be delivered",
     """We were unable to deliver your parcel because the shipping address is incomplete.
Your package is waiting at our depot. To reschedule delivery please pay the customs fee
of 1.99 EUR within 48 hours:

https://tinyurl.com/parcel-fee-pay

If the fee is not paid the package will be returned to the sender.""", ["https://tinyurl.com/parcel-fee-pay"]),
    ("Online Pharmacy", "sales@cheap-meds-store.example", "Cheap Viagra and Cialis - 80% OFF",
     """Best prices on Viagra, Cialis, Levitra! No prescription needed.
Viagra 100mg x 30 pills - only $0.99 per pill
Cialis 20mg x 30 pills - only $1.25 per pill
Discreet worldwide shipping, 100% satisfaction guaranteed, money back guarantee.
Order now: http://cheap-meds-store.example/shop/?ref=8812

To be removed from our list reply with REMOVE.""", ["http://cheap-meds-store.example/shop/?ref=8812"]),
    ("Canadian Pharmacy", "orders@rx-discount.example", "Increase your performance tonight",
     """Enlarge your confidence! Our generic pills work in 15 minutes.
Buy generic viagra online without a prescription. Lowest price guaranteed.
Xanax, Valium, Tramadol also available. FDA approved meds, overnight delivery.
Visit our online drugstore: http://rx-discount.example/""", ["http://rx-discount.example/"]),
    ("International Lottery", "claims@euro-lotto-winners.example", "CONGRATULATIONS!!! YOU HAVE WON",
     """CONGRATULATIONS!!!

Your email address has won the sum of 1,000,000.00 EURO (One Million Euro) in the
International Email Lottery Draw held on 12 May. Your winning ticket number is 5647-8821.
To claim your prize contact our claims agent with your winning number, full name, address,
age and telephone number. Winners must claim within 14 days.

Mr. Johnson Smith, Claims Department""", []),
    ("Quick Loans", "approve@fast-cash-loans.example", "You are pre-approved for $5,000 cash",
     """Need cash fast? You have been PRE-APPROVED for a personal loan of up to $5,000!
No credit check. Bad credit OK. Money in your account within 1 hour.
Apply now, it only takes 2 minutes: http://fast-cash-loans.example/apply?id=88213
This is a limited time offer. Act now!""", ["http://fast-cash-loans.example/apply?id=88213"]),
    ("Crypto Profits", "team@bitcoin-profit-system.example", "Turn $250 into $10,000 in 30 days",
     """Hello,

Thousands of people are already earning $1,500 a day with our automated Bitcoin trading
robot. Invest just $250 today and watch your money grow. Guaranteed returns, no experience
needed! Celebrities don't want you to know about this secret.

Start earning now: https://bit.ly/btc-robot-now""", ["https://bit.ly/btc-robot-now"]),
    ("Market Insider", "alerts@hot-stock-picks.example", "This stock is about to explode!!!",
     """URGENT STOCK ALERT

Company: Example Mining Corp (Symbol: EXMC)
Current price: $0.12 -- Target price: $2.50
This penny stock is set to soar after a huge announcement next week. Get in before the
market catches on! Strong buy. Don't miss out on this opportunity.""", []),
    ("Anonymous", "hacker@protonbox.example", "Your account was hacked - pay attention",
     """Hello!

I have very bad news for you. I hacked your device and got access to all your accounts.
I recorded a video of you with your webcam. If you want me to delete it, transfer $1200
in Bitcoin to my wallet: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2
You have 48 hours. If I do not receive the payment I will send the video to all your
contacts. Do not try to contact the police.""", []),
    ("Accounts Department", "invoice@billing-notice.example", "Invoice #INV-99821 overdue",
     """Dear Sir/Madam,

Please find attached the overdue invoice INV-99821. Payment must be made today to avoid
legal action. Open the attached document to view the invoice details.

Regards, Accounts Department""", [], ("Invoice_INV-99821.pdf.exe", "application/octet-stream")),
    ("Windows Support", "support@ms-helpdesk-alert.example", "Your computer is infected - call now",
     """WARNING! Your computer has been infected with 5 viruses. Your personal data and
banking details are at risk. Call Microsoft Certified Technicians immediately at
+1-888-555-0199 to remove the viruses. Do not shut down your computer.""", []),
    ("Rewards Center", "rewards@survey-gift-card.example", "You have been selected for a $500 gift card",
     """Congratulations! You have been selected to receive a $500 Amazon gift card.
Complete our short 30 second survey to claim your reward. Only 3 rewards left today!
Claim now: http://survey-gift-card.example/claim?u=4471
Offer expires at midnight.""", ["http://survey-gift-card.example/claim?u=4471"]),
    ("SEO Expert", "rank@first-page-seo.example", "Get your website to #1 on Google",
     """Hi,

I was checking your website and noticed it is not ranking on the first page of Google.
We can guarantee first page rankings in 30 days. 100% money back guarantee.
Reply with your budget and I will send you our price list. Best SEO packages at unbeatable
prices. Click below to order now.""", ["http://first-page-seo.example/order"]),
    ("Luxury Replicas", "shop@swiss-replica-watches.example", "Rolex replica watches from $99",
     """Luxury Swiss replica watches: Rolex, Omega, Breitling, Cartier.
Highest quality replicas, indistinguishable from the original. Prices from $99.
Free shipping worldwide! Visit our online store: http://swiss-replica-watches.example
Unsubscribe: reply with remove""", ["http://swiss-replica-watches.example"]),
    ("Dr. Slim", "info@lose-weight-fast.example", "Lose 30 pounds in 30 days without diet",
     """Lose weight fast with our miracle pill! Lose 30 pounds in 30 days, no diet, no exercise.
Doctors are amazed. 100% natural, clinically proven. Order today and get a FREE bottle!
Limited time offer: http://lose-weight-fast.example/special""", ["http://lose-weight-fast.example/special"]),
    ("Work From Home", "jobs@home-income-now.example", "Earn $5000 per week from home",
     """Make money from home! Earn $5,000 per week working only 2 hours a day.
No experience required. No selling. This is not a scam. Thousands of people are already
earning extra cash. Reply now to get started and receive your starter kit for FREE.""", []),
    ("HR Recruitment", "recruit@global-staffing.example", "Job offer: Payment Processing Agent",
     """Dear Applicant,

We are pleased to offer you a part time position as a Payment Processing Agent. Your
duties: receive payments from our customers into your personal bank account and forward
them via Western Union, keeping 10% commission. Salary $3,000 per month plus commission.
Please reply with your bank account details and a copy of your ID to start today.""", []),
    ("Hot Singles", "meet@lonely-hearts-date.example", "Someone nearby wants to meet you tonight",
     """Hi sexy, I saw your profile and I want to meet you tonight. I am 24 and lonely.
See my private photos here: http://198.51.100.9/private/photos.html
Click to chat with me now, it is free!""", ["http://198.51.100.9/private/photos.html"]),
    ("Apple ID", "no_reply@appleid-verification.example", "Your Apple ID has been locked",
     """Your Apple ID has been locked for security reasons. Somebody tried to sign in from an
unknown device. To unlock your account you must verify your information within 24 hours:
https://appleid-verification.example.login-secure.example/verify
Apple Support""", ["https://appleid-verification.example.login-secure.example/verify"]),
]

HAM = [
    ("Anna Becker", "anna.becker@example.net", "Dinner on Saturday?",
     """Hi Tom,

Are you and Julia free on Saturday evening? We thought we could try the new Italian place
near the river. Around 7 would suit us. Let me know and I will book a table.

Love, Anna""", []),
    ("Mark Jensen", "mark@example.org", "Re: Photos from the hiking trip",
     """Hey,

Thanks for the pictures, they came out great! The one from the summit is my new desktop
background. Next time we should start earlier, that last hour in the dark was a bit much.

> Here are the photos from last weekend, enjoy!

Cheers, Mark""", []),
    ("Grandma", "helga.m@example.com", "Happy birthday!",
     """My dear Lukas,

Happy birthday! I can't believe you are 30 already. I sent a little something by post,
it should arrive this week. Call me when you have time, I want to hear all about your
new job.

Hugs and kisses, Grandma""", []),
    ("Sarah Lee", "sarah.lee@corp.example.com", "Minutes: Q3 planning meeting",
     """Hi all,

Here are the minutes of today's planning meeting.

1. Release 4.2 moves to 14 October; QA needs two more weeks for the migration tests.
2. Budget: the travel budget for the conference is approved.
3. Hiring: two interviews next week for the backend position.

Action items: Peter updates the roadmap, Mei schedules the interviews.

Thanks, Sarah""", []),
    ("Peter Novak", "p.novak@corp.example.com", "Code review: retry logic in the uploader",
     """Hi Mei,

I looked at your patch for the uploader. The retry logic looks good, but I think the
backoff should be capped at 60 seconds, otherwise a long outage makes the queue stall for
hours. Also, can you add a test for the case where the server returns 503 with a
Retry-After header? Otherwise ready to merge.

Peter""", ["https://git.corp.example.com/uploader/merge_requests/118"]),
    ("Facilities", "facilities@corp.example.com", "Office closed on Friday for maintenance",
     """Dear colleagues,

The office will be closed on Friday 12 September for electrical maintenance. Please work
from home that day. The server room is not affected. If you need access to the building,
contact the facilities team in advance.

Facilities Management""", []),
    ("debian-user list", "user@example.org", "Re: apt upgrade hangs at configuring grub",
     """On Tue, Kim wrote:
> After the upgrade apt hangs while configuring grub-pc. Any ideas?

This usually happens when debconf waits for an answer on a terminal you cannot see.
Try running dpkg --configure -a in a normal terminal, it will ask which disk to install
grub to. Select your boot disk and it continues.

Regards, Jonas""", [], None, {"List-Id": "<debian-user.lists.example.org>",
                              "List-Unsubscribe": "<mailto:debian-user-request@lists.example.org?subject=unsubscribe>"}),
    ("Example Gardening Club", "news@gardenclub.example.org", "Newsletter: autumn planting and a free seed swap",
     """Hello gardeners,

Autumn is the best time to plant bulbs. Tulips, daffodils and crocuses go in now for a
colourful spring. This month's tip: add compost before planting.

Free seed swap: bring your spare seeds to the community hall on 5 October, 10:00-14:00.
Members get 10% off at the partner nursery this month.

Read the full newsletter: https://gardenclub.example.org/news/autumn
Unsubscribe: https://gardenclub.example.org/unsubscribe?m=4412""", ["https://gardenclub.example.org/news/autumn", "https://gardenclub.example.org/unsubscribe?m=4412"], None,
     {"List-Unsubscribe": "<https://gardenclub.example.org/unsubscribe?m=4412>"}),
    ("Example Books", "offers@books.example.com", "Our autumn sale: 20% off selected titles",
     """Dear reader,

Our autumn sale has started. Save 20% on selected fiction and non-fiction titles until
30 September. This week's recommendation: a new biography of Ada Lovelace.

Shop the sale: https://books.example.com/sale
You receive this email because you subscribed at books.example.com. Manage your
preferences or unsubscribe: https://books.example.com/account/newsletter""", ["https://books.example.com/sale", "https://books.example.com/account/newsletter"], None,
     {"List-Unsubscribe": "<https://books.example.com/account/newsletter>"}),
    ("Example Shop", "orders@shop.example.com", "Your order 1002-4431 has been confirmed",
     """Thank you for your order!

Order number: 1002-4431
1 x USB-C charger 65W        29.90 EUR
1 x Cable 2m                  9.90 EUR
Shipping                      0.00 EUR
Total                        39.80 EUR

We will send you another email when your order ships.
View your order: https://shop.example.com/account/orders/1002-4431""", ["https://shop.example.com/account/orders/1002-4431"]),
    ("Example Parcel Service", "tracking@parcels.example.com", "Your parcel is on its way",
     """Good news! Your parcel 00340434161094042557 from Example Shop is on its way and will
be delivered tomorrow between 10:00 and 14:00. Track your parcel:
https://parcels.example.com/track/00340434161094042557""", ["https://parcels.example.com/track/00340434161094042557"]),
    ("Example Cloud", "no-reply@accounts.cloud.example.com", "Reset your password",
     """Hi Julia,

We received a request to reset the password for your Example Cloud account. If you made
this request, use the link below within the next hour:

https://accounts.cloud.example.com/reset?token=d41d8cd98f00b204

If you did not request a password reset, you can ignore this email; your password will not
change.""", ["https://accounts.cloud.example.com/reset?token=d41d8cd98f00b204"]),
    ("Example Energy", "billing@energy.example.com", "Your monthly statement is ready",
     """Dear customer,

Your statement for August is now available in your online account. Amount due: 64.20 EUR,
collected by direct debit on 15 September. Log in to your account at energy.example.com
to view the details.

Customer Service""", []),
    ("City Library", "library@city.example.gov", "Reminder: books due next week",
     """Dear reader,

The following items are due on 18 September:
- The Left Hand of Darkness
- A Brief History of Time
You can renew them online or at any branch.

Your City Library""", []),
    ("Lisa Wong", "lisa.wong@school.example.edu", "Parents' evening on Thursday",
     """Dear parents,

Parents' evening for year 5 takes place on Thursday from 17:00 to 20:00. Please book a
ten-minute slot with your child's teacher using the sign-up sheet at the entrance or by
replying to this email.

Kind regards, Lisa Wong, Year 5 coordinator""", []),
    ("Travel Agency", "bookings@travel.example.com", "Booking confirmation: Lisbon, 3-7 October",
     """Dear Mr. Brown,

Your trip is confirmed.
Flight: Frankfurt - Lisbon, 3 October, 09:40, seat 14C
Hotel: Casa do Rio, 4 nights, breakfast included
Return: 7 October, 18:15

Please check in online 24 hours before departure. Have a good trip!""", []),
    ("IT Helpdesk", "helpdesk@corp.example.com", "[Ticket #4471] VPN connection drops",
     """Hello Daniel,

Thank you for your ticket. We have updated the VPN profile on your laptop remotely. Please
restart the VPN client and let us know if the connection still drops. If it does, please
send us the log file from Help > Export logs.

Best regards, IT Helpdesk""", []),
    ("GitHost", "notifications@githost.example.com", "Re: [project/tool] Fix crash on empty input (#812)",
     """@kim approved these changes.

Looks good to me. Thanks for adding the regression test.

Reply to this email directly or view it on GitHost:
https://githost.example.com/project/tool/pull/812#pullrequestreview-1""", ["https://githost.example.com/project/tool/pull/812#pullrequestreview-1"]),
    ("Calendar", "calendar@corp.example.com", "Invitation: Architecture review @ Wed 10:00",
     """You have been invited to the following event.

Architecture review
When: Wednesday 17 September, 10:00 - 11:00
Where: Meeting room 3 / video call
Organizer: Sarah Lee

Agenda: storage layer redesign, rollout plan.""", []),
    ("Dr. Meyer's Practice", "praxis@doctor.example.de", "Appointment reminder",
     """Dear Ms. Fischer,

This is a reminder of your appointment on Monday, 22 September at 9:30. Please bring your
insurance card. If you cannot come, please cancel at least 24 hours in advance.

Your practice team""", []),
    ("Tom Baker", "tom.baker@example.net", "Money for the holiday house",
     """Hi Chris,

I transferred my share for the holiday house, 450 euros, to your account this morning.
Can you confirm when it arrives? Also, who is bringing the bikes?

Cheers, Tom""", []),
    ("Local Sports Club", "board@sportsclub.example.org", "Annual general meeting - invitation",
     """Dear members,

You are invited to the annual general meeting on 10 October at 19:00 in the club house.
Agenda: report of the board, finances, election of the treasurer, any other business.
Proposals must reach the board by 30 September.

The Board""", []),
    ("Example Airline", "info@airline.example.com", "Your boarding pass",
     """Dear passenger,

Your boarding pass for flight EX 1234 from Berlin to Oslo on 12 October is attached.
Boarding starts at 07:25 at gate B14. Have a pleasant flight.""", [], ("boarding-pass.pdf", "application/pdf")),
    ("Receipts", "receipts@coffee.example.com", "Your receipt from Example Coffee",
     """Thanks for your purchase!

2 x Cappuccino     7.00
1 x Croissant      2.50
Total              9.50 EUR (paid by card)

See you again soon.""", []),
]


def b64_body(text):
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return "\n".join(data[i:i + 76] for i in range(0, len(data), 76))


def qp_body(text):
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def to_html(text, urls):
    paragraphs = [html.escape(p).replace("\n", "<br>\n") for p in text.split("\n\n")]
    body = "".join("<p>%s</p>\n" % p for p in paragraphs)
    for url in urls:
        body += '<p><a href="%s">%s</a></p>\n' % (html.escape(url), "Click here")
    return "<html><head><meta charset=\"utf-8\"></head><body>\n%s</body></html>\n" % body


def headers(name, addr, subject, index, kind, extra):
    domain = addr.split("@")[1]
    lines = [
        "Received: from mail.%s (mail.%s [198.51.100.%d]) by mx.example.org with ESMTP id %04X%02d;"
        " Mon, 8 Sep 2025 10:%02d:00 +0000" % (domain, domain, 10 + index, 0xA000 + index, index, index % 60),
        'From: "%s" <%s>' % (name, addr),
        "To: user@example.org",
        "Subject: %s" % subject,
        "Date: Mon, 8 Sep 2025 10:%02d:00 +0000" % (index % 60),
        "Message-ID: <%s.%d@%s>" % (kind, index, domain),
        "MIME-Version: 1.0",
    ]
    for key, value in (extra or {}).items():
        lines.append("%s: %s" % (key, value))
    return "\n".join(lines) + "\n"


def plain_message(entry, index, kind):
    name, addr, subject, text, urls = entry[:5]
    attachment = entry[5] if len(entry) > 5 else None
    extra = entry[6] if len(entry) > 6 else None
    head = headers(name, addr, subject, index, kind, extra)
    if attachment is None:
        return head + ("Content-Type: text/plain; charset=utf-8\n"
                       "Content-Transfer-Encoding: quoted-printable\n\n") + qp_body(text) + "\n"
    filename, ctype = attachment
    boundary = "=_mixed_%s_%d" % (kind, index)
    return head + ('Content-Type: multipart/mixed; boundary="%s"\n\n' % boundary
                   + "--%s\nContent-Type: text/plain; charset=utf-8\n"
                     "Content-Transfer-Encoding: 8bit\n\n%s\n" % (boundary, text)
                   + "--%s\nContent-Type: %s; name=\"%s\"\nContent-Disposition: attachment;"
                     " filename=\"%s\"\nContent-Transfer-Encoding: base64\n\n%s\n"
                     % (boundary, ctype, filename, filename,
                        b64_body("placeholder attachment content %d\n" % index * 8))
                   + "--%s--\n" % boundary)


def html_message(entry, index, kind):
    name, addr, subject, text, urls = entry[:5]
    extra = entry[6] if len(entry) > 6 else None
    head = headers(name, addr, subject, index, kind, extra)
    page = to_html(text, urls)
    if kind == "spam" and index % 2 == 0:
        # HTML only, base64: a common spam shape
        return head + ("Content-Type: text/html; charset=utf-8\n"
                       "Content-Transfer-Encoding: base64\n\n") + b64_body(page) + "\n"
    boundary = "=_alt_%s_%d" % (kind, index)
    return head + ('Content-Type: multipart/alternative; boundary="%s"\n\n' % boundary
                   + "--%s\nContent-Type: text/plain; charset=utf-8\n"
                     "Content-Transfer-Encoding: quoted-printable\n\n%s\n" % (boundary, qp_body(text))
                   + "--%s\nContent-Type: text/html; charset=utf-8\n"
                     "Content-Transfer-Encoding: base64\n\n%s\n" % (boundary, b64_body(page))
                   + "--%s--\n" % boundary)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    for kind, entries in (("spam", SPAM), ("ham", HAM)):
        folder = os.path.join(out, kind)
        os.makedirs(folder, exist_ok=True)
        for old in os.listdir(folder):
            if old.endswith(".eml"):
                os.unlink(os.path.join(folder, old))
        for i, entry in enumerate(entries):
            for form, make in (("text", plain_message), ("html", html_message)):
                path = os.path.join(folder, "%s-%02d-%s.eml" % (kind, i + 1, form))
                with open(path, "w", encoding="utf-8", newline="\n") as f:
                    f.write(make(entry, i + 1, kind))
        print("%s: %d messages in %s" % (kind, 2 * len(entries), folder))


if __name__ == "__main__":
    main()
