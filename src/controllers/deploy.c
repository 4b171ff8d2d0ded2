/*
 * deploy.c — see deploy.h.
 */
#include "controllers/deploy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "controllers/context.h"
#include "controllers/health.h"
#include "controllers/reconcile.h"
#include "core/claims.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon.h"
#include "engine/engine.h"
#include "events/events.h"
#include "model/release.h"
#include "model/spec.h"
#include "store/releases.h"
#include "store/store.h"

#define TICK_MS 500
#define UPDATE_ATTEMPTS 8

static struct {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop, running;
    char *data_dir;
} dp = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static int engine_of(struct eagle_worker *w, const char *cluster, struct eagle_engine **eng,
                     struct eagle_err *err)
{
    json_t *row;
    if (eagle_store_cluster_get(w->store, cluster, &row, err) < 0)
        return -1;
    *eng = eagle_worker_engine(w, row, err);
    json_decref(row);
    return *eng ? 0 : -1;
}

/* Set an engine service's replicas, retrying "update out of sequence". */
static int set_replicas(struct eagle_engine *eng, const char *id, int replicas, struct eagle_err *err)
{
    for (int attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
        json_t *svc = NULL;
        if (eagle_engine_service_inspect(eng, id, &svc, err) < 0)
            return -1;
        json_t *spec = json_deep_copy(json_object_get(svc, "Spec"));
        json_t *rep = json_object_get(json_object_get(spec, "Mode"), "Replicated");
        uint64_t version =
            (uint64_t)json_integer_value(json_object_get(json_object_get(svc, "Version"), "Index"));
        int have = (int)json_integer_value(json_object_get(rep, "Replicas"));
        json_decref(svc);
        if (!rep || have == replicas) {
            json_decref(spec);
            return 0;
        }
        json_object_set_new(rep, "Replicas", json_integer(replicas));
        int rc = eagle_engine_service_update(eng, id, version, spec, err);
        json_decref(spec);
        if (rc == 0)
            return 0;
        if (strcmp(err->code, "out_of_sequence") != 0)
            return -1;
    }
    return -1;
}

static int ours(const json_t *s)
{
    const char *inst = json_string_value(
        json_object_get(json_object_get(json_object_get(s, "Spec"), "Labels"), "eagle.instance"));
    return inst && strcmp(inst, eagle_daemon_instance()) == 0;
}

/* The canary groups of `service` that this Eagle made. */
static int canary_find(struct eagle_engine *eng, const char *service, json_t **list, struct eagle_err *err)
{
    char label[128];
    json_t *all = NULL, *s;
    size_t i;

    snprintf(label, sizeof(label), "eagle.canary-of=%s", service);
    if (eagle_engine_services_by_label(eng, label, &all, err) < 0)
        return -1;
    *list = json_array();
    json_array_foreach(all, i, s) if (ours(s)) json_array_append(*list, s);
    json_decref(all);
    return 0;
}

static int canary_delete(struct eagle_engine *eng, const char *service, struct eagle_err *err)
{
    json_t *list = NULL, *s;
    size_t i;
    int rc = 0;

    if (canary_find(eng, service, &list, err) < 0)
        return -1;
    json_array_foreach(list, i, s) if (eagle_engine_service_delete(
                                           eng, json_string_value(json_object_get(s, "ID")), err) < 0) rc =
        -1;
    json_decref(list);
    return rc;
}

/* The canary group: the release's spec as its own engine service "<name>-canary". */
static int canary_scale(struct eagle_worker *w, struct eagle_engine *eng, const json_t *rel, int replicas,
                        struct eagle_err *err)
{
    const char *service = json_string_value(json_object_get(rel, "service"));
    json_t *list = NULL, *specj = NULL, *labels = NULL, *engine_spec = NULL;
    struct eagle_spec spec = {0};
    char *id = NULL, rev[32];
    int rc = -1;

