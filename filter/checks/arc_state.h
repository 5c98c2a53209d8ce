/* arc_state.h - what check_arc keeps per transaction in its state slot: the public outcome
 * (arc_result.h reads it) and the verifier it streams the body into. Only check_arc.c and
 * arc_result.c include this. */
#ifndef MW_ARC_STATE_H
#define MW_ARC_STATE_H

#include "arc_result.h"
#include "arc_verify.h"

struct arc_txn_state {
    struct arc_outcome outcome;
    struct arc_verify *verify;    /* from the end of the headers to the end of the message */
};

#endif
