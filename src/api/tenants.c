/*
 * tenants.c — /v1/tenants (resource pools: quotas, a node pool, safety
 * exceptions, members with roles), their usage, and /v1/audit.
 *
 * Who may do what: platform admins create, change and delete tenants; members
 * see their tenant (viewer and up); owners manage its members. Another
 * tenant's anything answers 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/tokencache.h"
#include "engine/engine.h"
#include "model/spec.h"
#include "model/tenant.h"
#include "store/store.h"

#define POOL_MAX 63

static json_t *tenant_out(const json_t *row)
{
    const char *name = json_string_value(json_object_get(row, "name"));
    json_t *quotas = json_loads(json_string_value(json_object_get(row, "quotas")), 0, NULL);
    json_t *allow = json_loads(json_string_value(json_object_get(row, "allow")), 0, NULL);
    struct eagle_quota q;
    struct eagle_allow a;

    eagle_quota_from_json(quotas, &q, NULL);
    eagle_allow_from_json(allow, &a, NULL);
    json_decref(quotas);
    json_decref(allow);
    json_t *o = json_pack("{s:s, s:o, s:O, s:o, s:O}", "name", name, "quotas", eagle_quota_to_json(&q), "pool",
                          json_object_get(row, "pool"), "allow", eagle_allow_to_json(&a), "created_at",
                          json_object_get(row, "created_at"));
    json_object_set_new(o, "network", strcmp(name, "default") == 0 ? json_null() : json_sprintf("eagle-t-%s", name));
    return o;
}

static int valid_pool(const char *s)
{
    size_t n = strlen(s);
    if (n > POOL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
              s[i] == '.'))
            return 0;
    return 1;
}

/* Read quotas/pool/allow from `body` over the current values (each may be NULL). */
static int read_pool_fields(const json_t *body, char **quotas, char **pool, char **allow, struct eagle_err *err)
{
    json_t *v;
    struct eagle_quota q;
    struct eagle_allow a;

    if ((v = json_object_get(body, "quotas"))) {
        if (eagle_quota_from_json(v, &q, err) < 0)
            return -1;
        json_t *j = eagle_quota_to_json(&q);
        free(*quotas);
        *quotas = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
    }
    if ((v = json_object_get(body, "pool"))) {
        if (!json_is_string(v) || !valid_pool(json_string_value(v)))
            return eagle_err_invalid(err, "pool",
                                     "pool must be a node-pool name (letters, digits, '-', '_', '.'; at most %d); "
                                     "nodes join it with the label eagle.pool=<pool>",
                                     POOL_MAX);
        free(*pool);
        *pool = strdup(json_string_value(v));
    }
    if ((v = json_object_get(body, "allow"))) {
        if (eagle_allow_from_json(v, &a, err) < 0)
            return -1;
        json_t *j = eagle_allow_to_json(&a);
        free(*allow);
        *allow = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
    }
    return 0;
}

int api_tenants_list(struct eagle_call *call, struct eagle_err *err)
{
    json_t *rows, *items, *r;
    size_t i;

    if (eagle_store_tenant_list(call->worker->store, eagle_api_is_admin(call) ? NULL : eagle_api_username(call),
                                &rows, err) < 0)
        return -1;
    items = json_array();
    json_array_foreach(rows, i, r) json_array_append_new(items, tenant_out(r));
    json_decref(rows);
    call->out = json_pack("{s:o}", "items", items);
    return 0;
}

int api_tenants_get(struct eagle_call *call, struct eagle_err *err)
{
    json_t *row;
    char what[96];

    snprintf(what, sizeof(what), "tenant '%s'", call->params[0]);
    if (eagle_store_tenant_get(call->worker->store, call->params[0], &row, err) < 0 ||
        (json_decref(row), eagle_api_require(call, call->params[0], EAGLE_ROLE_VIEWER, what, err) < 0))
        return -1;
    if (eagle_store_tenant_get(call->worker->store, call->params[0], &row, err) < 0)
        return -1;
    call->out = tenant_out(row);
    json_decref(row);
    return 0;
}

