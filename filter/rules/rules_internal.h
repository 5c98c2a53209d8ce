/* rules_internal.h - what the rules_*.c files share: the rule table, the expression language of
 * meta rules and `if` lines, and the Perl-to-PCRE2 regex layer. Not used outside them. */
#ifndef MW_RULES_INTERNAL_H
#define MW_RULES_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rules.h"

struct eval_function;

/* The SpamAssassin version our conditionals claim: Debian 12 ships 4.0.0's rules. */
#define RULES_SA_VERSION 4.000000

enum rule_type {
    RULE_HEADER,
    RULE_BODY,
    RULE_RAWBODY,
    RULE_URI,
    RULE_FULL,
    RULE_META,
    RULE_OTHER,        /* a plugin's rule type (mimeheader, askdns, ...): run by its plugin
                          (rules_evalfn.h), skipped when no plugin of ours has it */
    RULE_TYPE_COUNT
};

const char *rule_type_name(enum rule_type type);

/* Where a header rule looks. */
enum header_source {
    HSRC_NAMED,        /* one header name (every instance) */
    HSRC_ALL,          /* the whole header block */
    HSRC_TOCC,         /* To and Cc */
    HSRC_MESSAGEID,    /* Message-Id, Resent-Message-Id, X-Message-Id */
    HSRC_ENVFROM,      /* the envelope sender */
    HSRC_RELAYS_TRUSTED,   /* X-Spam-Relays-Trusted (rules_relays.h) */
    HSRC_RELAYS_UNTRUSTED, /* X-Spam-Relays-Untrusted */
    HSRC_RELAYS_INTERNAL,  /* X-Spam-Relays-Internal */
    HSRC_RELAYS_EXTERNAL,  /* X-Spam-Relays-External */
    HSRC_ALL_TRUSTED,      /* ALL-TRUSTED: the fields trusted relays added (rules_relays.h) */
    HSRC_ALL_INTERNAL,     /* ALL-INTERNAL */
    HSRC_ALL_UNTRUSTED,    /* ALL-UNTRUSTED */
    HSRC_ALL_EXTERNAL,     /* ALL-EXTERNAL */
};

enum header_part {
    HPART_VALUE,       /* decoded value (RFC 2047) */
    HPART_RAW,         /* as sent */
    HPART_ADDR,        /* the first address (a plugin's get("Name:addr"), scalar) */
    HPART_NAME,        /* the first display name */
    HPART_ADDRS,       /* a header rule's :addr: every address of every instance, one a line,
                          as SpamAssassin's header rules join get()'s list */
    HPART_NAMES,       /* a header rule's :name: every display name, likewise */
};

/* An expression of a meta rule or an `if` line, compiled to postfix. */
enum expr_op {
    EXPR_NUM,          /* push value */
    EXPR_NAME,         /* push the value of rule `index` (meta) */
    EXPR_NOT, EXPR_NEG,
    EXPR_MUL, EXPR_DIV, EXPR_ADD, EXPR_SUB,
    EXPR_LT, EXPR_GT, EXPR_LE, EXPR_GE, EXPR_EQ, EXPR_NE,
    EXPR_AND, EXPR_OR,
};

struct expr_item {
    enum expr_op op;
    double value;
    size_t index;      /* EXPR_NAME: rule index once resolved */
    char *name;        /* EXPR_NAME: the name as written */
};

struct expr {
    struct expr_item *items;
    size_t count;
    size_t depth;      /* stack needed to evaluate */
};

/* A value in three-valued logic: a meta rule that depends on a rule we skip is "unknown" where
 * the skipped rule could change the outcome, and an unknown meta never hits. */
struct tri {
    double value;
    bool known;
};

/* Resolves a function atom of an `if` line: plugin(X), can(X), version. Returns false when
 * the name is unknown. */
typedef bool (*expr_func_fn)(const char *func, const char *arg, double *value);

/* Compiles `text`. Names become EXPR_NAME items (resolved by the caller); with funcs, atoms
 * "name(arg)" and bare "version" are resolved through it at compile time. Returns false with
 * why (static text) on a syntax error. */
bool expr_compile(const char *text, expr_func_fn funcs, struct expr *out, const char **why);
void expr_free(struct expr *e);
/* Evaluates with name values from values[index]. */
struct tri expr_eval(const struct expr *e, const struct tri *values, struct tri *stack);

/* Regexes. Parses a Perl match operator ("/re/i", "m{re}s", "m!re!") at *text, advancing past
 * it. Returns the compiled regex, or NULL with why (a static category) and detail (the PCRE2
 * message, malloc'd or NULL). extra_options are added to the flags written. */
