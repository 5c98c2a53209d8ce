/* gcra.c - GCRA decisions in integer microseconds, and the parser for rates as admins write
 * them. A key's state is its TAT: the time at which its bucket would be empty again.
 * A request of cost c passes when TAT' = max(TAT, now) + c*T lies at most burst*T ahead of
 * now; then TAT' is stored. Overflow is impossible for sane limits and clamped for insane ones. */
#include "gcra.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#define US_PER_S INT64_C(1000000)
#define GCRA_MAX_US (INT64_C(1) << 53)    /* a Lua number holds this exactly (store_redis) */

static bool parse_count(const char *text, const char **end, int64_t *out)
{
    if (!isdigit((unsigned char)*text))
        return false;
    errno = 0;
    char *stop;
    unsigned long long n = strtoull(text, &stop, 10);
    if (errno != 0 || n == 0 || n > (1ULL << 40))
        return false;
    unsigned long long mult = 1;
    switch (*stop) {
    case 'k': case 'K': mult = 1000; stop++; break;
    case 'M': mult = 1000000; stop++; break;
    case 'G': mult = 1000000000; stop++; break;
    default: break;
    }
    if (n > (1ULL << 40) / mult)
        return false;
    *out = (int64_t)(n * mult);
    *end = stop;
    return true;
}

static bool parse_period(const char *text, int64_t *out)
{
    int64_t n = 1;
    const char *p = text;
    if (isdigit((unsigned char)*p)) {
        errno = 0;
        char *stop;
        unsigned long long v = strtoull(p, &stop, 10);
        if (errno != 0 || v == 0 || v > 100000)
            return false;
        n = (int64_t)v;
        p = stop;
    }
    int64_t unit;
    if (p[0] == 's' && p[1] == '\0')
        unit = US_PER_S;
    else if (p[0] == 'm' && p[1] == '\0')
        unit = 60 * US_PER_S;
    else if (p[0] == 'h' && p[1] == '\0')
        unit = 3600 * US_PER_S;
    else if (p[0] == 'd' && p[1] == '\0')
        unit = 86400 * US_PER_S;
    else
        return false;
    *out = n * unit;
    return true;
}

bool gcra_parse_rate(const char *text, int64_t *count, int64_t *period_us, const char **why)
{
    const char *p;
    if (!parse_count(text, &p, count) || *p != '/') {
        *why = "write a rate as COUNT/PERIOD, e.g. \"100/1h\", \"10/1m\", \"5000/1d\" (COUNT may end in k, M or G)";
        return false;
    }
    if (!parse_period(p + 1, period_us)) {
        *why = "the period is a number and one of s, m, h, d, e.g. \"1h\", \"30s\", \"1d\"";
        return false;
    }
    return true;
}

bool gcra_limit_make(int64_t count, int64_t period_us, int64_t burst, struct gcra_limit *out,
    const char **why)
{
    if (count <= 0 || period_us <= 0 || count > period_us) {
        *why = "the rate is finer than one per microsecond: use a longer period";
        return false;
    }
    if (burst < 1 || burst > (INT64_C(1) << 30)) {
        *why = "burst must be between 1 and 1073741824";
        return false;
    }
    out->emission_us = (period_us + count - 1) / count;
    if (out->emission_us > GCRA_MAX_US / burst) {
        *why = "burst times the emission interval is too long: lower the burst";
        return false;
    }
    out->burst = burst;
    return true;
}

void gcra_decide(const struct gcra_limit *limit, bool have_tat, int64_t tat_us, int64_t cost,
    int64_t now_us, struct gcra_result *out)
{
    int64_t window = limit->burst * limit->emission_us;   /* burst * T, checked in limit_make */
    if (cost < 1)
        cost = 1;
    int64_t tat = now_us;
    bool clamped = false;
    if (have_tat && tat_us > now_us) {
        clamped = tat_us - now_us > window;            /* the clock went backwards */
        tat = clamped ? now_us + window : tat_us;
    }
    int64_t increment = cost > GCRA_MAX_US / limit->emission_us ? GCRA_MAX_US
        : cost * limit->emission_us;
    int64_t new_tat = tat + increment;
    int64_t ahead = new_tat - now_us;
    if (ahead <= window) {
        out->allowed = true;
        out->store = true;
        out->retry_after_us = 0;
        out->new_tat_us = new_tat;
        out->ttl_us = ahead;
    } else {
        out->allowed = false;
        out->store = clamped;                          /* keep the clamp: it ends the block */
        out->retry_after_us = ahead - window;
        out->new_tat_us = tat;
        out->ttl_us = tat - now_us;
    }
}
