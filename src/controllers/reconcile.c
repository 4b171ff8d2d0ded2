/*
 * reconcile.c — see reconcile.h.
 */
#include "controllers/reconcile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controllers/agents.h"
#include "core/claims.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon.h"
#include "engine/engine.h"
#include "model/spec.h"
#include "store/store.h"

#define UPDATE_ATTEMPTS 8 /* retries on "update out of sequence" */

int eagle_service_find(struct eagle_engine *eng, const char *engine_id, const char *name, json_t **out,
                       struct eagle_err *err)
{
    json_t *list = NULL;
    char label[128];

    *out = NULL;
    if (engine_id && *engine_id) {
        if (eagle_engine_service_inspect(eng, engine_id, out, err) == 0) {
            json_t *labels = json_object_get(json_object_get(*out, "Spec"), "Labels");
            const char *owner = json_string_value(json_object_get(labels, "eagle.service"));
            const char *inst = json_string_value(json_object_get(labels, "eagle.instance"));
            if (owner && strcmp(owner, name) == 0 && inst && strcmp(inst, eagle_daemon_instance()) == 0)
                return 0;
            json_decref(*out); /* an id reused by something else: look by label */
            *out = NULL;
        } else if (err->status != 404) {
            return -1;
        }
    }
    snprintf(label, sizeof(label), "eagle.service=%s", name);
    if (eagle_engine_services_by_label(eng, label, &list, err) < 0)
        return -1;
    json_t *s;
    size_t i, found = 0;
    json_array_foreach(list, i, s)
    {
        const char *inst = json_string_value(
            json_object_get(json_object_get(json_object_get(s, "Spec"), "Labels"), "eagle.instance"));
        if (!inst || strcmp(inst, eagle_daemon_instance()) != 0)
            continue; /* another Eagle's */
        if (found++ == 0)
            *out = json_incref(s);
    }
    if (found > 1)
        log_warn("reconcile", "%zu engine services carry label %s; using the first", found, label);
    json_decref(list);
    return 0;
}

static json_t *eagle_labels(const char *name, const char *cluster, int64_t revision)
{
    char rev[32];
    snprintf(rev, sizeof(rev), "%lld", (long long)revision);
    return json_pack("{s:s, s:s, s:s, s:s}", "eagle.service", name, "eagle.cluster", cluster,
                     "eagle.revision", rev, "eagle.instance", eagle_daemon_instance());
}

static int engine_for_service(struct eagle_worker *w, const json_t *svc, struct eagle_engine **eng,
                              struct eagle_err *err)
{
    json_t *cluster;
    const char *cname = json_string_value(json_object_get(svc, "cluster"));

    if (eagle_store_cluster_get(w->store, cname, &cluster, err) < 0)
        return -1;
    *eng = eagle_worker_engine(w, cluster, err);
    json_decref(cluster);
    return *eng ? 0 : -1;
}

/* Append `item` to a NULL-terminated list (which may be NULL). */
static char **list_append(char **list, const char *item)
{
    size_t n = 0;
    while (list && list[n])
        n++;
    list = xrealloc(list, (n + 2) * sizeof(*list));
    list[n] = xstrdup(item);
    list[n + 1] = NULL;
    return list;
}

/* The tenant's own overlay network in this engine, created on first use. */
static int ensure_tenant_network(struct eagle_engine *eng, const char *tenant, const char *network,
                                 struct eagle_err *err)
{
    json_t *out = NULL, *body;
    char path[160];
    int rc;

    snprintf(path, sizeof(path), "/networks/%s", network);
    if (eagle_engine_call(eng, "GET", path, NULL, &out, err) == 0) {
        const char *owner =
            json_string_value(json_object_get(json_object_get(out, "Labels"), "eagle.tenant"));
        rc = owner && strcmp(owner, tenant) == 0
                 ? 0
                 : eagle_err_conflict(err, "network '%s' exists in the engine but is not tenant '%s''s",
                                      network, tenant);
        json_decref(out);
        return rc;
    }
    if (err->status != 404)
        return -1;
    body = json_pack("{s:s, s:s, s:b, s:{s:s}}", "Name", network, "Driver", "overlay", "CheckDuplicate", 1,
                     "Labels", "eagle.tenant", tenant);
    rc = eagle_engine_call(eng, "POST", "/networks/create", body, NULL, err);
    json_decref(body);
    if (rc == 0)
        log_info("reconcile", "created network '%s' for tenant '%s'", network, tenant);
    else if (err->status == 409) /* created meanwhile */
        rc = 0;
    return rc;
}

