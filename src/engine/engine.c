/*
 * engine.c — the Docker Engine API client (see engine.h).
 *
 * One CURL easy handle per eagle_engine. Before each call the handle is reset
 * and every option applied again, so nothing set for one call leaks into the
 * next; curl_easy_reset() keeps live connections, so keep-alive survives.
 * Answers are read into a buffer capped at MAX_BODY and parsed with jansson
 * once the transfer is over. Turning the engine's status and message into
 * Eagle's error codes happens in one place: map_answer().
 *
 * Ids and names put into a URL path are checked against Docker's name alphabet
 * (no '/', no "..") so a caller's input can never reach another endpoint; query
 * values are escaped with curl_easy_escape().
 */
#include "engine/engine.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"

#define API_PREFIX "/v1.41"
#define MAX_BODY ((size_t)64 << 20) /* an answer larger than this is an error */
#define DEFAULT_TIMEOUT_MS 30000L
#define MAX_CONNECT_TIMEOUT_MS 3000L
#define MAX_REF_LEN 255    /* longest service id or name accepted in a path */
#define MAX_ENGINE_MSG 400 /* engine message kept in an error */

struct eagle_engine {
    CURL *_curl;
    char *_endpoint;  /* as given, for error messages */
    char *_base;      /* "http://localhost/v1.41", "https://host:port/v1.41", ... */
    char *_unix_path; /* NULL for tcp:// */
    char *_ca_file;   /* TLS files; NULL when unused */
    char *_cert_file;
    char *_key_file;
    long _timeout_ms;
    char _errbuf[CURL_ERROR_SIZE];
};

int eagle_engine_global_init(struct eagle_err *err)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

    if (rc != CURLE_OK)
        return eagle_err_internal(err, "curl_global_init: %s", curl_easy_strerror(rc));
    return 0;
}

void eagle_engine_global_cleanup(void)
{
    curl_global_cleanup();
}

/* ---- endpoint parsing ---- */

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_hex(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9');
}

static int parse_unix(struct eagle_engine *e, const char *path, struct eagle_err *err)
{
    struct sockaddr_un sa;

    if (path[0] != '/')
        return eagle_err_invalid(err, "endpoint", "endpoint '%s': unix:// needs an absolute socket path",
                                 e->_endpoint);
    if (strlen(path) >= sizeof(sa.sun_path))
        return eagle_err_invalid(err, "endpoint", "endpoint '%s': socket path longer than %zu bytes",
                                 e->_endpoint, sizeof(sa.sun_path) - 1);
    e->_unix_path = xstrdup(path);
    e->_base = xstrdup("http://localhost" API_PREFIX);
    return 0;
}

/* "host:port", "1.2.3.4:port" or "[::1]:port". */
static int parse_tcp(struct eagle_engine *e, const char *hostport, int tls, struct eagle_err *err)
{
    const char *colon = strrchr(hostport, ':'), *p;
    size_t hostlen;
    long port = 0;

    if (!colon || colon == hostport)
        goto bad;
    hostlen = (size_t)(colon - hostport);
    if (hostport[0] == '[') {
        if (hostlen < 3 || hostport[hostlen - 1] != ']')
            goto bad;
        for (p = hostport + 1; p < hostport + hostlen - 1; p++)
            if (!is_hex(*p) && *p != ':' && *p != '.')
                goto bad;
    } else {
        for (p = hostport; p < colon; p++)
            if (!is_alnum(*p) && *p != '-' && *p != '.' && *p != '_')
                goto bad;
    }
    if (!colon[1] || strlen(colon + 1) > 5)
        goto bad;
    for (p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        port = port * 10 + (*p - '0');
    }
    if (port < 1 || port > 65535)
        goto bad;
    e->_base = xasprintf("%s://%.*s:%ld" API_PREFIX, tls ? "https" : "http", (int)hostlen, hostport, port);
    return 0;
bad:
    return eagle_err_invalid(err, "endpoint",
                             "endpoint '%s': expected tcp://host:port with a port in 1..65535", e->_endpoint);
}

