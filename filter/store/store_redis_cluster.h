/* store_redis_cluster.h - the two pure pieces of Redis Cluster routing that store_redis.c
 * needs: the slot of a key (CRC16 of its hash tag, as the servers compute it), and the
 * reading of a -MOVED or -ASK redirection. No I/O, no state. */
#ifndef MW_STORE_REDIS_CLUSTER_H
#define MW_STORE_REDIS_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#define REDIS_CLUSTER_SLOTS 16384

/* The cluster slot of key[0..len): CRC16/XMODEM of the text between the first '{' and the
 * first '}' after it when that is not empty, else of the whole key; modulo 16384. */
unsigned redis_key_slot(const char *key, size_t len);

enum redis_redirect_kind { REDIS_REDIRECT_NONE, REDIS_REDIRECT_MOVED, REDIS_REDIRECT_ASK };

struct redis_redirect {
    enum redis_redirect_kind kind;
    unsigned slot;
    char host[256];
    int port;
};

/* Reads an error reply "MOVED 3999 127.0.0.1:6381" or "ASK 3999 [::1]:6381" into *out; false
 * (kind NONE) for any other error or a malformed one. host is "" when the reply names no host
 * (":6381"): the server that answered, on that port. */
bool redis_parse_redirect(const char *error, struct redis_redirect *out);

#endif