/* What the tenant imposes on every service of theirs, whatever the spec says:
 * placement on its node pool and membership of its own network. */
static int apply_tenant(struct eagle_worker *w, struct eagle_engine *eng, const char *tenant,
                        struct eagle_spec *spec, struct eagle_err *err)
{
    json_t *t;
    char buf[160];

    if (eagle_store_tenant_get(w->store, tenant, &t, err) < 0)
        return -1;
    const char *pool = json_string_value(json_object_get(t, "pool"));
    if (pool && *pool) {
        snprintf(buf, sizeof(buf), "node.labels.eagle.pool==%s", pool);
        spec->constraints = list_append(spec->constraints, buf);
    }
    json_decref(t);
    if (strcmp(tenant, "default") == 0)
        return 0;
    snprintf(buf, sizeof(buf), "eagle-t-%s", tenant);
    if (ensure_tenant_network(eng, tenant, buf, err) < 0)
        return -1;
    for (size_t i = 0; spec->networks && spec->networks[i]; i++)
        if (strcmp(spec->networks[i], buf) == 0)
            return 0;
    spec->networks = list_append(spec->networks, buf);
    return 0;
}

json_t *eagle_service_engine_spec(struct eagle_worker *w, struct eagle_engine *eng, const char *tenant,
                                  struct eagle_spec *spec, const json_t *labels, struct eagle_err *err)
{
    json_t *l = json_deep_copy(labels);
    json_object_set_new(l, "eagle.tenant", json_string(tenant));
    if (apply_tenant(w, eng, tenant, spec, err) < 0) {
        json_decref(l);
        return NULL;
    }
    json_t *out = eagle_spec_to_engine(spec, l);
    json_decref(l);
    return out;
}

/* The task template without the revision label on containers. */
static json_t *template_of(const json_t *engine_spec)
{
    json_t *t = json_deep_copy(json_object_get(engine_spec, "TaskTemplate"));
    json_object_del(json_object_get(json_object_get(t, "ContainerSpec"), "Labels"), "eagle.revision");
    return t;
}

/*
 * Swarm replaces every task when the task template changes, and the revision
 * label on containers is part of it. So a revision that changes only what is
 * outside the template (replicas, update config, ports) keeps the containers'
 * label of the revision that last changed the template: scaling never restarts
 * tasks, and "tasks of revision N" means tasks that run revision N's template.
 */
static void keep_template_revision(struct eagle_worker *w, struct eagle_engine *eng, const json_t *svc,
                                   const json_t *existing, json_t *engine_spec)
{
    const char *name = json_string_value(json_object_get(svc, "name"));
    const char *tenant = json_string_value(json_object_get(svc, "tenant"));
    int64_t applied = json_integer_value(json_object_get(svc, "applied_revision"));
    json_t *row = NULL, *old = NULL, *old_engine = NULL, *a = NULL, *b = NULL;
    struct eagle_spec prev = {0};
    struct eagle_err err;

    const char *running = json_string_value(json_object_get(
        json_object_get(json_object_get(json_object_get(json_object_get(existing, "Spec"), "TaskTemplate"),
                                        "ContainerSpec"),
                        "Labels"),
        "eagle.revision"));
    if (!running || applied < 1 || eagle_store_revision_get(w->store, name, applied, &row, &err) < 0)
        goto out;
    old = json_loads(json_string_value(json_object_get(row, "spec")), 0, NULL);
    if (!old || eagle_spec_from_json(old, &prev, &err) < 0 || apply_tenant(w, eng, tenant, &prev, &err) < 0)
        goto out;
    old_engine = eagle_spec_to_engine(&prev, NULL);
    a = template_of(old_engine);
    b = template_of(engine_spec);
    json_object_del(json_object_get(a, "ContainerSpec"), "Labels");
    json_object_del(json_object_get(b, "ContainerSpec"), "Labels");
    if (json_equal(a, b)) /* same template: keep the running tasks' revision label */
        json_object_set_new(
            json_object_get(json_object_get(json_object_get(engine_spec, "TaskTemplate"), "ContainerSpec"),
                            "Labels"),
            "eagle.revision", json_string(running));
out:
    eagle_spec_release(&prev);
    json_decref(row);
    json_decref(old);
    json_decref(old_engine);
    json_decref(a);
    json_decref(b);
}