static int check_tls_file(const char *path, const char *field, struct eagle_err *err)
{
    if (path && access(path, R_OK) != 0)
        return eagle_err_invalid(err, field, "cannot read '%s'", path);
    return 0;
}

struct eagle_engine *eagle_engine_new(const char *endpoint, const struct eagle_engine_tls *tls,
                                      long timeout_ms, struct eagle_err *err)
{
    struct eagle_engine *e;
    const char *ca = NULL, *cert = NULL, *key = NULL;
    int use_tls;

    if (!nonempty(endpoint)) {
        eagle_err_invalid(err, "endpoint", "the engine endpoint is empty");
        return NULL;
    }
    if (timeout_ms < 0) {
        eagle_err_invalid(err, "timeout_ms", "timeout must not be negative");
        return NULL;
    }
    if (tls) {
        ca = nonempty(tls->ca_file);
        cert = nonempty(tls->cert_file);
        key = nonempty(tls->key_file);
    }
    use_tls = ca || cert || key;

    e = xcalloc(1, sizeof(*e));
    e->_endpoint = xstrdup(endpoint);
    e->_timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
    if (strncmp(endpoint, "unix://", 7) == 0) {
        if (use_tls) {
            eagle_err_invalid(err, "tls", "endpoint '%s': TLS applies only to tcp:// endpoints", endpoint);
            goto fail;
        }
        if (parse_unix(e, endpoint + 7, err) < 0)
            goto fail;
    } else if (strncmp(endpoint, "tcp://", 6) == 0) {
        if (parse_tcp(e, endpoint + 6, use_tls, err) < 0)
            goto fail;
    } else {
        eagle_err_invalid(err, "endpoint", "endpoint '%s': expected unix:///path or tcp://host:port",
                          endpoint);
        goto fail;
    }
    if (key && !cert) {
        eagle_err_invalid(err, "tls.key_file", "a client key needs a client certificate");
        goto fail;
    }
    if (check_tls_file(ca, "tls.ca_file", err) < 0 || check_tls_file(cert, "tls.cert_file", err) < 0 ||
        check_tls_file(key, "tls.key_file", err) < 0)
        goto fail;
    e->_ca_file = xstrdup(ca);
    e->_cert_file = xstrdup(cert);
    e->_key_file = xstrdup(key);

    e->_curl = curl_easy_init();
    if (!e->_curl) {
        eagle_err_internal(err, "curl_easy_init failed");
        goto fail;
    }
    return e;
fail:
    eagle_engine_free(e);
    return NULL;
}

void eagle_engine_free(struct eagle_engine *e)
{
    if (!e)
        return;
    if (e->_curl)
        curl_easy_cleanup(e->_curl);
    free(e->_endpoint);
    free(e->_base);
    free(e->_unix_path);
    free(e->_ca_file);
    free(e->_cert_file);
    free(e->_key_file);
    free(e);
}

/* ---- one call ---- */

/* The answer goes into resp, whose max the caller sets to MAX_BODY. */
static void setup(struct eagle_engine *e, struct eagle_buf *resp)
{
    CURL *c = e->_curl;
    long connect_ms = e->_timeout_ms < MAX_CONNECT_TIMEOUT_MS ? e->_timeout_ms : MAX_CONNECT_TIMEOUT_MS;

    curl_easy_reset(c);
    e->_errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, e->_errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, e->_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never route the engine through $http_proxy */
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_USERAGENT, "eagle");
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_BODY);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, eagle_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    if (e->_unix_path)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, e->_unix_path);
    else
        curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    if (e->_ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, e->_ca_file);
    if (e->_cert_file)
        curl_easy_setopt(c, CURLOPT_SSLCERT, e->_cert_file);
    if (e->_key_file)
        curl_easy_setopt(c, CURLOPT_SSLKEY, e->_key_file);
}