    if (canary_find(eng, service, &list, err) < 0)
        return -1;
    if (json_array_size(list) > 0) {
        rc = set_replicas(eng, json_string_value(json_object_get(json_array_get(list, 0), "ID")), replicas,
                          err);
        json_decref(list);
        return rc;
    }
    specj = json_loads(json_string_value(json_object_get(rel, "spec")), 0, NULL);
    if (!specj || eagle_spec_from_json(specj, &spec, err) < 0)
        goto out;
    free(spec.name);
    spec.name = xasprintf("%.50s-canary", service);
    spec.replicas = replicas;
    snprintf(rev, sizeof(rev), "%lld",
             (long long)json_integer_value(json_object_get(rel, "from_revision")) + 1);
    labels =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "eagle.canary-of", service, "eagle.release",
                  json_string_value(json_object_get(rel, "id")), "eagle.cluster", spec.cluster,
                  "eagle.revision", rev, "eagle.canary", "true", "eagle.instance", eagle_daemon_instance());
    engine_spec = eagle_service_engine_spec(w, eng, json_string_value(json_object_get(rel, "tenant")), &spec,
                                            labels, err);
    if (!engine_spec || eagle_engine_service_create(eng, engine_spec, &id, err) < 0)
        goto out;
    rc = 0;
out:
    eagle_spec_release(&spec);
    json_decref(list);
    json_decref(specj);
    json_decref(labels);
    json_decref(engine_spec);
    free(id);
    return rc;
}

static int is_failed(const char *state)
{
    return state && (!strcmp(state, "failed") || !strcmp(state, "rejected") || !strcmp(state, "orphaned"));
}

/* Count the new revision's tasks (ready, failed) and the others still running.
 * With a health check, a task counts as ready once checked healthy — on
 * eagled's own node, or on a node whose eagle-agent is alive; on a node with
 * no agent a running task counts as ready (nothing can check it there). */
static int observe(struct eagle_engine *eng, const json_t *rel, const json_t *svc, int checked,
                   const char *local_node, struct eagle_release_view *v, struct eagle_err *err)
{
    const char *service = json_string_value(json_object_get(rel, "service"));
    int canary = strcmp(json_string_value(json_object_get(rel, "strategy")), "canary") == 0;
    int64_t to = json_integer_value(json_object_get(rel, "from_revision")) + 1;
    json_t *ids = json_array(), *list = NULL, *t, *tasks = NULL;
    size_t i;
    int rc = -1;

    if (canary) {
        if (canary_find(eng, service, &list, err) < 0)
            goto out;
        json_array_foreach(list, i, t) json_array_append(ids, json_object_get(t, "ID"));
    } else if (json_string_value(json_object_get(svc, "engine_id"))) {
        json_array_append(ids, json_object_get(svc, "engine_id"));
    }
    json_array_foreach(ids, i, t)
    {
        json_t *tk;
        size_t j;
        if (eagle_engine_tasks(eng, json_string_value(t), &tasks, err) < 0) {
            if (err->status == 404)
                continue;
            goto out;
        }
        json_array_foreach(tasks, j, tk)
        {
            json_t *status = json_object_get(tk, "Status");
            const char *state = json_string_value(json_object_get(status, "State"));
            const char *desired = json_string_value(json_object_get(tk, "DesiredState"));
            const char *r = json_string_value(json_object_get(
                json_object_get(json_object_get(json_object_get(tk, "Spec"), "ContainerSpec"), "Labels"),
                "eagle.revision"));
            int is_new = canary || (r && atoll(r) == to);
            char health[16];
            eagle_catalog_get_health(json_string_value(json_object_get(tk, "ID")), health, sizeof(health));
            int running = state && !strcmp(state, "running") && desired && !strcmp(desired, "running");
            const char *node = json_string_value(json_object_get(tk, "NodeID"));
            /* checked here, or by the agent of its node */
            int watched =
                checked && node &&
                ((local_node && !strcmp(local_node, node)) ||
                 eagle_health_node_checked(json_string_value(json_object_get(svc, "cluster")), node));
            if (is_new) {
                if (is_failed(state) || (running && !strcmp(health, "unhealthy")))
                    v->new_failed++;
                else if (running && (watched ? !strcmp(health, "healthy") : 1))
                    v->new_ready++;
            } else if (running) {
                v->old_running++;
            }
        }
        json_decref(tasks);
        tasks = NULL;
    }
    rc = 0;
out:
    json_decref(ids);
    json_decref(list);
    json_decref(tasks);
    return rc;
}

