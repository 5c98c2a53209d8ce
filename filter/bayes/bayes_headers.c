/* bayes_headers.c - the header tokens, as SpamAssassin's _tokenize_headers: noisy fields are
 * ignored, Received keeps only the last two, Message-ID, addresses, Received and Content-Type
 * are pre-chewed (ids, dates and boundaries removed; addresses as N*phrase U*local D*domain),
 * signatures only mark their presence, fields are grouped (*MI message ids, *Ad addresses,
 * *UA mailer) and some names shortened (*F From, *r Received, ...); the relay metadata
 * (X-Spam-Relays-*) is tokenized as SpamAssassin adds it to the fields. Each field's text is then
 * tokenized with the prefix "H<name>:". The regular expressions are SpamAssassin's, run by
 * PCRE2 on bytes, compiled once per process. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bayes_tokens.h"
#include "util.h"

void bayes_tokenize_mail_address(const char *addr, size_t len, bayes_token_fn add, void *arg);

enum chew_pattern {
    PAT_IGNORED,            /* a field Bayes ignores, as "Name:" */
    PAT_PRESENCE_ONLY,      /* a field whose value is only "1" */
    PAT_RCVD_SENDMAIL_SMTP, PAT_RCVD_SENDMAIL_ESMTP, PAT_RCVD_ID, PAT_RCVD_EXIM_ID,
    PAT_RCVD_DATE, PAT_RCVD_IP, PAT_RCVD_WORDS,
    PAT_MID_OE, PAT_MID_EXIM, PAT_MID_DATE, PAT_MID_OTHER,
    PAT_CT_WORDS,
    PAT_COUNT,
};

