/* dmarc_from.c - the From fields of a message to DMARC's Author Domain (RFC 9989 section 4.4)
 * with the RFC 5322 section 3.4 grammar (and the obs- forms of section 4.4 that cost nothing:
 * CFWS around dots, empty list elements, routes in angle addresses, dots in display names).
 * A tokenizer (CFWS skipped, comments nested at most MAX_COMMENT_DEPTH deep) feeds a parser
 * that counts what each field holds; the outcome is decided from the counts. Promises: see
 * dmarc_from.h; nothing is allocated and every byte is looked at a bounded number of times. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dmarc_alabel.h"
#include "dmarc_from.h"

#define MAX_COMMENT_DEPTH 32
#define MAX_LABEL 63

enum tok_type {
    TOK_WORD,          /* an atom (or an encoded word, which is an atom to us) */
    TOK_QUOTED,        /* a quoted string */
    TOK_LITERAL,       /* a domain literal [...] */
    TOK_SPECIAL,       /* one of < > @ , : ; . */
    TOK_END,
    TOK_ERROR,
};

struct tok {
    enum tok_type type;
    const char *text;
    size_t len;
    char special;
};

/* What one field holds. */
struct field {
    size_t mailboxes;           /* mailboxes with an addr-spec */
    size_t empty_items;         /* list items without one: a display name alone, "<>" */
    size_t bad_domains;
    bool group;
    char first_domain[DMARC_DOMAIN_MAX + 1];
};

struct parser {
    const char *s;
    size_t i;
    struct tok cur;
    bool failed;
    char problem[128];
    struct field *field;
    struct dmarc_from *out;
};

const char *dmarc_from_outcome_name(enum dmarc_from_outcome outcome)
{
    switch (outcome) {
    case DMARC_FROM_ONE: return "one";
    case DMARC_FROM_NO_FIELD: return "no-field";
    case DMARC_FROM_SEVERAL_FIELDS: return "several-fields";
    case DMARC_FROM_SEVERAL_ADDRESSES: return "several-addresses";
    case DMARC_FROM_GROUP: return "group";
    case DMARC_FROM_NO_ADDRESS: return "no-address";
    case DMARC_FROM_BAD_DOMAIN: return "bad-domain";
    case DMARC_FROM_UNPARSEABLE: return "unparseable";
    }
    return "unparseable";
}

static void fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct parser *p, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->problem, sizeof p->problem, fmt, ap);
    va_end(ap);
    p->cur.type = TOK_ERROR;
}

/* RFC 5322 atext, and any octet of UTF-8 (RFC 6532) */
static bool is_atext(unsigned char c)
{
    if (c >= 0x80)
        return true;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips white space and comments; false (and failed) on a bad comment. */
static bool skip_cfws(struct parser *p)
{
    for (;;) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (is_wsp(c)) {
            p->i++;
            continue;
        }
        if (c != '(')
            return true;
        unsigned depth = 0;
        do {
            c = (unsigned char)p->s[p->i];
            if (c == 0) {
                fail(p, "unterminated comment");
                return false;
            }
            if (c == '\\' && p->s[p->i + 1] != 0) {
                p->i += 2;
                continue;
            }
            if (c == '(' && ++depth > MAX_COMMENT_DEPTH) {
                fail(p, "comments nested deeper than %d", MAX_COMMENT_DEPTH);
                return false;
            }
            if (c == ')')
                depth--;
            p->i++;
        } while (depth > 0);
    }
}

/* Length of an RFC 2047 encoded word at s ("=?charset?Q?text?="), 0 when there is none. */
static size_t encoded_word_len(const char *s)
{
    if (s[0] != '=' || s[1] != '?')
        return 0;
    size_t i = 2, charset = 0;
    while (s[i] > ' ' && s[i] < 0x7f && s[i] != '?') {
        i++;
        charset++;
    }
    if (charset == 0 || s[i] != '?')
        return 0;
    i++;
    if (!strchr("BbQq", s[i]) || s[i] == 0 || s[i + 1] != '?')
        return 0;
    i += 2;
    while (s[i] > ' ' && s[i] < 0x7f && s[i] != '?')
        i++;
    if (s[i] != '?' || s[i + 1] != '=')
        return 0;
    return i + 2;
}

/* Scans a quoted string or a domain literal ending in close; quoted pairs allowed. */
static void scan_delimited(struct parser *p, char close, enum tok_type type, const char *what)
{
    size_t start = p->i++;
    for (;;) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == 0) {
            fail(p, "unterminated %s", what);
            return;
        }
        if (c == '\\') {
            if (p->s[p->i + 1] == 0) {
                fail(p, "unterminated %s", what);
                return;
            }
            p->i += 2;
            continue;
        }
        if (c == (unsigned char)close)
            break;
        if (type == TOK_LITERAL && (c == '[' || c == ']')) {
            fail(p, "'%c' inside a domain literal", c);
            return;
        }
        if (c < 0x20 && !is_wsp(c)) {
            fail(p, "control character 0x%02x in a %s", c, what);
            return;
        }
        p->i++;
    }
    p->i++;
    p->cur = (struct tok){ .type = type, .text = p->s + start, .len = p->i - start };
}

