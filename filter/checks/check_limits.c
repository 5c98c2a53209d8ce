/* check_limits.c - makes a limit that a message passed visible, so that what the checks could
 * not see never makes it look cleaner. At the end of the headers: HEADER_COUNT_LIMIT (more
 * than limits.max_headers fields no check reads) and HEADER_BYTES_LIMIT (limits.max_header_bytes
 * or limits.max_checked_header_bytes passed); at the end of the message: BODY_TRUNCATED (a body
 * longer than limits.max_body_buffer, of which the checks saw only the start). Each scores
 * LIMIT_SCORE by default, enough to reach the default add_header threshold; `symbols` in the
 * policy changes the score or gives an action (reject, tempfail, ...) as for any symbol. */
#include "check.h"

#define LIMIT_SCORE 5.0

static void limits_run(struct txn *t, enum stage stage)
{
    if (stage == STAGE_HEADERS) {
        if (t->header_count_passed)
            txn_add_result(t, "HEADER_COUNT_LIMIT", LIMIT_SCORE, ACTION_NONE, NULL);
        if (t->header_bytes_passed)
            txn_add_result(t, "HEADER_BYTES_LIMIT", LIMIT_SCORE, ACTION_NONE, NULL);
    } else if (stage == STAGE_EOM && t->body_truncated) {
        txn_add_result(t, "BODY_TRUNCATED", LIMIT_SCORE, ACTION_NONE, NULL);
    }
}

static bool limits_shadowed(const struct config *cfg)
{
    return cfg->limits.shadow;
}

const struct check check_limits = {
    .name = "limits",
    .stages = STAGE_BIT(STAGE_HEADERS) | STAGE_BIT(STAGE_EOM),
    .run = limits_run,
    .shadowed = limits_shadowed,
};
