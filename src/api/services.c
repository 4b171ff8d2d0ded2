/*
 * services.c — /v1/services: create, read, update, delete, scale, rollback,
 * revisions and tasks.
 *
 * Every change follows one path: validate (model/spec), claim the service (one
 * change at a time), record the new desired revision with an audit row in one
 * transaction, apply it to the engine (controllers/reconcile), and undo the
 * record if the engine refuses, so a failed call leaves nothing behind. A crash
 * between recording and applying is healed by the reconciler, which adopts the
 * engine service by its eagle.service label instead of creating a second one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "catalog/catalog.h"
#include "controllers/reconcile.h"
#include "core/claims.h"
#include "core/util.h"
#include "daemon.h"
#include "engine/engine.h"
#include "model/spec.h"
#include "store/releases.h"
#include "store/store.h"

static int get_visible(struct eagle_call *call, const char *name, enum eagle_role need, json_t **row,
                       struct eagle_err *err);

static json_t *parse_spec_text(const json_t *row)
{
    json_t *spec = json_loads(json_string_value(json_object_get(row, "spec")), 0, NULL);
    return spec ? spec : json_null();
}

/* `running` < 0: unknown (engine unreachable). */
static json_t *service_out(const json_t *row, int64_t running)
{
    json_t *spec = parse_spec_text(row), *replicas;
    int global = json_is_string(json_object_get(spec, "mode")) &&
                 strcmp(json_string_value(json_object_get(spec, "mode")), "global") == 0;

    replicas = json_object();
    json_object_set_new(replicas, "desired",
                        global ? json_null()
                               : json_integer(json_integer_value(json_object_get(spec, "replicas"))));
    json_object_set_new(replicas, "running", running >= 0 ? json_integer(running) : json_null());
    return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:O, s:O, s:O}", "name",
                     json_object_get(row, "name"), "tenant", json_object_get(row, "tenant"), "cluster",
                     json_object_get(row, "cluster"), "revision", json_object_get(row, "revision"), "status",
                     json_object_get(row, "status"), "status_message", json_object_get(row, "status_message"),
                     "engine_id", json_object_get(row, "engine_id"), "spec", spec, "replicas", replicas,
                     "created_at", json_object_get(row, "created_at"), "updated_at",
                     json_object_get(row, "updated_at"), "created_by", json_object_get(row, "created_by"));
}

static json_t *revision_out(const json_t *row)
{
    return json_pack("{s:O, s:O, s:O, s:o, s:O, s:O}", "service", json_object_get(row, "service"), "revision",
                     json_object_get(row, "revision"), "reason", json_object_get(row, "reason"), "spec",
                     parse_spec_text(row), "created_at", json_object_get(row, "created_at"), "created_by",
                     json_object_get(row, "created_by"));
}

/* Count running tasks per engine service id in `tasks` into an object {id: n}. */
static json_t *running_by_service(const json_t *tasks)
{
    json_t *counts = json_object(), *t;
    size_t i;

    json_array_foreach(tasks, i, t)
    {
        const char *sid = json_string_value(json_object_get(t, "ServiceID"));
        const char *state = json_string_value(json_object_get(json_object_get(t, "Status"), "State"));
        const char *desired = json_string_value(json_object_get(t, "DesiredState"));
        if (!sid || !state || strcmp(state, "running") || !desired || strcmp(desired, "running"))
            continue;
        json_object_set_new(counts, sid, json_integer(json_integer_value(json_object_get(counts, sid)) + 1));
    }
    return counts;
}

static int engine_of_cluster(struct eagle_call *call, const char *cluster, struct eagle_engine **eng,
                             struct eagle_err *err)
{
    json_t *row;

    if (eagle_store_cluster_get(call->worker->store, cluster, &row, err) < 0)
        return -1;
    *eng = eagle_worker_engine(call->worker, row, err);
    json_decref(row);
    return *eng ? 0 : -1;
}

