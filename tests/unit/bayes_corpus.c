/* bayes_corpus.c - the crafted messages of bayes_corpus.h: sentences drawn from per-class
 * phrase lists and a shared everyday vocabulary, so that classes overlap in words and the
 * classifier must weigh them. */
#include <stdio.h>
#include <string.h>

#include "bayes_corpus.h"

static unsigned next(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) & 0x7fff;
}

#define PICK(list, st) (list[next(st) % (sizeof list / sizeof list[0])])

static const char *const spam_phrases[] = {
    "Limited time offer on premium watches", "Claim your exclusive reward today",
    "You have been selected as our lucky winner", "Lose weight fast with this miracle pill",
    "Cheap meds shipped overnight without prescription", "Earn thousands working from home",
    "Your account will be suspended unless you verify now", "Double your bitcoin in 24 hours",
    "Hot singles are waiting in your area", "Refinance your mortgage at record low rates",
    "Act now, supplies are running out", "100% free, no credit card required",
    "Congratulations, you won a brand new iPhone", "Unclaimed inheritance funds of US$4,500,000",
    "Best prices on replica designer handbags", "Click below to unsubscribe from our offers",
    "Increase your stamina with natural supplements", "Guaranteed approval for instant loans",
    "Dear beneficiary, kindly send your banking details", "Special discount: 90% off today only",
};
static const char *const ham_phrases[] = {
    "Can we move the project meeting to Thursday afternoon", "I pushed the fix for the parser bug",
    "The quarterly report draft is attached for your review", "Thanks for dinner last night",
    "Please review my pull request before the release", "The build failed on the ARM runner again",
    "Let me know if the schedule works for your team", "Mum says the kids loved the present",
    "Here are the minutes from the architecture discussion", "We need to renew the TLS certificate",
    "The conference talk was accepted, see the program", "Can you water the plants while we travel",
    "I updated the wiki page about the deployment steps", "Lunch on Friday with the new colleagues",
    "The test suite passes now after the refactoring", "Reminder: dentist appointment on Monday",
    "Our flight lands at seven, we will take the train", "The invoice for the repairs came today",
    "Please find the corrected spreadsheet attached", "I think the memory leak is in the cache code",
};
static const char *const common_words[] = {
    "today", "please", "thanks", "regards", "best", "week", "information", "update", "new",
    "team", "good", "time", "message", "details", "here", "next", "again", "soon", "note",
};
static const char *const spam_domains[] = { "deals-promo.example", "win-prize.example",
    "cheap-meds.example", "crypto-boost.example", "bank-verify.example" };
static const char *const ham_domains[] = { "example.org", "dev.example.com", "family.example.net",
    "university.example.edu" };
static const char *const spam_names[] = { "Rewards Center", "Customer Service", "Dr. Smith",
    "Promo Team", "Lottery Board" };
static const char *const ham_names[] = { "Alice Martin", "Bob Keller", "Carol Duarte",
    "Dave Okafor", "Erin Novak" };

void corpus_make(struct corpus_message *m, bool spam, unsigned seed)
{
    unsigned st = seed * 2654435761u + (spam ? 77u : 13u);
    memset(m, 0, sizeof *m);
    const char *domain = spam ? PICK(spam_domains, &st) : PICK(ham_domains, &st);
    const char *name = spam ? PICK(spam_names, &st) : PICK(ham_names, &st);
    snprintf(m->from, sizeof m->from, "\"%s\" <%s%u@%s>", name, spam ? "offer" : "user",
        next(&st) % 50, domain);
    snprintf(m->to, sizeof m->to, "rcpt%u@example.com", next(&st) % 20);
    snprintf(m->subject, sizeof m->subject, "%s", spam ? PICK(spam_phrases, &st)
                                                        : PICK(ham_phrases, &st));
    snprintf(m->message_id, sizeof m->message_id, "<%u.%u@%s>", seed, next(&st), domain);
    snprintf(m->received, sizeof m->received,
        "from mail.%s (mail.%s [192.0.2.%u]) by mx.example.com (Postfix) with ESMTP id %X for "
        "<rcpt@example.com>; Tue, 3 Dec 2024 10:%02u:00 +0000", domain, domain,
        next(&st) % 250 + 1, next(&st) * 7919u, next(&st) % 60);
    snprintf(m->mailer, sizeof m->mailer, "%s", spam ? "MassMailer Pro 3.1" : "Thunderbird 115.4");
    size_t n = 0;
    int sentences = 4 + (int)(next(&st) % 6);
    for (int i = 0; i < sentences && n + 400 < sizeof m->body; i++) {
        const char *phrase = spam ? PICK(spam_phrases, &st) : PICK(ham_phrases, &st);
        n += (size_t)snprintf(m->body + n, sizeof m->body - n, "%s, %s %s. %s\n", phrase,
            PICK(common_words, &st), PICK(common_words, &st),
            next(&st) % 3 == 0 ? PICK(common_words, &st) : "");
    }
    snprintf(m->uri, sizeof m->uri, "http://%s/%s%u", domain, spam ? "promo/click?id=" : "docs/",
        next(&st));
    m->uris[0] = m->uri;
    m->headers[0] = (struct bayes_header){ "Received", m->received };
    m->headers[1] = (struct bayes_header){ "From", m->from };
    m->headers[2] = (struct bayes_header){ "To", m->to };
    m->headers[3] = (struct bayes_header){ "Subject", m->subject };
    m->headers[4] = (struct bayes_header){ "Message-ID", m->message_id };
    m->headers[5] = (struct bayes_header){ "X-Mailer", m->mailer };
    m->msg = (struct bayes_message){ m->body, strlen(m->body), m->uris, 1, m->headers, 6, NULL };
}

int corpus_format(const struct corpus_message *m, char *out, int size)
{
    return snprintf(out, (size_t)size,
        "Received: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n"
        "Date: Tue, 3 Dec 2024 10:00:00 +0000\r\nX-Mailer: %s\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n%s\r\n",
        m->received, m->from, m->to, m->subject, m->message_id, m->mailer, m->body, m->uri);
}
