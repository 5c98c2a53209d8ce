/* store_redis_cluster.c - key slots and redirections of Redis Cluster (see the header). The
 * CRC is CRC16/XMODEM (polynomial 0x1021, initial value 0, no reflection), the one the
 * Redis Cluster specification names, computed bit by bit: keys are short. */
#include "store_redis_cluster.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint16_t crc16_xmodem(const unsigned char *data, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(data[i] << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

unsigned redis_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open != NULL) {
        size_t rest = len - (size_t)(open + 1 - key);
        const char *close = memchr(open + 1, '}', rest);
        if (close != NULL && close > open + 1)
            return crc16_xmodem((const unsigned char *)open + 1, (size_t)(close - open - 1))
                % REDIS_CLUSTER_SLOTS;
    }
    return crc16_xmodem((const unsigned char *)key, len) % REDIS_CLUSTER_SLOTS;
}

bool redis_parse_redirect(const char *error, struct redis_redirect *out)
{
    out->kind = REDIS_REDIRECT_NONE;
    enum redis_redirect_kind kind;
    const char *p;
    if (strncmp(error, "MOVED ", 6) == 0) {
        kind = REDIS_REDIRECT_MOVED;
        p = error + 6;
    } else if (strncmp(error, "ASK ", 4) == 0) {
        kind = REDIS_REDIRECT_ASK;
        p = error + 4;
    } else {
        return false;
    }
    char *stop;
    long slot = strtol(p, &stop, 10);
    if (stop == p || *stop != ' ' || slot < 0 || slot >= REDIS_CLUSTER_SLOTS)
        return false;
    const char *address = stop + 1;
    const char *colon = strrchr(address, ':');
    if (colon == NULL)
        return false;
    const char *start = address, *end = colon;
    if (*start == '[' && end - start >= 2 && end[-1] == ']') {
        start++;
        end--;
    }
    if (end < start || (size_t)(end - start) >= sizeof out->host)
        return false;             /* an empty host means the server that answered */
    long port = strtol(colon + 1, &stop, 10);
    if (stop == colon + 1 || *stop != '\0' || port < 1 || port > 65535)
        return false;
    memcpy(out->host, start, (size_t)(end - start));
    out->host[end - start] = '\0';
    out->port = (int)port;
    out->slot = (unsigned)slot;
    out->kind = kind;
    return true;
}