static const char *const pattern_text[PAT_COUNT] = {
    [PAT_IGNORED] = "^(?:(?:X-)?Sender|Delivered-To|Delivery-Date|(?:X-)?Envelope-To"
        "|X-MIME-Auto[Cc]onverted|X-Converted-To-Plain-Text|Subject|Date|X-List"
        "|(?:X-)?Mailing-List|(?:X-)?List-(?:Archive|Help|Id|Owner|Post|Subscribe"
        "|Unsubscribe|Host|Id|Manager|Admin|Comment|Name|Url)|X-Unsub(?:scribe)?"
        "|X-Mailman-Version|X-Been[Tt]here|X-Loop|Mail-Followup-To|X-eGroups-(?:Return|From)"
        "|X-MDMailing-List|X-XEmacs-List|X-Sympa-To|(?:X-)?Resent-(?:From|To|Date)"
        "|(?:X-)?Original-(?:From|To|Date)|X-MailScanner(?:-SpamCheck)?"
        "|X-Spam(?:-(?:Status|Level|Flag|Report|Hits|Score|Checker-Version))?"
        "|X-Antispam|X-RBL-Warning|X-Mailscanner|X-MDaemon-Deliver-To|X-Virus-Scanned"
        "|X-Mass-Check-Id|X-Pyzor|X-DCC-\\S{2,25}-Metrics|X-Filtered-B[Yy]|X-Scanned-By"
        "|X-Scanner|X-AP-Spam-(?:Score|Status)|X-RIPE-Spam-Status|X-SpamCop-[^:]+|X-SMTPD"
        "|(?:X-)?Spam-Apparently-To|SPAM|X-Perlmx-Spam|X-Bogosity|Content-Class"
        "|Thread-(?:Index|Topic)|X-Original[Aa]rrival[Tt]ime|(?:X-)?Status|X-Flags"
        "|X-Keywords|Replied|Forwarded|Lines|Content-Length|X-UIDL?|X-IMAPbase"
        "|X-Bugzilla-[^:]+|X-VM-(?:Bookmark|(?:POP|IMAP)-Retrieved|Labels|Last-Modified"
        "|Summary-Format|VHeader|v\\d-Data|Message-Order)|X-Gnus-Mail-Source|Xref):",
    [PAT_PRESENCE_ONLY] = "^(?:X-Face|X-(?:Gnu-?PG|PGP|GPG)(?:-Key)?-Fingerprint"
        "|D(?:KIM|omainKey)-Signature|X-Google-DKIM-Signature|ARC-(?:Message-Signature|Seal)"
        "|Autocrypt)$",
    [PAT_RCVD_SENDMAIL_SMTP] = "\\swith\\sSMTP\\sid\\sg[\\dA-Z]{10,12}\\s",
    [PAT_RCVD_SENDMAIL_ESMTP] = "\\swith\\sESMTP\\sid\\s[\\dA-F]{10,12}\\s",
    [PAT_RCVD_ID] = "\\bid\\s[a-zA-Z0-9]{7,20}\\b",
    [PAT_RCVD_EXIM_ID] = "\\bid\\s[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]",
    [PAT_RCVD_DATE] = "(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\\s)?[0-3\\s]?[0-9]\\s"
        "(?:Jan|Feb|Ma[ry]|Apr|Ju[nl]|Aug|Sep|Oct|Nov|Dec)\\s(?:19|20)?[0-9]{2}\\s"
        "[0-2][0-9](?:\\:[0-5][0-9]){1,2}\\s"
        "(?:\\s*\\(|\\)|\\s*(?:[+-][0-9]{4})|\\s*(?:UT|[A-Z]{2,3}T))*",
    [PAT_RCVD_IP] = "\\b(\\d{1,3}\\.)(\\d{1,3}\\.)(\\d{1,3})(\\.\\d{1,3})\\b",
    [PAT_RCVD_WORDS] = "\\b(?:with|from|for|SMTP|ESMTP)\\b",
    [PAT_MID_OE] = "<([0-9a-f]{4})[0-9a-f]{4}[0-9a-f]{4}\\$([0-9a-f]{4})[0-9a-f]{4}\\$"
        "([0-9a-f]{8})\\@(\\S+)>",
    [PAT_MID_EXIM] = "<[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]\\@",
    [PAT_MID_DATE] = "<20\\d\\d[01]\\d[0123]\\d[012]\\d[012345]\\d[012345]\\d\\."
        "[A-F0-9]{10,12}\\@",
    [PAT_MID_OTHER] = "[^_A-Za-z0-9]",
    [PAT_CT_WORDS] = "\\b(?:text|charset)\\b",
};

static pcre2_code *patterns[PAT_COUNT];
static pthread_once_t patterns_once = PTHREAD_ONCE_INIT;

static void compile_patterns(void)
{
    for (int i = 0; i < PAT_COUNT; i++) {
        uint32_t options = PCRE2_DOTALL;
        if (i == PAT_IGNORED || i == PAT_PRESENCE_ONLY)
            options |= PCRE2_CASELESS;
        int err = 0;
        PCRE2_SIZE off = 0;
        patterns[i] = pcre2_compile((PCRE2_SPTR)pattern_text[i], PCRE2_ZERO_TERMINATED, options,
            &err, &off, NULL);
        if (patterns[i] == NULL)
            abort();                 /* a constant pattern: a build mistake */
        (void)pcre2_jit_compile(patterns[i], PCRE2_JIT_COMPLETE);
    }
}

static const pcre2_code *pattern(enum chew_pattern p)
{
    pthread_once(&patterns_once, compile_patterns);
    return patterns[p];
}