int eagle_service_apply(struct eagle_worker *w, const char *name, struct eagle_err *err)
{
    struct eagle_spec spec = {0};
    struct eagle_engine *eng;
    json_t *svc = NULL, *specj = NULL, *engine_spec = NULL, *labels = NULL, *existing = NULL;
    char *id = NULL;
    int rc = -1;

    if (eagle_store_service_get(w->store, name, &svc, err) < 0)
        return -1;
    if (strcmp(json_string_value(json_object_get(svc, "status")), "deleting") == 0) {
        json_decref(svc);
        return eagle_service_remove(w, name, err);
    }
    int64_t revision = json_integer_value(json_object_get(svc, "revision"));
    const char *cluster = json_string_value(json_object_get(svc, "cluster"));
    if (engine_for_service(w, svc, &eng, err) < 0)
        goto out;
    specj = json_loads(json_string_value(json_object_get(svc, "spec")), 0, NULL);
    if (!specj || eagle_spec_from_json(specj, &spec, err) < 0) {
        eagle_err_internal(err, "the stored spec of revision %lld does not parse", (long long)revision);
        goto out;
    }
    const char *tenant = json_string_value(json_object_get(svc, "tenant"));
    if (apply_tenant(w, eng, tenant, &spec, err) < 0)
        goto out;
    labels = eagle_labels(name, cluster, revision);
    json_object_set_new(labels, "eagle.tenant", json_string(tenant));
    engine_spec = eagle_spec_to_engine(&spec, labels);

    for (int attempt = 0;; attempt++) {
        if (eagle_service_find(eng, json_string_value(json_object_get(svc, "engine_id")), name, &existing,
                               err) < 0)
            goto out;
        if (!existing) {
            if (eagle_engine_service_create(eng, engine_spec, &id, err) < 0)
                goto out;
            break;
        }
        uint64_t version =
            (uint64_t)json_integer_value(json_object_get(json_object_get(existing, "Version"), "Index"));
        const char *eid = json_string_value(json_object_get(existing, "ID"));
        if (attempt == 0)
            keep_template_revision(w, eng, svc, existing, engine_spec);
        if (eagle_engine_service_update(eng, eid, version, engine_spec, err) == 0) {
            id = xstrdup(eid);
            break;
        }
        if (strcmp(err->code, "out_of_sequence") != 0 || attempt + 1 >= UPDATE_ATTEMPTS)
            goto out;
        log_debug("reconcile", "service '%s': update out of sequence, retrying", name);
        json_decref(existing);
        existing = NULL;
    }
    if (eagle_store_service_applied(w->store, name, revision, id, err) < 0)
        goto out;
    log_info("reconcile", "service '%s' revision %lld applied (engine id %.12s)", name, (long long)revision,
             id);
    rc = 0;
out:
    eagle_spec_release(&spec);
    json_decref(svc);
    json_decref(specj);
    json_decref(engine_spec);
    json_decref(labels);
    json_decref(existing);
    free(id);
    return rc;
}

int eagle_service_remove(struct eagle_worker *w, const char *name, struct eagle_err *err)
{
    struct eagle_engine *eng;
    json_t *svc = NULL, *existing = NULL;
    int rc = -1;

    if (eagle_store_service_get(w->store, name, &svc, err) < 0)
        return -1;
    if (engine_for_service(w, svc, &eng, err) < 0)
        goto out;
    /* Remove every engine service carrying the label, not only the recorded id. */
    for (int i = 0; i < 16; i++) {
        if (eagle_service_find(eng, json_string_value(json_object_get(svc, "engine_id")), name, &existing,
                               err) < 0)
            goto out;
        if (!existing)
            break;
        if (eagle_engine_service_delete(eng, json_string_value(json_object_get(existing, "ID")), err) < 0)
            goto out;
        json_decref(existing);
        existing = NULL;
    }
    if (eagle_store_begin(w->store, err) < 0)
        goto out;
    if (eagle_store_service_delete(w->store, name, err) < 0 || eagle_store_commit(w->store, err) < 0) {
        eagle_store_rollback(w->store);
        goto out;
    }
    log_info("reconcile", "service '%s' removed", name);
    rc = 0;
out:
    json_decref(svc);
    json_decref(existing);
    return rc;
}

