/* tests/fuzz/fuzz_policy.c - libFuzzer target: any bytes as a policy file, loaded the way
 * `mailwarden -t` and a reload load one. Promise under test: a broken policy gives errors that
 * each name a file and an option, or a configuration; never a crash, a leak or a hang. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_load.h"
#include "log.h"

static void check_error_line(const char *line, void *arg)
{
    (void)arg;
    if (strncmp(line, "/tmp/mw-fuzz-", 13) != 0)
        abort();     /* every error names the file it is about */
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static char path[64];
    if (path[0] == '\0') {
        log_open("fuzz", LOG_MAIL, false, false);
        snprintf(path, sizeof path, "/tmp/mw-fuzz-%ld.conf", (long)getpid());
    }
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    struct config_errors errs = {0};
    struct config *cfg = config_load(path, &errs);
    if (cfg == NULL && errs.count == 0)
        abort();     /* a refusal always says why */
    config_errors_print(&errs, check_error_line, NULL);
    config_errors_free(&errs);
    config_free(cfg);
    return 0;
}
