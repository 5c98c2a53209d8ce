/* verdict.c - action names, SMTP reply parsing and defaults, header edits of a verdict. */
#include "verdict.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const struct {
    enum action action;
    const char *name;
} action_names[] = {
    {ACTION_NONE, "score"}, {ACTION_ACCEPT, "accept"}, {ACTION_QUARANTINE, "quarantine"},
    {ACTION_DISCARD, "discard"}, {ACTION_TEMPFAIL, "tempfail"}, {ACTION_REJECT, "reject"},
};

const char *action_name(enum action action)
{
    if (action == ACTION_NONE)
        return "none";
    for (size_t i = 0; i < sizeof action_names / sizeof action_names[0]; i++) {
        if (action_names[i].action == action)
            return action_names[i].name;
    }
    return "unknown";
}

bool action_from_name(const char *name, enum action *out)
{
    if (str_ieq(name, "none")) {
        *out = ACTION_NONE;
        return true;
    }
    for (size_t i = 0; i < sizeof action_names / sizeof action_names[0]; i++) {
        if (str_ieq(name, action_names[i].name)) {
            *out = action_names[i].action;
            return true;
        }
    }
    return false;
}

int action_severity(enum action action)
{
    return (int)action;
}

/* "5.7.1": class.subject.detail, class 2, 4 or 5, subject 0-999, detail 0-999 (RFC 3463). */
static bool dsn_valid(const char *dsn)
{
    if (!(dsn[0] == '2' || dsn[0] == '4' || dsn[0] == '5') || dsn[1] != '.')
        return false;
    const char *p = dsn + 2;
    for (int part = 0; part < 2; part++) {
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits++;
        }
        if (digits < 1 || digits > 3)
            return false;
        if (part == 0 && *p++ != '.')
            return false;
    }
    return *p == '\0';
}

bool reply_parse(const char *text, struct reply *out, const char **why)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    while (*p == ' ')
        p++;
    if (!(p[0] == '4' || p[0] == '5') || !isdigit((unsigned char)p[1])
        || !isdigit((unsigned char)p[2]) || (p[3] != ' ' && p[3] != '\0')) {
        *why = "a reply starts with a 4xx or 5xx code, as in \"550 5.7.1 text\"";
        return false;
    }
    out->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    p += 3;
    while (*p == ' ')
        p++;
    if (isdigit((unsigned char)p[0]) && p[1] == '.') {
        size_t len = strcspn(p, " ");
        if (len >= sizeof out->dsn) {
            *why = "the enhanced status code is too long";
            return false;
        }
        memcpy(out->dsn, p, len);
        out->dsn[len] = '\0';
        if (!dsn_valid(out->dsn)) {
            *why = "the enhanced status code must look like 5.7.1 (RFC 3463)";
            return false;
        }
        if (out->dsn[0] - '0' != out->code / 100) {
            *why = "the enhanced status code's class must match the reply code (5xx with 5.x.x)";
            return false;
        }
        p += len;
        while (*p == ' ')
            p++;
    }
    if (strlen(p) >= sizeof out->text) {
        *why = "the reply text is longer than 255 characters";
        return false;
    }
    for (const char *c = p; *c; c++) {
        if (*c == '\r' || *c == '\n' || (unsigned char)*c < 0x20) {
            *why = "the reply text must be one line of printable characters";
            return false;
        }
    }
    strlcpy_mw(out->text, p, sizeof out->text);
    return true;
}

void reply_complete(struct reply *reply, enum action action)
{
    bool temp = action == ACTION_TEMPFAIL;
    if (reply->code == 0)
        reply->code = temp ? 451 : 550;
    if (reply->dsn[0] == '\0')
        strlcpy_mw(reply->dsn, reply->code / 100 == 4 ? "4.7.1" : "5.7.1", sizeof reply->dsn);
    if (reply->text[0] == '\0') {
        strlcpy_mw(reply->text,
            temp ? "Service temporarily unavailable, try again later" : "Rejected by policy",
            sizeof reply->text);
    }
}

void reply_format(const struct reply *reply, char *buf, size_t size)
{
    snprintf(buf, size, "%d %s %s", reply->code, reply->dsn, reply->text);
}

void verdict_add_edit(struct verdict *v, enum header_op op, int index, const char *name,
    const char *value)
{
    v->edits = xrealloc(v->edits, (v->edit_count + 1) * sizeof *v->edits);
    struct header_edit *e = &v->edits[v->edit_count++];
    e->op = op;
    e->index = index;
    e->name = xstrdup(name);
    e->value = value ? xstrdup(value) : NULL;
}

void verdict_clear(struct verdict *v)
{
    for (size_t i = 0; i < v->edit_count; i++) {
        free(v->edits[i].name);
        free(v->edits[i].value);
    }
    free(v->edits);
    memset(v, 0, sizeof *v);
}

static struct shadow_counts shadow_totals;   /* updated atomically */

void verdict_count_shadow(size_t symbol_hits, enum action taken, enum action would_have)
{
    if (symbol_hits == 0)
        return;
    __atomic_add_fetch(&shadow_totals.symbol_hits, (uint64_t)symbol_hits, __ATOMIC_RELAXED);
    __atomic_add_fetch(&shadow_totals.transactions, 1, __ATOMIC_RELAXED);
    if (would_have != taken && would_have >= ACTION_NONE && would_have <= ACTION_REJECT)
        __atomic_add_fetch(&shadow_totals.would_have[would_have], 1, __ATOMIC_RELAXED);
}

void verdict_shadow_counts(struct shadow_counts *out)
{
    out->symbol_hits = __atomic_load_n(&shadow_totals.symbol_hits, __ATOMIC_RELAXED);
    out->transactions = __atomic_load_n(&shadow_totals.transactions, __ATOMIC_RELAXED);
    for (int a = ACTION_NONE; a <= ACTION_REJECT; a++)
        out->would_have[a] = __atomic_load_n(&shadow_totals.would_have[a], __ATOMIC_RELAXED);
}
