/* dkim_keytest.h - checks one entry of dkim.keys against the world: its key file read again
 * now (by whoever calls: the daemon's user for mailwarden-ctl test-key) and its public key
 * record in DNS, which must publish that key. Shared by `mailwarden-keygen --test` and
 * `mailwarden-ctl test-key`. Never prints key material. */
#ifndef MW_DKIM_KEYTEST_H
#define MW_DKIM_KEYTEST_H

#include <stdbool.h>

#include "config.h"
#include "dns.h"

enum dkim_keytest_result {
    DKIM_KEYTEST_MATCHES,      /* the file loads and DNS publishes its public key */
    DKIM_KEYTEST_MISMATCH,     /* the file does not load, or DNS has no or another key */
    DKIM_KEYTEST_NO_SUCH_KEY,  /* no entry of that name in dkim.keys */
};

/* Tests entry `name` of cfg's dkim.keys with resolver r; writes what it found, one line per
 * call of out ("NAME: sel._domainkey.example.com TXT: matches FILE (rsa, 2048 bits)"). */
enum dkim_keytest_result dkim_keytest(const struct config *cfg, struct dns_resolver *r,
    const char *name, void (*out)(const char *line, void *arg), void *arg);

#endif
