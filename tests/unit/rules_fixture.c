/* rules_fixture.c - the stock SpamAssassin rules for unit tests (rules_fixture.h): globs the
 * rule directory, reads every file into one ruleset and finishes it. Promises: loaded at most
 * once per group, freed by the teardown, a missing directory a skip and not a failure. */
#include "rules_fixture.h"

#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

static struct ruleset *stock;

int rules_fixture_load_stock(void **state)
{
    (void)state;
    const char *dir = getenv("MW_SA_RULES") ? getenv("MW_SA_RULES") : "/usr/share/spamassassin";
    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s/*.cf", dir);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0)
        return 0;                      /* each test skips */
    stock = ruleset_new();
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char why[128];
        if (!ruleset_read_file(stock, g.gl_pathv[i], why, sizeof why))
            fprintf(stderr, "%s: %s\n", g.gl_pathv[i], why);
    }
    globfree(&g);
    ruleset_finish(stock);
    return 0;
}

int rules_fixture_free_stock(void **state)
{
    (void)state;
    ruleset_free(stock);
    stock = NULL;
    return 0;
}

struct ruleset *rules_fixture_stock(void)
{
    return stock;
}

struct ruleset *rules_fixture_need_stock(void)
{
    if (stock == NULL) {
        fprintf(stderr, "SKIP: no SpamAssassin rules (apt-get install spamassassin)\n");
        skip();
    }
    return stock;
}
