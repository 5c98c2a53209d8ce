/* rules_relays.c - builds the relays of a message (rules_relays.h) as SpamAssassin 4.0's
 * parse_received_headers does: Received lines newest first (each read by rules_received.c),
 * then the originating-IP headers of its stock configuration, split into trusted/untrusted and
 * internal/external. With networks.trusted/networks.internal unset, trust is inferred as
 * SpamAssassin infers it (a relay is trusted while it comes from a private address or
 * authenticated); set, they are SpamAssassin's trusted_networks/internal_networks (each
 * standing in for the other when only one is set; loopback always in both). When the MTA gave
 * the client address, the first relay is the MTA's own data (address, verified reverse name,
 * HELO, SASL login) and a Received line of our MTA for that client is not read twice. */
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "rules.h"
#include "rules_received.h"
#include "rules_relays.h"
#include "util.h"

/* SpamAssassin's stock originating_ip_headers (10_default_prefs.cf). */
static const char *const originating_ip_headers[] = {
    "X-Yahoo-Post-IP", "X-Originating-IP", "X-Apparently-From", "X-SenderIP", "X-AOL-IP",
    "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp", NULL,
};

/* Bounds on what an attacker can make the parser read (each line is tried against some 150
 * patterns): a line longer than this, or past this many, is not parsed but counted as
 * unparseable, which can only make the message look less trusted, never cleaner. Real
 * Received lines are a few hundred bytes, real messages a few dozen of them. */
#define RECEIVED_MAX_BYTES 4096
#define RECEIVED_MAX_LINES 100

struct builder {
    struct rules_relays *out;
    size_t cap;
    const struct rules_envelope *env;
    bool configured;           /* networks.trusted or networks.internal set */
    bool in_trusted;
    bool in_internal;
    bool allow_fetch_markers;
    size_t first_after_fetch;  /* relays before a fetcher line's restart are dropped */
};

static struct rules_relay *add_relay(struct builder *b)
{
    if (b->out->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->out->relay = xrealloc(b->out->relay, b->cap * sizeof *b->out->relay);
    }
    struct rules_relay *r = &b->out->relay[b->out->count++];
    memset(r, 0, sizeof *r);
    return r;
}

static bool loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

static bool ip_trusted(const struct builder *b, const char *ip)
{
    return loopback(ip) || (b->env->ip_trusted != NULL
        && b->env->ip_trusted(ip, b->env->networks_arg));
}

static bool ip_internal(const struct builder *b, const char *ip)
{
    return loopback(ip) || (b->env->ip_internal != NULL
        && b->env->ip_internal(ip, b->env->networks_arg));
}

/* SpamAssassin's trust path, one relay at a time (newest first). */
static void place(struct builder *b, struct rules_relay *r, bool mta_trusted, bool mta_internal)
{
    if (b->in_trusted) {
        if (!b->configured) {
            if (!r->ip_private && r->auth[0] == '\0') {
                b->in_trusted = false;
                b->in_internal = false;
            }
        } else if (r->auth[0] == '\0' && !(r->from_mta ? mta_trusted : ip_trusted(b, r->ip))) {
            b->in_trusted = false;
            b->in_internal = false;
        } else if (b->in_internal && r->auth[0] == '\0'
            && !(r->from_mta ? mta_internal : ip_internal(b, r->ip))) {
            b->in_internal = false;
        }
    }
    r->trusted = b->in_trusted;
    r->internal = b->in_internal;
    b->allow_fetch_markers = b->in_trusted;
}

static char *dup_stripped(const char *s)
{
    char *out = xstrdup(s != NULL ? s : "");
    for (char *p = out; *p != '\0'; p++) {
        if (strchr(" \t\n\r\f\v#[]()<>|", *p) != NULL)
            *p = '!';
    }
    return out;
}

/* The first relay from what the MTA knows about its client. */
static void add_mta_relay(struct builder *b)
{
    const struct rules_envelope *env = b->env;
    struct rules_relay *r = add_relay(b);
    r->ip = dup_stripped(env->client_ip);
    r->rdns = dup_stripped(env->client_rdns);
    r->helo = dup_stripped(env->helo);
    r->by = xstrdup("");
    r->ident = xstrdup("");
    r->envfrom = NULL;
    r->id = xstrdup("");
    r->auth = dup_stripped(env->sasl_user);
    r->ip_private = received_ip_private(r->ip);
    r->no_reverse_dns = env->client_rdns == NULL || env->client_rdns[0] == '\0';
    r->from_mta = true;
    bool trusted = env->client_trusted || ip_trusted(b, r->ip);
    bool internal = env->client_internal || ip_internal(b, r->ip);
    place(b, r, trusted, internal);
}

static void add_parsed_relay(struct builder *b, struct received_fields *f, char *envfrom)
{
    struct rules_relay *r = add_relay(b);
    r->ip = f->ip;
    r->rdns = f->rdns;
    r->helo = f->helo;
    r->by = f->by;
    r->ident = f->ident;
    r->envfrom = envfrom != NULL ? envfrom : f->envfrom;
    if (envfrom != NULL)
        free(f->envfrom);
    r->id = f->id;
    r->auth = f->auth;
    r->ip_private = f->ip_private;
    r->no_reverse_dns = f->no_reverse_dns;
    free(f->qmail_scanner_envfrom);
    memset(f, 0, sizeof *f);
    place(b, r, false, false);
}

static void free_relay(struct rules_relay *r)
{
    free(r->ip);
    free(r->by);
    free(r->helo);
    free(r->rdns);
    free(r->ident);
    free(r->envfrom);
    free(r->id);
    free(r->auth);
}

/* A POP3/IMAP fetcher's line inside the trusted area: the relays before it are forgotten for
 * the trusted/internal/external lists (SpamAssassin's found_pop_fetcher_sig). */