/* POST /v1/tenants {"name", "quotas", "pool", "allow", "owner": "alice"} (admin) */
int api_tenants_create(struct eagle_call *call, struct eagle_err *err)
{
    static const char *const keys[] = {"name", "quotas", "pool", "allow", "owner", NULL};
    struct eagle_store *st = call->worker->store;
    json_t *body = NULL, *row = NULL, *user = NULL;
    char *quotas = strdup("{}"), *pool = strdup(""), *allow = strdup("{}");
    const char *name, *owner;
    int rc = -1;

    if (eagle_api_require_admin(call, err) < 0 || eagle_api_body(call, &body, err) < 0 ||
        eagle_api_check_keys(body, keys, err) < 0)
        goto out;
    name = json_string_value(json_object_get(body, "name"));
    if (!name || !eagle_name_valid(name)) {
        eagle_err_invalid(err, "name", "name must be lowercase letters, digits and '-' (at most %d)", EAGLE_NAME_MAX);
        goto out;
    }
    if (read_pool_fields(body, &quotas, &pool, &allow, err) < 0)
        goto out;
    owner = json_string_value(json_object_get(body, "owner"));
    if (json_object_get(body, "owner") && (!owner || eagle_store_user_get(st, owner, &user, err) < 0)) {
        eagle_err_invalid(err, "owner", "owner must name an existing user");
        goto out;
    }
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_tenant_create(st, name, quotas, pool, allow, err) < 0 ||
        (owner && eagle_store_member_set(st, name, owner, "owner", err) < 0) ||
        eagle_store_audit(st, eagle_api_username(call), name, "tenant.create", name, "ok", quotas, call->source, err) <
            0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    if (owner)
        eagle_tokencache_drop_user(owner);
    if (eagle_store_tenant_get(st, name, &row, err) < 0)
        goto out;
    call->status = 201;
    call->out = tenant_out(row);
    rc = 0;
out:
    json_decref(body);
    json_decref(row);
    json_decref(user);
    free(quotas);
    free(pool);
    free(allow);
    return rc;
}

/* PUT /v1/tenants/{t} {"quotas", "pool", "allow"}: the fields given replace the current ones (admin). */
int api_tenants_update(struct eagle_call *call, struct eagle_err *err)
{
    static const char *const keys[] = {"name", "quotas", "pool", "allow", NULL};
    struct eagle_store *st = call->worker->store;
    const char *name = call->params[0];
    json_t *body = NULL, *row = NULL, *n;
    char *quotas = NULL, *pool = NULL, *allow = NULL;
    int rc = -1;

    if (eagle_api_require_admin(call, err) < 0 || eagle_api_body(call, &body, err) < 0 ||
        eagle_api_check_keys(body, keys, err) < 0)
        goto out;
    if ((n = json_object_get(body, "name")) && (!json_is_string(n) || strcmp(json_string_value(n), name))) {
        eagle_err_invalid(err, "name", "a tenant cannot be renamed");
        goto out;
    }
    if (eagle_store_tenant_get(st, name, &row, err) < 0)
        goto out;
    quotas = strdup(json_string_value(json_object_get(row, "quotas")));
    pool = strdup(json_string_value(json_object_get(row, "pool")));
    allow = strdup(json_string_value(json_object_get(row, "allow")));
    json_decref(row);
    row = NULL;
    if (read_pool_fields(body, &quotas, &pool, &allow, err) < 0)
        goto out;
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_tenant_update(st, name, quotas, pool, allow, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), name, "tenant.update", name, "ok", quotas, call->source, err) <
            0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    if (eagle_store_tenant_get(st, name, &row, err) < 0)
        goto out;
    call->out = tenant_out(row);
    rc = 0;
out:
    json_decref(body);
    json_decref(row);
    free(quotas);
    free(pool);
    free(allow);
    return rc;
}

int api_tenants_delete(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    const char *name = call->params[0];

    if (eagle_api_require_admin(call, err) < 0)
        return -1;
    if (strcmp(name, "default") == 0)
        return eagle_err_conflict(err, "the default tenant cannot be deleted");
    if (eagle_store_begin(st, err) < 0)
        return -1;
    if (eagle_store_tenant_delete(st, name, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), name, "tenant.delete", name, "ok", "", call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        return -1;
    }
    eagle_tokencache_clear(); /* its former members' cached tenant lists name it */
    call->status = 204;
    return 0;
}

/* How many nodes of `cluster` are in `pool` ("" = all), for global services; 1 when unknown. */
static int64_t pool_nodes(struct eagle_call *call, const char *cluster, const char *pool)
{
    json_t *row = NULL, *nodes = NULL, *n;
    struct eagle_err e;
    struct eagle_engine *eng;
    int64_t count = 0;
    size_t i;

    if (eagle_store_cluster_get(call->worker->store, cluster, &row, &e) < 0)
        return 1;
    eng = eagle_worker_engine(call->worker, row, &e);
    json_decref(row);
    if (!eng || eagle_engine_nodes(eng, &nodes, &e) < 0)
        return 1;
    json_array_foreach(nodes, i, n)
    {
        const char *p = json_string_value(
            json_object_get(json_object_get(json_object_get(n, "Spec"), "Labels"), "eagle.pool"));
        if (!*pool || (p && strcmp(p, pool) == 0))
            count++;
    }
    json_decref(nodes);
    return count > 0 ? count : 1;
}

