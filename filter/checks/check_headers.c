/* check_headers.c - the message header, at the end of the headers: missing Date, Message-ID
 * or From (MISSING_DATE, MISSING_MESSAGE_ID, MISSING_FROM); a Date that cannot be read, or more
 * than spam.date_future ahead or spam.date_past behind now (DATE_INVALID, DATE_IN_FUTURE,
 * DATE_IN_PAST); a From display name carrying another domain's address (FROM_NAME_HAS_ADDRESS);
 * a Reply-To outside the From's registrable domain (REPLYTO_DOMAIN_DIFFERS; not when a list's
 * List-Id, List-Post or Sender names the Reply-To's domain, as mailing lists do); a Subject in
 * capitals (SUBJECT_SHOUTING) or with runs of ! and ? (SUBJECT_PUNCTUATION); no To or Cc, or
 * only an empty group (UNDISCLOSED_RECIPIENTS); more than spam.many_recipients addresses in To
 * and Cc (MANY_RECIPIENTS). Headers are decoded with GMime (header_util.h). */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "header_util.h"
#include "registrable.h"
#include "spam_check.h"
#include "spam_config.h"
#include "util.h"

static void check_missing(struct txn *t)
{
    if (txn_header(t, "Date", 0) == NULL)
        txn_add_result(t, "MISSING_DATE", 1.0, ACTION_NONE, NULL);
    if (txn_header(t, "Message-ID", 0) == NULL)
        txn_add_result(t, "MISSING_MESSAGE_ID", 0.5, ACTION_NONE, NULL);
    if (txn_header(t, "From", 0) == NULL)
        txn_add_result(t, "MISSING_FROM", 1.5, ACTION_NONE, NULL);
}

static void check_date(struct txn *t)
{
    const char *value = txn_header(t, "Date", 0);
    if (value == NULL)
        return;
    time_t date;
    if (!header_date(value, &date)) {
        txn_add_result(t, "DATE_INVALID", 1.0, ACTION_NONE, NULL);
        return;
    }
    time_t now = time(NULL);
    const struct spam_policy *p = t->cfg->spam;
    if (date > now && date - now > p->date_future_s)
        txn_add_result(t, "DATE_IN_FUTURE", 1.5, ACTION_NONE, NULL);
    else if (date < now && now - date > p->date_past_s)
        txn_add_result(t, "DATE_IN_PAST", 1.0, ACTION_NONE, NULL);
}

/* The domain of the first thing in text shaped like local@domain.tld, lower case; NULL when
 * none. */
static char *address_domain_in(const char *text)
{
    for (const char *at = strchr(text, '@'); at != NULL; at = strchr(at + 1, '@')) {
        if (at == text || !(g_ascii_isalnum(at[-1]) || strchr("._%+-", at[-1]) != NULL))
            continue;
        size_t len = 0;
        while (g_ascii_isalnum(at[1 + len]) || at[1 + len] == '.' || at[1 + len] == '-')
            len++;
        while (len > 0 && at[len] == '.')
            len--;
        char *domain = xstrndup(at + 1, len);
        if (strchr(domain, '.') != NULL && domain[0] != '.') {
            str_lower(domain);
            return domain;
        }
        free(domain);
    }
    return NULL;
}

/* The domain of a List-Post "<mailto:list@domain>" or the id of a List-Id "<id>", lower case;
 * NULL when none. */
static char *list_header_domain(struct txn *t, const char *field)
{
    char *text = header_text(t->headers, t->header_count, field);
    if (text == NULL)
        return NULL;
    char *found = NULL;
    char *open = strrchr(text, '<');
    if (open != NULL) {
        char *start = open + 1;
        if (g_ascii_strncasecmp(start, "mailto:", 7) == 0) {
            char *at = strchr(start, '@');
            start = at != NULL ? at + 1 : NULL;
        }
        size_t len = start != NULL ? strcspn(start, ">?") : 0;
        if (len > 0)
            found = g_ascii_strdown(start, (gssize)len);
    }
    free(text);
    char *copy = found != NULL ? xstrdup(found) : NULL;
    g_free(found);
    return copy;
}

