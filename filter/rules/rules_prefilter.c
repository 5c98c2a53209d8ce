/* rules_prefilter.c - Hyperscan in front of PCRE2: the regexes of the loaded rules are compiled
 * once per ruleset into one Hyperscan database per text they read (the body, the rawbody, the
 * whole message, the URIs, and each header text: rules reading the same header with the same
 * modifiers share one), in prefilter mode (HS_FLAG_PREFILTER). A message's text is then scanned
 * once for all the rules reading it; a rule Hyperscan does not report cannot match and is not
 * run, a rule it reports runs in PCRE2 as before (which decides, and counts tflags multiple).
 * A pattern Hyperscan refuses is a candidate on every text, so results are PCRE2's alone,
 * with or without Hyperscan. Built without Hyperscan, or on a CPU it does not support, every
 * rule is a candidate. A rule with %{TAG} templates (rules_capture.c) is never in a database:
 * its regex is compiled per message, and it is a candidate on every text. A body or rawbody
 * line with no byte >= 0x80 is scanned with the squeezed forms of most patterns over the line
 * squeezed (rules_prefilter_squeeze.c) and the ASCII forms of the others (rules_prefilter_ascii.c).
 * Scratch space comes from a pool of the prefilter's, one per call, so threads share the
 * ruleset freely. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message_view.h"
#include "mw_build.h"
#include "rules_internal.h"
#include "util.h"

#ifdef HAVE_HYPERSCAN
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <syslog.h>
#include <time.h>
#include <hs.h>

#include "log.h"
#include "rules_prefilter_cache.h"
#include "rules_prefilter_chain.h"
#include "rules_prefilter_ascii.h"
#include "rules_prefilter_expr.h"
#include "rules_prefilter_squeeze.h"

#define NO_GROUP UINT32_MAX
#define ALWAYS_RUN UINT32_MAX       /* the rule's pattern is in none of its group's databases */
#define CHUNK_PATTERNS 64           /* patterns per database: bounds a compile and its retries */
/* Hyperscan refuses longer patterns ("Pattern length exceeds limit"): a ReplaceTags rule
 * expanded past it is given with its tags widened (rules_replace_tags_superset), which scans
 * slower than the exact expansion, so only then. */
#define HS_LONGEST_PATTERN 10000
/* Compiling the stock rules costs about as much CPU as PCRE2 alone spends on a thousand
 * messages: a ruleset that checks only a handful (a test, a policy reloaded again soon) is
 * never compiled. */
#define START_AFTER_MESSAGES 50
/* A rule that is one group repeated gets the counted check (rules_prefilter_chain.c) when its
 * pattern is at least this long: PCRE2's cost on a candidate line grows with the pattern, and
 * a short one costs less than the check's own scan. */
#define CHAIN_MIN_PATTERN 1000
/* A body or rawbody pattern is scanned in its squeezed form (rules_prefilter_squeeze.c) when
 * that form's shortest match is at least this long: a shorter one matches too many squeezed
 * lines, and each is then a PCRE2 run (with the stock rules, 4 adds a tenth more candidate
 * lines, 5 and 6 about none; 5 puts the costly FUZZY_MILLION, FUZZY_VLIUM, ... in squeezed
 * databases too). The squeezed databases take twice as many patterns each: they scan fast, and
 * each database costs a scan call per line. */
#define SQUEEZE_MIN_LENGTH 5
#define SQUEEZE_CHUNK_PATTERNS 128

/* Rules that read the same text, and the databases of their patterns. */
struct prefilter_group {
    enum rule_type type;
    char *header_key;               /* header rules: what rules_headers.c builds the text from */
    size_t member_count;            /* ids 0 .. member_count-1: the group's rules, in order */
    size_t *members;                /* id -> rule index */
    char **expressions;             /* id -> what Hyperscan is given */
    char **ascii_expressions;       /* id -> its ASCII form (body, rawbody), or NULL: the same */
    char **squeezed;                /* id -> its squeezed form (body, rawbody), or NULL: none */
    unsigned *flags;
    hs_database_t **dbs;            /* filled by the compiling thread */
    hs_database_t **ascii_dbs;      /* per database: the same ids in their ASCII forms, for a
                                     * text with no byte >= 0x80; NULL: dbs[d] for every text */
    size_t db_count;
    /* When squeeze_count > 0, a text with no byte >= 0x80 is scanned with these instead of
     * dbs and ascii_dbs: squeeze_dbs (the ids with a squeezed form, in it) on its squeezed
     * text, rest_dbs (every other id the dbs hold, in its ASCII form) on the text. */
    hs_database_t **squeeze_dbs;
    size_t squeeze_count;
    hs_database_t **rest_dbs;
    size_t rest_count;
};

/* The counted check of one rule "(?:G){n}": G's loosened form compiled exactly (neither
 * prefilter mode nor single match), so that every end of a G match is reported. */
struct prefilter_chain {
    char *expression;
    unsigned flags;
    unsigned long count;            /* n */
    unsigned min_width;             /* G's shortest match; 0 = no check */
    hs_database_t *db;              /* filled by the compiling thread; NULL = no check */
};

struct prefilter {
    struct prefilter_group *groups;
    size_t group_count;
    struct prefilter_chain *chains;
    size_t chain_count;
    uint32_t *rule_chain;           /* rule index -> its chain, or NO_GROUP */
    size_t chains_ready;            /* chains with a database */
    size_t ascii_ready;             /* ASCII-form databases (rest_dbs included) */
    size_t squeeze_ready;           /* squeezed-form databases */
    uint32_t *rule_group;           /* rule index -> its group, or NO_GROUP */
    uint32_t *rule_id;              /* rule index -> its id in the group, or ALWAYS_RUN */
    size_t taken, refused;
    hs_scratch_t *prototype;        /* big enough for every database */
    char *cache_dir;                /* compiled databases kept here (rules_prefilter_cache.c) */
    size_t compiled, from_cache;    /* databases made by the thread, and read back */
    double compile_cpu_s;           /* the thread's CPU time */

    /* Compiling takes seconds of CPU for the stock rules: it runs in a thread started by the
     * START_AFTER_MESSAGES-th message (so after the daemon forks), or by
     * ruleset_prefilter_wait(); until it is done every rule runs in PCRE2, same results. */
    pthread_mutex_t lock;           /* started, joined, finished, orphaned and the pool */
    bool started, joined, joining;
    bool finished;                  /* the thread is past its last use of the prefilter */
    bool orphaned;                  /* freed while compiling: the thread frees it */
    pthread_t thread;
    atomic_bool ready;              /* the databases and rule_id may be read */
    atomic_bool cancel;             /* the ruleset is being freed */
    atomic_uint messages;           /* evaluations so far, up to START_AFTER_MESSAGES */
    hs_scratch_t **pool;            /* scratch spaces returned by calls */
    size_t pool_count, pool_cap;
};