/* Running count of one service, or -1 when the engine does not answer. */
static int64_t running_count(struct eagle_call *call, const json_t *row)
{
    struct eagle_engine *eng;
    struct eagle_err err;
    json_t *tasks = NULL, *counts;
    const char *id = json_string_value(json_object_get(row, "engine_id"));
    int64_t n;

    if (!id || engine_of_cluster(call, json_string_value(json_object_get(row, "cluster")), &eng, &err) < 0)
        return id ? -1 : 0;
    if (eagle_engine_tasks(eng, id, &tasks, &err) < 0)
        return err.status == 404 ? 0 : -1;
    counts = running_by_service(tasks);
    n = json_integer_value(json_object_get(counts, id));
    json_decref(counts);
    json_decref(tasks);
    return n;
}

int api_services_list(struct eagle_call *call, struct eagle_err *err)
{
    char cluster[128], tenant[128];
    const char *filter = eagle_api_query(call, "cluster", cluster, sizeof(cluster));
    const char *tfilter = eagle_api_query(call, "tenant", tenant, sizeof(tenant));
    json_t *rows, *items, *row, *per_cluster, *mine = NULL;
    size_t i;

    if (tfilter) {
        char what[160];
        snprintf(what, sizeof(what), "tenant '%s'", tfilter);
        if (eagle_api_require(call, tfilter, EAGLE_ROLE_VIEWER, what, err) < 0)
            return -1;
    } else if (!eagle_api_is_admin(call)) { /* only the caller's tenants */
        json_t *ts, *t;
        if (eagle_store_tenant_list(call->worker->store, eagle_api_username(call), &ts, err) < 0)
            return -1;
        mine = json_object();
        json_array_foreach(ts, i, t)
            json_object_set_new(mine, json_string_value(json_object_get(t, "name")), json_true());
        json_decref(ts);
    }
    if (eagle_store_service_list(call->worker->store, filter, tfilter, &rows, err) < 0) {
        json_decref(mine);
        return -1;
    }
    items = json_array();
    per_cluster = json_object();
    json_array_foreach(rows, i, row)
    {
        if (mine && !json_object_get(mine, json_string_value(json_object_get(row, "tenant"))))
            continue;
        const char *c = json_string_value(json_object_get(row, "cluster"));
        const char *id = json_string_value(json_object_get(row, "engine_id"));
        json_t *counts = json_object_get(per_cluster, c);
        if (!counts) { /* one engine call per cluster, not per service */
            struct eagle_engine *eng;
            struct eagle_err e2;
            json_t *tasks = NULL;
            if (engine_of_cluster(call, c, &eng, &e2) == 0 && eagle_engine_tasks(eng, NULL, &tasks, &e2) == 0)
                counts = running_by_service(tasks);
            else
                counts = json_null();
            json_decref(tasks);
            json_object_set_new(per_cluster, c, counts);
        }
        int64_t running =
            json_is_object(counts) ? (id ? json_integer_value(json_object_get(counts, id)) : 0) : -1;
        json_array_append_new(items, service_out(row, running));
    }
    json_decref(rows);
    json_decref(per_cluster);
    json_decref(mine);
    call->out = json_pack("{s:o}", "items", items);
    return 0;
}

int api_services_get(struct eagle_call *call, struct eagle_err *err)
{
    json_t *row;

    if (get_visible(call, call->params[0], EAGLE_ROLE_VIEWER, &row, err) < 0)
        return -1;
    call->out = service_out(row, running_count(call, row));
    json_decref(row);
    return 0;
}

