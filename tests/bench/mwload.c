/* mwload.c - a milter load generator: plays the MTA for any milter (mailwarden, opendkim, ...)
 * over a unix socket or TCP, with N concurrent connections each sending M messages, and
 * reports throughput, latency percentiles and what the filter answered: verdict counts,
 * quarantines, and every modification action by kind, headers added by name. A message's
 * latency runs from its first command (for a connection's first message: the connect, the
 * negotiation, CONNECT and HELO) to the filter's final answer.
 * The last line of the report is machine-readable: "RESULT key=value ...".
 * Exit status: 0 when every message got an answer, 1 when some hit a protocol or socket
 * error, 2 on bad usage. */
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "milter_proto.h"

#include "milter_client.h"
#include "msgset.h"

#define MAX_RANGES 16
#define MAX_RCPTS 16
#define MAX_NAMES 32

static const char *usage_text =
    "usage: mwload -s SOCKET [options]\n"
    "  -s, --socket SPEC        unix:PATH | inet:PORT@ADDRESS | inet6:PORT@ADDRESS\n"
    "  -c, --concurrency N      parallel connections (default 1)\n"
    "  -m, --per-connection N   messages per connection (default 1)\n"
    "  -n, --messages N         total messages (default 1000 unless --duration)\n"
    "  -d, --duration SECONDS   run for this long (with -n: whichever ends first)\n"
    "  -f, --file PATH          message file or directory (repeatable; default: generated)\n"
    "      --size BYTES         size of the generated message (default 2048)\n"
    "      --header-crlf        join folded header lines with CRLF (default LF, as Postfix\n"
    "                           and Sendmail send them; give it before -f)\n"
    "  -a, --client RANGE       client address, A.B.C.D[/NN] or A.B.C.D-E.F.G.H or an IPv6\n"
    "                           address (repeatable; connections take them in turn;\n"
    "                           default 192.0.2.1)\n"
    "      --client-name NAME   client host name (default client.example.net)\n"
    "      --helo NAME          HELO name (default client.example.net)\n"
    "  -u, --sasl-user USER     set {auth_authen} (and {auth_type}=PLAIN) at MAIL\n"
    "  -F, --from ADDRESS       envelope sender (default sender@example.com)\n"
    "  -R, --rcpt ADDRESS       envelope recipient (repeatable; default rcpt@example.net)\n"
    "  -T, --timeout SECONDS    per read/write (default 30)\n"
    "  -D, --dump-first         print the first message's answer and modifications\n"
    "  -q, --quiet              only the RESULT line\n";

struct range {
    uint32_t first, count; /* IPv4 host order */
    char v6[64];           /* or one IPv6 address */
};

struct options {
    const char *socket;
    unsigned concurrency, per_connection;
    uint64_t total;
    double duration;
    struct range ranges[MAX_RANGES];
    unsigned range_count;
    const char *client_name, *helo, *sasl_user, *from;
    const char *rcpts[MAX_RCPTS];
    unsigned rcpt_count;
    int timeout_ms;
    bool dump_first, quiet;
    size_t generated_size;
};

/* What one thread saw; merged at the end. */
struct tally {
    uint64_t verdicts[MC_VERDICTS];
    uint64_t quarantined, done, progress, mods_by_op[128];
    uint64_t header_counts[MAX_NAMES];
    char header_names[MAX_NAMES][64];
    unsigned header_kinds;
    uint64_t setsymlist;
    uint32_t version, actions, steps; /* the filter's negotiation answer (the last seen) */
    double *latency_ms;
    size_t latency_count, latency_cap;
};

static struct options opt;
static struct msgset messages;
static atomic_uint_fast64_t next_message;
static atomic_uint_fast64_t next_client;
static atomic_int errors_printed;
static double deadline;
static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage_error(const char *what)
{
    fprintf(stderr, "mwload: %s\n%s", what, usage_text);
    exit(2);
}

static unsigned long parse_number(const char *text, const char *option)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || end == text) {
        fprintf(stderr, "mwload: %s: \"%s\" is not a number\n", option, text);
        exit(2);
    }
    return v;
}

