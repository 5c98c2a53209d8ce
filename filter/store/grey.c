/* grey.c - greylisting decisions (grey.h): the rule that advances a triplet's record, and the
 * triplet's store key. Pure; tested on a fake clock (tests/unit/test_grey.c). */
#include "grey.h"

#include "subnet.h"
#include "util.h"

void grey_decide(const struct grey_params *p, bool have, struct grey_record *rec, int64_t now_us,
    struct grey_result *out, int64_t *ttl_us)
{
    if (!have) {
        rec->first_seen_us = now_us;
        rec->passed = false;
        out->state = GREY_NEW;
        out->wait_us = p->delay_us;
        *ttl_us = p->retry_window_us;
        return;
    }
    if (rec->passed) {
        out->state = GREY_PASSED;
        out->wait_us = 0;
        *ttl_us = p->remember_us;
        return;
    }
    int64_t waited = now_us - rec->first_seen_us;
    if (waited < p->delay_us) {
        out->state = GREY_EARLY;
        out->wait_us = p->delay_us - waited;
        int64_t left = rec->first_seen_us + p->retry_window_us - now_us;
        *ttl_us = left > 0 ? left : 1;
        return;
    }
    rec->passed = true;
    out->state = GREY_PASSED;
    out->wait_us = 0;
    *ttl_us = p->remember_us;
}

char *grey_triplet_key(const struct ipaddr *client, unsigned ipv4_prefix, unsigned ipv6_prefix,
    const char *sender, const char *rcpt)
{
    char net[80];
    subnet_format(client, ipv4_prefix, ipv6_prefix, net, sizeof net);
    char *key = xasprintf("gl:%s|%.320s|%.320s", net, sender && *sender ? sender : "<>", rcpt);
    str_lower(key);
    return key;
}
