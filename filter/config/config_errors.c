/* config_errors.c - collects "file:line: option: reason" messages for a policy load (the
 * bottom layer: it includes no other configuration header). Text that may be key material is
 * hidden before it is stored. */
#include "config_errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The last line of defence against key text in an error (the readers already avoid echoing
 * it): PEM armour and what follows it, and every run of 40 or more base64 characters, are
 * replaced. Paths and names are broken up by dots, dashes or spaces long before 40. */
static void hide_key_text(char *reason, size_t size)
{
    static const char base64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    static const char hidden[] = "[not shown: may be key text]";
    char *armour = strstr(reason, "-----");
    if (armour != NULL)
        strlcpy_mw(armour, hidden, size - (size_t)(armour - reason));
    for (char *p = reason; *p != '\0';) {
        size_t run = strspn(p, base64);
        if (run >= 40) {
            memmove(p + sizeof hidden - 1, p + run, strlen(p + run) + 1);
            memcpy(p, hidden, sizeof hidden - 1);
            p += sizeof hidden - 1;
        } else {
            p += run > 0 ? run : 1;
        }
    }
}

void config_errors_add(struct config_errors *errs, const char *file, int line,
    const char *option, const char *fmt, ...)
{
    char reason[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    hide_key_text(reason, sizeof reason);
    errs->items = xrealloc(errs->items, (errs->count + 1) * sizeof *errs->items);
    struct config_error *e = &errs->items[errs->count++];
    e->file = xstrdup(file ? file : "(none)");
    e->line = line;
    e->option = xstrdup(option ? option : "-");
    e->reason = xstrdup(reason);
}

void config_errors_print(const struct config_errors *errs, void (*out)(const char *line, void *arg),
    void *arg)
{
    for (size_t i = 0; i < errs->count; i++) {
        const struct config_error *e = &errs->items[i];
        char *line = e->line > 0
            ? xasprintf("%s:%d: %s: %s", e->file, e->line, e->option, e->reason)
            : xasprintf("%s: %s: %s", e->file, e->option, e->reason);
        out(line, arg);
        free(line);
    }
}

void config_errors_free(struct config_errors *errs)
{
    for (size_t i = 0; i < errs->count; i++) {
        free(errs->items[i].file);
        free(errs->items[i].option);
        free(errs->items[i].reason);
    }
    free(errs->items);
    errs->items = NULL;
    errs->count = 0;
}
