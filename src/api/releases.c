/*
 * releases.c — /v1/services/{name}/releases and /v1/releases/{id}: start a
 * rolling or canary release, follow it, promote it, abort it. The deploy
 * controller (controllers/deploy.c) does the work; these handlers validate and
 * record.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/claims.h"
#include "core/util.h"
#include "daemon.h"
#include "model/release.h"
#include "model/spec.h"
#include "store/releases.h"
#include "store/store.h"

static json_t *release_out(const json_t *r)
{
    json_t *plan = json_loads(json_string_value(json_object_get(r, "plan")), 0, NULL);
    json_t *progress = json_loads(json_string_value(json_object_get(r, "progress")), 0, NULL);
    json_t *spec = json_loads(json_string_value(json_object_get(r, "spec")), 0, NULL);
    struct eagle_release_plan p;
    json_t *plan_out = plan && eagle_release_plan_from_json(plan, &p, NULL) == 0
                           ? eagle_release_plan_to_json(&p)
                           : json_null();
    json_decref(plan);
    return json_pack(
        "{s:O, s:O, s:O, s:O, s:O, s:I, s:O, s:I, s:o, s:o, s:O, s:b, s:b, s:o, s:O, s:O, s:O}", "id",
        json_object_get(r, "id"), "service", json_object_get(r, "service"), "tenant",
        json_object_get(r, "tenant"), "strategy", json_object_get(r, "strategy"), "state",
        json_object_get(r, "state"), "step", (json_int_t)json_integer_value(json_object_get(r, "step")) + 1,
        "from_revision", json_object_get(r, "from_revision"), "to_revision",
        (json_int_t)json_integer_value(json_object_get(r, "from_revision")) + 1, "plan", plan_out, "progress",
        progress ? progress : json_object(), "message", json_object_get(r, "message"), "promote_requested",
        (int)json_integer_value(json_object_get(r, "promote_requested")), "abort_requested",
        (int)json_integer_value(json_object_get(r, "abort_requested")), "spec", spec ? spec : json_null(),
        "created_at", json_object_get(r, "created_at"), "updated_at", json_object_get(r, "updated_at"),
        "created_by", json_object_get(r, "created_by"));
}

static int visible_service(struct eagle_call *call, const char *name, enum eagle_role need, json_t **row,
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

static int visible_release(struct eagle_call *call, enum eagle_role need, json_t **row, struct eagle_err *err)
{
    char what[96];
    if (eagle_store_release_get(call->worker->store, call->params[0], row, err) < 0)
        return -1;
    snprintf(what, sizeof(what), "release '%s'", call->params[0]);
    if (eagle_api_require(call, json_string_value(json_object_get(*row, "tenant")), need, what, err) < 0) {
        json_decref(*row);
        *row = NULL;
        return -1;
    }
    return 0;
}

/* The release's target spec from "spec", "revision" or "image" (exactly one). */
static int target_spec(struct eagle_call *call, const json_t *body, const json_t *svc, struct eagle_spec *out,
                       struct eagle_err *err)
{
    const char *name = json_string_value(json_object_get(svc, "name"));
    json_t *spec = json_object_get(body, "spec"), *rev = json_object_get(body, "revision"),
           *image = json_object_get(body, "image"), *base = NULL;
    int given = !!spec + !!rev + !!image, rc;

    if (given != 1)
        return eagle_err_invalid(err, "spec",
                                 "give exactly one of 'spec' (a whole spec), 'revision' (an earlier "
                                 "revision's spec) or 'image' (the current spec with another image)");
    if (spec) {
        if (!json_is_object(spec))
            return eagle_err_invalid(err, "spec", "spec must be an object");
        base = json_deep_copy(spec);
        json_t *n = json_object_get(base, "name");
        if (n && (!json_is_string(n) || strcmp(json_string_value(n), name))) {
            json_decref(base);
            return eagle_err_invalid(err, "spec.name", "the spec's name must be '%s'", name);
        }
    } else if (rev) {
        json_t *row;
        if (!json_is_integer(rev) || json_integer_value(rev) < 1 ||
            json_integer_value(rev) >= json_integer_value(json_object_get(svc, "revision")))
            return eagle_err_invalid(err, "revision", "revision must be an earlier revision of '%s'", name);
        if (eagle_store_revision_get(call->worker->store, name, json_integer_value(rev), &row, err) < 0)
            return -1;
        base = json_loads(json_string_value(json_object_get(row, "spec")), 0, NULL);
        json_decref(row);
    } else {
        if (!json_is_string(image))
            return eagle_err_invalid(err, "image", "image must be a string");
        base = json_loads(json_string_value(json_object_get(svc, "spec")), 0, NULL);
        json_object_set(base, "image", image);
    }
    json_object_set_new(base, "name", json_string(name));
    json_object_set(base, "tenant", json_object_get(svc, "tenant"));
    json_object_set(base, "cluster", json_object_get(svc, "cluster"));
    rc = eagle_spec_from_json(base, out, err);
    json_decref(base);
    if (rc < 0 && spec) { /* field paths are relative to "spec" */
        char f[sizeof(err->field)];
        snprintf(f, sizeof(f), "spec.%.80s", err->field);
        memcpy(err->field, f, sizeof(f));
    }
    return rc;
}

