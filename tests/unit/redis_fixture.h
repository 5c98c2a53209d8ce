/* redis_fixture.h - real redis-server processes for the store tests: a free loopback port, a
 * server started on it in a temporary directory (no persistence, warnings only, output to
 * /dev/null), polled until it answers PING, and stopped (SIGKILL, then waited for). The tests
 * stop what they start; nothing here sleeps for a fixed time where it can poll. */
#ifndef MW_REDIS_FIXTURE_H
#define MW_REDIS_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

/* Whether redis-server (and, when need_cli, redis-cli) is installed: the tests skip if not. */
bool redis_fixture_installed(bool need_cli);
/* Makes the temporary directory the servers run in, from a "/tmp/...XXXXXX" template (changed
 * in place); false on failure. Every server of a test shares it: a replica writes dump.rdb
 * after a full sync, and a server started later in the same directory would load it. */
bool redis_fixture_make_dir(char *dir_template);
/* Removes the directory and everything in it; false on failure. */
bool redis_fixture_remove_dir(const char *dir);
/* A TCP port on 127.0.0.1 that was free a moment ago; -1 on failure. */
int redis_fixture_free_port(void);
/* Starts any program (argv[0] looked up in PATH) with its output to /dev/null: its pid. */
pid_t redis_fixture_spawn(char *const argv[]);
/* Starts redis-server on 127.0.0.1:port in dir, with extra_args (NULL-terminated; may be
 * NULL) after the fixture's own; returns its pid without waiting (redis_fixture_wait). */
pid_t redis_fixture_start(int port, const char *dir, const char *const *extra_args);
/* Whether the server on port answers PING now. */
bool redis_fixture_answers(int port);
/* Polls every 50 ms until the server on port answers PING; false after timeout_ms. */
bool redis_fixture_wait(int port, long timeout_ms);
/* SIGKILL and wait for *pid (nothing when <= 0); sets it to 0. */
void redis_fixture_stop(pid_t *pid);
/* A connection to 127.0.0.1:port with this connect timeout; NULL when it cannot connect. */
redisContext *redis_fixture_connect(int port, long timeout_ms);
void redis_fixture_sleep_ms(long ms);

#endif