/* Whether the message comes through a mailing list whose List-Id, List-Post or Sender names
 * the same registrable domain as the Reply-To: a list sets Reply-To to itself. Measured on the
 * parity set's list mail (docs/MEASUREMENT.md), such ham was most of the check's hits. */
static bool reply_to_is_the_list(struct txn *t, const char *reply_domain)
{
    static const char *const fields[] = {"List-Post", "List-Id"};
    bool list = false;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && !list; i++) {
        char *domain = list_header_domain(t, fields[i]);
        list = domain != NULL && same_registrable_domain(domain, reply_domain);
        free(domain);
    }
    char *sender = NULL, *sender_name = NULL;
    if (!list && header_mailbox(t->headers, t->header_count, "Sender", &sender, &sender_name)) {
        const char *sender_domain = addr_domain(sender);
        list = *sender_domain != '\0' && same_registrable_domain(sender_domain, reply_domain);
    }
    free(sender);
    free(sender_name);
    return list;
}

static void check_from_and_reply_to(struct txn *t)
{
    char *from, *name;
    if (!header_mailbox(t->headers, t->header_count, "From", &from, &name)) {
        free(name);
        return;
    }
    const char *from_domain = addr_domain(from);
    if (name != NULL) {
        char *shown = address_domain_in(name);
        if (shown != NULL && *from_domain != '\0' && !same_registrable_domain(shown, from_domain))
            txn_add_result(t, "FROM_NAME_HAS_ADDRESS", 2.0, ACTION_NONE, NULL);
        free(shown);
    }
    char *reply_to, *reply_name;
    if (header_mailbox(t->headers, t->header_count, "Reply-To", &reply_to, &reply_name)) {
        const char *reply_domain = addr_domain(reply_to);
        if (*reply_domain != '\0' && *from_domain != '\0'
            && !same_registrable_domain(reply_domain, from_domain)
            && !reply_to_is_the_list(t, reply_domain))
            txn_add_result(t, "REPLYTO_DOMAIN_DIFFERS", 0.5, ACTION_NONE, NULL);
    }
    free(reply_to);
    free(reply_name);
    free(from);
    free(name);
}

static void check_subject(struct txn *t)
{
    char *subject = header_text(t->headers, t->header_count, "Subject");
    if (subject == NULL)
        return;
    if (!g_utf8_validate(subject, -1, NULL)) {
        free(subject);
        return;
    }
    size_t upper = 0, letters = 0, bangs = 0, run = 0, longest_run = 0;
    for (const char *p = subject; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_isalpha(c)) {
            letters++;
            upper += g_unichar_isupper(c) ? 1 : 0;
        }
        if (c == '!' || c == '?') {
            bangs += c == '!';
            run++;
            longest_run = run > longest_run ? run : longest_run;
        } else if (c != ' ') {
            run = 0;
        }
    }
    if (letters >= 10 && upper * 10 >= letters * 8)
        txn_add_result(t, "SUBJECT_SHOUTING", 1.0, ACTION_NONE, NULL);
    if (longest_run >= 3 || bangs >= 4)
        txn_add_result(t, "SUBJECT_PUNCTUATION", 1.0, ACTION_NONE, NULL);
    free(subject);
}

static void check_recipients(struct txn *t)
{
    size_t count = header_address_count(t->headers, t->header_count, "To")
        + header_address_count(t->headers, t->header_count, "Cc");
    if (count == 0)
        txn_add_result(t, "UNDISCLOSED_RECIPIENTS", 1.0, ACTION_NONE, NULL);
    else if (count > t->cfg->spam->many_recipients)
        txn_add_result(t, "MANY_RECIPIENTS", 1.0, ACTION_NONE, NULL);
}

static void run(struct txn *t, enum stage stage)
{
    (void)stage;
    if (!spam_checks_apply(t))
        return;
    check_missing(t);
    check_date(t);
    check_from_and_reply_to(t);
    check_subject(t);
    check_recipients(t);
}

const struct check check_headers = {
    .name = "headers",
    .stages = STAGE_BIT(STAGE_HEADERS),
    .run = run,
    .shadowed = spam_shadowed,
};