static void release_event(struct eagle_store *st, const json_t *rel, const struct eagle_release_decision *d)
{
    struct eagle_err err;
    json_t *events = json_array();
    json_array_append_new(events,
                          json_pack("{s:s, s:s, s:O, s:O, s:O, s:s, s:i, s:s}", "type", "release", "action",
                                    eagle_release_state_name(d->state), "release", json_object_get(rel, "id"),
                                    "service", json_object_get(rel, "service"), "tenant",
                                    json_object_get(rel, "tenant"), "strategy",
                                    json_string_value(json_object_get(rel, "strategy")), "step", d->step + 1,
                                    "message", d->message));
    if (eagle_events_append(st, events, &err) < 0)
        log_warn("deploy", "cannot record a release event: %s", err.msg);
    json_decref(events);
}

/* Record the release's spec as the service's next revision (once). */
static int record_new(struct eagle_worker *w, const json_t *rel, const json_t *svc, struct eagle_err *err)
{
    int64_t from = json_integer_value(json_object_get(rel, "from_revision"));
    int64_t cur = json_integer_value(json_object_get(svc, "revision"));
    char reason[96];

    if (cur == from + 1)
        return 0; /* already recorded (a crash after it) */
    if (cur != from)
        return eagle_err_conflict(err, "service moved from revision %lld to %lld during the release",
                                  (long long)from, (long long)cur);
    snprintf(reason, sizeof(reason), "release %s", json_string_value(json_object_get(rel, "id")));
    if (eagle_store_begin(w->store, err) < 0)
        return -1;
    if (eagle_store_service_new_revision(w->store, json_string_value(json_object_get(rel, "service")), from,
                                         json_string_value(json_object_get(rel, "spec")), reason,
                                         json_string_value(json_object_get(rel, "created_by")), err) < 0 ||
        eagle_store_commit(w->store, err) < 0) {
        eagle_store_rollback(w->store);
        return -1;
    }
    return 0;
}

/* Rolling back a rolling release: record the previous revision's spec again (once). */
static int record_revert(struct eagle_worker *w, const json_t *rel, const json_t *svc, struct eagle_err *err)
{
    const char *service = json_string_value(json_object_get(rel, "service"));
    int64_t from = json_integer_value(json_object_get(rel, "from_revision"));
    int64_t cur = json_integer_value(json_object_get(svc, "revision"));
    json_t *old = NULL;
    char reason[96];
    int rc = -1;

    if (cur != from + 1)
        return 0; /* nothing recorded by this release, or already reverted */
    if (eagle_store_revision_get(w->store, service, from, &old, err) < 0)
        return -1;
    snprintf(reason, sizeof(reason), "rollback of release %s", json_string_value(json_object_get(rel, "id")));
    if (eagle_store_begin(w->store, err) < 0)
        goto out;
    if (eagle_store_service_new_revision(w->store, service, cur,
                                         json_string_value(json_object_get(old, "spec")), reason, "eagle",
                                         err) < 0 ||
        eagle_store_commit(w->store, err) < 0) {
        eagle_store_rollback(w->store);
        goto out;
    }
    rc = 0;
out:
    json_decref(old);
    return rc;
}

static int act(struct eagle_worker *w, struct eagle_engine *eng, const json_t *rel, const json_t *svc,
               const struct eagle_release_decision *d, struct eagle_err *err)
{
    const char *service = json_string_value(json_object_get(rel, "service"));

    if ((d->actions & REL_ACT_RECORD_NEW) && record_new(w, rel, svc, err) < 0)
        return -1;
    if ((d->actions & REL_ACT_RECORD_REVERT) && record_revert(w, rel, svc, err) < 0)
        return -1;
    if (d->actions & REL_ACT_SCALE) {
        if (canary_scale(w, eng, rel, d->canary_tasks, err) < 0)
            return -1;
        const char *id = json_string_value(json_object_get(svc, "engine_id"));
        if (id && set_replicas(eng, id, d->main_tasks, err) < 0)
            return -1;
    }
    if ((d->actions & REL_ACT_APPLY_MAIN) && eagle_service_apply(w, service, err) < 0)
        return -1;
    if ((d->actions & REL_ACT_DELETE_CANARY) && canary_delete(eng, service, err) < 0)
        return -1;
    return 0;
}

static void fail_release(struct eagle_worker *w, const json_t *rel, const char *why)
{
    struct eagle_release_decision d = {.state = REL_FAILED};
    struct eagle_err err;
    snprintf(d.message, sizeof(d.message), "%s", why);
    if (eagle_store_release_update(w->store, json_string_value(json_object_get(rel, "id")), "failed", 0, 0, 0,
                                   0, "{}", why, &err) == 0)
        release_event(w->store, rel, &d);
}

