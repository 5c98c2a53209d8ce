/* log.h - logging to syslog (mail facility by default) and, in the foreground, to stderr.
 * Every function is safe to call from any thread. */
#ifndef MW_LOG_H
#define MW_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_open(const char *ident, int facility, bool to_stderr, bool to_syslog);
void log_set_level(int level);              /* LOG_ERR .. LOG_DEBUG */
int log_get_level(void);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Maps "mail", "daemon", "local0".."local7" to a syslog facility; -1 when unknown. */
int log_facility_from_name(const char *name);
/* Maps "error", "warning", "notice", "info", "debug" to a priority; -1 when unknown. */
int log_level_from_name(const char *name);

#endif
