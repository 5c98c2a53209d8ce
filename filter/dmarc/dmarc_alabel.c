/* dmarc_alabel.c - a U-label to its A-label: UTF-8 decoded to code points, then the Punycode
 * encoder of RFC 3492 section 6.3 (bootstring with base 36, tmin 1, tmax 26, skew 38, damp
 * 700, initial bias 72, initial n 128) behind "xn--". A label has at most 63 octets, so the
 * encoder's quadratic loop is bounded by a small constant. Promises: see dmarc_alabel.h. */
#include <stdint.h>
#include <string.h>

#include "dmarc_alabel.h"

#define MAX_CODE_POINTS 252   /* an Author Domain has at most 253 octets */
#define BASE 36u
#define TMIN 1u
#define TMAX 26u
#define SKEW 38u
#define DAMP 700u
#define INITIAL_BIAS 72u
#define INITIAL_N 128u

/* One UTF-8 character at s[*i] (fewer than len octets left is an error); false when it is
 * not the shortest form of a Unicode scalar value. */
static bool decode_one(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
    unsigned char c = s[*i];
    size_t extra;
    uint32_t value, min;
    if (c < 0x80) {
        *cp = c;
        (*i)++;
        return true;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        extra = 1; value = c & 0x1fu; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        extra = 2; value = c & 0x0fu; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        extra = 3; value = c & 0x07u; min = 0x10000;
    } else {
        return false;
    }
    if (len - *i <= extra)
        return false;
    for (size_t k = 1; k <= extra; k++) {
        unsigned char cc = s[*i + k];
        if ((cc & 0xc0) != 0x80)
            return false;
        value = (value << 6) | (cc & 0x3fu);
    }
    if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
        return false;
    *cp = value;
    *i += extra + 1;
    return true;
}

static bool ascii_label_char(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static uint32_t adapt(uint32_t delta, uint32_t points, bool first)
{
    delta = first ? delta / DAMP : delta / 2;
    delta += delta / points;
    uint32_t k = 0;
    while (delta > ((BASE - TMIN) * TMAX) / 2) {
        delta /= BASE - TMIN;
        k += BASE;
    }
    return k + (BASE - TMIN + 1) * delta / (delta + SKEW);
}

/* Appends one character to out (length *n); false when the label would be too long. */
static bool put(char *out, size_t *n, char c)
{
    if (*n >= DMARC_LABEL_MAX)
        return false;
    out[(*n)++] = c;
    return true;
}

static char digit(uint32_t d)
{
    return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

/* The variable-length integer q (RFC 3492 3.3) with the current bias. */
static bool put_number(char *out, size_t *n, uint32_t q, uint32_t bias)
{
    for (uint32_t k = BASE;; k += BASE) {
        uint32_t t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
        if (q < t)
            break;
        if (!put(out, n, digit(t + (q - t) % (BASE - t))))
            return false;
        q = (q - t) / (BASE - t);
    }
    return put(out, n, digit(q));
}

bool dmarc_alabel(const char *label, size_t len, char out[DMARC_LABEL_MAX + 1])
{
    uint32_t cps[MAX_CODE_POINTS];
    size_t count = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        if (count == MAX_CODE_POINTS || !decode_one((const unsigned char *)label, len, &i, &cp))
            return false;
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        if (cp < 0x80 && !ascii_label_char(cp))
            return false;
        cps[count++] = cp;
    }
    size_t n = 0;
    memcpy(out, "xn--", 4);
    n = 4;
    uint32_t basic = 0;
    for (size_t i = 0; i < count; i++) {
        if (cps[i] < 0x80) {
            if (!put(out, &n, (char)cps[i]))
                return false;
            basic++;
        }
    }
    if (basic > 0 && !put(out, &n, '-'))
        return false;
    uint32_t code = INITIAL_N, delta = 0, bias = INITIAL_BIAS, handled = basic;
    while (handled < count) {
        uint32_t next = UINT32_MAX;
        for (size_t i = 0; i < count; i++)
            if (cps[i] >= code && cps[i] < next)
                next = cps[i];
        /* no overflow: at most 252 code points below U+110000 */
        delta += (next - code) * (handled + 1);
        code = next;
        for (size_t i = 0; i < count; i++) {
            if (cps[i] < code)
                delta++;
            if (cps[i] != code)
                continue;
            if (!put_number(out, &n, delta, bias))
                return false;
            bias = adapt(delta, handled + 1, handled == basic);
            delta = 0;
            handled++;
        }
        delta++;
        code++;
    }
    out[n] = 0;
    return true;
}
