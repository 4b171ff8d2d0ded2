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
#include <stddef.h>

#include "core/err.h"

#define CTL_HTTP_MAX_REPLY (64u << 20) /* answers larger than 64 MiB are refused */
#define CTL_HTTP_CONNECT_TIMEOUT 10    /* seconds */
#define CTL_HTTP_TIMEOUT 300           /* seconds for a whole request */

struct ctl_http_reply {
    long status; /* HTTP status */
    char *body;  /* NUL-terminated, never NULL after a successful call */
    size_t len;
    json_t *json; /* the parsed body; NULL when empty or not JSON */
};

/* Call once at start-up and once at exit. Returns -1 if libcurl cannot start. */
int ctl_http_global_init(void);
void ctl_http_global_cleanup(void);

/*
 * Send `method` `path` to `endpoint` with `token` as the bearer (NULL: none) and
 * `body` as JSON (NULL: no body). Returns 0 when the server answered, whatever the
 * status, and fills `reply`; the caller releases it with ctl_http_reply_release().
 * Returns -1 when no answer came (cannot connect, timeout, oversized answer), with
 * `err` (status 0, code "unavailable") naming the endpoint.
 */
int ctl_http_request(const char *endpoint, const char *token, const char *method, const char *path,
                     const char *body, struct ctl_http_reply *reply, struct eagle_err *err);

void ctl_http_reply_release(struct ctl_http_reply *reply);

/* A new string (free()) with everything but unreserved URL characters %-escaped:
 * safe to put in a path segment or a query value. */
char *ctl_http_escape(const char *s);

/* A new string (free()): `endpoint` with "http://" added when it has no scheme and
 * trailing slashes removed. */
char *ctl_http_normalize_endpoint(const char *endpoint);

#endif