/* Compiling threads of the whole process, so one about to exit can stop them first: exit()
 * tears down OpenSSL and Hyperscan's own state, which a running compile still uses. */
static atomic_bool process_stopping;
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t running_done = PTHREAD_COND_INITIALIZER;
static unsigned running_threads;

static bool told_to_stop(struct prefilter *pf)
{
    return atomic_load(&pf->cancel) || atomic_load(&process_stopping);
}

/* One text scanned: the ids reported, as bits. */
struct prefilter_slot {
    bool scanned;
    size_t len;
    uint64_t *bits;
};

struct prefilter_cache {
    struct prefilter_slot *slots;
    size_t slot_count;
    bool lines_scanned;             /* every line of the text: any_line holds */
    uint64_t *any_line;             /* the ids reported on at least one line */
};

static bool prefiltered_type(enum rule_type type)
{
    return type == RULE_HEADER || type == RULE_BODY || type == RULE_RAWBODY
        || type == RULE_URI || type == RULE_FULL;
}

static char *header_key(const struct rule *r)
{
    char *key = xasprintf("%d %d %s", (int)r->hsrc, (int)r->hpart,
        r->hsrc == HSRC_NAMED && r->header ? r->header : "");
    str_lower(key);
    return key;
}

static uint32_t find_group(struct prefilter *pf, const struct rule *r)
{
    char *key = r->type == RULE_HEADER ? header_key(r) : NULL;
    for (size_t g = 0; g < pf->group_count; g++) {
        struct prefilter_group *grp = &pf->groups[g];
        if (grp->type == r->type && (key == NULL || strcmp(grp->header_key, key) == 0)) {
            free(key);
            return (uint32_t)g;
        }
    }
    pf->groups = xrealloc(pf->groups, (pf->group_count + 1) * sizeof *pf->groups);
    pf->groups[pf->group_count] = (struct prefilter_group){ .type = r->type, .header_key = key };
    return (uint32_t)pf->group_count++;
}

static unsigned hs_flags_of(uint32_t options)
{
    unsigned flags = HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
    if (options & PCRE2_CASELESS)
        flags |= HS_FLAG_CASELESS;
    if (options & PCRE2_MULTILINE)
        flags |= HS_FLAG_MULTILINE;
    if (options & PCRE2_DOTALL)
        flags |= HS_FLAG_DOTALL;
    return flags;
}

static char *hs_expression_of(const struct rule *r, bool widened)
{
    return prefilter_expression(widened ? r->prefilter_pattern : r->pattern,
        (r->pattern_options & PCRE2_EXTENDED) != 0, true);
}

/* A rule "(?:G){n}" with a long pattern gets a counted check: G with every count loosened,
 * compiled by the thread. */
static void add_chain(struct prefilter *pf, const struct rule *r, size_t index)
{
    unsigned long count;
    if (strlen(r->pattern) < CHAIN_MIN_PATTERN || (r->pattern_options & PCRE2_EXTENDED))
        return;
    char *group = prefilter_chain_group(r->pattern, &count);
    if (group == NULL)
        return;
    pf->chains = xrealloc(pf->chains, (pf->chain_count + 1) * sizeof *pf->chains);
    pf->chains[pf->chain_count] = (struct prefilter_chain){
        .expression = prefilter_expression(group, false, false),
        .flags = hs_flags_of(r->pattern_options) & ~(unsigned)(HS_FLAG_PREFILTER
            | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY),
        .count = count,
    };
    free(group);
    pf->rule_chain[index] = (uint32_t)pf->chain_count++;
}

/* The ASCII and squeezed forms of member n's expression (body and rawbody groups only). */
static void set_line_forms(struct prefilter_group *grp, size_t n)
{
    grp->ascii_expressions[n] = NULL;
    grp->squeezed[n] = NULL;
    if (grp->type != RULE_BODY && grp->type != RULE_RAWBODY)
        return;
    grp->ascii_expressions[n] = prefilter_ascii_form(grp->expressions[n]);
    size_t min_len;
    grp->squeezed[n] = prefilter_squeeze_form(grp->expressions[n], &min_len);
    if (grp->squeezed[n] != NULL && min_len < SQUEEZE_MIN_LENGTH) {
        free(grp->squeezed[n]);
        grp->squeezed[n] = NULL;
    }
}

static void add_member(struct prefilter_group *grp, const struct rule *r, size_t index)
{
    size_t n = grp->member_count++;
    grp->members = xrealloc(grp->members, grp->member_count * sizeof *grp->members);
    grp->expressions = xrealloc(grp->expressions, grp->member_count * sizeof *grp->expressions);
    grp->flags = xrealloc(grp->flags, grp->member_count * sizeof *grp->flags);
    grp->members[n] = index;
    grp->expressions[n] = hs_expression_of(r, false);
    if (strlen(grp->expressions[n]) > HS_LONGEST_PATTERN && r->prefilter_pattern != NULL) {
        free(grp->expressions[n]);
        grp->expressions[n] = hs_expression_of(r, true);
    }
    grp->flags[n] = hs_flags_of(r->pattern_options);
    grp->ascii_expressions = xrealloc(grp->ascii_expressions,
        grp->member_count * sizeof *grp->ascii_expressions);
    grp->squeezed = xrealloc(grp->squeezed, grp->member_count * sizeof *grp->squeezed);
    set_line_forms(grp, n);
}

/* Whether Hyperscan takes the pattern on its own (its parser and prefilter rewriting). */
static bool hs_accepts(const char *expression, unsigned flags)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *error = NULL;
    hs_error_t rc = hs_expression_info(expression, flags, &info, &error);
    free(info);
    if (error != NULL)
        hs_free_compile_error(error);
    return rc == HS_SUCCESS;
}

/* Hyperscan refuses some anchors where PCRE2 takes them ("(?:$|\W)" at a pattern's start,
 * "^" after text without multiline): such a member gets its expression without anchors, a
 * superset Hyperscan takes, instead of running on every text. Run by the thread before any
 * database is keyed or compiled, so the cache sees the same expressions at every start. */