static bool matches(enum chew_pattern p, const char *s)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int rc = pcre2_match(pattern(p), (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

/* s/PATTERN/replacement/ (g when global); replacement in PCRE2's $n syntax. Frees s. */
static char *substitute(char *s, enum chew_pattern p, const char *replacement, bool global)
{
    size_t len = strlen(s);
    PCRE2_SIZE out_len = len * 2 + 64;
    for (;;) {
        char *out = xmalloc(out_len + 1);
        PCRE2_SIZE got = out_len;
        uint32_t options = PCRE2_SUBSTITUTE_OVERFLOW_LENGTH;
        if (global)
            options |= PCRE2_SUBSTITUTE_GLOBAL;
        int rc = pcre2_substitute(pattern(p), (PCRE2_SPTR)s, len, 0, options, NULL, NULL,
            (PCRE2_SPTR)replacement, PCRE2_ZERO_TERMINATED, (PCRE2_UCHAR *)out, &got);
        if (rc == PCRE2_ERROR_NOMEMORY) {
            free(out);
            out_len = got;
            continue;
        }
        if (rc <= 0) {
            free(out);
            return s;            /* no match (or an error: the text stays as it was) */
        }
        out[got] = '\0';
        free(s);
        return out;
    }
}

char *bayes_chew_received(const char *value)
{
    char *s = xstrdup(value);
    s = substitute(s, PAT_RCVD_SENDMAIL_SMTP, " ", true);
    s = substitute(s, PAT_RCVD_SENDMAIL_ESMTP, " ", true);
    s = substitute(s, PAT_RCVD_ID, " ", true);
    s = substitute(s, PAT_RCVD_EXIM_ID, " ", true);
    s = substitute(s, PAT_RCVD_DATE, "", true);
    /* SpamAssassin's private-address test compares "10." with "10" and never holds, so every
     * address keeps its /24 and adds the whole one */
    s = substitute(s, PAT_RCVD_IP, "$1$2$3 ip*$1$2$3$4 ", true);
    s = substitute(s, PAT_RCVD_WORDS, " ", true);
    return s;
}

char *bayes_chew_message_id(const char *value)
{
    char *s = xstrdup(value);
    s = substitute(s, PAT_MID_OE, " OEA$1 OEB$2 OEC$3 $4 ", true);
    s = substitute(s, PAT_MID_EXIM, "", false);
    s = substitute(s, PAT_MID_DATE, "", true);
    s = substitute(s, PAT_MID_OTHER, " ", true);
    return s;
}

/* s/boundary=["'](.*?)["']/ /ig, the last boundary's text with hex digits as H and runs of
 * [-_.=] spaced out appended; then s/\b(?:text|charset)\b/ /g. */
char *bayes_chew_content_type(const char *value)
{
    size_t len = strlen(value);
    char *s = xmalloc(len * 4 + 2);
    size_t n = 0;
    const char *boundary = NULL;
    size_t boundary_len = 0;
    size_t i = 0;
    while (i < len) {
        if (strncasecmp(value + i, "boundary=", 9) == 0 && i + 9 < len
            && (value[i + 9] == '"' || value[i + 9] == '\'')) {
            size_t j = i + 10;
            while (j < len && value[j] != '"' && value[j] != '\'')
                j++;
            if (j < len) {
                boundary = value + i + 10;
                boundary_len = j - (i + 10);
                s[n++] = ' ';
                i = j + 1;
                continue;
            }
        }
        s[n++] = value[i++];
    }
    for (size_t k = 0; boundary != NULL && k < boundary_len;) {
        char c = boundary[k];
        if (strchr("-_.=", c) != NULL && c != '\0') {
            s[n++] = ' ';
            while (k < boundary_len && strchr("-_.=", boundary[k]) != NULL && boundary[k] != '\0')
                s[n++] = boundary[k++];
            s[n++] = ' ';
            continue;
        }
        bool hex = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
        s[n++] = hex ? 'H' : c;
        k++;
    }
    s[n] = '\0';
    return substitute(s, PAT_CT_WORDS, " ", true);
}

/* Appends text to *out (space-separated). */
static void append_word(char **out, size_t *len, size_t *cap, const char *w, size_t wl)
{
    if (*len + wl + 2 > *cap) {
        *cap = (*len + wl + 2) * 2;
        *out = xrealloc(*out, *cap);
    }
    if (*len > 0)
        (*out)[(*len)++] = ' ';
    memcpy(*out + *len, w, wl);
    *len += wl;
    (*out)[*len] = '\0';
}

struct word_sink {
    char **out;
    size_t *len, *cap;
};

static void sink_word(void *arg, const char *token, size_t len)
{
    struct word_sink *w = arg;
    append_word(w->out, w->len, w->cap, token, len);
}

/* Text without (comments); quotes removed. */
static size_t strip_comments_quotes(const char *s, size_t len, char *out)
{
    size_t n = 0;
    int depth = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < len) {
            if (depth == 0)
                out[n++] = s[++i];
            else
                i++;
            continue;
        }
        if (!quoted && c == '(') {
            depth++;
            continue;
        }
        if (!quoted && c == ')' && depth > 0) {
            depth--;
            continue;
        }
        if (depth > 0)
            continue;
        if (c == '"') {
            quoted = !quoted;
            continue;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && strchr(" \t\r\n", (*s)[0]) != NULL) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && strchr(" \t\r\n", (*s)[*len - 1]) != NULL)
        (*len)--;
}