/* Pick the spec's cluster: the one named, or the only one there is. */
static int resolve_cluster(struct eagle_call *call, struct eagle_spec *spec, struct eagle_err *err)
{
    json_t *rows, *row = NULL;

    if (spec->cluster) {
        if (eagle_store_cluster_get(call->worker->store, spec->cluster, &row, err) < 0)
            return err->status == 404
                       ? eagle_err_invalid(err, "cluster", "no cluster named '%s' (see GET /v1/clusters)",
                                           spec->cluster)
                       : -1;
        json_decref(row);
        return 0;
    }
    if (eagle_store_cluster_list(call->worker->store, &rows, err) < 0)
        return -1;
    size_t n = json_array_size(rows);
    if (n == 1)
        spec->cluster = xstrdup(json_string_value(json_object_get(json_array_get(rows, 0), "name")));
    json_decref(rows);
    if (n == 0)
        return eagle_err_invalid(err, "cluster", "no cluster is registered yet (POST /v1/clusters)");
    if (n > 1)
        return eagle_err_invalid(err, "cluster", "Eagle manages %zu clusters: name one in 'cluster'", n);
    return 0;
}

static char *spec_text(const struct eagle_spec *spec)
{
    json_t *j = eagle_spec_to_json(spec);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
    json_decref(j);
    return s;
}

/* Answer with the service as it now is. */
static int answer_service(struct eagle_call *call, const char *name, int status, struct eagle_err *err)
{
    json_t *row;

    if (eagle_store_service_get(call->worker->store, name, &row, err) < 0)
        return -1;
    call->status = status;
    call->out = service_out(row, running_count(call, row));
    json_decref(row);
    return 0;
}

/* The service row, if the caller has at least `need` in its tenant (else 404/403). */
static int get_visible(struct eagle_call *call, const char *name, enum eagle_role need, json_t **row,
                       struct eagle_err *err)
{
    char what[96];

    if (eagle_store_service_get(call->worker->store, name, row, err) < 0)
        return -1;
    snprintf(what, sizeof(what), "service '%s'", name);
    if (eagle_api_require(call, json_string_value(json_object_get(*row, "tenant")), need, what, err) < 0) {
        json_decref(*row);
        *row = NULL;
        return -1;
    }
    return 0;
}

/* Networks a non-admin may name: their tenant's own (attached anyway) and "host" when allowed
 * (the safety rules check that). */
int eagle_api_check_networks(struct eagle_call *call, const struct eagle_spec *spec, struct eagle_err *err)
{
    char own[96], field[32];

    if (eagle_api_is_admin(call))
        return 0;
    snprintf(own, sizeof(own), "eagle-t-%s", spec->tenant);
    for (size_t i = 0; spec->networks && spec->networks[i]; i++) {
        if (strcmp(spec->networks[i], own) == 0 || strcmp(spec->networks[i], "host") == 0)
            continue;
        snprintf(field, sizeof(field), "networks[%zu]", i);
        return eagle_err_set(err, 403, "forbidden", field,
                             "network '%s' is not tenant '%s''s; its services join '%s' automatically",
                             spec->networks[i], spec->tenant, own);
    }
    return 0;
}

/* Pick the spec's tenant: the one named, else "default" for an admin or the
 * caller's only tenant. The caller must be a developer there. */
static int resolve_tenant(struct eagle_call *call, struct eagle_spec *spec, struct eagle_err *err)
{
    char what[96];

    if (!spec->tenant) {
        if (eagle_api_is_admin(call)) {
            spec->tenant = xstrdup("default");
        } else {
            json_t *rows;
            if (eagle_store_tenant_list(call->worker->store, eagle_api_username(call), &rows, err) < 0)
                return -1;
            size_t n = json_array_size(rows);
            if (n == 1)
                spec->tenant = xstrdup(json_string_value(json_object_get(json_array_get(rows, 0), "name")));
            json_decref(rows);
            if (n != 1)
                return eagle_err_invalid(err, "tenant",
                                         n ? "you belong to several tenants: name one in 'tenant'"
                                           : "you belong to no tenant; ask an admin to add you to one");
        }
    }
    snprintf(what, sizeof(what), "tenant '%s'", spec->tenant);
    if (eagle_api_require(call, spec->tenant, EAGLE_ROLE_DEVELOPER, what, err) < 0)
        return err->status == 404
                   ? eagle_err_set(err, 404, "not_found", "tenant", "tenant '%s' not found", spec->tenant)
                   : -1;
    return eagle_api_check_networks(call, spec, err);
}

