/* dmarc_record.h - the DMARC Policy Record of RFC 9989 (a TXT record at _dmarc.DOMAIN): which
 * TXT strings are DMARC records, and the tags of one. Written for hostile input: the record
 * is whatever the sender's DNS says. Promises: a record is v=DMARC1 first or not a DMARC
 * record; unknown tags and the tags RFC 9989 removed (pct, rf, ri) are ignored; a known tag
 * with a bad value falls back to its default and is named in warnings, but a record with no
 * usable p, or with an sp or np that is not valid, is p=none (no sp, no np) when it has a
 * usable rua (RFC 9989 4.10.1), otherwise it is no policy record.
 * Nothing in the record can make the parser read or write out of bounds. */
#ifndef MW_DMARC_RECORD_H
#define MW_DMARC_RECORD_H

#include <stdbool.h>
#include <stddef.h>

enum dmarc_policy {
    DMARC_POLICY_UNSET,           /* sp, np: absent: fall back */
    DMARC_POLICY_NONE,
    DMARC_POLICY_QUARANTINE,
    DMARC_POLICY_REJECT,
};

enum dmarc_psd {
    DMARC_PSD_U,                  /* absent, or "u": not known whether a PSD */
    DMARC_PSD_Y,                  /* a Public Suffix Domain */
    DMARC_PSD_N,                  /* the Organizational Domain */
};

#define DMARC_MAX_URIS 8          /* rua/ruf URIs kept; more are counted in uris_dropped */
#define DMARC_FO_0 1u
#define DMARC_FO_1 2u
#define DMARC_FO_D 4u
#define DMARC_FO_S 8u

struct dmarc_record {
    enum dmarc_policy p;          /* never UNSET in a parsed record */
    bool p_from_rua;              /* p absent or bad, or sp/np bad: p=none because rua is usable */
    enum dmarc_policy sp;         /* UNSET: as p */
    enum dmarc_policy np;         /* UNSET: as sp, then p */
    enum dmarc_psd psd;
    bool testing;                 /* t=y */
    bool adkim_strict;            /* adkim=s (default r) */
    bool aspf_strict;             /* aspf=s (default r) */
    char *rua[DMARC_MAX_URIS];
    size_t rua_count;
    char *ruf[DMARC_MAX_URIS];
    size_t ruf_count;
    size_t uris_dropped;          /* over DMARC_MAX_URIS, or not a URI */
    unsigned fo;                  /* DMARC_FO_* bits; DMARC_FO_0 when absent */
    char warnings[256];           /* bad values and ignored tags, for the log; "" if none */
};

enum dmarc_record_status {
    DMARC_RECORD_OK,
    DMARC_RECORD_NOT_DMARC,       /* does not begin with v=DMARC1: not a DMARC record */
    DMARC_RECORD_NO_POLICY,       /* v=DMARC1, but neither a usable p nor a usable rua */
};

/* True when a TXT string begins with the v=DMARC1 tag ("v", optional spaces, "=",
 * optional spaces, "DMARC1", then spaces, ';' or the end). */
bool dmarc_is_dmarc1(const char *txt);

/* Parses text into out (zeroed first; free it with dmarc_record_free whatever the status).
 * Anything but DMARC_RECORD_OK writes the reason into why. */
enum dmarc_record_status dmarc_record_parse(const char *text, struct dmarc_record *out,
    char *why, size_t why_size);
void dmarc_record_free(struct dmarc_record *r);

/* "none", "quarantine", "reject" ("unset" for DMARC_POLICY_UNSET) */
const char *dmarc_policy_name(enum dmarc_policy p);

#endif
