/* arc_set.h - a message's ARC header fields (ARC-Seal, ARC-Message-Signature,
 * ARC-Authentication-Results) collected into sets by instance, and the structural checks of
 * RFC 8617 section 5.2 steps 1 to 3 applied to them: at most 50 sets, instances 1..N with no
 * gap, exactly one field of each kind per instance, the i= of an ARC-Authentication-Results
 * first, the tags each seal and message signature must have, cv= none at i=1 and pass above,
 * no cv=fail anywhere. The answer is one of: no chain (arc=none), a chain that is invalid
 * (arc=fail, with the reason and the instance), or a chain ready for the signature checks.
 * Pure: it reads the fields it is given and allocates; no DNS, no crypto, no globals. */
#ifndef MW_ARC_SET_H
#define MW_ARC_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "arc_tags.h"
#include "header.h"

/* RFC 8617 4.2.1: instance values are 1 to 50. */
#define ARC_MAX_INSTANCES 50

enum arc_chain_state {
    ARC_CHAIN_NONE,            /* no ARC header field at all */
    ARC_CHAIN_INVALID,         /* structurally invalid, or a seal says cv=fail: arc=fail */
    ARC_CHAIN_READY            /* well formed; the signatures are still to be verified */
};

enum arc_cv {
    ARC_CV_NONE,
    ARC_CV_PASS,
    ARC_CV_FAIL
};

struct arc_set {
    unsigned instance;
    size_t seal_field;         /* indexes into the fields given to arc_chain_collect() */
    size_t ams_field;
    size_t aar_field;
    struct arc_tags seal;      /* the ARC-Seal's tags */
    struct arc_tags ams;       /* the ARC-Message-Signature's tags */
    enum arc_cv cv;
    const char *aar_payload;   /* the AAR's value after "i=N;" (points into the field) */
};

struct arc_chain {
    enum arc_chain_state state;
    unsigned count;            /* N: sets 1..N are set[0..N-1] when READY */
    struct arc_set *set;       /* ARC_MAX_INSTANCES slots, or NULL for NONE */
    unsigned bad_instance;     /* INVALID: the instance at fault, 0 when none can be named */
    char reason[200];          /* INVALID: why, naming the field and tag */
};

/* Collects the ARC fields among `fields` (count of them, in message order, names compared
 * case-insensitively) into *chain and judges the structure. The fields must outlive the
 * chain (aar_payload points into them). Call arc_chain_free() afterwards in every case. */
void arc_chain_collect(const struct header_field *fields, size_t count, struct arc_chain *chain);
void arc_chain_free(struct arc_chain *chain);

/* "none", "invalid" or "ready", for logs and test drivers. */
const char *arc_chain_state_name(enum arc_chain_state state);

/* The instance of an ARC-Authentication-Results value (RFC 8617 4.1.1: [CFWS] "i" [CFWS] "="
 * [CFWS] 1*2DIGIT [CFWS] ";" first), with *payload set past the ";"; 0 when the value does not
 * start so (comments are not accepted as CFWS here, only white space). */
unsigned arc_aar_instance(const char *value, const char **payload);

#endif
