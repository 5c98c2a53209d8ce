/* grey.h - greylisting decisions, pure: no clock, no store, no locks (as gcra.h for rate
 * limits). A triplet (client network, sender, recipient) has a record: when it was first
 * seen and whether it passed. grey_decide advances that record for an attempt at now_us and
 * says whether the attempt waits, and how long the record matters afterwards. The stores keep
 * the records and call grey_decide under their own lock (store_redis.c's Lua script applies
 * the same rule on the server), so one attempt is one atomic decision. */
#ifndef MW_GREY_H
#define MW_GREY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

struct grey_params {
    int64_t delay_us;              /* tempfail this long after the first attempt */
    int64_t retry_window_us;       /* how long an unconfirmed triplet waits for its retry */
    int64_t remember_us;           /* how long a passed triplet is remembered */
};

enum grey_state {
    GREY_NEW,                      /* first seen now: tempfail */
    GREY_EARLY,                    /* seen, retried before the delay: tempfail */
    GREY_PASSED,                   /* retried after the delay, or known: deliver */
};

struct grey_result {
    enum grey_state state;
    int64_t wait_us;               /* NEW/EARLY: how long until a retry passes */
};

/* The record a store keeps for a triplet. */
struct grey_record {
    int64_t first_seen_us;
    bool passed;
};

/* One attempt at now_us. have = false for a triplet never seen (or expired): rec is then
 * filled in. Sets *out, updates *rec (the state to store) and *ttl_us (how long to keep it:
 * the retry window while it waits, greylist.remember once passed; always >= 1). */
void grey_decide(const struct grey_params *p, bool have, struct grey_record *rec, int64_t now_us,
    struct grey_result *out, int64_t *ttl_us);

/* The store key of a triplet, "gl:NET|sender|recipient", lower case: net is the client's
 * network (subnet_format), the null sender is "<>", sender and recipient are cut at 320
 * bytes. Free it. */
char *grey_triplet_key(const struct ipaddr *client, unsigned ipv4_prefix, unsigned ipv6_prefix,
    const char *sender, const char *rcpt);

#endif
