/*
 * health.c — see health.h.
 *
 * Once a second: read the running tasks of every local cluster (one filtered
 * /tasks call), keep those whose service (or canary group) has a health_check,
 * and hand the checker the whole set (it keeps the state of unchanged targets).
 * The checker's change callback only queues; this thread does the I/O.
 */
#include "controllers/health.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "controllers/context.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/engine.h"
#include "events/events.h"
#include "health/checker.h"
#include "model/spec.h"
#include "store/releases.h"
#include "store/store.h"

#define PASS_MS 1000

static struct {
    pthread_t tid;
    pthread_mutex_t lock; /* guards stop and changes */
    pthread_cond_t cond;
    int stop, running;
    char *data_dir;
    struct eagle_checker *checker;
    json_t *changes; /* queued by the checker thread: [{"task", "health", "reason"}] */
    json_t *tasks;   /* task id → {"service", "tenant", "cluster", "container", "replace"}; this thread only */
} hc = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void on_change(const struct eagle_health_result *r, enum eagle_health_state old, void *ud)
{
    pthread_mutex_lock(&hc.lock);
    json_array_append_new(hc.changes, json_pack("{s:s, s:s, s:s}", "task", r->id, "health",
                                                eagle_health_state_name(r->state), "reason", r->reason));
    pthread_cond_broadcast(&hc.cond);
    pthread_mutex_unlock(&hc.lock);
}

/* The check of a spec, in the checker's terms. */
static void check_of(const struct eagle_spec *s, struct eagle_health_target *t)
{
    const struct eagle_spec_health *h = &s->health_check;
    memset(&t->check, 0, sizeof(t->check));
    t->check.type = strcmp(h->type, "http") == 0 ? EAGLE_CHECK_HTTP : EAGLE_CHECK_TCP;
    t->check.interval_ms = h->interval_ns / 1000000;
    t->check.timeout_ms = h->timeout_ns / 1000000;
    t->check.start_period_ms = h->start_period_ns / 1000000;
    t->check.healthy_threshold = (unsigned)h->healthy_threshold;
    t->check.unhealthy_threshold = (unsigned)h->unhealthy_threshold;
    t->check.method = h->method[0] ? h->method : NULL;
    t->check.path = h->path;
    t->check.host = h->host;
    t->check.status_min = (int)h->status_min;
    t->check.status_max = (int)h->status_max;
    t->check.body_contains = h->body;
    t->address = "127.0.0.1";
    t->port = (uint16_t)h->port;
}

/* name → parsed spec for every service (and canary group) with a health_check. */
static json_t *checked_specs(struct eagle_store *st)
{
    json_t *out = json_object(), *rows = NULL, *r;
    struct eagle_err err;
    size_t i;

    if (eagle_store_service_list(st, NULL, NULL, &rows, &err) == 0) {
        json_array_foreach(rows, i, r)
        {
            const char *spec = json_string_value(json_object_get(r, "spec"));
            if (spec && strstr(spec, "\"health_check\":{"))
                json_object_set_new(out, json_string_value(json_object_get(r, "name")), json_string(spec));
        }
        json_decref(rows);
    }
    if (eagle_store_release_active(st, &rows, &err) == 0) { /* canary groups run the release's spec */
        json_array_foreach(rows, i, r)
        {
            const char *spec = json_string_value(json_object_get(r, "spec"));
            if (spec && strstr(spec, "\"health_check\":{")) {
                char key[128];
                snprintf(key, sizeof(key), "%s/canary", json_string_value(json_object_get(r, "service")));
                json_object_set_new(out, key, json_string(spec));
            }
        }
        json_decref(rows);
    }
    return out;
}

