/* tests/fuzz/fuzz_message.c - libFuzzer target: any bytes, read as a message the way
 * mailwarden-check reads one, then driven through every engine stage with a policy that has
 * access rules, header limits and a small body buffer. Promise under test: malformed input
 * (NUL bytes, bare CR, endless headers, forged Authentication-Results) always gets a verdict
 * and never crashes, leaks or reads out of bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_load.h"
#include "engine.h"
#include "log.h"
#include "message_file.h"

static struct config *policy;

static struct config *make_policy(void)
{
    char path[] = "/tmp/mw-fuzz-policy-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    FILE *fp = fdopen(fd, "w");
    fputs("authres: { authserv_id = \"mw.test\" }\n"
          "limits: { max_headers = 50; max_header_bytes = \"4k\"; max_body_buffer = \"2k\";"
          " max_recipients = 2 }\n"
          "actions: { add_header = 1.0; reject = 100.0 }\n"
          "access = (\n"
          " { name = \"s\"; match = \"sender_domain\"; values = [ \".x.test\" ]; action = \"score\"; score = 2.0 },\n"
          " { name = \"r\"; match = \"recipient\"; values = [ \"no@x.test\" ] }\n"
          ")\n", fp);
    fclose(fp);
    struct config_errors errs = {0};
    struct config *cfg = config_load(path, &errs);
    unlink(path);
    if (cfg == NULL)
        abort();
    return cfg;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (policy == NULL) {
        log_open("fuzz", LOG_MAIL, false, false);
        log_set_level(LOG_ERR);
        policy = make_policy();
        policy->log.summary = false;
        config_install(policy);
    }
    FILE *fp = fmemopen((void *)data, size ? size : 1, "rb");
    if (fp == NULL)
        return 0;
    if (size == 0)
        fgetc(fp);
    struct message msg;
    int rc = message_read(fp, &msg);
    fclose(fp);
    if (rc != 0)
        return 0;

    struct txn *t = txn_new(config_current());
    struct ipaddr addr;
    ipaddr_parse("203.0.113.9", &addr);
    engine_connect(t, "client.example", &addr);
    engine_helo(t, "client.example");
    /* the first header's value doubles as envelope data: arbitrary bytes reach every stage */
    const char *sender = msg.header_count > 0 ? msg.headers[0].value : "a@b.x.test";
    if (engine_mail(t, config_current(), NULL, sender, NULL, NULL) == ACTION_NONE) {
        engine_rcpt(t, "no@x.test");
        engine_rcpt(t, sender);
        engine_rcpt(t, "c@d.test");
        for (size_t i = 0; i < msg.header_count; i++)
            engine_header(t, msg.headers[i].name, msg.headers[i].value);
        if (engine_eoh(t) == ACTION_NONE) {
            engine_body(t, msg.body, msg.body_len);
            engine_body(t, msg.body, msg.body_len);
            enum action action = engine_eom(t);
            if (action == ACTION_NONE)
                abort();   /* every message gets a decision */
        }
    }
    engine_abort(t);
    txn_free(t);
    message_free(&msg);
    return 0;
}
