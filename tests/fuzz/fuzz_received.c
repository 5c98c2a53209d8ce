/* tests/fuzz/fuzz_received.c - libFuzzer target: any bytes as the header of a message, one
 * Received field per line (a line "X-Originating-IP: ..." becomes that field instead), read by
 * the relay model as SpamAssassin's Received parser would. Promise under test: no line crashes,
 * leaks or hangs the parser; every field is a relay, ignored or counted unparseable; the
 * trusted and internal relays are a prefix of the relays; the pseudo-headers list every relay. */
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "rules.h"
#include "rules_relays.h"

#define MAX_FIELDS 128

static size_t count_relays_in(const char *text)
{
    size_t n = 0;
    for (const char *p = strstr(text, "[ ip="); p != NULL; p = strstr(p + 1, "[ ip="))
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct header_field fields[MAX_FIELDS];
    size_t count = 0;
    for (char *line = text; line != NULL && *line != '\0' && count < MAX_FIELDS;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (strncmp(line, "X-Originating-IP:", 17) == 0)
            fields[count++] = (struct header_field){ .name = "X-Originating-IP", .value = line + 17 };
        else
            fields[count++] = (struct header_field){ .name = "Received", .value = line };
        line = nl != NULL ? nl + 1 : NULL;
    }
    struct rules_envelope env = { .client_ip = size % 2 ? "192.0.2.1" : NULL, .helo = "fuzz" };
    struct rules_message msg = { .headers = fields, .header_count = count, .envelope = &env };
    struct rules_relays *r = rules_relays_build(&msg);
    if (r->trusted_count > r->count || r->internal_count > r->trusted_count
        || r->unparsed_lines > r->received_lines)
        abort();
    for (size_t i = 0; i < r->count; i++) {
        if (r->relay[i].trusted != (i < r->trusted_count)
            || r->relay[i].internal != (i < r->internal_count))
            abort();
    }
    if (count_relays_in(r->pseudo_trusted) + count_relays_in(r->pseudo_untrusted) < r->count
        || count_relays_in(r->pseudo_internal) + count_relays_in(r->pseudo_external) < r->count)
        abort();
    rules_relays_free(r);
    free(text);
    return 0;
}
