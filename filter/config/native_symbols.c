/* native_symbols.c - the list behind native_symbols.h: every fixed name a native check passes
 * to txn_add_result, and the SPF names built from a result (SPF_<RESULT>, SPF_HELO_<RESULT>).
 * A check that adds a symbol adds its name here. */
#include "native_symbols.h"

#include <string.h>

const char *const native_symbols[] = {
    "NETWORK_INTERNAL", "NETWORK_TRUSTED", "AUTHENTICATED",
    "HEADER_COUNT_LIMIT", "HEADER_BYTES_LIMIT", "BODY_TRUNCATED",
    "SPF_PASS", "SPF_FAIL", "SPF_SOFTFAIL", "SPF_NEUTRAL", "SPF_NONE", "SPF_PERMERROR",
    "SPF_TEMPERROR", "SPF_HELO_PASS", "SPF_HELO_FAIL", "SPF_HELO_SOFTFAIL", "SPF_HELO_NEUTRAL",
    "SPF_HELO_NONE", "SPF_HELO_PERMERROR", "SPF_HELO_TEMPERROR",
    "RATELIMIT_STORE_DOWN", "GREYLIST",
    "DMARC_PASS", "DMARC_FAIL_REJECT", "DMARC_FAIL_QUARANTINE", "DMARC_FAIL_NONE", "DMARC_NONE",
    "DMARC_TEMPERROR", "DMARC_PERMERROR", "DMARC_FROM_SEVERAL", "DMARC_FROM_INVALID",
    "DKIM_PASS", "DKIM_FAIL", "DKIM_NONE", "DKIM_TEMPERROR", "DKIM_PERMERROR", "DKIM_NEUTRAL",
    "DKIM_KEY_TOO_SMALL", "DKIM_RSA_SHA1", "DKIM_EXPIRED", "DKIM_BODY_LENGTH",
    "DKIM_HEADER_LIMIT", "DKIM_SIGNED", "DKIM_SIGN_FAILED", "DKIM_SIGN_NOT_ALLOWED",
    "ARC_PASS", "ARC_FAIL", "ARC_NONE", "ARC_INVALID", "ARC_REJECT",
    "ARC_SEALED", "ARC_SEAL_FAILED",
    "RDNS_NONE", "RDNS_NOT_CONFIRMED", "RDNS_DYNAMIC",
    "HELO_BARE_IP", "HELO_LITERAL_MISMATCH", "HELO_NOT_FQDN", "HELO_CLAIMS_OURS",
    "HELO_RDNS_MISMATCH",
    "MISSING_DATE", "MISSING_MESSAGE_ID", "MISSING_FROM", "DATE_INVALID", "DATE_IN_FUTURE",
    "DATE_IN_PAST", "FROM_NAME_HAS_ADDRESS", "REPLYTO_DOMAIN_DIFFERS", "SUBJECT_SHOUTING",
    "SUBJECT_PUNCTUATION", "UNDISCLOSED_RECIPIENTS", "MANY_RECIPIENTS",
    "MIME_HTML_ONLY", "MIME_HTML_NO_TEXT", "LINK_TEXT_MISMATCH", "URI_IP_LITERAL",
    "URI_SHORTENER", "ATTACH_RISKY", "MIME_BAD_ENCODING", "MIME_MALFORMED",
    "GTUBE",
    NULL,
};

bool native_symbol(const char *name)
{
    for (size_t i = 0; native_symbols[i] != NULL; i++) {
        if (strcmp(native_symbols[i], name) == 0)
            return true;
    }
    return false;
}

static const char *const spamassassin_named[] = {
    "GTUBE", "MISSING_DATE", "MISSING_FROM", "MIME_HTML_ONLY",
    "SPF_PASS", "SPF_FAIL", "SPF_SOFTFAIL", "SPF_NEUTRAL", "SPF_NONE",
    "SPF_HELO_PASS", "SPF_HELO_FAIL", "SPF_HELO_SOFTFAIL", "SPF_HELO_NEUTRAL", "SPF_HELO_NONE",
    "DKIM_SIGNED", "ARC_INVALID", "RDNS_NONE", "RDNS_DYNAMIC",
    NULL,
};

bool native_symbol_is_spamassassins(const char *name)
{
    for (size_t i = 0; spamassassin_named[i] != NULL; i++) {
        if (strcmp(spamassassin_named[i], name) == 0)
            return true;
    }
    return false;
}