static void pass(struct eagle_worker *w)
{
    struct eagle_err err;
    json_t *clusters = NULL, *c, *specs = checked_specs(w->store), *tasks_seen = json_object();
    struct eagle_health_target *targets = NULL;
    char **netns = NULL;
    size_t i, n = 0, cap = 0;

    if (json_object_size(specs) == 0)
        goto apply;
    if (eagle_store_cluster_list(w->store, &clusters, &err) < 0)
        goto apply;
    json_array_foreach(clusters, i, c)
    {
        const char *endpoint = json_string_value(json_object_get(c, "endpoint"));
        json_t *info = NULL, *tasks = NULL, *t;
        size_t j;
        if (!endpoint || strncmp(endpoint, "unix://", 7) != 0)
            continue; /* only the engine's own node is local */
        struct eagle_engine *eng = eagle_worker_engine(w, c, &err);
        if (!eng || eagle_engine_info(eng, &info, &err) < 0)
            continue;
        const char *node = json_string_value(json_object_get(json_object_get(info, "Swarm"), "NodeID"));
        if (!node || eagle_engine_call(eng, "GET", "/tasks?filters=%7B%22desired-state%22%3A%5B%22running%22%5D%7D",
                                       NULL, &tasks, &err) < 0) {
            json_decref(info);
            continue;
        }
        json_array_foreach(tasks, j, t)
        {
            json_t *status = json_object_get(t, "Status"), *cs = json_object_get(status, "ContainerStatus");
            json_t *labels = json_object_get(json_object_get(json_object_get(t, "Spec"), "ContainerSpec"), "Labels");
            const char *state = json_string_value(json_object_get(status, "State"));
            const char *svc = json_string_value(json_object_get(labels, "eagle.service"));
            const char *canary_of = json_string_value(json_object_get(labels, "eagle.canary-of"));
            const char *tid = json_string_value(json_object_get(t, "ID"));
            int64_t pid = json_integer_value(json_object_get(cs, "PID"));
            char key[128];
            if (!tid || !state || strcmp(state, "running") != 0 || pid <= 0 ||
                strcmp(json_string_value(json_object_get(t, "NodeID")) ?: "", node) != 0)
                continue;
            if (canary_of) /* a canary task runs its release's spec */
                snprintf(key, sizeof(key), "%s/canary", canary_of);
            else if (svc)
                snprintf(key, sizeof(key), "%s", svc);
            else
                continue;
            if (!svc)
                svc = canary_of;
            const char *spec_text = json_string_value(json_object_get(specs, key));
            if (!spec_text)
                continue;
            json_t *specj = json_loads(spec_text, 0, NULL);
            struct eagle_spec spec;
            struct eagle_err e2;
            if (specj && eagle_spec_from_json(specj, &spec, &e2) == 0) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 64;
                    targets = xrealloc(targets, cap * sizeof(*targets));
                    netns = xrealloc(netns, cap * sizeof(*netns));
                }
                memset(&targets[n], 0, sizeof(targets[n]));
                check_of(&spec, &targets[n]);
                /* the strings must outlive set_targets: copy what points into `spec` */
                targets[n].check.path = xstrdup(targets[n].check.path);
                targets[n].check.host = xstrdup(targets[n].check.host);
                targets[n].check.body_contains = xstrdup(targets[n].check.body_contains);
                targets[n].check.method = xstrdup(targets[n].check.method);
                targets[n].id = xstrdup(tid);
                netns[n] = xasprintf("/proc/%lld/ns/net", (long long)pid);
                targets[n].netns_path = netns[n];
                n++;
                json_object_set_new(tasks_seen, tid,
                                    json_pack("{s:s, s:O?, s:O, s:s?}", "service", svc, "tenant",
                                              json_object_get(labels, "eagle.tenant"), "cluster",
                                              json_object_get(c, "name"), "container",
                                              json_string_value(json_object_get(cs, "ContainerID"))));
                eagle_spec_release(&spec);
            }
            json_decref(specj);
        }
        json_decref(tasks);
        json_decref(info);
    }
apply:
    if (eagle_checker_set_targets(hc.checker, targets, n, &err) < 0)
        log_warn("health", "cannot set %zu targets: %s", n, err.msg);
    for (i = 0; i < n; i++) {
        free((char *)targets[i].id);
        free((char *)targets[i].check.path);
        free((char *)targets[i].check.host);
        free((char *)targets[i].check.body_contains);
        free((char *)targets[i].check.method);
        free(netns[i]);
    }
    free(targets);
    free(netns);
    json_decref(hc.tasks);
    hc.tasks = tasks_seen;
    json_decref(specs);
    json_decref(clusters);
}

