/* config_holder.c - the configuration in force and its reference counts. A reload installs a
 * new configuration atomically; the old one is freed when its last transaction releases it. */
#include "config.h"

#include <pthread.h>

static pthread_mutex_t holder_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *current;

struct config *config_current(void)
{
    pthread_mutex_lock(&holder_lock);
    struct config *cfg = current;
    if (cfg != NULL)
        cfg->refs++;
    pthread_mutex_unlock(&holder_lock);
    return cfg;
}

void config_release(struct config *cfg)
{
    if (cfg == NULL)
        return;
    pthread_mutex_lock(&holder_lock);
    bool last = --cfg->refs == 0;
    pthread_mutex_unlock(&holder_lock);
    if (last)
        config_free(cfg);
}

void config_install(struct config *cfg)
{
    pthread_mutex_lock(&holder_lock);
    struct config *old = current;
    current = cfg;
    pthread_mutex_unlock(&holder_lock);
    config_release(old);
}