static void parse_range(const char *text)
{
    if (opt.range_count == MAX_RANGES)
        usage_error("too many --client ranges");
    struct range *r = &opt.ranges[opt.range_count++];
    struct in6_addr a6;
    if (strchr(text, ':') && inet_pton(AF_INET6, text, &a6) == 1) {
        snprintf(r->v6, sizeof r->v6, "%s", text);
        r->count = 1;
        return;
    }
    char first[64], second[64] = "";
    const char *sep = strpbrk(text, "/-");
    size_t flen = sep ? (size_t)(sep - text) : strlen(text);
    if (flen >= sizeof first)
        usage_error("client range too long");
    memcpy(first, text, flen);
    first[flen] = '\0';
    if (sep)
        snprintf(second, sizeof second, "%s", sep + 1);
    struct in_addr a, b;
    if (inet_pton(AF_INET, first, &a) != 1)
        usage_error("--client: expected A.B.C.D[/NN], A.B.C.D-E.F.G.H or an IPv6 address");
    r->first = ntohl(a.s_addr);
    r->count = 1;
    if (sep && *sep == '/') {
        unsigned long bits = parse_number(second, "--client prefix");
        if (bits < 8 || bits > 32)
            usage_error("--client: prefix length must be 8..32");
        uint32_t size = bits == 32 ? 1 : (uint32_t)1 << (32 - bits);
        r->first &= ~(size - 1);
        /* skip the network and broadcast addresses of real subnets */
        r->count = size > 2 ? size - 2 : size;
        r->first += size > 2 ? 1 : 0;
    } else if (sep) {
        if (inet_pton(AF_INET, second, &b) != 1 || ntohl(b.s_addr) < r->first)
            usage_error("--client: range end must be an address not below the start");
        r->count = ntohl(b.s_addr) - r->first + 1;
    }
}

static void parse_options(int argc, char **argv)
{
    static const struct option longs[] = {
        { "socket", required_argument, NULL, 's' },
        { "concurrency", required_argument, NULL, 'c' },
        { "per-connection", required_argument, NULL, 'm' },
        { "messages", required_argument, NULL, 'n' },
        { "duration", required_argument, NULL, 'd' },
        { "file", required_argument, NULL, 'f' },
        { "size", required_argument, NULL, 'S' },
        { "header-crlf", no_argument, NULL, 'C' },
        { "client", required_argument, NULL, 'a' },
        { "client-name", required_argument, NULL, 'N' },
        { "helo", required_argument, NULL, 'H' },
        { "sasl-user", required_argument, NULL, 'u' },
        { "from", required_argument, NULL, 'F' },
        { "rcpt", required_argument, NULL, 'R' },
        { "timeout", required_argument, NULL, 'T' },
        { "dump-first", no_argument, NULL, 'D' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    opt = (struct options){ .concurrency = 1, .per_connection = 1, .client_name = "client.example.net",
        .helo = "client.example.net", .from = "sender@example.com", .timeout_ms = 30000,
        .generated_size = 2048 };
    int c;
    while ((c = getopt_long(argc, argv, "s:c:m:n:d:f:a:u:F:R:T:Dqh", longs, NULL)) != -1) {
        switch (c) {
        case 's': opt.socket = optarg; break;
        case 'c': opt.concurrency = (unsigned)parse_number(optarg, "--concurrency"); break;
        case 'm': opt.per_connection = (unsigned)parse_number(optarg, "--per-connection"); break;
        case 'n': opt.total = parse_number(optarg, "--messages"); break;
        case 'd': opt.duration = (double)parse_number(optarg, "--duration"); break;
        case 'f':
            if (!msgset_add(&messages, optarg))
                exit(2);
            break;
        case 'C': msgset_header_crlf = true; break;
        case 'S': opt.generated_size = parse_number(optarg, "--size"); break;
        case 'a': parse_range(optarg); break;
        case 'N': opt.client_name = optarg; break;
        case 'H': opt.helo = optarg; break;
        case 'u': opt.sasl_user = optarg; break;
        case 'F': opt.from = optarg; break;
        case 'R':
            if (opt.rcpt_count == MAX_RCPTS)
                usage_error("too many --rcpt");
            opt.rcpts[opt.rcpt_count++] = optarg;
            break;
        case 'T': opt.timeout_ms = (int)parse_number(optarg, "--timeout") * 1000; break;
        case 'D': opt.dump_first = true; break;
        case 'q': opt.quiet = true; break;
        case 'h': fputs(usage_text, stdout); exit(0);
        default: usage_error("unknown option");
        }
    }
    if (optind != argc)
        usage_error("unexpected argument");
    if (opt.socket == NULL)
        usage_error("--socket is required");
    if (opt.concurrency < 1 || opt.concurrency > 4096 || opt.per_connection < 1)
        usage_error("--concurrency must be 1..4096 and --per-connection at least 1");
    if (opt.total == 0 && opt.duration == 0)
        opt.total = 1000;
    if (opt.range_count == 0)
        parse_range("192.0.2.1");
    if (opt.rcpt_count == 0)
        opt.rcpts[opt.rcpt_count++] = "rcpt@example.net";
    if (messages.count == 0)
        msgset_add_generated(&messages, opt.generated_size);
}

/* --- the workload --- */

static void client_address(char *out, size_t size)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < opt.range_count; i++)
        total += opt.ranges[i].count;
    uint64_t n = atomic_fetch_add(&next_client, 1) % total;
    for (unsigned i = 0; i < opt.range_count; i++) {
        const struct range *r = &opt.ranges[i];
        if (n >= r->count) {
            n -= r->count;
            continue;
        }
        if (r->v6[0]) {
            snprintf(out, size, "%s", r->v6);
        } else {
            struct in_addr a = { .s_addr = htonl(r->first + (uint32_t)n) };
            inet_ntop(AF_INET, &a, out, (socklen_t)size);
        }
        return;
    }
}