/* A release holds its service for its whole run: changes wait for it or abort it. */
static int no_release(struct eagle_store *st, const char *name, struct eagle_err *err)
{
    char *active = NULL;
    if (eagle_store_release_active_for(st, name, &active, err) < 0)
        return -1;
    if (!active)
        return 0;
    eagle_err_conflict(err, "release '%s' of service '%s' is in progress; wait for it or abort it", active,
                       name);
    free(active);
    return -1;
}

/* Claim service `name` for one change. Controllers hold a claim for one
 * engine call at a time; that is waited out (up to CLAIM_WAIT_MS). A release
 * is named at once, before the wait and again once claimed. */
#define CLAIM_WAIT_MS 10000
int eagle_api_service_claim(struct eagle_store *st, const char *name, struct eagle_err *err)
{
    if (no_release(st, name, err) < 0)
        return -1;
    if (!eagle_claim_wait(name, CLAIM_WAIT_MS)) {
        if (no_release(st, name, err) < 0)
            return -1;
        return eagle_err_conflict(err, "another change to service '%s' is in progress; try again", name);
    }
    if (no_release(st, name, err) < 0) {
        eagle_unclaim(name);
        return -1;
    }
    return 0;
}

int api_services_create(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    struct eagle_spec spec = {0};
    json_t *body = NULL, *row = NULL;
    char *text = NULL;
    int rc = -1, claimed = 0;

    if (eagle_api_body(call, &body, err) < 0 || eagle_spec_from_json(body, &spec, err) < 0 ||
        resolve_tenant(call, &spec, err) < 0 || resolve_cluster(call, &spec, err) < 0)
        goto out;
    if (eagle_api_service_claim(st, spec.name, err) < 0)
        goto out;
    claimed = 1;
    text = spec_text(&spec);
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_api_tenant_check(call, spec.tenant, &spec, NULL, err) < 0 ||
        eagle_store_service_create(st, spec.name, spec.tenant, spec.cluster, text, eagle_api_username(call),
                                   err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), spec.tenant, "service.create", spec.name, "accepted",
                          spec.image, call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    eagle_daemon_fault_point("after-record");
    if (eagle_service_apply(call->worker, spec.name, err) < 0) {
        struct eagle_err e2;
        if (eagle_store_begin(st, &e2) == 0) {
            if (eagle_store_service_delete(st, spec.name, &e2) < 0 || eagle_store_commit(st, &e2) < 0)
                eagle_store_rollback(st);
        }
        eagle_err_wrap(err, "create service '%s'", spec.name);
        goto out;
    }
    rc = answer_service(call, spec.name, 201, err);
out:
    if (claimed)
        eagle_unclaim(spec.name);
    eagle_spec_release(&spec);
    json_decref(body);
    json_decref(row);
    free(text);
    return rc;
}

/*
 * Record `spec` as the service's next revision and apply it; on refusal undo
 * the record. `row` is the service as read under the claim.
 */
