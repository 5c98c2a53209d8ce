/* registrable.c - registrable domains from the Public Suffix List: libpsl's newest list on
 * the system (Debian's publicsuffix package), else the list built into libpsl. Loaded once per
 * process (pthread_once); libpsl's lookups are thread-safe on a loaded context. */
#include "registrable.h"

#include <libpsl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *psl;

static void load_psl(void)
{
    psl = psl_latest(NULL);
    if (psl == NULL)
        psl = psl_builtin();
}

char *registrable_domain(const char *host)
{
    char *lower = xstrdup(host ? host : "");
    str_lower(lower);
    size_t len = strlen(lower);
    while (len > 0 && lower[len - 1] == '.')
        lower[--len] = '\0';
    pthread_once(&psl_once, load_psl);
    const char *reg = psl != NULL ? psl_registrable_domain(psl, lower) : NULL;
    if (reg == NULL || reg == lower)
        return lower;
    /* psl_registrable_domain points into its argument */
    char *out = xstrdup(reg);
    free(lower);
    return out;
}

bool same_registrable_domain(const char *a, const char *b)
{
    char *ra = registrable_domain(a);
    char *rb = registrable_domain(b);
    bool same = strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}
