/*
 * common.c — what every handler uses: the JSON body, query parameters,
 * authentication.
 */
#include <ctype.h>
#include <sodium.h>
#include <string.h>

#include "api/api.h"
#include "core/util.h"
#include "daemon.h"
#include "store/store.h"

int eagle_api_body(struct eagle_call *call, json_t **obj, struct eagle_err *err)
{
    json_error_t jerr;
    json_t *v;

    if (!call->body || call->body_len == 0)
        return eagle_err_set(err, 400, "invalid_json", NULL, "a JSON object body is required");
    if (call->body_len > EAGLE_MAX_BODY)
        return eagle_err_set(err, 400, "invalid_json", NULL, "the body is larger than %d bytes", EAGLE_MAX_BODY);
    v = json_loadb(call->body, call->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v)
        return eagle_err_set(err, 400, "invalid_json", NULL, "the body is not valid JSON: %s (line %d, column %d)",
                             jerr.text, jerr.line, jerr.column);
    if (!json_is_object(v)) {
        json_decref(v);
        return eagle_err_set(err, 400, "invalid_json", NULL, "the body must be a JSON object");
    }
    *obj = v;
    return 0;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

const char *eagle_api_query(const struct eagle_call *call, const char *name, char *buf, size_t n)
{
    size_t nl = strlen(name);
    const char *p = call->query;

    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len >= nl && strncmp(p, name, nl) == 0 && (len == nl || p[nl] == '=')) {
            size_t j = 0;
            for (size_t i = nl + 1; i < len && j + 1 < n; i++) {
                int c = (unsigned char)p[i];
                if (c == '+')
                    c = ' ';
                else if (c == '%' && i + 2 < len + 1 && isxdigit((unsigned char)p[i + 1]) &&
                         isxdigit((unsigned char)p[i + 2])) {
                    c = hexval((unsigned char)p[i + 1]) * 16 + hexval((unsigned char)p[i + 2]);
                    i += 2;
                }
                buf[j++] = (char)c;
            }
            buf[j] = 0;
            return buf;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

void eagle_api_token_hash(const char *token, char hex[129])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), eagle_daemon_token_key(), 32);
    sodium_bin2hex(hex, 129, h, sizeof(h));
}

int eagle_api_authenticate(struct eagle_call *call, struct eagle_err *err)
{
    const char *a = call->authorization;

    if (!a || strncasecmp(a, "Bearer ", 7) != 0 || !a[7])
        return eagle_err_set(err, 401, "unauthorized", NULL, "an 'Authorization: Bearer <token>' header is required");
    a += 7;
    if (strlen(a) > 256)
        return eagle_err_set(err, 401, "unauthorized", NULL, "the token is unknown, revoked or expired");
    eagle_api_token_hash(a, call->token_hash);
    return eagle_store_token_check(call->worker->store, call->token_hash, &call->user, err);
}

const char *eagle_api_username(const struct eagle_call *call)
{
    const char *u = json_string_value(json_object_get(call->user, "username"));
    return u ? u : "anonymous";
}
