/*
 * subscriptions.c — /v1/subscriptions (see subscriptions.h).
 *
 * A subscription is created at the newest event: it gets what happens from
 * then on. Its secret (32 random bytes as 64 hex digits) is shown once, in the
 * answer to the create; the deliverer signs every request with it. Every
 * write records an audit row in its transaction and pokes the deliverer, so
 * it acts at once instead of at its next reload.
 */
#include "api/subscriptions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/notify.h"
#include "core/util.h"
#include "events/events.h"
#include "model/spec.h"
#include "store/store.h"
#include "store/subscriptions.h"

/* The event types, in the order a subscription's list is kept. */
static const char *const known_types[] = {"service", "task", "node", "release", "build", "health", NULL};

static json_t *sub_out(const json_t *row, int with_secret)
{
    const char *types = json_string_value(json_object_get(row, "types"));
    const char *service = json_string_value(json_object_get(row, "service"));
    json_t *t = json_null();

    if (types && *types) {
        char copy[128], *save = NULL;
        t = json_array();
        snprintf(copy, sizeof(copy), "%s", types);
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
            json_array_append_new(t, json_string(tok));
    }
    json_t *o = json_pack(
        "{s:O, s:O, s:O, s:o, s:o, s:b, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "id", json_object_get(row, "id"),
        "url", json_object_get(row, "url"), "tenant", json_object_get(row, "tenant"), "types", t, "service",
        service && *service ? json_string(service) : json_null(), "node_events",
        (int)json_integer_value(json_object_get(row, "nodes")), "cursor", json_object_get(row, "cursor"),
        "state", json_object_get(row, "state"), "failures", json_object_get(row, "failures"), "last_error",
        json_object_get(row, "last_error"), "next_attempt_at", json_object_get(row, "next_attempt_at"),
        "created_at", json_object_get(row, "created_at"), "created_by", json_object_get(row, "created_by"));
    if (with_secret)
        json_object_set(o, "secret", json_object_get(row, "secret"));
    return o;
}

/* The subscription's row, if the caller has at least `need` in its tenant (else 404/403). */
static int get_visible(struct eagle_call *call, const char *id, enum eagle_role need, json_t **row,
                       struct eagle_err *err)
{
    char what[96];

    if (eagle_store_subscription_get(call->worker->store, id, row, err) < 0)
        return -1;
    snprintf(what, sizeof(what), "subscription '%s'", id);
    if (eagle_api_require(call, json_string_value(json_object_get(*row, "tenant")), need, what, err) < 0) {
        json_decref(*row);
        *row = NULL;
        return -1;
    }
    return 0;
}

/* The tenant named, else "default" for an admin or the caller's only tenant;
 * the caller must be a developer there. *tenant is the caller's to free. */
static int resolve_tenant(struct eagle_call *call, const json_t *v, char **tenant, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    char what[96];
    json_t *row;

    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || !eagle_name_valid(json_string_value(v)))
            return eagle_err_invalid(err, "tenant", "tenant must be a tenant name");
        *tenant = xstrdup(json_string_value(v));
    } else if (eagle_api_is_admin(call)) {
        *tenant = xstrdup("default");
    } else {
        json_t *rows;
        if (eagle_store_tenant_list(st, eagle_api_username(call), &rows, err) < 0)
            return -1;
        size_t n = json_array_size(rows);
        if (n == 1)
            *tenant = xstrdup(json_string_value(json_object_get(json_array_get(rows, 0), "name")));
        json_decref(rows);
        if (n != 1)
            return eagle_err_invalid(err, "tenant",
                                     n ? "you belong to several tenants: name one in 'tenant'"
                                       : "you belong to no tenant; ask an admin to add you to one");
    }
    snprintf(what, sizeof(what), "tenant '%s'", *tenant);
    if (eagle_api_require(call, *tenant, EAGLE_ROLE_DEVELOPER, what, err) < 0 ||
        eagle_store_tenant_get(st, *tenant, &row, err) < 0) { /* admins pass the role check anywhere */
        if (err->status == 404)
            eagle_err_set(err, 404, "not_found", "tenant", "tenant '%s' not found", *tenant);
        free(*tenant);
        *tenant = NULL;
        return -1;
    }
    json_decref(row);
    return 0;
}

/* `types` (absent or null = every type) as the comma-separated list the store
 * keeps, in known_types order, each once ("" = every type). */