pcre2_code *regex_compile_perl(const char **text, uint32_t extra_options, const char **why,
    char **detail);
/* The same, also giving the pattern as written (malloc'd) and its PCRE2 options, for the
 * prefilter; with define_block, that text (a "(?(DEFINE)...)" group) is appended to the
 * pattern PCRE2 compiles, never to the one returned. The pattern is also given when PCRE2
 * refuses it as too large (SKIP_REGEX_TOO_LARGE), for the prefilter. */
pcre2_code *regex_compile_perl_source(const char **text, uint32_t extra_options,
    const char *define_block, const char **why, char **detail, char **pattern,
    uint32_t *options);
/* A plain PCRE2 pattern (not a Perl operator) compiled with options, and with JIT when it can;
 * NULL when PCRE2 refuses it. For the fixed regexes the eval plugins compile once. */
pcre2_code *regex_compile_jit(const char *pattern, uint32_t options);
/* The pattern of the Perl match operator text starts with (/.../ or m{...}), malloc'd; NULL
 * when it starts with none. Nothing is compiled. */
char *regex_perl_pattern(const char *text);

/* Per-call match state: match data, match context with the limits, and a JIT stack. */
struct regex_matcher {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;
    size_t limit_hits;
    struct capture_tags *captures;  /* non-NULL while a capture rule runs: where its named
                                       groups' texts go (rules_capture.c) */
};

void regex_matcher_init(struct regex_matcher *m, unsigned match_limit, unsigned depth_limit);
void regex_matcher_free(struct regex_matcher *m);
/* Counts matches in subject, at most max (0 counts 1 at most). */
unsigned regex_count(struct regex_matcher *m, const pcre2_code *code, const char *subject,
    size_t len, unsigned max);

/* Why a rule was skipped: the categories of the report. */
#define SKIP_INACTIVE_BLOCK "in a false if/ifplugin block (a plugin or feature mailwarden lacks)"
#define SKIP_EVAL "eval: tests mailwarden does not implement"
#define SKIP_NOT_DEFAULT_PLUGIN "in blocks of plugins SpamAssassin does not load by default either"
#define SKIP_NETWORK_SERVICE "plugins for a network service mailwarden does not run (Razor2, Pyzor, DCC)"
#define SKIP_PLUGIN_TYPE "rule types of SpamAssassin plugins"
#define SKIP_PSEUDO_HEADER "pseudo-headers mailwarden does not compute"
#define SKIP_HEADER_MODIFIER "header modifiers mailwarden does not support"
#define SKIP_META_SYNTAX "meta expressions mailwarden cannot parse"
#define SKIP_META_LOOP "meta rules that depend on themselves (a loop)"
#define SKIP_MALFORMED "malformed definitions"
#define SKIP_REGEX_TOO_LARGE "regex PCRE2 cannot compile: compiled size over its 64 KB"
#define SKIP_TAGS_TOO_LARGE "ReplaceTags expansions over 256 KB"
#define SKIP_TEMPLATE_TAG "%{TAG} templates of tags no loaded rule captures and mailwarden does not compute"

/* tflags */
#define TFLAG_MULTIPLE 0x1u
#define TFLAG_NICE     0x2u
#define TFLAG_NET      0x4u
#define TFLAG_LEARN    0x8u
#define TFLAG_USERCONF 0x10u
#define TFLAG_AUTOLEARN_FORCE 0x20u
#define TFLAG_NOAUTOLEARN 0x40u
#define TFLAG_NOSUBJECT 0x80u      /* body rules: not the Subject line */
#define TFLAG_AUTOLEARN_HEADER 0x100u  /* autolearn counts the points as header points */
#define TFLAG_AUTOLEARN_BODY 0x200u    /* ... as body points (the first of the two written) */

struct rule {
    char *name;
    enum rule_type type;
    bool defined;              /* a definition was read (score/describe/tflags may come alone) */
    bool subrule;              /* __NAME */
    char *origin;              /* "file:line" of the definition */
    char *source;              /* the definition after the name, kept until finish */
    char *replace_source;      /* a ReplaceTags rule's source before expansion, until finish */

    /* header rules */
    enum header_source hsrc;
    enum header_part hpart;
    char *header;              /* for HSRC_NAMED */
    bool exists_test;          /* exists:Name */
    bool negate;               /* !~ */
    char *if_unset;