int eagle_api_tenant_usage(struct eagle_call *call, const char *tenant, const char *exclude,
                           struct eagle_usage *usage, struct eagle_err *err)
{
    json_t *rows, *row, *seen = json_object(), *t = NULL;
    size_t i;

    memset(usage, 0, sizeof(*usage));
    if (eagle_store_tenant_get(call->worker->store, tenant, &t, err) < 0 ||
        eagle_store_service_list(call->worker->store, NULL, tenant, &rows, err) < 0) {
        json_decref(t);
        json_decref(seen);
        return -1;
    }
    const char *pool = json_string_value(json_object_get(t, "pool"));
    json_array_foreach(rows, i, row)
    {
        struct eagle_spec s;
        struct eagle_err e;
        if (exclude && strcmp(json_string_value(json_object_get(row, "name")), exclude) == 0)
            continue;
        json_t *j = json_loads(json_string_value(json_object_get(row, "spec")), 0, NULL);
        if (j && eagle_spec_from_json(j, &s, &e) == 0) {
            eagle_usage_add(usage, &s, s.global ? pool_nodes(call, s.cluster, pool) : 0, seen);
            eagle_spec_release(&s);
        }
        json_decref(j);
    }
    json_decref(rows);
    json_decref(seen);
    json_decref(t);
    return 0;
}

int eagle_api_tenant_check(struct eagle_call *call, const char *tenant, const struct eagle_spec *spec,
                           const char *exclude, struct eagle_err *err)
{
    json_t *t = NULL, *quotas, *allow;
    struct eagle_quota q;
    struct eagle_allow a;
    struct eagle_usage others, wanted = {0};
    int rc = -1;

    if (eagle_store_tenant_get(call->worker->store, tenant, &t, err) < 0)
        return -1;
    quotas = json_loads(json_string_value(json_object_get(t, "quotas")), 0, NULL);
    allow = json_loads(json_string_value(json_object_get(t, "allow")), 0, NULL);
    eagle_quota_from_json(quotas, &q, NULL);
    eagle_allow_from_json(allow, &a, NULL);
    json_decref(quotas);
    json_decref(allow);
    if (!eagle_api_is_admin(call) && eagle_spec_check_safety(spec, &a, err) < 0)
        goto out;
    if (eagle_api_tenant_usage(call, tenant, exclude, &others, err) < 0)
        goto out;
    json_t *seen = json_object();
    json_t *rows = NULL, *row;
    size_t i;
    /* volumes the others already use are not new */
    if (eagle_store_service_list(call->worker->store, NULL, tenant, &rows, err) == 0) {
        json_array_foreach(rows, i, row)
        {
            struct eagle_spec s;
            struct eagle_err e;
            if (exclude && strcmp(json_string_value(json_object_get(row, "name")), exclude) == 0)
                continue;
            json_t *j = json_loads(json_string_value(json_object_get(row, "spec")), 0, NULL);
            if (j && eagle_spec_from_json(j, &s, &e) == 0) {
                for (size_t m = 0; m < s.n_mounts; m++)
                    if (strcmp(s.mounts[m].type, "volume") == 0 && s.mounts[m].source)
                        json_object_set_new(seen, s.mounts[m].source, json_true());
                eagle_spec_release(&s);
            }
            json_decref(j);
        }
        json_decref(rows);
    }
    eagle_usage_add(&wanted, spec,
                    spec->global ? pool_nodes(call, spec->cluster, json_string_value(json_object_get(t, "pool"))) : 0,
                    seen);
    json_decref(seen);
    rc = eagle_quota_check(tenant, &q, &others, &wanted, err);
out:
    json_decref(t);
    return rc;
}

int api_tenants_usage(struct eagle_call *call, struct eagle_err *err)
{
    const char *name = call->params[0];
    struct eagle_usage u;
    struct eagle_quota q;
    json_t *t, *quotas;
    char what[96];

    snprintf(what, sizeof(what), "tenant '%s'", name);
    if (eagle_store_tenant_get(call->worker->store, name, &t, err) < 0)
        return -1;
    if (eagle_api_require(call, name, EAGLE_ROLE_VIEWER, what, err) < 0 ||
        eagle_api_tenant_usage(call, name, NULL, &u, err) < 0) {
        json_decref(t);
        return -1;
    }
    quotas = json_loads(json_string_value(json_object_get(t, "quotas")), 0, NULL);
    eagle_quota_from_json(quotas, &q, NULL);
    json_decref(quotas);
    json_decref(t);
    call->out = json_pack("{s:s, s:o, s:o}", "tenant", name, "quotas", eagle_quota_to_json(&q), "usage",
                          eagle_usage_to_json(&u));
    return 0;
}

