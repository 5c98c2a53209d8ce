/* learn_main.c - mailwarden-learn: teaches the Bayes databases of the policy's `bayes`
 * section (the store it names) what is spam and what is ham, or takes a message back:
 *     mailwarden-learn [-c FILE] [--user ADDR] --spam|--ham|--forget FILE|DIR|MBOX...
 *     mailwarden-learn [-c FILE] [--user ADDR] --expire | --stats
 *     mailwarden-learn [-c FILE] --tokens FILE...    (prints each message's tokens)
 * A FILE is one message, or an mbox when it starts with "From "; a DIR is read file by file
 * (a Maildir's cur/ and new/ too). Messages are tokenized as the daemon tokenizes them, so
 * what is learnt here is what the daemon classifies with. Exit 0 when every message was
 * handled (learnt, or already learnt), 1 when one could not be read or the store failed,
 * 64 on a usage error, 78 when the policy cannot be used. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bayes_classify.h"
#include "bayes_db.h"
#include "bayes_policy.h"
#include "bayes_relays.h"
#include "bayes_view.h"
#include "config.h"
#include "config_errors.h"
#include "config_load.h"
#include "header.h"
#include "log.h"
#include "message_file.h"
#include "message_view.h"
#include "rules.h"
#include "spam_config.h"
#include "store.h"
#include "util.h"

#define DEFAULT_CONFIG SYSCONFDIR "/mailwarden/mailwarden.conf"

enum learn_mode { MODE_NONE, MODE_SPAM, MODE_HAM, MODE_FORGET, MODE_EXPIRE, MODE_STATS, MODE_TOKENS };

struct learn_run {
    enum learn_mode mode;
    struct bayes_db db;
    const struct config *cfg;
    unsigned learnt, already, forgotten, not_learnt, failed;
};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: mailwarden-learn [-c FILE] [--user ADDR] --spam|--ham|--forget FILE|DIR|MBOX...\n"
        "       mailwarden-learn [-c FILE] [--user ADDR] --expire|--stats\n"
        "       mailwarden-learn [-c FILE] --tokens FILE|DIR|MBOX...\n"
        "exit status: 0 done, 1 a message or the store failed, 64 usage, 78 policy error\n");
}

static void print_error_line(const char *line, void *arg)
{
    fprintf((FILE *)arg, "mailwarden-learn: %s\n", line);
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One message's text: tokenized as the daemon does, then learnt or forgotten. */
static void handle_message(struct learn_run *run, const char *origin, FILE *fp)
{
    struct message msg;
    if (message_read(fp, &msg) != 0) {
        fprintf(stderr, "mailwarden-learn: cannot read %s: %s\n", origin, strerror(errno));
        run->failed++;
        return;
    }
    struct header_field *fields = xcalloc(msg.header_count + 1, sizeof *fields);
    for (size_t i = 0; i < msg.header_count; i++) {
        fields[i].name = msg.headers[i].name;
        fields[i].value = msg.headers[i].value;
    }
    struct message_source src = {
        .headers = fields, .header_count = msg.header_count,
        .body = (const char *)msg.body, .body_len = msg.body_len,
        .max_scan_bytes = run->cfg->spam != NULL ? run->cfg->spam->max_scan_bytes
            : SPAM_DEFAULT_MAX_SCAN_BYTES,
    };
    struct message_view *view = message_view_build(&src);
    struct rules_limits limits;
    rules_limits_default(&limits);
    size_t cap = run->cfg->rules != NULL ? run->cfg->rules->limits.header_bytes
        : limits.header_bytes;
    struct bayes_tokens tokens = { 0 };
    struct bayes_relay_info relays;
    bayes_relays_of_headers(run->cfg, fields, msg.header_count, &relays);
    bayes_tokenize_view(view, fields, msg.header_count, cap, &relays.meta, &tokens);
    bayes_relays_free(&relays);
    if (run->mode == MODE_TOKENS) {
        printf("# %s: %zu tokens\n", origin, tokens.count);
        char **texts = xcalloc(tokens.count + 1, sizeof *texts);
        for (size_t i = 0; i < tokens.count; i++)
            texts[i] = tokens.items[i].text;
        qsort(texts, tokens.count, sizeof *texts, by_text);
        for (size_t i = 0; i < tokens.count; i++)
            printf("%s\n", texts[i]);
        free(texts);
        bayes_tokens_free(&tokens);
        message_view_free(view);
        free(fields);
        message_free(&msg);
        return;
    }
    enum bayes_learn_outcome outcome = BAYES_NOT_LEARNT;
    enum store_status st = run->mode == MODE_FORGET
        ? bayes_db_forget(&run->db, &tokens, &outcome)
        : bayes_db_learn(&run->db, &tokens, run->mode == MODE_SPAM, &outcome);
    if (st != STORE_OK) {
        fprintf(stderr, "mailwarden-learn: %s: the store %s failed\n", origin,
            store_describe(run->db.store));
        run->failed++;
    } else if (outcome == BAYES_ALREADY_LEARNT) {
        run->already++;
    } else if (outcome == BAYES_FORGOTTEN) {
        run->forgotten++;
    } else if (outcome == BAYES_NOT_LEARNT) {
        run->not_learnt++;
    } else {
        run->learnt++;
    }
    bayes_tokens_free(&tokens);
    message_view_free(view);
    free(fields);
    message_free(&msg);
}

