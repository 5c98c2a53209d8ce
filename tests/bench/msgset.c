/* msgset.c - reads message files for the load generator (see msgset.h). Accepts LF or CRLF
 * files and skips an mbox "From " line; a message is split at its first empty line. */
#include "msgset.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool msgset_header_crlf;

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (q == NULL) {
        perror("mwload: realloc");
        exit(2);
    }
    return q;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = xrealloc(NULL, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "mwload: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *data = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (size + 65536 > cap) {
            cap = cap ? cap * 2 : 131072;
            data = xrealloc(data, cap);
        }
        size_t got = fread(data + size, 1, cap - size - 1, f);
        size += got;
        if (got == 0)
            break;
    }
    fclose(f);
    data[size] = '\0';
    *len = size;
    return data;
}

/* The end of the line starting at p (pointing at '\n' or end), and the start of the next. */
static const char *line_end(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *next = nl ? nl + 1 : end;
    const char *e = nl ? nl : end;
    if (e > p && e[-1] == '\r')
        e--;
    return e;
}

static void add_header(struct message *m, const char *start, const char *stop)
{
    const char *colon = memchr(start, ':', (size_t)(stop - start));
    if (colon == NULL)
        return; /* not a header field: an MTA would end the header here; we drop it */
    m->headers = xrealloc(m->headers, (m->header_count + 1) * sizeof *m->headers);
    struct msg_header *h = &m->headers[m->header_count++];
    h->name = xstrndup(start, (size_t)(colon - start));
    /* the value keeps its folding, with "\n" (or "\r\n") between lines */
    size_t cap = 2 * (size_t)(stop - colon);
    char *v = xrealloc(NULL, cap + 1);
    size_t o = 0;
    for (const char *p = colon + 1; p < stop; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n' && msgset_header_crlf)
            v[o++] = '\r';
        v[o++] = *p;
    }
    v[o] = '\0';
    h->value = v;
}

static void set_body(struct message *m, const char *p, const char *end)
{
    size_t cap = 2 * (size_t)(end - p) + 2;
    unsigned char *b = xrealloc(NULL, cap);
    size_t o = 0;
    for (; p < end; p++) {
        if (*p == '\n' && (o == 0 || b[o - 1] != '\r'))
            b[o++] = '\r';
        b[o++] = (unsigned char)*p;
    }
    m->body = b;
    m->body_len = o;
}

static bool parse_message(struct message *m, const char *data, size_t len)
{
    const char *p = data, *end = data + len, *next;
    if (len >= 5 && memcmp(p, "From ", 5) == 0)
        line_end(p, end, &p);
    const char *field = NULL, *field_end = NULL;
    while (p < end) {
        const char *e = line_end(p, end, &next);
        if (e == p) { /* the empty line */
            p = next;
            break;
        }
        if ((*p == ' ' || *p == '\t') && field != NULL) {
            field_end = e;
        } else {
            if (field != NULL)
                add_header(m, field, field_end);
            field = p;
            field_end = e;
        }
        p = next;
    }
    if (field != NULL)
        add_header(m, field, field_end);
    set_body(m, p, end);
    return m->header_count > 0;
}

static bool add_file(struct msgset *set, const char *path)
{
    size_t len;
    char *data = read_file(path, &len);
    if (data == NULL)
        return false;
    struct message m = { .path = xstrndup(path, strlen(path)) };
    bool ok = parse_message(&m, data, len);
    free(data);
    if (!ok) {
        fprintf(stderr, "mwload: %s: no header fields; not a message\n", path);
        return false;
    }
    set->messages = xrealloc(set->messages, (set->count + 1) * sizeof *set->messages);
    set->messages[set->count++] = m;
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool add_directory(struct msgset *set, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "mwload: %s: %s\n", dir, strerror(errno));
        return false;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        size_t size = strlen(dir) + strlen(de->d_name) + 2;
        char *full = xrealloc(NULL, size);
        snprintf(full, size, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(full);
            continue;
        }
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = full;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    bool ok = n > 0;
    if (n == 0)
        fprintf(stderr, "mwload: %s: no message files in the directory\n", dir);
    for (size_t i = 0; i < n; i++) {
        ok = ok && add_file(set, names[i]);
        free(names[i]);
    }
    free(names);
    return ok;
}

bool msgset_add(struct msgset *set, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "mwload: %s: %s\n", path, strerror(errno));
        return false;
    }
    return S_ISDIR(st.st_mode) ? add_directory(set, path) : add_file(set, path);
}

void msgset_add_generated(struct msgset *set, size_t size)
{
    const char *head =
        "From: Bench Sender <sender@example.com>\n"
        "To: Bench Recipient <rcpt@example.net>\n"
        "Subject: mwload generated message\n"
        "Date: Sun, 22 Nov 2026 06:00:00 +0000\n"
        "Message-ID: <mwload-generated@example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "\n";
    size_t hlen = strlen(head);
    size_t total = size > hlen + 2 ? size : hlen + 2;
    char *data = xrealloc(NULL, total + 1);
    memcpy(data, head, hlen);
    const char *line = "The quick brown fox jumps over the lazy dog, line of the bench body.\n";
    size_t llen = strlen(line), o = hlen;
    while (o + llen <= total) {
        memcpy(data + o, line, llen);
        o += llen;
    }
    data[o] = '\0';
    struct message m = { .path = xstrndup("(generated)", 11) };
    parse_message(&m, data, o);
    free(data);
    set->messages = xrealloc(set->messages, (set->count + 1) * sizeof *set->messages);
    set->messages[set->count++] = m;
}

void msgset_free(struct msgset *set)
{
    for (size_t i = 0; i < set->count; i++) {
        struct message *m = &set->messages[i];
        for (size_t h = 0; h < m->header_count; h++) {
            free(m->headers[h].name);
            free(m->headers[h].value);
        }
        free(m->headers);
        free(m->body);
        free(m->path);
    }
    free(set->messages);
    set->messages = NULL;
    set->count = 0;
}
