/* config_patterns.c - the policy side of pattern.h: takes the values of a setting, hands each
 * to the pattern compiler with the file and line it was written at, and turns the compiler's
 * complaints into policy errors under the option's name. */
#include "config_patterns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct where {
    struct cfg_reader *r;
    const char *option;
};

static void report(void *ctx, const char *file, int line, const char *reason)
{
    const struct where *w = ctx;
    config_errors_add(w->r->errs, file, line, w->option, "%s", reason);
}

static const char *file_of(const struct cfg_reader *r, const config_setting_t *s)
{
    const char *file = config_setting_source_file(s);
    return file != NULL ? file : r->file;
}

bool cfg_add_patterns(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct pattern_list *list)
{
    struct where w = {r, option};
    int type = config_setting_type(s);
    if (type == CONFIG_TYPE_STRING)
        return pattern_list_add(list, config_setting_get_string(s), file_of(r, s),
            (int)config_setting_source_line(s), report, &w);
    if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
        cfg_error(r, s, option, "must be a list of strings, as in [ \"a\", \"b\" ]");
        return false;
    }
    bool ok = true;
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            cfg_error(r, e, option, "element %d must be a string in double quotes", i + 1);
            ok = false;
            continue;
        }
        int line = (int)config_setting_source_line(e);
        ok &= pattern_list_add(list, config_setting_get_string(e), file_of(r, s),
            line > 0 ? line : (int)config_setting_source_line(s), report, &w);
    }
    return ok;
}

bool cfg_add_pattern_words(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct pattern_list *list)
{
    const char *text;
    if (!cfg_read_string(r, s, option, &text))
        return false;
    struct where w = {r, option};
    bool ok = true;
    while (*text != '\0') {
        text += strspn(text, " \t,");
        size_t len = strcspn(text, " \t,");
        if (len == 0)
            break;
        char *word = xstrndup(text, len);
        ok &= pattern_list_add(list, word, file_of(r, s), (int)config_setting_source_line(s),
            report, &w);
        free(word);
        text += len;
    }
    return ok;
}

bool cfg_add_pattern_file(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct pattern_list *list)
{
    const char *path;
    if (!cfg_read_string(r, s, option, &path))
        return false;
    struct where w = {r, option};
    return pattern_list_add_file(list, path, false, file_of(r, s), (int)config_setting_source_line(s),
        report, &w);
}

bool cfg_check_patterns(struct cfg_reader *r, const config_setting_t *s, const char *option,
    const struct pattern_list *list)
{
    if (!pattern_list_only_negations(list))
        return true;
    cfg_error(r, s, option, "every pattern is a negation (!), so the list matches nothing: "
        "end it with \"*\" to match everything else");
    return false;
}

void cfg_replace_patterns(struct cfg_reader *r, const config_setting_t *section,
    const char *prefix, const char *name, struct pattern_list *list)
{
    const config_setting_t *s = config_setting_get_member(section, name);
    if (s == NULL)
        return;
    char option[96];
    snprintf(option, sizeof option, "%s.%s", prefix, name);
    enum pattern_subject subject = list->subject;
    pattern_list_free(list);
    pattern_list_init(list, subject);
    int type = config_setting_type(s);
    bool ok;
    if (type == CONFIG_TYPE_STRING)
        ok = cfg_add_pattern_words(r, s, option, list);
    else if (type == CONFIG_TYPE_LIST || type == CONFIG_TYPE_ARRAY)
        ok = cfg_add_patterns(r, s, option, list);
    else {
        cfg_error(r, s, option, "must be a string of patterns separated by blanks or commas, "
            "or a list of strings, as %s = \"example.org .example.net\"", option);
        return;
    }
    if (ok)
        cfg_check_patterns(r, s, option, list);
}

bool cfg_read_patterns(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct pattern_list *list)
{
    return cfg_add_patterns(r, s, option, list) && cfg_check_patterns(r, s, option, list);
}
