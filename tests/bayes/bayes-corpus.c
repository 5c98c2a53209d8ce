/* bayes-corpus.c - writes crafted messages (tests/unit/bayes_corpus.c) as files, for the
 * mailwarden-learn and Postfix tests:  bayes-corpus spam|ham FROM COUNT DIR  writes
 * DIR/<class>-<seed>.eml for seeds FROM .. FROM+COUNT-1, CRLF line ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayes_corpus.h"

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "spam") != 0 && strcmp(argv[1], "ham") != 0)) {
        fprintf(stderr, "usage: bayes-corpus spam|ham FROM COUNT DIR\n");
        return 64;
    }
    bool spam = strcmp(argv[1], "spam") == 0;
    unsigned from = (unsigned)strtoul(argv[2], NULL, 10), count = (unsigned)strtoul(argv[3], NULL, 10);
    static struct corpus_message m;
    static char text[32768], crlf[65536];
    for (unsigned i = from; i < from + count; i++) {
        corpus_make(&m, spam, i);
        int n = corpus_format(&m, text, sizeof text);
        size_t k = 0;
        for (int j = 0; j < n && k + 2 < sizeof crlf; j++) {
            if (text[j] == '\n' && (j == 0 || text[j - 1] != '\r'))
                crlf[k++] = '\r';
            crlf[k++] = text[j];
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s-%u.eml", argv[4], argv[1], i);
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(crlf, 1, k, f) != k || fclose(f) != 0) {
            perror(path);
            return 1;
        }
    }
    return 0;
}
