/* checks.c - the table of checks, in the order they run at each stage. Adding a check is a
 * new file with one `const struct check` and one line here. */
#include "check.h"

extern const struct check check_networks;
extern const struct check check_access;

const struct check *const check_table[] = {
    &check_networks,     /* first: classifies the client for every later check */
    &check_access,
    NULL,
};