/* An mbox: messages start at lines "From " (the first line, or after a line end); the
 * separator line itself is not part of the message; ">From " quoting is left as it is. */
static void handle_mbox(struct learn_run *run, const char *path, char *text, size_t len)
{
    size_t start = 0;
    unsigned n = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t body = nl != NULL ? (size_t)(nl - text) + 1 : len;   /* after the From line */
        size_t end = body;
        while (end < len) {
            if (strncmp(text + end, "From ", 5) == 0 && end > 0 && text[end - 1] == '\n')
                break;
            const char *next = memchr(text + end, '\n', len - end);
            end = next != NULL ? (size_t)(next - text) + 1 : len;
        }
        char origin[4200];
        snprintf(origin, sizeof origin, "%s (message %u)", path, ++n);
        FILE *fp = fmemopen(text + body, end - body > 0 ? end - body : 1, "rb");
        if (fp == NULL) {
            run->failed++;
        } else {
            handle_message(run, origin, fp);
            fclose(fp);
        }
        start = end;
    }
}

static void handle_file(struct learn_run *run, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "mailwarden-learn: cannot open %s: %s\n", path, strerror(errno));
        run->failed++;
        return;
    }
    char head[5];
    size_t got = fread(head, 1, sizeof head, fp);
    if (got == 5 && memcmp(head, "From ", 5) == 0) {
        size_t cap = 1 << 20, len = 0;
        char *text = xmalloc(cap);
        rewind(fp);
        size_t r;
        while ((r = fread(text + len, 1, cap - len, fp)) > 0) {
            len += r;
            if (len == cap) {
                cap *= 2;
                text = xrealloc(text, cap);
            }
        }
        fclose(fp);
        handle_mbox(run, path, text, len);
        free(text);
        return;
    }
    rewind(fp);
    handle_message(run, path, fp);
    fclose(fp);
}

static void handle_path(struct learn_run *run, const char *path, int depth);

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void handle_dir(struct learn_run *run, const char *path, int depth)
{
    struct dirent **entries = NULL;
    int n = scandir(path, &entries, NULL, by_name);
    if (n < 0) {
        fprintf(stderr, "mailwarden-learn: cannot read the directory %s: %s\n", path,
            strerror(errno));
        run->failed++;
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = entries[i]->d_name;
        if (name[0] != '.') {
            char *child = xasprintf("%s/%s", path, name);
            handle_path(run, child, depth + 1);
            free(child);
        }
        free(entries[i]);
    }
    free(entries);
}

static void handle_path(struct learn_run *run, const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "mailwarden-learn: %s: %s\n", path, strerror(errno));
        run->failed++;
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth < 2)                   /* DIR, and a Maildir's cur/ and new/ */
            handle_dir(run, path, depth);
        return;
    }
    if (S_ISREG(st.st_mode))
        handle_file(run, path);
}

