/* dmarc_report_gzip.c - a report's XML as one gzip member (RFC 1952) with zlib: no file name,
 * modification time 0, so the same XML always gives the same bytes (a re-sent report is the
 * same file, as RFC 9990 asks). */
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "dmarc_report.h"

bool dmarc_report_gzip(const void *data, size_t len, struct textbuf *out, char *why,
    size_t why_size)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip header and trailer instead of zlib's */
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(why, why_size, "zlib: deflateInit2 failed");
        return false;
    }
    unsigned char chunk[16384];
    const unsigned char *in = data;
    size_t left = len;
    int rc;
    do {
        uInt step = left > 65536 ? 65536 : (uInt)left;
        z.next_in = (Bytef *)in;
        z.avail_in = step;
        in += step;
        left -= step;
        int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        do {
            z.next_out = chunk;
            z.avail_out = sizeof chunk;
            rc = deflate(&z, flush);
            if (rc == Z_STREAM_ERROR) {
                deflateEnd(&z);
                snprintf(why, why_size, "zlib: deflate failed");
                return false;
            }
            textbuf_append(out, (const char *)chunk, sizeof chunk - z.avail_out);
        } while (z.avail_out == 0);
    } while (left > 0);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        snprintf(why, why_size, "zlib: the stream did not end");
        return false;
    }
    return true;
}