/* One mailbox ("Name <a@b>", "a@b (Name)", "a@b"): N*word of the phrase, then the address's
 * U* and D* tokens. */
static void chew_one_address(const char *s, size_t len, struct word_sink *w)
{
    trim(&s, &len);
    if (len == 0)
        return;
    char *phrase = xmalloc(len + 1), *address = xmalloc(len + 1);
    size_t phrase_len = 0, address_len = 0;
    const char *lt = memchr(s, '<', len);
    const char *gt = lt != NULL ? memchr(lt, '>', len - (size_t)(lt - s)) : NULL;
    if (lt != NULL && gt != NULL) {
        phrase_len = strip_comments_quotes(s, (size_t)(lt - s), phrase);
        address_len = strip_comments_quotes(lt + 1, (size_t)(gt - lt - 1), address);
    } else {
        address_len = strip_comments_quotes(s, len, address);
        const char *open = memchr(s, '(', len);
        const char *close = open != NULL ? memchr(open, ')', len - (size_t)(open - s)) : NULL;
        if (open != NULL && close != NULL) {            /* the comment is the phrase */
            memcpy(phrase, open + 1, (size_t)(close - open - 1));
            phrase_len = (size_t)(close - open - 1);
            phrase[phrase_len] = '\0';
        }
    }
    const char *a = address;
    trim(&a, &address_len);
    const char *p = phrase;
    trim(&p, &phrase_len);
    bool same = phrase_len == address_len && memcmp(p, a, address_len) == 0;
    if (phrase_len > 0 && !same) {
        size_t i = 0;
        while (i < phrase_len) {
            while (i < phrase_len && strchr(" \t\r\n", p[i]) != NULL)
                i++;
            size_t start = i;
            while (i < phrase_len && strchr(" \t\r\n", p[i]) == NULL)
                i++;
            if (i > start) {
                char word[1024];
                size_t wl = i - start < sizeof word - 3 ? i - start : sizeof word - 3;
                memcpy(word, "N*", 2);
                memcpy(word + 2, p + start, wl);
                append_word(w->out, w->len, w->cap, word, wl + 2);
            }
        }
    }
    if (address_len > 0 && memchr(a, ' ', address_len) == NULL)
        bayes_tokenize_mail_address(a, address_len, sink_word, w);
    free(phrase);
    free(address);
}

