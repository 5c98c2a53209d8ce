/* dnslist.c - what every DNS list kind shares: the policy's zone descriptions (read and freed
 * here), the table of kinds, and one lookup that turns the A records of an answer into symbols
 * by the zone's return codes. Answers outside 127.0.0.0/8, and 127.255.255.0/24 (the lists'
 * "you may not query" codes), never score. A failed or late query adds nothing. */
#include "dnslist.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "dns.h"
#include "log.h"
#include "spam_config.h"
#include "txn.h"
#include "util.h"

#define DNS_TYPE_A 1

const struct dnslist_backend *const dnslist_backends[] = {
    &dnslist_ip,
    &dnslist_domain,
    &dnslist_uri,
    NULL,
};

static bool answer_usable(uint32_t a)
{
    return (a >> 24) == 127 && (a >> 8) != 0x7FFFFF;
}

#define MAX_SYMBOLS_PER_LOOKUP 32

/* Adds symbol once per lookup (a list may answer with several records naming one code). */
static void add_once(struct txn *t, const char **added, size_t *n, const char *symbol, double score)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(added[i], symbol) == 0)
            return;
    }
    if (*n >= MAX_SYMBOLS_PER_LOOKUP)
        return;
    added[(*n)++] = symbol;
    txn_add_result(t, symbol, score, ACTION_NONE, NULL);
}

void dnslist_start(struct txn *t, const struct dnslist_zone *z, const char *name)
{
    char query[300];
    int len = snprintf(query, sizeof query, "%s.%s", name, z->zone);
    if (len > 0 && (size_t)len < sizeof query)
        txn_dns_start(t, query, DNS_TYPE_A);
}

bool dnslist_lookup(struct txn *t, const struct dnslist_zone *z, const char *name)
{
    if (config_resolver(t->cfg) == NULL)
        return true;
    char query[300];
    int len = snprintf(query, sizeof query, "%s.%s", name, z->zone);
    if (len < 0 || (size_t)len >= sizeof query)
        return true;
    struct dns_answer answer;
    txn_dns_query(t, query, DNS_TYPE_A, t->cfg->spam->dnslist_timeout_ms, &answer);
    if (answer.status != DNS_OK) {
        bool answered = answer.status != DNS_TIMEOUT;
        if (answer.status != DNS_NXDOMAIN)
            log_debug("dnslist %s: %s: %s", z->zone, query, dns_status_name(answer.status));
        dns_answer_free(&answer);
        return answered;
    }
    const char *added[MAX_SYMBOLS_PER_LOOKUP];
    size_t added_count = 0;
    for (size_t i = 0; i < answer.count; i++) {
        struct in_addr in;
        if (inet_pton(AF_INET, answer.data[i], &in) != 1)
            continue;
        uint32_t a = ntohl(in.s_addr);
        if (!answer_usable(a))
            continue;
        bool matched = false;
        for (size_t c = 0; c < z->code_count; c++) {
            const struct dnslist_code *code = &z->codes[c];
            bool hit = code->mask != 0 ? (a & 0xFF & code->mask) != 0 : a == code->address;
            if (!hit)
                continue;
            matched = true;
            add_once(t, added, &added_count, code->symbol ? code->symbol : z->symbol, code->score);
        }
        if (!matched && z->score != 0)
            add_once(t, added, &added_count, z->symbol, z->score);
    }
    if (added_count > 0)
        log_debug("dnslist %s: %s listed (%s)", z->zone, name, answer.data[0]);
    dns_answer_free(&answer);
    return true;
}

/* --- policy --------------------------------------------------------------------------------- */

static bool valid_symbol(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (!(('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') || *s == '_'))
            return false;
    }
    return true;
}