static int change(struct eagle_call *call, const json_t *row, const struct eagle_spec *spec,
                  const char *reason, const char *action, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    const char *name = json_string_value(json_object_get(row, "name"));
    int64_t revision = json_integer_value(json_object_get(row, "revision"));
    char *text = spec_text(spec);
    json_t *before = parse_spec_text(row), *after = json_loads(text, 0, NULL);
    char *summary = eagle_api_diff_summary(before, after), *detail = xasprintf("%s: %s", reason, summary);
    int rc = -1;

    json_decref(before);
    json_decref(after);
    free(summary);
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_api_tenant_check(call, spec->tenant, spec, name, err) < 0 ||
        eagle_store_service_new_revision(st, name, revision, text, reason, eagle_api_username(call), err) <
            0 ||
        eagle_store_audit(st, eagle_api_username(call), spec->tenant, action, name, "accepted", detail,
                          call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    eagle_daemon_fault_point("after-record");
    if (eagle_service_apply(call->worker, name, err) < 0) {
        struct eagle_err e2;
        if (eagle_store_begin(st, &e2) == 0) {
            if (eagle_store_service_revert(st, name, revision + 1, &e2) < 0 ||
                eagle_store_commit(st, &e2) < 0)
                eagle_store_rollback(st);
        }
        eagle_err_wrap(err, "%s service '%s'", reason, name);
        goto out;
    }
    rc = answer_service(call, name, 200, err);
out:
    free(text);
    free(detail);
    return rc;
}

/* Load the service under its claim, with its current spec parsed. */
static int load(struct eagle_call *call, json_t **row, struct eagle_spec *cur, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    const char *name = call->params[0];
    json_t *specj;

    if (get_visible(call, name, EAGLE_ROLE_DEVELOPER, row, err) < 0)
        return -1;
    json_decref(*row);
    *row = NULL;
    if (eagle_api_service_claim(st, name, err) < 0)
        return -1;
    if (eagle_store_service_get(st, name, row, err) < 0)
        goto fail;
    if (strcmp(json_string_value(json_object_get(*row, "status")), "deleting") == 0) {
        eagle_err_conflict(err, "service '%s' is being deleted", name);
        goto fail;
    }
    specj = parse_spec_text(*row);
    int r = eagle_spec_from_json(specj, cur, err);
    json_decref(specj);
    if (r < 0) {
        eagle_err_internal(err, "the stored spec of service '%s' does not parse", name);
        goto fail;
    }
    return 0;
fail:
    json_decref(*row);
    *row = NULL;
    eagle_unclaim(name);
    return -1;
}

int api_services_update(struct eagle_call *call, struct eagle_err *err)
{
    const char *name = call->params[0];
    struct eagle_spec cur = {0}, spec = {0};
    json_t *body = NULL, *row = NULL, *n;
    int rc = -1;

    if (eagle_api_body(call, &body, err) < 0)
        return -1;
    n = json_object_get(body, "name");
    if (!n)
        json_object_set_new(body, "name", json_string(name));
    else if (!json_is_string(n) || strcmp(json_string_value(n), name) != 0) {
        eagle_err_invalid(err, "name", "the spec's name must be '%s' (renaming is not supported)", name);
        json_decref(body);
        return -1;
    }
    if (eagle_spec_from_json(body, &spec, err) < 0) {
        json_decref(body);
        return -1;
    }
    if (load(call, &row, &cur, err) < 0)
        goto out_unclaimed;
    if (spec.cluster && strcmp(spec.cluster, cur.cluster) != 0) {
        eagle_err_invalid(err, "cluster", "service '%s' runs on cluster '%s'; it cannot move to '%s'", name,
                          cur.cluster, spec.cluster);
        goto out;
    }
    if (!spec.cluster)
        spec.cluster = xstrdup(cur.cluster);
    if (spec.tenant && strcmp(spec.tenant, cur.tenant) != 0) {
        eagle_err_invalid(err, "tenant", "service '%s' belongs to tenant '%s'; it cannot move to '%s'", name,
                          cur.tenant, spec.tenant);
        goto out;
    }
    if (!spec.tenant)
        spec.tenant = xstrdup(cur.tenant);
    if (eagle_api_check_networks(call, &spec, err) < 0)
        goto out;
    rc = change(call, row, &spec, "update", "service.update", err);
out:
    eagle_unclaim(name);
out_unclaimed:
    eagle_spec_release(&cur);
    eagle_spec_release(&spec);
    json_decref(body);
    json_decref(row);
    return rc;
}

int api_services_scale(struct eagle_call *call, struct eagle_err *err)
{
    const char *name = call->params[0], *key;
    struct eagle_spec cur = {0};
    json_t *body = NULL, *row = NULL, *v;
    int rc = -1;

    if (eagle_api_body(call, &body, err) < 0)
        return -1;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "replicas") != 0) {
            eagle_err_invalid(err, key, "unknown field '%s' (scale takes only 'replicas')", key);
            json_decref(body);
            return -1;
        }
    }
    v = json_object_get(body, "replicas");
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000) {
        eagle_err_invalid(err, "replicas", "replicas must be an integer from 0 to 1000");
        json_decref(body);
        return -1;
    }
    if (load(call, &row, &cur, err) < 0) {
        json_decref(body);
        return -1;
    }
    if (cur.global) {
        eagle_err_invalid(err, "replicas",
                          "service '%s' runs in global mode (one task per node); it has no replica "
                          "count to scale",
                          name);
    } else if (cur.replicas == json_integer_value(v) &&
               json_integer_value(json_object_get(row, "applied_revision")) ==
                   json_integer_value(json_object_get(row, "revision"))) {
        rc = answer_service(call, name, 200, err); /* already there: no new revision */
    } else {
        char reason[64];
        snprintf(reason, sizeof(reason), "scale");
        cur.replicas = json_integer_value(v);
        rc = change(call, row, &cur, reason, "service.scale", err);
    }
    eagle_unclaim(name);
    eagle_spec_release(&cur);
    json_decref(body);
    json_decref(row);
    return rc;
}