/* The engine's "message" field, or the raw answer when it is not JSON. */
static void engine_message(const struct eagle_buf *b, char *buf, size_t size)
{
    json_t *root;
    const char *m;
    size_t n;

    buf[0] = '\0';
    if (b->len == 0)
        return;
    root = json_loadb(b->data, b->len, JSON_DECODE_ANY, NULL);
    m = json_string_value(json_object_get(root, "message"));
    if (m) {
        snprintf(buf, size, "%s", m);
    } else {
        n = b->len;
        while (n > 0 && (b->data[n - 1] == '\n' || b->data[n - 1] == '\r' || b->data[n - 1] == ' '))
            n--;
        snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), b->data);
    }
    json_decref(root);
}

static int map_answer(long status, const struct eagle_buf *b, struct eagle_err *err)
{
    char msg[MAX_ENGINE_MSG];

    engine_message(b, msg, sizeof(msg));
    if (!msg[0])
        snprintf(msg, sizeof(msg), "HTTP %ld without a message", status);
    if (strstr(msg, "update out of sequence"))
        return eagle_err_set(err, 409, "out_of_sequence", NULL, "%s", msg);
    switch (status) {
    case 400:
        return eagle_err_invalid(err, NULL, "%s", msg);
    case 404:
        return eagle_err_notfound(err, "%s", msg);
    case 409:
        return eagle_err_conflict(err, "%s", msg);
    case 503:
        if (strstr(msg, "This node is not a swarm manager"))
            return eagle_err_set(err, 503, "not_swarm_manager", NULL, "%s", msg);
        break;
    }
    return eagle_err_set(err, 502, "engine_error", NULL, "engine answered HTTP %ld: %s", status, msg);
}

static int transport_error(struct eagle_engine *e, CURLcode rc, const struct eagle_buf *b,
                           struct eagle_err *err)
{
    long os_errno = 0;

    if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return eagle_err_set(err, 502, "engine_error", NULL, "engine '%s': answer larger than %zu MiB",
                             e->_endpoint, MAX_BODY >> 20);
    curl_easy_getinfo(e->_curl, CURLINFO_OS_ERRNO, &os_errno);
    return eagle_err_set(err, 503, "engine_unavailable", NULL, "engine '%s' unavailable: %s%s%s%s",
                         e->_endpoint, e->_errbuf[0] ? e->_errbuf : curl_easy_strerror(rc),
                         os_errno ? " (" : "", os_errno ? strerror((int)os_errno) : "", os_errno ? ")" : "");
}

/* After curl_easy_perform(): 0 for a 2xx answer, else -1 with err filled
 * from the transport error or the engine's answer (kept in b). */
static int transfer_result(struct eagle_engine *e, CURLcode rc, const struct eagle_buf *b,
                           struct eagle_err *err)
{
    long status = 0;

    if (rc != CURLE_OK)
        return transport_error(e, rc, b, err);
    curl_easy_getinfo(e->_curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
        return map_answer(status, b, err);
    return 0;
}

/* A streamed answer's bytes while it is an error: keep its first 64 KiB for the message. */
static void keep_error_body(struct eagle_buf *b, const char *p, size_t n)
{
    size_t room = b->len < 65536 ? 65536 - b->len : 0;
    eagle_buf_append(b, p, n < room ? n : room); /* never past max */
}

static int only_space(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t'))
        n--;
    return n == 0;
}

int eagle_engine_call(struct eagle_engine *e, const char *method, const char *path, const json_t *body,
                      json_t **out, struct eagle_err *err)
{
    struct eagle_buf resp = {.max = MAX_BODY};
    struct curl_slist *headers = NULL;
    char *url = NULL, *payload = NULL;
    json_error_t jerr;
    CURLcode rc;
    int ret = -1;

    if (out)
        *out = NULL;
    if (!e || !nonempty(method) || !path || path[0] != '/')
        return eagle_err_internal(err, "engine call: bad method or path");
    if (body) {
        payload = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!payload) {
            eagle_err_internal(err, "%s %s: cannot encode the request body", method, path);
            goto out;
        }
    }
    url = xasprintf("%s%s", e->_base, path);

