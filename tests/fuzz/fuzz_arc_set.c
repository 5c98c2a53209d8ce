/* tests/fuzz/fuzz_arc_set.c - libFuzzer target for ARC's header-set parser
 * (filter/arc/arc_tags.c, arc_set.c, arc_canon.c). The input is a header block: one field per
 * line ("Name: value", a line starting with SP or HTAB continues the field, the first line
 * without a colon ends the block); the whole input is also parsed as one tag list. Promises
 * under test: no crash, leak or read out of bounds; a tag list that parses has unique names
 * that start with a letter; a READY chain has 1..50 sets, each with its instance and one field
 * of each kind pointing at a field of that kind, cv=none at 1 and pass above, and a seal input
 * for every instance; an INVALID chain has a reason; NONE means no ARC field at all. */
#include <stdlib.h>
#include <string.h>

#include "arc_canon.h"
#include "arc_set.h"
#include "arc_tags.h"
#include "util.h"

#define MAX_FIELDS 400

static void check_tags(const char *data, size_t size)
{
    struct arc_tags tags;
    if (arc_tags_parse(data, size, &tags)) {
        for (size_t i = 0; i < tags.count; i++) {
            const char *name = tags.tag[i].name;
            if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
                abort();
            if (arc_tags_get(&tags, name) != tags.tag[i].value)
                abort();                    /* a duplicate name would find the first */
        }
    } else if (tags.error[0] == '\0' || tags.count != 0) {
        abort();
    }
    arc_tags_free(&tags);
}

static size_t split_fields(char *text, struct header_field *fields)
{
    size_t count = 0;
    char *line = text;
    while (*line != '\0' && count < MAX_FIELDS) {
        char *colon = strchr(line, ':');
        char *end = strchr(line, '\n');
        if (colon == NULL || (end != NULL && colon > end))
            break;
        *colon = '\0';
        char *value = colon + 1;
        while (end != NULL && (end[1] == ' ' || end[1] == '\t'))
            end = strchr(end + 1, '\n');
        fields[count].name = line;
        fields[count].value = value;
        fields[count].raw_value = NULL;
        count++;
        if (end == NULL)
            break;
        *end = '\0';
        line = end + 1;
    }
    return count;
}

static void check_ready(const struct arc_chain *chain, const struct header_field *fields,
    size_t count)
{
    if (chain->count < 1 || chain->count > ARC_MAX_INSTANCES)
        abort();
    for (unsigned i = 1; i <= chain->count; i++) {
        const struct arc_set *set = &chain->set[i - 1];
        if (set->instance != i || set->seal_field >= count || set->ams_field >= count
                || set->aar_field >= count)
            abort();
        if (!str_ieq(fields[set->seal_field].name, "ARC-Seal")
                || !str_ieq(fields[set->ams_field].name, "ARC-Message-Signature")
                || !str_ieq(fields[set->aar_field].name, "ARC-Authentication-Results"))
            abort();
        if (set->cv != (i == 1 ? ARC_CV_NONE : ARC_CV_PASS))
            abort();
        struct textbuf input;
        textbuf_init(&input);
        if (!arc_canon_seal_input(chain, fields, i, &input) || input.len == 0)
            abort();
        textbuf_free(&input);
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    check_tags((const char *)data, size);
    char *text = xstrndup((const char *)data, size);
    struct header_field *fields = xcalloc(MAX_FIELDS, sizeof *fields);
    size_t count = split_fields(text, fields);
    struct arc_chain chain;
    arc_chain_collect(fields, count, &chain);
    switch (chain.state) {
    case ARC_CHAIN_READY:
        check_ready(&chain, fields, count);
        break;
    case ARC_CHAIN_INVALID:
        if (chain.reason[0] == '\0')
            abort();
        break;
    case ARC_CHAIN_NONE:
        for (size_t i = 0; i < count; i++) {
            if (str_ieq(fields[i].name, "ARC-Seal") || str_ieq(fields[i].name, "ARC-Message-Signature")
                    || str_ieq(fields[i].name, "ARC-Authentication-Results"))
                abort();
        }
        break;
    }
    arc_chain_free(&chain);
    free(fields);
    free(text);
    return 0;
}