    pcre2_code *regex;
    char *pattern;             /* the regex as written (tags expanded), for the prefilter */
    size_t text_id;            /* header rules: which header text it reads (rules reading the
                                  same header with the same modifiers share one), < text_count */
    const char *text_key;      /* ... and its key in the header cache (the ruleset's
                                  text_keys[text_id]); NULL in a rule made for one query */
    char *prefilter_pattern;   /* a ReplaceTags rule: a superset of pattern for the prefilter,
                                  each tag's UTF-8 and entity branches widened (rules_tags.c) */
    uint32_t pattern_options;  /* its PCRE2 options */
    char *tag_defines;         /* a too-large ReplaceTags rule: its tags as a DEFINE group */
    /* capture rules (rules_capture.c): the tags its named groups set, and the tags its
     * %{NAME} templates read (then regex is the any-text form, pattern the template) */
    char **capture_names;
    size_t capture_count;
    char **templates;
    size_t template_count;
    struct expr meta;

    /* SpamAssassin's four score sets ("score NAME s0 s1 s2 s3"; one number gives all four):
     * set 0 no network tests and no Bayes, 1 network tests, 2 Bayes, 3 both. The evaluation
     * picks one per message (rules_score_set); has_score false: SpamAssassin's default. */
    bool has_score;
    double scores[RULES_SCORE_SETS];
    /* the policy scores it (symbols {}): it runs even in a set where its score is 0 */
    bool scored_by_policy;
    char *description;
    unsigned tflags;
    unsigned maxhits;
    /* the shares of its points Bayes autolearn counts as header and as body points
     * (rules_autolearn.c, at finish) */
    double autolearn_header_share, autolearn_body_share;

    const char *skip_reason;   /* NULL = loaded (after finish); a static category */
    char *skip_detail;         /* malloc'd detail: the plugin, the PCRE2 message, ... */
    bool depends_unknown;      /* meta: references skipped rules (three-valued) */
    bool replace_tags;         /* named by replace_rules: expand <TAG>s before compiling */

    /* eval:NAME(args) tests and plugin rule types (rules_evalfn.h) */
    const struct eval_function *eval;
    char **eval_args;          /* quotes removed; a rule type's whole definition in [0] */
    size_t eval_argc;
    void *eval_state;          /* what eval->prepare kept */
};

/* A plugin directive as read (freemail_domains ...), for the plugins' prepare. */
struct plugin_directive {
    char *name;
    char *value;
    char *origin;              /* "file:line" */
};

/* ReplaceTags: kind 't' replace_tag, 'p' replace_pre, 'o' replace_post, 'i' replace_inter */
struct replace_tag {
    char kind;
    char *name;
    char *value;
};

struct directive_count {
    char *name;
    size_t count;
};

struct ruleset {
    struct rule *rules;
    size_t count, cap;
    size_t *slots;             /* open-addressing hash of names -> index + 1 */
    size_t slot_count;

    size_t *meta_order;        /* loaded meta rules, dependencies first */
    size_t meta_order_count;
    size_t *plain;             /* loaded non-meta rules */
    size_t plain_count;
    char **header_names;       /* the fields loaded header rules name, sorted, no repeats */
    size_t header_name_count;

    struct replace_tag *tags;
    size_t tag_count;
    size_t text_count;                /* header texts the header rules read (rule.text_id) */
    char **text_keys;                 /* their header cache keys (rules_header_text_key) */
    const char *ok_locales;           /* the last ok_locales directive, or NULL */
    struct plugin_directive *directives;  /* plugin directives, in file order */
    size_t directive_count;
    struct directive_count *ignored;  /* directives read but not acted on */
    size_t ignored_count;
    size_t file_count;
    size_t malformed_lines;
    bool finished;
    bool reads_template_tags;  /* a loaded rule's %{NAME} is a built-in tag (rules_template_tags.c) */

    char **tlds;               /* util_rb_tld: the valid top-level domains (sorted at finish) */
    size_t tld_count;
    char **tld2, **tld3;       /* util_rb_2tld, util_rb_3tld */
    size_t tld2_count, tld3_count;
    bool tlds_sorted;
    pcre2_code **redirectors;  /* redirector_pattern */
    size_t redirector_count;
    struct prefilter *prefilter;      /* rules_prefilter.c; NULL = every regex runs */
};

/* rules_set.c */
struct rule *ruleset_rule(struct ruleset *rs, const char *name, bool create);
/* Scored 0 in every score set and not scored by the policy: it never runs (rules_eval.c), so
 * the prefilter leaves it out. */
