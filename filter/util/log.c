/* log.c - one logging path for the whole process: syslog, and stderr when running in the
 * foreground. A line is written whole (one write per line), so threads never interleave. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static bool log_to_stderr = true;
static bool log_to_syslog = false;
static int log_level = LOG_INFO;

/* Under systemd both syslog and stderr reach the journal; JOURNAL_STREAM names the stream
 * stderr is connected to ("dev:ino"), and then one copy is enough. */
static bool stderr_is_journal(void)
{
    const char *stream = getenv("JOURNAL_STREAM");
    struct stat st;
    if (stream == NULL || fstat(STDERR_FILENO, &st) != 0)
        return false;
    char mine[64];
    snprintf(mine, sizeof mine, "%lu:%lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
    return strcmp(stream, mine) == 0;
}

void log_open(const char *ident, int facility, bool to_stderr, bool to_syslog)
{
    log_to_stderr = to_stderr && !(to_syslog && stderr_is_journal());
    log_to_syslog = to_syslog;
    if (to_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void log_set_level(int level)
{
    log_level = level;
}

int log_get_level(void)
{
    return log_level;
}

static const char *priority_word(int priority)
{
    switch (priority) {
    case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "fatal";
    case LOG_ERR: return "error";
    case LOG_WARNING: return "warning";
    case LOG_NOTICE: return "notice";
    case LOG_INFO: return "info";
    default: return "debug";
    }
}

void log_msg(int priority, const char *fmt, ...)
{
    if (priority > log_level)
        return;
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (log_to_syslog)
        syslog(priority, "%s", line);
    if (log_to_stderr) {
        char out[4200];
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        int n = snprintf(out, sizeof out, "%04d-%02d-%02d %02d:%02d:%02d mailwarden[%d]: %s: %s\n",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            (int)getpid(), priority_word(priority), line);
        if (n > (int)sizeof out - 1)
            n = (int)sizeof out - 1;
        ssize_t ignored = write(STDERR_FILENO, out, (size_t)n);
        (void)ignored;
    }
}

int log_facility_from_name(const char *name)
{
    static const struct { const char *name; int facility; } table[] = {
        {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
        {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
        {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
        {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (str_ieq(name, table[i].name))
            return table[i].facility;
    }
    return -1;
}

int log_level_from_name(const char *name)
{
    static const struct { const char *name; int level; } table[] = {
        {"error", LOG_ERR}, {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
        {"info", LOG_INFO}, {"debug", LOG_DEBUG},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (str_ieq(name, table[i].name))
            return table[i].level;
    }
    return -1;
}
