/*
 * http.c — see http.h. One easy handle per request: eaglectl makes a handful of
 * calls per run, so connection reuse is not worth any shared state.
 */
#include "ctl/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/util.h"

#ifndef EAGLE_VERSION
#define EAGLE_VERSION "dev"
#endif

struct sink {
    struct eagle_buf body; /* the answer, or a stream's error answer */
    CURL *curl;
    ctl_http_data_cb on_data; /* a stream: a 2xx body goes here instead */
    void *userdata;
    bool stopped; /* on_data asked to end the stream */
    bool has_index;
    uint64_t index;
};

int ctl_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void ctl_http_global_cleanup(void)
{
    curl_global_cleanup();
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;

    if (s->on_data) {
        long status = 0;

        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) {
            if (s->on_data(data, n, s->userdata) == 0)
                return n;
            s->stopped = true;
            return 0; /* makes curl stop with CURLE_WRITE_ERROR */
        }
    }
    return eagle_buf_write(data, size, nmemb, &s->body);
}

/* Keep X-Eagle-Index; a new status line (after a 100 Continue) starts over. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    static const char name[] = "x-eagle-index:";
    struct sink *s = userdata;
    size_t n = size * nmemb;
    char value[32];
    char *end;

    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        s->has_index = false;
        return n;
    }
    if (n <= sizeof(name) - 1 || strncasecmp(data, name, sizeof(name) - 1) != 0)
        return n;
    snprintf(value, sizeof(value), "%.*s", (int)(n - (sizeof(name) - 1)), data + sizeof(name) - 1);
    errno = 0;
    s->index = strtoull(value, &end, 10);
    s->has_index = errno == 0 && end != value && strspn(end, " \t\r\n") == strlen(end) && !strchr(value, '-');
    return n;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *ctl_http_normalize_endpoint(const char *endpoint)
{
    char *e;
    size_t n;

    if (strstr(endpoint, "://"))
        e = xstrdup(endpoint);
    else
        e = xasprintf("http://%s", endpoint);
    n = strlen(e);
    while (n > 0 && e[n - 1] == '/' && !has_prefix(e, "unix://"))
        e[--n] = 0;
    return e;
}

char *ctl_http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = xmalloc(n * 3 + 1), *p = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '~') {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p = 0;
    return out;
}

static int transport_error(struct eagle_err *err, CURL *curl, CURLcode rc, const char *errbuf,
                           const char *endpoint, const struct sink *sink)
{
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    long os_errno = 0;

    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
        return eagle_err_set(err, 0, "unavailable", NULL,
                             "cannot connect to Eagle at %s: %s (is eagled running? set --endpoint or "
                             "EAGLE_ENDPOINT)",
                             endpoint, os_errno ? strerror((int)os_errno) : why);
    case CURLE_COULDNT_RESOLVE_HOST:
        return eagle_err_set(err, 0, "unavailable", NULL, "cannot connect to Eagle at %s: %s", endpoint, why);
    case CURLE_OPERATION_TIMEDOUT:
        if (sink->on_data)
            return eagle_err_set(err, 0, "unavailable", NULL, "the stream from Eagle at %s went silent: %s",
                                 endpoint, why);
        return eagle_err_set(err, 0, "unavailable", NULL, "no answer from Eagle at %s in time: %s", endpoint,
                             why);
    case CURLE_FILESIZE_EXCEEDED:
        return eagle_err_set(err, 0, "unavailable", NULL,
                             "the answer from Eagle at %s is larger than %zu KiB", endpoint,
                             sink->body.max >> 10);
    case CURLE_WRITE_ERROR:
        if (sink->body.too_big)
            return eagle_err_set(err, 0, "unavailable", NULL,
                                 "the answer from Eagle at %s is larger than %zu KiB", endpoint,
                                 sink->body.max >> 10);
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return eagle_err_set(err, 0, "unavailable", NULL, "the connection to Eagle at %s dropped: %s",
                             endpoint, why);
    default:
        break;
    }
    return eagle_err_set(err, 0, "unavailable", NULL, "request to Eagle at %s failed: %s", endpoint, why);
}

/* One request's handle and what it owns. */
struct call {
    CURL *curl;
    struct curl_slist *headers;
    char *url, *auth;
    char errbuf[CURL_ERROR_SIZE];
    struct sink sink;
};