static int read_types(struct eagle_call *call, const json_t *v, char *out, size_t n, struct eagle_err *err)
{
    int want[8] = {0};
    json_t *t;
    size_t i, len = 0;

    out[0] = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return eagle_err_invalid(
            err, "types",
            "types must be a non-empty list of event types (service, task, node, release, "
            "build, health); leave it out for every type");
    json_array_foreach(v, i, t)
    {
        const char *s = json_string_value(t);
        int k;
        for (k = 0; s && known_types[k] && strcmp(known_types[k], s) != 0; k++)
            ;
        if (!s || !known_types[k])
            return eagle_err_set(err, 400, "invalid_argument", "types",
                                 "unknown event type %s%s%s (service, task, node, release, build, health)",
                                 s ? "'" : "", s ? s : "(not a string)", s ? "'" : "");
        if (strcmp(s, "node") == 0 && !eagle_api_is_admin(call))
            return eagle_err_set(err, 403, "forbidden", "types", "node events are for platform admins only");
        want[k] = 1;
    }
    for (int k = 0; known_types[k]; k++) {
        if (!want[k])
            continue;
        len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "", known_types[k]);
    }
    return 0;
}

/* GET /v1/subscriptions?tenant= : those of the tenants the caller sees. */
int api_subscriptions_list(struct eagle_call *call, struct eagle_err *err)
{
    char tenant[128];
    const char *tfilter = eagle_api_query(call, "tenant", tenant, sizeof(tenant));
    json_t *rows, *row, *items;
    size_t i;

    if (tfilter) {
        char what[160];
        snprintf(what, sizeof(what), "tenant '%s'", tfilter);
        if (eagle_api_require(call, tfilter, EAGLE_ROLE_VIEWER, what, err) < 0)
            return -1;
    }
    if (eagle_store_subscription_list(call->worker->store, tfilter, &rows, err) < 0)
        return -1;
    items = json_array();
    json_array_foreach(rows, i, row)
    {
        if (eagle_api_tenant_visible(call, json_string_value(json_object_get(row, "tenant"))))
            json_array_append_new(items, sub_out(row, 0));
    }
    json_decref(rows);
    call->out = json_pack("{s:o}", "items", items);
    return 0;
}

/* POST /v1/subscriptions {"url", "tenant", "types": [...], "service"} (developer) */
int api_subscriptions_create(struct eagle_call *call, struct eagle_err *err)
{
    static const char *const keys[] = {"url", "tenant", "types", "service", NULL};
    struct eagle_store *st = call->worker->store;
    json_t *body = NULL, *row = NULL, *rows = NULL, *v;
    char *tenant = NULL, types[128], id[17], secret[65];
    unsigned char raw_id[8], raw_secret[32];
    const char *url, *service = "";
    int rc = -1;

    if (eagle_api_body(call, &body, err) < 0 || eagle_api_check_keys(body, keys, err) < 0)
        goto out;
    v = json_object_get(body, "url");
    if (v && !json_is_string(v)) {
        eagle_err_invalid(err, "url", "url must be a string");
        goto out;
    }
    url = json_string_value(v);
    if (eagle_notify_url_check(url, err) < 0)
        goto out;
    if ((v = json_object_get(body, "service")) && !json_is_null(v)) {
        if (!json_is_string(v) || !eagle_name_valid(json_string_value(v))) {
            eagle_err_invalid(err, "service", "service must be a service name (only its events are sent)");
            goto out;
        }
        service = json_string_value(v);
    }
    if (resolve_tenant(call, json_object_get(body, "tenant"), &tenant, err) < 0 ||
        read_types(call, json_object_get(body, "types"), types, sizeof(types), err) < 0)
        goto out;
    if (!eagle_api_is_admin(call) && eagle_notify_url_allowed(url, err) < 0) /* after the role check */
        goto out;
    if (eagle_store_subscription_list(st, tenant, &rows, err) < 0)
        goto out;
    if (json_array_size(rows) >= EAGLE_SUBSCRIPTIONS_MAX) {
        eagle_err_conflict(err, "tenant '%s' has %d subscriptions, the most allowed; delete one first",
                           tenant, EAGLE_SUBSCRIPTIONS_MAX);
        goto out;
    }
    randombytes_buf(raw_id, sizeof(raw_id));
    sodium_bin2hex(id, sizeof(id), raw_id, sizeof(raw_id));
    randombytes_buf(raw_secret, sizeof(raw_secret));
    sodium_bin2hex(secret, sizeof(secret), raw_secret, sizeof(raw_secret));
    sodium_memzero(raw_secret, sizeof(raw_secret));
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_subscription_create(st, id, tenant, url, types, service, secret, eagle_api_is_admin(call),
                                        (int64_t)eagle_events_last_id(), eagle_api_username(call), err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), tenant, "subscription.create", id, "ok", url,
                          call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    eagle_notify_poke();
    if (eagle_store_subscription_get(st, id, &row, err) < 0)
        goto out;
    call->status = 201;
    call->out = sub_out(row, 1);
    rc = 0;
out:
    sodium_memzero(secret, sizeof(secret));
    json_decref(body);
    json_decref(row);
    json_decref(rows);
    free(tenant);
    return rc;
}

