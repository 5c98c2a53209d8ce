/* arc_set.c - collects ARC header fields into sets and checks the chain's structure
 * (RFC 8617 5.2 steps 1-3; see arc_set.h). Every error names the field, the instance and the
 * rule, and makes the chain INVALID: nothing malformed is ever passed on as READY. */
#include "arc_set.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum arc_kind { KIND_SEAL, KIND_AMS, KIND_AAR };

static const char *const kind_names[] = {
    "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results"
};

/* The tags each signed field must carry (RFC 8617 4.1.2, 4.1.3), with a non-empty value but
 * for h=: an AMS may sign no header field but itself (the ARC suite's ams_fields_h_empty). */
static const char *const seal_required[] = { "i", "a", "b", "cv", "d", "s", NULL };
static const char *const ams_required[] = { "i", "a", "b", "bh", "d", "h", "s", NULL };

static bool invalid(struct arc_chain *chain, unsigned instance, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool invalid(struct arc_chain *chain, unsigned instance, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(chain->reason, sizeof chain->reason, fmt, ap);
    va_end(ap);
    chain->state = ARC_CHAIN_INVALID;
    chain->bad_instance = instance;
    return false;
}

static bool kind_of(const char *name, enum arc_kind *kind)
{
    for (int k = KIND_SEAL; k <= KIND_AAR; k++) {
        if (str_ieq(name, kind_names[k])) {
            *kind = (enum arc_kind)k;
            return true;
        }
    }
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool all_digits(const char *s, size_t max_len)
{
    size_t n = strlen(s);
    if (n == 0 || n > max_len)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

/* 1..50 from 1*2DIGIT, else 0. */
static unsigned instance_value(const char *text)
{
    if (text == NULL || !all_digits(text, 2))
        return 0;
    unsigned value = (unsigned)atoi(text);
    return value <= ARC_MAX_INSTANCES ? value : 0;
}

unsigned arc_aar_instance(const char *value, const char **payload)
{
    const char *p = value;
    while (is_space(*p))
        p++;
    if (*p != 'i')
        return 0;
    p++;
    while (is_space(*p))
        p++;
    if (*p != '=')
        return 0;
    p++;
    while (is_space(*p))
        p++;
    char digits[3] = { 0 };
    size_t n = 0;
    while (*p >= '0' && *p <= '9') {
        if (n == 2)
            return 0;
        digits[n++] = *p++;
    }
    while (is_space(*p))
        p++;
    if (*p != ';')
        return 0;
    unsigned instance = instance_value(digits);
    if (instance != 0)
        *payload = p + 1;
    return instance;
}

static bool check_required(struct arc_chain *chain, unsigned instance, enum arc_kind kind,
    const struct arc_tags *tags, const char *const *required)
{
    for (size_t i = 0; required[i] != NULL; i++) {
        const char *value = arc_tags_get(tags, required[i]);
        if (value == NULL)
            return invalid(chain, instance, "%s i=%u has no %s= tag", kind_names[kind], instance,
                required[i]);
        if (value[0] == '\0' && strcmp(required[i], "h") != 0)
            return invalid(chain, instance, "%s i=%u has an empty %s= tag", kind_names[kind],
                instance, required[i]);
    }
    const char *t = arc_tags_get(tags, "t");
    if (t != NULL && !all_digits(t, 12))
        return invalid(chain, instance, "%s i=%u: t= is not a number of seconds", kind_names[kind],
            instance);
    return true;
}

static bool check_seal(struct arc_chain *chain, struct arc_set *set)
{
    if (!check_required(chain, set->instance, KIND_SEAL, &set->seal, seal_required))
        return false;
    if (arc_tags_get(&set->seal, "h") != NULL)
        return invalid(chain, set->instance, "ARC-Seal i=%u has an h= tag (RFC 8617 4.1.3 forbids it)",
            set->instance);
    const char *cv = arc_tags_get(&set->seal, "cv");
    if (strcmp(cv, "none") == 0)
        set->cv = ARC_CV_NONE;
    else if (strcmp(cv, "pass") == 0)
        set->cv = ARC_CV_PASS;
    else if (strcmp(cv, "fail") == 0)
        set->cv = ARC_CV_FAIL;
    else
        return invalid(chain, set->instance, "ARC-Seal i=%u: cv= is not none, pass or fail",
            set->instance);
    return true;
}

/* Parses one field into its slot; false (chain INVALID) on any error. */
static bool take_field(struct arc_chain *chain, const struct header_field *field, size_t index,
    enum arc_kind kind)
{
    const char *value = field->value != NULL ? field->value : "";
    unsigned instance;
    const char *payload = NULL;
    struct arc_tags tags;
    if (kind == KIND_AAR) {
        instance = arc_aar_instance(value, &payload);
        if (instance == 0)
            return invalid(chain, 0, "ARC-Authentication-Results does not start with i=1..50 and \";\"");
    } else {
        if (!arc_tags_parse(value, strlen(value), &tags)) {
            invalid(chain, 0, "%s: %s", kind_names[kind], tags.error);
            arc_tags_free(&tags);
            return false;
        }
        instance = instance_value(arc_tags_get(&tags, "i"));
        if (instance == 0) {
            arc_tags_free(&tags);
            return invalid(chain, 0, "%s has no i= tag of 1..50", kind_names[kind]);
        }
    }
    struct arc_set *set = &chain->set[instance - 1];
    set->instance = instance;
    size_t *slot = kind == KIND_SEAL ? &set->seal_field
        : kind == KIND_AMS ? &set->ams_field : &set->aar_field;
    if (*slot != SIZE_MAX) {
        if (kind != KIND_AAR)
            arc_tags_free(&tags);
        return invalid(chain, instance, "two %s fields with i=%u", kind_names[kind], instance);
    }
    *slot = index;
    if (kind == KIND_SEAL)
        set->seal = tags;
    else if (kind == KIND_AMS)
        set->ams = tags;
    else
        set->aar_payload = payload;
    return true;
}

/* Steps 2 and 3 of RFC 8617 5.2 on the collected sets. */
static bool check_sets(struct arc_chain *chain)
{
    unsigned highest = 0;
    for (unsigned i = 0; i < ARC_MAX_INSTANCES; i++) {
        if (chain->set[i].instance != 0)
            highest = i + 1;
    }
    for (unsigned i = 1; i <= highest; i++) {
        const struct arc_set *set = &chain->set[i - 1];
        if (set->seal_field == SIZE_MAX)
            return invalid(chain, i, "no ARC-Seal with i=%u (sets must run 1..%u)", i, highest);
        if (set->ams_field == SIZE_MAX)
            return invalid(chain, i, "no ARC-Message-Signature with i=%u (sets must run 1..%u)", i, highest);
        if (set->aar_field == SIZE_MAX)
            return invalid(chain, i, "no ARC-Authentication-Results with i=%u (sets must run 1..%u)", i, highest);
    }
    for (unsigned i = highest; i >= 1; i--) {
        struct arc_set *set = &chain->set[i - 1];
        if (!check_seal(chain, set))
            return false;
        if (!check_required(chain, i, KIND_AMS, &set->ams, ams_required))
            return false;
        if (set->cv == ARC_CV_FAIL)
            return invalid(chain, i, "ARC-Seal i=%u says cv=fail: the chain failed before", i);
        if (i == 1 && set->cv != ARC_CV_NONE)
            return invalid(chain, i, "ARC-Seal i=1 must say cv=none");
        if (i > 1 && set->cv != ARC_CV_PASS)
            return invalid(chain, i, "ARC-Seal i=%u must say cv=pass", i);
    }
    chain->count = highest;
    return true;
}

void arc_chain_collect(const struct header_field *fields, size_t count, struct arc_chain *chain)
{
    memset(chain, 0, sizeof *chain);
    chain->state = ARC_CHAIN_NONE;
    size_t arc_fields = 0;
    enum arc_kind kind;
    for (size_t i = 0; i < count; i++) {
        if (fields[i].name != NULL && kind_of(fields[i].name, &kind))
            arc_fields++;
    }
    if (arc_fields == 0)
        return;
    chain->set = xcalloc(ARC_MAX_INSTANCES, sizeof *chain->set);
    for (unsigned i = 0; i < ARC_MAX_INSTANCES; i++) {
        chain->set[i].seal_field = SIZE_MAX;
        chain->set[i].ams_field = SIZE_MAX;
        chain->set[i].aar_field = SIZE_MAX;
    }
    if (arc_fields > 3 * ARC_MAX_INSTANCES) {
        invalid(chain, 0, "%zu ARC header fields: more than %d sets", arc_fields, ARC_MAX_INSTANCES);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        if (fields[i].name == NULL || !kind_of(fields[i].name, &kind))
            continue;
        if (!take_field(chain, &fields[i], i, kind))
            return;
    }
    if (check_sets(chain))
        chain->state = ARC_CHAIN_READY;
}

void arc_chain_free(struct arc_chain *chain)
{
    if (chain->set != NULL) {
        for (unsigned i = 0; i < ARC_MAX_INSTANCES; i++) {
            arc_tags_free(&chain->set[i].seal);
            arc_tags_free(&chain->set[i].ams);
        }
        free(chain->set);
    }
    chain->set = NULL;
    chain->count = 0;
}

const char *arc_chain_state_name(enum arc_chain_state state)
{
    switch (state) {
    case ARC_CHAIN_NONE:
        return "none";
    case ARC_CHAIN_INVALID:
        return "invalid";
    case ARC_CHAIN_READY:
        return "ready";
    }
    return "invalid";
}