static int call_init(struct call *c, const char *endpoint, const char *token, const char *method,
                     const char *path, const char *accept, struct eagle_err *err)
{
    memset(c, 0, sizeof(*c));
    c->curl = curl_easy_init();
    if (!c->curl)
        return eagle_err_set(err, 0, "unavailable", NULL, "cannot start libcurl");
    c->sink.curl = c->curl;
    c->sink.body.max = CTL_HTTP_MAX_REPLY;

    if (has_prefix(endpoint, "unix://")) {
        curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, endpoint + strlen("unix://"));
        c->url = xasprintf("http://localhost%s", path);
    } else {
        c->url = xasprintf("%s%s", endpoint, path);
    }
    curl_easy_setopt(c->curl, CURLOPT_URL, c->url);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, (long)CTL_HTTP_CONNECT_TIMEOUT);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "eaglectl/" EAGLE_VERSION);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->sink);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &c->sink);

    c->headers = curl_slist_append(c->headers, accept);
    if (token && *token) {
        c->auth = xasprintf("Authorization: Bearer %s", token);
        c->headers = curl_slist_append(c->headers, c->auth);
    }
    c->headers = curl_slist_append(c->headers, "Expect:"); /* no 100-continue round trip */
    return 0;
}

/* Run it; fill `reply` from what came (the status even when it then broke). */
static int call_perform(struct call *c, const char *endpoint, struct ctl_http_reply *reply,
                        struct eagle_err *err)
{
    CURLcode rc;

    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    rc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &reply->status);
    reply->has_index = c->sink.has_index;
    reply->index = c->sink.index;
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && c->sink.stopped)) {
        transport_error(err, c->curl, rc, c->errbuf, endpoint, &c->sink);
        eagle_buf_release(&c->sink.body);
        return -1;
    }
    reply->body = c->sink.body.data ? c->sink.body.data : xstrdup("");
    reply->len = c->sink.body.len;
    c->sink.body.data = NULL; /* reply owns it now */
    if (reply->len > 0)
        reply->json = json_loadb(reply->body, reply->len, JSON_DECODE_ANY, NULL);
    return 0;
}

static void call_release(struct call *c)
{
    if (c->auth) {
        explicit_bzero(c->auth, strlen(c->auth));
        free(c->auth);
    }
    curl_slist_free_all(c->headers);
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->url);
    eagle_buf_release(&c->sink.body);
    memset(c, 0, sizeof(*c));
}

int ctl_http_request(const char *endpoint, const char *token, const char *method, const char *path,
                     const char *body, long timeout, struct ctl_http_reply *reply, struct eagle_err *err)
{
    struct call c;
    int ret = -1;

    memset(reply, 0, sizeof(*reply));
    if (call_init(&c, endpoint, token, method, path, "Accept: application/json", err) < 0)
        goto out;
    curl_easy_setopt(c.curl, CURLOPT_TIMEOUT, timeout > 0 ? timeout : (long)CTL_HTTP_TIMEOUT);
    curl_easy_setopt(c.curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CTL_HTTP_MAX_REPLY);
    if (body) {
        c.headers = curl_slist_append(c.headers, "Content-Type: application/json");
        curl_easy_setopt(c.curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c.curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    ret = call_perform(&c, endpoint, reply, err);
out:
    call_release(&c);
    return ret;
}

int ctl_http_stream(const char *endpoint, const char *token, const char *path, const char *const *headers,
                    ctl_http_data_cb on_data, void *userdata, bool *stopped, struct ctl_http_reply *reply,
                    struct eagle_err *err)
{
    struct call c;
    int ret = -1;

    memset(reply, 0, sizeof(*reply));
    *stopped = false;
    if (call_init(&c, endpoint, token, "GET", path, "Accept: text/event-stream", err) < 0)
        goto out;
    c.sink.on_data = on_data;
    c.sink.userdata = userdata;
    c.sink.body.max = CTL_HTTP_MAX_STREAM_ERROR;
    for (; headers && *headers; headers++)
        c.headers = curl_slist_append(c.headers, *headers);
    /* No limit on the whole; under 1 byte/s for the idle time (no keep-alive came) is a drop. */
    curl_easy_setopt(c.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c.curl, CURLOPT_LOW_SPEED_TIME, (long)CTL_HTTP_STREAM_IDLE);
    ret = call_perform(&c, endpoint, reply, err);
    *stopped = c.sink.stopped;
out:
    call_release(&c);
    return ret;
}

void ctl_http_reply_release(struct ctl_http_reply *reply)
{
    if (!reply)
        return;
    json_decref(reply->json);
    free(reply->body);
    memset(reply, 0, sizeof(*reply));
}