static void use_anchor_free_forms(struct prefilter *pf)
{
    for (size_t g = 0; g < pf->group_count && !told_to_stop(pf); g++) {
        struct prefilter_group *grp = &pf->groups[g];
        for (size_t i = 0; i < grp->member_count; i++) {
            char *anchor_free = prefilter_anchor_free(grp->expressions[i]);
            if (anchor_free == NULL || hs_accepts(grp->expressions[i], grp->flags[i])
                    || !hs_accepts(anchor_free, grp->flags[i])) {
                free(anchor_free);
                continue;
            }
            free(grp->expressions[i]);
            free(grp->ascii_expressions[i]);
            free(grp->squeezed[i]);
            grp->expressions[i] = anchor_free;
            set_line_forms(grp, i);
        }
    }
}

/* The ids of one database: Hyperscan reports them, PCRE2 decides. */
static void take_ids(struct prefilter *pf, const struct prefilter_group *grp, const unsigned *ids,
    size_t count)
{
    for (size_t i = 0; i < count; i++)
        pf->rule_id[grp->members[ids[i]]] = ids[i];
    pf->taken += count;
}

/* Compiles the ids in chunk (*chunk_count of them) into one database; a pattern the compiler
 * refuses in the set is dropped and the rest retried (*chunk_count: the ids it holds).
 * Returns the database or NULL. */
static hs_database_t *compile_chunk(struct prefilter *pf, struct prefilter_group *grp,
    unsigned *chunk, size_t *chunk_count)
{
    size_t count = *chunk_count;
    const char **expressions = xcalloc(count + 1, sizeof *expressions);
    unsigned *flags = xcalloc(count + 1, sizeof *flags);
    hs_database_t *db = NULL;
    while (count > 0 && !told_to_stop(pf)) {
        for (size_t i = 0; i < count; i++) {
            expressions[i] = grp->expressions[chunk[i]];
            flags[i] = grp->flags[chunk[i]];
        }
        hs_compile_error_t *error = NULL;
        hs_error_t rc = hs_compile_multi(expressions, flags, chunk, (unsigned)count,
            HS_MODE_BLOCK, NULL, &db, &error);
        int bad = error != NULL ? error->expression : -1;
        if (error != NULL)
            hs_free_compile_error(error);
        if (rc == HS_SUCCESS)
            break;
        db = NULL;
        if (bad < 0 || (size_t)bad >= count)
            break;                      /* the set as a whole: these rules run in PCRE2 */
        memmove(chunk + bad, chunk + bad + 1, (count - (size_t)bad - 1) * sizeof *chunk);
        count--;
    }
    if (db != NULL)
        take_ids(pf, grp, chunk, count);
    *chunk_count = count;
    free(expressions);
    free(flags);
    return db;
}

/* The cache's name for the database of these ids of the group (as given: before any is
 * refused). */
static void chunk_key(const struct prefilter_group *grp, const unsigned *chunk, size_t count,
    unsigned char key[PREFILTER_CACHE_KEY_LEN])
{
    const char **expressions = xcalloc(count + 1, sizeof *expressions);
    unsigned *flags = xcalloc(count + 1, sizeof *flags);
    for (size_t i = 0; i < count; i++) {
        expressions[i] = grp->expressions[chunk[i]];
        flags[i] = grp->flags[chunk[i]];
    }
    prefilter_cache_key(expressions, flags, chunk, count, key);
    free(expressions);
    free(flags);
}

/* The chunk's database from the cache, its ids taken; NULL when it must be compiled. */
static hs_database_t *cached_chunk(struct prefilter *pf, struct prefilter_group *grp,
    const unsigned char key[PREFILTER_CACHE_KEY_LEN], unsigned *chunk, size_t *count_io)
{
    size_t count = *count_io;
    if (pf->cache_dir == NULL)
        return NULL;
    unsigned *ids = xcalloc(count, sizeof *ids);
    size_t held = count;
    hs_database_t *db = prefilter_cache_load(pf->cache_dir, key, ids, &held);
    /* the key covers the ids compiled; each one read back must be one of them */
    for (size_t i = 0; db != NULL && i < held; i++) {
        bool known = false;
        for (size_t j = 0; j < count && !known; j++)
            known = ids[i] == chunk[j];
        if (!known) {
            hs_free_database(db);
            db = NULL;
        }
    }
    if (db != NULL) {
        take_ids(pf, grp, ids, held);
        pf->from_cache++;
        memcpy(chunk, ids, held * sizeof *ids);       /* the ids the database holds */
        *count_io = held;
    }
    free(ids);
    return db;
}

/* One database from up to CHUNK_PATTERNS consecutive members: read back from the cache when it
 * is there (named by the chunk as given, so nothing is parsed first), else compiled from the
 * patterns Hyperscan accepts. NULL when none is; else chunk holds the *count ids it has. */
static hs_database_t *chunk_database(struct prefilter *pf, struct prefilter_group *grp,
    unsigned *chunk, size_t *count_io)
{
    size_t count = *count_io;
    unsigned char key[PREFILTER_CACHE_KEY_LEN];
    if (pf->cache_dir != NULL)
        chunk_key(grp, chunk, count, key);
    hs_database_t *db = cached_chunk(pf, grp, key, chunk, count_io);
    if (db != NULL)
        return db;
    size_t accepted = 0;
    for (size_t i = 0; i < count; i++) {
        if (hs_accepts(grp->expressions[chunk[i]], grp->flags[chunk[i]]))
            chunk[accepted++] = chunk[i];
    }
    if (accepted == 0)
        return NULL;
    db = compile_chunk(pf, grp, chunk, &accepted);
    pf->compiled += db != NULL;
    if (db != NULL && pf->cache_dir != NULL)
        prefilter_cache_store(pf->cache_dir, key, db, chunk, accepted);
    *count_io = accepted;
    return db;
}

/* The database of exactly these ids in these expressions: read back from the cache (only if it
 * holds all of them) or compiled whole; NULL when Hyperscan refuses the set (all or nothing: a
 * missing id would be a rule never reported). */