    setup(e, &resp);
    curl_easy_setopt(e->_curl, CURLOPT_URL, url);
    headers = curl_slist_append(headers, "Accept: application/json");
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e->_curl, CURLOPT_NOBODY, 1L);
    } else if (payload || strcmp(method, "POST") == 0) {
        curl_easy_setopt(e->_curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(payload ? strlen(payload) : 0));
        curl_easy_setopt(e->_curl, CURLOPT_POSTFIELDS, payload ? payload : "");
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e->_curl, CURLOPT_CUSTOMREQUEST, method);
        /* Without a body, drop the form Content-Type curl would add. */
        headers = curl_slist_append(headers, payload ? "Content-Type: application/json" : "Content-Type:");
        headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(e->_curl, CURLOPT_CUSTOMREQUEST, method);
    }
    if (!headers) {
        eagle_err_internal(err, "%s %s: out of memory", method, path);
        goto out;
    }
    curl_easy_setopt(e->_curl, CURLOPT_HTTPHEADER, headers);

    rc = curl_easy_perform(e->_curl);
    if (transfer_result(e, rc, &resp, err) < 0)
        goto out;
    if (out) {
        if (resp.len == 0 || only_space(resp.data, resp.len)) {
            *out = json_null();
        } else {
            *out = json_loadb(resp.data, resp.len, JSON_DECODE_ANY, &jerr);
            if (!*out) {
                eagle_err_set(err, 502, "engine_error", NULL, "%s %s: invalid JSON from the engine: %s",
                              method, path, jerr.text);
                goto out;
            }
        }
    }
    ret = 0;
out:
    /* Drop the handle's pointers to this call's buffers before they go. */
    curl_easy_setopt(e->_curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e->_curl, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(headers);
    free(payload);
    free(url);
    eagle_buf_release(&resp);
    return ret;
}

/* ---- helpers for the typed calls ---- */

/* Docker ids and names: [A-Za-z0-9][A-Za-z0-9_.-]*, safe to put in a path. */
static int check_ref(const char *ref, struct eagle_err *err)
{
    size_t i, n = ref ? strlen(ref) : 0;

    if (n == 0 || n > MAX_REF_LEN || !is_alnum(ref[0]))
        goto bad;
    for (i = 1; i < n; i++)
        if (!is_alnum(ref[i]) && ref[i] != '_' && ref[i] != '.' && ref[i] != '-')
            goto bad;
    return 0;
bad:
    return eagle_err_invalid(err, "id", "'%.64s' is not a service id or name", ref ? ref : "");
}

static int get_kind(struct eagle_engine *e, const char *path, int want_array, json_t **out,
                    struct eagle_err *err)
{
    json_t *ans = NULL;

    if (out)
        *out = NULL;
    if (eagle_engine_call(e, "GET", path, NULL, &ans, err) < 0)
        return -1;
    if (want_array ? !json_is_array(ans) : !json_is_object(ans)) {
        json_decref(ans);
        return eagle_err_set(err, 502, "engine_error", NULL, "GET %s: the engine answered no JSON %s", path,
                             want_array ? "array" : "object");
    }
    if (out)
        *out = ans;
    else
        json_decref(ans);
    return 0;
}

