/* tests/fuzz/fuzz_mail.c - the key, key records and message reader the mail-signature fuzz
 * targets share (fuzz_mail.h). Promises: the same key and the same answers on every call;
 * the reader never reads or writes past the text's NUL or the field slots. */
#include "fuzz_mail.h"

#include <stdlib.h>
#include <string.h>

#include "arc_crypto.h"
#include "util.h"

static EVP_PKEY *ed_key;
static char *ed_record;

static const char *const rsa_record = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQo"
    "BTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBs"
    "CR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

EVP_PKEY *fuzz_mail_ed_key(void)
{
    if (ed_key != NULL)
        return ed_key;
    unsigned char seed[32];
    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = (unsigned char)(i * 7 + 1);
    ed_key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed);
    unsigned char pub[32];
    size_t len = sizeof pub;
    if (ed_key == NULL || EVP_PKEY_get_raw_public_key(ed_key, pub, &len) != 1)
        abort();
    char *b64 = arc_base64_encode(pub, len);
    ed_record = xasprintf("v=DKIM1; k=ed25519; p=%s", b64);
    free(b64);
    return ed_key;
}

void fuzz_mail_key_answer(const char *name, struct dns_answer *out)
{
    fuzz_mail_ed_key();
    memset(out, 0, sizeof *out);
    const char *record = NULL;
    if (strncmp(name, "ed", 2) == 0)
        record = ed_record;
    else if (strncmp(name, "rsa", 3) == 0)
        record = rsa_record;
    else if (strncmp(name, "bad", 3) == 0)
        record = "v=DKIM1; k=rsa; p=@@@";
    else if (strncmp(name, "rev", 3) == 0)
        record = "v=DKIM1; p=";
    else if (strncmp(name, "tmp", 3) == 0) {
        out->status = DNS_SERVFAIL;
        return;
    }
    if (record == NULL) {
        out->status = DNS_NXDOMAIN;
        return;
    }
    out->status = DNS_OK;
    out->count = 1;
    out->data = xcalloc(2, sizeof *out->data);
    out->data[0] = xstrdup(record);
}

char *fuzz_mail_split(char *text, struct header_field *fields, size_t first, size_t *count)
{
    size_t n = first;
    char *line = text;
    while (*line != '\0' && n < FUZZ_MAIL_MAX_FIELDS) {
        if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n')) {
            *count = n - first;
            return line + (line[0] == '\n' ? 1 : 2);
        }
        char *colon = strchr(line, ':');
        char *end = strchr(line, '\n');
        if (colon == NULL || (end != NULL && colon > end))
            break;
        *colon = '\0';
        while (end != NULL && (end[1] == ' ' || end[1] == '\t'))
            end = strchr(end + 1, '\n');
        fields[n].name = line;
        fields[n].value = colon + 1;
        fields[n].raw_value = NULL;
        n++;
        if (end == NULL) {
            line += strlen(line);
            break;
        }
        *end = '\0';
        if (end > line && end[-1] == '\r')
            end[-1] = '\0';
        line = end + 1;
    }
    *count = n - first;
    return line;
}
