/* config_patterns.h - reading a list of patterns (pattern.h) from a policy setting: the one
 * call every list option makes, so every list speaks the same language and reports errors as
 * "file:line: option: reason". Used by the config files only. */
#ifndef MW_CONFIG_PATTERNS_H
#define MW_CONFIG_PATTERNS_H

#include "config_read.h"
#include "pattern.h"

/* Appends the patterns of S (a string or a list of strings) to LIST; false after reporting
 * each bad one. */
bool cfg_add_patterns(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct pattern_list *list);
/* Appends the patterns of the string S, separated by blanks or commas (spf.allow_helo). */
bool cfg_add_pattern_words(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct pattern_list *list);
/* Appends the patterns of the file S names (the access rules' file = "/path"). */
bool cfg_add_pattern_file(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct pattern_list *list);
/* Refuses a list that can match nothing (negations only), naming S. */
bool cfg_check_patterns(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const struct pattern_list *list);
/* cfg_add_patterns, then cfg_check_patterns. */
bool cfg_read_patterns(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct pattern_list *list);

/* The list option NAME of SECTION ("PREFIX.NAME" in errors), in the one form every list option
 * takes: a string of patterns separated by blanks or commas, or a list of strings. When the
 * section sets it, LIST is replaced (each file that sets it replaces it; LIST keeps its
 * subject); when it does not, LIST is left as it was. */
void cfg_replace_patterns(struct cfg_reader *r, const config_setting_t *section,
    const char *prefix, const char *name, struct pattern_list *list);

#endif