/* GET base?filters={"key":[value]}, expecting an array. */
static int get_filtered(struct eagle_engine *e, const char *base, const char *key, const char *value,
                        json_t **out, struct eagle_err *err)
{
    json_t *filters;
    char *dumped = NULL, *escaped = NULL, *path = NULL;
    int ret = -1;

    if (out)
        *out = NULL;
    filters = json_pack("{s:[s]}", key, value);
    if (!filters)
        return eagle_err_invalid(err, key, "%s filter is not valid UTF-8", key);
    dumped = json_dumps(filters, JSON_COMPACT);
    if (dumped)
        escaped = curl_easy_escape(e->_curl, dumped, 0);
    if (!escaped) {
        eagle_err_internal(err, "GET %s: cannot encode the filter", base);
        goto out;
    }
    path = xasprintf("%s?filters=%s", base, escaped);
    ret = get_kind(e, path, 1, out, err);
out:
    curl_free(escaped);
    free(dumped);
    free(path);
    json_decref(filters);
    return ret;
}

/* ---- typed calls ---- */

int eagle_engine_ping(struct eagle_engine *e, struct eagle_err *err)
{
    return eagle_engine_call(e, "GET", "/_ping", NULL, NULL, err);
}

int eagle_engine_info(struct eagle_engine *e, json_t **out, struct eagle_err *err)
{
    return get_kind(e, "/info", 0, out, err);
}

int eagle_engine_version(struct eagle_engine *e, json_t **out, struct eagle_err *err)
{
    return get_kind(e, "/version", 0, out, err);
}

int eagle_engine_swarm(struct eagle_engine *e, json_t **out, struct eagle_err *err)
{
    return get_kind(e, "/swarm", 0, out, err);
}

int eagle_engine_nodes(struct eagle_engine *e, json_t **out, struct eagle_err *err)
{
    return get_kind(e, "/nodes", 1, out, err);
}

int eagle_engine_service_create(struct eagle_engine *e, const json_t *spec, char **id, struct eagle_err *err)
{
    json_t *ans = NULL;
    const char *s;
    int ret = -1;

    if (id)
        *id = NULL;
    if (!json_is_object(spec))
        return eagle_err_invalid(err, "spec", "a service spec must be a JSON object");
    if (eagle_engine_call(e, "POST", "/services/create", spec, &ans, err) < 0)
        return -1;
    s = json_string_value(json_object_get(ans, "ID"));
    if (!s || !*s) {
        eagle_err_set(err, 502, "engine_error", NULL, "the engine created a service but returned no ID");
        goto out;
    }
    if (id)
        *id = xstrdup(s);
    ret = 0;
out:
    json_decref(ans);
    return ret;
}

int eagle_engine_service_inspect(struct eagle_engine *e, const char *id, json_t **out, struct eagle_err *err)
{
    char *path;
    int ret;

    if (out)
        *out = NULL;
    if (check_ref(id, err) < 0)
        return -1;
    path = xasprintf("/services/%s", id);
    ret = get_kind(e, path, 0, out, err);
    free(path);
    return ret;
}

int eagle_engine_service_update(struct eagle_engine *e, const char *id, uint64_t version, const json_t *spec,
                                struct eagle_err *err)
{
    char *path;
    int ret;

    if (check_ref(id, err) < 0)
        return -1;
    if (!json_is_object(spec))
        return eagle_err_invalid(err, "spec", "a service spec must be a JSON object");
    path = xasprintf("/services/%s/update?version=%" PRIu64, id, version);
    ret = eagle_engine_call(e, "POST", path, spec, NULL, err);
    free(path);
    return ret;
}

int eagle_engine_service_delete(struct eagle_engine *e, const char *id, struct eagle_err *err)
{
    struct eagle_err local = {0};
    char *path;
    int ret;

    if (check_ref(id, err) < 0)
        return -1;
    path = xasprintf("/services/%s", id);
    ret = eagle_engine_call(e, "DELETE", path, NULL, NULL, &local);
    free(path);
    if (ret < 0 && local.status == 404)
        return 0; /* already gone */
    if (ret < 0 && err)
        *err = local;
    return ret;
}

