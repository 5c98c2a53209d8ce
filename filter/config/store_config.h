/* store_config.h - the `store` section: named stores (store.h) that rate limits, greylisting
 * and later users (Bayes, DMARC reports) name instead of reaching into each other's section:
 *     store: { default: { backend = "redis"; host = "10.0.0.5"; } }
 *     ratelimit: { store = "default"; ... }   greylist: { store = "default"; ... }
 * A store named "default" (the embedded memory store) always exists; every user names
 * "default" unless told otherwise. The old spelling ratelimit: { store: { ... } } still sets
 * the store named "default", with a notice. */
#ifndef MW_STORE_CONFIG_H
#define MW_STORE_CONFIG_H

#include <libconfig.h>
#include <stdbool.h>

#include "config_read.h"
#include "store.h"

#define STORE_DEFAULT_NAME "default"
#define STORE_DEFAULT_MAX_KEYS 1000000   /* the embedded store's max_keys unless set */

struct config;

/* One named store: its settings as read, and the store opened by finish(). */
struct named_store {
    char *name;
    char *option;                  /* how the admin wrote it: "store.default", "ratelimit.store" */
    struct store_settings settings;
    struct store *store;           /* process-lifetime (store.h); NULL until finish() */
};

struct store_policy {
    struct named_store *stores;
    size_t count;
};

/* A user's choice of store (ratelimit.store = "NAME"), with where it was written. */
struct store_use {
    char *name;
    char *file;
    int line;
};

/* Reads `store = "NAME"` (s may be NULL: then `name` is taken, as the old spelling does). */
void store_use_read(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct store_use *use, const char *name);
/* In a user's finish(): the named store, or NULL with an error naming where it was chosen. */
struct store *store_use_open(const struct config *cfg, const struct store_use *use,
    const char *option, struct config_errors *errs);
void store_use_free(struct store_use *use);

/* The store of this name (opened by the store module's finish), or NULL when the policy has
 * none of that name or was not finished (config_defaults). */
struct store *store_config_get(const struct config *cfg, const char *name);
bool store_config_exists(const struct config *cfg, const char *name);

/* Applies a group of store options to the store `name` (created when new); `option` is how
 * errors name it. The old spelling ratelimit.store goes through here. */
void store_config_apply_settings(struct cfg_reader *r, const config_setting_t *g,
    const char *name, const char *option);

#endif
