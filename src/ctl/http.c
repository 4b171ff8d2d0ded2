/*
 * http.c — see http.h. One easy handle per request: eaglectl makes a handful of
 * calls per run, so connection reuse is not worth any shared state.
 */
#include "ctl/http.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#ifndef EAGLE_VERSION
#define EAGLE_VERSION "dev"
#endif

struct sink {
    char *buf;
    size_t len, cap;
    bool too_big;
};

int ctl_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void ctl_http_global_cleanup(void)
{
    curl_global_cleanup();
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;

    if (n > CTL_HTTP_MAX_REPLY - s->len) {
        s->too_big = true;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        s->buf = xrealloc(s->buf, cap);
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = 0;
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
        return eagle_err_set(err, 0, "unavailable", NULL, "no answer from Eagle at %s in time: %s", endpoint,
                             why);
    case CURLE_FILESIZE_EXCEEDED:
        return eagle_err_set(err, 0, "unavailable", NULL, "the answer from Eagle at %s is larger than %u MiB",
                             endpoint, CTL_HTTP_MAX_REPLY >> 20);
    case CURLE_WRITE_ERROR:
        if (sink->too_big)
            return eagle_err_set(err, 0, "unavailable", NULL,
                                 "the answer from Eagle at %s is larger than %u MiB", endpoint,
                                 CTL_HTTP_MAX_REPLY >> 20);
        break;
    default:
        break;
    }
    return eagle_err_set(err, 0, "unavailable", NULL, "request to Eagle at %s failed: %s", endpoint, why);
}

int ctl_http_request(const char *endpoint, const char *token, const char *method, const char *path,
                     const char *body, struct ctl_http_reply *reply, struct eagle_err *err)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    struct sink sink = {0};
    char *url = NULL, *auth = NULL;
    CURLcode rc;
    CURL *curl;
    int ret = -1;

    memset(reply, 0, sizeof(*reply));
    curl = curl_easy_init();
    if (!curl)
        return eagle_err_set(err, 0, "unavailable", NULL, "cannot start libcurl");

    if (has_prefix(endpoint, "unix://")) {
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, endpoint + strlen("unix://"));
        url = xasprintf("http://localhost%s", path);
    } else {
        url = xasprintf("%s%s", endpoint, path);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)CTL_HTTP_CONNECT_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)CTL_HTTP_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CTL_HTTP_MAX_REPLY);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "eaglectl/" EAGLE_VERSION);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);

    headers = curl_slist_append(headers, "Accept: application/json");
    if (token && *token) {
        auth = xasprintf("Authorization: Bearer %s", token);
        headers = curl_slist_append(headers, auth);
    }
    if (body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        transport_error(err, curl, rc, errbuf, endpoint, &sink);
        free(sink.buf);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
    reply->body = sink.buf ? sink.buf : xstrdup("");
    reply->len = sink.len;
    if (reply->len > 0)
        reply->json = json_loadb(reply->body, reply->len, JSON_DECODE_ANY, NULL);
    ret = 0;
out:
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(url);
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
