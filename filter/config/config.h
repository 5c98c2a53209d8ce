/* config.h - the typed configuration, built once per load from the policy files (the model
 * layer: config_load.h reads files into it, each section module of config_module.h fills its
 * part). A loaded configuration is immutable and reference-counted: transactions hold the one
 * they started with while a reload swaps in the next (config_current / config_install). */
#ifndef MW_CONFIG_H
#define MW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "config_errors.h"
#include "pattern.h"
#include "verdict.h"

struct dns_resolver;
/* Each feature module's settings (config_module.h); defined in the module's own header. */
struct spf_policy;
struct dmarc_settings;
struct dmarc_reports_settings;
struct dkim_policy;
struct arc_policy;
struct ratelimit_policy;
struct greylist_policy;
struct bayes_policy;
struct spam_policy;
struct rules_policy;
struct store_policy;
struct control_policy;    /* control_config.h */
struct metrics_policy;    /* metrics_config.h */

/* What an access rule matches on, in the order the stages learn it. */
enum access_key {
    ACCESS_CLIENT,            /* client IP against addresses and CIDRs (connect) */
    ACCESS_HELO,              /* HELO/EHLO name (helo) */
    ACCESS_SENDER,            /* envelope sender address (mail) */
    ACCESS_SENDER_DOMAIN,     /* domain of the envelope sender (mail) */
    ACCESS_SASL_USER,         /* SASL login name, with or without realm (mail) */
    ACCESS_RECIPIENT,         /* recipient address (rcpt) */
    ACCESS_RECIPIENT_DOMAIN,  /* domain of the recipient (rcpt) */
};

struct access_rule {
    char *name;               /* the symbol: ACCESS_<NAME> */
    enum access_key key;
    struct pattern_list patterns;  /* networks, domains, addresses or SASL users (pattern.h) */
    enum action action;
    double score;
    struct reply reply;
    char *file;               /* where it was declared, for logs */
    int line;
};

/* actions.domains: score thresholds for recipients in some domains (actions_config.c).
 * A negative threshold means "as in actions". */
struct domain_thresholds {
    struct pattern_list domains;   /* domain patterns (pattern.h) */
    double add_header, quarantine, tempfail, reject;
    char *file;
    int line;
};

/* The thresholds that apply to one message (0 = off). */
struct score_thresholds {
    double add_header, quarantine, tempfail, reject;
};

/* An admin's override of a symbol any check emits. */
struct symbol_override {
    char *symbol;
    bool has_score;
    double score;
    bool has_action;
    enum action action;
    struct reply reply;
    char *file;               /* where it was written, for errors */
    int line;
};

struct config {
    int refs;                 /* guarded by the holder's lock in config.c */
    char *main_file;
    char **files;             /* every file read, in order */
    size_t file_count;
    char **sections;          /* top-level names written in those files, once each, in order */
    size_t section_count;
    struct config_errors notices;   /* accepted, but worth telling the admin (old spellings) */

    struct {
        char *socket;         /* inet:PORT@HOST, inet6:PORT@HOST, unix:PATH */
        unsigned socket_mode; /* for unix sockets */
        char *socket_owner;   /* "user" or "user:group" for unix sockets, NULL = leave */
        char *user;           /* drop root to this user after binding; NULL = stay */
        char *group;          /* NULL = the user's primary group */
        char *pidfile;        /* NULL = none */
        int timeout_s;        /* MTA reply timeout handed to libmilter */
        int backlog;
        uint64_t shutdown_grace_ms;
        unsigned max_connections;
    } milter;

    struct {
        int facility;
        int level;
        bool summary;
    } log;

    struct {
        uint64_t max_header_bytes;           /* of the fields no check reads */
        unsigned max_headers;                /* ... and how many of them */
        uint64_t max_checked_header_bytes;   /* of the fields checks read (txn.c) */
        uint64_t max_body_buffer;
        unsigned max_recipients;
        bool shadow;                         /* mode "shadow" (engine.c) */
    } limits;

    struct {
        char *authserv_id;
        bool authserv_id_is_default;  /* unset: the MTA's name (macro j) wins when known */
        bool remove_forged;
    } authres;

