/* rules.h - the admin's rule language: the subset of SpamAssassin's rule syntax that runs
 * without SpamAssassin's Perl code (header, body, rawbody, uri, full and meta rules with score,
 * describe, tflags, if/ifplugin blocks and include). A ruleset is read from files or text,
 * compiled once (PCRE2 with JIT), and is then immutable: any number of threads may evaluate
 * messages against it at once. What cannot run here (eval: tests, plugin rules, regexes PCRE2
 * cannot compile, ...) is skipped, counted by reason, and never an error. */
#ifndef MW_RULES_H
#define MW_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ruleset;
struct message_view;
struct header_field;
struct config;

/* The policy section `rules` (rules_config.c). */
struct rules_policy {
    char **files;              /* globs of rule files, read in order */
    size_t file_count;
    char **inline_rules;       /* rule lines written in the policy itself */
    char **inline_origin;      /* "file:line" of each */
    size_t inline_count;
    struct rules_limits {
        uint64_t header_bytes;     /* of one header's value(s) */
        uint64_t body_bytes;       /* of the decoded text (body rules) */
        uint64_t rawbody_bytes;    /* of the undecoded text parts (rawbody rules) */
        uint64_t full_bytes;       /* of the whole message (full rules) */
        unsigned uri_count;        /* URIs matched by uri rules */
        unsigned match_limit;      /* PCRE2 match limit for one match call */
        unsigned depth_limit;      /* PCRE2 depth (backtracking) limit */
        /* How a meta rule sees a rule that was skipped: false = as 0 (not hit), SpamAssassin's
         * view of a rule it does not have; true = unknown, so the meta hits only when its
         * outcome does not depend on the skipped rule. */
        bool skipped_unknown;
        /* Hyperscan scans each text once for all rules and PCRE2 runs only the rules it
         * cannot rule out (rules_prefilter.c); false: PCRE2 runs every rule. Same hits. */
        bool prefilter;
    } limits;
    struct ruleset *set;       /* compiled in finish(); NULL when no file or rule was given */
    bool shadow;               /* rules.mode "shadow": every rule's hit is shadow (engine.c) */
    char **shadow_files;       /* rules.shadow_files: absolute globs of rule files whose hits
                                  are shadow (check_rules.c) */
    size_t shadow_file_count;
    char *prefilter_cache;     /* rules.prefilter_cache: compiled Hyperscan databases; "" none */
};

struct ruleset *ruleset_new(void);
void ruleset_free(struct ruleset *rs);

/* Reads one rule file and what it includes. Returns false (with why) when it cannot be read;
 * whatever is in it never fails the read: bad lines are skipped and counted. */
bool ruleset_read_file(struct ruleset *rs, const char *path, char *why, size_t why_size);
/* Reads rules from memory; origin names them in reports ("policy.conf:12"). */
void ruleset_read_text(struct ruleset *rs, const char *origin, const char *text, size_t len);
/* Compiles every rule (PCRE2 + JIT), resolves meta rules and orders them. Once per load. */
void ruleset_finish(struct ruleset *rs);

/* Counts after finish: rules that run, rules skipped. */
size_t ruleset_loaded(const struct ruleset *rs);
size_t ruleset_skipped(const struct ruleset *rs);
/* Why a rule was skipped ("eval: test ..."), NULL when it loaded or is unknown. */
const char *ruleset_skip_reason(const struct ruleset *rs, const char *name);
bool ruleset_has_rule(const struct ruleset *rs, const char *name);
/* A rule scored 0 in the message's score set does not run, as in SpamAssassin (Check.pm): it
 * never hits, and meta rules read it as 0; a meta rule scored 0 is not evaluated either. A
 * rule the policy gives a score of its own (symbols {}) is marked here, before
 * ruleset_finish(), and always runs. */
void ruleset_mark_scored_by_policy(struct ruleset *rs, const char *name);
/* "file:line" of a loaded rule's definition; NULL when no such rule loaded. */
const char *ruleset_rule_origin(const struct ruleset *rs, const char *name);
/* Whether a loaded header rule reads the field `name` (case-insensitive); after finish. */
bool ruleset_names_header(const struct ruleset *rs, const char *name);
/* Rules skipped whose reason starts with `prefix`. */
size_t ruleset_skipped_for(const struct ruleset *rs, const char *prefix);
/* A readable report, one line per call of out: counts by rule type, skipped rules grouped by
 * reason with examples, directives ignored. */
void ruleset_report(const struct ruleset *rs, void (*out)(const char *line, void *arg), void *arg);

/* One DKIM signature as our verifier saw it. */
struct rules_dkim_sig {
    const char *domain;        /* d=, lower case; NULL when absent */
    const char *identity;      /* i=, or "@" d= when absent; NULL when neither */
    const char *selector;      /* s=; NULL when absent */
    const char *algorithm;     /* a= */
    bool pass;                 /* verified */
    unsigned key_bits;         /* 0 = unknown */
};

