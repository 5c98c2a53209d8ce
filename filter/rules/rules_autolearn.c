/* rules_autolearn.c - what Bayes autolearn counts of a rule's points, as SpamAssassin 4.0.1's
 * _get_autolearn_points (PerMsgStatus.pm) reads a rule: the share that are header points and
 * the share that are body points. Header rules (header evals too) are header points; body,
 * rawbody and uri rules (evals too, and the plugin rule types SpamAssassin adds as body evals:
 * mimeheader, uri_detail) body points; a meta rule's points are split by the rules its
 * expression names, each occurrence once (Conf/Parser.pm's meta_dependencies), in the ratio
 * of the header ones to the body ones (metas, full rules, other plugin types and names
 * SpamAssassin does not have count for neither side); tflags autolearn_header or
 * autolearn_body put all of a rule's points on that side (bug 7907). Full rules, other plugin
 * types and a meta with no header or body dependency are neither: their points count in the
 * total only. Promises: each share in [0, 1], the two summing to 0 or 1; set once per ruleset
 * at finish, read-only afterwards. */
#include <string.h>

#include "rules_evalfn.h"
#include "rules_internal.h"

enum autolearn_side { SIDE_NEITHER, SIDE_HEADER, SIDE_BODY };

/* _get_autolearn_testtype: 'head', 'body' or neither by the rule's test type. */
static enum autolearn_side side_of_type(const struct rule *r)
{
    switch (r->type) {
    case RULE_HEADER:
        return SIDE_HEADER;
    case RULE_BODY:
    case RULE_RAWBODY:
    case RULE_URI:
        return SIDE_BODY;
    case RULE_OTHER:
        if (r->eval != NULL && (strcmp(r->eval->name, "mimeheader") == 0
                || strcmp(r->eval->name, "uri_detail") == 0))
            return SIDE_BODY;             /* added with TYPE_BODY_EVALS */
        return SIDE_NEITHER;
    default:
        return SIDE_NEITHER;
    }
}

/* A dependency SpamAssassin has with its type: defined, unless only in the blocks of plugins
 * it does not load by default (those names are undefined to it: no type). */
static enum autolearn_side side_of_dependency(const struct rule *dep)
{
    if (dep == NULL || !dep->defined)
        return SIDE_NEITHER;
    if (dep->skip_reason != NULL && (strcmp(dep->skip_reason, SKIP_NOT_DEFAULT_PLUGIN) == 0
            || strcmp(dep->skip_reason, SKIP_NETWORK_SERVICE) == 0))
        return SIDE_NEITHER;
    return side_of_type(dep);
}

static void set_shares(struct ruleset *rs, struct rule *r)
{
    r->autolearn_header_share = 0;
    r->autolearn_body_share = 0;
    if (r->tflags & TFLAG_AUTOLEARN_HEADER) {
        r->autolearn_header_share = 1;
        return;
    }
    if (r->tflags & TFLAG_AUTOLEARN_BODY) {
        r->autolearn_body_share = 1;
        return;
    }
    if (r->type != RULE_META) {
        enum autolearn_side side = side_of_type(r);
        r->autolearn_header_share = side == SIDE_HEADER;
        r->autolearn_body_share = side == SIDE_BODY;
        return;
    }
    unsigned header_deps = 0, body_deps = 0;
    for (size_t i = 0; i < r->meta.count; i++) {
        const struct expr_item *it = &r->meta.items[i];
        if (it->op != EXPR_NAME)
            continue;
        const struct rule *dep = it->index < rs->count ? &rs->rules[it->index] : NULL;
        enum autolearn_side side = side_of_dependency(dep);
        header_deps += side == SIDE_HEADER;
        body_deps += side == SIDE_BODY;
    }
    if (header_deps + body_deps == 0)
        return;
    r->autolearn_header_share = (double)header_deps / (header_deps + body_deps);
    r->autolearn_body_share = (double)body_deps / (header_deps + body_deps);
}

void rules_autolearn_shares(struct ruleset *rs)
{
    for (size_t i = 0; i < rs->count; i++) {
        struct rule *r = &rs->rules[i];
        if (r->defined && r->skip_reason == NULL)
            set_shares(rs, r);
    }
}
