/* metrics_http.c - the Prometheus listener: libmicrohttpd on a thread of its own
 * (MHD_USE_INTERNAL_POLLING_THREAD; MHD_USE_AUTO picks epoll, so descriptors above 1024 held
 * by milter connections cannot break a select()), serving GET /metrics as the text exposition
 * format 0.0.4 (stats_format). Promises: it never touches a mail thread (a scrape reads atomics
 * only); each request's client address is checked against the allow list of the policy in
 * force (a reload changes it), and anyone else gets 403; any other path gets 404, any other
 * method 405. The address and port are those of the policy at start; a reload that changes
 * them says that a restart is needed. */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "log.h"
#include "metrics_config.h"
#include "stats.h"
#include "util.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static struct MHD_Daemon *daemon_handle;

static bool sockaddr_ip(const struct sockaddr *sa, struct ipaddr *out)
{
    char text[INET6_ADDRSTRLEN];
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text, sizeof text);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, text, sizeof text);
    else
        return false;
    return ipaddr_parse(text, out);
}

/* Whether the client of this request is in metrics.allow of the policy in force. */
static bool client_allowed(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct ipaddr client;
    if (info == NULL || !sockaddr_ip(info->client_addr, &client))
        return false;
    struct config *cfg = config_current();
    bool allowed = cfg != NULL && cidr_list_contains(&cfg->metrics->allow, &client);
    config_release(cfg);
    return allowed;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
        MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result serve_metrics(struct MHD_Connection *conn)
{
    struct textbuf text;
    textbuf_init(&text);
    stats_format(&text);
    struct MHD_Response *r = MHD_create_response_from_buffer(text.len, text.data,
        MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        textbuf_free(&text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data, size_t *upload_data_size,
    void **request_state)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    (void)request_state;
    if (*upload_data_size != 0) {
        *upload_data_size = 0;           /* a body is never read */
        return MHD_YES;
    }
    if (!client_allowed(conn))
        return reply_text(conn, MHD_HTTP_FORBIDDEN, "403 forbidden: not in metrics.allow\n");
    if (strcmp(url, "/metrics") != 0)
        return reply_text(conn, MHD_HTTP_NOT_FOUND, "404 not found: try /metrics\n");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "405 only GET\n");
    return serve_metrics(conn);
}

/* libmicrohttpd's own errors go to our log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_warn("metrics: %s", line);
}

bool metrics_http_start(const struct config *cfg)
{
    const struct metrics_policy *p = cfg->metrics;
    stats_mark_start();
    if (p == NULL || !p->enabled)
        return true;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (p->listen_addr.family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)p->listen_port);
        memcpy(&sin6->sin6_addr, p->listen_addr.bytes, 16);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)p->listen_port);
        memcpy(&sin->sin_addr, p->listen_addr.bytes, 4);
    }
    daemon_handle = MHD_start_daemon(flags, (uint16_t)p->listen_port, NULL, NULL,
        on_request, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
        MHD_OPTION_END);
    if (daemon_handle == NULL) {
        log_err("metrics: cannot listen on %s: %s (metrics.listen; is the port in use?)",
            p->listen, strerror(errno));
        return false;
    }
    log_info("metrics: serving http://%s/metrics", p->listen);
    return true;
}

void metrics_http_stop(void)
{
    if (daemon_handle != NULL) {
        MHD_stop_daemon(daemon_handle);
        daemon_handle = NULL;
    }
}