static hs_database_t *exact_database(struct prefilter *pf, const char *const *expressions,
    const unsigned *flags, const unsigned *ids, size_t count)
{
    hs_database_t *db = NULL;
    unsigned char key[PREFILTER_CACHE_KEY_LEN];
    if (pf->cache_dir != NULL) {
        prefilter_cache_key(expressions, flags, ids, count, key);
        unsigned *held_ids = xcalloc(count, sizeof *held_ids);
        size_t held = count;
        db = prefilter_cache_load(pf->cache_dir, key, held_ids, &held);
        bool same = db != NULL && held == count;
        for (size_t i = 0; same && i < held; i++) {
            bool known = false;
            for (size_t j = 0; j < count && !known; j++)
                known = held_ids[i] == ids[j];
            same = known;
        }
        if (db != NULL && !same) {
            hs_free_database(db);
            db = NULL;
        }
        pf->from_cache += db != NULL;
        free(held_ids);
    }
    if (db == NULL && !told_to_stop(pf)) {
        hs_compile_error_t *error = NULL;
        if (hs_compile_multi(expressions, flags, ids, (unsigned)count, HS_MODE_BLOCK, NULL,
                &db, &error) != HS_SUCCESS) {
            db = NULL;
            hs_free_compile_error(error);
        } else {
            pf->compiled++;
            if (pf->cache_dir != NULL)
                prefilter_cache_store(pf->cache_dir, key, db, ids, count);
        }
    }
    if (db != NULL && hs_alloc_scratch(db, &pf->prototype) != HS_SUCCESS) {
        hs_free_database(db);
        db = NULL;
    }
    return db;
}

/* The expressions (and flags) of the ids: each id's squeezed form when squeezed, else its
 * ASCII form, or its expression when it has neither. */
static void line_expressions(const struct prefilter_group *grp, const unsigned *ids, size_t count,
    bool squeezed, const char **expressions, unsigned *flags)
{
    for (size_t i = 0; i < count; i++) {
        const char *ascii = grp->ascii_expressions[ids[i]];
        expressions[i] = squeezed ? grp->squeezed[ids[i]]
            : ascii != NULL ? ascii : grp->expressions[ids[i]];
        flags[i] = grp->flags[ids[i]];
    }
}

/* The ASCII-form database of the ids of one database (chunk, count of them): each id's ASCII
 * form, or its expression when it has none. It must hold exactly these ids: NULL when one has
 * no ASCII form Hyperscan takes, or no id has an ASCII form at all. */
static hs_database_t *ascii_chunk_database(struct prefilter *pf, struct prefilter_group *grp,
    const unsigned *chunk, size_t count)
{
    bool any = false;
    for (size_t i = 0; i < count; i++)
        any = any || grp->ascii_expressions[chunk[i]] != NULL;
    if (!any)
        return NULL;
    const char **expressions = xcalloc(count + 1, sizeof *expressions);
    unsigned *flags = xcalloc(count + 1, sizeof *flags);
    line_expressions(grp, chunk, count, false, expressions, flags);
    hs_database_t *db = exact_database(pf, expressions, flags, chunk, count);
    free(expressions);
    free(flags);
    return db;
}

/* Databases of up to SQUEEZE_CHUNK_PATTERNS (squeezed) or CHUNK_PATTERNS of the ids each,
 * appended to *dbs (*db_count of them); with squeezed, ids Hyperscan refuses in their
 * squeezed form are moved to refused (*refused_count of them). false when a set cannot be
 * compiled. */
static bool line_databases(struct prefilter *pf, const struct prefilter_group *grp,
    const unsigned *ids, size_t count, bool squeezed, hs_database_t ***dbs, size_t *db_count,
    unsigned *refused, size_t *refused_count)
{
    size_t per_db = squeezed ? SQUEEZE_CHUNK_PATTERNS : CHUNK_PATTERNS;
    const char **expressions = xcalloc(per_db + 1, sizeof *expressions);
    unsigned *flags = xcalloc(per_db + 1, sizeof *flags);
    unsigned *chunk = xcalloc(per_db + 1, sizeof *chunk);
    bool ok = true;
    for (size_t first = 0; first < count && ok; first += per_db) {
        size_t n = count - first < per_db ? count - first : per_db;
        memcpy(chunk, ids + first, n * sizeof *chunk);
        line_expressions(grp, chunk, n, squeezed, expressions, flags);
        hs_database_t *db = exact_database(pf, expressions, flags, chunk, n);
        if (db == NULL && squeezed) {
            size_t kept = 0;            /* the ones Hyperscan takes, the others to refused */
            for (size_t i = 0; i < n; i++) {
                if (hs_accepts(expressions[i], flags[i]))
                    chunk[kept++] = chunk[i];
                else
                    refused[(*refused_count)++] = chunk[i];
            }
            line_expressions(grp, chunk, kept, squeezed, expressions, flags);
            db = kept > 0 ? exact_database(pf, expressions, flags, chunk, kept) : NULL;
            ok = kept == 0 || db != NULL;
        } else {
            ok = db != NULL;
        }
        if (db != NULL) {
            *dbs = xrealloc(*dbs, (*db_count + 1) * sizeof **dbs);
            (*dbs)[(*db_count)++] = db;
        }
    }
    free(expressions);
    free(flags);
    free(chunk);
    return ok;
}

static void free_databases(hs_database_t **dbs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        hs_free_database(dbs[i]);
    free(dbs);
}

/* The squeezed-form and rest databases of the ids the group's databases hold (taken, count of
 * them); false (none kept) when no id has a squeezed form or a set cannot be compiled. */
static bool compile_squeezed(struct prefilter *pf, struct prefilter_group *grp,
    const unsigned *taken, size_t count)
{
    unsigned *squeezed = xcalloc(count + 1, sizeof *squeezed);
    unsigned *rest = xcalloc(count + 1, sizeof *rest);
    size_t squeezed_count = 0, rest_count = 0;
    for (size_t i = 0; i < count; i++) {
        if (grp->squeezed[taken[i]] != NULL)
            squeezed[squeezed_count++] = taken[i];
        else
            rest[rest_count++] = taken[i];
    }
    bool ok = squeezed_count > 0
        && line_databases(pf, grp, squeezed, squeezed_count, true, &grp->squeeze_dbs,
            &grp->squeeze_count, rest, &rest_count)
        && line_databases(pf, grp, rest, rest_count, false, &grp->rest_dbs, &grp->rest_count,
            NULL, NULL);
    if (!ok || grp->squeeze_count == 0) {
        free_databases(grp->squeeze_dbs, grp->squeeze_count);
        free_databases(grp->rest_dbs, grp->rest_count);
        grp->squeeze_dbs = grp->rest_dbs = NULL;
        grp->squeeze_count = grp->rest_count = 0;
        ok = false;
    }
    pf->squeeze_ready += grp->squeeze_count;
    pf->ascii_ready += grp->rest_count;
    free(squeezed);
    free(rest);
    return ok;
}

/* The group's databases of up to CHUNK_PATTERNS consecutive members, then for a text with no
 * byte >= 0x80 either its squeezed-form and rest databases or, failing those, the ASCII form
 * of each database. */
