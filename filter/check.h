/* check.h - the interface every check implements, and the table that lists them.
 * A check reads the transaction and the policy and appends results; it never decides the
 * verdict by itself (the engine does, from the results). Adding a check means adding a file
 * with one `const struct check` and a line in checks.c. */
#ifndef MW_CHECK_H
#define MW_CHECK_H

#include "txn.h"

#define STAGE_BIT(s) (1u << (s))

struct check {
    const char *name;
    unsigned stages;                                  /* STAGE_BIT()s it runs at */
    void (*run)(struct txn *t, enum stage stage);
};

extern const struct check *const check_table[];       /* NULL-terminated, in run order */

#endif