/* What the MTA knew about the message, for the plugins' tests that use data the milter has
 * better than Received lines (rules_relays.h). check_rules.c fills it from the transaction;
 * mailwarden-check from its flags. client_ip NULL means unknown: the message is read as
 * SpamAssassin reads a file, every relay from Received lines. */
struct rules_envelope {
    const char *client_ip;     /* printable; NULL = unknown */
    const char *client_rdns;   /* its forward-confirmed reverse name; NULL when none */
    const char *helo;          /* NULL when none */
    const char *sasl_user;     /* NULL when not authenticated */
    const char *const *rcpts;  /* envelope recipients */
    size_t rcpt_count;
    bool client_internal;      /* the client is in networks.internal */
    bool client_trusted;       /* ... in networks.trusted (internal implies trusted) */
    /* Whether an address (printable) is in networks.internal / networks.trusted, for the
     * relays of Received lines; NULL = none configured. */
    bool (*ip_internal)(const char *ip, void *arg);
    bool (*ip_trusted)(const char *ip, void *arg);
    void *networks_arg;
    /* Bayes is on and its database has learnt enough to scan (SpamAssassin's
     * is_scan_available: bayes.min_spam and bayes.min_ham messages): the score set is 2 or 3. */
    bool bayes_available;
    /* The Bayes classifier's probability (checks/check_bayes.c, run before the rules), for
     * check_bayes(lo, hi): bayes_scored false when Bayes did not run or could not score. */
    bool bayes_scored;
    double bayes_probability;
    /* Our own authentication results, for the SPF, DKIM and DMARC plugins' rules. Unknown
     * (NULL, or dkim_verified false) when the check did not run: those rules then do not hit,
     * as SpamAssassin's with -L (no DNS), which re-uses only Received-SPF and
     * Authentication-Results fields added by internal relays. */
    const char *spf_mailfrom;  /* "pass" "fail" "softfail" "neutral" "none" "permerror"
                                  "temperror"; NULL = not checked */
    const char *spf_helo;      /* the same for the HELO identity */
    bool dkim_verified;        /* the DKIM verifier ran: dkim_sigs are its results */
    bool dkim_dependable;      /* ... on the whole message (not cut before the end) */
    const struct rules_dkim_sig *dkim_sigs;
    size_t dkim_sig_count;
    const char *dmarc_result;  /* "pass" "fail" "none" "temperror" "permerror"; NULL = not
                                  evaluated */
    const char *dmarc_policy;  /* the policy asked for this message when it failed: "none"
                                  "quarantine" "reject"; NULL when no record */
    /* Our ARC verdict (filter/arc), for the DKIM plugin's ARC rules: arc_verified false when
     * the chain was not verified; arc_signed: the message has ARC fields (any verdict but
     * none); arc_valid: one of its ARC-Seal or ARC-Message-Signature fields verified. */
    bool arc_verified;
    bool arc_signed;
    bool arc_valid;
};

/* DNS answers for the network plugins' rules (DNSEval, URIDNSBL, AskDNS): what the
 * queries ruleset_dns_queries() listed came back with. A query not asked, or one that failed
 * (timeout, SERVFAIL, the message's DNS budget spent), is RULES_DNS_UNKNOWN: its rules do not
 * hit, exactly as when the list says "not listed" and as SpamAssassin's rules without an
 * answer; no rule reads a failure as a verdict (nor, so, as the absence of one). */
enum rules_dns_status {
    RULES_DNS_UNKNOWN,         /* not asked, or failed */
    RULES_DNS_ANSWER,          /* records (maybe none) */
    RULES_DNS_NXDOMAIN,
};

struct rules_dns {
    /* The answer to (name, type): records as dns.h prints them (A: the address; TXT: the
     * strings joined), *count of them. */
    enum rules_dns_status (*lookup)(void *arg, const char *name, int type,
        const char *const **records, size_t *count);
    void *arg;
};

/* What the rules are matched against. */
struct rules_message {
    const struct header_field *headers;    /* in message order, values unfolded or not */
    size_t header_count;
    const struct message_view *view;       /* decoded text, raw text, URIs; NULL = none */
    const char *body;                      /* the raw body, for full rules */
    size_t body_len;
    /* The envelope sender, for the EnvelopeFrom pseudo-header ("" the null sender); NULL when
     * the caller does not know it (mailwarden-check without --from): then it is found in the
     * message as SpamAssassin finds it (rules_envfrom.c). */
    const char *envelope_from;
    const struct rules_envelope *envelope; /* for eval tests; NULL = nothing known */
    const struct rules_dns *dns;           /* for network rules; NULL = no resolver */
};