int api_subscriptions_get(struct eagle_call *call, struct eagle_err *err)
{
    json_t *row;

    if (get_visible(call, call->params[0], EAGLE_ROLE_VIEWER, &row, err) < 0)
        return -1;
    call->out = sub_out(row, 0);
    json_decref(row);
    return 0;
}

int api_subscriptions_delete(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    const char *id = call->params[0];
    json_t *row;
    int rc = -1;

    if (get_visible(call, id, EAGLE_ROLE_DEVELOPER, &row, err) < 0)
        return -1;
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_subscription_delete(st, id, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), json_string_value(json_object_get(row, "tenant")),
                          "subscription.delete", id, "ok", json_string_value(json_object_get(row, "url")),
                          call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    eagle_notify_poke();
    call->status = 204;
    rc = 0;
out:
    json_decref(row);
    return rc;
}

/* GET /v1/subscriptions/{id}/deliveries?limit= (1..1000, default 100), newest first */
int api_subscriptions_deliveries(struct eagle_call *call, struct eagle_err *err)
{
    char limit_s[16];
    const char *l = eagle_api_query(call, "limit", limit_s, sizeof(limit_s));
    int64_t limit = 100;
    json_t *row, *rows;

    if (l) {
        char *end;
        limit = strtoll(l, &end, 10);
        if (!*l || *end || limit < 1 || limit > EAGLE_DELIVERIES_KEEP)
            return eagle_err_invalid(err, "limit", "limit must be an integer from 1 to %d",
                                     EAGLE_DELIVERIES_KEEP);
    }
    if (get_visible(call, call->params[0], EAGLE_ROLE_VIEWER, &row, err) < 0)
        return -1;
    json_decref(row);
    if (eagle_store_delivery_list(call->worker->store, call->params[0], limit, &rows, err) < 0)
        return -1;
    call->out = json_pack("{s:o}", "items", rows);
    return 0;
}

/* POST /v1/subscriptions/{id}/redeliver {"from_event_id": N} (developer): the
 * events after N are sent again (or skipped, when N is ahead of the cursor). */
int api_subscriptions_redeliver(struct eagle_call *call, struct eagle_err *err)
{
    static const char *const keys[] = {"from_event_id", NULL};
    struct eagle_store *st = call->worker->store;
    const char *id = call->params[0];
    json_t *body = NULL, *row = NULL, *v;
    struct eagle_event first;
    uint64_t oldest, last = eagle_events_last_id();
    int64_t from;
    char detail[128], tenant[EAGLE_NAME_MAX + 1];
    int rc = -1;

    if (get_visible(call, id, EAGLE_ROLE_DEVELOPER, &row, err) < 0 || eagle_api_body(call, &body, err) < 0 ||
        eagle_api_check_keys(body, keys, err) < 0)
        goto out;
    v = json_object_get(body, "from_event_id");
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        eagle_err_invalid(err, "from_event_id",
                          "from_event_id must be a non-negative integer: the events after it are sent again");
        goto out;
    }
    from = json_integer_value(v);
    if ((uint64_t)from > last) {
        eagle_err_invalid(err, "from_event_id", "there is no event %lld yet; the newest is %llu",
                          (long long)from, (unsigned long long)last);
        goto out;
    }
    if (eagle_events_since((uint64_t)from, &first, 1, &oldest) > 0)
        eagle_event_release(&first);
    if (oldest > 0 && (uint64_t)from + 1 < oldest) {
        eagle_err_set(
            err, 409, "conflict", "from_event_id",
            "the events after %lld are no longer kept; the oldest kept is %llu, so from_event_id must be "
            "at least %llu",
            (long long)from, (unsigned long long)oldest, (unsigned long long)oldest - 1);
        goto out;
    }
    snprintf(detail, sizeof(detail), "from_event_id %lld (cursor was %lld)", (long long)from,
             (long long)json_integer_value(json_object_get(row, "cursor")));
    snprintf(tenant, sizeof(tenant), "%s", json_string_value(json_object_get(row, "tenant")));
    json_decref(row);
    row = NULL;
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_subscription_rewind(st, id, from, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), tenant, "subscription.redeliver", id, "ok", detail,
                          call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    eagle_notify_poke();
    if (eagle_store_subscription_get(st, id, &row, err) < 0)
        goto out;
    call->out = sub_out(row, 0);
    rc = 0;
out:
    json_decref(body);
    json_decref(row);
    return rc;
}
