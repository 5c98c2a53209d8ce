/* dkim_util.h - small helpers the DKIM signer and verifier share: the address in a From:
 * field, and one header field as libopendkim takes it ("Name: value", the value as the MTA
 * sent it). */
#ifndef MW_DKIM_UTIL_H
#define MW_DKIM_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "txn.h"
#include "util.h"

/* The addr-spec of the first mailbox in a From: value, lower case, into out; false when
 * there is none or it has no domain. */
bool dkim_from_address(const char *value, char *out, size_t size);
/* Writes header field i of t as "Name: value" (or "Name:value" when the MTA gave the
 * value with its leading space) into buf, reset first. */
void dkim_header_text(const struct txn *t, size_t i, struct textbuf *buf);

#endif
