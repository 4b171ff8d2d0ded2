/*
 * common.c — what every handler uses: the JSON body, query parameters,
 * authentication.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "api/api.h"
#include "api/tokencache.h"
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
        return eagle_err_set(err, 400, "invalid_json", NULL, "the body is larger than %d bytes",
                             EAGLE_MAX_BODY);
    v = json_loadb(call->body, call->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v)
        return eagle_err_set(err, 400, "invalid_json", NULL,
                             "the body is not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                             jerr.column);
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
    crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), eagle_daemon_token_key(),
                       32);
    sodium_bin2hex(hex, 129, h, sizeof(h));
}

int eagle_api_authenticate(struct eagle_call *call, struct eagle_err *err)
{
    const char *a = call->authorization;
    struct eagle_cached_token t;

    if (!a || strncasecmp(a, "Bearer ", 7) != 0 || !a[7])
        return eagle_err_set(err, 401, "unauthorized", NULL,
                             "an 'Authorization: Bearer <token>' header is required");
    a += 7;
    if (strlen(a) > 256)
        return eagle_err_set(err, 401, "unauthorized", NULL, "the token is unknown, revoked or expired");
    eagle_api_token_hash(a, call->token_hash);
    if (eagle_tokencache_get(call->token_hash, &t) < 0) {
        json_t *row;
        if (!call->worker) /* on an event loop: only the cache may answer; a worker must look */
            return 1;
        if (eagle_store_token_check(call->worker->store, call->token_hash, &row, err) < 0)
            return -1;
        memset(&t, 0, sizeof(t));
        snprintf(t.username, sizeof(t.username), "%s", json_string_value(json_object_get(row, "username")));
        snprintf(t.role, sizeof(t.role), "%s", json_string_value(json_object_get(row, "role")));
        snprintf(t.id, sizeof(t.id), "%s", json_string_value(json_object_get(row, "id")) ?: "");
        t.read_only = (int)json_integer_value(json_object_get(row, "read_only"));
        t.expires_ms = json_integer_value(json_object_get(row, "expires_ms"));
        json_decref(row);
        json_t *ts, *tr;
        size_t i, len = 0;
        if (eagle_store_tenant_list(call->worker->store, t.username, &ts, err) < 0)
            return -1;
        json_array_foreach(ts, i, tr)
        {
            const char *name = json_string_value(json_object_get(tr, "name"));
            size_t n = strlen(name);
            if (len + n + 2 > sizeof(t.tenants))
                break;
            memcpy(t.tenants + len, name, n);
            t.tenants[len + n] = '\n';
            len += n + 1;
        }
        t.tenants[len] = 0;
        json_decref(ts);
        eagle_tokencache_put(call->token_hash, &t);
    }
    json_decref(call->user);
    json_t *tenants = json_array();
    for (char *p = t.tenants, *nl; *p && (nl = strchr(p, '\n')); p = nl + 1)
        json_array_append_new(tenants, json_stringn(p, (size_t)(nl - p)));
    call->user = json_pack("{s:s, s:s, s:b, s:s, s:o}", "username", t.username, "role", t.role, "read_only",
                           t.read_only, "token_id", t.id, "tenants", tenants);
    if (t.read_only && strcmp(call->method, "GET") != 0 && strcmp(call->method, "HEAD") != 0 &&
        strcmp(call->path, "/v1/auth/logout") != 0)
        return eagle_err_set(err, 403, "forbidden", NULL, "this token is read-only");
    return 0;
}

int eagle_api_is_admin(const struct eagle_call *call)
{
    const char *r = json_string_value(json_object_get(call->user, "role"));
    return r && strcmp(r, "admin") == 0;
}

int eagle_api_require_admin(const struct eagle_call *call, struct eagle_err *err)
{
    if (eagle_api_is_admin(call))
        return 0;
    return eagle_err_set(err, 403, "forbidden", NULL, "only a platform admin may do this");
}

static const char *role_names[] = {"none", "viewer", "developer", "owner", "admin"};

const char *eagle_role_name(enum eagle_role r)
{
    return role_names[r];
}

