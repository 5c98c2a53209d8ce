/* dkim_util.h - small helpers the DKIM signer and verifier share: the address in a From:
 * field, and one header field as libopendkim takes it ("Name: value", the value as the MTA
 * sent it). */
#ifndef MW_DKIM_UTIL_H
#define MW_DKIM_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "header.h"
#include "util.h"

/* The addr-spec of the first mailbox in a From: value, lower case, into out; false when
 * there is none or it has no domain. */
bool dkim_from_address(const char *value, char *out, size_t size);
/* Writes the header field as "Name: value" (or "Name:value" when the MTA gave the value with
 * its leading space) into buf, reset first. */
void dkim_header_text(const struct header_field *h, struct textbuf *buf);

#endif