static void next(struct parser *p)
{
    if (p->failed || !skip_cfws(p))
        return;
    const char *s = p->s + p->i;
    unsigned char c = (unsigned char)*s;
    if (c == 0) {
        p->cur = (struct tok){ .type = TOK_END };
        return;
    }
    if (strchr("<>@,:;.", c)) {
        p->cur = (struct tok){ .type = TOK_SPECIAL, .text = s, .len = 1, .special = (char)c };
        p->i++;
        return;
    }
    if (c == '"') {
        scan_delimited(p, '"', TOK_QUOTED, "quoted string");
        return;
    }
    if (c == '[') {
        scan_delimited(p, ']', TOK_LITERAL, "domain literal");
        return;
    }
    size_t len = encoded_word_len(s);
    if (len == 0)
        while (is_atext((unsigned char)s[len]))
            len++;
    if (len == 0) {
        if (c < 0x20 || c == 0x7f)
            fail(p, "control character 0x%02x", c);
        else
            fail(p, "unexpected '%c'", c);
        return;
    }
    p->cur = (struct tok){ .type = TOK_WORD, .text = s, .len = len };
    p->i += len;
}

static bool is_special(const struct parser *p, char c)
{
    return p->cur.type == TOK_SPECIAL && p->cur.special == c;
}

static bool is_word(const struct parser *p)
{
    return p->cur.type == TOK_WORD || p->cur.type == TOK_QUOTED;
}

static const char *describe(const struct parser *p)
{
    switch (p->cur.type) {
    case TOK_END: return "the end";
    case TOK_QUOTED: return "a quoted string";
    case TOK_LITERAL: return "a domain literal";
    case TOK_WORD: return "a word";
    case TOK_SPECIAL:
        switch (p->cur.special) {
        case '<': return "'<'";
        case '>': return "a stray '>'";
        case '@': return "'@'";
        case ',': return "','";
        case ':': return "':'";
        case ';': return "';'";
        default: return "'.'";
        }
    case TOK_ERROR: break;
    }
    return "an error";
}

static bool has_non_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

static bool label_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Adds one mailbox whose domain is in name (lower case) or bad. */
static void add_mailbox(struct parser *p, const char *name, bool bad)
{
    struct field *f = p->field;
    f->mailboxes++;
    p->out->mailbox_count++;
    if (bad) {
        f->bad_domains++;
        return;
    }
    if (f->mailboxes == 1)
        memcpy(f->first_domain, name, strlen(name) + 1);
    if (p->out->domain_count < DMARC_FROM_MAX_DOMAINS)
        memcpy(p->out->domains[p->out->domain_count++], name, strlen(name) + 1);
}

/* Appends one label of a domain to name (length *len, room for DMARC_DOMAIN_MAX and a dot),
 * lower-cased, a U-label as its A-label (RFC 9989 5.3.1); false when it cannot be a label. */
static bool append_label(const char *text, size_t tlen, char *name, size_t *len)
{
    char alabel[DMARC_LABEL_MAX + 1];
    if (has_non_ascii(text, tlen)) {
        if (!dmarc_alabel(text, tlen, alabel))
            return false;
        text = alabel;
        tlen = strlen(alabel);
    }
    if (tlen > MAX_LABEL || *len + tlen + 1 > DMARC_DOMAIN_MAX + 1)
        return false;
    for (size_t k = 0; k < tlen; k++) {
        unsigned char c = (unsigned char)text[k];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (!label_char_ok(c))
            return false;
        name[(*len)++] = (char)c;
    }
    return true;
}

/* domain = dot-atom / domain-literal / obs-domain; cur is its first token. */
static void parse_domain(struct parser *p)
{
    if (p->cur.type == TOK_LITERAL) {
        next(p);
        add_mailbox(p, "", true);
        return;
    }
    char name[DMARC_DOMAIN_MAX + 1];
    size_t len = 0;
    bool bad = false;
    for (;;) {
        if (p->cur.type != TOK_WORD) {
            fail(p, "a domain expected, found %s", describe(p));
            return;
        }
        if (!bad && !append_label(p->cur.text, p->cur.len, name, &len))
            bad = true;
        next(p);
        if (!is_special(p, '.'))
            break;
        if (!bad)
            name[len++] = '.';
        next(p);
    }
    name[bad ? 0 : len] = 0;
    add_mailbox(p, name, bad);
}

/* addr-spec = local-part "@" domain; cur is the local part's first token. */
static void parse_addr_spec(struct parser *p)
{
    for (;;) {
        if (!is_word(p)) {
            fail(p, "a local part expected, found %s", describe(p));
            return;
        }
        next(p);
        if (!is_special(p, '.'))
            break;
        next(p);
    }
    if (!is_special(p, '@')) {
        fail(p, "'@' expected after the local part, found %s", describe(p));
        return;
    }
    next(p);
    parse_domain(p);
}