int api_services_rollback(struct eagle_call *call, struct eagle_err *err)
{
    const char *name = call->params[0], *key;
    struct eagle_spec cur = {0}, target = {0};
    json_t *body = NULL, *row = NULL, *rev = NULL, *v, *specj;
    int64_t to;
    int rc = -1;

    if (call->body_len > 0) {
        if (eagle_api_body(call, &body, err) < 0)
            return -1;
        json_object_foreach(body, key, v)
        {
            if (strcmp(key, "revision") != 0) {
                eagle_err_invalid(err, key, "unknown field '%s' (rollback takes only 'revision')", key);
                json_decref(body);
                return -1;
            }
        }
        v = json_object_get(body, "revision");
        if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
            eagle_err_invalid(err, "revision", "revision must be a positive integer");
            json_decref(body);
            return -1;
        }
    }
    if (load(call, &row, &cur, err) < 0) {
        json_decref(body);
        return -1;
    }
    int64_t current = json_integer_value(json_object_get(row, "revision"));
    v = json_object_get(body, "revision");
    to = v ? json_integer_value(v) : current - 1;
    if (to < 1) {
        eagle_err_conflict(err, "service '%s' has no revision before %lld", name, (long long)current);
        goto out;
    }
    if (to > current) {
        eagle_err_set(err, 404, "not_found", "revision",
                      "service '%s' has no revision %lld (the current is %lld)", name, (long long)to,
                      (long long)current);
        goto out;
    }
    if (to == current) {
        eagle_err_invalid(err, "revision", "revision %lld is the current revision", (long long)to);
        goto out;
    }
    if (eagle_store_revision_get(call->worker->store, name, to, &rev, err) < 0)
        goto out;
    specj = parse_spec_text(rev);
    int r = eagle_spec_from_json(specj, &target, err);
    json_decref(specj);
    if (r < 0) {
        eagle_err_internal(err, "the stored spec of revision %lld does not parse", (long long)to);
        goto out;
    }
    char reason[64];
    snprintf(reason, sizeof(reason), "rollback to %lld", (long long)to);
    rc = change(call, row, &target, reason, "service.rollback", err);
out:
    eagle_unclaim(name);
    eagle_spec_release(&cur);
    eagle_spec_release(&target);
    json_decref(body);
    json_decref(row);
    json_decref(rev);
    return rc;
}