    struct {
        struct cidr_list internal;   /* our users: outbound, no inbound checks */
        struct cidr_list trusted;    /* relays we trust: inbound checks never refuse them */
        struct cidr_list skip;       /* no checks and no headers at all */
    } networks;

    struct {
        char **nameservers;          /* "127.0.0.1@5353", "::1"; none = /etc/resolv.conf */
        size_t nameserver_count;
        uint64_t timeout_ms;
        uint64_t message_budget_ms;  /* every DNS wait of one message ends by then, counted
                                        from the connect (the 2nd+ message of a connection:
                                        from its MAIL FROM); txn_dns_start_budget */
        uint64_t cache_size;         /* bytes for unbound's message cache */
        int cache_max_ttl;
        char *trust_anchor;          /* DNSSEC root key file; NULL = no validation */
        bool use_hosts;              /* also read /etc/hosts */
        /* Built by the dns module's finish(), started by config_start, freed with the policy:
         * a transaction that holds the configuration holds its resolver. Read it with
         * config_resolver(). `mailwarden-ctl flush-dns-cache` swaps in a fresh one
         * (config_resolver_replace); the replaced ones serve the queries in flight and are
         * freed with the policy. */
        struct dns_resolver *resolver;
        bool resolver_started;
        struct dns_resolver *retired_resolvers[16];
        size_t retired_count;
    } dns;

    struct {
        double add_header;           /* 0 = off; score >= this adds X-Spam-* headers */
        double quarantine;
        double tempfail;
        double reject;
        struct reply quarantine_reply;
        struct reply tempfail_reply;
        struct reply reject_reply;
        enum action on_error;        /* what an internal error does: tempfail or accept */
        struct domain_thresholds *domains;   /* per recipient domain (issue 6) */
        size_t domain_count;
    } actions;

    struct access_rule *access;
    size_t access_count;

    struct symbol_override *symbols;
    size_t symbol_count;

    /* feature modules, each set up by its config_module (never NULL in a loaded policy) */
    struct spf_policy *spf;
    struct dmarc_settings *dmarc;      /* dmarc_config.c */
    struct dmarc_reports_settings *dmarc_reports;  /* dmarc_reports_config.c */
    struct dkim_policy *dkim;
    struct arc_policy *arc;          /* arc_config.c */
    struct ratelimit_policy *ratelimit;
    struct greylist_policy *greylist;
    struct bayes_policy *bayes;        /* bayes_config.c */
    struct spam_policy *spam;
    struct rules_policy *rules;
    struct store_policy *store;      /* the named stores (store_config.c) */
    struct control_policy *control;
    struct metrics_policy *metrics;      /* metrics_config.c */
};

/* A configuration with every default and no file, for tests and mailwarden-check. */
struct config *config_defaults(void);
void config_free(struct config *cfg);

/* The configuration in force. config_current takes a reference that the caller gives back with
 * config_release; config_install makes cfg current and drops the holder's reference to the old. */
struct config *config_current(void);
void config_release(struct config *cfg);
void config_install(struct config *cfg);

const struct symbol_override *config_symbol(const struct config *cfg, const char *symbol);

/* The policy's resolver (dns_config.c), or NULL while config_start has not started it (a policy
 * only checked, mailwarden-check without DNS): every DNS user asks through this, so a check
 * holding the configuration holds the resolver it runs on. */
struct dns_resolver *config_resolver(const struct config *cfg);
/* Swaps a new resolver (an empty cache) into a running policy; the old one keeps serving the
 * queries in flight and is freed with the policy. The caller serialises calls (reload.c).
 * False + why when the new one did not start or 16 were replaced since the policy loaded. */
bool config_resolver_replace(struct config *cfg, char *why, size_t why_size);

/* The thresholds for a message to these recipients: for each threshold the strictest (lowest
 * enabled) of what applies to each recipient (its domain's entry in actions.domains, else
 * actions); a threshold off for every recipient stays off. No recipients: actions. */
void config_thresholds(const struct config *cfg, char *const *rcpts, size_t rcpt_count,
    struct score_thresholds *out);
void domain_thresholds_free(struct domain_thresholds *d);

#endif
