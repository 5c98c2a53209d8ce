/* tests/fuzz/fuzz_arc_aar.c - libFuzzer target for the ARC-Authentication-Results reader
 * (filter/arc/arc_aar.c), which reads what any earlier hop wrote. The input is one payload.
 * Promises under test: no crash, leak or read out of bounds; a refused payload leaves an empty
 * result; an accepted one has a non-empty authserv-id, at most ARC_AAR_MAX_RESULTS results,
 * each with a method and a result that are NUL-terminated within their fields, lower case,
 * and arc_aar_passed() true only for a method whose result is "pass". */
#include <stdlib.h>
#include <string.h>

#include "arc_aar.h"

static void check_lower(const char *s, size_t size)
{
    if (memchr(s, '\0', size) == NULL)
        abort();
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'Z')
            abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *payload = malloc(size + 1);
    if (payload == NULL)
        return 0;
    memcpy(payload, data, size);
    payload[size] = '\0';
    struct arc_aar aar;
    bool ok = arc_aar_parse(payload, &aar);
    if (!ok) {
        if (aar.authserv_id[0] != '\0' || aar.count != 0)
            abort();
    } else {
        if (aar.authserv_id[0] == '\0' || aar.count > ARC_AAR_MAX_RESULTS)
            abort();
        check_lower(aar.authserv_id, sizeof aar.authserv_id);
        for (size_t i = 0; i < aar.count; i++) {
            const struct arc_aar_result *r = &aar.result[i];
            check_lower(r->method, sizeof r->method);
            check_lower(r->result, sizeof r->result);
            check_lower(r->domain, sizeof r->domain);
            if (r->method[0] == '\0' || r->result[0] == '\0')
                abort();
            if (arc_aar_passed(&aar, r->method) && strcmp(r->result, "pass") != 0) {
                bool other_pass = false;
                for (size_t k = 0; k < aar.count; k++)
                    other_pass |= strcmp(aar.result[k].method, r->method) == 0
                        && strcmp(aar.result[k].result, "pass") == 0;
                if (!other_pass)
                    abort();
            }
        }
    }
    free(payload);
    return 0;
}
