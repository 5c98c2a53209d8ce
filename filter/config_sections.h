/* config_sections.h - what config.c, config_sections.c and config_access.c share while one
 * policy file is turned into the typed configuration: the reader (where errors go) and the
 * per-section parsers. Not used outside the config files. */
#ifndef MW_CONFIG_SECTIONS_H
#define MW_CONFIG_SECTIONS_H

#include <libconfig.h>

#include "config.h"

struct cfg_reader {
    struct config *cfg;
    struct config_errors *errs;
    const char *file;          /* the file being applied */
};

/* Reports "file:line: option: reason" for setting s (line 0 when s is NULL). */
void cfg_error(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Typed readers: each reports its own error and returns false on a bad value. */
bool cfg_read_string(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const char **out);
bool cfg_read_strings(struct cfg_reader *r, const config_setting_t *s, const char *option,
    char ***out, size_t *count);
bool cfg_read_double(struct cfg_reader *r, const config_setting_t *s, const char *option,
    double *out);
bool cfg_read_reply(struct cfg_reader *r, const config_setting_t *s, const char *option,
    enum action action, struct reply *out);
bool cfg_read_action(struct cfg_reader *r, const config_setting_t *s, const char *option,
    enum action *out);

/* Applies one top-level group (milter, log, ...) of a file to r->cfg. Returns false when the
 * name is not a known section. */
bool cfg_apply_section(struct cfg_reader *r, const config_setting_t *section);
void cfg_apply_symbols(struct cfg_reader *r, const config_setting_t *symbols);
void cfg_apply_access(struct cfg_reader *r, const config_setting_t *list);

/* The closest known name to `name` among `names` (NULL-terminated), for "did you mean". */
const char *cfg_suggest(const char *name, const char *const *names);

void cfg_free_strings(char **items, size_t count);
void access_rule_free(struct access_rule *rule);

#endif
