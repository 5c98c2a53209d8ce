/* eval_table.c - the one table of the plugins mailwarden stands in for (one file each,
 * eval_<plugin>.c), and the lookups the rule reader uses: an eval: function or a plugin rule
 * type by name, a plugin directive, whether a plugin is available. Also which plugins are out
 * of scope by design: those whose whole job is a network service we do not run, and those
 * SpamAssassin's default configuration does not load either. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "rules_evalfn.h"

extern const struct eval_plugin eval_plugin_headereval;
extern const struct eval_plugin eval_plugin_relayeval;
extern const struct eval_plugin eval_plugin_mimeeval;
extern const struct eval_plugin eval_plugin_mimeheader;
extern const struct eval_plugin eval_plugin_bodyeval;
extern const struct eval_plugin eval_plugin_htmleval;
extern const struct eval_plugin eval_plugin_httpsmismatch;
extern const struct eval_plugin eval_plugin_urieval;
extern const struct eval_plugin eval_plugin_uridetail;
extern const struct eval_plugin eval_plugin_wlbleval;
extern const struct eval_plugin eval_plugin_welcomelistsubject;
extern const struct eval_plugin eval_plugin_freemail;
extern const struct eval_plugin eval_plugin_vbounce;
extern const struct eval_plugin eval_plugin_imageinfo;
extern const struct eval_plugin eval_plugin_spf;
extern const struct eval_plugin eval_plugin_dkim;
extern const struct eval_plugin eval_plugin_dmarc;
extern const struct eval_plugin eval_plugin_dnseval;
extern const struct eval_plugin eval_plugin_uridnsbl;
extern const struct eval_plugin eval_plugin_askdns;
extern const struct eval_plugin eval_plugin_hashbl;
extern const struct eval_plugin eval_plugin_bayes;

const struct eval_plugin *const eval_plugins[EVAL_PLUGIN_COUNT] = {
    [EVAL_HEADEREVAL] = &eval_plugin_headereval,
    [EVAL_RELAYEVAL] = &eval_plugin_relayeval,
    [EVAL_MIMEEVAL] = &eval_plugin_mimeeval,
    [EVAL_MIMEHEADER] = &eval_plugin_mimeheader,
    [EVAL_BODYEVAL] = &eval_plugin_bodyeval,
    [EVAL_HTMLEVAL] = &eval_plugin_htmleval,
    [EVAL_HTTPSMISMATCH] = &eval_plugin_httpsmismatch,
    [EVAL_URIEVAL] = &eval_plugin_urieval,
    [EVAL_URIDETAIL] = &eval_plugin_uridetail,
    [EVAL_WLBLEVAL] = &eval_plugin_wlbleval,
    [EVAL_WELCOMELISTSUBJECT] = &eval_plugin_welcomelistsubject,
    [EVAL_FREEMAIL] = &eval_plugin_freemail,
    [EVAL_VBOUNCE] = &eval_plugin_vbounce,
    [EVAL_IMAGEINFO] = &eval_plugin_imageinfo,
    [EVAL_SPF] = &eval_plugin_spf,
    [EVAL_DKIM] = &eval_plugin_dkim,
    [EVAL_DMARC] = &eval_plugin_dmarc,
    [EVAL_DNSEVAL] = &eval_plugin_dnseval,
    [EVAL_URIDNSBL] = &eval_plugin_uridnsbl,
    [EVAL_ASKDNS] = &eval_plugin_askdns,
    [EVAL_HASHBL] = &eval_plugin_hashbl,
    [EVAL_BAYES] = &eval_plugin_bayes,
};

static const struct eval_function *find_in(const struct eval_function *table, const char *name)
{
    for (size_t i = 0; table != NULL && table[i].name != NULL; i++) {
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    }
    return NULL;
}

/* Functions of a plugin kept in a table of their own file (a plugin shared by two files). */
static const struct {
    enum eval_plugin_id plugin;
    const struct eval_function *functions;
} eval_extra_tables[] = {
    { EVAL_HEADEREVAL, eval_headereval_received },
};

const struct eval_function *eval_find_function(const char *name)
{
    for (size_t p = 0; p < EVAL_PLUGIN_COUNT; p++) {
        const struct eval_function *f = eval_plugins[p]->available
            ? find_in(eval_plugins[p]->functions, name) : NULL;
        if (f != NULL)
            return f;
    }
    for (size_t i = 0; i < sizeof eval_extra_tables / sizeof eval_extra_tables[0]; i++) {
        const struct eval_function *f = eval_plugins[eval_extra_tables[i].plugin]->available
            ? find_in(eval_extra_tables[i].functions, name) : NULL;
        if (f != NULL)
            return f;
    }
    return NULL;
}

