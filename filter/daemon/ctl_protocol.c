/* ctl_protocol.c - parsing a control request and framing reply lines (ctl_protocol.h). Pure
 * functions: no I/O, no state, so the client, the daemon and the unit tests share them. */
#include "ctl_protocol.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static const struct {
    enum ctl_command command;
    const char *name;
    bool takes_argument;
} commands[] = {
    {CTL_RELOAD, "reload", false},
    {CTL_STATUS, "status", false},
    {CTL_STATS, "stats", false},
    {CTL_TEST_KEY, "test-key", true},
    {CTL_FLUSH_DNS_CACHE, "flush-dns-cache", false},
};

const char *ctl_command_name(enum ctl_command command)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (commands[i].command == command)
            return commands[i].name;
    }
    return "?";
}

/* A key name as dkim.keys accepts it: letters, digits, '-', '_' and '.'. */
static bool argument_valid(const char *arg)
{
    if (*arg == '\0')
        return false;
    for (const char *p = arg; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

bool ctl_parse_request(const char *line, size_t len, struct ctl_request *out, char *why,
    size_t why_size)
{
    memset(out, 0, sizeof *out);
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len + 1 > CTL_REQUEST_MAX) {
        snprintf(why, why_size, "the request is longer than %d bytes", CTL_REQUEST_MAX - 1);
        return false;
    }
    char text[CTL_REQUEST_MAX];
    memcpy(text, line, len);
    text[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c > 0x7e) {
            snprintf(why, why_size, "the request has a control or non-ASCII character at "
                "byte %zu", i + 1);
            return false;
        }
    }
    char *space = strchr(text, ' ');
    const char *argument = "";
    if (space != NULL) {
        *space = '\0';
        argument = space + 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(text, commands[i].name) != 0)
            continue;
        if (!commands[i].takes_argument && space != NULL) {
            snprintf(why, why_size, "%s takes no argument", commands[i].name);
            return false;
        }
        if (commands[i].takes_argument && *argument == '\0') {
            snprintf(why, why_size, "%s needs an argument: %s NAME", commands[i].name,
                commands[i].name);
            return false;
        }
        if (commands[i].takes_argument && (strlen(argument) > CTL_ARGUMENT_MAX
                || !argument_valid(argument))) {
            snprintf(why, why_size, "%s: the name must be 1 to %d letters, digits, '-', '_' "
                "or '.'", commands[i].name, CTL_ARGUMENT_MAX);
            return false;
        }
        out->command = commands[i].command;
        strlcpy_mw(out->argument, argument, sizeof out->argument);
        return true;
    }
    snprintf(why, why_size, "unknown command \"%.40s\" (use reload, status, stats, test-key NAME "
        "or flush-dns-cache)", text);
    return false;
}

void ctl_format_body_line(const char *text, char *buf, size_t size)
{
    if (size < 4) {
        if (size > 0)
            buf[0] = '\0';
        return;
    }
    size_t n = 0;
    buf[n++] = '+';
    buf[n++] = ' ';
    for (const char *p = text; *p != '\0' && n + 2 < size; p++)
        buf[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
    buf[n++] = '\n';
    buf[n] = '\0';
}
