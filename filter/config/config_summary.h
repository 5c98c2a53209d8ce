/* config_summary.h - what a loaded policy contains, in a few numbers an admin can check at a
 * glance: the top-level sections written in the files and the counts of the things that decide
 * verdicts (access rules, symbol overrides, rules, DKIM keys, rate limits, DNS lists, ...).
 * `mailwarden -t` prints it; a reload logs how it changed, so a truncated or emptied file that
 * still parses shows up as sections removed and counts that fell. */
#ifndef MW_CONFIG_SUMMARY_H
#define MW_CONFIG_SUMMARY_H

#include <stddef.h>

#include "config.h"

enum summary_count {
    SUMMARY_FILES,
    SUMMARY_ACCESS_RULES,
    SUMMARY_SYMBOL_OVERRIDES,
    SUMMARY_DOMAIN_THRESHOLDS,
    SUMMARY_NAMESERVERS,
    SUMMARY_RULES,
    SUMMARY_RULES_SKIPPED,
    SUMMARY_DKIM_KEYS,
    SUMMARY_DKIM_SIGNING_RULES,
    SUMMARY_DKIM_USERS,
    SUMMARY_RATE_LIMITS,
    SUMMARY_DNSLISTS,
    SUMMARY_COUNT_MAX
};

struct config_summary {
    const char *sections[64];      /* top-level names in the files, in order; NULL-terminated */
    size_t counts[SUMMARY_COUNT_MAX];
};

/* Fills s from cfg; s points into cfg, so it lives no longer than cfg. */
void config_summarize(const struct config *cfg, struct config_summary *s);

/* One line: "sections: milter, log, ...; 3 files, 2 access rules, ...". */
void config_summary_line(const struct config_summary *s, char *buf, size_t size);

/* The differences from old to new, one line per call of out ("sections removed: dkim",
 * "access rules: 2 -> 0"). Returns how many lines it wrote; 0 means no visible change. */
size_t config_summary_diff(const struct config_summary *old, const struct config_summary *new,
    void (*out)(const char *line, void *arg), void *arg);

#endif
