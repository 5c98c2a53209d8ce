/* store_config.c - the `store` section (store_config.h): named stores, each a group of the
 * options rate limits had under ratelimit.store, opened in finish() (store.h: a store is
 * process-lifetime, so a reload keeps the counters of a store whose settings stay). Users
 * name a store and get it with store_use_open in their own finish(), which runs after this
 * module's (config_modules.c). */
#include "store_config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_module.h"
#include "util.h"

/* Store options: strings for the enums, checked after cfg_apply_options. */
struct store_raw {
    char *backend;
    char *fail_mode;
    unsigned max_keys;
    char *host;
    int port;
    char *socket;
    char *password;
    int db;
    char *prefix;
    char *sentinels;
    char *master_name;
    uint64_t connect_timeout_ms;
    uint64_t timeout_ms;
    uint64_t retry_interval_ms;
    unsigned pool;
    char *path;
    uint64_t max_size;
};

#define SOPT(f) offsetof(struct store_raw, f)
static const struct option_spec store_specs[] = {
    {"backend", OPT_STRING, SOPT(backend), 0, 0},
    {"fail_mode", OPT_STRING, SOPT(fail_mode), 0, 0},
    {"max_keys", OPT_UINT, SOPT(max_keys), 1000, 1e9},
    {"host", OPT_HOSTNAME, SOPT(host), 0, 0},
    {"port", OPT_INT, SOPT(port), 1, 65535},
    {"socket", OPT_STRING, SOPT(socket), 0, 0},
    {"password", OPT_STRING, SOPT(password), 0, 0},
    {"db", OPT_INT, SOPT(db), 0, 1000},
    {"prefix", OPT_STRING, SOPT(prefix), 0, 0},
    {"sentinels", OPT_STRING, SOPT(sentinels), 0, 0},
    {"master_name", OPT_STRING, SOPT(master_name), 0, 0},
    {"connect_timeout", OPT_DURATION_MS, SOPT(connect_timeout_ms), 1, 60000},
    {"timeout", OPT_DURATION_MS, SOPT(timeout_ms), 1, 60000},
    {"retry_interval", OPT_DURATION_MS, SOPT(retry_interval_ms), 0, 3600000},
    {"pool", OPT_UINT, SOPT(pool), 1, 256},
    {"path", OPT_STRING, SOPT(path), 0, 0},
    {"max_size", OPT_SIZE, SOPT(max_size), 1024.0 * 1024, 1024.0 * 1024 * 1024 * 1024},
    {NULL, 0, 0, 0, 0},
};

static void take_string(char **dst, char *src)
{
    if (src == NULL)
        return;
    free(*dst);
    *dst = src;
}

/* "host:port,host:port" */
static bool sentinels_valid(const char *text)
{
    char *copy = xstrdup(text);
    bool ok = true;
    int count = 0;
    for (char *save = NULL, *item = strtok_r(copy, ", ", &save); item != NULL;
         item = strtok_r(NULL, ", ", &save)) {
        const char *colon = strrchr(item, ':');
        char *stop;
        long port = colon ? strtol(colon + 1, &stop, 10) : 0;
        ok &= colon != NULL && colon != item && colon[1] != '\0' && *stop == '\0' && port > 0
            && port <= 65535;
        count++;
    }
    free(copy);
    return ok && count > 0;
}

static const char *sub_option(const char *option, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s.%s", option, name);
    return buf;
}