int api_members_list(struct eagle_call *call, struct eagle_err *err)
{
    json_t *rows, *t;
    char what[96];

    snprintf(what, sizeof(what), "tenant '%s'", call->params[0]);
    if (eagle_store_tenant_get(call->worker->store, call->params[0], &t, err) < 0)
        return -1;
    json_decref(t);
    if (eagle_api_require(call, call->params[0], EAGLE_ROLE_VIEWER, what, err) < 0 ||
        eagle_store_member_list(call->worker->store, call->params[0], &rows, err) < 0)
        return -1;
    call->out = json_pack("{s:o}", "items", rows);
    return 0;
}

/* PUT /v1/tenants/{t}/members/{user} {"role": "viewer"|"developer"|"owner"} (owner or admin) */
int api_members_set(struct eagle_call *call, struct eagle_err *err)
{
    static const char *const keys[] = {"role", NULL};
    struct eagle_store *st = call->worker->store;
    const char *tenant = call->params[0], *user = call->params[1], *role;
    json_t *body = NULL, *t = NULL, *u = NULL;
    char what[96];
    int rc = -1;

    snprintf(what, sizeof(what), "tenant '%s'", tenant);
    if (eagle_store_tenant_get(st, tenant, &t, err) < 0 ||
        eagle_api_require(call, tenant, EAGLE_ROLE_OWNER, what, err) < 0 || eagle_api_body(call, &body, err) < 0 ||
        eagle_api_check_keys(body, keys, err) < 0)
        goto out;
    role = json_string_value(json_object_get(body, "role"));
    if (eagle_role_parse(role) < 0) {
        eagle_err_invalid(err, "role", "role must be \"viewer\", \"developer\" or \"owner\"");
        goto out;
    }
    if (eagle_store_user_get(st, user, &u, err) < 0) {
        if (err->status == 404)
            eagle_err_notfound(err, "user '%s' not found", user);
        goto out;
    }
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_member_set(st, tenant, user, role, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), tenant, "member.set", user, "ok", role, call->source, err) <
            0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    eagle_tokencache_drop_user(user);
    call->out = json_pack("{s:s, s:s, s:s}", "tenant", tenant, "username", user, "role", role);
    rc = 0;
out:
    json_decref(body);
    json_decref(t);
    json_decref(u);
    return rc;
}

int api_members_delete(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    const char *tenant = call->params[0], *user = call->params[1];
    json_t *t;
    char what[96];

    snprintf(what, sizeof(what), "tenant '%s'", tenant);
    if (eagle_store_tenant_get(st, tenant, &t, err) < 0)
        return -1;
    json_decref(t);
    if (eagle_api_require(call, tenant, EAGLE_ROLE_OWNER, what, err) < 0 || eagle_store_begin(st, err) < 0)
        return -1;
    if (eagle_store_member_remove(st, tenant, user, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), tenant, "member.remove", user, "ok", "", call->source, err) <
            0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        return -1;
    }
    eagle_tokencache_drop_user(user);
    call->status = 204;
    return 0;
}

/* GET /v1/audit?tenant=&user=&target=&since=&until=&limit= : admins see all;
 * an owner sees their tenant's (tenant= is then required). */
int api_audit_list(struct eagle_call *call, struct eagle_err *err)
{
    char tenant[96], user[96], target[256], since[64], until[64], limit_s[16];
    const char *t = eagle_api_query(call, "tenant", tenant, sizeof(tenant));
    const char *u = eagle_api_query(call, "user", user, sizeof(user));
    const char *g = eagle_api_query(call, "target", target, sizeof(target));
    const char *s = eagle_api_query(call, "since", since, sizeof(since));
    const char *un = eagle_api_query(call, "until", until, sizeof(until));
    const char *l = eagle_api_query(call, "limit", limit_s, sizeof(limit_s));
    int64_t limit = 100;
    json_t *rows;

    if (l) {
        char *end;
        limit = strtoll(l, &end, 10);
        if (*end || limit < 1 || limit > 10000)
            return eagle_err_invalid(err, "limit", "limit must be an integer from 1 to 10000");
    }
    if (!eagle_api_is_admin(call)) {
        char what[128];
        if (!t)
            return eagle_err_set(err, 403, "forbidden", "tenant",
                                 "only a platform admin may read the whole audit log; add ?tenant=<yours>");
        snprintf(what, sizeof(what), "tenant '%s'", t);
        if (eagle_api_require(call, t, EAGLE_ROLE_OWNER, what, err) < 0)
            return -1;
    }
    if (eagle_store_audit_query(call->worker->store, t, u, g, s, un, limit, &rows, err) < 0)
        return -1;
    call->out = json_pack("{s:o}", "items", rows);
    return 0;
}