static void tick_release(struct eagle_worker *w, const json_t *rel)
{
    const char *id = json_string_value(json_object_get(rel, "id"));
    const char *service = json_string_value(json_object_get(rel, "service"));
    struct eagle_release_plan plan;
    struct eagle_release_view v = {0};
    struct eagle_release_decision d;
    struct eagle_spec spec = {0};
    struct eagle_engine *eng;
    struct eagle_err err;
    json_t *svc = NULL, *planj = NULL, *specj = NULL;

    if (eagle_store_service_get(w->store, service, &svc, &err) < 0) {
        if (err.status == 404) /* the service is gone: nothing left to release */
            fail_release(w, rel, "the service was deleted");
        goto out;
    }
    planj = json_loads(json_string_value(json_object_get(rel, "plan")), 0, NULL);
    specj = json_loads(json_string_value(json_object_get(rel, "spec")), 0, NULL);
    if (!planj || eagle_release_plan_from_json(planj, &plan, &err) < 0 || !specj ||
        eagle_spec_from_json(specj, &spec, &err) < 0) {
        fail_release(w, rel, "the stored release does not parse");
        goto out;
    }
    if (engine_of(w, json_string_value(json_object_get(svc, "cluster")), &eng, &err) < 0)
        goto out;
    v.state =
        (enum eagle_release_state)eagle_release_state_parse(json_string_value(json_object_get(rel, "state")));
    v.step = (int)json_integer_value(json_object_get(rel, "step"));
    v.now_ms = eagle_now_ms();
    v.step_started_ms = json_integer_value(json_object_get(rel, "step_started_ms"));
    v.healthy_since_ms = json_integer_value(json_object_get(rel, "healthy_since_ms"));
    v.promote_requested = json_integer_value(json_object_get(rel, "promote_requested")) != 0;
    v.abort_requested = json_integer_value(json_object_get(rel, "abort_requested")) != 0;
    v.total = (int)spec.replicas;
    int64_t to = json_integer_value(json_object_get(rel, "from_revision")) + 1;
    v.applied = json_integer_value(json_object_get(svc, "applied_revision")) >= to;
    if (v.state == REL_RUNNING || v.state == REL_WAITING_PROMOTION) {
        json_t *cluster = NULL, *info = NULL;
        const char *local = NULL;
        if (eagle_store_cluster_get(w->store, json_string_value(json_object_get(svc, "cluster")), &cluster,
                                    &err) == 0 &&
            strncmp(json_string_value(json_object_get(cluster, "endpoint")) ?: "", "unix://", 7) == 0 &&
            eagle_engine_info(eng, &info, &err) == 0)
            local = json_string_value(json_object_get(json_object_get(info, "Swarm"), "NodeID"));
        int rc = observe(eng, rel, svc, spec.health_check.set, local, &v, &err);
        json_decref(cluster);
        json_decref(info);
        if (rc < 0)
            goto out;
    }

    eagle_release_decide(&plan, &v, &d);
    if (d.actions && act(w, eng, rel, svc, &d, &err) < 0) {
        log_warn("deploy", "release '%s' of '%s': %s (retrying)", id, service, err.msg);
        if (err.status == 409 && v.state == REL_PENDING) /* the service moved under us */
            fail_release(w, rel, err.msg);
        goto out;
    }
    int want = plan.canary ? eagle_release_step_tasks(&plan, d.step, v.total) : v.total;
    char progress[160];
    snprintf(progress, sizeof(progress),
             "{\"steps_done\":%d,\"steps_total\":%d,\"tasks_healthy\":%d,\"tasks_total\":%d}",
             d.state == REL_SUCCEEDED ? (plan.canary ? plan.n_steps : 1) : d.step,
             plan.canary ? plan.n_steps : 1, d.state == REL_SUCCEEDED ? v.total : v.new_ready,
             d.state == REL_SUCCEEDED ? v.total : want);
    int changed = d.state != v.state || d.step != v.step;
    int64_t to_rev =
        d.actions & REL_ACT_RECORD_NEW ? to : json_integer_value(json_object_get(rel, "to_revision"));
    if (eagle_store_release_update(w->store, id, eagle_release_state_name(d.state), d.step, d.step_started_ms,
                                   d.healthy_since_ms, to_rev, progress,
                                   changed ? d.message : json_string_value(json_object_get(rel, "message")),
                                   &err) < 0) {
        log_warn("deploy", "release '%s': %s", id, err.msg);
        goto out;
    }
    if (changed) {
        log_info("deploy", "release '%s' of '%s': %s → %s (%s)", id, service,
                 eagle_release_state_name(v.state), eagle_release_state_name(d.state), d.message);
        release_event(w->store, rel, &d);
    }
out:
    eagle_spec_release(&spec);
    json_decref(svc);
    json_decref(planj);
    json_decref(specj);
}

