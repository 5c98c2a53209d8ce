/* arc-structure.c - reads message files as an MTA hands them to the milter
 * (filter/tools/message_file.c) and prints, for each, the structural verdict of
 * filter/arc/arc_set.c: "FILE<TAB>STATE<TAB>N<TAB>REASON", STATE none, invalid or ready, N the
 * instance at fault (invalid) or the number of sets (ready). The suite runner
 * (test-arc-suite.py) compares it with the ARC test suite's expected results. With --seal-input,
 * each ready chain is followed by one line per seal, "seal<TAB>I<TAB>D<TAB>S<TAB>A<TAB>B<TAB>HEX":
 * the seal's instance, d=, s=, a=, b= (white space removed) and, in hex, the bytes
 * filter/arc/arc_canon.c says that seal signs, for the runner to verify with python3-dkim.
 *
 *   arc-structure [--seal-input] FILE... */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_canon.h"
#include "arc_set.h"
#include "message_file.h"
#include "util.h"

static void print_seal_inputs(const struct arc_chain *chain, const struct header_field *fields)
{
    for (unsigned i = 1; i <= chain->count; i++) {
        const struct arc_tags *seal = &chain->set[i - 1].seal;
        struct textbuf input;
        textbuf_init(&input);
        arc_canon_seal_input(chain, fields, i, &input);
        char *b = arc_tags_strip_space(arc_tags_get(seal, "b"));
        printf("seal\t%u\t%s\t%s\t%s\t%s\t", i, arc_tags_get(seal, "d"), arc_tags_get(seal, "s"),
            arc_tags_get(seal, "a"), b);
        for (size_t k = 0; k < input.len; k++)
            printf("%02x", (unsigned char)input.data[k]);
        printf("\n");
        free(b);
        textbuf_free(&input);
    }
}

static int judge(const char *path, bool seal_input)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "arc-structure: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct message msg;
    int rc = message_read(fp, &msg);
    fclose(fp);
    if (rc != 0) {
        fprintf(stderr, "arc-structure: %s: cannot read the message\n", path);
        return -1;
    }
    struct header_field *fields = xcalloc(msg.header_count + 1, sizeof *fields);
    for (size_t i = 0; i < msg.header_count; i++) {
        fields[i].name = msg.headers[i].name;
        fields[i].value = msg.headers[i].value;
    }
    struct arc_chain chain;
    arc_chain_collect(fields, msg.header_count, &chain);
    unsigned n = chain.state == ARC_CHAIN_READY ? chain.count : chain.bad_instance;
    printf("%s\t%s\t%u\t%s\n", path, arc_chain_state_name(chain.state), n,
        chain.state == ARC_CHAIN_INVALID ? chain.reason : "");
    if (seal_input && chain.state == ARC_CHAIN_READY)
        print_seal_inputs(&chain, fields);
    arc_chain_free(&chain);
    free(fields);
    message_free(&msg);
    return 0;
}

int main(int argc, char **argv)
{
    int first = 1;
    bool seal_input = false;
    if (argc > 1 && strcmp(argv[1], "--seal-input") == 0) {
        seal_input = true;
        first = 2;
    }
    if (argc <= first) {
        fprintf(stderr, "usage: arc-structure [--seal-input] FILE...\n");
        return 2;
    }
    int status = 0;
    for (int i = first; i < argc; i++) {
        if (judge(argv[i], seal_input) != 0)
            status = 1;
    }
    return status;
}