/* A symbol from the zone name: "zen.spamhaus.org" -> "DNSLIST_ZEN_SPAMHAUS_ORG". */
static char *symbol_from_zone(const char *zone)
{
    char *s = xasprintf("DNSLIST_%s", zone);
    for (char *c = s; *c; c++) {
        if ('a' <= *c && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
        else if (!(('A' <= *c && *c <= 'Z') || ('0' <= *c && *c <= '9')))
            *c = '_';
    }
    return s;
}

static bool read_code(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct dnslist_code *out)
{
    memset(out, 0, sizeof *out);
    if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
        cfg_error(r, s, option, "must be a group: { code = \"127.0.0.2\"; score = 3.0; } or { mask = 8; score = 2.0; }");
        return false;
    }
    bool ok = true, have_code = false, have_score = false;
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *name = config_setting_name(e);
        char sub[400];
        snprintf(sub, sizeof sub, "%s.%s", option, name);
        const char *text;
        if (strcmp(name, "code") == 0) {
            struct in_addr in;
            if (!cfg_read_string(r, e, sub, &text) || inet_pton(AF_INET, text, &in) != 1
                || (ntohl(in.s_addr) >> 24) != 127) {
                cfg_error(r, e, sub, "must be an answer address in 127.0.0.0/8, as \"127.0.0.2\"");
                ok = false;
                continue;
            }
            out->address = ntohl(in.s_addr);
            have_code = true;
        } else if (strcmp(name, "mask") == 0) {
            int mask = 0;
            if (config_setting_type(e) != CONFIG_TYPE_INT || (mask = config_setting_get_int(e)) < 1
                || mask > 255) {
                cfg_error(r, e, sub, "must be a number 1..255: the bits of the answer's last octet");
                ok = false;
                continue;
            }
            out->mask = (uint32_t)mask;
            have_code = true;
        } else if (strcmp(name, "score") == 0) {
            ok &= cfg_read_double(r, e, sub, &out->score);
            have_score = true;
        } else if (strcmp(name, "symbol") == 0) {
            if (!cfg_read_string(r, e, sub, &text) || !valid_symbol(text)) {
                cfg_error(r, e, sub, "must be upper case letters, digits and _, as \"RBL_ZEN_SBL\"");
                ok = false;
                continue;
            }
            free(out->symbol);
            out->symbol = xstrdup(text);
        } else {
            cfg_error(r, e, sub, "unknown option: use code or mask, score, symbol");
            ok = false;
        }
    }
    if (ok && (!have_code || !have_score)) {
        cfg_error(r, s, option, "needs code (or mask) and score: { code = \"127.0.0.2\"; score = 3.0; }");
        ok = false;
    }
    if (ok && out->address != 0 && out->mask != 0) {
        cfg_error(r, s, option, "give code or mask, not both");
        ok = false;
    }
    if (!ok) {
        free(out->symbol);
        out->symbol = NULL;
    }
    return ok;
}

static bool read_kind(struct cfg_reader *r, const config_setting_t *s, const char *option,
    enum dnslist_kind *out)
{
    const char *text;
    if (!cfg_read_string(r, s, option, &text))
        return false;
    for (const struct dnslist_backend *const *b = dnslist_backends; *b != NULL; b++) {
        if (strcmp((*b)->name, text) == 0) {
            *out = (*b)->kind;
            return true;
        }
    }
    cfg_error(r, s, option, "unknown type \"%s\": use \"ip\" (DNSBL/DNSWL), \"domain\" (RHSBL) or \"uri\" (URIBL)", text);
    return false;
}

static bool read_bool_option(struct cfg_reader *r, const config_setting_t *s, const char *option, bool *out)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        cfg_error(r, s, option, "must be true or false");
        return false;
    }
    *out = config_setting_get_bool(s) != 0;
    return true;
}