bool rule_never_runs(const struct rule *r);
const struct rule *ruleset_rule_const(const struct ruleset *rs, const char *name);
size_t ruleset_index(const struct ruleset *rs, const struct rule *r);
void ruleset_note_ignored(struct ruleset *rs, const char *directive);
void rule_skip(struct rule *r, const char *reason, const char *detail);
void rule_reset_definition(struct rule *r);
void ruleset_add_directive(struct ruleset *rs, const char *name, const char *value,
    const char *origin);

/* rules_tags.c: ReplaceTags */
void ruleset_set_tag(struct ruleset *rs, char kind, const char *name, const char *value);
/* The text with its tags expanded (malloc'd), or NULL when that grows past 256 KB. */
char *rules_replace_tags(const struct ruleset *rs, const char *text);
/* The same with each tag replaced by a superset of its regex, short and cheap for Hyperscan:
 * a branch of only bytes >= 0x80 (a UTF-8 look-alike) becomes [\x80-\xff]+, a numeric
 * entity branch &#...; becomes &#[0-9a-fx]*;, a class mixing ASCII and such bytes is
 * split in two; other branches stay. Matches all the exact expansion matches (and more). */
char *rules_replace_tags_superset(const struct ruleset *rs, const char *text);

/* rules_headers.c: the text header rule r matches (at most cap bytes, kept in cache until the
 * cache is freed); false when no such header exists */
struct header_cache;
/* What makes two header rules read the same text: source, part and (lower-cased) header name,
 * as a new string (the header cache's key). */
char *rules_header_text_key(const struct rule *r);
bool rules_header_text(const struct rule *r, const struct rules_message *msg,
    struct header_cache *cache, size_t cap, const char **text, size_t *len);
/* The ALL-TRUSTED/-INTERNAL/-UNTRUSTED/-EXTERNAL text (r->hsrc): "Name: value\n" of the fields
 * from Received field number `from` on (from >= 0) or up to and with Received field `upto`
 * (upto >= 0), SpamAssassin's get_all_hdrs_in_rcvd_index_range. */
bool rules_header_range_text(const struct rule *r, const struct rules_message *msg,
    struct header_cache *cache, size_t cap, long from, long upto, const char **text,
    size_t *len);

/* rules_uri.c: SpamAssassin's URI detail list and uri rules' list, and their directives */
struct rules_uri_detail {
    char *raw;                 /* as found (text URIs with the scheme SpamAssassin adds) */
    unsigned types;            /* VIEW_URI_* */
    char **cleaned;            /* uri_list_canonicalize's forms, raw included */
    size_t cleaned_count;
    char **anchors;            /* the anchor texts of links to it, no repeats */
    size_t anchor_count;
    char **hosts, **domains;   /* of the cleaned forms (uri_to_domain, trim_domain) */
    size_t host_count, domain_count;
    bool dropped;              /* found only in text and no form has a valid domain or IP */
    bool schemeless, unlinked; /* found in text without a scheme; and not linked by MUAs */
};
struct rules_uri_details {
    struct rules_uri_detail *items;
    size_t count, alloc;
    bool truncated;            /* a URI over 8192 bytes was cut (check_uri_truncated) */
    char **list;               /* the uri rules' list (rules_uri_list_make) */
    size_t list_count;
};
void ruleset_add_tlds(struct ruleset *rs, int level, const char *list);
void ruleset_add_redirector(struct ruleset *rs, const char *pattern, const char *origin);
void ruleset_uri_finish(struct ruleset *rs);
void ruleset_uri_free(struct ruleset *rs);
void rules_uri_details_build(const struct ruleset *rs, const struct message_view *view,
    size_t max_uris, struct rules_uri_details *d);
void rules_uri_list_make(struct rules_uri_details *d);
void rules_uri_details_free(struct rules_uri_details *d);
/* The registered domain of a host (util_rb_2tld/3tld), malloc'd. */
char *rules_trim_domain(const struct ruleset *rs, const char *host);
/* A dot and a top-level domain of util_rb_tld. */
bool rules_domain_valid(const struct ruleset *rs, const char *dom);
/* uri_to_domain: the host and domain of a URI (malloc'd) when it has a valid one or an IP. */
bool rules_uri_to_domain(const struct ruleset *rs, const char *uri, char **host, char **domain);

/* rules_autolearn.c: each loaded rule's autolearn_header_share and autolearn_body_share, as
 * SpamAssassin 4.0's _get_autolearn_points reads its type, tflags and (a meta) dependencies.
 * After the metas are resolved. */
void rules_autolearn_shares(struct ruleset *rs);