static void compile_group(struct prefilter *pf, struct prefilter_group *grp)
{
    unsigned *chunk = xcalloc(CHUNK_PATTERNS, sizeof *chunk);
    unsigned *taken = xcalloc(grp->member_count + 1, sizeof *taken);
    size_t *chunk_first = xcalloc(grp->member_count / CHUNK_PATTERNS + 2, sizeof *chunk_first);
    size_t taken_count = 0;
    for (size_t first = 0; first < grp->member_count && !told_to_stop(pf);
            first += CHUNK_PATTERNS) {
        size_t count = grp->member_count - first;
        if (count > CHUNK_PATTERNS)
            count = CHUNK_PATTERNS;
        for (size_t i = 0; i < count; i++)
            chunk[i] = (unsigned)(first + i);
        hs_database_t *db = chunk_database(pf, grp, chunk, &count);
        if (db != NULL && hs_alloc_scratch(db, &pf->prototype) == HS_SUCCESS) {
            chunk_first[grp->db_count] = taken_count;
            memcpy(taken + taken_count, chunk, count * sizeof *chunk);
            taken_count += count;
            grp->dbs = xrealloc(grp->dbs, (grp->db_count + 1) * sizeof *grp->dbs);
            grp->dbs[grp->db_count++] = db;
        } else if (db != NULL) {
            hs_free_database(db);        /* out of memory: these rules run in PCRE2 */
        }
    }
    chunk_first[grp->db_count] = taken_count;
    grp->ascii_dbs = xcalloc(grp->db_count + 1, sizeof *grp->ascii_dbs);
    bool squeezed = grp->db_count > 0 && !told_to_stop(pf)
        && compile_squeezed(pf, grp, taken, taken_count);
    for (size_t d = 0; d < grp->db_count && !squeezed && !told_to_stop(pf); d++) {
        grp->ascii_dbs[d] = ascii_chunk_database(pf, grp, taken + chunk_first[d],
            chunk_first[d + 1] - chunk_first[d]);
        pf->ascii_ready += grp->ascii_dbs[d] != NULL;
    }
    free(chunk);
    free(taken);
    free(chunk_first);
}

/* The chain's database, read back from the cache or compiled; none when Hyperscan refuses G
 * exact (too large, or a construct it has only in prefilter mode) or G may match empty. */
static void compile_chain(struct prefilter *pf, struct prefilter_chain *c)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *error = NULL;
    if (hs_expression_info(c->expression, c->flags, &info, &error) != HS_SUCCESS) {
        hs_free_compile_error(error);
        return;
    }
    c->min_width = info->min_width;
    free(info);
    if (c->min_width == 0)
        return;
    unsigned char key[PREFILTER_CACHE_KEY_LEN];
    const char *expressions[1] = { c->expression };
    unsigned id = 0, read_id = 1;
    size_t count = 1;
    hs_database_t *db = NULL;
    if (pf->cache_dir != NULL) {
        prefilter_cache_key(expressions, &c->flags, &id, 1, key);
        db = prefilter_cache_load(pf->cache_dir, key, &read_id, &count);
        if (db != NULL && (count != 1 || read_id != id)) {
            hs_free_database(db);
            db = NULL;
        }
        pf->from_cache += db != NULL;
    }
    if (db == NULL) {
        if (hs_compile(c->expression, c->flags, HS_MODE_BLOCK, NULL, &db, &error)
                != HS_SUCCESS) {
            hs_free_compile_error(error);
            return;
        }
        pf->compiled++;
        if (pf->cache_dir != NULL)
            prefilter_cache_store(pf->cache_dir, key, db, &id, 1);
    }
    if (hs_alloc_scratch(db, &pf->prototype) != HS_SUCCESS) {
        hs_free_database(db);
        return;
    }
    c->db = db;
    pf->chains_ready++;
}

static void free_all(struct prefilter *pf);

/* One line on the prefilter's state, for the log, `mailwarden -t` and `mailwarden-ctl status`. */
static void prefilter_describe(struct prefilter *pf, char *buf, size_t size)
{
    pthread_mutex_lock(&pf->lock);
    bool started = pf->started, finished = pf->finished;
    pthread_mutex_unlock(&pf->lock);
    if (atomic_load(&pf->ready)) {
        size_t databases = pf->chains_ready + pf->ascii_ready + pf->squeeze_ready;
        for (size_t g = 0; g < pf->group_count; g++)
            databases += pf->groups[g].db_count;
        char source[300];
        if (pf->cache_dir != NULL)
            snprintf(source, sizeof source, "%zu read from the cache %s", pf->from_cache,
                pf->cache_dir);
        else
            snprintf(source, sizeof source, "no cache");
        snprintf(buf, size, "Hyperscan prefilter ready: %zu regexes in %zu databases (%zu "
            "compiled in %.1f s of CPU, %s; %zu of them ASCII forms, %zu squeezed forms, %zu "
            "counted checks of repeated groups); %zu refused run in PCRE2 alone", pf->taken,
            databases, pf->compiled, pf->compile_cpu_s, source, pf->ascii_ready,
            pf->squeeze_ready, pf->chains_ready, pf->refused);
    } else if (finished) {
        snprintf(buf, size, "Hyperscan prefilter off: %s (PCRE2 alone, same results)",
            atomic_load(&process_stopping) ? "the process is stopping"
            : "Hyperscan took none of the regexes");
    } else if (started) {
        snprintf(buf, size, "Hyperscan prefilter compiling (PCRE2 alone until it is done, "
            "same results)");
    } else {
        snprintf(buf, size, "Hyperscan prefilter waiting: compiled%s%s once the policy has "
            "checked %d messages; PCRE2 alone until then, same results",
            pf->cache_dir != NULL ? " or read from the cache " : " (no cache)",
            pf->cache_dir != NULL ? pf->cache_dir : "", START_AFTER_MESSAGES);
    }
}

void ruleset_prefilter_describe(const struct ruleset *rs, char *buf, size_t size)
{
    if (rs->prefilter != NULL)
        prefilter_describe(rs->prefilter, buf, size);
    else if (hs_valid_platform() != HS_SUCCESS)
        snprintf(buf, size, "Hyperscan prefilter off: this CPU lacks what Hyperscan needs "
            "(SSSE3); PCRE2 alone, same results");
    else
        snprintf(buf, size, "Hyperscan prefilter: none needed (no regex rule)");
}

