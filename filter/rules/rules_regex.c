/* rules_regex.c - Perl match operators as SpamAssassin rules write them ("/re/i", "m{re}s",
 * "m!re!") compiled with PCRE2 (JIT when available), and bounded matching. Patterns run on
 * bytes, as SpamAssassin runs them without normalize_charset. Perl's leniencies PCRE2 has an
 * option for are switched on (an unknown escape such as "\y" is the literal letter); what PCRE2
 * cannot compile is reported with PCRE2's message so the rule can be skipped, never fatal.
 * Every match runs under a match limit, a depth limit and a bounded JIT stack, so a hostile
 * message cannot make a pathological pattern run for long. The JIT stack (an mmap) is kept per
 * thread between evaluations, freed when the thread ends. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"
#include "util.h"

static char closing_delimiter(char open)
{
    switch (open) {
    case '{': return '}';
    case '(': return ')';
    case '[': return ']';
    case '<': return '>';
    default: return open;
    }
}

/* Finds the end of the pattern that starts at p (after the opening delimiter). */
static const char *pattern_end(const char *p, char open, char close)
{
    int nesting = 0;
    for (; *p != '\0'; p++) {
        if (*p == '\\') {
            if (p[1] == '\0')
                return NULL;
            p++;
            continue;
        }
        if (open != close && *p == open) {
            nesting++;
        } else if (*p == close) {
            if (nesting == 0)
                return p;
            nesting--;
        }
    }
    return NULL;
}

/* Perl flags to PCRE2 options; false for a flag with no meaning here. */
static bool apply_flags(const char *flags, size_t len, uint32_t *options)
{
    for (size_t i = 0; i < len; i++) {
        switch (flags[i]) {
        case 'i': *options |= PCRE2_CASELESS; break;
        case 'm': *options |= PCRE2_MULTILINE; break;
        case 's': *options |= PCRE2_DOTALL; break;
        case 'x': *options |= PCRE2_EXTENDED; break;
        case 'n': *options |= PCRE2_NO_AUTO_CAPTURE; break;
        case 'g': case 'o': case 'a': case 'u': case 'l': case 'd': case 'p':
            break;            /* global, compile once, charset modes: nothing to do on bytes */
        default:
            return false;
        }
    }
    return true;
}

char *regex_perl_pattern(const char *text)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    char open;
    if (*p == '/')
        open = '/';
    else if (*p == 'm' && p[1] != '\0' && !isalnum((unsigned char)p[1])
            && !isspace((unsigned char)p[1]) && p[1] != '_')
        open = *++p;
    else
        return NULL;
    const char *end = pattern_end(p + 1, open, closing_delimiter(open));
    return end != NULL ? xstrndup(p + 1, (size_t)(end - p - 1)) : NULL;
}

pcre2_code *regex_compile_perl(const char **text, uint32_t extra_options, const char **why,
    char **detail)
{
    return regex_compile_perl_source(text, extra_options, NULL, why, detail, NULL, NULL);
}

pcre2_code *regex_compile_perl_source(const char **text, uint32_t extra_options,
    const char *define_block, const char **why, char **detail, char **pattern,
    uint32_t *options_out)
{
    const char *p = *text;
    *detail = NULL;
    while (isspace((unsigned char)*p))
        p++;
    char open;
    if (*p == '/') {
        open = '/';
    } else if (*p == 'm' && p[1] != '\0' && !isalnum((unsigned char)p[1]) && !isspace((unsigned char)p[1])
            && p[1] != '_') {
        open = *++p;
    } else {
        *why = "not a regex (expected /.../ or m{...})";
        return NULL;
    }
    char close = closing_delimiter(open);
    const char *start = p + 1;
    const char *end = pattern_end(start, open, close);
    if (end == NULL) {
        *why = "regex has no closing delimiter";
        return NULL;
    }
    const char *flags = end + 1;
    size_t flag_len = 0;
    while (isalpha((unsigned char)flags[flag_len]))
        flag_len++;
    uint32_t options = extra_options;
    if (!apply_flags(flags, flag_len, &options)) {
        *why = "regex flag with no meaning here";
        *detail = xstrndup(flags, flag_len);
        return NULL;
    }
    *text = flags + flag_len;

    char *source = xstrndup(start, (size_t)(end - start));
    char *compiled = define_block != NULL ? xasprintf("%s%s%s", source,
        (options & PCRE2_EXTENDED) ? "\n" : "", define_block) : NULL;
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    pcre2_set_compile_extra_options(cctx, PCRE2_EXTRA_BAD_ESCAPE_IS_LITERAL);
    int error;
    PCRE2_SIZE offset;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)(compiled ? compiled : source),
        PCRE2_ZERO_TERMINATED, options, &error, &offset, cctx);
    pcre2_compile_context_free(cctx);
    free(compiled);
    if ((code != NULL || error == PCRE2_ERROR_PATTERN_TOO_LARGE) && pattern != NULL) {
        *pattern = source;
        *options_out = options;
    } else {
        free(source);
    }
    if (code == NULL) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof message);
        *why = "regex PCRE2 cannot compile";
        *detail = xasprintf("%s at offset %zu", (const char *)message, (size_t)offset);
        *why = error == PCRE2_ERROR_PATTERN_TOO_LARGE ? SKIP_REGEX_TOO_LARGE : *why;
        return NULL;
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);     /* the interpreter runs what JIT cannot */
    return code;
}

