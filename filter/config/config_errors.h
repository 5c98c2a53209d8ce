/* config_errors.h - the bottom layer of the configuration: a list of "file:line: option:
 * reason" messages. Every layer above reports into one; a policy load with any error is
 * refused, and every error found is reported, not only the first. Notices (an old spelling
 * still accepted) use the same list type, kept apart from the errors. Knows no section. */
#ifndef MW_CONFIG_ERRORS_H
#define MW_CONFIG_ERRORS_H

#include <stddef.h>

/* One error in a policy file: "file:line: option: reason". */
struct config_error {
    char *file;
    int line;
    char *option;
    char *reason;
};

struct config_errors {
    struct config_error *items;
    size_t count;
};

/* Adds one message; text that looks like key material is replaced, never echoed. */
void config_errors_add(struct config_errors *errs, const char *file, int line,
    const char *option, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void config_errors_print(const struct config_errors *errs, void (*out)(const char *line, void *arg),
    void *arg);
void config_errors_free(struct config_errors *errs);

#endif