static void apply_settings(struct cfg_reader *r, const config_setting_t *g, const char *option,
    struct store_settings *s)
{
    struct store_raw raw = {
        .max_keys = (unsigned)s->max_keys, .port = s->redis_port, .db = s->redis_db,
        .connect_timeout_ms = s->connect_timeout_ms, .timeout_ms = s->command_timeout_ms,
        .retry_interval_ms = s->retry_interval_ms, .pool = s->pool_size,
        .max_size = s->lmdb_max_size,
    };
    cfg_apply_options(r, g, option, store_specs, &raw);
    char buf[160];
    if (raw.backend != NULL) {
        if (strcmp(raw.backend, "memory") == 0)
            s->backend = STORE_MEMORY;
        else if (strcmp(raw.backend, "redis") == 0)
            s->backend = STORE_REDIS;
        else if (strcmp(raw.backend, "lmdb") == 0)
            s->backend = STORE_LMDB;
        else
            cfg_error(r, config_setting_get_member(g, "backend"), sub_option(option, "backend", buf, sizeof buf),
                "\"%s\": use \"memory\" (this server only), \"lmdb\" (on disk, kept across "
                "restarts) or \"redis\" (shared)", raw.backend);
    }
    if (raw.fail_mode != NULL) {
        if (strcmp(raw.fail_mode, "tempfail") == 0)
            s->fail_mode = STORE_FAIL_TEMPFAIL;
        else if (strcmp(raw.fail_mode, "memory") == 0)
            s->fail_mode = STORE_FAIL_MEMORY;
        else
            cfg_error(r, config_setting_get_member(g, "fail_mode"), sub_option(option, "fail_mode", buf, sizeof buf),
                "\"%s\": use \"tempfail\" or \"memory\" (decide with this server's own store)",
                raw.fail_mode);
    }
    if (raw.sentinels != NULL && !sentinels_valid(raw.sentinels))
        cfg_error(r, config_setting_get_member(g, "sentinels"), sub_option(option, "sentinels", buf, sizeof buf),
            "\"%s\": write HOST:PORT of each sentinel, separated by commas, as "
            "\"10.0.0.1:26379,10.0.0.2:26379\"", raw.sentinels);
    if (raw.path != NULL && raw.path[0] != '/')
        cfg_error(r, config_setting_get_member(g, "path"), sub_option(option, "path", buf, sizeof buf),
            "\"%s\": write an absolute path, as \"/var/lib/mailwarden/store\"", raw.path);
    free(raw.backend);
    free(raw.fail_mode);
    s->max_keys = raw.max_keys;
    s->redis_port = raw.port;
    s->redis_db = raw.db;
    s->connect_timeout_ms = raw.connect_timeout_ms;
    s->command_timeout_ms = raw.timeout_ms;
    s->retry_interval_ms = raw.retry_interval_ms;
    s->pool_size = raw.pool;
    take_string(&s->redis_host, raw.host);
    take_string(&s->redis_socket, raw.socket);
    take_string(&s->redis_password, raw.password);
    take_string(&s->redis_prefix, raw.prefix);
    take_string(&s->sentinels, raw.sentinels);
    take_string(&s->sentinel_master, raw.master_name);
    take_string(&s->lmdb_path, raw.path);
    s->lmdb_max_size = raw.max_size;
}

static void default_settings(struct store_settings *s)
{
    s->backend = STORE_MEMORY;
    s->max_keys = STORE_DEFAULT_MAX_KEYS;
    s->fail_mode = STORE_FAIL_TEMPFAIL;
    s->redis_host = xstrdup("127.0.0.1");
    s->redis_port = 6379;
    s->redis_prefix = xstrdup("mw:");
    s->connect_timeout_ms = 200;
    s->command_timeout_ms = 200;
    s->retry_interval_ms = 1000;
    s->pool_size = 4;
    s->lmdb_path = xstrdup("/var/lib/mailwarden/store");
    s->lmdb_max_size = 256ULL * 1024 * 1024;
}

static struct named_store *find(const struct store_policy *p, const char *name)
{
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->stores[i].name, name) == 0)
            return &p->stores[i];
    }
    return NULL;
}

static struct named_store *find_or_add(struct store_policy *p, const char *name)
{
    struct named_store *s = find(p, name);
    if (s != NULL)
        return s;
    p->stores = xrealloc(p->stores, (p->count + 1) * sizeof *p->stores);
    s = &p->stores[p->count++];
    memset(s, 0, sizeof *s);
    s->name = xstrdup(name);
    s->option = xasprintf("store.%s", name);
    default_settings(&s->settings);
    return s;
}

void store_config_apply_settings(struct cfg_reader *r, const config_setting_t *g,
    const char *name, const char *option)
{
    struct named_store *s = find_or_add(r->cfg->store, name);
    free(s->option);
    s->option = xstrdup(option);
    apply_settings(r, g, option, &s->settings);
}