int eagle_engine_services_by_label(struct eagle_engine *e, const char *label, json_t **out,
                                   struct eagle_err *err)
{
    if (out)
        *out = NULL;
    if (!nonempty(label))
        return eagle_err_invalid(err, "label", "a label filter must not be empty");
    return get_filtered(e, "/services", "label", label, out, err);
}

int eagle_engine_tasks(struct eagle_engine *e, const char *service_id, json_t **out, struct eagle_err *err)
{
    if (!service_id)
        return get_kind(e, "/tasks", 1, out, err);
    if (out)
        *out = NULL;
    if (!*service_id)
        return eagle_err_invalid(err, "service_id", "the service id must not be empty");
    return get_filtered(e, "/tasks", "service", service_id, out, err);
}

/* ---- streaming an array ---- */

/*
 * The array splitter: a byte-at-a-time state machine that finds where each
 * top-level element of a JSON array begins and ends (tracking strings, escapes
 * and nesting depth), without parsing the elements. It checks the array's own
 * punctuation; the callback's parser checks each element.
 */
enum split_state { SPLIT_START, SPLIT_FIRST, SPLIT_NEXT, SPLIT_IN, SPLIT_AFTER, SPLIT_DONE };
enum elem_kind { ELEM_NESTED, ELEM_STRING, ELEM_SCALAR };

struct stream {
    struct eagle_engine *e;
    const char *path;
    eagle_engine_element_cb cb;
    void *ud;
    struct eagle_err *err;
    long status;              /* known once the first bytes arrive */
    struct eagle_buf errbody; /* a non-2xx answer, for map_answer() */
    struct eagle_buf elem;    /* the element being received */
    size_t total;             /* bytes received */
    enum split_state state;
    enum elem_kind kind;
    int depth, in_str, esc;
    int cb_failed;     /* cb returned -1 and filled err */
    const char *fault; /* what is wrong with the array, or NULL */
};

static int is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int elem_append(struct stream *s, const char *p, size_t n)
{
    if (eagle_buf_append(&s->elem, p, n) < 0) {
        s->fault = "an element larger than 64 MiB";
        return -1;
    }
    return 0;
}

static int elem_emit(struct stream *s)
{
    if (s->cb(s->ud, s->elem.data, s->elem.len, s->err) < 0) {
        s->cb_failed = 1;
        return -1;
    }
    s->elem.len = 0;
    s->state = SPLIT_AFTER;
    return 0;
}

/* Feed n bytes to the splitter; -1 on a fault or when the callback stops. */
static int split(struct stream *s, const char *p, size_t n)
{
    size_t i = 0, start = 0;

    while (i < n) {
        char c = p[i];
        switch (s->state) {
        case SPLIT_START:
            if (c == '[')
                s->state = SPLIT_FIRST;
            else if (!is_space(c))
                return s->fault = "the answer is not a JSON array", -1;
            i++;
            break;
        case SPLIT_FIRST:
        case SPLIT_NEXT:
            if (is_space(c)) {
                i++;
                break;
            }
            if (c == ']' && s->state == SPLIT_FIRST) {
                s->state = SPLIT_DONE;
                i++;
                break;
            }
            if (c == ']' || c == ',')
                return s->fault = "a missing array element", -1;
            s->elem.len = 0;
            s->depth = s->in_str = s->esc = 0;
            s->kind = c == '{' || c == '[' ? ELEM_NESTED : c == '"' ? ELEM_STRING : ELEM_SCALAR;
            s->state = SPLIT_IN;
            start = i;
            if (s->kind == ELEM_SCALAR)
                break; /* scanned below like the rest of it */
            if (s->kind == ELEM_NESTED)
                s->depth = 1;
            else
                s->in_str = 1;
            i++;
            break;
        case SPLIT_IN:
            if (s->kind == ELEM_SCALAR) {
                if (is_space(c) || c == ',' || c == ']') {
                    if (elem_append(s, p + start, i - start) < 0 || elem_emit(s) < 0)
                        return -1;
                    break; /* c again, after the element */
                }
                i++;
                break;
            }
            i++;
            if (s->in_str) {
                if (s->esc)
                    s->esc = 0;
                else if (c == '\\')
                    s->esc = 1;
                else if (c == '"')
                    s->in_str = 0;
                if (s->in_str || s->kind != ELEM_STRING)
                    break;
            } else if (c == '"') {
                s->in_str = 1;
                break;
            } else if (c == '{' || c == '[') {
                s->depth++;
                break;
            } else if (c == '}' || c == ']') {
                if (--s->depth > 0)
                    break;
            } else {
                break;
            }
            /* the element ends with c */
            if (elem_append(s, p + start, i - start) < 0 || elem_emit(s) < 0)
                return -1;
            break;
        case SPLIT_AFTER:
            if (c == ',')
                s->state = SPLIT_NEXT;
            else if (c == ']')
                s->state = SPLIT_DONE;
            else if (!is_space(c))
                return s->fault = "a missing ',' between array elements", -1;
            i++;
            break;
        case SPLIT_DONE:
            if (!is_space(c))
                return s->fault = "data after the array", -1;
            i++;
            break;
        }
    }
    if (s->state == SPLIT_IN && elem_append(s, p + start, n - start) < 0)
        return -1;
    return 0;
}