void ruleset_set_prefilter_cache(struct ruleset *rs, const char *dir)
{
    struct prefilter *pf = rs->prefilter;
    if (pf == NULL)
        return;
    pthread_mutex_lock(&pf->lock);
    if (!pf->started) {
        free(pf->cache_dir);
        pf->cache_dir = dir != NULL && dir[0] != '\0' ? xstrdup(dir) : NULL;
    }
    pthread_mutex_unlock(&pf->lock);
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void open_cache(struct prefilter *pf)
{
    char why[256];
    if (pf->cache_dir == NULL || prefilter_cache_open(pf->cache_dir, why, sizeof why))
        return;
    log_msg(LOG_WARNING, "rules: the Hyperscan cache %s is not used: %s; the prefilter is "
        "compiled again at every start and reload (rules.prefilter_cache)", pf->cache_dir, why);
    free(pf->cache_dir);
    pf->cache_dir = NULL;
}

static void *compile_all(void *arg)
{
    struct prefilter *pf = arg;
    double start = thread_cpu_s();
    use_anchor_free_forms(pf);
    open_cache(pf);
    for (size_t g = 0; g < pf->group_count && !told_to_stop(pf); g++)
        compile_group(pf, &pf->groups[g]);
    for (size_t c = 0; c < pf->chain_count && !told_to_stop(pf); c++)
        compile_chain(pf, &pf->chains[c]);
    size_t members = 0;
    for (size_t g = 0; g < pf->group_count; g++)
        members += pf->groups[g].member_count;
    pf->refused = members - pf->taken;
    pf->compile_cpu_s = thread_cpu_s() - start;
    if (!told_to_stop(pf) && pf->prototype != NULL) {
        if (pf->cache_dir != NULL && pf->compiled > 0)
            prefilter_cache_prune(pf->cache_dir, PREFILTER_CACHE_MAX_AGE);
#ifdef __GLIBC__
        malloc_trim(0);                 /* the compiler's working memory goes back */
#endif
        atomic_store(&pf->ready, true);
        char line[512];
        prefilter_describe(pf, line, sizeof line);
        log_msg(LOG_NOTICE, "rules: %s", line);
    }
    pthread_mutex_lock(&pf->lock);
    pf->finished = true;
    bool orphaned = pf->orphaned;
    pthread_mutex_unlock(&pf->lock);
    if (orphaned)
        free_all(pf);
    pthread_mutex_lock(&running_lock);       /* the last thing this thread does */
    running_threads--;
    pthread_cond_broadcast(&running_done);
    pthread_mutex_unlock(&running_lock);
    return NULL;
}

void rules_prefilter_stop(void)
{
    atomic_store(&process_stopping, true);
    pthread_mutex_lock(&running_lock);
    while (running_threads > 0)
        pthread_cond_wait(&running_done, &running_lock);
    pthread_mutex_unlock(&running_lock);
}

/* Counts a compiling thread about to start; false once the process is stopping. */
static bool thread_may_start(void)
{
    pthread_mutex_lock(&running_lock);
    bool may = !atomic_load(&process_stopping);
    running_threads += may;
    pthread_mutex_unlock(&running_lock);
    return may;
}

static void thread_did_not_start(void)
{
    pthread_mutex_lock(&running_lock);
    running_threads--;
    pthread_cond_broadcast(&running_done);
    pthread_mutex_unlock(&running_lock);
}

void prefilter_build(struct ruleset *rs)
{
    if (hs_valid_platform() != HS_SUCCESS || rs->plain_count == 0)
        return;
    struct prefilter *pf = xcalloc(1, sizeof *pf);
    pf->rule_group = xcalloc(rs->count + 1, sizeof *pf->rule_group);
    pf->rule_id = xcalloc(rs->count + 1, sizeof *pf->rule_id);
    pf->rule_chain = xcalloc(rs->count + 1, sizeof *pf->rule_chain);
    for (size_t i = 0; i <= rs->count; i++)
        pf->rule_group[i] = pf->rule_id[i] = pf->rule_chain[i] = NO_GROUP;
    for (size_t i = 0; i < rs->plain_count; i++) {
        size_t index = rs->plain[i];
        const struct rule *r = &rs->rules[index];
        if (!prefiltered_type(r->type) || r->regex == NULL || r->pattern == NULL || r->exists_test
            || r->template_count > 0 || rule_never_runs(r))
            continue;
        uint32_t g = find_group(pf, r);
        pf->rule_group[index] = g;
        add_member(&pf->groups[g], r, index);
        add_chain(pf, r, index);
    }
    pthread_mutex_init(&pf->lock, NULL);
    atomic_init(&pf->ready, false);
    atomic_init(&pf->cancel, false);
    atomic_init(&pf->messages, 0);
    rs->prefilter = pf;
}

/* Starts the compiling thread once; with wait, also waits for it (one waiter at a time: the
 * thread takes the lock as it ends, so the join happens outside it). */
static void start_compiling(struct prefilter *pf, bool wait)
{
    pthread_mutex_lock(&pf->lock);
    if (!pf->started) {
        pf->started = true;
        if (!thread_may_start()) {
            pf->joined = pf->finished = true;    /* stopping: PCRE2 alone */
        } else if (pthread_create(&pf->thread, NULL, compile_all, pf) != 0) {
            thread_did_not_start();
            pf->joined = pf->finished = true;    /* no thread: PCRE2 alone */
        }
    }
    bool join = wait && !pf->joined && !pf->joining;
    pf->joining = pf->joining || join;
    pthread_mutex_unlock(&pf->lock);
    if (!join)
        return;
    pthread_join(pf->thread, NULL);
    pthread_mutex_lock(&pf->lock);
    pf->joined = true;
    pthread_mutex_unlock(&pf->lock);
}

/* Freeing never waits for a compile in progress (a reload, a daemon stopping, a one-message
 * mailwarden-check): the thread is told to stop and frees the prefilter itself. */
void prefilter_free(struct prefilter *pf)
{
    if (pf == NULL)
        return;
    atomic_store(&pf->cancel, true);
    pthread_mutex_lock(&pf->lock);
    bool running = pf->started && !pf->joined && !pf->finished;
    pf->orphaned = running;
    pthread_mutex_unlock(&pf->lock);
    if (running) {
        pthread_detach(pf->thread);
        return;
    }
    if (pf->started && !pf->joined)
        pthread_join(pf->thread, NULL);
    free_all(pf);
}

static void free_all(struct prefilter *pf)
{
    for (size_t g = 0; g < pf->group_count; g++) {
        struct prefilter_group *grp = &pf->groups[g];
        for (size_t d = 0; d < grp->db_count; d++) {
            hs_free_database(grp->dbs[d]);
            hs_free_database(grp->ascii_dbs[d]);
        }
        free_databases(grp->squeeze_dbs, grp->squeeze_count);
        free_databases(grp->rest_dbs, grp->rest_count);
        for (size_t i = 0; i < grp->member_count; i++) {
            free(grp->expressions[i]);
            free(grp->ascii_expressions[i]);
            free(grp->squeezed[i]);
        }
        free(grp->squeezed);
        free(grp->dbs);
        free(grp->ascii_dbs);
        free(grp->expressions);
        free(grp->ascii_expressions);
        free(grp->flags);
        free(grp->members);
        free(grp->header_key);
    }
    for (size_t c = 0; c < pf->chain_count; c++) {
        hs_free_database(pf->chains[c].db);
        free(pf->chains[c].expression);
    }
    free(pf->chains);
    free(pf->rule_chain);
    for (size_t i = 0; i < pf->pool_count; i++)
        hs_free_scratch(pf->pool[i]);
    hs_free_scratch(pf->prototype);
    pthread_mutex_destroy(&pf->lock);
    free(pf->pool);
    free(pf->groups);
    free(pf->rule_group);
    free(pf->rule_id);
    free(pf->cache_dir);
    free(pf);
}

bool ruleset_prefilter_wait(const struct ruleset *rs)
{
    if (rs == NULL || rs->prefilter == NULL)
        return false;
    start_compiling(rs->prefilter, true);
    return atomic_load(&rs->prefilter->ready);
}

bool ruleset_prefilter_stats(const struct ruleset *rs, struct prefilter_stats *out)
{
    const struct prefilter *pf = rs->prefilter;
    *out = (struct prefilter_stats){ 0 };
    if (pf == NULL || !atomic_load(&pf->ready))
        return false;
    out->taken = pf->taken;
    out->refused = pf->refused;
    for (size_t g = 0; g < pf->group_count; g++)
        out->databases += pf->groups[g].db_count;
    out->databases += pf->chains_ready + pf->ascii_ready + pf->squeeze_ready;
    out->counted_checks = pf->chains_ready;
    out->ascii_forms = pf->ascii_ready;
    out->squeezed_forms = pf->squeeze_ready;
    out->compiled = pf->compiled;
    out->from_cache = pf->from_cache;
    return true;
}

static hs_scratch_t *borrow_scratch(struct prefilter *pf)
{
    hs_scratch_t *s = NULL;
    pthread_mutex_lock(&pf->lock);
    if (pf->pool_count > 0)
        s = pf->pool[--pf->pool_count];
    pthread_mutex_unlock(&pf->lock);
    if (s == NULL && hs_clone_scratch(pf->prototype, &s) != HS_SUCCESS)
        s = NULL;
    return s;
}

static void return_scratch(struct prefilter *pf, hs_scratch_t *s)
{
    pthread_mutex_lock(&pf->lock);
    if (pf->pool_count == pf->pool_cap) {
        pf->pool_cap = pf->pool_cap ? pf->pool_cap * 2 : 8;
        pf->pool = xrealloc(pf->pool, pf->pool_cap * sizeof *pf->pool);
    }
    pf->pool[pf->pool_count++] = s;
    pthread_mutex_unlock(&pf->lock);
}

void prefilter_state_init(struct prefilter_state *st, const struct ruleset *rs, bool enabled)
{
    memset(st, 0, sizeof *st);
    struct prefilter *pf = rs->prefilter;
    if (!enabled || pf == NULL)
        return;
    if (!atomic_load(&pf->ready)) {
        if (atomic_load(&pf->messages) < START_AFTER_MESSAGES
                && atomic_fetch_add(&pf->messages, 1) + 1 == START_AFTER_MESSAGES)
            start_compiling(pf, false);
        return;
    }
    st->scratch = borrow_scratch(pf);
    if (st->scratch == NULL)
        return;
    st->pf = pf;
    st->rs = rs;
    st->cache = xcalloc(pf->group_count, sizeof *st->cache);
}

void prefilter_state_free(struct prefilter_state *st)
{
    if (st->pf != NULL) {
        for (size_t g = 0; g < st->pf->group_count; g++) {
            for (size_t s = 0; s < st->cache[g].slot_count; s++)
                free(st->cache[g].slots[s].bits);
            free(st->cache[g].slots);
            free(st->cache[g].any_line);
        }
        return_scratch(st->pf, st->scratch);
    }
    free(st->cache);
    free(st->chain_ends);
    free(st->squeezed);
    memset(st, 0, sizeof *st);
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
    (void)from;
    (void)to;
    (void)flags;
    uint64_t *bits = arg;
    bits[id / 64] |= (uint64_t)1 << (id % 64);
    return 0;
}

/* A text with no byte >= 0x80 (len at most UINT32_MAX) scanned with the group's squeezed-form
 * databases on its squeezed text and its rest databases on the text; false when a scan fails. */
static bool scan_squeezed(struct prefilter_state *st, const struct prefilter_group *grp,
    const char *text, size_t len, uint64_t *bits)
{
    if (len + 1 > st->squeezed_cap) {
        st->squeezed_cap = len + 1 > 2 * st->squeezed_cap ? len + 1 : 2 * st->squeezed_cap;
        st->squeezed = xrealloc(st->squeezed, st->squeezed_cap);
    }
    size_t n = prefilter_squeeze_text(text, len, st->squeezed);
    bool ok = true;
    for (size_t d = 0; d < grp->squeeze_count && ok; d++)
        ok = hs_scan(grp->squeeze_dbs[d], st->squeezed, (unsigned)n, 0, st->scratch, on_match,
            bits) == HS_SUCCESS;
    for (size_t d = 0; d < grp->rest_count && ok; d++)
        ok = hs_scan(grp->rest_dbs[d], text, (unsigned)len, 0, st->scratch, on_match, bits)
            == HS_SUCCESS;
    return ok;
}

static struct prefilter_slot *scanned_slot(struct prefilter_state *st, uint32_t g, size_t slot,
    const char *text, size_t len)
{
    const struct prefilter_group *grp = &st->pf->groups[g];
    struct prefilter_cache *cache = &st->cache[g];
    if (slot >= cache->slot_count) {
        size_t count = slot + 1 > cache->slot_count * 2 ? slot + 1 : cache->slot_count * 2;
        cache->slots = xrealloc(cache->slots, count * sizeof *cache->slots);
        memset(cache->slots + cache->slot_count, 0,
            (count - cache->slot_count) * sizeof *cache->slots);
        cache->slot_count = count;
    }
    struct prefilter_slot *s = &cache->slots[slot];
    if (s->scanned && s->len == len)
        return s;
    size_t words = (grp->member_count + 63) / 64;
    if (s->bits == NULL)
        s->bits = xcalloc(words, sizeof *s->bits);
    else
        memset(s->bits, 0, words * sizeof *s->bits);
    bool ascii = text != NULL && prefilter_text_is_ascii(text, len);
    bool scanned = len <= UINT32_MAX;
    if (ascii && grp->squeeze_count > 0) {
        scanned = scanned && scan_squeezed(st, grp, text, len, s->bits);
    } else {
        for (size_t d = 0; d < grp->db_count && scanned; d++) {
            const hs_database_t *db = ascii && grp->ascii_dbs[d] != NULL ? grp->ascii_dbs[d]
                : grp->dbs[d];
            scanned = hs_scan(db, text ? text : "", (unsigned)len, 0, st->scratch, on_match,
                s->bits) == HS_SUCCESS;
        }
    }
    if (!scanned)
        memset(s->bits, 0xff, words * sizeof *s->bits);   /* cannot tell: all run */
    s->scanned = true;
    s->len = len;
    return s;
}

/* The rule's database and member id; false when the prefilter cannot tell about it (none
 * ready, or a rule Hyperscan refused or that is not in one): it runs. */
static bool member_of(const struct prefilter_state *st, const struct rule *r, uint32_t *g,
    uint32_t *id)
{
    if (st->pf == NULL)
        return false;
    size_t index = (size_t)(r - st->rs->rules);
    *g = st->pf->rule_group[index];
    *id = st->pf->rule_id[index];
    return *g != NO_GROUP && *id != ALWAYS_RUN;
}

/* Every end of a match of the chain's G in the text: ends grow as needed. */
struct chain_ends {
    unsigned long long *ends;
    size_t count, cap;
};

static int on_chain_match(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
    (void)id;
    (void)from;
    (void)flags;
    struct chain_ends *e = arg;
    if (e->count == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->ends = xrealloc(e->ends, e->cap * sizeof *e->ends);
    }
    e->ends[e->count++] = to;
    return 0;
}

/* The counted check of a rule "(?:G){n}" the prefilter reports on text: false when no n ends
 * of G matches follow each other far enough apart, so the rule cannot match. */
static bool chain_may_match(struct prefilter_state *st, const struct rule *r, const char *text,
    size_t len)
{
    uint32_t c = st->pf->rule_chain[(size_t)(r - st->rs->rules)];
    if (c == NO_GROUP || st->pf->chains[c].db == NULL || len > UINT32_MAX)
        return true;
    const struct prefilter_chain *chain = &st->pf->chains[c];
    struct chain_ends e = { st->chain_ends, 0, st->chain_cap };
    hs_error_t rc = hs_scan(chain->db, text ? text : "", (unsigned)len, 0, st->scratch,
        on_chain_match, &e);
    st->chain_ends = e.ends;
    st->chain_cap = e.cap;
    if (rc != HS_SUCCESS)
        return true;                            /* cannot tell: it runs */
    return prefilter_chain_possible(e.ends, e.count, chain->count, chain->min_width);
}

bool prefilter_may_match(struct prefilter_state *st, const struct rule *r, size_t slot,
    const char *text, size_t len)
{
    uint32_t g, id;
    if (!member_of(st, r, &g, &id))
        return true;
    const struct prefilter_slot *s = scanned_slot(st, g, slot, text, len);
    if (!((s->bits[id / 64] >> (id % 64)) & 1))
        return false;
    return chain_may_match(st, r, text, len);
}

bool prefilter_any_line_may_match(struct prefilter_state *st, const struct rule *r,
    const char *text, const struct view_line *lines, size_t line_count, uint64_t limit)
{
    uint32_t g, id;
    if (!member_of(st, r, &g, &id))
        return true;
    struct prefilter_cache *cache = &st->cache[g];
    if (!cache->lines_scanned) {
        size_t words = (st->pf->groups[g].member_count + 63) / 64;
        cache->any_line = xcalloc(words, sizeof *cache->any_line);
        for (size_t i = 0; i < line_count && lines[i].start < limit; i++) {
            size_t len = lines[i].len;
            if (len > limit - lines[i].start)
                len = (size_t)(limit - lines[i].start);
            const struct prefilter_slot *s = scanned_slot(st, g, i, text + lines[i].start, len);
            for (size_t w = 0; w < words; w++)
                cache->any_line[w] |= s->bits[w];
        }
        cache->lines_scanned = true;
    }
    return (cache->any_line[id / 64] >> (id % 64)) & 1;
}

#else   /* no Hyperscan: every rule is a candidate */

void rules_prefilter_stop(void)
{
}

void ruleset_prefilter_describe(const struct ruleset *rs, char *buf, size_t size)
{
    (void)rs;
    snprintf(buf, size, "regexes: PCRE2 alone (built without Hyperscan: slower, same results)");
}

void ruleset_set_prefilter_cache(struct ruleset *rs, const char *dir)
{
    (void)rs;
    (void)dir;
}

void prefilter_build(struct ruleset *rs)
{
    (void)rs;
}

void prefilter_free(struct prefilter *pf)
{
    (void)pf;
}

bool ruleset_prefilter_wait(const struct ruleset *rs)
{
    (void)rs;
    return false;
}

bool ruleset_prefilter_stats(const struct ruleset *rs, struct prefilter_stats *out)
{
    (void)rs;
    *out = (struct prefilter_stats){ 0 };
    return false;
}

void prefilter_state_init(struct prefilter_state *st, const struct ruleset *rs, bool enabled)
{
    (void)rs;
    (void)enabled;
    memset(st, 0, sizeof *st);
}

void prefilter_state_free(struct prefilter_state *st)
{
    (void)st;
}

bool prefilter_any_line_may_match(struct prefilter_state *st, const struct rule *r,
    const char *text, const struct view_line *lines, size_t line_count, uint64_t limit)
{
    (void)st;
    (void)r;
    (void)text;
    (void)lines;
    (void)line_count;
    (void)limit;
    return true;
}

bool prefilter_may_match(struct prefilter_state *st, const struct rule *r, size_t slot,
    const char *text, size_t len)
{
    (void)st;
    (void)r;
    (void)slot;
    (void)text;
    (void)len;
    return true;
}

#endif