char *bayes_chew_addresses(const char *value)
{
    size_t cap = strlen(value) * 2 + 16, len = 0;
    char *out = xmalloc(cap);
    out[0] = '\0';
    struct word_sink w = { &out, &len, &cap };
    /* mailboxes are separated by commas outside quotes, <> and comments */
    size_t vlen = strlen(value), start = 0;
    int depth = 0;
    bool quoted = false, angle = false;
    for (size_t i = 0; i <= vlen; i++) {
        char c = i < vlen ? value[i] : ',';
        if (c == '\\' && i + 1 < vlen) {
            i++;
            continue;
        }
        if (c == '"' && depth == 0)
            quoted = !quoted;
        else if (!quoted && c == '(')
            depth++;
        else if (!quoted && c == ')' && depth > 0)
            depth--;
        else if (!quoted && depth == 0 && c == '<')
            angle = true;
        else if (!quoted && depth == 0 && c == '>')
            angle = false;
        else if (c == ',' && !quoted && depth == 0 && !angle) {
            chew_one_address(value + start, i - start, &w);
            start = i + 1;
        }
    }
    return out;
}

/* The grouped fields, name -> text, in first-seen order. */
struct field_text {
    char *name;
    char *text;
};

struct field_map {
    struct field_text *items;
    size_t count, cap;
};

static void field_append(struct field_map *m, const char *name, const char *text)
{
    for (size_t i = 0; i < m->count; i++) {
        if (strcmp(m->items[i].name, name) == 0) {
            size_t a = strlen(m->items[i].text), b = strlen(text);
            m->items[i].text = xrealloc(m->items[i].text, a + b + 2);
            m->items[i].text[a] = ' ';
            memcpy(m->items[i].text + a + 1, text, b + 1);
            return;
        }
    }
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->items = xrealloc(m->items, m->cap * sizeof *m->items);
    }
    m->items[m->count].name = xstrdup(name);
    m->items[m->count].text = xstrdup(text);
    m->count++;
}

/* SpamAssassin's %HEADER_NAME_COMPRESSION (names compared as written). */
static const char *compressed_name(const char *name)
{
    static const char *const map[][2] = {
        { "Message-Id", "*m" }, { "Message-ID", "*M" }, { "Received", "*r" },
        { "User-Agent", "*u" }, { "References", "*f" }, { "In-Reply-To", "*i" },
        { "From", "*F" }, { "Reply-To", "*R" }, { "Return-Path", "*p" },
        { "Return-path", "*rp" }, { "X-Mailer", "*x" }, { "X-Authentication-Warning", "*a" },
        { "Organization", "*o" }, { "Organisation", "*o" }, { "Content-Type", "*ct" },
        { "Content-Disposition", "*cd" }, { "Content-Transfer-Encoding", "*ce" },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i][0], name) == 0)
            return map[i][1];
    }
    return name;
}

static bool name_is(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcasecmp(name, list[i]) == 0)
            return true;
    }
    return false;
}

static bool is_address_field(const char *name)
{
    static const char *const bases[] = { "Return-Path", "From", "To", "Cc", "Reply-To",
        "Errors-To", "Mail-Followup-To", "Sender", NULL };
    if (strncasecmp(name, "X-", 2) == 0)
        name += 2;
    else if (strncasecmp(name, "Resent-", 7) == 0)
        name += 7;
    return name_is(name, bases);
}

static bool is_message_id_field(const char *name)
{
    static const char *const ids[] = { "Message-Id", "X-Message-Id", "Resent-Message-Id", NULL };
    return name_is(name, ids);
}

static void add_field(struct field_map *m, const char *name, const char *value)
{
    char *val;
    if (is_message_id_field(name)) {
        val = bayes_chew_message_id(value);
    } else if (is_address_field(name)) {
        val = bayes_chew_addresses(value);
    } else if (strcmp(name, "Received") == 0) {
        val = bayes_chew_received(value);
    } else if (strcmp(name, "Content-Type") == 0) {
        val = bayes_chew_content_type(value);
    } else if (strcmp(name, "MIME-Version") == 0) {
        val = xstrdup(value);
        char *v = strstr(val, "1.0");
        if (v != NULL)
            memmove(v, v + 3, strlen(v + 3) + 1);
    } else if (matches(PAT_PRESENCE_ONLY, name)) {
        val = xstrdup("1");
    } else {
        val = xstrdup(value);
    }
    static const char *const mid[] = { "In-Reply-To", "References", "Message-ID", NULL };
    static const char *const ad[] = { "From", "To", "Cc", NULL };
    static const char *const ua[] = { "X-Mailer", "User-Agent", NULL };
    if (name_is(name, mid))
        field_append(m, "*MI", val);
    if (name_is(name, ad))
        field_append(m, "*Ad", val);
    if (name_is(name, ua))
        field_append(m, "*UA", val);
    field_append(m, compressed_name(name), val);
    free(val);
}