static size_t on_stream_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct stream *s = userdata;
    size_t n = size * nmemb;

    if (n > MAX_BODY - s->total) {
        s->errbody.too_big = 1;
        return 0;
    }
    s->total += n;
    if (s->status == 0)
        curl_easy_getinfo(s->e->_curl, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status < 200 || s->status > 299) {
        keep_error_body(&s->errbody, ptr, n);
        return n;
    }
    return split(s, ptr, n) < 0 ? 0 : n;
}

int eagle_engine_stream_array(struct eagle_engine *e, const char *path, eagle_engine_element_cb cb, void *ud,
                              struct eagle_err *err)
{
    struct stream s = {.e = e,
                       .path = path,
                       .cb = cb,
                       .ud = ud,
                       .err = err,
                       .errbody = {.max = MAX_BODY},
                       .elem = {.max = MAX_BODY}};
    struct curl_slist *headers = NULL;
    char *url;
    CURLcode rc;
    int ret = -1;

    if (!e || !cb || !path || path[0] != '/')
        return eagle_err_internal(err, "engine call: bad path or callback");
    url = xasprintf("%s%s", e->_base, path);
    setup(e, &s.errbody);
    curl_easy_setopt(e->_curl, CURLOPT_WRITEFUNCTION, on_stream_data);
    curl_easy_setopt(e->_curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(e->_curl, CURLOPT_URL, url);
    headers = curl_slist_append(headers, "Accept: application/json");
    if (!headers) {
        eagle_err_internal(err, "GET %s: out of memory", path);
        goto out;
    }
    curl_easy_setopt(e->_curl, CURLOPT_HTTPHEADER, headers);

    rc = curl_easy_perform(e->_curl);
    if (s.cb_failed)
        goto out; /* the callback's error */
    if (s.fault) {
        eagle_err_set(err, 502, "engine_error", NULL, "GET %s: invalid JSON from the engine: %s", path,
                      s.fault);
        goto out;
    }
    if (transfer_result(e, rc, &s.errbody, err) < 0)
        goto out;
    if (s.state != SPLIT_DONE) {
        if (s.state == SPLIT_START)
            eagle_err_set(err, 502, "engine_error", NULL, "GET %s: the engine answered no JSON array", path);
        else
            eagle_err_set(err, 502, "engine_error", NULL,
                          "GET %s: invalid JSON from the engine: the answer ends inside the array", path);
        goto out;
    }
    ret = 0;
out:
    curl_easy_setopt(e->_curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    free(url);
    eagle_buf_release(&s.errbody);
    eagle_buf_release(&s.elem);
    return ret;
}

/* ---- following an endless answer ---- */

struct follow {
    struct eagle_engine *e;
    eagle_engine_data_cb cb;
    void *ud;
    struct eagle_err *err;
    const atomic_int *stop;
    long status;
    struct eagle_buf errbody;
    int cb_failed, opened;
};

/* The end of the headers of a 2xx answer: tell cb the answer is open. */
static size_t on_follow_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct follow *f = userdata;
    size_t n = size * nmemb;
    long status = 0;

    if (f->opened || !(n == 2 && ptr[0] == '\r' && ptr[1] == '\n'))
        return n;
    curl_easy_getinfo(f->e->_curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
        return n;
    f->opened = 1;
    if (f->cb(f->ud, NULL, 0, f->err) < 0) {
        f->cb_failed = 1;
        return 0;
    }
    return n;
}

static size_t on_follow_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct follow *f = userdata;
    size_t n = size * nmemb;

    if (f->status == 0)
        curl_easy_getinfo(f->e->_curl, CURLINFO_RESPONSE_CODE, &f->status);
    if (f->status < 200 || f->status > 299) {
        keep_error_body(&f->errbody, ptr, n);
        return n;
    }
    if (n > 0 && f->cb(f->ud, ptr, n, f->err) < 0) {
        f->cb_failed = 1;
        return 0;
    }
    return n;
}

/* libcurl calls this about once a second while nothing arrives: the way out. */
static int on_follow_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                              curl_off_t ulnow)
{
    const struct follow *f = userdata;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return f->stop && *f->stop;
}