int api_releases_create(struct eagle_call *call, struct eagle_err *err)
{
    static const char *const keys[] = {"strategy", "spec", "revision", "image", "rolling", "canary", NULL};
    struct eagle_store *st = call->worker->store;
    const char *name = call->params[0], *key;
    struct eagle_spec spec = {0};
    struct eagle_release_plan plan;
    json_t *body = NULL, *svc = NULL, *v, *row = NULL, *specj = NULL, *planj = NULL;
    char id[17], *spec_text = NULL, *plan_text = NULL, *active = NULL;
    unsigned char raw[8];
    int rc = -1, claimed = 0;

    if (visible_service(call, name, EAGLE_ROLE_DEVELOPER, &svc, err) < 0)
        return -1;
    if (eagle_api_body(call, &body, err) < 0)
        goto out;
    json_object_foreach(body, key, v)
    {
        int ok = 0;
        for (int i = 0; keys[i] && !ok; i++)
            ok = !strcmp(keys[i], key);
        if (!ok) {
            eagle_err_invalid(err, key, "unknown field '%s'", key);
            goto out;
        }
    }
    if (eagle_release_plan_from_json(body, &plan, err) < 0)
        goto out;
    /* the rest under the service's claim, so no update slips in between
     * reading the service and recording the release made from its revision */
    if (eagle_api_service_claim(st, name, err) < 0)
        goto out;
    claimed = 1;
    json_decref(svc);
    svc = NULL;
    if (eagle_store_service_get(st, name, &svc, err) < 0)
        goto out;
    if (strcmp(json_string_value(json_object_get(svc, "status")), "deleting") == 0) {
        eagle_err_conflict(err, "service '%s' is being deleted", name);
        goto out;
    }
    if (target_spec(call, body, svc, &spec, err) < 0 || eagle_api_check_networks(call, &spec, err) < 0)
        goto out;
    { /* a release replaces tasks: it needs a change to what tasks run */
        /* (a canary runs its own tasks, so a new health_check alone is worth one; Swarm does not
         * replace tasks for it in a rolling update) */
        static const char *outside[] = {
            "replicas", "update_config", "rollback_config", "ports", "labels", "health_check", NULL};
        json_t *now = json_loads(json_string_value(json_object_get(svc, "spec")), 0, NULL);
        json_t *next = eagle_spec_to_json(&spec);
        for (int i = 0; outside[i]; i++) {
            if (plan.canary && !strcmp(outside[i], "health_check"))
                continue;
            json_object_del(now, outside[i]);
            json_object_del(next, outside[i]);
        }
        int same = now && json_equal(now, next);
        json_decref(now);
        json_decref(next);
        if (same) {
            eagle_err_invalid(err, "spec",
                              "nothing to release: the tasks would run what they run now "
                              "(scale or update the service for replicas, ports and labels)");
            goto out;
        }
    }
    if (plan.canary && spec.global) {
        eagle_err_invalid(err, "strategy", "a global service runs one task per node: use a rolling release");
        goto out;
    }
    if (plan.canary && spec.replicas < 1) {
        eagle_err_invalid(err, "strategy", "a canary needs at least one replica");
        goto out;
    }
    if (!plan.canary) { /* Swarm rolls; Eagle gates on health */
        spec.update_config.set = true;
        spec.update_config.parallelism = plan.parallelism;
        spec.update_config.delay_ns = plan.delay_ms * 1000000;
        snprintf(spec.update_config.failure_action, sizeof(spec.update_config.failure_action), "pause");
        spec.update_config.monitor_ns = (plan.min_healthy_ms > 0 ? plan.min_healthy_ms : 1000) * 1000000;
        snprintf(spec.update_config.order, sizeof(spec.update_config.order), "%s", plan.order);
    }
    specj = eagle_spec_to_json(&spec);
    spec_text = json_dumps(specj, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
    planj = json_pack("{s:s, s:O*}", "strategy", plan.canary ? "canary" : "rolling",
                      plan.canary ? "canary" : "rolling",
                      json_object_get(body, plan.canary ? "canary" : "rolling"));
    plan_text = json_dumps(planj, JSON_COMPACT | JSON_SORT_KEYS);
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(id, sizeof(id), raw, sizeof(raw));
    if (eagle_store_begin(st, err) < 0)
        goto out;
    if (eagle_api_tenant_check(call, spec.tenant, &spec, name, err) < 0 ||
        eagle_store_release_create(st, id, name, spec.tenant, plan.canary ? "canary" : "rolling",
                                   json_integer_value(json_object_get(svc, "revision")), spec_text, plan_text,
                                   eagle_api_username(call), err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), spec.tenant, "release.create", name, "accepted", id,
                          call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        goto out;
    }
    if (eagle_store_release_get(st, id, &row, err) < 0)
        goto out;
    call->status = 201;
    call->out = release_out(row);
    rc = 0;
out:
    if (claimed)
        eagle_unclaim(name);
    eagle_spec_release(&spec);
    json_decref(body);
    json_decref(svc);
    json_decref(row);
    json_decref(specj);
    json_decref(planj);
    free(spec_text);
    free(plan_text);
    free(active);
    return rc;
}

int api_releases_list(struct eagle_call *call, struct eagle_err *err)
{
    json_t *svc, *rows, *items, *r;
    size_t i;

    if (visible_service(call, call->params[0], EAGLE_ROLE_VIEWER, &svc, err) < 0)
        return -1;
    json_decref(svc);
    if (eagle_store_release_list(call->worker->store, call->params[0], &rows, err) < 0)
        return -1;
    items = json_array();
    json_array_foreach(rows, i, r) json_array_append_new(items, release_out(r));
    json_decref(rows);
    call->out = json_pack("{s:o}", "items", items);
    return 0;
}

int api_releases_get(struct eagle_call *call, struct eagle_err *err)
{
    json_t *row;
    if (visible_release(call, EAGLE_ROLE_VIEWER, &row, err) < 0)
        return -1;
    call->out = release_out(row);
    json_decref(row);
    return 0;
}

static int request(struct eagle_call *call, const char *what, struct eagle_err *err)
{
    struct eagle_store *st = call->worker->store;
    json_t *row;
    char action[32];

    if (visible_release(call, EAGLE_ROLE_DEVELOPER, &row, err) < 0)
        return -1;
    if (!strcmp(what, "promote") && strcmp(json_string_value(json_object_get(row, "strategy")), "canary")) {
        json_decref(row);
        return eagle_err_conflict(err, "release '%s' is a rolling release: there is nothing to promote",
                                  call->params[0]);
    }
    snprintf(action, sizeof(action), "release.%s", what);
    if (eagle_store_begin(st, err) < 0) {
        json_decref(row);
        return -1;
    }
    if (eagle_store_release_request(st, call->params[0], what, err) < 0 ||
        eagle_store_audit(st, eagle_api_username(call), json_string_value(json_object_get(row, "tenant")),
                          action, json_string_value(json_object_get(row, "service")), "accepted",
                          call->params[0], call->source, err) < 0 ||
        eagle_store_commit(st, err) < 0) {
        eagle_store_rollback(st);
        json_decref(row);
        return -1;
    }
    json_decref(row);
    if (eagle_store_release_get(st, call->params[0], &row, err) < 0)
        return -1;
    call->status = 202;
    call->out = release_out(row);
    json_decref(row);
    return 0;
}

int api_releases_promote(struct eagle_call *call, struct eagle_err *err)
{
    return request(call, "promote", err);
}

int api_releases_abort(struct eagle_call *call, struct eagle_err *err)
{
    return request(call, "abort", err);
}
