/* msgset.h - the messages the load generator sends, read once before the run: headers split
 * into name and value (folded lines kept, joined with "\n" as Postfix hands them to a milter),
 * and the body with CRLF line ends, as an MTA sends it. */
#ifndef MW_BENCH_MSGSET_H
#define MW_BENCH_MSGSET_H

#include <stdbool.h>
#include <stddef.h>

struct msg_header {
    char *name;
    char *value;
};

struct message {
    char *path;
    struct msg_header *headers;
    size_t header_count;
    unsigned char *body;
    size_t body_len;
};

struct msgset {
    struct message *messages;
    size_t count;
};

/* Folded header lines are joined with "\n" (Postfix, Sendmail) unless this is set before
 * messages are added: then with "\r\n". */
extern bool msgset_header_crlf;

/* Adds a file, or every regular file of a directory (sorted by name). Prints the reason and
 * returns false on an unreadable file or a file without a header. */
bool msgset_add(struct msgset *set, const char *path);
/* A built-in message of about `size` bytes, for runs without files. */
void msgset_add_generated(struct msgset *set, size_t size);
void msgset_free(struct msgset *set);

#endif
