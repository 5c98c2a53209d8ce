/* rules_evalfn.h - the native stand-ins for SpamAssassin's Perl plugins: `eval:NAME(args)`
 * tests, plugin rule types (mimeheader, uri_detail, askdns, ...) and plugin directives
 * (freemail_domains, welcomelist_from, ...). Each plugin is one file, eval_<plugin>.c, with one
 * table of what it provides; eval_table.c lists the plugins. A function is prepared once per
 * ruleset (its arguments checked, what it needs kept) and then run on any number of messages
 * at once: it may keep per-message data only through eval_plugin_data(). Used by the rules_*.c
 * files and the plugins; nothing outside filter/rules includes it. */
#ifndef MW_RULES_EVALFN_H
#define MW_RULES_EVALFN_H

#include <stdbool.h>
#include <stddef.h>

#include "rules_internal.h"

/* One per plugin file: the index of its per-message data slot. */
enum eval_plugin_id {
    EVAL_HEADEREVAL,
    EVAL_RELAYEVAL,
    EVAL_MIMEEVAL,
    EVAL_MIMEHEADER,
    EVAL_BODYEVAL,
    EVAL_HTMLEVAL,
    EVAL_HTTPSMISMATCH,
    EVAL_URIEVAL,
    EVAL_URIDETAIL,
    EVAL_WLBLEVAL,
    EVAL_WELCOMELISTSUBJECT,
    EVAL_FREEMAIL,
    EVAL_VBOUNCE,
    EVAL_IMAGEINFO,
    EVAL_SPF,
    EVAL_DKIM,
    EVAL_DMARC,
    EVAL_DNSEVAL,
    EVAL_URIDNSBL,
    EVAL_ASKDNS,
    EVAL_HASHBL,
    EVAL_BAYES,
    EVAL_PLUGIN_COUNT,
    /* per-message data slots of functions kept in a table of their own (not plugins) */
    EVAL_HEADEREVAL_RECEIVED = EVAL_PLUGIN_COUNT,  /* eval_headereval_received.c: dates */
    EVAL_DATA_SLOTS
};

struct eval_ctx;

/* A rule's call: the arguments as written, quotes removed (for a plugin rule type, args[0] is
 * the whole definition after the rule's name), and what prepare kept. */
struct eval_call {
    const struct rule *rule;
    char *const *args;
    size_t argc;
    void *state;
};

struct eval_function {
    const char *name;          /* "check_for_forged_received_trail", or a rule type "mimeheader" */
    /* Optional: checks the arguments once per ruleset and keeps what runs need in *state (freed
     * with free_state). false, with why (a static text), skips the rule as malformed. */
    bool (*prepare)(const struct ruleset *rs, struct rule *r, char *const *args, size_t argc,
        void **state, const char **why);
    void (*free_state)(void *state);
    /* The rule's hits on one message: 0 = no hit; more only for tflags multiple. */
    unsigned (*run)(struct eval_ctx *ctx, const struct eval_call *call);
};

/* For network rules: the DNS queries the function (or rule type) `name` will read on a
 * message, each listed through eval_dns_ask(); called before the evaluation
 * (ruleset_dns_queries), maybe again as answers arrive (eval_dns_answer reads those so far). */
struct eval_dns_function {
    const char *name;
    void (*queries)(struct eval_ctx *ctx, const struct eval_call *call);
};

struct eval_plugin {
    enum eval_plugin_id id;
    const char *name;          /* "Mail::SpamAssassin::Plugin::HeaderEval" */
    /* true once every eval of the plugin that the stock rules call is implemented: its
     * if/ifplugin blocks become active, as in SpamAssassin with the plugin loaded */
    bool available;
    const struct eval_function *functions;     /* ends with a NULL name */
    const struct eval_function *rule_types;    /* "mimeheader", ...; may be NULL */
    const char *const *directives;             /* config lines the plugin reads; NULL-ended */
    const struct eval_dns_function *dns;       /* network rules' queries; NULL-ended or NULL */
    /* what `if can(Mail::SpamAssassin::Plugin::NAME::has_x)` asks ("has_x"); NULL-ended */
    const char *const *capabilities;
};

/* HeaderEval's Received- and Date-based functions (eval_headereval_received.c), found through
 * the HeaderEval plugin when it is available (eval_table.c's eval_extra_tables). */
extern const struct eval_function eval_headereval_received[];

/* The plugins (eval_table.c). */
extern const struct eval_plugin *const eval_plugins[EVAL_PLUGIN_COUNT];
/* The function `name` of an available plugin, NULL when none. */
const struct eval_function *eval_find_function(const char *name);
/* The DNS queries hook of function or rule type `name`, NULL when none. */
const struct eval_dns_function *eval_find_dns(const char *name);
/* The rule type `directive` of an available plugin, NULL when none. */
const struct eval_function *eval_find_rule_type(const char *directive);
/* Whether an available plugin reads directive `name`. */
bool eval_directive_known(const char *name);
/* Whether text, "Mail::SpamAssassin::Plugin::NAME::has_x" (an `if can(...)` line), is a
 * capability of an available plugin of ours: one it lists, or has_<function> for an eval
 * function it implements. */
