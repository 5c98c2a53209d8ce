/* config_summary.c - the policy summary (config_summary.h): counts read from a loaded
 * configuration, printed by `mailwarden -t` and compared old vs new by a reload. It only reads
 * the configuration; it never decides whether a policy may be installed. */
#include "config_summary.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_policy.h"
#include "ratelimit.h"
#include "rules.h"
#include "spam_config.h"
#include "util.h"

/* Singular and plural names, in enum summary_count order. */
static const struct { const char *one, *many; } count_names[SUMMARY_COUNT_MAX] = {
    [SUMMARY_FILES] = {"file", "files"},
    [SUMMARY_ACCESS_RULES] = {"access rule", "access rules"},
    [SUMMARY_SYMBOL_OVERRIDES] = {"symbol override", "symbol overrides"},
    [SUMMARY_DOMAIN_THRESHOLDS] = {"domain threshold entry", "domain threshold entries"},
    [SUMMARY_NAMESERVERS] = {"nameserver", "nameservers"},
    [SUMMARY_RULES] = {"rule", "rules"},
    [SUMMARY_RULES_SKIPPED] = {"rule skipped", "rules skipped"},
    [SUMMARY_DKIM_KEYS] = {"DKIM key", "DKIM keys"},
    [SUMMARY_DKIM_SIGNING_RULES] = {"DKIM signing rule", "DKIM signing rules"},
    [SUMMARY_DKIM_USERS] = {"DKIM user rule", "DKIM user rules"},
    [SUMMARY_RATE_LIMITS] = {"rate limit", "rate limits"},
    [SUMMARY_DNSLISTS] = {"DNS list", "DNS lists"},
};

void config_summarize(const struct config *cfg, struct config_summary *s)
{
    memset(s, 0, sizeof *s);
    size_t max = sizeof s->sections / sizeof s->sections[0] - 1;
    for (size_t i = 0; i < cfg->section_count && i < max; i++)
        s->sections[i] = cfg->sections[i];
    s->counts[SUMMARY_FILES] = cfg->file_count;
    s->counts[SUMMARY_ACCESS_RULES] = cfg->access_count;
    s->counts[SUMMARY_SYMBOL_OVERRIDES] = cfg->symbol_count;
    s->counts[SUMMARY_DOMAIN_THRESHOLDS] = cfg->actions.domain_count;
    s->counts[SUMMARY_NAMESERVERS] = cfg->dns.nameserver_count;
    if (cfg->rules != NULL && cfg->rules->set != NULL) {
        s->counts[SUMMARY_RULES] = ruleset_loaded(cfg->rules->set);
        s->counts[SUMMARY_RULES_SKIPPED] = ruleset_skipped(cfg->rules->set);
    }
    if (cfg->dkim != NULL) {
        s->counts[SUMMARY_DKIM_KEYS] = cfg->dkim->key_count;
        s->counts[SUMMARY_DKIM_SIGNING_RULES] = cfg->dkim->rule_count;
        s->counts[SUMMARY_DKIM_USERS] = cfg->dkim->user_count;
    }
    if (cfg->ratelimit != NULL)
        s->counts[SUMMARY_RATE_LIMITS] = cfg->ratelimit->limit_count;
    if (cfg->spam != NULL)
        s->counts[SUMMARY_DNSLISTS] = cfg->spam->dnslist_count;
}

static const char *count_name(enum summary_count c, size_t n)
{
    return n == 1 ? count_names[c].one : count_names[c].many;
}

void config_summary_line(const struct config_summary *s, char *buf, size_t size)
{
    struct textbuf t;
    textbuf_init(&t);
    textbuf_puts(&t, "sections: ");
    if (s->sections[0] == NULL)
        textbuf_puts(&t, "none");
    for (size_t i = 0; s->sections[i] != NULL; i++)
        textbuf_printf(&t, "%s%s", i ? ", " : "", s->sections[i]);
    for (int c = 0; c < SUMMARY_COUNT_MAX; c++)
        textbuf_printf(&t, "%s%zu %s", c == 0 ? "; " : ", ", s->counts[c],
            count_name((enum summary_count)c, s->counts[c]));
    snprintf(buf, size, "%s", t.data);
    textbuf_free(&t);
}

static bool has_section(const struct config_summary *s, const char *name)
{
    for (size_t i = 0; s->sections[i] != NULL; i++) {
        if (strcmp(s->sections[i], name) == 0)
            return true;
    }
    return false;
}

/* "sections added: a, b": the sections of `in` missing from `other`; false when none. */
static bool sections_missing(const struct config_summary *in, const struct config_summary *other,
    const char *label, void (*out)(const char *line, void *arg), void *arg)
{
    struct textbuf t;
    textbuf_init(&t);
    size_t n = 0;
    for (size_t i = 0; in->sections[i] != NULL; i++) {
        if (!has_section(other, in->sections[i]))
            textbuf_printf(&t, "%s%s", n++ ? ", " : "", in->sections[i]);
    }
    if (n > 0) {
        char *line = xasprintf("sections %s: %s", label, t.data);
        out(line, arg);
        free(line);
    }
    textbuf_free(&t);
    return n > 0;
}

size_t config_summary_diff(const struct config_summary *old, const struct config_summary *new,
    void (*out)(const char *line, void *arg), void *arg)
{
    size_t lines = 0;
    lines += sections_missing(new, old, "added", out, arg);
    lines += sections_missing(old, new, "removed", out, arg);
    for (int c = 0; c < SUMMARY_COUNT_MAX; c++) {
        if (old->counts[c] == new->counts[c])
            continue;
        char *line = xasprintf("%s: %zu -> %zu", count_names[c].many, old->counts[c],
            new->counts[c]);
        out(line, arg);
        free(line);
        lines++;
    }
    return lines;
}
