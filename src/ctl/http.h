/*
 * http.h — eaglectl's HTTP transport: one libcurl request per call.
 *
 * The only file of the CLI that includes <curl/curl.h>. It knows the endpoint
 * forms (http://, https://, unix:///path.sock), the timeouts and the cap on
 * answer sizes; it does not interpret statuses or error bodies (ctl.c does).
 */
#ifndef EAGLE_CTL_HTTP_H
#define EAGLE_CTL_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CTL_HTTP_MAX_REPLY (64u << 20) /* answers larger than 64 MiB are refused */
#define CTL_HTTP_CONNECT_TIMEOUT 10    /* seconds */
#define CTL_HTTP_TIMEOUT 300           /* seconds for a whole request */
#define CTL_HTTP_STREAM_IDLE 60        /* seconds a stream may stay silent (the server's keep-alive is 15) */
#define CTL_HTTP_MAX_STREAM_ERROR (64u << 10) /* a longer error answer to a stream is refused */

struct ctl_http_reply {
    long status; /* HTTP status */
    char *body;  /* NUL-terminated, never NULL after a successful call */
    size_t len;
    json_t *json;   /* the parsed body; NULL when empty or not JSON */
    bool has_index; /* the answer carried X-Eagle-Index (discovery) */
    uint64_t index;
};

/* Called with each piece of a stream's body as it arrives; returns 0 to go on,
 * -1 to end the stream. */
typedef int (*ctl_http_data_cb)(const char *data, size_t len, void *userdata);

/* Call once at start-up and once at exit. Returns -1 if libcurl cannot start. */
int ctl_http_global_init(void);
void ctl_http_global_cleanup(void);

/*
 * Send `method` `path` to `endpoint` with `token` as the bearer (NULL: none) and
 * `body` as JSON (NULL: no body), allowing `timeout` seconds for the whole of it
 * (0: CTL_HTTP_TIMEOUT). Returns 0 when the server answered, whatever the status,
 * and fills `reply`; the caller releases it with ctl_http_reply_release().
 * Returns -1 when no answer came (cannot connect, timeout, oversized answer), with
 * `err` (status 0, code "unavailable") naming the endpoint.
 */
int ctl_http_request(const char *endpoint, const char *token, const char *method, const char *path,
                     const char *body, long timeout, struct ctl_http_reply *reply, struct eagle_err *err);

/*
 * GET `path` as a stream (server-sent events): `headers` are extra request header
 * lines ("Last-Event-ID: 42"; NULL-terminated, or NULL). There is no limit on the
 * whole; a connection silent for CTL_HTTP_STREAM_IDLE seconds counts as dropped.
 * The body of a 2xx answer goes to `on_data` as it arrives; any other answer's
 * body is kept in `reply` as ctl_http_request() does (a longer one than
 * CTL_HTTP_MAX_STREAM_ERROR bytes is an error, "larger than 64 KiB"). Returns 0 when the answer ended: the server closed it,
 * or on_data returned -1 (`*stopped` set). Returns -1 when no answer came or the
 * connection broke, with `err` as ctl_http_request() fills it; reply->status is
 * then non-zero if the answer had begun. Release `reply` in every case.
 */
int ctl_http_stream(const char *endpoint, const char *token, const char *path, const char *const *headers,
                    ctl_http_data_cb on_data, void *userdata, bool *stopped, struct ctl_http_reply *reply,
                    struct eagle_err *err);

void ctl_http_reply_release(struct ctl_http_reply *reply);

/* A new string (free()) with everything but unreserved URL characters %-escaped:
 * safe to put in a path segment or a query value. */
char *ctl_http_escape(const char *s);

/* A new string (free()): `endpoint` with "http://" added when it has no scheme and
 * trailing slashes removed. */
char *ctl_http_normalize_endpoint(const char *endpoint);

#endif
