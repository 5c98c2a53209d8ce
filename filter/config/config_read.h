/* config_read.h - the second layer of the configuration: the reader a section is applied
 * with (where its errors go), the typed readers, and the option-table engine that fills a
 * struct from a table of option_spec. It knows no section: each section module
 * (<section>_config.c) brings its own table and its own struct. Includes only the error layer
 * (config_errors.h) and value types (cidr.h, verdict.h), never config.h. */
#ifndef MW_CONFIG_READ_H
#define MW_CONFIG_READ_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>

#include "cidr.h"
#include "config_errors.h"
#include "verdict.h"

struct config;

struct cfg_reader {
    struct config *cfg;        /* the policy being built: for the section modules, opaque here */
    struct config_errors *errs;
    struct config_errors *notices;   /* accepted but worth telling (an old spelling); may be NULL */
    const char *file;          /* the file being applied */
};

/* Reports "file:line: option: reason" for setting s (line 0 when s is NULL). */
void cfg_error(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same as a notice: the value is accepted (dropped when the reader has no notice list). */
void cfg_notice(struct cfg_reader *r, const config_setting_t *s, const char *option,
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

/* Option tables: a section is a NULL-terminated array of option_spec, each naming a field
 * by its offset in the struct the section fills (a part of struct config, or a module's own
 * struct). */
enum opt_type {
    OPT_STRING,        /* char * */
    OPT_SOCKET,        /* char *: inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH */
    OPT_USER,          /* char *: an existing user */
    OPT_GROUP,         /* char *: an existing group */
    OPT_READABLE,      /* char *: a file we can read */
    OPT_HOSTNAME,      /* char *: a name without spaces, ; or () */
    OPT_BOOL,          /* bool; also "yes"/"no" */
    OPT_INT,           /* int, within min..max */
    OPT_UINT,          /* unsigned, within min..max */
    OPT_DOUBLE,        /* double, within min..max */
    OPT_SIZE,          /* uint64_t bytes: number or "10M" */
    OPT_DURATION_MS,   /* uint64_t milliseconds: number of seconds or "30s" */
    OPT_DURATION_S,    /* int seconds */
    OPT_MODE,          /* unsigned, octal string "0660" */
    OPT_CIDRS,         /* struct cidr_list: replaced by each file that sets it */
    OPT_FACILITY,      /* int syslog facility */
    OPT_LEVEL,         /* int syslog priority */
    OPT_ERROR_ACTION,  /* enum action: tempfail or accept */
    OPT_REPLY_REJECT,  /* struct reply with a 5xx code */
    OPT_REPLY_TEMPFAIL,/* struct reply with a 4xx code */
    OPT_REASON,        /* struct reply: only the text (quarantine reason) */
    OPT_STRINGS,       /* struct string_list: replaced by each file that sets it */
    OPT_OWN,           /* read by the section's owner itself (a list of groups): skipped here */
    OPT_CHECK_MODE,    /* bool shadow: mode = "enforce" (false) or "shadow" (true), engine.c */
};

/* A list of strings an OPT_STRINGS option fills. */
struct string_list {
    char **items;
    size_t count;
};

struct option_spec {
    const char *name;
    enum opt_type type;
    size_t offset;
    double min, max;
};

/* Applies every option of `section` by the table `specs` to the struct at base. Unknown
 * options get "did you mean"; each bad value is an error naming file, line and option. */
void cfg_apply_options(struct cfg_reader *r, const config_setting_t *section,
    const char *section_name, const struct option_spec *specs, void *base);

/* mode = "enforce" | "shadow" (a check's or rule set's mode, engine.c): *shadow set. */
bool cfg_read_check_mode(struct cfg_reader *r, const config_setting_t *s, const char *option,
    bool *shadow);

/* The closest known name to `name` among `names` (NULL-terminated), for "did you mean". */
const char *cfg_suggest(const char *name, const char *const *names);

/* A name an admin gives a rule or a limit (it becomes part of a symbol): letters, digits,
 * '-' and '_', 1 to 64 of them. */
bool cfg_name_valid(const char *name);

void cfg_free_strings(char **items, size_t count);

#endif