static int stats(const struct bayes_db *db, const char *name)
{
    int64_t ns = 0, nh = 0;
    uint64_t tokens = 0;
    if (bayes_db_message_counts(db, &ns, &nh) != STORE_OK
        || bayes_db_expire(db, 0, &tokens, NULL) != STORE_OK) {
        fprintf(stderr, "mailwarden-learn: the store %s failed\n", store_describe(db->store));
        return 1;
    }
    printf("database %s: %lld spam, %lld ham, %llu tokens\n", name, (long long)ns,
        (long long)nh, (unsigned long long)tokens);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_file = DEFAULT_CONFIG, *user = NULL;
    enum learn_mode mode = MODE_NONE;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"spam", no_argument, NULL, 's'},
        {"ham", no_argument, NULL, 'H'},
        {"forget", no_argument, NULL, 'f'},
        {"expire", no_argument, NULL, 'e'},
        {"stats", no_argument, NULL, 'S'},
        {"tokens", no_argument, NULL, 'T'},
        {"user", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:u:h", longopts, NULL)) != -1) {
        enum learn_mode chosen = MODE_NONE;
        switch (opt) {
        case 'c': config_file = optarg; continue;
        case 'u': user = optarg; continue;
        case 's': chosen = MODE_SPAM; break;
        case 'H': chosen = MODE_HAM; break;
        case 'f': chosen = MODE_FORGET; break;
        case 'e': chosen = MODE_EXPIRE; break;
        case 'S': chosen = MODE_STATS; break;
        case 'T': chosen = MODE_TOKENS; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
        if (mode != MODE_NONE && mode != chosen) {
            fprintf(stderr, "mailwarden-learn: give one of --spam, --ham, --forget, --expire, "
                "--stats, --tokens\n");
            return 64;
        }
        mode = chosen;
    }
    bool takes_files = mode == MODE_SPAM || mode == MODE_HAM || mode == MODE_FORGET
        || mode == MODE_TOKENS;
    if (mode == MODE_NONE || (takes_files && optind >= argc) || (!takes_files && optind < argc)) {
        usage(stderr);
        return 64;
    }
    log_open("mailwarden-learn", LOG_MAIL, true, false);
    log_set_level(LOG_WARNING);
    struct config_errors errs = {0};
    struct config *cfg = config_load(config_file, &errs);
    if (cfg == NULL) {
        config_errors_print(&errs, print_error_line, stderr);
        config_errors_free(&errs);
        return 78;
    }
    const struct bayes_policy *p = cfg->bayes;
    if (p == NULL || p->store == NULL) {
        fprintf(stderr, "mailwarden-learn: %s has no usable bayes.store\n", config_file);
        config_free(cfg);
        return 78;
    }
    if (!p->enabled)
        fprintf(stderr, "mailwarden-learn: note: bayes.enabled is false in %s: the daemon "
            "does not classify with what is learnt here until it is true\n", config_file);
    if (user != NULL && !p->per_user)
        fprintf(stderr, "mailwarden-learn: note: --user %s, but bayes.database is \"global\": "
            "the daemon reads only the global database\n", user);
    const char *name = user != NULL ? user : BAYES_GLOBAL_DB;
    struct learn_run run = { .mode = mode, .cfg = cfg };
    if (!bayes_db_init(&run.db, p->store, name, p->token_ttl_ms, p->seen_ttl_ms)) {
        fprintf(stderr, "mailwarden-learn: --user \"%s\" cannot name a database (empty, too "
            "long or a control character)\n", name);
        config_free(cfg);
        return 64;
    }
    int status = 0;
    if (mode == MODE_STATS) {
        status = stats(&run.db, name);
    } else if (mode == MODE_EXPIRE) {
        uint64_t kept = 0, removed = 0;
        if (bayes_db_expire(&run.db, p->max_tokens, &kept, &removed) != STORE_OK) {
            fprintf(stderr, "mailwarden-learn: the store %s failed\n", store_describe(p->store));
            status = 1;
        } else {
            printf("database %s: %llu tokens removed, %llu kept (bayes.max_tokens %llu)\n", name,
                (unsigned long long)removed, (unsigned long long)kept,
                (unsigned long long)p->max_tokens);
        }
    } else {
        for (int i = optind; i < argc; i++)
            handle_path(&run, argv[i], 0);
        if (mode == MODE_TOKENS)
            ;
        else if (mode == MODE_FORGET)
            printf("database %s: %u forgotten, %u never learnt, %u failed\n", name,
                run.forgotten, run.not_learnt, run.failed);
        else
            printf("database %s: %u learnt as %s, %u already learnt, %u failed\n", name,
                run.learnt, mode == MODE_SPAM ? "spam" : "ham", run.already, run.failed);
        status = run.failed > 0 ? 1 : 0;
    }
    config_free(cfg);
    store_close_all();
    return status;
}
