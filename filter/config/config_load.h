/* config_load.h - the top layer of the configuration: reading the main policy file, its
 * includes, and running every section module over them (config_load.c). */
#ifndef MW_CONFIG_LOAD_H
#define MW_CONFIG_LOAD_H

#include "config.h"

/* Loads the main file and everything it includes. Returns NULL and fills errs when anything is
 * wrong: every error found is reported, not only the first. Notices (old spellings still
 * accepted) are kept in the returned policy's `notices`. */
struct config *config_load(const char *main_file, struct config_errors *errs);

/* Starts what the modules built that needs threads (the resolver), in the process that will
 * serve the policy: after the daemon's fork, before config_install. False (errs filled) when
 * something cannot start; the policy must then not be installed. */
bool config_start(struct config *cfg, struct config_errors *errs);

#endif