/* Claims the next message number, or returns false when the run is over. */
static bool claim_message(uint64_t *id)
{
    if (opt.duration > 0 && now_s() >= deadline)
        return false;
    uint64_t n = atomic_fetch_add(&next_message, 1);
    if (opt.total > 0 && n >= opt.total)
        return false;
    *id = n;
    return true;
}

static void note_error(const struct milter_client *mc, const char *stage)
{
    if (atomic_fetch_add(&errors_printed, 1) < 5)
        fprintf(stderr, "mwload: %s: %s\n", stage, mc->error);
}

static void add_latency(struct tally *t, double ms)
{
    if (t->latency_count == t->latency_cap) {
        t->latency_cap = t->latency_cap ? t->latency_cap * 2 : 1024;
        t->latency_ms = realloc(t->latency_ms, t->latency_cap * sizeof *t->latency_ms);
        if (t->latency_ms == NULL) {
            perror("mwload: realloc");
            exit(2);
        }
    }
    t->latency_ms[t->latency_count++] = ms;
}

static void count_header(struct tally *t, const char *name)
{
    unsigned i;
    for (i = 0; i < t->header_kinds; i++)
        if (strcasecmp(t->header_names[i], name) == 0)
            break;
    if (i == t->header_kinds) {
        if (t->header_kinds == MAX_NAMES)
            return;
        snprintf(t->header_names[i], sizeof t->header_names[i], "%s", name);
        t->header_kinds++;
    }
    t->header_counts[i]++;
}

static const char *mod_name(char op)
{
    switch (op) {
    case MILTER_REPLY_ADDHEADER: return "addheader";
    case MILTER_REPLY_INSHEADER: return "insheader";
    case MILTER_REPLY_CHGHEADER: return "chgheader";
    case MILTER_REPLY_REPLBODY: return "replbody";
    case MILTER_REPLY_ADDRCPT: return "addrcpt";
    case MILTER_REPLY_ADDRCPT_PAR: return "addrcpt_par";
    case MILTER_REPLY_DELRCPT: return "delrcpt";
    case MILTER_REPLY_CHGFROM: return "chgfrom";
    case MILTER_REPLY_QUARANTINE: return "quarantine";
    default: return "?";
    }
}

