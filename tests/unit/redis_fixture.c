/* redis_fixture.c - see redis_fixture.h. */
#define _POSIX_C_SOURCE 200809L
#include "redis_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 64

bool redis_fixture_installed(bool need_cli)
{
    if (need_cli)
        return system("command -v redis-server >/dev/null 2>&1 && "
            "command -v redis-cli >/dev/null 2>&1") == 0;
    return system("command -v redis-server >/dev/null 2>&1") == 0;
}

bool redis_fixture_make_dir(char *dir_template)
{
    return mkdtemp(dir_template) != NULL;
}

bool redis_fixture_remove_dir(const char *dir)
{
    char command[256];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    return system(command) == 0;
}

int redis_fixture_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0
        || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

pid_t redis_fixture_spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

pid_t redis_fixture_start(int port, const char *dir, const char *const *extra_args)
{
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    const char *argv[MAX_ARGS] = {"redis-server", "--port", port_text, "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--loglevel", "warning", "--dir", dir};
    size_t n = 13;
    for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && n < MAX_ARGS - 1; i++)
        argv[n++] = extra_args[i];
    argv[n] = NULL;
    return redis_fixture_spawn((char *const *)argv);
}

redisContext *redis_fixture_connect(int port, long timeout_ms)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c != NULL && c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

bool redis_fixture_answers(int port)
{
    redisContext *c = redis_fixture_connect(port, 2000);
    if (c == NULL)
        return false;
    redisReply *reply = redisCommand(c, "PING");
    bool ok = reply != NULL && reply->type == REDIS_REPLY_STATUS;
    freeReplyObject(reply);
    redisFree(c);
    return ok;
}

void redis_fixture_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

bool redis_fixture_wait(int port, long timeout_ms)
{
    for (long waited = 0; waited <= timeout_ms; waited += 50) {
        if (redis_fixture_answers(port))
            return true;
        redis_fixture_sleep_ms(50);
    }
    return false;
}

void redis_fixture_stop(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}