/* rules_tags.c: the same expansion with each tag a subroutine call "(?&mwtN)" and, in
 * *defines, the "(?(DEFINE)(?<mwtN>...)...)" group that holds each tag's regex once: what a
 * rule whose plain expansion is too large for PCRE2 compiles to (same matches, a fraction of
 * the compiled size). NULL when too large even so. */
char *rules_replace_tags_shared(const struct ruleset *rs, const char *text, char **defines);

/* rules_prefilter.c: Hyperscan, one database per text the rules read (the body, the rawbody,
 * full, the URIs, each header text), so that each text is scanned once for all its rules; a
 * rule Hyperscan does not report cannot match (prefilter mode over-approximates), a rule it
 * reports or does not take runs in PCRE2 as before. Without Hyperscan every rule is a
 * candidate. */
struct prefilter;
struct prefilter_state {
    struct prefilter *pf;          /* NULL: no prefilter, every rule is a candidate */
    const struct ruleset *rs;
    void *scratch;                 /* hs_scratch_t, borrowed from the prefilter's pool */
    struct prefilter_cache *cache; /* per group: the candidate sets of the texts scanned */
    unsigned long long *chain_ends;  /* the counted checks' match ends, reused */
    size_t chain_cap;
    char *squeezed;                /* a line's squeezed text (rules_prefilter_squeeze.c), reused */
    size_t squeezed_cap;
};
void prefilter_build(struct ruleset *rs);
void prefilter_free(struct prefilter *pf);
void prefilter_state_init(struct prefilter_state *st, const struct ruleset *rs, bool enabled);
void prefilter_state_free(struct prefilter_state *st);
/* Whether r's regex may match text. `slot` tells apart the texts rules of one kind read in
 * one message (0 for the body, rawbody, full and a header text; 2i and 2i+1 for URI i and its
 * http:// form): the same slot must mean the same text for the whole call, which is scanned
 * once for every rule reading it. */
bool prefilter_may_match(struct prefilter_state *st, const struct rule *r, size_t slot,
    const char *text, size_t len);
/* Whether r's regex (a body or rawbody rule) may match any of the lines
 * (text[start .. start + len) each, up to limit bytes of text): each line is the slot of its
 * index, scanned as prefilter_may_match scans it (once per call for every rule of the text);
 * false lets the caller skip the lines one by one. */
struct view_line;
bool prefilter_any_line_may_match(struct prefilter_state *st, const struct rule *r,
    const char *text, const struct view_line *lines, size_t line_count, uint64_t limit);

/* rules_capture.c: capture rules and %{NAME} templates (SpamAssassin 4.0) */
struct capture_tags;
/* At compile, after the regex: notes the tags r captures and the templates it reads (its
 * regex becomes the any-text form). false when that form does not compile (r skipped). */
bool capture_compile_rule(struct rule *r);
void capture_free_rule(struct rule *r);
bool capture_tag_name_valid(const char *name);
/* Per message: the tags captured so far. */
struct capture_tags *capture_tags_new(void);
void capture_tags_free(struct capture_tags *tags);
/* After a match of code (md made from it): adds what its named groups captured to pending. */
void capture_collect(struct capture_tags *pending, const pcre2_code *code, const char *subject,
    pcre2_match_data *md);
/* After a capture rule ran: the tags it captured replace those in tags (not the fixed
 * template tags, template_tag_fixed); pending is emptied. */
void capture_tags_commit(struct capture_tags *tags, struct capture_tags *pending);
/* Sets tag name to values (empty ones dropped, the capture limits applied). */
void capture_tags_put(struct capture_tags *tags, const char *name, const char *const *values,
    size_t count);

/* rules_template_tags.c: SpamAssassin's own template tags a %{NAME} template may read. */
struct eval_ctx;
bool template_tag_builtin(const char *name);
/* One of those SpamAssassin reads before any captured value (its common_tags). */
bool template_tag_fixed(const char *name);
/* Puts every built-in tag's values for the message in tags (before the capture rules run). */
void template_tags_fill(struct eval_ctx *ctx, struct capture_tags *tags);
/* The regex r runs with on this message: r->regex without templates; with them, one compiled
 * for the message (*owned, for the caller to free) or the any-text form; NULL when a tag it
 * names has no value: the rule does not run. */
const pcre2_code *capture_rule_regex(const struct rule *r, const struct capture_tags *tags,
    pcre2_code **owned);

/* rules_compile.c: fills the rule's compiled form from r->source at finish */
void rule_compile(struct ruleset *rs, struct rule *r);

#endif