/* Apply queued state changes: catalog, events, and replace the unhealthy. */
static void drain(struct eagle_worker *w)
{
    json_t *changes, *ch, *events = json_array();
    struct eagle_err err;
    size_t i;

    pthread_mutex_lock(&hc.lock);
    changes = hc.changes;
    hc.changes = json_array();
    pthread_mutex_unlock(&hc.lock);
    json_array_foreach(changes, i, ch)
    {
        const char *task = json_string_value(json_object_get(ch, "task"));
        const char *health = json_string_value(json_object_get(ch, "health"));
        const char *reason = json_string_value(json_object_get(ch, "reason"));
        json_t *info = json_object_get(hc.tasks, task);
        eagle_catalog_set_health(task, health, reason);
        json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:O?, s:s}", "type", "health", "action",
                                                health, "task", task, "service", json_object_get(info, "service"),
                                                "tenant", json_object_get(info, "tenant"), "cluster",
                                                json_object_get(info, "cluster"), "reason", reason));
        if (strcmp(health, "unhealthy") == 0 && info) {
            /* replace it: Swarm starts another task when the container dies */
            json_t *cluster = NULL;
            const char *container = json_string_value(json_object_get(info, "container"));
            if (container && eagle_store_cluster_get(w->store, json_string_value(json_object_get(info, "cluster")),
                                                     &cluster, &err) == 0) {
                struct eagle_engine *eng = eagle_worker_engine(w, cluster, &err);
                char path[128];
                snprintf(path, sizeof(path), "/containers/%.64s/kill", container);
                if (eng && eagle_engine_call(eng, "POST", path, NULL, NULL, &err) == 0)
                    log_info("health", "task %.12s of '%s' is unhealthy (%s): replacing it", task,
                             json_string_value(json_object_get(info, "service")), reason);
                else
                    log_warn("health", "cannot replace task %.12s: %s", task, err.msg);
                json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:s}", "type", "health",
                                                        "action", "replaced", "task", task, "service",
                                                        json_object_get(info, "service"), "tenant",
                                                        json_object_get(info, "tenant"), "reason", reason));
            }
            json_decref(cluster);
        }
    }
    if (json_array_size(events) && eagle_events_append(w->store, events, &err) < 0)
        log_warn("health", "cannot record health events: %s", err.msg);
    json_decref(events);
    json_decref(changes);
}

static void *health_main(void *arg)
{
    struct eagle_worker w = {.data_dir = hc.data_dir};
    struct eagle_err err;
    int64_t next_pass = 0;

    w.store = eagle_store_open(hc.data_dir, 0, &err);
    if (!w.store) {
        log_error("health", "cannot open the store: %s", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&hc.lock);
    while (!hc.stop) {
        pthread_mutex_unlock(&hc.lock);
        if (eagle_now_ms() >= next_pass) {
            pass(&w);
            next_pass = eagle_now_ms() + PASS_MS;
        }
        drain(&w);
        pthread_mutex_lock(&hc.lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (!hc.stop && json_array_size(hc.changes) == 0)
            pthread_cond_timedwait(&hc.cond, &hc.lock, &until);
    }
    pthread_mutex_unlock(&hc.lock);
    eagle_worker_release(&w);
    return NULL;
}

int eagle_health_start(const char *data_dir, struct eagle_err *err)
{
    hc.stop = 0;
    hc.data_dir = xstrdup(data_dir);
    hc.changes = json_array();
    hc.tasks = json_object();
    hc.checker = eagle_checker_new();
    eagle_checker_on_change(hc.checker, on_change, NULL);
    if (eagle_checker_start(hc.checker, err) < 0 || pthread_create(&hc.tid, NULL, health_main, NULL) != 0) {
        eagle_checker_free(hc.checker);
        hc.checker = NULL;
        return eagle_err_internal(err, "cannot start the health controller");
    }
    hc.running = 1;
    return 0;
}

void eagle_health_stop(void)
{
    if (!hc.running)
        return;
    pthread_mutex_lock(&hc.lock);
    hc.stop = 1;
    pthread_cond_broadcast(&hc.cond);
    pthread_mutex_unlock(&hc.lock);
    pthread_join(hc.tid, NULL);
    eagle_checker_free(hc.checker);
    hc.checker = NULL;
    hc.running = 0;
    free(hc.data_dir);
    hc.data_dir = NULL;
    json_decref(hc.changes);
    json_decref(hc.tasks);
    hc.changes = hc.tasks = NULL;
}