/* One spare JIT stack per thread: creating and freeing one (mmap, munmap) at every message was
 * about 1.5% of a message's CPU. */
static pthread_key_t spare_stack_key;
static pthread_once_t spare_stack_once = PTHREAD_ONCE_INIT;

static void free_spare_stack(void *stack)
{
    pcre2_jit_stack_free(stack);
}

static void make_spare_stack_key(void)
{
    if (pthread_key_create(&spare_stack_key, free_spare_stack) != 0)
        abort();
}

static pcre2_jit_stack *take_jit_stack(void)
{
    pthread_once(&spare_stack_once, make_spare_stack_key);
    pcre2_jit_stack *stack = pthread_getspecific(spare_stack_key);
    if (stack != NULL) {
        pthread_setspecific(spare_stack_key, NULL);
        return stack;
    }
    return pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
}

static void give_back_jit_stack(pcre2_jit_stack *stack)
{
    if (stack == NULL)
        return;
    pthread_once(&spare_stack_once, make_spare_stack_key);
    if (pthread_getspecific(spare_stack_key) == NULL
            && pthread_setspecific(spare_stack_key, stack) == 0)
        return;
    pcre2_jit_stack_free(stack);
}

pcre2_code *regex_compile_jit(const char *pattern, uint32_t options)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &err,
        &off, NULL);
    if (code != NULL)
        (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);   /* faster when it can */
    return code;
}

void regex_matcher_init(struct regex_matcher *m, unsigned match_limit, unsigned depth_limit)
{
    m->md = pcre2_match_data_create(1, NULL);
    m->mctx = pcre2_match_context_create(NULL);
    m->jit_stack = take_jit_stack();
    m->limit_hits = 0;
    m->captures = NULL;
    if (m->md == NULL || m->mctx == NULL)
        abort();                             /* out of memory, as xmalloc treats it */
    pcre2_set_match_limit(m->mctx, match_limit);
    pcre2_set_depth_limit(m->mctx, depth_limit);
    pcre2_set_heap_limit(m->mctx, 64 * 1024);       /* KiB for the interpreter's backtracking */
    if (m->jit_stack != NULL)
        pcre2_jit_stack_assign(m->mctx, NULL, m->jit_stack);
}

void regex_matcher_free(struct regex_matcher *m)
{
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    give_back_jit_stack(m->jit_stack);
    memset(m, 0, sizeof *m);
}

static bool is_limit_error(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT
        || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

unsigned regex_count(struct regex_matcher *m, const pcre2_code *code, const char *subject,
    size_t len, unsigned max)
{
    if (max == 0)
        max = 1;
    unsigned count = 0;
    PCRE2_SIZE offset = 0;
    /* a capture rule reads its named groups: match data with room for every group */
    pcre2_match_data *md = m->md;
    if (m->captures != NULL && (md = pcre2_match_data_create_from_pattern(code, NULL)) == NULL)
        abort();                             /* out of memory, as xmalloc treats it */
    while (count < max && offset <= len) {
        int rc = pcre2_match(code, (PCRE2_SPTR)subject, len, offset, 0, md, m->mctx);
        if (rc < 0) {
            if (is_limit_error(rc))
                m->limit_hits++;
            break;
        }
        count++;
        if (m->captures != NULL)
            capture_collect(m->captures, code, subject, md);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        PCRE2_SIZE next = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
        if (next <= offset)
            next = offset + 1;                /* always move on */
        offset = next;
    }
    if (md != m->md)
        pcre2_match_data_free(md);
    return count;
}