int eagle_engine_follow(struct eagle_engine *e, const char *path, eagle_engine_data_cb cb, void *ud,
                        const atomic_int *stop, struct eagle_err *err)
{
    struct follow f = {.e = e, .cb = cb, .ud = ud, .err = err, .stop = stop, .errbody = {.max = MAX_BODY}};
    char *url;
    CURLcode rc;
    int ret = -1;

    if (!e || !cb || !path || path[0] != '/')
        return eagle_err_internal(err, "engine call: bad path or callback");
    url = xasprintf("%s%s", e->_base, path);
    setup(e, &f.errbody);
    curl_easy_setopt(e->_curl, CURLOPT_TIMEOUT_MS, 0L);
    if (!e->_unix_path) { /* /events says nothing while nothing happens: probe the peer instead */
        curl_easy_setopt(e->_curl, CURLOPT_TCP_KEEPIDLE, 15L);
        curl_easy_setopt(e->_curl, CURLOPT_TCP_KEEPINTVL, 5L);
    }
    curl_easy_setopt(e->_curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)0);
    curl_easy_setopt(e->_curl, CURLOPT_WRITEFUNCTION, on_follow_data);
    curl_easy_setopt(e->_curl, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(e->_curl, CURLOPT_HEADERFUNCTION, on_follow_header);
    curl_easy_setopt(e->_curl, CURLOPT_HEADERDATA, &f);
    curl_easy_setopt(e->_curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e->_curl, CURLOPT_XFERINFOFUNCTION, on_follow_progress);
    curl_easy_setopt(e->_curl, CURLOPT_XFERINFODATA, &f);
    curl_easy_setopt(e->_curl, CURLOPT_URL, url);

    rc = curl_easy_perform(e->_curl);
    if (f.cb_failed)
        goto out;
    if (rc == CURLE_ABORTED_BY_CALLBACK && stop && *stop) {
        ret = 0;
        goto out;
    }
    if (transfer_result(e, rc, &f.errbody, err) < 0)
        goto out;
    ret = 0;
out:
    curl_easy_setopt(e->_curl, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(e->_curl, CURLOPT_HEADERFUNCTION, NULL);
    free(url);
    eagle_buf_release(&f.errbody);
    return ret;
}
