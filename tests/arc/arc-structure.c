/* arc-structure.c - reads message files as an MTA hands them to the milter
 * (filter/tools/message_file.c) and prints, for each, the structural verdict of
 * filter/arc/arc_set.c: "FILE<TAB>STATE<TAB>N<TAB>REASON", STATE none, invalid or ready, N the
 * instance at fault (invalid) or the number of sets (ready). The suite runner
 * (test-arc-suite.py) compares it with the ARC test suite's expected results.
 *
 *   arc-structure FILE... */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_set.h"
#include "message_file.h"
#include "util.h"

static int judge(const char *path)
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
    arc_chain_free(&chain);
    free(fields);
    message_free(&msg);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: arc-structure FILE...\n");
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        if (judge(argv[i]) != 0)
            status = 1;
    }
    return status;
}