int eagle_cluster_check(struct eagle_worker *w, const json_t *cluster, struct eagle_err *err)
{
    const char *name = json_string_value(json_object_get(cluster, "name"));
    const char *was = json_string_value(json_object_get(cluster, "status"));
    struct eagle_engine *eng = eagle_worker_engine(w, cluster, err);
    json_t *swarm = NULL, *version = NULL;
    const char *status = "ready";
    char reason[512] = "";
    int rc;

    if (!eng) {
        status = "unreachable";
        snprintf(reason, sizeof(reason), "%s", err->msg);
    } else if (eagle_engine_version(eng, &version, err) < 0 || eagle_engine_swarm(eng, &swarm, err) < 0) {
        status = "unreachable";
        snprintf(reason, sizeof(reason), "%s", err->msg);
    }
    rc = eagle_store_cluster_set_status(w->store, name, status, reason,
                                        json_string_value(json_object_get(swarm, "ID")),
                                        json_string_value(json_object_get(version, "Version")), err);
    if (was && strcmp(was, status) != 0) {
        if (strcmp(status, "ready") == 0)
            log_info("reconcile", "cluster '%s' is ready again", name);
        else
            log_warn("reconcile", "cluster '%s' is unreachable: %s", name, reason);
    }
    json_decref(swarm);
    json_decref(version);
    return rc < 0 ? -1 : strcmp(status, "ready") == 0;
}

/* ---- the controller thread ---- */

static struct {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop, running, interval;
    char *data_dir;
} rc_state = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void pass(struct eagle_worker *w)
{
    struct eagle_err err;
    json_t *clusters = NULL, *services = NULL, *c, *s;
    size_t i;

    if (eagle_store_cluster_list(w->store, &clusters, &err) == 0) {
        json_array_foreach(clusters, i, c)
        {
            int ready = eagle_cluster_check(w, c, &err);
            if (ready < 0)
                log_warn("reconcile", "cluster check: %s", err.msg);
            else if (ready)
                eagle_agent_sweep(w, c);
        }
    }
    if (eagle_store_service_unsettled(w->store, &services, &err) == 0) {
        json_array_foreach(services, i, s)
        {
            const char *name = json_string_value(json_object_get(s, "name"));
            if (!eagle_claim(name))
                continue; /* an API call is working on it */
            if (eagle_service_apply(w, name, &err) < 0 && err.status != 404) {
                log_warn("reconcile", "service '%s': %s", name, err.msg);
                struct eagle_err e2;
                if (strcmp(json_string_value(json_object_get(s, "status")), "deleting") != 0)
                    eagle_store_service_set_status(w->store, name, "failed", err.msg, &e2);
            }
            eagle_unclaim(name);
        }
    }
    json_decref(clusters);
    json_decref(services);
}

static void *reconciler_main(void *arg)
{
    struct eagle_worker w = {.data_dir = rc_state.data_dir};
    struct eagle_err err;

    w.store = eagle_store_open(rc_state.data_dir, 0, &err);
    if (!w.store) {
        log_error("reconcile", "cannot open the store: %s", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&rc_state.lock);
    while (!rc_state.stop) {
        pthread_mutex_unlock(&rc_state.lock);
        pass(&w);
        pthread_mutex_lock(&rc_state.lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += rc_state.interval;
        while (!rc_state.stop && pthread_cond_timedwait(&rc_state.cond, &rc_state.lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&rc_state.lock);
    eagle_worker_release(&w);
    return NULL;
}

int eagle_reconciler_start(const char *data_dir, int interval_s, struct eagle_err *err)
{
    rc_state.stop = 0;
    rc_state.interval = interval_s > 0 ? interval_s : 5;
    rc_state.data_dir = xstrdup(data_dir);
    if (pthread_create(&rc_state.tid, NULL, reconciler_main, NULL) != 0) {
        free(rc_state.data_dir);
        return eagle_err_internal(err, "cannot start the reconciler thread");
    }
    rc_state.running = 1;
    return 0;
}

void eagle_reconciler_stop(void)
{
    if (!rc_state.running)
        return;
    pthread_mutex_lock(&rc_state.lock);
    rc_state.stop = 1;
    pthread_cond_broadcast(&rc_state.cond);
    pthread_mutex_unlock(&rc_state.lock);
    pthread_join(rc_state.tid, NULL);
    rc_state.running = 0;
    free(rc_state.data_dir);
    rc_state.data_dir = NULL;
}