static void fetcher_restart(struct builder *b)
{
    if (!b->allow_fetch_markers)
        return;
    for (size_t i = 0; i < b->out->count; i++)
        free_relay(&b->out->relay[i]);
    b->out->count = 0;
}

/* Whether the newest Received line is our own MTA's for the client it told us about. */
static bool is_own_line(const struct builder *b, const struct received_fields *f)
{
    return b->env != NULL && b->env->client_ip != NULL && b->out->count == 1
        && b->out->relay[0].from_mta && strcmp(f->ip, b->out->relay[0].ip) == 0;
}

static void read_line(struct builder *b, const char *value, char **pending_envfrom,
    bool first_line)
{
    struct received_fields f;
    enum received_kind kind = RECEIVED_UNPARSEABLE;
    if (strlen(value) <= RECEIVED_MAX_BYTES && b->out->received_lines < RECEIVED_MAX_LINES)
        kind = received_parse(value, &f);
    else
        memset(&f, 0, sizeof f);
    b->out->received_lines++;
    char *envfrom = *pending_envfrom;
    *pending_envfrom = NULL;
    /* SpamAssassin's last_trusted/internal_relay_index: lines read while still trusted */
    if (kind != RECEIVED_RELAY || (first_line && is_own_line(b, &f))) {
        b->out->last_trusted_received += b->in_trusted;
        b->out->last_internal_received += b->in_internal;
    }
    switch (kind) {
    case RECEIVED_RELAY:
        if (first_line && is_own_line(b, &f)) {
            free(envfrom);
            break;
        }
        add_parsed_relay(b, &f, envfrom);
        b->out->last_trusted_received += b->in_trusted;
        b->out->last_internal_received += b->in_internal;
        return;
    case RECEIVED_UNPARSEABLE:
        b->out->unparsed_lines++;
        free(envfrom);
        break;
    case RECEIVED_FETCHER:
        fetcher_restart(b);
        free(envfrom);
        break;
    case RECEIVED_IGNORED:
        free(envfrom);
        *pending_envfrom = f.qmail_scanner_envfrom;
        f.qmail_scanner_envfrom = NULL;
        break;
    }
    received_fields_free(&f);
}

static const char *first_header(const struct rules_message *msg, const char *name)
{
    for (size_t i = 0; i < msg->header_count; i++) {
        if (str_ieq(msg->headers[i].name, name) && msg->headers[i].value != NULL)
            return msg->headers[i].value;
    }
    return NULL;
}

/* "from X-Originating-IP: IP" lines for SpamAssassin's originating-IP headers. */
static void read_originating_headers(struct builder *b, const struct rules_message *msg,
    char **pending_envfrom)
{
    for (size_t i = 0; originating_ip_headers[i] != NULL; i++) {
        const char *value = first_header(msg, originating_ip_headers[i]);
        char *ip = value != NULL ? received_first_ip(value) : NULL;
        if (ip == NULL)
            continue;
        char *line = xasprintf("from X-Originating-IP: %s\n", ip);
        read_line(b, line, pending_envfrom, false);
        free(line);
        free(ip);
    }
}

static char *join(const struct rules_relays *rs, bool want_trusted, bool by_internal)
{
    struct textbuf out;
    textbuf_init(&out);
    for (size_t i = 0; i < rs->count; i++) {
        const struct rules_relay *r = &rs->relay[i];
        if ((by_internal ? r->internal : r->trusted) != want_trusted)
            continue;
        char *s = received_relay_string(r->ip, r->rdns, r->helo, r->by, r->ident, r->envfrom,
            r->internal, r->id, r->auth, r->msa);
        if (out.len > 0)
            textbuf_puts(&out, " ");
        textbuf_puts(&out, s);
        free(s);
    }
    char *text = xstrdup(out.data != NULL ? out.data : "");
    textbuf_free(&out);
    return text;
}

struct rules_relays *rules_relays_build(const struct rules_message *msg)
{
    static const struct rules_envelope none = { 0 };
    struct rules_relays *out = xcalloc(1, sizeof *out);
    struct builder b = { .out = out, .env = msg->envelope != NULL ? msg->envelope : &none,
        .in_trusted = true, .in_internal = true, .allow_fetch_markers = true };
    out->last_trusted_received = -1;
    out->last_internal_received = -1;
    b.configured = b.env->ip_trusted != NULL || b.env->ip_internal != NULL;
    if (b.env->client_ip != NULL && b.env->client_ip[0] != '\0')
        add_mta_relay(&b);
    char *pending_envfrom = NULL;
    bool first_line = true;
    for (size_t i = 0; i < msg->header_count; i++) {
        const struct header_field *h = &msg->headers[i];
        if (!str_ieq(h->name, "Received") || h->value == NULL)
            continue;
        read_line(&b, h->value, &pending_envfrom, first_line);
        first_line = false;
    }
    read_originating_headers(&b, msg, &pending_envfrom);
    free(pending_envfrom);
    for (size_t i = 0; i < out->count; i++) {
        if (out->relay[i].trusted)
            out->trusted_count++;
        if (out->relay[i].internal)
            out->internal_count++;
    }
    out->pseudo_trusted = join(out, true, false);
    out->pseudo_untrusted = join(out, false, false);
    out->pseudo_internal = join(out, true, true);
    out->pseudo_external = join(out, false, true);
    return out;
}

void rules_relays_free(struct rules_relays *relays)
{
    if (relays == NULL)
        return;
    for (size_t i = 0; i < relays->count; i++)
        free_relay(&relays->relay[i]);
    free(relays->relay);
    free(relays->pseudo_trusted);
    free(relays->pseudo_untrusted);
    free(relays->pseudo_internal);
    free(relays->pseudo_external);
    free(relays);
}