static bool read_zone(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct dnslist_zone *z)
{
    if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
        cfg_error(r, s, option, "must be a group: { zone = \"zen.example\"; type = \"ip\"; ... }");
        return false;
    }
    bool ok = true, have_type = false, have_score = false;
    z->check_sender = z->check_from = z->registrable = true;
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *name = config_setting_name(e);
        char sub[300];
        snprintf(sub, sizeof sub, "%s.%s", option, name);
        const char *text;
        if (strcmp(name, "zone") == 0) {
            if (!cfg_read_string(r, e, sub, &text) || text[0] == '\0' || text[0] == '.'
                || strlen(text) > 200 || strpbrk(text, " \t;()") != NULL) {
                cfg_error(r, e, sub, "must be a DNS zone name, as \"zen.spamhaus.org\"");
                ok = false;
                continue;
            }
            free(z->zone);
            z->zone = xstrdup(text);
            str_lower(z->zone);
        } else if (strcmp(name, "type") == 0) {
            ok &= have_type = read_kind(r, e, sub, &z->kind);
        } else if (strcmp(name, "symbol") == 0) {
            if (!cfg_read_string(r, e, sub, &text) || !valid_symbol(text)) {
                cfg_error(r, e, sub, "must be upper case letters, digits and _, as \"RBL_ZEN\"");
                ok = false;
                continue;
            }
            free(z->symbol);
            z->symbol = xstrdup(text);
        } else if (strcmp(name, "score") == 0) {
            ok &= have_score = cfg_read_double(r, e, sub, &z->score);
        } else if (strcmp(name, "codes") == 0) {
            if (config_setting_type(e) != CONFIG_TYPE_LIST) {
                cfg_error(r, e, sub, "must be a list: ( { code = \"127.0.0.2\"; score = 3.0; } )");
                ok = false;
                continue;
            }
            int m = config_setting_length(e);
            for (int j = 0; j < m; j++) {
                char item[340];
                snprintf(item, sizeof item, "%s[%d]", sub, j);
                struct dnslist_code code;
                if (!read_code(r, config_setting_get_elem(e, (unsigned)j), item, &code)) {
                    ok = false;
                    continue;
                }
                z->codes = xrealloc(z->codes, (z->code_count + 1) * sizeof *z->codes);
                z->codes[z->code_count++] = code;
            }
        } else if (strcmp(name, "ipv6") == 0) {
            ok &= read_bool_option(r, e, sub, &z->ipv6);
        } else if (strcmp(name, "sender") == 0) {
            ok &= read_bool_option(r, e, sub, &z->check_sender);
        } else if (strcmp(name, "from") == 0) {
            ok &= read_bool_option(r, e, sub, &z->check_from);
        } else if (strcmp(name, "registrable") == 0) {
            ok &= read_bool_option(r, e, sub, &z->registrable);
        } else {
            cfg_error(r, e, sub, "unknown option: use zone, type, symbol, score, codes, ipv6, "
                "sender, from, registrable");
            ok = false;
        }
    }
    if (z->zone == NULL || !have_type) {
        cfg_error(r, s, option, "needs zone and type: { zone = \"zen.example\"; type = \"ip\"; }");
        return false;
    }
    if (z->symbol == NULL)
        z->symbol = symbol_from_zone(z->zone);
    if (!have_score)
        z->score = z->code_count == 0 ? 1.0 : 0.0;
    z->file = xstrdup(r->file);
    z->line = config_setting_source_line(s);
    return ok;
}

void dnslist_read_zones(struct cfg_reader *r, const config_setting_t *list,
    struct dnslist_zone **zones, size_t *count)
{
    if (config_setting_type(list) != CONFIG_TYPE_LIST) {
        cfg_error(r, list, "spam.dnslists", "must be a list of groups: ( { zone = \"zen.example\"; type = \"ip\"; } )");
        return;
    }
    int n = config_setting_length(list);
    for (int i = 0; i < n; i++) {
        char option[64];
        snprintf(option, sizeof option, "spam.dnslists[%d]", i);
        struct dnslist_zone z = {0};
        if (!read_zone(r, config_setting_get_elem(list, (unsigned)i), option, &z)) {
            dnslist_zone_free(&z);
            continue;
        }
        *zones = xrealloc(*zones, (*count + 1) * sizeof **zones);
        (*zones)[(*count)++] = z;
    }
}

void dnslist_zone_free(struct dnslist_zone *z)
{
    free(z->zone);
    free(z->symbol);
    for (size_t i = 0; i < z->code_count; i++)
        free(z->codes[i].symbol);
    free(z->codes);
    free(z->file);
    memset(z, 0, sizeof *z);
}