/* angle-addr = "<" [obs-route] addr-spec ">", or "<>"; cur is '<'. */
static void parse_angle(struct parser *p)
{
    next(p);
    if (is_special(p, '@') || is_special(p, ',')) {
        /* obs-route: "@a.example,@b.example:" is skipped */
        while (!p->failed && (is_special(p, '@') || is_special(p, ','))) {
            bool at = is_special(p, '@');
            next(p);
            if (!at)
                continue;
            while (p->cur.type == TOK_WORD || p->cur.type == TOK_LITERAL || is_special(p, '.'))
                next(p);
        }
        if (!is_special(p, ':')) {
            fail(p, "bad route in an angle address: %s", describe(p));
            return;
        }
        next(p);
    }
    if (is_special(p, '>')) {
        p->field->empty_items++;
        next(p);
        return;
    }
    parse_addr_spec(p);
    if (p->failed)
        return;
    if (!is_special(p, '>')) {
        fail(p, "unterminated angle address: %s instead of '>'", describe(p));
        return;
    }
    next(p);
}

/* mailbox, or with in_list a whole address (a group too); cur is its first token. */
static void parse_address(struct parser *p, bool group_allowed)
{
    size_t start = p->i;
    struct tok first = p->cur;
    size_t words = 0;
    while (is_word(p) || is_special(p, '.')) {
        words++;
        next(p);
    }
    if (p->failed)
        return;
    if (is_special(p, '<')) {
        parse_angle(p);
        return;
    }
    if (is_special(p, '@') && words > 0) {
        p->i = start;              /* back to the local part */
        p->cur = first;
        parse_addr_spec(p);
        return;
    }
    if (is_special(p, ':') && words > 0) {
        if (!group_allowed) {
            fail(p, "a group inside a group");
            return;
        }
        p->field->group = true;
        next(p);
        for (;;) {
            while (is_special(p, ','))
                next(p);
            if (is_special(p, ';') || p->failed)
                break;
            if (p->cur.type == TOK_END) {
                fail(p, "unterminated group (no ';')");
                return;
            }
            parse_address(p, false);
            if (p->failed)
                return;
            if (!is_special(p, ',') && !is_special(p, ';')) {
                fail(p, "',' or ';' expected in a group, found %s", describe(p));
                return;
            }
        }
        next(p);
        return;
    }
    if (words > 0 && (is_special(p, ',') || is_special(p, ';') || p->cur.type == TOK_END)) {
        p->field->empty_items++;   /* a display name or local part with no address */
        return;
    }
    fail(p, "unexpected %s", describe(p));
}

/* One field's value: address-list (obs-addr-list allows empty elements). */
static void parse_field(struct parser *p)
{
    next(p);
    for (;;) {
        while (is_special(p, ','))
            next(p);
        if (p->failed || p->cur.type == TOK_END)
            return;
        parse_address(p, true);
        if (p->failed)
            return;
        if (p->cur.type == TOK_END)
            return;
        if (!is_special(p, ',')) {
            fail(p, "unexpected %s after an address", describe(p));
            return;
        }
    }
}

static void set_outcome(struct dmarc_from *out, enum dmarc_from_outcome outcome,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_outcome(struct dmarc_from *out, enum dmarc_from_outcome outcome,
    const char *fmt, ...)
{
    out->outcome = outcome;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->problem, sizeof out->problem, fmt, ap);
    va_end(ap);
}

void dmarc_from_parse(const char *const *values, size_t count, struct dmarc_from *out)
{
    memset(out, 0, sizeof *out);
    out->field_count = count;
    if (count == 0) {
        set_outcome(out, DMARC_FROM_NO_FIELD, "no From field");
        return;
    }
    struct field first = { 0 };
    bool group = false;
    size_t items = 0, bad = 0;
    for (size_t n = 0; n < count; n++) {
        struct field f = { 0 };
        struct parser p = { .s = values[n] ? values[n] : "", .field = &f, .out = out };
        parse_field(&p);
        if (p.failed) {
            memset(out->domains, 0, sizeof out->domains);
            out->domain_count = 0;
            set_outcome(out, DMARC_FROM_UNPARSEABLE, "From field %zu: %s at offset %zu",
                n + 1, p.problem, p.i);
            return;
        }
        if (n == 0)
            first = f;
        group = group || f.group;
        items += f.mailboxes + f.empty_items;
        bad += f.bad_domains;
    }
    if (count > 1)
        set_outcome(out, DMARC_FROM_SEVERAL_FIELDS, "%zu From fields", count);
    else if (group)
        set_outcome(out, DMARC_FROM_GROUP, "a group in From (%zu mailboxes)", out->mailbox_count);
    else if (items > 1)
        set_outcome(out, DMARC_FROM_SEVERAL_ADDRESSES, "%zu addresses in From", items);
    else if (out->mailbox_count == 0)
        set_outcome(out, DMARC_FROM_NO_ADDRESS, "no address in From");
    else if (bad > 0)
        set_outcome(out, DMARC_FROM_BAD_DOMAIN,
            "the From domain is a literal or not a domain name");
    else
        memcpy(out->domain, first.first_domain, sizeof out->domain);
}
