/* verdict.h - actions, SMTP replies and the final verdict of a transaction.
 * An action carries a reply (SMTP code, RFC 3463 enhanced status code, text); a verdict adds the
 * total score and the header edits. Nothing here knows about libmilter. */
#ifndef MW_VERDICT_H
#define MW_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ordered by severity: a later entry overrides an earlier one when two are forced. */
enum action {
    ACTION_NONE = 0,      /* no decision: go on */
    ACTION_ACCEPT,        /* deliver; stop running checks (allow lists) */
    ACTION_QUARANTINE,    /* deliver into the MTA's hold queue */
    ACTION_DISCARD,       /* accept and drop: only when an admin asks for it */
    ACTION_TEMPFAIL,      /* 4xx */
    ACTION_REJECT,        /* 5xx */
};

struct reply {
    int code;             /* 550, 451, ... ; 0 = the default for the action */
    char dsn[16];         /* "5.7.1"; "" = the default for the action */
    char text[256];       /* "" = the default for the action */
};

const char *action_name(enum action action);
/* "accept", "reject", "tempfail", "quarantine", "discard"; ACTION_NONE for "score"/"none".
 * Returns false when the name is unknown. */
bool action_from_name(const char *name, enum action *out);
int action_severity(enum action action);

/* Parses "550 5.7.1 Some text" (the enhanced code and the text are optional). The class of
 * the enhanced code must match the first digit of the code; 4xx goes with tempfail, 5xx with
 * reject. Sets *why on error. */
bool reply_parse(const char *text, struct reply *out, const char **why);
/* Fills the code, dsn and text left empty with the defaults for the action. */
void reply_complete(struct reply *reply, enum action action);
/* "550 5.7.1 text" */
void reply_format(const struct reply *reply, char *buf, size_t size);

enum header_op {
    HEADER_INSERT,        /* insert at position index (0 = top) */
    HEADER_APPEND,        /* add at the end of the header block */
    HEADER_DELETE,        /* delete the index-th (1-based) field with this name */
};

struct header_edit {
    enum header_op op;
    int index;
    char *name;
    char *value;
};

struct verdict {
    enum action action;
    struct reply reply;
    double score;
    const char *decided_by;      /* symbol or "score" or NULL */
    struct header_edit *edits;
    size_t edit_count;
};

/* Shadow mode ("would have"): what results of checks and rule sets in mode "shadow" would have
 * done, counted since the daemon started (the engine counts each transaction once). */
struct shadow_counts {
    uint64_t symbol_hits;                     /* shadow symbols added */
    uint64_t transactions;                    /* transactions with at least one */
    uint64_t would_have[ACTION_REJECT + 1];   /* ... whose action they would have changed, by
                                                 the action they would have given */
};
void verdict_count_shadow(size_t symbol_hits, enum action taken, enum action would_have);
void verdict_shadow_counts(struct shadow_counts *out);

void verdict_add_edit(struct verdict *v, enum header_op op, int index, const char *name,
    const char *value);
void verdict_clear(struct verdict *v);

#endif