bool eval_plugin_can(const char *text);
/* Whether `plugin` (full Perl name) is one of ours and available. */
bool eval_plugin_available(const char *plugin);
/* Whether text (a plugin's name, or an if/ifplugin line) names a plugin whose whole job is a
 * network service mailwarden does not run (Razor2, Pyzor, DCC): their rules are skipped by
 * name and counted. */
bool eval_plugin_network_service(const char *text);
/* Whether text names a plugin SpamAssassin 4.0's default configuration does not load (the
 * loadplugin lines of /etc/spamassassin): its rules do not run in SpamAssassin either. */
bool eval_plugin_not_default(const char *text);

/* Plugin directives as read (rules_set.c): the i-th value of directive `name`, in file order;
 * NULL past the last. */
const char *ruleset_directive(const struct ruleset *rs, const char *name, size_t i);
/* The values of directive `name` in order, in one pass: *cursor starts at 0; NULL after the
 * last. (ruleset_directive(rs, name, i) for i = 0, 1, ... reads them again from the start.) */
const char *ruleset_directive_next(const struct ruleset *rs, const char *name, size_t *cursor);
/* The last ok_locales directive (NULL: none), found once at finish: rules read it per run. */
const char *ruleset_ok_locales(const struct ruleset *rs);

/* What a run sees: the message, the ruleset, shared caches and per-plugin data. */
struct eval_ctx {
    const struct rules_message *msg;
    const struct ruleset *rs;
    const struct rules_limits *limits;
    struct header_cache *headers;      /* decoded header texts, once per message */
    struct regex_matcher *matcher;     /* for regexes a plugin compiled in prepare */
    const struct rules_relays *relays; /* made on first use: use eval_relays() */
    void *plugin_data[EVAL_DATA_SLOTS];
    struct eval_dns_asked *dns_asked;  /* during ruleset_dns_queries: where asks go */
    void (*plugin_data_free[EVAL_DATA_SLOTS])(void *data);
};

/* Per-message data of a plugin: made by make(ctx) on the first call in a message, freed with
 * release after the message. */
void *eval_plugin_data(struct eval_ctx *ctx, enum eval_plugin_id id,
    void *(*make)(struct eval_ctx *ctx), void (*release)(void *data));
/* The relays of the message (rules_relays.h), made on first use. */
const struct rules_relays *eval_relays(struct eval_ctx *ctx);
/* When ctx->msg has no envelope_from (the caller does not know it), points ctx->msg at copy:
 * *ctx->msg with the sender SpamAssassin would find in the message, or none (rules_envfrom.c).
 * Returns that sender for the caller to free after the run; NULL otherwise. */
char *rules_envelope_from_find(struct eval_ctx *ctx, struct rules_message *copy);
/* SpamAssassin's URI detail list and uri rules' list of the message (rules_uri.c), made on
 * first use (in the URIDetail plugin's slot). */
struct rules_uri_details;
const struct rules_uri_details *eval_uri_details(struct eval_ctx *ctx);
/* Our own authentication results (rules.h's rules_envelope) for the SPF, DKIM, DMARC and ARC
 * rules: the envelope when the result asked about is known, NULL when that check did not run
 * (those rules then do not hit, as SpamAssassin's with -L). */
enum eval_auth_result {
    EVAL_AUTH_SPF_MAILFROM,    /* spf_mailfrom */
    EVAL_AUTH_SPF_HELO,        /* spf_helo */
    EVAL_AUTH_DKIM,            /* dkim_sigs */
    EVAL_AUTH_DMARC,           /* dmarc_result, dmarc_policy */
    EVAL_AUTH_ARC,             /* arc_signed, arc_valid */
};
const struct rules_envelope *eval_auth_results(const struct eval_ctx *ctx,
    enum eval_auth_result which);
/* Frees the per-message data at the end of an evaluation. */
void eval_ctx_release(struct eval_ctx *ctx);

/* DNS for network rules (rules_dns.c). eval_dns_ask lists a query (during
 * ruleset_dns_queries; nothing otherwise); eval_dns_answer reads its answer (rules.h's
 * rules_dns: RULES_DNS_UNKNOWN when not asked, failed, or there is no resolver). */
void eval_dns_ask(struct eval_ctx *ctx, const char *name, int type);
enum rules_dns_status eval_dns_answer(struct eval_ctx *ctx, const char *name, int type,
    const char *const **records, size_t *count);

/* Helpers for arguments: a number (false when not one). */
bool eval_arg_number(const char *arg, double *value);

#endif