const struct eval_dns_function *eval_find_dns(const char *name)
{
    for (size_t p = 0; p < EVAL_PLUGIN_COUNT; p++) {
        const struct eval_dns_function *d = eval_plugins[p]->dns;
        for (size_t i = 0; eval_plugins[p]->available && d != NULL && d[i].name != NULL; i++) {
            if (strcmp(d[i].name, name) == 0)
                return &d[i];
        }
    }
    return NULL;
}

const struct eval_function *eval_find_rule_type(const char *directive)
{
    for (size_t p = 0; p < EVAL_PLUGIN_COUNT; p++) {
        const struct eval_function *f = eval_plugins[p]->available
            ? find_in(eval_plugins[p]->rule_types, directive) : NULL;
        if (f != NULL)
            return f;
    }
    return NULL;
}

bool eval_directive_known(const char *name)
{
    for (size_t p = 0; p < EVAL_PLUGIN_COUNT; p++) {
        const char *const *d = eval_plugins[p]->directives;
        for (size_t i = 0; eval_plugins[p]->available && d != NULL && d[i] != NULL; i++) {
            if (strcmp(d[i], name) == 0)
                return true;
        }
    }
    return false;
}

bool eval_plugin_can(const char *text)
{
    const char *sep = strrchr(text, ':');
    if (sep == NULL || sep - text < 2 || sep[-1] != ':')
        return false;
    size_t plugin_len = (size_t)(sep - 1 - text);
    for (size_t p = 0; p < EVAL_PLUGIN_COUNT; p++) {
        const struct eval_plugin *pl = eval_plugins[p];
        if (!pl->available || strlen(pl->name) != plugin_len
                || strncmp(pl->name, text, plugin_len) != 0)
            continue;
        for (size_t i = 0; pl->capabilities != NULL && pl->capabilities[i] != NULL; i++) {
            if (strcmp(pl->capabilities[i], sep + 1) == 0)
                return true;
        }
        /* "...::MIMEEval::has_check_qp_ratio": a plugin announces an eval function it gained
         * with a has_<function> method */
        if (strncmp(sep + 1, "has_", 4) == 0 && find_in(pl->functions, sep + 5) != NULL)
            return true;
    }
    return false;
}

bool eval_plugin_available(const char *plugin)
{
    for (size_t p = 0; p < EVAL_PLUGIN_COUNT; p++) {
        if (strcmp(eval_plugins[p]->name, plugin) == 0)
            return eval_plugins[p]->available;
    }
    return false;
}

#define PLUGIN_PREFIX "Mail::SpamAssassin::Plugin::"

/* The short plugin name text mentions: "Razor2" in "if plugin(Mail::...::Razor2)", or the
 * text itself when it is a short name already (an ifplugin block's). */
static bool short_name_of(const char *text, char *out, size_t size)
{
    const char *p = strstr(text, PLUGIN_PREFIX);
    if (p != NULL)
        p += strlen(PLUGIN_PREFIX);
    else if (strchr(text, ' ') == NULL && strchr(text, ':') == NULL)
        p = text;
    else
        return false;
    size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
    if (n == 0 || n >= size)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static bool in_list(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], name) == 0)
            return true;
    }
    return false;
}

bool eval_plugin_network_service(const char *text)
{
    static const char *const services[] = { "Razor2", "Pyzor", "DCC", NULL };
    char name[64];
    return short_name_of(text, name, sizeof name) && in_list(name, services);
}

bool eval_plugin_not_default(const char *text)
{
    /* SpamAssassin 4.0's loadplugin lines in /etc/spamassassin's .pre files (Debian 12) */
    static const char *const loaded[] = {
        "URIDNSBL", "SPF", "Pyzor", "Razor2", "SpamCop", "AutoLearnThreshold",
        "WelcomeListSubject", "WhiteListSubject", "MIMEHeader", "ReplaceTags", "DKIM", "Check",
        "HTTPSMismatch", "URIDetail", "Bayes", "BodyEval", "DNSEval", "HTMLEval", "HeaderEval",
        "MIMEEval", "RelayEval", "URIEval", "WLBLEval", "VBounce", "ImageInfo", "FreeMail",
        "AskDNS", "HashBL", "DMARC", NULL,
    };
    char name[64];
    return short_name_of(text, name, sizeof name) && !in_list(name, loaded);
}
