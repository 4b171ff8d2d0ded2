/*
 * wire.c — checks and results as JSON (see wire.h).
 */
#include "health/wire.h"

#include <stdio.h>
#include <string.h>

void eagle_health_check_of_spec(const struct eagle_spec_health *h, struct eagle_health_check *c,
                                uint16_t *port)
{
    memset(c, 0, sizeof(*c));
    c->type = strcmp(h->type, "http") == 0 ? EAGLE_CHECK_HTTP : EAGLE_CHECK_TCP;
    c->interval_ms = h->interval_ns / 1000000;
    c->timeout_ms = h->timeout_ns / 1000000;
    c->start_period_ms = h->start_period_ns / 1000000;
    c->healthy_threshold = (unsigned)h->healthy_threshold;
    c->unhealthy_threshold = (unsigned)h->unhealthy_threshold;
    c->method = h->method[0] ? h->method : NULL;
    c->path = h->path;
    c->host = h->host;
    c->status_min = (int)h->status_min;
    c->status_max = (int)h->status_max;
    c->body_contains = h->body;
    *port = (uint16_t)h->port;
}

json_t *eagle_health_check_to_json(const struct eagle_health_check *c, uint16_t port)
{
    json_t *o = json_pack("{s:s, s:i, s:I, s:I, s:I, s:i, s:i}", "type",
                          c->type == EAGLE_CHECK_HTTP ? "http" : "tcp", "port", (int)port, "interval_ms",
                          (json_int_t)c->interval_ms, "timeout_ms", (json_int_t)c->timeout_ms,
                          "start_period_ms", (json_int_t)c->start_period_ms, "healthy_threshold",
                          (int)c->healthy_threshold, "unhealthy_threshold", (int)c->unhealthy_threshold);
    if (c->type == EAGLE_CHECK_HTTP) {
        json_object_set_new(o, "method", json_string(c->method ? c->method : "GET"));
        json_object_set_new(o, "path", json_string(c->path ? c->path : "/"));
        if (c->host)
            json_object_set_new(o, "host", json_string(c->host));
        json_object_set_new(o, "status_min", json_integer(c->status_min));
        json_object_set_new(o, "status_max", json_integer(c->status_max));
        if (c->body_contains)
            json_object_set_new(o, "body_contains", json_string(c->body_contains));
    }
    return o;
}

static int get_int(const json_t *j, const char *field, const char *key, int64_t lo, int64_t hi, int64_t *out,
                   struct eagle_err *err)
{
    json_t *v = json_object_get(j, key);
    if (!v) {
        *out = 0; /* the checker's default */
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return eagle_err_set(err, 400, "invalid_argument", NULL,
                             "'%s.%s' must be an integer from %lld to %lld", field, key, (long long)lo,
                             (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

static int get_str(const json_t *j, const char *field, const char *key, const char **out,
                   struct eagle_err *err)
{
    json_t *v = json_object_get(j, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return eagle_err_set(err, 400, "invalid_argument", NULL, "'%s.%s' must be a string", field, key);
    *out = json_string_value(v);
    return 0;
}

int eagle_health_check_from_json(const json_t *j, const char *field, struct eagle_health_check *c,
                                 uint16_t *port, struct eagle_err *err)
{
    const char *type = json_string_value(json_object_get(j, "type"));
    int64_t v[8];

    memset(c, 0, sizeof(*c));
    if (!json_is_object(j))
        return eagle_err_set(err, 400, "invalid_argument", field, "'%s' must be an object", field);
    if (!type || (strcmp(type, "tcp") != 0 && strcmp(type, "http") != 0))
        return eagle_err_set(err, 400, "invalid_argument", field, "'%s.type' must be \"tcp\" or \"http\"",
                             field);
    c->type = strcmp(type, "http") == 0 ? EAGLE_CHECK_HTTP : EAGLE_CHECK_TCP;
    if (get_int(j, field, "port", 1, 65535, &v[0], err) < 0 || v[0] == 0)
        return eagle_err_set(err, 400, "invalid_argument", field,
                             "'%s.port' must be an integer from 1 to 65535", field);
    if (get_int(j, field, "interval_ms", 0, 86400000, &v[1], err) < 0 ||
        get_int(j, field, "timeout_ms", 0, 600000, &v[2], err) < 0 ||
        get_int(j, field, "start_period_ms", 0, 86400000, &v[3], err) < 0 ||
        get_int(j, field, "healthy_threshold", 0, 100, &v[4], err) < 0 ||
        get_int(j, field, "unhealthy_threshold", 0, 100, &v[5], err) < 0 ||
        get_int(j, field, "status_min", 0, 599, &v[6], err) < 0 ||
        get_int(j, field, "status_max", 0, 599, &v[7], err) < 0 ||
        get_str(j, field, "method", &c->method, err) < 0 || get_str(j, field, "path", &c->path, err) < 0 ||
        get_str(j, field, "host", &c->host, err) < 0 ||
        get_str(j, field, "body_contains", &c->body_contains, err) < 0) {
        snprintf(err->field, sizeof(err->field), "%s", field);
        return -1;
    }
    *port = (uint16_t)v[0];
    c->interval_ms = v[1];
    c->timeout_ms = v[2];
    c->start_period_ms = v[3];
    c->healthy_threshold = (unsigned)v[4];
    c->unhealthy_threshold = (unsigned)v[5];
    c->status_min = (int)v[6];
    c->status_max = (int)v[7];
    return 0;
}

json_t *eagle_health_result_to_json(const struct eagle_health_result *r)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I}", "task", r->id, "health",
                     eagle_health_state_name(r->state), "reason", r->reason, "last_ok",
                     r->last_ok < 0 ? json_null() : json_boolean(r->last_ok), "checks", (json_int_t)r->checks,
                     "last_check_ms", (json_int_t)r->last_check_ms, "latency_us", (json_int_t)r->latency_us);
}

int eagle_health_state_parse(const char *s)
{
    if (!s)
        return -1;
    if (!strcmp(s, "unknown"))
        return EAGLE_HEALTH_UNKNOWN;
    if (!strcmp(s, "healthy"))
        return EAGLE_HEALTH_HEALTHY;
    if (!strcmp(s, "unhealthy"))
        return EAGLE_HEALTH_UNHEALTHY;
    return -1;
}