static void store_config_init(struct config *cfg)
{
    cfg->store = xcalloc(1, sizeof *cfg->store);
    find_or_add(cfg->store, STORE_DEFAULT_NAME);
}

/* store: { NAME: { backend = ...; ... }; ... } */
static void store_config_apply(struct cfg_reader *r, const config_setting_t *section)
{
    if (config_setting_type(section) != CONFIG_TYPE_GROUP) {
        cfg_error(r, section, "store", "must be a section: store: { default: { backend = \"redis\"; ... } }");
        return;
    }
    for (int i = 0; i < config_setting_length(section); i++) {
        const config_setting_t *g = config_setting_get_elem(section, (unsigned)i);
        const char *name = config_setting_name(g);
        char option[160];
        snprintf(option, sizeof option, "store.%s", name);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            cfg_error(r, g, option, "each store is a named section, as store: { %s: { backend = "
                "\"memory\" } }", cfg_name_valid(name) ? name : "default");
            continue;
        }
        if (!cfg_name_valid(name)) {
            cfg_error(r, g, option, "a store name is letters, digits, '-' and '_'");
            continue;
        }
        store_config_apply_settings(r, g, name, option);
    }
}

static void store_config_finish(struct config *cfg, struct config_errors *errs)
{
    for (size_t i = 0; i < cfg->store->count; i++) {
        struct named_store *s = &cfg->store->stores[i];
        char why[256];
        s->store = store_open(&s->settings, why, sizeof why);
        if (s->store == NULL && s->settings.backend == STORE_LMDB)
            config_errors_add(errs, cfg->main_file, 0, s->option, "%s", why);
        else if (s->store == NULL)
            config_errors_add(errs, cfg->main_file, 0, s->option, "%s: set host and port, "
                "socket, or sentinels and master_name", why);
    }
}

static void store_config_free(struct config *cfg)
{
    if (cfg->store == NULL)
        return;
    for (size_t i = 0; i < cfg->store->count; i++) {
        free(cfg->store->stores[i].name);
        free(cfg->store->stores[i].option);
        store_settings_free(&cfg->store->stores[i].settings);   /* the store lives on */
    }
    free(cfg->store->stores);
    free(cfg->store);
    cfg->store = NULL;
}

struct store *store_config_get(const struct config *cfg, const char *name)
{
    const struct named_store *s = cfg->store != NULL ? find(cfg->store, name) : NULL;
    return s != NULL ? s->store : NULL;
}

bool store_config_exists(const struct config *cfg, const char *name)
{
    return cfg->store != NULL && find(cfg->store, name) != NULL;
}

void store_use_read(struct cfg_reader *r, const config_setting_t *s, const char *option,
    struct store_use *use, const char *name)
{
    if (s != NULL && !cfg_read_string(r, s, option, &name))
        return;
    free(use->name);
    free(use->file);
    use->name = xstrdup(name);
    use->file = xstrdup(s != NULL && config_setting_source_file(s) != NULL
        ? config_setting_source_file(s) : r->file);
    use->line = s != NULL ? config_setting_source_line(s) : 0;
}

struct store *store_use_open(const struct config *cfg, const struct store_use *use,
    const char *option, struct config_errors *errs)
{
    if (!store_config_exists(cfg, use->name)) {
        struct textbuf names;
        textbuf_init(&names);
        for (size_t i = 0; i < cfg->store->count; i++)
            textbuf_printf(&names, "%s%s", i ? ", " : "", cfg->store->stores[i].name);
        config_errors_add(errs, use->file != NULL ? use->file : cfg->main_file, use->line, option,
            "no store named \"%s\" (stores: %s); define it as store: { %s: { backend = "
            "\"memory\" } }", use->name, names.data, use->name);
        textbuf_free(&names);
        return NULL;
    }
    return store_config_get(cfg, use->name);
}

void store_use_free(struct store_use *use)
{
    free(use->name);
    free(use->file);
    memset(use, 0, sizeof *use);
}

const struct config_module store_config_module = {
    .section = "store",
    .init = store_config_init,
    .apply = store_config_apply,
    .finish = store_config_finish,
    .free = store_config_free,
};