/* Canary groups whose release is over (a crash between acting and recording). */
static void sweep_orphans(struct eagle_worker *w)
{
    struct eagle_err err;
    json_t *clusters = NULL, *c, *list = NULL, *s;
    size_t i, j;

    if (eagle_store_cluster_list(w->store, &clusters, &err) < 0)
        return;
    json_array_foreach(clusters, i, c)
    {
        struct eagle_engine *eng = eagle_worker_engine(w, c, &err);
        if (!eng || strcmp(json_string_value(json_object_get(c, "status")), "ready") != 0 ||
            eagle_engine_services_by_label(eng, "eagle.canary-of", &list, &err) < 0)
            continue;
        json_array_foreach(list, j, s)
        {
            json_t *labels = json_object_get(json_object_get(s, "Spec"), "Labels");
            if (!ours(s))
                continue; /* another Eagle's canary */
            const char *rel = json_string_value(json_object_get(labels, "eagle.release"));
            json_t *row = NULL;
            int active = 0;
            if (rel && eagle_store_release_get(w->store, rel, &row, &err) == 0) {
                int st = eagle_release_state_parse(json_string_value(json_object_get(row, "state")));
                active = st >= 0 && eagle_release_state_active((enum eagle_release_state)st);
                json_decref(row);
            }
            if (!active) {
                log_info("deploy", "removing canary group '%s' (release %s is over)",
                         json_string_value(json_object_get(json_object_get(s, "Spec"), "Name")),
                         rel ? rel : "?");
                eagle_engine_service_delete(eng, json_string_value(json_object_get(s, "ID")), &err);
            }
        }
        json_decref(list);
        list = NULL;
    }
    json_decref(clusters);
}

static void *deploy_main(void *arg)
{
    struct eagle_worker w = {.data_dir = dp.data_dir};
    struct eagle_err err;
    unsigned ticks = 0;

    w.store = eagle_store_open(dp.data_dir, 0, &err);
    if (!w.store) {
        log_error("deploy", "cannot open the store: %s", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&dp.lock);
    while (!dp.stop) {
        pthread_mutex_unlock(&dp.lock);
        json_t *rows = NULL, *r;
        size_t i;
        if (eagle_store_release_active(w.store, &rows, &err) == 0) {
            json_array_foreach(rows, i, r)
            {
                const char *service = json_string_value(json_object_get(r, "service"));
                if (!eagle_claim(service))
                    continue;
                tick_release(&w, r);
                eagle_unclaim(service);
            }
        }
        json_decref(rows);
        if (ticks++ % 10 == 0)
            sweep_orphans(&w);
        pthread_mutex_lock(&dp.lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!dp.stop && pthread_cond_timedwait(&dp.cond, &dp.lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&dp.lock);
    eagle_worker_release(&w);
    return NULL;
}

int eagle_deploy_start(const char *data_dir, struct eagle_err *err)
{
    dp.stop = 0;
    dp.data_dir = xstrdup(data_dir);
    if (pthread_create(&dp.tid, NULL, deploy_main, NULL) != 0) {
        free(dp.data_dir);
        return eagle_err_internal(err, "cannot start the deploy controller");
    }
    dp.running = 1;
    return 0;
}

void eagle_deploy_stop(void)
{
    if (!dp.running)
        return;
    pthread_mutex_lock(&dp.lock);
    dp.stop = 1;
    pthread_cond_broadcast(&dp.cond);
    pthread_mutex_unlock(&dp.lock);
    pthread_join(dp.tid, NULL);
    dp.running = 0;
    free(dp.data_dir);
    dp.data_dir = NULL;
}
