/* spam_config.h - the `spam` policy section: settings of the native spam checks (HELO, reverse
 * DNS, DNS lists, headers, MIME and body) and of the message view they share (the cap on bytes
 * scanned). Filled by spam_config.c; read-only once the policy is loaded. */
#ifndef MW_SPAM_CONFIG_H
#define MW_SPAM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPAM_DEFAULT_MAX_SCAN_BYTES (1024 * 1024)

struct spam_policy {
    uint64_t max_scan_bytes;     /* body bytes the message view parses; the rest is not scanned */
};

#endif