int api_services_delete(struct eagle_call *call, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    const char *name = call->params[0];
    struct eagle_spec cur = {0};
    json_t *row = NULL;
    int rc = -1;

    if (load(call, &row, &cur, err) < 0)
        return -1;
    const char *was = json_string_value(json_object_get(row, "status"));
    char prev[16];
    snprintf(prev, sizeof(prev), "%s", was);
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_store_service_set_status(st, name, "deleting", "", err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), cur.tenant, "service.delete", name, "ok", "",
                          call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    if (eagle_service_remove(call->worker, name, err) < 0) {
        struct eagle_err e2;
        eagle_store_service_set_status(st, name, prev, "", &e2);
        eagle_err_wrap(err, "delete service '%s'", name);
        goto out;
    }
    call->status = 204;
    rc = 0;
out:
    eagle_unclaim(name);
    eagle_spec_release(&cur);
    json_decref(row);
    return rc;
}

int api_services_revisions(struct eagle_call *call, struct eagle_err *err)
{
    json_t *row, *rows, *items, *r;
    size_t i;

    if (get_visible(call, call->params[0], EAGLE_ROLE_VIEWER, &row, err) < 0)
        return -1;
    json_decref(row);
    if (eagle_store_revision_list(call->worker->store, call->params[0], &rows, err) < 0)
        return -1;
    items = json_array();
    json_array_foreach(rows, i, r) json_array_append_new(items, revision_out(r));
    json_decref(rows);
    call->out = json_pack("{s:o}", "items", items);
    return 0;
}

int api_services_revision_get(struct eagle_call *call, struct eagle_err *err)
{
    char *end;
    long long n = strtoll(call->params[1], &end, 10);
    json_t *row;

    if (*end || n < 1)
        return eagle_err_invalid(err, "revision", "revision must be a positive integer, not '%s'",
                                 call->params[1]);
    if (get_visible(call, call->params[0], EAGLE_ROLE_VIEWER, &row, err) < 0)
        return -1;
    json_decref(row);
    if (eagle_store_revision_get(call->worker->store, call->params[0], n, &row, err) < 0)
        return -1;
    call->out = revision_out(row);
    json_decref(row);
    return 0;
}

/* ---- tasks ---- */

static json_t *task_out(const json_t *t, const json_t *nodes)
{
    json_t *status = json_object_get(t, "Status"), *cs = json_object_get(status, "ContainerStatus");
    json_t *cspec = json_object_get(json_object_get(t, "Spec"), "ContainerSpec");
    const char *node_id = json_string_value(json_object_get(t, "NodeID"));
    json_t *node = node_id ? json_object_get(nodes, node_id) : NULL;
    const char *rev = json_string_value(json_object_get(json_object_get(cspec, "Labels"), "eagle.revision"));
    const char *state = json_string_value(json_object_get(status, "State"));
    json_t *addresses = json_array(), *ports = json_array(), *na, *a, *p;
    size_t i, j;

    json_array_foreach(json_object_get(t, "NetworksAttachments"), i, na)
    {
        json_t *net = json_object_get(json_object_get(json_object_get(na, "Network"), "Spec"), "Name");
        json_array_foreach(json_object_get(na, "Addresses"), j, a)
            json_array_append_new(addresses, json_pack("{s:O?, s:O}", "network", net, "address", a));
    }
    json_array_foreach(json_object_get(json_object_get(status, "PortStatus"), "Ports"), i, p)
    {
        json_t *port = json_pack("{s:O?, s:O?, s:O?, s:O?}", "target", json_object_get(p, "TargetPort"),
                                 "published", json_object_get(p, "PublishedPort"), "protocol",
                                 json_object_get(p, "Protocol"), "mode", json_object_get(p, "PublishMode"));
        int dup = 0;
        json_t *q;
        json_array_foreach(ports, j, q) dup |= json_equal(q, port); /* one per address family in Swarm */
        if (dup)
            json_decref(port);
        else
            json_array_append_new(ports, port);
    }
    json_t *err_text = json_object_get(status, "Err");
    char health[16];
    eagle_catalog_get_health(json_string_value(json_object_get(t, "ID")) ?: "", health, sizeof(health));
    json_t *o = json_pack(
        "{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:o, s:O?, s:O?, s:O?, s:O?, s:o, s:o, s:o, s:O?, "
        "s:O?}",
        "id", json_object_get(t, "ID"), "slot", json_object_get(t, "Slot"), "node_id",
        json_object_get(t, "NodeID"), "node", json_object_get(node, "hostname"), "node_addr",
        json_object_get(node, "addr"), "state", json_object_get(status, "State"), "desired_state",
        json_object_get(t, "DesiredState"), "error", err_text ? json_incref(err_text) : json_string(""),
        "message", json_object_get(status, "Message"), "container_id", json_object_get(cs, "ContainerID"),
        "pid", json_object_get(cs, "PID"), "image", json_object_get(cspec, "Image"), "revision",
        rev ? json_integer(atoll(rev)) : json_null(), "addresses", addresses, "ports", ports, "started_at",
        state && strcmp(state, "running") == 0 ? json_object_get(status, "Timestamp") : NULL, "updated_at",
        json_object_get(t, "UpdatedAt"));
    json_object_set_new(o, "health", json_string(health)); /* Eagle's own check, "unknown" without one */
    return o;
}

