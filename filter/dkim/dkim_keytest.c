/* dkim_keytest.c - one DKIM key entry checked against its file and its DNS record
 * (dkim_keytest.h). The file is read again, so a key replaced on disk since the policy was
 * loaded, or one the caller cannot read, shows here. */
#include "dkim_keytest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_keys.h"
#include "dkim_policy.h"
#include "util.h"

#define TYPE_TXT 16

enum dkim_keytest_result dkim_keytest(const struct config *cfg, struct dns_resolver *r,
    const char *name, void (*out)(const char *line, void *arg), void *arg)
{
    const struct dkim_policy *p = cfg->dkim;
    const struct dkim_key_entry *e = NULL;
    for (size_t i = 0; p != NULL && i < p->key_count; i++) {
        if (strcmp(p->keys[i].name, name) == 0)
            e = &p->keys[i];
    }
    if (e == NULL) {
        line_printf(out, arg, "%s: no key of that name in dkim.keys of %s", name, cfg->main_file);
        return DKIM_KEYTEST_NO_SUCH_KEY;
    }
    char why[512], warn[512] = "";
    struct dkim_key *key = dkim_key_load_file(e->file, why, sizeof why, warn, sizeof warn);
    if (key == NULL) {
        line_printf(out, arg, "%s: %s", name, why);
        return DKIM_KEYTEST_MISMATCH;
    }
    line_printf(out, arg, "%s: %s loads (%s, %u bits)%s%s", name, e->file, dkim_key_k_tag(key),
        key->bits, warn[0] ? ": " : "", warn);
    if (e->key != NULL && e->key->public_b64 != NULL && key->public_b64 != NULL
        && strcmp(e->key->public_b64, key->public_b64) != 0)
        line_printf(out, arg, "%s: the file holds another key than the policy in force signs with; "
            "reload to use it", name);
    char *qname = xasprintf("%s._domainkey.%s", e->selector, e->domain);
    struct dns_answer answer;
    dns_query(r, qname, TYPE_TXT, 0, &answer);
    enum dkim_keytest_result result = DKIM_KEYTEST_MISMATCH;
    if (answer.status != DNS_OK || answer.count == 0) {
        line_printf(out, arg, "%s: %s TXT: %s: no record published", name, qname,
            answer.status == DNS_OK ? "no TXT record" : dns_status_name(answer.status));
    } else if (answer.count > 1) {
        line_printf(out, arg, "%s: %s TXT: %zu records; publish exactly one", name, qname,
            answer.count);
    } else if (!dkim_key_matches_record(key, answer.data[0], why, sizeof why)) {
        line_printf(out, arg, "%s: %s TXT: does NOT match %s: %s", name, qname, e->file, why);
    } else {
        line_printf(out, arg, "%s: %s TXT: matches %s (%s, %u bits)", name, qname, e->file,
            dkim_key_k_tag(key), key->bits);
        result = DKIM_KEYTEST_MATCHES;
    }
    dns_answer_free(&answer);
    free(qname);
    dkim_key_free(key);
    return result;
}
