/* rules_fixture.h - Debian's stock SpamAssassin rules (package spamassassin; MW_SA_RULES
 * overrides /usr/share/spamassassin) loaded once for a group of unit tests, as the daemon loads
 * rule files: what the tests on the stock rules share. When no rule files are installed
 * nothing is loaded and each test that needs them is skipped, saying why. */
#ifndef MW_RULES_FIXTURE_H
#define MW_RULES_FIXTURE_H

#include "rules.h"

/* cmocka group setup and teardown: loads every *.cf of the directory (a file's errors are
 * printed, the rest still load) and frees them. */
int rules_fixture_load_stock(void **state);
int rules_fixture_free_stock(void **state);
/* The rules loaded; NULL when there were none to load. */
struct ruleset *rules_fixture_stock(void);
/* The rules loaded; skips the calling test (cmocka's skip) when there are none. */
struct ruleset *rules_fixture_need_stock(void);

#endif
