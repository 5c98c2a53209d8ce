/* spam_config.c - the `spam` policy section (config_module.h): defaults, the option table
 * and the DNS list zones. Everything here is read once per load; the checks only read it.
 * Lists (shorteners, risky extensions, ...) given in a file replace the defaults. */
#include "spam_config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_module.h"
#include "util.h"

#define OPT(field) offsetof(struct spam_policy, field)

static const struct option_spec spam_options[] = {
    {"enabled", OPT_BOOL, OPT(enabled), 0, 0},
    {"max_scan_bytes", OPT_SIZE, OPT(max_scan_bytes), 1024, 1024.0 * 1024 * 1024},
    {"local_names", OPT_STRINGS, OPT(local_names), 0, 0},
    {"local_addresses", OPT_CIDRS, OPT(local_addresses), 0, 0},
    {"dynamic_keywords", OPT_STRINGS, OPT(dynamic_keywords), 0, 0},
    {"rdns", OPT_BOOL, OPT(rdns), 0, 0},
    {"date_future", OPT_DURATION_S, OPT(date_future_s), 60, 365 * 86400.0},
    {"date_past", OPT_DURATION_S, OPT(date_past_s), 3600, 10 * 365 * 86400.0},
    {"many_recipients", OPT_UINT, OPT(many_recipients), 1, 100000},
    {"shorteners", OPT_STRINGS, OPT(shorteners), 0, 0},
    {"risky_extensions", OPT_STRINGS, OPT(risky_extensions), 0, 0},
    {"risky_types", OPT_STRINGS, OPT(risky_types), 0, 0},
    {"dnslists", OPT_OWN, 0, 0, 0},
    {"max_uri_lookups", OPT_UINT, OPT(max_uri_lookups), 0, 1000},
    {"dnslist_timeout", OPT_DURATION_MS, OPT(dnslist_timeout_ms), 10, 60000},
    {"mode", OPT_CHECK_MODE, OPT(shadow), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static const char *const default_dynamic_keywords[] = {
    "dyn", "dynamic", "dynip", "dsl", "adsl", "xdsl", "vdsl", "pool", "dhcp", "cable", "ppp",
    "pppoe", "dial", "dialup", "dialin", "broadband", "cpe", "client", "customer", "cust",
    "residential", "unassigned", "nat", "ftth", "modem", NULL,
};

static const char *const default_shorteners[] = {
    "bit.ly", "bitly.com", "tinyurl.com", "goo.gl", "t.co", "ow.ly", "is.gd", "v.gd", "buff.ly",
    "rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "bl.ink", "s.id", "t.ly",
    "tr.im", "shorte.st", "adf.ly", "lnkd.in", "soo.gd", "qr.ae", "x.co", "y2u.be", NULL,
};

static const char *const default_risky_extensions[] = {
    "exe", "scr", "js", "jse", "vbs", "vbe", "bat", "cmd", "com", "pif", "jar", "iso", "img",
    "lnk", "hta", "docm", "xlsm", "pptm", "dotm", "xlam", "msi", "msp", "cpl", "wsf", "wsh",
    "ps1", "reg", "vhd", "vhdx", "chm", "one", "appx", "appxbundle", "msix", NULL,
};

static const char *const default_risky_types[] = {
    "application/x-msdownload", "application/x-dosexec", "application/x-msdos-program",
    "application/x-ms-shortcut", "application/hta", "application/x-javascript",
    "application/javascript", "application/java-archive", "application/x-iso9660-image",
    "application/vnd.ms-word.document.macroenabled.12",
    "application/vnd.ms-excel.sheet.macroenabled.12", NULL,
};

static void set_default_list(struct string_list *list, const char *const *items)
{
    size_t n = 0;
    while (items[n] != NULL)
        n++;
    list->items = xcalloc(n + 1, sizeof *list->items);
    for (size_t i = 0; i < n; i++)
        list->items[i] = xstrdup(items[i]);
    list->count = n;
}

static void spam_init(struct config *cfg)
{
    struct spam_policy *p = xcalloc(1, sizeof *p);
    p->enabled = true;
    p->max_scan_bytes = SPAM_DEFAULT_MAX_SCAN_BYTES;
    p->rdns = true;
    p->date_future_s = 12 * 3600;
    p->date_past_s = 4 * 86400;
    p->many_recipients = 50;
    p->max_uri_lookups = 20;
    p->dnslist_timeout_ms = 2000;
    set_default_list(&p->dynamic_keywords, default_dynamic_keywords);
    set_default_list(&p->shorteners, default_shorteners);
    set_default_list(&p->risky_extensions, default_risky_extensions);
    set_default_list(&p->risky_types, default_risky_types);
    cfg->spam = p;
}

static void lower_list(struct string_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        str_lower(list->items[i]);
}

static void spam_apply(struct cfg_reader *r, const config_setting_t *section)
{
    struct spam_policy *p = r->cfg->spam;
    cfg_apply_options(r, section, "spam", spam_options, p);
    lower_list(&p->local_names);
    lower_list(&p->dynamic_keywords);
    lower_list(&p->shorteners);
    lower_list(&p->risky_extensions);
    lower_list(&p->risky_types);
    for (size_t i = 0; i < p->risky_extensions.count; i++) {
        char *ext = p->risky_extensions.items[i];
        if (ext[0] == '.')
            memmove(ext, ext + 1, strlen(ext));
    }
    const config_setting_t *lists = config_setting_get_member(section, "dnslists");
    if (lists != NULL)
        dnslist_read_zones(r, lists, &p->dnslists, &p->dnslist_count);
}

static void free_list(struct string_list *list)
{
    cfg_free_strings(list->items, list->count);
    list->items = NULL;
    list->count = 0;
}

static void spam_free(struct config *cfg)
{
    struct spam_policy *p = cfg->spam;
    if (p == NULL)
        return;
    free_list(&p->local_names);
    cidr_list_free(&p->local_addresses);
    free_list(&p->dynamic_keywords);
    free_list(&p->shorteners);
    free_list(&p->risky_extensions);
    free_list(&p->risky_types);
    for (size_t i = 0; i < p->dnslist_count; i++)
        dnslist_zone_free(&p->dnslists[i]);
    free(p->dnslists);
    free(p);
    cfg->spam = NULL;
}

/* The symbols of the DNS lists: each zone's, and each return code's own. */
static bool spam_emits(const struct config *cfg, const char *symbol)
{
    for (size_t i = 0; i < cfg->spam->dnslist_count; i++) {
        const struct dnslist_zone *z = &cfg->spam->dnslists[i];
        if (z->symbol != NULL && strcmp(z->symbol, symbol) == 0)
            return true;
        for (size_t k = 0; k < z->code_count; k++) {
            if (z->codes[k].symbol != NULL && strcmp(z->codes[k].symbol, symbol) == 0)
                return true;
        }
    }
    return false;
}

const struct config_module spam_config_module = {
    .section = "spam",
    .init = spam_init,
    .apply = spam_apply,
    .finish = NULL,
    .emits = spam_emits,
    .free = spam_free,
};

bool spam_shadowed(const struct config *cfg)
{
    return cfg->spam->shadow;
}
