/* tests/fuzz/fuzz_rules.c - libFuzzer target: any bytes as a SpamAssassin-syntax rule file (up to
 * a line "%%"), and what follows as the decoded text, raw text, a URI and a header value of a
 * message the rules then run on (through a header cache, cut at 4 KB). Promise under test: a rule file never crashes, leaks or hangs
 * the loader (bad lines are skipped and counted), compiled rules never crash the evaluator, and
 * every definition either loads or is skipped with a reason. */
#include <stdlib.h>
#include <string.h>

#include "header_cache.h"
#include "message_view.h"
#include "rules.h"
#include "header.h"

static void ignore_hit(const struct rules_hit *hit, void *arg)
{
    (void)hit;
    (void)arg;
}

static void ignore_line(const char *line, void *arg)
{
    (void)line;
    (void)arg;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *text = (const char *)data;
    size_t rules_len = size;
    const char *sep = memmem(text, size, "\n%%\n", 4);
    if (sep != NULL)
        rules_len = (size_t)(sep - text) + 1;
    struct ruleset *rs = ruleset_new();
    ruleset_read_text(rs, "fuzz", text, rules_len);
    ruleset_finish(rs);
    ruleset_report(rs, ignore_line, NULL);

    /* the message: the rest of the input, NUL-terminated */
    size_t rest_len = sep ? size - rules_len - 3 : 0;
    char *rest = malloc(rest_len + 1);
    if (rest == NULL)
        abort();
    memcpy(rest, sep ? sep + 4 : "", rest_len);
    rest[rest_len] = '\0';
    struct header_field headers[] = {
        { .name = (char *)"Subject", .value = rest },
        { .name = (char *)"From", .value = rest },
        { .name = (char *)"To", .value = (char *)"a@example.org" },
    };
    struct message_uri uri = { .url = rest };
    struct message_view view = {
        .text = rest, .text_len = rest_len, .rawtext = rest, .rawtext_len = rest_len,
        .uris = &uri, .uri_count = 1,
    };
    view.header_cache = header_cache_new(headers, 3);   /* as the daemon's view has one */
    struct rules_message msg = { headers, 3, &view, rest, rest_len, rest, NULL, NULL };
    struct rules_limits limits;
    rules_limits_default(&limits);
    limits.match_limit = 100000;
    limits.header_bytes = 4096;   /* so that fields are cut before decoding, as a 64 KB cap would */
    struct rules_eval_stats stats;
    ruleset_eval(rs, &msg, &limits, ignore_hit, NULL, &stats);
    if (stats.rules_run != ruleset_loaded(rs))
        abort();                  /* every loaded rule runs */
    header_cache_free(view.header_cache);
    free(rest);
    ruleset_free(rs);
    return 0;
}