int eagle_role_parse(const char *s)
{
    for (int i = EAGLE_ROLE_VIEWER; i <= EAGLE_ROLE_OWNER; i++)
        if (s && strcmp(s, role_names[i]) == 0)
            return i;
    return -1;
}

int eagle_api_role(struct eagle_call *call, const char *tenant, enum eagle_role *role, struct eagle_err *err)
{
    char *r = NULL;

    if (eagle_api_is_admin(call)) {
        *role = EAGLE_ROLE_ADMIN;
        return 0;
    }
    if (eagle_store_member_role(call->worker->store, tenant, eagle_api_username(call), &r, err) < 0)
        return -1;
    int p = eagle_role_parse(r);
    *role = p < 0 ? EAGLE_ROLE_NONE : (enum eagle_role)p;
    free(r);
    return 0;
}

int eagle_api_require(struct eagle_call *call, const char *tenant, enum eagle_role need, const char *what,
                      struct eagle_err *err)
{
    enum eagle_role have;

    if (eagle_api_role(call, tenant, &have, err) < 0)
        return -1;
    if (have == EAGLE_ROLE_NONE) /* another tenant's things do not exist for the caller */
        return eagle_err_notfound(err, "%s not found", what);
    if (have < need)
        return eagle_err_set(err, 403, "forbidden", NULL, "%s: your role in tenant '%s' is %s; this needs %s",
                             what, tenant, role_names[have], role_names[need]);
    return 0;
}

const char *eagle_api_username(const struct eagle_call *call)
{
    const char *u = json_string_value(json_object_get(call->user, "username"));
    return u ? u : "anonymous";
}

void eagle_api_audit_failure(struct eagle_call *call, const char *route, const struct eagle_err *failure)
{
    struct eagle_err err;
    char result[64], action[160];

    if (!call->user || !call->worker || !call->worker->store || strcmp(call->method, "GET") == 0 ||
        strcmp(call->method, "HEAD") == 0)
        return;
    snprintf(result, sizeof(result), "failed: %d %s", failure->status, failure->code);
    snprintf(action, sizeof(action), "%s %s", call->method, route);
    eagle_store_audit(call->worker->store, eagle_api_username(call), "", action, call->path, result,
                      failure->msg, call->source, &err);
}

/* "replicas: 2 -> 3; image: a -> b" for the top-level fields that differ. */
char *eagle_api_diff_summary(const json_t *before, const json_t *after)
{
    const char *key;
    json_t *v;
    size_t cap = 1024, len = 0;
    char *out = xmalloc(cap);

    out[0] = 0;
    json_object_foreach((json_t *)after, key, v)
    {
        json_t *old = json_object_get(before, key);
        if (old && json_equal(old, v))
            continue;
        char *a = old ? json_dumps(old, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        char *b = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        char item[300];
        if (a && b && strlen(a) < 80 && strlen(b) < 80)
            snprintf(item, sizeof(item), "%s%s: %s -> %s", len ? "; " : "", key, a, b);
        else
            snprintf(item, sizeof(item), "%s%s changed", len ? "; " : "", key);
        free(a);
        free(b);
        size_t n = strlen(item);
        if (len + n + 1 > cap)
            break;
        memcpy(out + len, item, n + 1);
        len += n;
    }
    if (!len)
        snprintf(out, cap, "no change");
    return out;
}

int eagle_api_tenant_visible(const struct eagle_call *call, const char *tenant)
{
    json_t *t;
    size_t i;

    if (eagle_api_is_admin(call))
        return 1;
    if (!tenant || !*tenant)
        return 0;
    json_array_foreach(json_object_get(call->user, "tenants"), i,
                       t) if (strcmp(json_string_value(t), tenant) == 0) return 1;
    return 0;
}

int eagle_api_check_keys(const json_t *body, const char *const *keys, struct eagle_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        int ok = 0;
        for (int i = 0; keys[i] && !ok; i++)
            ok = strcmp(keys[i], key) == 0;
        if (!ok)
            return eagle_err_invalid(err, key, "unknown field '%s'", key);
    }
    return 0;
}