static bool ignored(const char *name)
{
    size_t n = strlen(name);
    char *line = xmalloc(n + 2);
    memcpy(line, name, n);
    line[n] = ':';
    line[n + 1] = '\0';
    bool hit = matches(PAT_IGNORED, line);
    free(line);
    return hit;
}

void bayes_tokenize_headers(const struct bayes_header *headers, size_t count,
    bayes_token_fn add, void *arg)
{
    struct field_map m = { 0 };
    size_t last_rcvd = count, second_rcvd = count;
    for (size_t i = 0; i < count; i++) {
        const char *name = headers[i].name;
        if (name == NULL || name[0] == '\0' || strchr(name, ':') != NULL)
            continue;
        if (strcasecmp(name, "Received") == 0) {
            second_rcvd = last_rcvd;
            last_rcvd = i;
            continue;
        }
        if (ignored(name))
            continue;
        add_field(&m, name, headers[i].value != NULL ? headers[i].value : "");
    }
    /* the two oldest Received fields: the last one, then the one above it */
    if (last_rcvd < count)
        add_field(&m, headers[last_rcvd].name, headers[last_rcvd].value ? headers[last_rcvd].value : "");
    if (second_rcvd < count)
        add_field(&m, headers[second_rcvd].name,
            headers[second_rcvd].value ? headers[second_rcvd].value : "");
    for (size_t i = 0; i < m.count; i++) {
        size_t pl = strlen(m.items[i].name);
        char *prefix = xmalloc(pl + 3);
        prefix[0] = 'H';
        memcpy(prefix + 1, m.items[i].name, pl);
        prefix[pl + 1] = ':';
        prefix[pl + 2] = '\0';
        bayes_tokenize_line(m.items[i].text, strlen(m.items[i].text), prefix,
            BAYES_REGION_HEADER, add, arg);
        free(prefix);
        free(m.items[i].name);
        free(m.items[i].text);
    }
    free(m.items);
}

/* SpamAssassin's metadata line is "name: value": the value keeps its leading space, so every
 * " word=" (rdns=, helo=, by=, ...) goes, as its s/ [a-z]+=/ /g does. */
static char *chew_relays(const char *value)
{
    size_t n = strlen(value);
    char *out = xmalloc(n + 2);
    char *o = out;
    *o++ = ' ';
    memcpy(o, value, n + 1);
    char *r = out, *w = out;
    while (*r != '\0') {
        if (*r == ' ') {
            const char *q = r + 1;
            while (*q >= 'a' && *q <= 'z')
                q++;
            if (q > r + 1 && *q == '=') {
                *w++ = ' ';
                r = (char *)q + 1;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = '\0';
    return out;
}

void bayes_tokenize_relays(const struct bayes_relays *relays, bayes_token_fn add, void *arg)
{
    if (relays == NULL)
        return;
    const struct {
        const char *value;
        const char *prefix;
    } fields[] = {
        { relays->external, "Hx-spam-relays-external:" },
        { relays->internal, "Hx-spam-relays-internal:" },
        { relays->trusted, "H*RT:" },
        { relays->untrusted, "H*RU:" },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].value == NULL)
            continue;
        char *val = chew_relays(fields[i].value);
        bayes_tokenize_line(val, strlen(val), fields[i].prefix, BAYES_REGION_HEADER, add, arg);
        free(val);
    }
}
