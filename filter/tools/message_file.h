/* message_file.h - reads an RFC 5322 message from a file or stdin the way an MTA hands it to a
 * milter: header fields (name, value with folding kept, leading space dropped) and the body
 * with CRLF line ends. Malformed input (NUL bytes, bare LF, a line that is no header) is read,
 * never refused: the first line that is not a header field starts the body. */
#ifndef MW_MESSAGE_FILE_H
#define MW_MESSAGE_FILE_H

#include <stddef.h>
#include <stdio.h>

struct message_header {
    char *name;
    char *value;
};

struct message {
    struct message_header *headers;
    size_t header_count;
    unsigned char *body;
    size_t body_len;
};

/* Returns 0, or -1 with errno set when the file cannot be read. */
int message_read(FILE *fp, struct message *msg);
void message_free(struct message *msg);

#endif