static int task_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int64_t sx = json_integer_value(json_object_get(x, "slot")),
            sy = json_integer_value(json_object_get(y, "slot"));
    const char *nx = json_string_value(json_object_get(x, "node_id")),
               *ny = json_string_value(json_object_get(y, "node_id"));
    const char *ux = json_string_value(json_object_get(x, "updated_at")),
               *uy = json_string_value(json_object_get(y, "updated_at"));
    if (sx != sy)
        return sx < sy ? -1 : 1;
    if (sx == 0 && nx && ny && strcmp(nx, ny)) /* global services: by node */
        return strcmp(nx, ny);
    return strcmp(uy ? uy : "", ux ? ux : ""); /* newest first */
}

int api_services_tasks(struct eagle_call *call, struct eagle_err *err)
{
    const char *name = call->params[0];
    struct eagle_engine *eng;
    json_t *row = NULL, *existing = NULL, *tasks = NULL, *nodes = NULL, *bynode = NULL, *items, *t, *n;
    json_t **sorted = NULL;
    size_t i, count;
    int rc = -1;

    if (get_visible(call, name, EAGLE_ROLE_VIEWER, &row, err) < 0)
        return -1;
    if (engine_of_cluster(call, json_string_value(json_object_get(row, "cluster")), &eng, err) < 0)
        goto out;
    if (eagle_service_find(eng, json_string_value(json_object_get(row, "engine_id")), name, &existing, err) <
        0)
        goto out;
    items = json_array();
    call->out = json_pack("{s:o}", "items", items);
    if (!existing) { /* not (yet) in the engine: no tasks */
        rc = 0;
        goto out;
    }
    if (eagle_engine_tasks(eng, json_string_value(json_object_get(existing, "ID")), &tasks, err) < 0 ||
        eagle_engine_nodes(eng, &nodes, err) < 0) {
        json_decref(call->out);
        call->out = NULL;
        goto out;
    }
    bynode = json_object();
    json_array_foreach(nodes, i, n)
    {
        const char *id = json_string_value(json_object_get(n, "ID"));
        if (id)
            json_object_set_new(bynode, id,
                                json_pack("{s:O?, s:O?}", "hostname",
                                          json_object_get(json_object_get(n, "Description"), "Hostname"),
                                          "addr", json_object_get(json_object_get(n, "Status"), "Addr")));
    }
    count = json_array_size(tasks);
    sorted = xcalloc(count ? count : 1, sizeof(*sorted));
    json_array_foreach(tasks, i, t) sorted[i] = task_out(t, bynode);
    qsort(sorted, count, sizeof(*sorted), task_cmp);
    for (i = 0; i < count; i++)
        json_array_append_new(items, sorted[i]);
    rc = 0;
out:
    free(sorted);
    json_decref(row);
    json_decref(existing);
    json_decref(tasks);
    json_decref(nodes);
    json_decref(bynode);
    return rc;
}