/* SpamAssassin's score sets: a rule's four scores, one of which counts for a message. Set 0
 * is local tests only, set 1 adds the network tests, set 2 Bayes, set 3 both: the network bit
 * is on when the message has DNS answers for its network rules (msg->dns, which the daemon
 * gives whenever it has a resolver), the Bayes bit when envelope->bayes_available. */
#define RULES_SCORE_SETS 4
#define RULES_SET_NET 1u
#define RULES_SET_BAYES 2u
unsigned rules_score_set(const struct rules_message *msg);

struct rules_hit {
    const char *name;
    double score;              /* the rule file's score in the message's score set */
    const char *description;   /* NULL when none */
    unsigned count;            /* matches (more than 1 only for tflags multiple) */
    bool subrule;              /* a __NAME rule: for metas, never reported */
    /* tflags autolearning reads (SpamAssassin's _get_autolearn_points): learn (a Bayes rule),
     * noautolearn (noautolearn or userconf: not counted) and autolearn_force */
    bool learn;
    bool noautolearn;
    bool autolearn_force;
    /* the points autolearn counts (SpamAssassin 4.0's _get_autolearn_points): the rule's
     * score in the message's set without the Bayes bit (set & ~RULES_SET_BAYES), and the
     * shares of them that are header and body points (rules_autolearn.c: header rules 1/0,
     * body, rawbody and uri rules 0/1, full rules 0/0, a meta split by its dependencies'
     * types, tflags autolearn_header/autolearn_body all to one side) */
    double autolearn_score;
    double autolearn_header_share;
    double autolearn_body_share;
};

struct rules_eval_stats {
    unsigned score_set;        /* rules_score_set(msg) */
    size_t rules_run;
    size_t limit_hits;         /* matches stopped by the match or depth limit */
};

typedef void (*rules_hit_fn)(const struct rules_hit *hit, void *arg);

/* Evaluates every loaded rule on msg; calls fn for each rule that hits (subrules included,
 * flagged). Thread-safe: all scratch state is per call. */
void ruleset_eval(const struct ruleset *rs, const struct rules_message *msg,
    const struct rules_limits *limits, rules_hit_fn fn, void *arg, struct rules_eval_stats *stats);

/* The Hyperscan prefilter (rules_prefilter.c) compiles in a thread started by the 50th
 * ruleset_eval() (a ruleset that checks fewer messages is not worth the seconds of CPU):
 * until it is ready every rule runs in PCRE2 (same hits, more CPU). This starts it if needed
 * and waits for it (tests, benchmarks, a batch); true when it is in use. */
bool ruleset_prefilter_wait(const struct ruleset *rs);
/* What the prefilter holds once ready. */
struct prefilter_stats {
    size_t taken;              /* regexes Hyperscan took */
    size_t refused;            /* regexes it refused: they run in PCRE2 on every text */
    size_t databases;
    size_t counted_checks;     /* of them, the counted checks of rules "(?:G){n}" ... */
    size_t ascii_forms;        /* ... the ASCII forms of body and rawbody databases ... */
    size_t squeezed_forms;     /* ... and their squeezed forms (rules_prefilter_squeeze.c) */
    size_t compiled;           /* databases compiled ... */
    size_t from_cache;         /* ... and read from the cache (rules_prefilter_cache.c) */
};
/* Fills out; false (all 0) when there is no prefilter or it is not ready yet. */
bool ruleset_prefilter_stats(const struct ruleset *rs, struct prefilter_stats *out);
/* Where the prefilter keeps its compiled databases (rules_prefilter_cache.c): an absolute
 * directory, made if missing; NULL or "": nowhere (compiled at every load). Before the first
 * ruleset_eval(). */
void ruleset_set_prefilter_cache(struct ruleset *rs, const char *dir);
/* For a process about to exit: tells every prefilter compile in progress to stop after its
 * current database and waits for them (exit() tears down OpenSSL and Hyperscan, which a
 * running compile uses); none starts afterwards (PCRE2 alone, same results). */
void rules_prefilter_stop(void);
/* One line on the prefilter: waiting, compiling, ready (with its counts) or off, and why. */
void ruleset_prefilter_describe(const struct ruleset *rs, char *buf, size_t size);
/* The DNS queries the loaded network rules need for msg (with the answers in msg->dns so
 * far: a rule may need a second round, as a URI's address after its name), each once:
 * ask(name, type, arg). Types are DNS numbers (1 A, 16 TXT, ...). */
void ruleset_dns_queries(const struct ruleset *rs, const struct rules_message *msg,
    const struct rules_limits *limits, void (*ask)(const char *name, int type, void *arg),
    void *arg);

/* Default limits (as the policy's defaults). */
void rules_limits_default(struct rules_limits *limits);

/* For `mailwarden -t`: the rules report of a loaded policy (nothing when no rules). */
void rules_report_config(const struct config *cfg, void (*out)(const char *line, void *arg),
    void *arg);

#endif
