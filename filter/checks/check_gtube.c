/* check_gtube.c - GTUBE, the Generic Test for Unsolicited Bulk Email, recognised without any
 * rule file: the string SpamAssassin's GTUBE rule looks for, anywhere in the body as the rules
 * see it (the message view's decoded text: text parts decoded, HTML rendered, the Subject
 * first), adds the symbol GTUBE with SpamAssassin's score, 1000, far past any reject
 * threshold. Inbound mail only, as every native spam check (spam_check.h). When the rules load
 * SpamAssassin's own GTUBE rule, that rule's hit replaces this symbol (same test, same name). */
#include <string.h>

#include "check.h"
#include "message_view.h"
#include "spam_check.h"
#include "spam_config.h"
#include "util.h"

#define GTUBE_STRING "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
#define GTUBE_SCORE 1000.0

static void run(struct txn *t, enum stage stage)
{
    (void)stage;
    if (!spam_checks_apply(t))
        return;
    const struct message_view *v = message_view_get(t);
    if (v->text != NULL && memmem(v->text, v->text_len, GTUBE_STRING, strlen(GTUBE_STRING)))
        txn_add_result(t, "GTUBE", GTUBE_SCORE, ACTION_NONE, NULL);
}

const struct check check_gtube = {
    .name = "gtube",
    .stages = STAGE_BIT(STAGE_EOM),
    .run = run,
    .shadowed = spam_shadowed,
};