/* A value on one line: CR and LF of folded headers shown as \\r and \\n. */
static void one_line(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (; *in && o + 3 < size; in++) {
        if (*in == '\r' || *in == '\n') {
            out[o++] = '\\';
            out[o++] = *in == '\r' ? 'r' : 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

static void dump_result(uint64_t id, const struct message *m, enum mc_verdict v,
    const struct mc_result *r)
{
    pthread_mutex_lock(&dump_lock);
    printf("first message (#%llu, %s): %s%s%s%s\n", (unsigned long long)id, m->path,
        mc_verdict_name(v), r->reply[0] ? " \"" : "", r->reply, r->reply[0] ? "\"" : "");
    size_t shown = r->mod_count < MC_MAX_MODS ? r->mod_count : MC_MAX_MODS;
    for (size_t i = 0; i < shown; i++) {
        const struct mc_mod *mod = &r->mods[i];
        char value[2 * sizeof mod->value];
        one_line(mod->value, value, sizeof value);
        if (mod->op == MILTER_REPLY_REPLBODY)
            printf("  replbody %zu bytes\n", mod->length);
        else if (mod->op == MILTER_REPLY_INSHEADER || mod->op == MILTER_REPLY_CHGHEADER)
            printf("  %s %u %s: %s\n", mod_name(mod->op), mod->index, mod->name, value);
        else if (mod->op == MILTER_REPLY_ADDHEADER)
            printf("  addheader %s: %s\n", mod->name, value);
        else
            printf("  %s %s%s%s\n", mod_name(mod->op), mod->name, value[0] ? " " : "", value);
    }
    if (r->mod_count > shown)
        printf("  ... %zu more\n", r->mod_count - shown);
    fflush(stdout);
    pthread_mutex_unlock(&dump_lock);
}

/* Sends one message's transaction from MAIL to end of message; returns its verdict. */
static enum mc_verdict send_transaction(struct milter_client *mc, const struct message *m,
    const char *qid, struct mc_result *r, bool *reached_eom)
{
    const struct mc_macro mail_macros[] = {
        { "i", qid },
        { "{auth_type}", opt.sasl_user ? "PLAIN" : NULL },
        { "{auth_authen}", opt.sasl_user },
        { "{mail_addr}", opt.from },
        { "{mail_mailer}", "esmtp" },
    };
    enum mc_verdict v = mc_mail(mc, opt.from, mail_macros, 5, r);
    if (v != MC_CONTINUE)
        return v;
    unsigned refused = 0;
    enum mc_verdict refusal = MC_CONTINUE;
    for (unsigned i = 0; i < opt.rcpt_count; i++) {
        const struct mc_macro rcpt_macros[] = {
            { "i", qid }, { "{rcpt_addr}", opt.rcpts[i] }, { "{rcpt_mailer}", "esmtp" },
        };
        v = mc_rcpt(mc, opt.rcpts[i], rcpt_macros, 3, r);
        if (v == MC_REJECT || v == MC_TEMPFAIL) {
            refused++;
            refusal = v;
        } else if (v != MC_CONTINUE) {
            return v;
        }
    }
    if (refused == opt.rcpt_count)
        return refusal;
    const struct mc_macro qid_macro[] = { { "i", qid } };
    if ((v = mc_data(mc, qid_macro, 1, r)) != MC_CONTINUE)
        return v;
    for (size_t h = 0; h < m->header_count; h++)
        if ((v = mc_header(mc, m->headers[h].name, m->headers[h].value, r)) != MC_CONTINUE)
            return v;
    if ((v = mc_eoh(mc, qid_macro, 1, r)) != MC_CONTINUE)
        return v;
    for (size_t off = 0; off < m->body_len; off += 65535) {
        size_t len = m->body_len - off < 65535 ? m->body_len - off : 65535;
        v = mc_body(mc, m->body + off, len, r);
        if (v == MC_SKIP)
            break;
        if (v != MC_CONTINUE)
            return v;
    }
    *reached_eom = true;
    return mc_eom(mc, qid_macro, 1, r);
}

/* Opens a connection: negotiation, CONNECT and HELO. False if the filter refused or failed;
 * *v then says how. */
static bool open_session(struct milter_client *mc, struct tally *t, enum mc_verdict *v,
    struct mc_result *r)
{
    *v = MC_ERROR;
    if (!mc_connect(mc, opt.socket, opt.timeout_ms)) {
        note_error(mc, "connect");
        return false;
    }
    if (!mc_negotiate(mc)) {
        note_error(mc, "negotiation");
        return false;
    }
    if (mc->setsymlist_count)
        t->setsymlist++;
    t->version = mc->version;
    t->actions = mc->actions;
    t->steps = mc->protocol;
    char addr[64], underscore[200];
    client_address(addr, sizeof addr);
    snprintf(underscore, sizeof underscore, "%s [%s]", opt.client_name, addr);
    const struct mc_macro connect_macros[] = {
        { "j", "mwload.example" }, { "{daemon_name}", "mwload" }, { "_", underscore },
        { "{client_addr}", addr }, { "{client_name}", opt.client_name },
        { "{if_addr}", "127.0.0.1" },
    };
    *v = mc_connect_stage(mc, opt.client_name, addr, 25000, connect_macros, 6, r);
    if (*v == MC_CONTINUE)
        *v = mc_helo(mc, opt.helo, NULL, 0, r);
    if (*v == MC_ERROR)
        note_error(mc, "connect/helo");
    return *v == MC_CONTINUE;
}

static void record(struct tally *t, uint64_t id, const struct message *m, enum mc_verdict v,
    const struct mc_result *r, double started)
{
    add_latency(t, (now_s() - started) * 1000.0);
    t->verdicts[v]++;
    t->done++;
    if (r->quarantined)
        t->quarantined++;
    t->progress += r->progress;
    size_t shown = r->mod_count < MC_MAX_MODS ? r->mod_count : MC_MAX_MODS;
    for (size_t i = 0; i < shown; i++) {
        const struct mc_mod *mod = &r->mods[i];
        t->mods_by_op[(unsigned char)mod->op & 127]++;
        if (mod->op == MILTER_REPLY_ADDHEADER || mod->op == MILTER_REPLY_INSHEADER)
            count_header(t, mod->name);
    }
    if (opt.dump_first && id == 0)
        dump_result(id, m, v, r);
}

/* Clears what a message's result says; the modification slots past mod_count are never read,
 * so the 40 KB of them are not cleared for every message. */
static void reset_result(struct mc_result *r)
{
    r->verdict = MC_CONTINUE;
    r->reply[0] = '\0';
    r->quarantined = false;
    r->progress = 0;
    r->mod_count = 0;
}

static void *worker(void *arg)
{
    struct tally *t = arg;
    struct mc_result *r = malloc(sizeof *r);
    if (r == NULL)
        return NULL;
    uint64_t id;
    while (claim_message(&id)) {
        struct milter_client mc;
        enum mc_verdict v;
        double started = now_s();
        reset_result(r);
        if (!open_session(&mc, t, &v, r)) {
            /* refused at connect or HELO, or failed: the claimed message ends there */
            record(t, id, &messages.messages[id % messages.count], v, r, started);
            mc_close(&mc);
            continue;
        }
        for (unsigned sent = 1;; sent++) {
            const struct message *m = &messages.messages[id % messages.count];
            char qid[32];
            snprintf(qid, sizeof qid, "MW%010llX", (unsigned long long)id);
            bool reached_eom = false;
            v = send_transaction(&mc, m, qid, r, &reached_eom);
            if (v == MC_ERROR)
                note_error(&mc, qid);
            record(t, id, m, v, r, started);
            if (v == MC_ERROR || v == MC_CONNFAIL)
                break;
            /* a transaction that ended before end of message is reset with ABORT */
            if (!reached_eom && !mc_abort(&mc))
                break;
            if (sent >= opt.per_connection || !claim_message(&id)) {
                mc_quit(&mc);
                break;
            }
            started = now_s();
            reset_result(r);
        }
        mc_close(&mc);
    }
    free(r);
    return NULL;
}

/* --- report --- */

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static void merge(struct tally *into, const struct tally *t)
{
    for (int v = 0; v < MC_VERDICTS; v++)
        into->verdicts[v] += t->verdicts[v];
    for (int i = 0; i < 128; i++)
        into->mods_by_op[i] += t->mods_by_op[i];
    into->quarantined += t->quarantined;
    into->progress += t->progress;
    into->done += t->done;
    into->setsymlist += t->setsymlist;
    if (t->version != 0) {
        into->version = t->version;
        into->actions = t->actions;
        into->steps = t->steps;
    }
    for (unsigned i = 0; i < t->header_kinds; i++)
        for (uint64_t k = 0; k < t->header_counts[i]; k++)
            count_header(into, t->header_names[i]);
    for (size_t i = 0; i < t->latency_count; i++)
        add_latency(into, t->latency_ms[i]);
}

/* The filter's answer to option negotiation, with the steps it wants no reply for named. */
static void print_negotiation(const struct tally *all)
{
    static const struct { uint32_t bit; const char *name; } noreply[] = {
        { MILTER_STEP_NR_CONN, "connect" }, { MILTER_STEP_NR_HELO, "helo" }, { MILTER_STEP_NR_MAIL, "mail" },
        { MILTER_STEP_NR_RCPT, "rcpt" }, { MILTER_STEP_NR_DATA, "data" }, { MILTER_STEP_NR_UNKN, "unknown" },
        { MILTER_STEP_NR_HDR, "header" }, { MILTER_STEP_NR_EOH, "eoh" }, { MILTER_STEP_NR_BODY, "body" },
    };
    printf("negotiated: version %u actions 0x%x steps 0x%x; no reply for:", all->version,
        all->actions, all->steps);
    unsigned named = 0;
    for (size_t i = 0; i < sizeof noreply / sizeof noreply[0]; i++)
        if (all->steps & noreply[i].bit) {
            printf(" %s", noreply[i].name);
            named++;
        }
    printf("%s\n", named ? "" : " none");
}

static void report(struct tally *all, double seconds)
{
    qsort(all->latency_ms, all->latency_count, sizeof *all->latency_ms, by_value);
    size_t n = all->latency_count;
    double rate = seconds > 0 ? (double)all->done / seconds : 0;
    double p50 = percentile(all->latency_ms, n, 50), p90 = percentile(all->latency_ms, n, 90);
    double p99 = percentile(all->latency_ms, n, 99), max = n ? all->latency_ms[n - 1] : 0;
    if (!opt.quiet) {
        printf("mwload: %s, concurrency %u, %u per connection, %zu message file(s)\n",
            opt.socket, opt.concurrency, opt.per_connection, messages.count);
        printf("messages: %llu in %.3f s: %.1f msgs/s\n", (unsigned long long)all->done, seconds, rate);
        printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", p50, p90, p99, max);
        printf("verdicts:");
        for (int v = 0; v < MC_VERDICTS; v++)
            printf(" %s %llu", mc_verdict_name(v), (unsigned long long)all->verdicts[v]);
        printf(" quarantine %llu\n", (unsigned long long)all->quarantined);
        printf("modifications:");
        const char ops[] = { MILTER_REPLY_ADDHEADER, MILTER_REPLY_INSHEADER, MILTER_REPLY_CHGHEADER, MILTER_REPLY_REPLBODY,
            MILTER_REPLY_ADDRCPT, MILTER_REPLY_ADDRCPT_PAR, MILTER_REPLY_DELRCPT, MILTER_REPLY_CHGFROM, MILTER_REPLY_QUARANTINE };
        for (size_t i = 0; i < sizeof ops; i++)
            printf(" %s %llu", mod_name(ops[i]), (unsigned long long)all->mods_by_op[(int)ops[i]]);
        printf(" progress %llu", (unsigned long long)all->progress);
        printf("\nheaders added:");
        for (unsigned i = 0; i < all->header_kinds; i++)
            printf(" %s %llu", all->header_names[i], (unsigned long long)all->header_counts[i]);
        printf("%s\nconnections with a setsymlist answer: %llu\n", all->header_kinds ? "" : " none",
            (unsigned long long)all->setsymlist);
        print_negotiation(all);
    }
    printf("RESULT msgs=%llu seconds=%.3f msgs_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f",
        (unsigned long long)all->done, seconds, rate, p50, p90, p99, max);
    for (int v = 0; v < MC_VERDICTS; v++)
        printf(" %s=%llu", mc_verdict_name(v), (unsigned long long)all->verdicts[v]);
    printf(" quarantine=%llu", (unsigned long long)all->quarantined);
    for (unsigned i = 0; i < all->header_kinds; i++)
        printf(" hdr:%s=%llu", all->header_names[i], (unsigned long long)all->header_counts[i]);
    printf(" chgheader=%llu\n", (unsigned long long)all->mods_by_op[MILTER_REPLY_CHGHEADER]);
}

int main(int argc, char **argv)
{
    parse_options(argc, argv);
    struct tally *tallies = calloc(opt.concurrency, sizeof *tallies);
    pthread_t *threads = calloc(opt.concurrency, sizeof *threads);
    if (tallies == NULL || threads == NULL) {
        perror("mwload: calloc");
        return 2;
    }
    double started = now_s();
    deadline = started + opt.duration;
    unsigned running = 0;
    for (unsigned i = 0; i < opt.concurrency; i++) {
        if (pthread_create(&threads[i], NULL, worker, &tallies[i]) != 0) {
            fprintf(stderr, "mwload: cannot start thread %u: %s\n", i, strerror(errno));
            break;
        }
        running++;
    }
    for (unsigned i = 0; i < running; i++)
        pthread_join(threads[i], NULL);
    double seconds = now_s() - started;
    struct tally all = {0};
    for (unsigned i = 0; i < running; i++) {
        merge(&all, &tallies[i]);
        free(tallies[i].latency_ms);
    }
    report(&all, seconds);
    int status = all.verdicts[MC_ERROR] > 0 || running < opt.concurrency ? 1 : 0;
    free(all.latency_ms);
    free(tallies);
    free(threads);
    msgset_free(&messages);
    return status;
}
