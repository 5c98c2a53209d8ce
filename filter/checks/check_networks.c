/* check_networks.c - shows the client's class at connect: internal (our users; outbound
 * mail), trusted (relays that inbound checks never refuse) or skip (left alone), as
 * txn_set_client classified it. A SASL-authenticated
 * client is outbound too, from MAIL FROM on, and gets "auth=pass smtp.auth=USER" in our
 * Authentication-Results (RFC 8601 2.7.4). Adds zero-score symbols that show in the log. */
#include <stdlib.h>

#include "authres.h"
#include "check.h"

static void networks_run(struct txn *t, enum stage stage)
{
    if (stage == STAGE_MAIL) {
        if (t->sasl_user != NULL) {
            txn_add_result(t, "AUTHENTICATED", 0, ACTION_NONE, NULL);
            char *method = authres_auth_method(t->sasl_user);
            txn_add_authres(t, method);
            free(method);
        }
        return;
    }
    /* the classification itself is txn_set_client's (before any lookup starts): the
     * symbols show it in the log */
    if (t->client_flags & CLIENT_INTERNAL)
        txn_add_result(t, "NETWORK_INTERNAL", 0, ACTION_NONE, NULL);
    if (t->client_flags & CLIENT_TRUSTED)
        txn_add_result(t, "NETWORK_TRUSTED", 0, ACTION_NONE, NULL);
}

const struct check check_networks = {
    .name = "networks",
    .stages = STAGE_BIT(STAGE_CONNECT) | STAGE_BIT(STAGE_MAIL),
    .run = networks_run,
    .may_refuse = check_never_refuses,    /* symbols only */
};
